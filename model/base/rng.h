// Deterministic pseudo-random numbers: xoshiro256** seeded through splitmix64.
// Hand-rolled (not <random> distributions) so that the same seed gives the same
// stream on every standard library; the whole state is copyable for checkpoints.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace stodepth {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) {
    for (auto& word : state_) word = splitmix64(seed);
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n), unbiased (rejection sampling). Precondition: n > 0.
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = next_u64(); while (x >= limit);
    return x % n;
  }

  // Standard normal via Box-Muller (one value per call; the pair's second is discarded
  // to keep the state a plain array).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

  bool bernoulli(double p) { return uniform() < p; }

  using State = std::array<uint64_t, 4>;
  const State& state() const { return state_; }
  void set_state(const State& s) { state_ = s; }

  // A seed for an independent stream derived from this seed and a label, e.g. the
  // data order and the block gates of one run must not share a stream.
  static uint64_t derive(uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (0x9E3779B97F4A7C15ull * (stream + 1));
    return splitmix64(x);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  State state_{};
};

}  // namespace stodepth
