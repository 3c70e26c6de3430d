// Gemm, MatMul and Einsum reference kernels, with hand-computed values and randomised
// comparisons against naive loops.
#include <doctest/doctest.h>

#include <random>

#include "engine_k2_harness.hpp"

using namespace k2;

using ints = std::vector<std::int64_t>;

namespace {

tensor random_tensor(shape_t shape, std::mt19937& gen) {
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  tensor t(dtype::f32, std::move(shape));
  for (std::int64_t i = 0; i < t.elements(); ++i) t.data<float>()[i] = dist(gen);
  return t;
}

// A [2, 3] = [[1, 2, 3], [4, 5, 6]] and B [3, 2] = [[1, 0], [0, 1], [1, 1]]: A B = [[4, 5], [10, 11]].
tensor A() { return f32({2, 3}, {1, 2, 3, 4, 5, 6}); }
tensor B() { return f32({3, 2}, {1, 0, 0, 1, 1, 1}); }

}  // namespace

TEST_CASE("Gemm multiplies and adds a full C") {
  auto y = op("Gemm").in(A()).in(B()).in(f32({2, 2}, {1, 1, 1, 1})).out();
  CHECK(y.shape() == shape_t{2, 2});
  check_close(y, {5, 6, 11, 12});
}

TEST_CASE("Gemm transA and transB read the operands transposed") {
  auto at = f32({3, 2}, {1, 4, 2, 5, 3, 6});
  auto bt = f32({2, 3}, {1, 0, 1, 0, 1, 1});
  auto y = op("Gemm").in(at).in(bt).attr("transA", 1).attr("transB", 1).out();
  check_close(y, {4, 5, 10, 11});
}

TEST_CASE("Gemm alpha and beta scale the product and C") {
  auto y = op("Gemm").in(A()).in(B()).in(f32({2, 2}, {1, 2, 3, 4})).attr("alpha", 2.f).attr("beta", 0.5f).out();
  check_close(y, {8.5, 11, 21.5, 24});
}

TEST_CASE("Gemm broadcasts a row C, a column C and a scalar C") {
  check_close(op("Gemm").in(A()).in(B()).in(f32({2}, {10, 20})).out(), {14, 25, 20, 31});
  check_close(op("Gemm").in(A()).in(B()).in(f32({2, 1}, {10, 20})).out(), {14, 15, 30, 31});
  check_close(op("Gemm").in(A()).in(B()).in(f32({}, {100})).out(), {104, 105, 110, 111});
}

TEST_CASE("Gemm without C is allowed from opset 11 only") {
  check_close(op("Gemm", 11).in(A()).in(B()).out(), {4, 5, 10, 11});
  CHECK(op("Gemm", 9).in(A()).in(B()).error() == errc::invalid_argument);
}

TEST_CASE("Gemm before opset 7 broadcasts C only with broadcast 1") {
  CHECK(op("Gemm", 6).in(A()).in(B()).in(f32({2}, {1, 1})).error() == errc::invalid_argument);
  check_close(op("Gemm", 6).in(A()).in(B()).in(f32({2}, {1, 1})).attr("broadcast", 1).out(), {5, 6, 11, 12});
}

TEST_CASE("Gemm on int32 and int64") {
  auto y = op("Gemm")
               .in(make<std::int32_t>({1, 2}, {3, -4}))
               .in(make<std::int32_t>({2, 1}, {5, 6}))
               .in(make<std::int32_t>({1}, {100}))
               .out();
  CHECK(values<std::int32_t>(y) == std::vector<std::int32_t>{100 + 15 - 24});
  auto z = op("Gemm").in(make<std::int64_t>({1, 1}, {1ll << 40})).in(make<std::int64_t>({1, 1}, {4})).out();
  CHECK(values<std::int64_t>(z) == ints{1ll << 42});
}

TEST_CASE("Gemm rejects mismatched inner extents and a C that does not broadcast") {
  CHECK(op("Gemm").in(A()).in(A()).error() == errc::invalid_argument);
  CHECK(op("Gemm").in(A()).in(B()).in(f32({3}, {1, 2, 3})).error() == errc::invalid_argument);
}

TEST_CASE("MatMul of 2-D matrices") {
  auto y = op("MatMul").in(A()).in(B()).out();
  check_close(y, {4, 5, 10, 11});
}

TEST_CASE("MatMul with 1-D operands drops the promoted axes") {
  auto v = f32({3}, {1, 1, 1});
  auto left = op("MatMul").in(v).in(B()).out();
  CHECK(left.shape() == shape_t{2});
  check_close(left, {2, 2});
  auto right = op("MatMul").in(A()).in(v).out();
  CHECK(right.shape() == shape_t{2});
  check_close(right, {6, 15});
  auto dot = op("MatMul").in(v).in(f32({3}, {1, 2, 3})).out();
  CHECK(dot.shape() == shape_t{});
  check_close(dot, {6});
}

