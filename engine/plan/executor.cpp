// The executor of a plan: owns one arena, one scratch block and the per-executor instances
// of the plan's steps. run() binds the caller's buffers into the address table, sets the
// calling thread's OpenMP thread count and runs the steps in order; the only heap
// allocations it makes are those of reference-kernel steps (and inside oneDNN's execute).
//
// Threads: an executor runs on whichever thread calls run(), one call at a time.
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>

#include "engine/plan/plan_impl.hpp"
#include "engine/plan/threads.hpp"

namespace edgert::engine::planning {

namespace {

struct free_deleter {
  void operator()(void* p) const { std::free(p); }
};
using block = std::unique_ptr<void, free_deleter>;

block allocate_block(std::size_t bytes) {
  const std::size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) return block(nullptr);
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return block(p);
}

class executor_impl final : public executor {
 public:
  explicit executor_impl(std::shared_ptr<const plan_impl> p) : plan_(std::move(p)) {}

  result<void> prepare() {
    const plan_impl& p = *plan_;
    arena_ = allocate_block(p.arena_size);
    scratch_ = allocate_block(p.scratch_size);
    auto* base = static_cast<std::byte*>(arena_.get());
    address_.assign(p.buffers.size(), nullptr);
    dynamic_.resize(p.values.size());
    // Fixed addresses first; aliases follow their roots (a root always precedes its alias).
    for (std::size_t b = 0; b < p.buffers.size(); ++b) {
      const buffer& x = p.buffers[b];
      switch (x.where) {
        case home::arena: address_[b] = base + x.offset; break;
        case home::constant:
          address_[b] = const_cast<void*>(p.values[static_cast<std::size_t>(x.value)].constant->raw());
          break;
        case home::alias: address_[b] = address_[static_cast<std::size_t>(x.alias_of)]; break;
        case home::input:
        case home::output:
        case home::dynamic: break;
      }
      if (x.where == home::input || x.where == home::output) per_run_.push_back(static_cast<int>(b));
      else if (x.where == home::alias && !address_[b] && !is_dynamic_root(static_cast<int>(b)))
        per_run_.push_back(static_cast<int>(b));
    }
    instance_context ctx;
    ctx.buffers = &p.buffers;
    ctx.values = &p.values;
    ctx.fixed = &address_;
    ctx.scratch = scratch_.get();
    ctx.scratch_bytes = p.scratch_size;
    ctx.threads = p.compute_threads;
    thread_count_scope threads(p.compute_threads);
    for (const auto& s : p.steps) {
      auto inst = s->instantiate(ctx);
      if (!inst) return inst.error();
      instances_.push_back(std::move(*inst));
    }
    return {};
  }

  result<void> run(const std::vector<const void*>& inputs, const std::vector<void*>& outputs) override {
    const plan_impl& p = *plan_;
    if (inputs.size() != p.input_values.size())
      return fail(errc::invalid_argument, "executor::run: " + std::to_string(inputs.size()) + " inputs given, the plan has " +
                                              std::to_string(p.input_values.size()));
    if (outputs.size() != p.output_values.size())
      return fail(errc::invalid_argument, "executor::run: " + std::to_string(outputs.size()) + " outputs given, the plan has " +
                                              std::to_string(p.output_values.size()));
    for (std::size_t i = 0; i < inputs.size(); ++i)
      if (!inputs[i]) return fail(errc::invalid_argument, "executor::run: input " + std::to_string(i) + " is null");
    for (std::size_t j = 0; j < outputs.size(); ++j) {
      const bool dynamic = !p.values[static_cast<std::size_t>(p.output_values[j])].is_static;
      if (!outputs[j] && !dynamic)
        return fail(errc::invalid_argument, "executor::run: output " + std::to_string(j) + " is null");
      if (outputs[j] && dynamic)
        return fail(errc::invalid_argument, "executor::run: output " + std::to_string(j) +
                                                " has a shape known only at run time; pass null and use run(map)");
    }
    set_thread_count(p.compute_threads);
    for (int b : per_run_) {
      const buffer& x = p.buffers[static_cast<std::size_t>(b)];
      if (x.where == home::input) address_[static_cast<std::size_t>(b)] = const_cast<void*>(inputs[static_cast<std::size_t>(x.index)]);
      else if (x.where == home::output) address_[static_cast<std::size_t>(b)] = outputs[static_cast<std::size_t>(x.index)];
      else address_[static_cast<std::size_t>(b)] = address_[static_cast<std::size_t>(x.alias_of)];
    }
    run_context rc{address_.data(), &dynamic_};
    for (auto& s : instances_) {
      auto r = s->run(rc);
      if (!r) return r;
    }
    return {};
  }

  const plan& owner() const override { return *plan_; }

 protected:
  tensor run_time_output(std::size_t i) const override {
    const plan_impl& p = *plan_;
    if (i >= p.output_values.size()) return {};
    const int v = p.output_values[i];
    if (p.values[static_cast<std::size_t>(v)].is_static) return {};
    return dynamic_[static_cast<std::size_t>(v)];
  }

 private:
  bool is_dynamic_root(int b) const {
    const auto& bufs = plan_->buffers;
    while (bufs[static_cast<std::size_t>(b)].where == home::alias) b = bufs[static_cast<std::size_t>(b)].alias_of;
    return bufs[static_cast<std::size_t>(b)].where == home::dynamic;
  }

  std::shared_ptr<const plan_impl> plan_;
  block arena_, scratch_;
  std::vector<void*> address_;
  std::vector<tensor> dynamic_;
  std::vector<int> per_run_;  // buffers bound to caller memory at each run, roots before aliases
  std::vector<std::unique_ptr<step_instance>> instances_;
};

}  // namespace

result<std::unique_ptr<executor>> make_executor_for(std::shared_ptr<const plan_impl> p) {
  try {
    auto e = std::make_unique<executor_impl>(std::move(p));
    auto r = e->prepare();
    if (!r) return r.error();
    return std::unique_ptr<executor>(std::move(e));
  } catch (const std::bad_alloc&) {
    return fail(errc::out_of_memory, "plan::make_executor: out of memory");
  } catch (const std::exception& e) {
    return fail(errc::internal_error, std::string("plan::make_executor: ") + e.what());
  }
}

}  // namespace edgert::engine::planning
