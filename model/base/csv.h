// CSV output (RFC 4180), shared by the report's tables and `query --format csv`.
#pragma once

#include <string>
#include <string_view>

namespace stodepth {

// `field` quoted when it holds a comma, quote or line break; quotes doubled.
inline std::string csv_field(std::string_view field) {
  if (field.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace stodepth
