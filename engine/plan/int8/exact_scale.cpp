#include "engine/plan/int8/exact_scale.hpp"

#include <cmath>

namespace edgert::engine::planning::int8 {

namespace {

using u128 = unsigned __int128;

int bit_length(u128 v) {
  int n = 0;
  while (v) {
    v >>= 1;
    ++n;
  }
  return n;
}

// round_half_even(n / d) for n >= 0, d > 0.
u128 round_div(u128 n, u128 d) {
  const u128 q = n / d, r = n % d;
  const u128 twice = r * 2;
  if (twice > d || (twice == d && (q & 1))) return q + 1;
  return q;
}

std::int64_t signed_round_div(bool negative, u128 n, u128 d) {
  const u128 q = round_div(n, d);
  const u128 cap = 4194304;
  const std::int64_t m = static_cast<std::int64_t>(q > cap ? cap : q);
  return negative ? -m : m;
}

}  // namespace

std::optional<exact_scale> exact_scale::make(const std::vector<float>& numerators, const std::vector<float>& denominators,
                                             std::uint64_t int_den) {
  u128 num = 1, den = int_den == 0 ? 0 : int_den;
  if (den == 0) return std::nullopt;
  int e = 0;
  auto take = [&](float f, u128& into, int sign) {
    if (!std::isfinite(f) || !(f > 0.f)) return false;
    int ex = 0;
    const float m = std::frexp(f, &ex);  // f = m * 2^ex, 0.5 <= m < 1
    std::uint32_t mant = static_cast<std::uint32_t>(std::ldexp(m, 24));
    ex -= 24;
    while (mant % 2 == 0) {
      mant /= 2;
      ++ex;
    }
    into *= mant;
    e += sign * ex;
    return bit_length(into) < 100;
  };
  for (float f : numerators)
    if (!take(f, num, 1)) return std::nullopt;
  for (float f : denominators)
    if (!take(f, den, -1)) return std::nullopt;
  if (e > 0) {
    if (bit_length(num) + e > 100) return std::nullopt;
    num <<= e;
  } else if (e < 0) {
    if (bit_length(den) - e > 110) return std::nullopt;
    den <<= -e;
  }
  exact_scale s;
  s.num_ = num;
  s.den_ = den;
  s.approx_ = static_cast<double>(num) / static_cast<double>(den);
  return s;
}

std::int64_t exact_scale::exact(std::int64_t v) const {
  const bool negative = v < 0;
  const u128 mag = negative ? static_cast<u128>(-static_cast<__int128>(v)) : static_cast<u128>(v);
  if (mag && bit_length(mag) + bit_length(num_) > 127) {
    // Too wide for 128 bits (never for |v| < 2^27): the float64 rounding, saturated.
    const double t = static_cast<double>(v) * approx_;
    if (t >= 4194304.0) return 4194304;
    if (t <= -4194304.0) return -4194304;
    return static_cast<std::int64_t>((t + 6755399441055744.0) - 6755399441055744.0);
  }
  return signed_round_div(negative, mag * num_, den_);
}

std::int64_t rescale_sum(const exact_scale& sa, std::int64_t a, const exact_scale& sb, std::int64_t b) {
  const double t = static_cast<double>(a) * sa.approx() + static_cast<double>(b) * sb.approx();
  if (t >= 4194304.0) return 4194304;
  if (t <= -4194304.0) return -4194304;
  const double r = (t + 6755399441055744.0) - 6755399441055744.0;
  const double d = t - r;
  if (!(d > 0.5 - 1e-8 || d < -0.5 + 1e-8)) return static_cast<std::int64_t>(r);
  // Near a tie: a * na / da + b * nb / db = (a * na * db + b * nb * da) / (da * db).
  const u128 na = sa.num() * sb.den(), nb = sb.num() * sa.den(), den = sa.den() * sb.den();
  if (bit_length(sa.num()) + bit_length(sb.den()) > 84 || bit_length(sb.num()) + bit_length(sa.den()) > 84 ||
      bit_length(sa.den()) + bit_length(sb.den()) > 120)
    return static_cast<std::int64_t>(r);  // too wide for 128 bits: the float64 rounding
  const __int128 n = static_cast<__int128>(na) * a + static_cast<__int128>(nb) * b;
  const bool negative = n < 0;
  return signed_round_div(negative, static_cast<u128>(negative ? -n : n), den);
}

}  // namespace edgert::engine::planning::int8
