#include "tools/serve/assets.h"

#include <map>
#include <string>

#include "tools/serve/embedded_files.h"

namespace stodepth::serve {
namespace {

const char* content_type_of(std::string_view name) {
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

std::map<std::string, Asset, std::less<>> index_files() {
  std::map<std::string, Asset, std::less<>> assets;
  for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
    const EmbeddedFile& f = kEmbeddedFiles[i];
    assets.emplace(f.name,
                   Asset{{reinterpret_cast<const char*>(f.data), f.size}, content_type_of(f.name)});
  }
  return assets;
}

}  // namespace

const Asset* find_asset(std::string_view name) {
  static const auto assets = index_files();
  const auto it = assets.find(name);
  return it == assets.end() ? nullptr : &it->second;
}

}  // namespace stodepth::serve
