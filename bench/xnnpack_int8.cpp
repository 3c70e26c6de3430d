// xnnpack_int8: throughput of the XNNPACK int8 convolution wrapper (engine/xnnpack/qconv.hpp)
// against the reference QLinearConv kernel, on the 64 -> 64 channel 3x3 convolution over
// 56x56 (pad 1, batch 1) used in the team's kernel survey.
//
// For each variant it prints the median time per call and GOP/s (2 * MACs / time) on 1 and
// 2 threads. Variants: qs8 (int8 activations, one weight scale), qc8 (int8 activations,
// per-channel scales), qu8 (uint8 activations, int8 weights shifted to uint8) and qc8 fed
// uint8 activations (the sign-bit flip through the scratch buffer). The reference kernel runs
// single-threaded. It also checks that each variant matches the reference to 1 LSB.
//
// Method: operators are created and weights packed before timing; 3 warm-up calls; each
// sample repeats the call until it lasts at least 3 ms; 15 samples; the median is printed.
// The machine is shared, so 2-thread figures vary more than 1-thread ones; the load average
// printed first tells whether other work competed (a busy second core stalls the 2-thread
// runs badly, since the pool's worker waits for a time slice).
//
// Threads: the main thread drives everything; the 2-thread runs add one pthreadpool worker.
//
// Usage: xnnpack_int8 [--samples N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/kernel.hpp"
#include "engine/tensor.hpp"
#include "engine/xnnpack/layout.hpp"
#include "engine/xnnpack/qconv.hpp"
#include "engine/xnnpack/runtime.hpp"

namespace {

using namespace edgert;
using namespace edgert::engine;
using clock_type = std::chrono::steady_clock;

constexpr std::int64_t C = 64, M = 64, H = 56, W = 56, K = 3;
constexpr double ops = 2.0 * M * H * W * C * K * K;

/// Median seconds per call of `f`.
double time_call(const std::function<void()>& f, int samples) {
  for (int i = 0; i < 3; ++i) f();
  int reps = 1;
  for (;;) {
    const auto t0 = clock_type::now();
    for (int i = 0; i < reps; ++i) f();
    if (std::chrono::duration<double>(clock_type::now() - t0).count() >= 3e-3) break;
    reps *= 2;
  }
  std::vector<double> times;
  for (int s = 0; s < samples; ++s) {
    const auto t0 = clock_type::now();
    for (int i = 0; i < reps; ++i) f();
    times.push_back(std::chrono::duration<double>(clock_type::now() - t0).count() / reps);
  }
  std::nth_element(times.begin(), times.begin() + samples / 2, times.end());
  return times[static_cast<std::size_t>(samples / 2)];
}

void print_row(const char* name, int threads, double seconds, const std::string& note) {
  std::printf("%-34s %d thread%s %9.1f us %7.1f GOP/s  %s\n", name, threads, threads == 1 ? " " : "s", seconds * 1e6,
              ops / seconds * 1e-9, note.c_str());
}

template <class T>
tensor scalar(dtype t, T v) {
  tensor s(t, {});
  *s.data<T>() = v;
  return s;
}

struct variant_spec {
  const char* name;
  dtype x;
  bool per_channel;
};

}  // namespace

