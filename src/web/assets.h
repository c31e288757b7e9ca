// The dashboard's static files (our JS and CSS, the charting library's dist
// files), embedded into the binary at build time by web/embed_assets.cmake.
#pragma once

#include <cstddef>
#include <string_view>

namespace errand::web {

struct Asset {
  const char* path;          ///< URL path, e.g. "/assets/app.js"
  const char* content_type;  ///< e.g. "text/javascript; charset=utf-8"
  const unsigned char* data;
  std::size_t size;
};

/// Defined in the generated assets_data.cc.
extern const Asset kAssets[];
extern const std::size_t kAssetCount;

/// The asset served at `path`, or nullptr.
inline const Asset* find_asset(std::string_view path) {
  for (std::size_t i = 0; i < kAssetCount; ++i)
    if (path == kAssets[i].path) return &kAssets[i];
  return nullptr;
}

}  // namespace errand::web
