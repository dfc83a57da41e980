// The static files the pages load (/static/<name>), all compiled into the binary: a request
// names one of a fixed set, never a path on disk.
#pragma once

#include <string_view>

namespace stodepth::serve {

struct Asset {
  std::string_view body;
  const char* content_type;
};

// The file called `name` ("app.js", "dygraph.min.css", ...), or nullptr for any other name.
const Asset* find_asset(std::string_view name);

}  // namespace stodepth::serve
