#include "tensor_fill.hpp"

#include <cstring>
#include <limits>
#include <random>

#include "edgert/errors.hpp"

namespace edgert::cli {

namespace {

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  std::uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: value = mant * 2^-24
      float f = static_cast<float>(mant) * 5.9604644775390625e-8f;
      return sign ? -f : f;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

template <class T>
void fill_integers(Tensor& t, std::mt19937_64& rng) {
  std::uniform_int_distribution<long long> dist(std::numeric_limits<T>::min(),
                                                std::numeric_limits<T>::max());
  auto* p = t.data_as<T>();
  for (std::int64_t i = 0; i < t.elements(); ++i) p[i] = static_cast<T>(dist(rng));
}

double value_at(const Tensor& t, std::int64_t i) {
  switch (t.dtype()) {
    case DType::float32: return t.data_as<float>()[i];
    case DType::float64: return t.data_as<double>()[i];
    case DType::float16: return half_to_float(t.data_as<std::uint16_t>()[i]);
    case DType::bfloat16: {
      std::uint32_t bits = std::uint32_t{t.data_as<std::uint16_t>()[i]} << 16;
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return f;
    }
    case DType::uint8: case DType::boolean: return t.data_as<std::uint8_t>()[i];
    case DType::int8: return t.data_as<std::int8_t>()[i];
    case DType::uint16: return t.data_as<std::uint16_t>()[i];
    case DType::int16: return t.data_as<std::int16_t>()[i];
    case DType::int32: return t.data_as<std::int32_t>()[i];
    case DType::uint32: return t.data_as<std::uint32_t>()[i];
    case DType::int64: return static_cast<double>(t.data_as<std::int64_t>()[i]);
    case DType::uint64: return static_cast<double>(t.data_as<std::uint64_t>()[i]);
    case DType::undefined: break;
  }
  return 0;
}

}  // namespace

Tensor random_tensor(const TensorInfo& info, std::uint64_t seed) {
  if (info.elements() < 0)
    throw InvalidArgument("input '" + info.name + "' has shape " + to_string(info.shape) +
                          " with a dimension unknown before run time; give it with --input");
  Tensor t(info.dtype, info.shape);
  std::mt19937_64 rng(seed);
  switch (info.dtype) {
    case DType::float32: {
      std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
      for (std::int64_t i = 0; i < t.elements(); ++i) t.data_as<float>()[i] = dist(rng);
      break;
    }
    case DType::float64: {
      std::uniform_real_distribution<double> dist(-1.0, 1.0);
      for (std::int64_t i = 0; i < t.elements(); ++i) t.data_as<double>()[i] = dist(rng);
      break;
    }
    case DType::uint8: fill_integers<std::uint8_t>(t, rng); break;
    case DType::int8: fill_integers<std::int8_t>(t, rng); break;
    case DType::uint16: fill_integers<std::uint16_t>(t, rng); break;
    case DType::int16: fill_integers<std::int16_t>(t, rng); break;
    case DType::int32: fill_integers<std::int32_t>(t, rng); break;
    case DType::uint32: fill_integers<std::uint32_t>(t, rng); break;
    case DType::int64: fill_integers<std::int64_t>(t, rng); break;
    case DType::uint64: fill_integers<std::uint64_t>(t, rng); break;
    case DType::boolean: {
      for (std::int64_t i = 0; i < t.elements(); ++i) t.data_as<std::uint8_t>()[i] = rng() & 1;
      break;
    }
    default:
      throw NotImplemented("random values for " + to_string(info.dtype) + " input '" + info.name +
                           "' are not supported; give it with --input");
  }
  return t;
}

tensor_stats summarize(const Tensor& t) {
  tensor_stats s;
  const auto n = t.elements();
  if (n <= 0) return s;
  s.min = s.max = value_at(t, 0);
  s.argmax = 0;
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = value_at(t, i);
    sum += v;
    if (v < s.min) s.min = v;
    if (v > s.max) {
      s.max = v;
      s.argmax = i;
    }
  }
  s.mean = sum / static_cast<double>(n);
  return s;
}

}  // namespace edgert::cli
