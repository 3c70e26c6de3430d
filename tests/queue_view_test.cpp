// Receiver::recv_view: results whose outputs view the request's slot (zero copies), and the
// slot's return to the queue when the last of those tensors goes. Runs the committed
// identity model on the host device; the reject policy makes a held slot observable
// without waiting.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "edgert/edgert.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert;
using namespace std::chrono_literals;

struct identity_queue {
  test::temp_dir runtime;
  Context ctx;
  Model model;
  Queue queue;

  // One request may wait and one result may be unread: 1 + 1 + 1 worker = 3 slots.
  identity_queue()
      : ctx(options(runtime)),
        model(ctx.load_model(std::filesystem::path(EDGERT_TEST_DATA_DIR) / "models" / "identity" /
                             "model.onnx")),
        queue(ctx.create_queue(model, queue_options())) {}

  static ContextOptions options(const test::temp_dir& dir) {
    ContextOptions o;
    o.system = "host";
    o.board_config_dir = test::board_config_dir().string();
    o.runtime_dir = dir.path().string();
    return o;
  }
  static QueueOptions queue_options() {
    QueueOptions o;
    o.input_queue_size = 1;
    o.output_queue_size = 1;
    o.overflow = Overflow::reject;
    return o;
  }

  // Submits a request whose 16 floats are all `value`.
  void submit(float value, std::uint64_t context) {
    auto slot = queue.submitter.allocate();
    auto* f = static_cast<float*>(slot[0].data());
    for (int i = 0; i < 16; ++i) f[i] = value;
    queue.submitter.submit(std::move(slot), context);
  }
};

}  // namespace

SCENARIO("recv_view returns outputs that view the slot and echo the input") {
  identity_queue q;
  q.submit(2.5f, 41);
  auto got = q.queue.receiver.recv_view(5s);
  REQUIRE(got.result.ok());
  CHECK(got.context == 41);
  REQUIRE(got.result.outputs.size() == 1);
  const auto& out = got.result.outputs[0];
  CHECK(out.shape() == Shape{1, 16});
  for (int i = 0; i < 16; ++i) CHECK(out.data_as<float>()[i] == 2.5f);
}

SCENARIO("a slot held by recv_view outputs returns to the queue with the last copy") {
  identity_queue q;
  std::vector<Tensor> held;
  for (int i = 0; i < 3; ++i) {  // every slot ends up held by a result
    q.submit(static_cast<float>(i), static_cast<std::uint64_t>(i));
    auto got = q.queue.receiver.recv_view(5s);
    REQUIRE(got.result.ok());
    held.push_back(got.result.outputs[0]);  // a copy shares the slot
  }
  CHECK_THROWS_AS(q.queue.submitter.allocate(), QueueFull);
  CHECK(held[1].data_as<float>()[0] == 1.0f);  // still readable: nothing reused the slot
  held.erase(held.begin());                    // the last copy of result 0 goes
  q.submit(7.0f, 7);
  auto got = q.queue.receiver.recv_view(5s);
  REQUIRE(got.result.ok());
  CHECK(got.result.outputs[0].data_as<float>()[3] == 7.0f);
}
