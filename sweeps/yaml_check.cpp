#include "sweeps/yaml_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "model/utf8.h"

namespace stodepth::sweeps {
namespace {

// Reports the first byte that is not part of well-formed UTF-8; false if there is one.
bool check_utf8(std::string_view text, Diagnostics& diagnostics) {
  YAML::Mark mark;
  mark.line = mark.column = 0;
  for (size_t i = 0; i < text.size(); ++mark.column) {
    const int length = utf8_sequence(text.substr(i));
    if (length <= 0) {
      diagnostics.error(mark, fmt::format("not UTF-8 text (byte 0x{:02X}); save the file as UTF-8",
                                          static_cast<unsigned char>(text[i])));
      return false;
    }
    if (text[i] == '\n') ++mark.line, mark.column = -1;
    i += size_t(length);
  }
  return true;
}

void check_duplicate_keys(const YAML::Node& node, Diagnostics& diagnostics) {
  if (node.IsSequence())
    for (const auto& item : node) check_duplicate_keys(item, diagnostics);
  if (!node.IsMap()) return;
  std::vector<YAML::Node> seen;
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    const auto first = std::find_if(seen.begin(), seen.end(), [&](const YAML::Node& k) {
      return k.IsScalar() && key.IsScalar() && k.Scalar() == key.Scalar();
    });
    if (first != seen.end())
      diagnostics.error(key.Mark(), fmt::format("duplicate key '{}' (first at line {})",
                                                key.Scalar(), first->Mark().line + 1));
    seen.push_back(key);
    check_duplicate_keys(entry.second, diagnostics);
  }
}

}  // namespace

void Diagnostics::error(const YAML::Mark& mark, const std::string& message) {
  const bool known = mark.line >= 0 && mark.column >= 0;
  std::string line = fmt::format("{}:{}:{}: {}", filename_, known ? mark.line + 1 : 1,
                                 known ? mark.column + 1 : 1, message);
  if (std::find(messages_.begin(), messages_.end(), line) == messages_.end())
    messages_.push_back(std::move(line));
}

Error Diagnostics::to_error() const { return Error{fmt::format("{}", fmt::join(messages_, "\n"))}; }

YAML::Mark mark_of(const YAML::Node& value, const YAML::Node& key) {
  return value.IsNull() ? key.Mark() : value.Mark();
}

std::optional<YAML::Node> load_yaml(const std::string& text, Diagnostics& diagnostics) {
  if (!check_utf8(text, diagnostics)) return std::nullopt;
  try {
    YAML::Node root = YAML::Load(text);
    check_duplicate_keys(root, diagnostics);
    return root;
  } catch (const YAML::ParserException& e) {
    diagnostics.error(e.mark, "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    diagnostics.error(e.mark, std::string("cannot read YAML: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace stodepth::sweeps
