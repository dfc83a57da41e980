#include "sweeps/yaml_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string_view>

#include "model/utf8.h"

namespace stodepth::sweeps {
namespace {

// The code point of the valid UTF-8 sequence of `length` bytes at the start of `s`.
char32_t decode(std::string_view s, int length) {
  static constexpr unsigned char kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  char32_t c = static_cast<unsigned char>(s[0]) & kLeadMask[length];
  for (int i = 1; i < length; ++i) c = (c << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  return c;
}

// Reports the first byte that is not part of well-formed UTF-8, and the first character YAML
// does not allow in a file (control characters but tab and line breaks, a byte order mark
// after the start); false if there is one.
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
    const char32_t c = decode(text.substr(i), length);
    const bool control = (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F ||
                         (c >= 0x80 && c <= 0x9F && c != 0x85);
    if (control) {
      diagnostics.error(mark, fmt::format("control character U+{:04X} (a binary file?); sweep "
                                          "files are YAML text",
                                          uint32_t(c)));
      return false;
    }
    if (c == 0xFEFF && i > 0) {
      diagnostics.error(mark, "byte order mark (U+FEFF) inside the file; remove it");
      return false;
    }
    if (text[i] == '\n') ++mark.line, mark.column = -1;
    i += size_t(length);
  }
  return true;
}

// yaml-cpp lets a quoted scalar run on over line breaks to the end of the file, silently
// swallowing the keys after it. Sweep files keep a quoted value on one line, so a quote that
// opens a value and does not close on its line is reported where it opens. Comments and the
// lines of block scalars (| and >) are text, not values.
bool check_quotes(std::string_view text, Diagnostics& diagnostics) {
  int block_indent = -1;  // inside a block scalar whose key line has this indentation
  YAML::Mark mark;
  mark.line = 0;
  for (size_t start = 0; start < text.size(); ++mark.line) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    const size_t first = line.find_first_not_of(" \r");
    if (first == std::string_view::npos) continue;  // blank lines belong to any block
    const int indent = int(line.find_first_not_of(' '));
    if (block_indent >= 0 && indent > block_indent) continue;
    block_indent = -1;

    bool value_start = true;
    for (size_t i = first; i < line.size(); ++i) {
      const char c = line[i];
      const bool space_after = i + 1 == line.size() || line[i + 1] == ' ' || line[i + 1] == '\r';
      if (c == ' ') continue;
      if (c == '#' && (i == 0 || line[i - 1] == ' ')) break;
      if (value_start && (c == '"' || c == '\'')) {
        size_t close = i + 1;
        for (; close < line.size(); ++close) {
          if (c == '"' && line[close] == '\\') { ++close; continue; }
          if (line[close] != c) continue;
          if (c == '\'' && close + 1 < line.size() && line[close + 1] == '\'') { ++close; continue; }
          break;
        }
        if (close >= line.size()) {
          mark.column = int(i);
          diagnostics.error(mark, fmt::format("unterminated quoted string (no closing {} on this "
                                              "line; keep a quoted value on one line)",
                                              c));
          return false;
        }
        i = close;
        value_start = false;
        continue;
      }
      if (value_start && (c == '|' || c == '>')) {
        const size_t rest = line.find_first_not_of("+-0123456789", i + 1);
        if (rest == std::string_view::npos || line[rest] == ' ' || line[rest] == '\r') {
          block_indent = indent;
          break;
        }
      }
      value_start = ((c == ':' || c == '-') && space_after) || c == '[' || c == '{' || c == ',';
    }
  }
  return true;
}

// The first line through `last_line` indented with a tab, if any (yaml-cpp's message for
// it names neither the tab nor that line).
std::optional<int> tab_indented_line(std::string_view text, int last_line) {
  int line = 0;
  for (size_t start = 0; start < text.size() && line <= last_line; ++line) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const size_t first = text.find_first_not_of(' ', start);
    if (first < end && text[first] == '\t') return line;
    start = end + 1;
  }
  return std::nullopt;
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
  if (!check_utf8(text, diagnostics) || !check_quotes(text, diagnostics)) return std::nullopt;
  try {
    YAML::Node root = YAML::Load(text);
    check_duplicate_keys(root, diagnostics);
    return root;
  } catch (const YAML::ParserException& e) {
    if (const auto tab = tab_indented_line(text, e.mark.line)) {
      YAML::Mark mark;
      mark.line = *tab;
      mark.column = 0;
      diagnostics.error(mark, "tab used for indentation; YAML indents with spaces");
    } else {
      diagnostics.error(e.mark, "YAML syntax error: " + e.msg);
    }
  } catch (const YAML::Exception& e) {
    diagnostics.error(e.mark, std::string("cannot read YAML: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace stodepth::sweeps
