// Checks on generated markup shared by the tests of the SVG charts and the HTML building
// blocks: counting occurrences, valid UTF-8, and XML well-formedness.
#pragma once

#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace stodepth::testing {

inline size_t count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

inline bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80                 ? 1
                  : c >= 0xC2 && c <= 0xDF ? 2
                  : c >= 0xE0 && c <= 0xEF ? 3
                  : c >= 0xF0 && c <= 0xF4 ? 4
                                           : 0;
    if (n == 0 || i + size_t(n) > s.size()) return false;
    for (int k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + size_t(k)]) & 0xC0) != 0x80) return false;
    }
    i += size_t(n);
  }
  return true;
}

// A small well-formedness checker for SVG and HTML fragments: one root element, balanced and
// properly nested tags, quoted and unique attributes, no raw '<' or '>' in text or attribute
// values, and only the five predefined or numeric entity references. Returns "" when fine.
inline std::string xml_error(std::string_view doc) {
  const auto is_entity = [](std::string_view at) {  // at starts with '&'
    const size_t semicolon = at.find(';');
    if (semicolon == std::string_view::npos) return false;
    const std::string_view name = at.substr(1, semicolon - 1);
    if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos") {
      return true;
    }
    const bool hex = name.substr(0, 2) == "#x";
    const std::string_view digits = name.substr(hex ? 2 : 1);
    return name.substr(0, 1) == "#" && !digits.empty() &&
           digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") ==
               std::string_view::npos;
  };
  const auto is_name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' ||
           c == '.';
  };
  const auto check_text = [&](std::string_view text) -> std::string {
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '<' || text[i] == '>') return "raw < or > in text: " + std::string(text);
      if (text[i] == '&' && !is_entity(text.substr(i))) {
        return "bad entity reference in: " + std::string(text);
      }
    }
    return "";
  };
  std::vector<std::string> open;
  int roots = 0;
  size_t i = 0;
  while (i < doc.size()) {
    const size_t lt = doc.find('<', i);
    const std::string_view text = doc.substr(i, lt == std::string_view::npos ? doc.npos : lt - i);
    if (open.empty() && text.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      return "text outside the root element";
    }
    if (auto e = check_text(text); !e.empty()) return e;
    if (lt == std::string_view::npos) break;
    i = lt + 1;
    if (doc.substr(i, 3) == "!--") {
      const size_t end = doc.find("-->", i);
      if (end == doc.npos) return "unterminated comment";
      i = end + 3;
      continue;
    }
    const bool closing = i < doc.size() && doc[i] == '/';
    if (closing) ++i;
    const size_t name_start = i;
    while (i < doc.size() && is_name_char(doc[i])) ++i;
    const std::string name(doc.substr(name_start, i - name_start));
    if (name.empty()) return "a tag without a name";
    if (closing) {
      if (i >= doc.size() || doc[i] != '>') return "bad end tag </" + name;
      if (open.empty() || open.back() != name) return "mismatched </" + name + ">";
      open.pop_back();
      ++i;
      continue;
    }
    std::set<std::string> attributes;
    for (;;) {
      while (i < doc.size() && std::isspace(static_cast<unsigned char>(doc[i]))) ++i;
      if (i >= doc.size()) return "unterminated tag <" + name;
      if (doc.substr(i, 2) == "/>") {
        i += 2;
        if (open.empty()) ++roots;
        break;
      }
      if (doc[i] == '>') {
        ++i;
        if (open.empty()) ++roots;
        open.push_back(name);
        break;
      }
      const size_t attribute_start = i;
      while (i < doc.size() && is_name_char(doc[i])) ++i;
      const std::string attribute(doc.substr(attribute_start, i - attribute_start));
      if (attribute.empty() || i + 1 >= doc.size() || doc[i] != '=' ||
          (doc[i + 1] != '"' && doc[i + 1] != '\'')) {
        return "bad attribute in <" + name;
      }
      if (!attributes.insert(attribute).second) return "duplicate attribute " + attribute;
      const char quote = doc[i + 1];
      const size_t end = doc.find(quote, i + 2);
      if (end == doc.npos) return "unterminated attribute value";
      if (auto e = check_text(doc.substr(i + 2, end - i - 2)); !e.empty()) return e;
      i = end + 1;
    }
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  if (roots != 1) return "not exactly one root element";
  return "";
}

}  // namespace stodepth::testing
