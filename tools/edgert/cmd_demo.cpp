// edgert demo: the main job for now. Enumerates the simulated system, reconfigures a board
// with a visible pending -> ready transition, leases sub-devices, shows the lease from the
// listing and from a contending context, puts everything back as it found it, and serves
// the example models through a Runner and a Queue.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli.hpp"
#include "device_json.hpp"
#include "tensor_fill.hpp"

namespace edgert::cli {

namespace {

using clock_type = std::chrono::steady_clock;

long long ms_since(clock_type::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start).count();
}

// Polls device_ready() until the configuration settles, printing each poll's answer.
void poll_until_ready(Context& ctx, const std::string& device) {
  auto start = clock_type::now();
  auto deadline = start + std::chrono::seconds(60);
  int polls = 0;
  while (!ctx.device_ready(device)) {
    ++polls;
    if (polls <= 3 || polls % 10 == 0)
      std::cout << "  poll " << polls << " at " << ms_since(start) << " ms: pending\n";
    if (clock_type::now() > deadline) throw Timeout(device + " did not settle within 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::cout << "  poll " << polls + 1 << " at " << ms_since(start) << " ms: ready\n";
}

const DeviceInfo* first_configurable(const std::vector<DeviceInfo>& devices) {
  for (auto& d : devices)
    if (!d.clock_profiles_mhz.empty() && d.state == DeviceState::ready) return &d;
  return nullptr;
}

// Step 5: serves the project's example models (the committed MNIST CNNs: float32, QDQ
// int8, QLinear int8) with a Runner on the host device and a Queue on `board`.
void serve_example_models(Context& ctx, const std::string& board) {
  const std::filesystem::path examples = EDGERT_EXAMPLES_DIR;
  std::cout << "\n5. Serve the example models (" << examples.string() << ")\n";
  for (const char* name : {"mnist_cnn", "mnist_cnn_qdq", "mnist_cnn_qlinear"}) {
    const auto dir = examples / name;
    auto model = ctx.load_model(dir / "model.onnx");
    auto input = load_npy((dir / "input_0.npy").string());
    auto expected = load_npy((dir / "expected_output_0.npy").string());

    auto runner = ctx.create_runner(model);
    const auto start = clock_type::now();
    auto outputs = runner.run({input});
    const double host_ms =
        std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
    const bool same = summarize(outputs[0]).argmax == summarize(expected).argmax;
    std::printf("  %-18s runner on host: class %lld (%s the reference), %.3f ms\n", name,
                static_cast<long long>(summarize(outputs[0]).argmax),
                same ? "same as" : "DIFFERENT FROM", host_ms);
    runner.close();

    QueueOptions q;
    q.device = board;
    q.worker_num = 2;
    auto queue = ctx.create_queue(model, q);
    constexpr int requests = 16;
    for (int i = 0; i < requests; ++i) queue.submitter.submit({input}, static_cast<std::uint64_t>(i));
    queue.submitter.close();
    int ok = 0;
    double device_ms = 0;
    while (auto r = queue.receiver.next(std::chrono::seconds(30))) {
      ok += r->result.ok() ? 1 : 0;
      device_ms += static_cast<double>(r->result.device_time_ns) / 1e6;
    }
    std::printf("  %-18s queue on %s (2 sub-devices): %d/%d results, %.3f ms device time each\n",
                name, board.c_str(), ok, requests, device_ms / requests);
  }
}

}  // namespace

void add_demo_command(CLI::App& app, const global_options& g, int& status) {
  auto* cmd = app.add_subcommand("demo", "tour of the simulated system: devices, pending "
                                         "configuration, leases and contention");
  cmd->callback([&g, &status] {
    status = guarded([&] {
      auto options = g.context_options();
      Context ctx(options);
      auto devices = ctx.list_devices();
      std::cout << "edgert " << version() << " demo: " << devices.size()
                << " devices on the simulated system\n\n";
      print_device_table(std::cout, devices);

      auto* board = first_configurable(devices);
      if (!board) {
        std::cout << "\nno ready device with configurable clocks; nothing more to show\n";
        return exit_ok;
      }
      auto name = board->name;
      auto before = ctx.read_device_configuration(name);
      unsigned current = std::stoul(before.at("clock_profile"));
      const auto& profiles = board->clock_profiles_mhz;
      unsigned target = profiles.front() != current ? profiles.front() : profiles.back();

      std::cout << "\n1. Reconfigure " << name << " (" << board->product << ") from " << current
                << " MHz to " << target << " MHz\n";
      bool complete = ctx.configure_device(name, {{"clock_profile", target}});
      std::cout << "  configure_device -> " << (complete ? "complete" : "pending") << "\n";
      if (!complete) poll_until_ready(ctx, name);
      print_configuration(std::cout, name, ctx.read_device_configuration(name));

      unsigned want = std::min(2u, board->sub_devices);
      std::cout << "\n2. Lease " << want << " sub-device(s) of " << name << "\n";
      auto lease = ctx.device_connect(name, want);
      std::cout << "  connected sub-devices";
      for (auto s : lease.sub_devices()) std::cout << " " << s;
      std::cout << "\n";
      print_device_table(std::cout, ctx.list_devices());

      std::cout << "\n3. A second context asks for every sub-device of " << name << "\n";
      {
        Context other(options);
        try {
          auto all = other.device_connect(name, board->sub_devices);
          std::cout << "  unexpectedly granted\n";
        } catch (const DeviceInUse& e) {
          std::cout << "  DeviceInUse: " << e.what() << "\n";
        }
      }

      std::cout << "\n4. Release the lease and restore " << current << " MHz\n";
      lease.release();
      if (!ctx.configure_device(name, {{"clock_profile", current}})) {
        auto start = clock_type::now();
        ctx.wait_device_ready(name, std::chrono::seconds(60));
        std::cout << "  settled after " << ms_since(start) << " ms\n";
      }
      print_device_table(std::cout, ctx.list_devices());

      serve_example_models(ctx, name);
      return exit_ok;
    });
  });
}

}  // namespace edgert::cli
