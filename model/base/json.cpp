#include "model/base/json.h"

#include <fmt/format.h>

#include <cmath>

namespace stodepth {

std::string json_string(std::string_view text, ShortEscapes short_escapes) {
  const std::string dumped =
      Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
  // nlohmann writes \b \f \n \r \t short and the other control characters as \u00xx.
  const std::string_view kept = short_escapes == ShortEscapes::kNewlineTab ? "nt" : "nrt";
  std::string out;
  out.reserve(dumped.size());
  for (size_t i = 0; i < dumped.size(); ++i) {
    if (dumped[i] != '\\') {
      out += dumped[i];
      continue;
    }
    const char escape = dumped[++i];  // a backslash always starts a two-character escape
    if (std::string_view("bfr").find(escape) != std::string_view::npos &&
        kept.find(escape) == std::string_view::npos) {
      const char control = escape == 'b' ? '\b' : escape == 'f' ? '\f' : '\r';
      out += fmt::format("\\u{:04x}", int(control));
    } else {
      out += '\\';
      out += escape;
    }
  }
  return out;
}

std::string json_number(double x) {
  if (!std::isfinite(x)) return "null";
  return fmt::format("{}", x == 0 ? 0.0 : x);
}

Json::json_pointer settings_pointer(std::string_view dotted_path) {
  std::string pointer = "/";
  for (const char ch : dotted_path) pointer += ch == '.' ? '/' : ch;
  return Json::json_pointer(pointer);
}

namespace {

template <typename J>
void append_compact(const J& value, std::string& out) {
  if (value.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [key, member] : value.items()) {
      if (!first) out += ',';
      first = false;
      out += json_string(key, ShortEscapes::kNewlineTab);
      out += ':';
      append_compact(member, out);
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    for (size_t i = 0; i < value.size(); ++i) {
      if (i) out += ',';
      append_compact(value[i], out);
    }
    out += ']';
  } else if (value.is_string()) {
    out += json_string(value.template get_ref<const std::string&>(), ShortEscapes::kNewlineTab);
  } else if (value.is_number_float()) {
    out += json_number(value.template get<double>());
  } else if (value.is_number_unsigned()) {
    out += fmt::format("{}", value.template get<uint64_t>());
  } else if (value.is_number_integer()) {
    out += fmt::format("{}", value.template get<int64_t>());
  } else {  // null, true, false
    out += value.dump();
  }
}

}  // namespace

std::string compact_json(const Json& value) {
  std::string out;
  append_compact(value, out);
  return out;
}

std::string compact_json(const OrderedJson& value) {
  std::string out;
  append_compact(value, out);
  return out;
}

}  // namespace stodepth
