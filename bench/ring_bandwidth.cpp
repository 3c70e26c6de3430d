// ring_bandwidth: how fast 1 MiB tensors move through a Queue on the host device, next to
// this machine's memcpy bandwidth measured in the same run.
//
// Two one-node models of a float32 [1, 262144] tensor (1 MiB) are built in memory:
//
//   ring  Shape: the plan folds it, so the device never reads the tensor and the data path
//         alone is timed. allocate: the producer writes its tensor straight into the slot
//         (memset; zero copies by the runtime). submit: submit(inputs) copies it in.
//   relu  Relu (1 MiB out too): the model's own pass over the data, the host device's
//         "transfer" (the producer writes non-negative values, so it echoes its input).
//         allocate: in place, and Receiver::recv_view() hands out the output in the slot
//         (zero copies). submit: a copy in and Receiver::recv() copies the output out.
//
// The yardstick is memcpy of 1 MiB blocks on one thread over as many distinct buffers as the
// queue has slots. Bandwidth is tensor bytes submitted per second; target: ring allocate
// >= 80 % of memcpy.
//
//   ring_bandwidth [--count N] [--rounds N] [--queue N] [--mib N]
//
// Threads: a submitter and a receiver thread per measurement; memcpy on the main thread.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "edgert/edgert.hpp"
#include "latency_stats.hpp"
#include "scratch_dir.hpp"

namespace {

struct options {
  long count = 2000;  // requests per measurement
  int rounds = 5;
  unsigned queue = 8;
  unsigned mib = 1;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--count" && has_value) o.count = std::atol(argv[++i]);
    else if (a == "--rounds" && has_value) o.rounds = std::atoi(argv[++i]);
    else if (a == "--queue" && has_value) o.queue = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--mib" && has_value) o.mib = static_cast<unsigned>(std::atoi(argv[++i]));
    else {
      std::printf("usage: ring_bandwidth [--count N] [--rounds N] [--queue N] [--mib N]\n");
      std::exit(a == "--help" || a == "-h" ? 0 : 2);
    }
  }
  if (o.count < 1 || o.rounds < 1 || o.queue < 1 || o.mib < 1 || o.mib > 256) {
    std::fprintf(stderr, "ring_bandwidth: counts must be positive, --mib 1 to 256\n");
    std::exit(2);
  }
  return o;
}

// --- A minimal protobuf writer, enough for a one-node ONNX model. --------------------------

