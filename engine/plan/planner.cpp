#include "engine/plan/planner.hpp"

#include <algorithm>
#include <exception>
#include <new>

#include "engine/interpreter.hpp"
#include "engine/plan/arena.hpp"
#include "engine/plan/fold.hpp"
#include "engine/plan/int8/qgroups.hpp"
#include "engine/plan/output_copy.hpp"
#include "engine/plan/threads.hpp"

namespace edgert::engine::planning {

namespace {

bool fully_static(const std::optional<shape_t>& shape) {
  return shape && std::all_of(shape->begin(), shape->end(), [](std::int64_t d) { return d >= 0; });
}

std::string shape_text(const std::optional<shape_t>& shape) {
  if (!shape) return "unknown";
  std::string out = "[";
  for (std::size_t i = 0; i < shape->size(); ++i)
    out += (i ? ", " : "") + ((*shape)[i] < 0 ? std::string("?") : std::to_string((*shape)[i]));
  return out + "]";
}

}  // namespace

planner::planner(std::shared_ptr<const graph> g, const plan_options& options) : p_(std::make_shared<plan_impl>()) {
  p_->model = std::move(g);
  p_->opts = options;
}

result<std::shared_ptr<const plan>> planner::build() {
  if (!p_->model) return fail(errc::invalid_argument, "plan::create: no graph");
  if (p_->opts.threads < 1) return fail(errc::invalid_argument, "plan_options.threads must be at least 1");
  // The interpreter's checks define which graphs are runnable: fail exactly like it.
  auto checked = interpreter::create(p_->model);
  if (!checked) return checked.error();
  for (const auto& in : p_->model->inputs)
    if (!fully_static(in.shape))
      return fail(errc::invalid_argument, "graph input '" + in.name + "' has shape " + shape_text(in.shape) +
                                              "; a plan needs every input dimension at plan time");

  auto built = build_values();
  if (!built) return built.error();
  fold_tables ft{p_->model.get(), &p_->values, &node_inputs_, &node_outputs_, &folded_, &p_->folded};
  fold_constants(ft);
  count_consumers();
  view_ = model_view{p_->model.get(), &p_->values, &node_inputs_, &node_outputs_, &consumers_, &folded_};

  backends_.clear();
  if (p_->opts.fast_kernels) {
    backends_.push_back(make_int8_backend());
    if (auto b = make_onednn_backend(p_->opts)) backends_.push_back(std::move(b));
    backends_.push_back(make_loops_backend());
  }
  backends_.push_back(make_reference_backend());

  // Models under 20 M multiply-accumulates run single-threaded (plan_impl::compute_threads).
  count_cost();
  p_->compute_threads = p_->costs.macs < 20'000'000 ? 1 : p_->opts.threads;
  p_->costs = plan_cost{};
  // oneDNN compiles its kernels for the thread count in force while it creates them.
  thread_count_scope threads(p_->compute_threads);
  try {
    auto lowered = lower_all();
    if (!lowered) return lowered.error();
    auto bound = bind_outputs();
    if (!bound) return bound.error();
  } catch (const std::bad_alloc&) {
    return fail(errc::out_of_memory, "plan::create: out of memory");
  } catch (const std::exception& e) {
    return fail(errc::internal_error, std::string("plan::create: ") + e.what());
  }
  place_buffers();
  count_cost();
  return std::shared_ptr<const plan>(p_);
}

result<void> planner::build_values() {
  const graph& g = *p_->model;
  auto add = [&](const std::string& name) -> int {
    auto [it, inserted] = ids_.emplace(name, static_cast<int>(p_->values.size()));
    if (inserted) {
      value v;
      v.name = name;
      auto info = g.values.find(name);
      if (info != g.values.end()) {
        v.type = info->second.type;
        v.is_static = fully_static(info->second.shape) && is_supported(v.type);
        if (v.is_static) v.shape = *info->second.shape;
      }
      p_->values.push_back(std::move(v));
    }
    return it->second;
  };
  for (const auto& [name, t] : g.initializers) {
    value& v = p_->values[static_cast<std::size_t>(add(name))];
    v.constant = &t;
    v.type = t.type();
    v.shape = t.shape();
    v.is_static = true;
  }
  for (std::size_t i = 0; i < g.inputs.size(); ++i) {
    value& v = p_->values[static_cast<std::size_t>(add(g.inputs[i].name))];
    v.input_index = static_cast<int>(i);
    v.type = g.inputs[i].type;
    v.shape = *g.inputs[i].shape;
    v.is_static = true;
    p_->input_values.push_back(ids_[g.inputs[i].name]);
    p_->input_infos.push_back(g.inputs[i]);
  }
  for (const auto& n : g.nodes) {
    std::vector<int> ins, outs;
    for (const auto& name : n.inputs) ins.push_back(name.empty() ? -1 : ids_.at(name));
    for (const auto& name : n.outputs) outs.push_back(name.empty() ? -1 : add(name));
    node_inputs_.push_back(std::move(ins));
    node_outputs_.push_back(std::move(outs));
  }
  for (std::size_t j = 0; j < g.outputs.size(); ++j) {
    const int id = ids_.at(g.outputs[j].name);
    p_->values[static_cast<std::size_t>(id)].output_indices.push_back(static_cast<int>(j));
    p_->output_values.push_back(id);
  }
  folded_.assign(g.nodes.size(), false);
  claimed_.assign(g.nodes.size(), false);
  lowered_.assign(g.nodes.size(), false);
  output_bound_.assign(g.outputs.size(), false);
  return {};
}

void planner::count_consumers() {
  consumers_.assign(p_->values.size(), {});
  for (std::size_t i = 0; i < node_inputs_.size(); ++i) {
    if (folded_[i]) continue;
    for (int v : node_inputs_[i]) {
      if (v < 0) continue;
      ++p_->values[static_cast<std::size_t>(v)].consumers;
      auto& readers = consumers_[static_cast<std::size_t>(v)];
      if (readers.empty() || readers.back() != static_cast<int>(i)) readers.push_back(static_cast<int>(i));
    }
  }
  // Constants that something at run time reads, and graph inputs, get their buffers now.
  for (std::size_t v = 0; v < p_->values.size(); ++v) {
    value& x = p_->values[v];
    const bool used = x.consumers > 0 || !x.output_indices.empty();
    if (x.constant && used && x.input_index < 0) {
      buffer b;
      b.value = static_cast<int>(v);
      b.lay = layout::plain(x.shape, x.type);
      b.where = home::constant;
      x.buffers.push_back(static_cast<int>(p_->buffers.size()));
      p_->buffers.push_back(std::move(b));
    } else if (x.input_index >= 0) {
      buffer b;
      b.value = static_cast<int>(v);
      b.lay = layout::plain(x.shape, x.type);
      b.where = home::input;
      b.index = x.input_index;
      x.buffers.push_back(static_cast<int>(p_->buffers.size()));
      p_->buffers.push_back(std::move(b));
    }
  }
}

result<void> planner::lower_all() {
  const graph& g = *p_->model;
  const std::size_t n = g.nodes.size();
  // Each group runs where its last node stood: every input of every member exists by then,
  // and the members' intermediate values have no reader outside the group.
  std::vector<std::vector<node_group>> at(n);
  // Quantized groups first: they take the DequantizeLinear nodes in front of their anchors.
  if (p_->opts.fast_kernels)
    for (auto& gr : int8::match_quantized(view_, claimed_)) {
      const int last = *std::max_element(gr.nodes.begin(), gr.nodes.end());
      at[static_cast<std::size_t>(last)].push_back(std::move(gr));
    }
  for (std::size_t i = 0; i < n; ++i) {
    if (folded_[i] || claimed_[i]) continue;
    node_group gr = p_->opts.fast_kernels ? match_group(view_, static_cast<int>(i), claimed_)
                                          : single(view_, static_cast<int>(i));
    int last = 0;
    for (int m : gr.nodes) {
      claimed_[static_cast<std::size_t>(m)] = true;
      last = std::max(last, m);
    }
    at[static_cast<std::size_t>(last)].push_back(std::move(gr));
  }
  for (std::size_t i = 0; i < n; ++i)
    for (const auto& gr : at[i]) {
      auto r = lower_group(gr);
      if (!r) return r;
    }
  return {};
}

result<bool> planner::offer(const node_group& g) {
  for (auto& b : backends_) {
    auto taken = b->lower(g, *this);
    if (!taken) return taken.error();
    if (*taken) {
      for (int m : g.nodes) lowered_[static_cast<std::size_t>(m)] = true;
      return true;
    }
  }
  return false;
}

result<void> planner::lower_group(const node_group& g) {
  auto taken = offer(g);
  if (!taken) return taken.error();
  if (*taken) return {};
  if (auto shorter = without_residual(view_, g)) {
    auto r = lower_group(*shorter);
    if (!r) return r;
    // The residual Add and what follows it form a group of their own.
    std::vector<bool> claimed = claimed_;
    for (std::size_t k = shorter->nodes.size(); k < g.nodes.size(); ++k)
      claimed[static_cast<std::size_t>(g.nodes[k])] = false;
    node_group rest = match_group(view_, g.residual_add, claimed);
    if (rest.nodes.size() + shorter->nodes.size() != g.nodes.size()) rest = single(view_, g.residual_add);
    r = lower_group(rest);
    if (!r) return r;
    for (int m : g.nodes)
      if (!lowered_[static_cast<std::size_t>(m)]) {
        r = lower_group(single(view_, m));
        if (!r) return r;
      }
    return {};
  }
  if (g.nodes.size() > 1) {
    for (int m : g.nodes) {
      auto r = lower_group(single(view_, m));
      if (!r) return r;
    }
    return {};
  }
  return fail(errc::internal_error, "plan::create: no backend took " + p_->model->nodes[static_cast<std::size_t>(g.anchor)].describe());
}

const layout& planner::primary_layout(int v) const {
  const value& x = val(v);
  return buf(x.buffers.at(0)).lay;
}

int planner::new_buffer(int v, const layout& l) {
  value& x = p_->values[static_cast<std::size_t>(v)];
  buffer b;
  b.value = v;
  b.lay = l;
  if (!x.is_static) {
    b.where = home::dynamic;
  } else if (l.is_plain() && !x.output_indices.empty() && x.input_index < 0 && !x.constant &&
             !output_bound_[static_cast<std::size_t>(x.output_indices[0])]) {
    // The caller's output buffer is where the plain form of a graph output lives.
    b.where = home::output;
    b.index = x.output_indices[0];
    output_bound_[static_cast<std::size_t>(b.index)] = true;
  } else {
    b.where = home::arena;
  }
  const int id = static_cast<int>(p_->buffers.size());
  p_->buffers.push_back(std::move(b));
  x.buffers.push_back(id);
  return id;
}

result<int> planner::buffer_in(int v, const layout& l) {
  const value& x = val(v);
  if (x.buffers.empty())
    return fail(errc::internal_error, "plan::create: value '" + x.name + "' is read before it is planned");
  for (int b : x.buffers)
    if (buf(b).lay.key == l.key) return b;
  if (!x.is_static)
    return fail(errc::internal_error, "plan::create: value '" + x.name + "' has a run-time shape and only a plain layout");
  const int from = x.buffers[0];
  const int to = new_buffer(v, l);
  for (auto& b : backends_)
    if (auto s = b->convert(from, to, *this)) {
      emit(std::move(s));
      return to;
    }
  return fail(errc::internal_error, "plan::create: no backend converts '" + x.name + "' from " +
                                        buf(from).lay.name(x.shape.size()) + " to " + l.name(x.shape.size()));
}

int planner::define(int v, const layout& l) { return new_buffer(v, l); }

int planner::define_alias(int v, int source) {
  value& x = p_->values[static_cast<std::size_t>(v)];
  const buffer& src = buf(source);
  buffer b;
  b.value = v;
  b.lay = src.lay.is_plain() || x.shape != val(src.value).shape ? layout::plain(x.shape, x.type) : src.lay;
  b.where = home::alias;
  b.alias_of = source;
  const int id = static_cast<int>(p_->buffers.size());
  p_->buffers.push_back(std::move(b));
  x.buffers.push_back(id);
  return id;
}

int planner::define_output_slot(int v, int index) {
  value& x = p_->values[static_cast<std::size_t>(v)];
  buffer b;
  b.value = v;
  b.lay = layout::plain(x.shape, x.type);
  b.where = home::output;
  b.index = index;
  output_bound_[static_cast<std::size_t>(index)] = true;
  const int id = static_cast<int>(p_->buffers.size());
  p_->buffers.push_back(std::move(b));
  x.buffers.push_back(id);
  return id;
}

bool planner::can_overwrite(int v, int b, int only_reader) const {
  const value& x = val(v);
  if (!x.is_static || buf(b).value != v) return false;
  const int root = root_of(b);
  if (buf(root).where != home::arena) return false;
  // Every value whose bytes these are (the value itself, what it aliases, what aliases it)
  // must have no reader left but `only_reader`, and none may be a graph output.
  for (std::size_t c = 0; c < p_->buffers.size(); ++c) {
    if (root_of(static_cast<int>(c)) != root) continue;
    const int owner = p_->buffers[c].value;
    const value& o = val(owner);
    if (o.constant || o.input_index >= 0 || !o.output_indices.empty()) return false;
    for (int reader : consumers_[static_cast<std::size_t>(owner)])
      if (reader != only_reader && !lowered_[static_cast<std::size_t>(reader)]) return false;
  }
  return true;
}

bool planner::dies_at(int v, int only_reader) const {
  const value& x = val(v);
  if (x.constant || x.input_index >= 0 || !x.output_indices.empty() || !x.is_static) return false;
  for (int reader : consumers_[static_cast<std::size_t>(v)])
    if (reader != only_reader && !lowered_[static_cast<std::size_t>(reader)]) return false;
  return true;
}

void planner::emit(std::unique_ptr<step> s) { p_->steps.push_back(std::move(s)); }

result<void> planner::bind_outputs() {
  for (std::size_t j = 0; j < p_->output_values.size(); ++j) {
    const int v = p_->output_values[j];
    const value& x = val(v);
    bool bound = false;
    for (int b : x.buffers)
      bound = bound || (buf(b).where == home::output && buf(b).index == static_cast<int>(j));
    if (bound) continue;
    if (x.buffers.empty())
      return fail(errc::internal_error, "plan::create: graph output '" + x.name + "' was never planned");
    // A plain buffer that exists already is copied at the end; otherwise the value is
    // converted into a plain buffer, which is the caller's memory when it is still free.
    int plain = -1;
    for (int b : x.buffers)
      if (buf(b).lay.is_plain()) {
        plain = b;
        break;
      }
    if (plain < 0) {
      auto converted = buffer_in(v, layout::plain(x.shape, x.type));
      if (!converted) return converted.error();
      plain = *converted;
      if (buf(plain).where == home::output && buf(plain).index == static_cast<int>(j)) continue;
    }
    emit(make_output_copy(plain, static_cast<int>(j), *this));
  }
  for (std::size_t j = 0; j < p_->output_values.size(); ++j) {
    value_info info = p_->model->outputs[j];
    const value& x = val(p_->output_values[j]);
    if (x.is_static) {
      info.shape = x.shape;
      info.type = x.type;
    }
    p_->output_infos.push_back(std::move(info));
  }
  return {};
}

int planner::root_of(int b) const {
  while (buf(b).where == home::alias) b = buf(b).alias_of;
  return b;
}

void planner::place_buffers() {
  auto& bufs = p_->buffers;
  auto touch = [&](int b, int s) {
    buffer& x = bufs[static_cast<std::size_t>(b)];
    x.first = x.first < 0 ? s : std::min(x.first, s);
    x.last = std::max(x.last, s);
  };
  for (std::size_t s = 0; s < p_->steps.size(); ++s) {
    for (int b : p_->steps[s]->reads)
      if (b >= 0) touch(b, static_cast<int>(s));
    for (int b : p_->steps[s]->writes)
      if (b >= 0) touch(b, static_cast<int>(s));
  }
  // An alias keeps the bytes it shares alive for as long as it is used.
  for (std::size_t b = 0; b < bufs.size(); ++b) {
    if (bufs[b].where != home::alias || bufs[b].first < 0) continue;
    const int root = root_of(static_cast<int>(b));
    touch(root, bufs[b].first);
    touch(root, bufs[b].last);
  }
  std::vector<arena_request> requests;
  std::vector<std::size_t> which;
  for (std::size_t b = 0; b < bufs.size(); ++b) {
    if (bufs[b].where != home::arena || bufs[b].first < 0) continue;
    requests.push_back({bufs[b].lay.bytes, bufs[b].first, std::max(bufs[b].first, bufs[b].last)});
    which.push_back(b);
  }
  const arena_layout placed = assign_offsets(requests);
  for (std::size_t r = 0; r < which.size(); ++r) bufs[which[r]].offset = placed.offsets[r];
  p_->arena_size = placed.total;
  for (const auto& s : p_->steps) p_->scratch_size = std::max(p_->scratch_size, s->scratch_bytes());
}

void planner::count_cost() {
  const graph& g = *p_->model;
  plan_cost& c = p_->costs;
  auto shape_of = [&](int v) -> const shape_t* {
    if (v < 0 || !val(v).is_static) return nullptr;
    return &val(v).shape;
  };
  auto product = [](const shape_t& s, std::size_t from) {
    std::uint64_t p = 1;
    for (std::size_t i = from; i < s.size(); ++i) p *= static_cast<std::uint64_t>(s[i]);
    return p;
  };
  std::vector<bool> weight_counted(p_->values.size(), false);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (folded_[i]) continue;
    const node& n = g.nodes[i];
    const auto& ins = node_inputs_[i];
    const auto& outs = node_outputs_[i];
    for (int v : ins)
      if (v >= 0 && val(v).constant && !weight_counted[static_cast<std::size_t>(v)]) {
        weight_counted[static_cast<std::size_t>(v)] = true;
        c.weight_bytes += val(v).constant->bytes();
      }
    if (!n.domain.empty() || outs.empty()) continue;
    auto in = [&](std::size_t k) { return k < ins.size() ? shape_of(ins[k]) : nullptr; };
    const shape_t* y = shape_of(outs[0]);
    if (n.op_type == "Conv" || n.op_type == "ConvInteger" || n.op_type == "QLinearConv") {
      const shape_t* w = in(n.op_type == "QLinearConv" ? 3 : 1);
      if (y && w && w->size() >= 2) c.macs += element_count(*y) * product(*w, 1);
    } else if (n.op_type == "ConvTranspose") {
      const shape_t* x = in(0);
      const shape_t* w = in(1);
      if (x && w && w->size() >= 2) c.macs += element_count(*x) * product(*w, 1);
    } else if (n.op_type == "Gemm") {
      const shape_t* a = in(0);
      if (y && a && a->size() == 2)
        c.macs += element_count(*y) * static_cast<std::uint64_t>(n.get_int("transA", 0) ? (*a)[0] : (*a)[1]);
    } else if (n.op_type == "MatMul" || n.op_type == "MatMulInteger" || n.op_type == "QLinearMatMul") {
      const shape_t* a = in(0);
      if (y && a && !a->empty()) c.macs += element_count(*y) * static_cast<std::uint64_t>(a->back());
    }
  }
  for (int v : p_->input_values)
    c.input_bytes += static_cast<std::uint64_t>(element_count(val(v).shape)) * size_of(val(v).type);
  for (int v : p_->output_values)
    if (val(v).is_static) c.output_bytes += static_cast<std::uint64_t>(element_count(val(v).shape)) * size_of(val(v).type);
}

result<std::shared_ptr<const plan>> build_plan(std::shared_ptr<const graph> g, const plan_options& options) {
  planner p(std::move(g), options);
  return p.build();
}

}  // namespace edgert::engine::planning
