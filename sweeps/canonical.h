// Hashing for job keys and sweep source hashes. Internal to the sweeps module.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

namespace stodepth::sweeps {

// FNV-1a 64 of `bytes` as 16 lower-case hex digits: stable across platforms and releases,
// and collisions are negligible at sweep sizes (~n²/2^65).
std::string hash_hex(std::string_view bytes);

// Hash of a parsed sweep file (a mapping with scalar keys), independent of comments, layout,
// quoting and key order. The grid's axis order is kept: it decides the job order.
std::string source_hash(const YAML::Node& root);

}  // namespace stodepth::sweeps