std::string varint(std::uint64_t v) {
  std::string out;
  do {
    unsigned char b = v & 0x7f;
    v >>= 7;
    if (v) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (v);
  return out;
}
std::string number_field(int field, std::uint64_t v) {
  return varint(static_cast<std::uint64_t>(field) << 3) + varint(v);
}
std::string bytes_field(int field, const std::string& b) {
  return varint((static_cast<std::uint64_t>(field) << 3) | 2) + varint(b.size()) + b;
}

// ValueInfoProto{name, type{tensor_type{elem_type, shape{dim 1, dim n}}}}
std::string value_info(const std::string& name, int elem_type, std::uint64_t n) {
  const std::string shape = bytes_field(1, number_field(1, 1)) + bytes_field(1, number_field(1, n));
  const std::string tensor_type = number_field(1, static_cast<std::uint64_t>(elem_type)) + bytes_field(2, shape);
  return bytes_field(1, name) + bytes_field(2, bytes_field(1, tensor_type));
}

// ModelProto (IR 8, opset 13) of one node `op` from float[1, n] "input" to "output":
// Relu gives float[1, n]; Shape gives int64[1, 2] (the plan folds it: the input is not read).
std::string one_node_model(const std::string& op, std::uint64_t n) {
  const bool relu = op == "Relu";
  const std::string node = bytes_field(1, "input") + bytes_field(2, "output") +
                           bytes_field(3, "node") + bytes_field(4, op);
  std::string output = relu ? value_info("output", 1, n) : value_info("output", 7, 2);
  if (!relu) {  // Shape's output is 1-D: int64[2]
    const std::string shape = bytes_field(1, number_field(1, 2));
    output = bytes_field(1, "output") + bytes_field(2, bytes_field(1, number_field(1, 7) + bytes_field(2, shape)));
  }
  const std::string graph = bytes_field(1, node) + bytes_field(2, "ring_bandwidth") +
                            bytes_field(11, value_info("input", 1, n)) + bytes_field(12, output);
  const std::string opset = bytes_field(1, "") + number_field(2, 13);
  return number_field(1, 8) + bytes_field(2, "edgert bench") + bytes_field(7, graph) +
         bytes_field(8, opset);
}

// --- Measurements ---------------------------------------------------------------------------

double gbps(double bytes, double seconds) { return bytes / seconds / 1e9; }

// memcpy of `bytes` blocks from and to `buffers` distinct places, `count` times.
double memcpy_gbps(std::size_t bytes, unsigned buffers, long count) {
  std::vector<std::unique_ptr<unsigned char[]>> src, dst;
  for (unsigned i = 0; i < buffers; ++i) {
    src.emplace_back(new unsigned char[bytes]);
    dst.emplace_back(new unsigned char[bytes]);
    std::memset(src.back().get(), static_cast<int>(i), bytes);
    std::memset(dst.back().get(), 0, bytes);
  }
  const auto t0 = bench::steady::now();
  for (long n = 0; n < count; ++n) {
    const auto i = static_cast<std::size_t>(n) % buffers;
    std::memcpy(dst[i].get(), src[i].get(), bytes);
  }
  const double s = std::chrono::duration<double>(bench::steady::now() - t0).count();
  volatile unsigned char sink = dst[0][bytes / 2];
  (void)sink;
  return gbps(static_cast<double>(bytes) * static_cast<double>(count), s);
}

struct queue_run {
  double gbps = 0;
  long wrong = 0;  // results that failed or do not echo their input
};

// `echo`: the model returns its input (Relu of non-negative values); checked per result.
queue_run queue_gbps(edgert::Context& ctx, const edgert::Model& model, const options& o,
                     bool allocate, bool echo) {
  edgert::QueueOptions qo;
  qo.device = "host";
  qo.input_queue_size = o.queue;
  qo.output_queue_size = o.queue;
  auto queue = ctx.create_queue(model, qo);
  const auto bytes = model.inputs()[0].size_bytes();
  std::vector<edgert::Tensor> inputs;
  inputs.emplace_back(model.inputs()[0].dtype, model.inputs()[0].shape);
  queue_run r;
  const auto t0 = bench::steady::now();
  std::thread submitter([&] {
    for (long n = 0; n < o.count; ++n) {
      const int fill = static_cast<int>(n & 0x7f);
      if (allocate) {
        auto slot = queue.submitter.allocate();
        std::memset(slot[0].data(), fill, bytes);  // the producer's data, made in place
        queue.submitter.submit(std::move(slot), static_cast<std::uint64_t>(n));
      } else {
        std::memset(inputs[0].data(), fill, 64);  // mark it; the rest stays as it was
        queue.submitter.submit(inputs, static_cast<std::uint64_t>(n));
      }
    }
    queue.submitter.close();
  });
  long received = 0;
  for (;;) {
    std::optional<edgert::Received> got;
    try {
      got = allocate ? queue.receiver.recv_view(std::chrono::seconds(60))
                     : queue.receiver.recv(std::chrono::seconds(60));
    } catch (const edgert::Closed&) {
      break;  // the submitter closed and every result was received
    }
    ++received;
    if (!got->result.ok()) {
      ++r.wrong;
      continue;
    }
    const auto* out = static_cast<const unsigned char*>(got->result.outputs[0].data());
    if (echo && out[0] != static_cast<unsigned char>(got->context & 0x7f)) ++r.wrong;
  }
  submitter.join();
  const double s = std::chrono::duration<double>(bench::steady::now() - t0).count();
  r.gbps = gbps(static_cast<double>(bytes) * static_cast<double>(received), s);
  if (received != o.count) r.wrong += o.count - received;
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse(argc, argv);
  try {
    scratch_dir runtime;
    edgert::Context ctx(host_only_options(runtime));
    const std::uint64_t elements = std::uint64_t{o.mib} * (1u << 20) / 4;
    auto shape_model = ctx.load_model_from_bytes(one_node_model("Shape", elements));
    auto relu_model = ctx.load_model_from_bytes(one_node_model("Relu", elements));
    const std::size_t bytes = relu_model.inputs()[0].size_bytes();

    // columns: memcpy, ring allocate, ring submit, relu allocate/recv_view, relu submit/recv
    std::vector<std::vector<double>> runs(5);
    long wrong = 0;
    queue_gbps(ctx, relu_model, {200, 1, o.queue, o.mib}, true, true);  // warm-up
    for (int round = 0; round < o.rounds; ++round) {
      runs[0].push_back(memcpy_gbps(bytes, o.queue, o.count));
      const queue_run measured[] = {queue_gbps(ctx, shape_model, o, true, false),
                                    queue_gbps(ctx, shape_model, o, false, false),
                                    queue_gbps(ctx, relu_model, o, true, true),
                                    queue_gbps(ctx, relu_model, o, false, true)};
      for (int i = 0; i < 4; ++i) {
        runs[static_cast<std::size_t>(i) + 1].push_back(measured[i].gbps);
        wrong += measured[i].wrong;
      }
      std::printf("round %d: memcpy %.2f, ring allocate %.2f, ring submit %.2f, relu allocate %.2f, "
                  "relu submit %.2f GB/s\n", round + 1, runs[0].back(), runs[1].back(),
                  runs[2].back(), runs[3].back(), runs[4].back());
    }
    const double m = median(runs[0]);
    std::printf("%u MiB tensors, queues of %u, %ld requests per measurement, median of %d rounds\n",
                o.mib, o.queue, o.count, o.rounds);
    std::printf("memcpy                   %6.2f GB/s (one thread, %u buffer pairs)\n", m, o.queue);
    const char* rows[] = {
        "ring, allocate()         %6.2f GB/s = %5.1f %% of memcpy (written in place: zero copies)\n",
        "ring, submit()           %6.2f GB/s = %5.1f %% of memcpy (one copy in)\n",
        "relu, allocate/recv_view %6.2f GB/s = %5.1f %% of memcpy (zero copies; the model's pass)\n",
        "relu, submit/recv        %6.2f GB/s = %5.1f %% of memcpy (a copy in, the pass, a copy out)\n"};
    for (int i = 0; i < 4; ++i) {
      const double g = median(runs[static_cast<std::size_t>(i) + 1]);
      std::printf(rows[i], g, 100 * g / m);
    }
    const double ring = median(runs[1]);
    std::printf("target: ring allocate() >= 80 %% of memcpy: %s\n", ring >= 0.8 * m ? "met" : "MISSED");
    if (wrong) {
      std::printf("ERROR: %ld results failed, were lost or did not echo their input\n", wrong);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ring_bandwidth: %s\n", e.what());
    return 1;
  }
}
