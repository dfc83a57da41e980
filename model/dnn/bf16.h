// bf16 ⇄ f32 on the host, for the few hand-written ops that touch bf16 tensors. bf16 is
// f32's upper 16 bits; f32 → bf16 rounds to nearest, ties to even, and flushes subnormals to
// zero, as oneDNN's conversion and the CPUs' vcvtneps2bf16 do.
#pragma once

#include <bit>
#include <cstdint>

namespace stodepth::dnn {

inline float bf16_to_f32(uint16_t value) { return std::bit_cast<float>(uint32_t(value) << 16); }

inline uint16_t f32_to_bf16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40u);  // quiet NaN
  if ((bits & 0x7f800000u) == 0) return uint16_t((bits >> 16) & 0x8000u);        // subnormal
  return uint16_t((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

}  // namespace stodepth::dnn
