#include "engine/plan/output_copy.hpp"

#include <cstring>

namespace edgert::engine::planning {

namespace {

class output_copy_instance final : public step_instance {
 public:
  output_copy_instance(int from, int to, int value, std::size_t bytes, bool dynamic)
      : from_(from), to_(to), value_(value), bytes_(bytes), dynamic_(dynamic) {}

  result<void> run(run_context& rc) override {
    void* dst = rc.address[to_];
    if (dynamic_) {
      // The shape is known only now; run(map) reads the tensor itself, a raw caller passes null.
      if (!dst) return {};
      const tensor& t = (*rc.dynamic)[static_cast<std::size_t>(value_)];
      std::memcpy(dst, t.raw(), t.bytes());
      return {};
    }
    std::memcpy(dst, rc.address[from_], bytes_);
    return {};
  }

 private:
  int from_, to_, value_;
  std::size_t bytes_;
  bool dynamic_;
};

class output_copy_step final : public step {
 public:
  int from = -1, to = -1, value = -1;
  std::size_t bytes = 0;
  bool dynamic = false;

  result<std::unique_ptr<step_instance>> instantiate(const instance_context&) const override {
    return std::unique_ptr<step_instance>(std::make_unique<output_copy_instance>(from, to, value, bytes, dynamic));
  }
};

}  // namespace

std::unique_ptr<step> make_output_copy(int from, int index, lowering_context& ctx) {
  auto s = std::make_unique<output_copy_step>();
  const buffer src = ctx.buf(from);
  const value& x = ctx.val(src.value);
  s->from = from;
  s->value = src.value;
  s->dynamic = src.where == home::dynamic;
  s->bytes = s->dynamic ? 0 : src.lay.bytes;
  s->label = x.name + " -> output " + std::to_string(index);
  s->op = "Copy";
  s->backend = "plan";
  s->reads = {from};
  s->to = ctx.define_output_slot(src.value, index);
  s->writes = {s->to};
  return s;
}

}  // namespace edgert::engine::planning