int main(int argc, char** argv) {
  int samples = 15;
  for (int i = 1; i + 1 < argc; i += 2)
    if (std::string(argv[i]) == "--samples") samples = std::max(1, std::atoi(argv[i + 1]));

  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  tensor w(dtype::i8, {M, C, K, K});
  for (std::int64_t i = 0; i < w.elements(); ++i) w.data<std::int8_t>()[i] = static_cast<std::int8_t>(byte(rng) - 128);
  tensor bias(dtype::i32, {M});
  for (std::int64_t i = 0; i < M; ++i) bias.data<std::int32_t>()[i] = static_cast<std::int32_t>(i * 131 - 4000);
  const float xs = 0.05f, ys = 1.6f;
  std::vector<float> ws(M);
  for (std::int64_t i = 0; i < M; ++i) ws[static_cast<std::size_t>(i)] = 0.01f * (1.f + 0.01f * static_cast<float>(i));

  auto pool2 = xnn::thread_pool::create(2);
  if (!pool2) {
    std::fprintf(stderr, "thread pool: %s\n", pool2.error().message.c_str());
    return 1;
  }
  xnn::thread_pool pool1;
  const kernel_entry* reference = kernel_registry::builtin().find("", "QLinearConv");
  if (reference == nullptr) {
    std::fprintf(stderr, "no reference QLinearConv kernel\n");
    return 1;
  }
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    double load = 0;
    if (std::fscanf(f, "%lf", &load) == 1) std::printf("load average (1 min) at start: %.2f\n", load);
    std::fclose(f);
  }
  std::printf("int8 conv 3x3, %lld -> %lld channels, %lldx%lld, pad 1: %.1f MOP per call\n",
              static_cast<long long>(C), static_cast<long long>(M), static_cast<long long>(H),
              static_cast<long long>(W), ops * 1e-6);

  const variant_spec specs[] = {{"qs8 (s8 act, per-tensor w)", dtype::i8, false},
                                {"qc8 (s8 act, per-channel w)", dtype::i8, true},
                                {"qu8 (u8 act, s8 w shifted)", dtype::u8, false},
                                {"qc8 (u8 act flipped, per-ch w)", dtype::u8, true}};
  bool reference_timed = false;
  for (const auto& spec : specs) {
    tensor x(spec.x, {1, C, H, W});
    for (std::int64_t i = 0; i < x.elements(); ++i) x.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(byte(rng));
    const std::int32_t xz = spec.x == dtype::i8 ? -5 : 123, yz = spec.x == dtype::i8 ? 3 : 131;

    xnn::qconv_params p;
    p.input_shape = x.shape();
    p.input_type = p.output_type = spec.x;
    p.input_scale = xs;
    p.input_zero_point = xz;
    p.weights = w;
    p.weight_scales = spec.per_channel ? ws : std::vector<float>{ws[0]};
    p.bias = bias;
    p.output_scale = ys;
    p.output_zero_point = yz;
    p.pads = {1, 1, 1, 1};
    auto conv = xnn::qconv2d::create(p);
    if (!conv) {
      std::fprintf(stderr, "%s: %s\n", spec.name, conv.error().message.c_str());
      return 1;
    }

    // The reference, once for checking (and timed once, on the first variant).
    node n;
    n.op_type = "QLinearConv";
    n.name = "bench";
    n.outputs = {"y"};
    attribute pads;
    pads.type = attribute::kind::ints;
    pads.ints = {1, 1, 1, 1};
    n.attributes["pads"] = pads;
    const tensor t_xs = scalar<float>(dtype::f32, xs), t_ys = scalar<float>(dtype::f32, ys);
    const tensor t_xz = spec.x == dtype::i8 ? scalar<std::int8_t>(dtype::i8, static_cast<std::int8_t>(xz))
                                            : scalar<std::uint8_t>(dtype::u8, static_cast<std::uint8_t>(xz));
    const tensor t_yz = spec.x == dtype::i8 ? scalar<std::int8_t>(dtype::i8, static_cast<std::int8_t>(yz))
                                            : scalar<std::uint8_t>(dtype::u8, static_cast<std::uint8_t>(yz));
    tensor t_ws(dtype::f32, {spec.per_channel ? M : 1});
    std::copy(p.weight_scales.begin(), p.weight_scales.end(), t_ws.data<float>());
    const tensor t_wz = scalar<std::int8_t>(dtype::i8, 0);
    kernel_context ctx{n, 13, {&x, &t_xs, &t_xz, &w, &t_ws, &t_wz, &t_ys, &t_yz, &bias}, {}};
    ctx.outputs.resize(1);
    auto run_reference = [&] {
      ctx.outputs[0] = tensor();
      if (!reference->run(ctx)) std::abort();
    };
    if (!reference_timed) {
      const double t = time_call(run_reference, 3);
      print_row("reference QLinearConv", 1, t, "");
      reference_timed = true;
    } else {
      run_reference();
    }
    const tensor want = ctx.outputs[0];

    std::vector<unsigned char> in(x.bytes() + xnn::input_slack_bytes), out(conv->output_bytes());
    if (!xnn::nchw_to_nhwc(x.raw(), in.data(), {1, C, H * W}, 1)) return 1;
    std::vector<unsigned char> got(want.bytes());
    for (int threads : {1, 2}) {
      const xnn::thread_pool& pool = threads == 1 ? pool1 : *pool2;
      const double t = time_call([&] { (void)conv->run(in.data(), out.data(), pool); }, samples);
      if (!xnn::nhwc_to_nchw(out.data(), got.data(), {1, M, H * W}, 1)) return 1;
      int worst = 0;
      for (std::size_t i = 0; i < got.size(); ++i) {
        const int a = spec.x == dtype::i8 ? static_cast<std::int8_t>(got[i]) : got[i];
        const int b = spec.x == dtype::i8 ? want.data<std::int8_t>()[i] : want.data<std::uint8_t>()[i];
        worst = std::max(worst, std::abs(a - b));
      }
      print_row(spec.name, threads, t, conv->describe() + ", max diff " + std::to_string(worst) + " LSB");
    }
  }

  // The layout conversions a NCHW graph edge costs around this layer (1 thread).
  std::vector<unsigned char> a(static_cast<std::size_t>(C * H * W) + xnn::input_slack_bytes), b(a.size());
  const double t_in = time_call([&] { (void)xnn::nchw_to_nhwc(a.data(), b.data(), {1, C, H * W}, 1); }, samples);
  const double t_out = time_call([&] { (void)xnn::nhwc_to_nchw(a.data(), b.data(), {1, C, H * W}, 1); }, samples);
  std::printf("layout u8 64x56x56: NCHW->NHWC %.1f us, NHWC->NCHW %.1f us\n", t_in * 1e6, t_out * 1e6);
  std::vector<float> fa(static_cast<std::size_t>(C * H * W)), fb(fa.size());
  const double f_in = time_call([&] { (void)xnn::nchw_to_nhwc(fa.data(), fb.data(), {1, C, H * W}, 4); }, samples);
  const double f_out = time_call([&] { (void)xnn::nhwc_to_nchw(fa.data(), fb.data(), {1, C, H * W}, 4); }, samples);
  std::printf("layout f32 64x56x56: NCHW->NHWC %.1f us, NHWC->NCHW %.1f us\n", f_in * 1e6, f_out * 1e6);
  return 0;
}