TEST_CASE("MatMul broadcasts batch axes") {
  // a: [2, 1, 1, 2], b: [3, 2, 1] -> [2, 3, 1, 1].
  auto a = f32({2, 1, 1, 2}, {1, 2, 3, 4});
  auto b = f32({3, 2, 1}, {1, 0, 0, 1, 1, 1});
  auto y = op("MatMul").in(a).in(b).out();
  CHECK(y.shape() == shape_t{2, 3, 1, 1});
  check_close(y, {1, 2, 3, 3, 4, 7});
}

TEST_CASE("MatMul on int32, uint64 and double") {
  auto i = op("MatMul").in(make<std::int32_t>({1, 2}, {-2, 3})).in(make<std::int32_t>({2, 1}, {4, 5})).out();
  CHECK(values<std::int32_t>(i) == std::vector<std::int32_t>{7});
  auto u = op("MatMul").in(make<std::uint64_t>({1, 1}, {1ull << 40})).in(make<std::uint64_t>({1, 1}, {8})).out();
  CHECK(values<std::uint64_t>(u) == std::vector<std::uint64_t>{1ull << 43});
  auto d = op("MatMul").in(make<double>({1, 2}, {0.1, 0.2})).in(make<double>({2, 1}, {10, 10})).out();
  CHECK(values<double>(d)[0] == doctest::Approx(3.0));
}

TEST_CASE("MatMul on float16 returns float16") {
  tensor a(dtype::f16, {1, 2}), b(dtype::f16, {2, 1});
  a.data<std::uint16_t>()[0] = float_to_half(1.5f);
  a.data<std::uint16_t>()[1] = float_to_half(2.f);
  b.data<std::uint16_t>()[0] = float_to_half(2.f);
  b.data<std::uint16_t>()[1] = float_to_half(-1.f);
  auto y = op("MatMul").in(a).in(b).out();
  REQUIRE(y.type() == dtype::f16);
  CHECK(half_to_float(y.data<std::uint16_t>()[0]) == 1.f);
}

TEST_CASE("MatMul matches a naive product across the GEMM's block edges") {
  std::mt19937 gen(5);
  const std::int64_t M = 37, K = 300, N = 70;
  auto a = random_tensor({M, K}, gen), b = random_tensor({K, N}, gen);
  auto y = op("MatMul").in(a).in(b).out();
  std::vector<double> expected(M * N, 0.0);
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j)
      for (std::int64_t k = 0; k < K; ++k) expected[i * N + j] += double(a.data<float>()[i * K + k]) * b.data<float>()[k * N + j];
  check_close(y, expected, 1e-4);
}

TEST_CASE("MatMul rejects mismatched inner extents and batch axes that do not broadcast") {
  CHECK(op("MatMul").in(A()).in(A()).error() == errc::invalid_argument);
  CHECK(op("MatMul").in(iota({2, 2, 2})).in(iota({3, 2, 2})).error() == errc::invalid_argument);
}

TEST_CASE("MatMul on int8 is unsupported") {
  CHECK(op("MatMul").in(make<std::int8_t>({1, 1}, {1})).in(make<std::int8_t>({1, 1}, {1})).error() ==
        errc::not_implemented);
}

TEST_CASE("Einsum matrix product with an explicit output") {
  check_close(op("Einsum", 12).in(A()).in(B()).attr("equation", "ij,jk->ik").out(), {4, 5, 10, 11});
}

TEST_CASE("Einsum implicit output sorts the labels that appear once") {
  auto y = op("Einsum", 12).in(A()).in(B()).attr("equation", "ij,jk").out();
  CHECK(y.shape() == shape_t{2, 2});
  check_close(y, {4, 5, 10, 11});
  // "ba" implicitly means output "ab": a transpose.
  auto t = op("Einsum", 12).in(A()).attr("equation", "ba").out();
  CHECK(t.shape() == shape_t{3, 2});
  check_close(t, {1, 4, 2, 5, 3, 6});
}

TEST_CASE("Einsum transpose, full sum and outer product") {
  check_close(op("Einsum", 12).in(A()).attr("equation", "ij->ji").out(), {1, 4, 2, 5, 3, 6});
  auto s = op("Einsum", 12).in(A()).attr("equation", "ij->").out();
  CHECK(s.shape() == shape_t{});
  check_close(s, {21});
  auto outer = op("Einsum", 12).in(f32({2}, {1, 2})).in(f32({3}, {1, 10, 100})).attr("equation", "i,j->ij").out();
  check_close(outer, {1, 10, 100, 2, 20, 200});
}

