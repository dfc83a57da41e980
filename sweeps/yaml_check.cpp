#include "sweeps/yaml_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string_view>

#include "model/base/utf8.h"

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

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Where the quoted scalar opened at `open` (a quote character) closes: the index of its
// closing quote, or npos when it runs into a line indented at most `owner_column` (the
// column of the key or sequence dash it belongs to: the value has ended there) or into the
// end of the text.
size_t closing_quote(std::string_view text, size_t open, int owner_column) {
  const char quote = text[open];
  for (size_t i = open + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (quote == '"' && c == '\\') {
      ++i;
    } else if (c == quote) {
      if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') ++i;  // '' escapes '
      else return i;
    } else if (c == '\n') {
      const size_t next = i + 1;
      const size_t content = text.find_first_not_of(" \t\r", next);
      const bool blank = content == std::string_view::npos || text[content] == '\n';
      if (!blank && int(text.find_first_not_of(' ', next) - next) <= owner_column)
        return std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

// yaml-cpp lets a quoted scalar run on over line breaks to the end of the file, silently
// swallowing the keys after it. A quote that opens a value and is not closed before the
// value has ended (a line indented no deeper than its key) is reported where it opens.
// Comments, plain scalars (it's, 'til) and block scalars (| and >) are text, not quotes.
bool check_quotes(std::string_view text, Diagnostics& diagnostics) {
  int block_indent = -1;  // inside a block scalar owned by a key at this column
  YAML::Mark mark;
  mark.line = 0;
  for (size_t start = 0; start < text.size(); ++mark.line) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, end - start);
    const size_t line_start = start;
    start = end + 1;
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) continue;  // blank lines belong to any block
    const int indent = int(line.find_first_not_of(' '));
    if (block_indent >= 0 && indent > block_indent) continue;
    block_indent = -1;

    bool value_start = true;  // the next token begins a node
    int flow = 0;             // depth of [ ] and { }
    int owner = indent;       // column of the key (or dash) the current value belongs to
    int token = indent;       // column where the current key or scalar began
    for (size_t i = first; i < line.size(); ++i) {
      const char c = line[i];
      const bool blank_after = i + 1 == line.size() || is_blank(line[i + 1]);
      if (is_blank(c)) continue;
      if (c == '#' && (i == first || is_blank(line[i - 1]))) break;  // a comment
      if (value_start && (c == '!' || c == '&')) {  // a tag or an anchor before the node
        while (i + 1 < line.size() && !is_blank(line[i + 1])) ++i;
        continue;
      }
      if (value_start && (c == '"' || c == '\'')) {
        token = int(i);
        const size_t close = closing_quote(text, line_start + i, owner);
        if (close == std::string_view::npos) {
          mark.column = int(i);
          diagnostics.error(mark, fmt::format("unterminated quoted string (no closing {} before "
                                              "the next key)",
                                              c));
          return false;
        }
        if (close >= line_start + line.size()) {  // a multi-line scalar: go on after its line
          const size_t close_end = std::min(text.find('\n', close), text.size());
          mark.line += int(std::count(text.begin() + std::ptrdiff_t(line_start + i),
                                      text.begin() + std::ptrdiff_t(close_end), '\n'));
          start = close_end + 1;
          break;
        }
        i = close - line_start;
        value_start = false;
        continue;
      }
      if (value_start && flow == 0 && (c == '|' || c == '>')) {
        const size_t rest = line.find_first_not_of("+-0123456789", i + 1);
        if (rest == std::string_view::npos || is_blank(line[rest]) || line[rest] == '#') {
          block_indent = owner;
          break;
        }
      }
      if (c == ':' && blank_after) {  // key: value
        if (flow == 0) owner = token;
        value_start = true;
      } else if (c == '-' && blank_after && value_start && flow == 0) {  // a sequence entry
        owner = int(i);
      } else if ((c == '[' || c == '{') && (value_start || flow > 0)) {
        ++flow;
        value_start = true;
      } else if ((c == ']' || c == '}') && flow > 0) {
        --flow;
        value_start = false;
      } else if (c == ',' && flow > 0) {
        value_start = true;
      } else if (value_start) {  // a plain scalar begins: its quotes are text
        token = int(i);
        value_start = false;
      }
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

// Aliases make a small file a huge tree (each level of `[*a, *a, …]` multiplies it); every
// walk over a sweep file's tree stops at this many nodes.
constexpr int64_t kMaxNodes = 100000;

// Counts the nodes of the tree, aliases expanded, up to `budget`; false if it has more.
bool within_node_budget(const YAML::Node& node, int64_t& budget) {
  if (--budget < 0) return false;
  if (node.IsSequence())
    for (const auto& item : node)
      if (!within_node_budget(item, budget)) return false;
  if (node.IsMap())
    for (const auto& entry : node)
      if (!within_node_budget(entry.first, budget) || !within_node_budget(entry.second, budget))
        return false;
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
  // A value quoted in the message may hold line breaks ("1\n2"): escaped, one problem stays
  // one line.
  std::string one_line;
  for (const char c : message) {
    if (c == '\n') one_line += "\\n";
    else if (c == '\r') one_line += "\\r";
    else if (c == '\t') one_line += "\\t";
    else one_line += c;
  }
  std::string line = fmt::format("{}:{}:{}: {}", filename_, known ? mark.line + 1 : 1,
                                 known ? mark.column + 1 : 1, one_line);
  if (std::find(messages_.begin(), messages_.end(), line) == messages_.end())
    messages_.push_back(std::move(line));
}

Error Diagnostics::to_error() const {
  return bad_input(fmt::format("{}", fmt::join(messages_, "\n")));
}

YAML::Mark mark_of(const YAML::Node& value, const YAML::Node& key) {
  return value.IsNull() ? key.Mark() : value.Mark();
}

std::optional<YAML::Node> load_yaml(const std::string& text, Diagnostics& diagnostics) {
  if (!check_utf8(text, diagnostics) || !check_quotes(text, diagnostics)) return std::nullopt;
  try {
    YAML::Node root = YAML::Load(text);
    if (int64_t budget = kMaxNodes; !within_node_budget(root, budget)) {
      diagnostics.error(root.Mark(), fmt::format("more than {} YAML nodes once aliases are "
                                                 "expanded; a sweep file is small (too many "
                                                 "nested *aliases?)",
                                                 kMaxNodes));
      return std::nullopt;
    }
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