TEST_CASE("Einsum repeated labels take the diagonal or the trace") {
  auto m = iota({3, 3});
  check_close(op("Einsum", 12).in(m).attr("equation", "ii->i").out(), {0, 4, 8});
  check_close(op("Einsum", 12).in(m).attr("equation", "ii").out(), {12});
}

TEST_CASE("Einsum batched matmul and batch diagonal with an ellipsis") {
  auto a = iota({2, 2, 2});
  auto b = f32({2, 2, 1}, {1, 1, 1, -1});
  auto y = op("Einsum", 12).in(a).in(b).attr("equation", "bij,bjk->bik").out();
  CHECK(y.shape() == shape_t{2, 2, 1});
  check_close(y, {1, 5, -1, -1});
  auto d = op("Einsum", 12).in(iota({2, 2, 2})).attr("equation", "...ii->...i").out();
  CHECK(d.shape() == shape_t{2, 2});
  check_close(d, {0, 3, 4, 7});
}

TEST_CASE("Einsum broadcasts ellipsis axes of size 1") {
  // a: [2, 1, 2] (ellipsis [2, 1]), b: [3, 2] (ellipsis [3]) -> [2, 3].
  auto a = f32({2, 1, 2}, {1, 2, 3, 4});
  auto b = f32({3, 2}, {1, 0, 0, 1, 1, 1});
  auto y = op("Einsum", 12).in(a).in(b).attr("equation", "...j,...j->...").out();
  CHECK(y.shape() == shape_t{2, 3});
  check_close(y, {1, 2, 3, 3, 4, 7});
}

TEST_CASE("Einsum implicit output keeps the ellipsis axes first") {
  auto y = op("Einsum", 12).in(iota({2, 3})).in(f32({3}, {1, 1, 1})).attr("equation", "...j,j").out();
  CHECK(y.shape() == shape_t{2});
  check_close(y, {3, 12});
}

TEST_CASE("Einsum with upper-case labels and spaces") {
  check_close(op("Einsum", 12).in(A()).in(B()).attr("equation", "Ij, jK -> IK").out(), {4, 5, 10, 11});
}

TEST_CASE("Einsum on int64") {
  auto y = op("Einsum", 12).in(make<std::int64_t>({2}, {3, 4})).in(make<std::int64_t>({2}, {5, 6})).attr("equation", "i,i->").out();
  CHECK(values<std::int64_t>(y) == ints{39});
}

TEST_CASE("Einsum rejects inconsistent label extents, wrong operand counts and bad characters") {
  CHECK(op("Einsum", 12).in(A()).in(A()).attr("equation", "ij,jk->ik").error() == errc::invalid_argument);
  CHECK(op("Einsum", 12).in(A()).attr("equation", "ij,jk->ik").error() == errc::invalid_argument);
  CHECK(op("Einsum", 12).in(A()).attr("equation", "i1->i").error() == errc::invalid_argument);
  CHECK(op("Einsum", 12).in(A()).attr("equation", "ij->iz").error() == errc::invalid_argument);
  CHECK(op("Einsum", 12).in(A()).attr("equation", "ijk->i").error() == errc::invalid_argument);
}

TEST_CASE("MatMul with an empty inner axis yields zeros") {
  auto y = op("MatMul").in(f32({2, 0}, {})).in(f32({0, 3}, {})).out();
  CHECK(y.shape() == shape_t{2, 3});
  check_close(y, {0, 0, 0, 0, 0, 0});
}

TEST_CASE("MatMul with an empty batch yields an empty output") {
  auto y = op("MatMul").in(f32({0, 2, 2}, {})).in(iota({2, 2})).out();
  CHECK(y.shape() == shape_t{0, 2, 2});
}

TEST_CASE("Gemm with transB and a single row (a fully-connected layer) matches a naive product") {
  std::mt19937 gen(8);
  const std::int64_t K = 203, N = 19;
  auto a = random_tensor({1, K}, gen), b = random_tensor({N, K}, gen), c = random_tensor({N}, gen);
  auto y = op("Gemm").in(a).in(b).in(c).attr("transB", 1).out();
  std::vector<double> expected(N);
  for (std::int64_t n = 0; n < N; ++n) {
    expected[n] = c.data<float>()[n];
    for (std::int64_t k = 0; k < K; ++k) expected[n] += double(a.data<float>()[k]) * b.data<float>()[n * K + k];
  }
  check_close(y, expected, 1e-4);
}
