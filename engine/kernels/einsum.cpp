// Einsum reference kernel: parses the equation into global axes (the broadcast ellipsis axes
// first, then one per distinct label) and evaluates the sum of products by walking every
// output position and every summed position. Correctness over speed.
// The kernels keep no state between calls; any thread may run them.
#include "engine/kernels/einsum.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/kernels/dispatch.hpp"

namespace edgert::engine {

namespace {

// One operand's subscripts: labels in order, with the ellipsis position (or -1).
struct term {
  std::string labels;  // letters only
  int ellipsis_at = -1;  // index in `labels` where '...' stands, -1 if absent
};

bool parse_term(const std::string& text, term& t, std::string& error) {
  for (std::size_t i = 0; i < text.size();) {
    const char ch = text[i];
    if (ch == '.') {
      if (text.compare(i, 3, "...") != 0 || t.ellipsis_at >= 0) {
        error = "malformed ellipsis in '" + text + "'";
        return false;
      }
      t.ellipsis_at = static_cast<int>(t.labels.size());
      i += 3;
    } else if (std::isalpha(static_cast<unsigned char>(ch))) {
      t.labels.push_back(ch);
      ++i;
    } else {
      error = std::string("unexpected character '") + ch + "' in '" + text + "'";
      return false;
    }
  }
  return true;
}

struct plan {
  std::vector<std::int64_t> extent;             // per global axis
  std::vector<std::size_t> out_axes;            // global axes of the output, in order
  std::vector<std::size_t> sum_axes;            // global axes summed over
  std::vector<std::vector<std::int64_t>> strides;  // [operand][global axis], 0 if unused
  shape_t out_shape;
};

result<plan> make_plan(const kernel_context& ctx, const std::string& equation) {
  std::string eq;
  for (char ch : equation)
    if (!std::isspace(static_cast<unsigned char>(ch))) eq.push_back(ch);
  const auto arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<term> terms;
  std::string error;
  for (std::size_t start = 0;;) {
    const auto comma = lhs.find(',', start);
    term t;
    if (!parse_term(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start), t, error))
      return ctx.invalid("equation '" + equation + "': " + error);
    terms.push_back(t);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != ctx.inputs.size())
    return ctx.invalid("equation '" + equation + "' names " + std::to_string(terms.size()) + " operands but " +
                       std::to_string(ctx.inputs.size()) + " inputs were given");

  // Ellipsis rank, and every label's extent.
  std::size_t ellipsis_rank = 0;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    if (!ctx.has_input(i)) return ctx.invalid("input " + std::to_string(i) + " is missing");
    const std::size_t rank = ctx.input(i).rank(), named = terms[i].labels.size();
    if (rank < named || (terms[i].ellipsis_at < 0 && rank != named))
      return ctx.invalid("operand " + std::to_string(i) + " " + to_string(ctx.input(i).shape()) +
                         " does not match its subscripts in '" + equation + "'");
    ellipsis_rank = std::max(ellipsis_rank, rank - named);
  }
  plan p;
  p.extent.assign(ellipsis_rank, 1);
  std::map<char, std::size_t> axis_of;
  std::map<char, int> occurrences;
  for (const auto& t : terms)
    for (char ch : t.labels) {
      ++occurrences[ch];
      if (!axis_of.count(ch)) {
        axis_of[ch] = p.extent.size();
        p.extent.push_back(-1);
      }
    }
  p.strides.assign(terms.size(), std::vector<std::int64_t>(p.extent.size(), 0));
  for (std::size_t i = 0; i < terms.size(); ++i) {
    const shape_t& shape = ctx.input(i).shape();
    const std::size_t rank = shape.size(), named = terms[i].labels.size(), own_ellipsis = rank - named;
    std::int64_t stride = 1;
    // Walk the operand's axes from the last, assigning each to its global axis.
    std::size_t label = named;
    for (std::size_t d = rank; d-- > 0;) {
      const bool in_ellipsis = terms[i].ellipsis_at >= 0 && d >= static_cast<std::size_t>(terms[i].ellipsis_at) &&
                               d < static_cast<std::size_t>(terms[i].ellipsis_at) + own_ellipsis;
      std::size_t axis;
      if (in_ellipsis) {
        axis = ellipsis_rank - own_ellipsis + (d - static_cast<std::size_t>(terms[i].ellipsis_at));
        if (shape[d] != 1) {
          if (p.extent[axis] != 1 && p.extent[axis] != shape[d])
            return ctx.invalid("the '...' extents of the operands do not broadcast in '" + equation + "'");
          p.extent[axis] = shape[d];
          p.strides[i][axis] += stride;
        }
      } else {
        const char ch = terms[i].labels[--label];
        axis = axis_of[ch];
        if (p.extent[axis] >= 0 && p.extent[axis] != shape[d])
          return ctx.invalid(std::string("label '") + ch + "' has extents " + std::to_string(p.extent[axis]) +
                             " and " + std::to_string(shape[d]) + " in '" + equation + "'");
        p.extent[axis] = shape[d];
        p.strides[i][axis] += stride;
      }
      stride *= shape[d];
    }
  }

  // Output axes.
  std::vector<bool> in_output(p.extent.size(), false);
  if (arrow != std::string::npos) {
    term out;
    if (!parse_term(eq.substr(arrow + 2), out, error)) return ctx.invalid("equation '" + equation + "': " + error);
    for (std::size_t k = 0; k <= out.labels.size(); ++k) {
      if (static_cast<int>(k) == out.ellipsis_at)
        for (std::size_t e = 0; e < ellipsis_rank; ++e) p.out_axes.push_back(e);
      if (k == out.labels.size()) break;
      const char ch = out.labels[k];
      if (!axis_of.count(ch))
        return ctx.invalid(std::string("output label '") + ch + "' does not appear in the inputs of '" + equation + "'");
      if (out.labels.find(ch) != k)
        return ctx.invalid(std::string("output label '") + ch + "' repeats in '" + equation + "'");
      p.out_axes.push_back(axis_of[ch]);
    }
  } else {
    for (std::size_t e = 0; e < ellipsis_rank; ++e) p.out_axes.push_back(e);
    for (auto& [ch, axis] : axis_of)  // std::map iterates the labels in sorted order
      if (occurrences[ch] == 1) p.out_axes.push_back(axis);
  }
  for (auto a : p.out_axes) {
    in_output[a] = true;
    p.out_shape.push_back(p.extent[a]);
  }
  for (std::size_t a = 0; a < p.extent.size(); ++a)
    if (!in_output[a]) p.sum_axes.push_back(a);
  return p;
}

template <class T>
void evaluate(kernel_context& ctx, const plan& p, tensor& y) {
  using acc_t = std::conditional_t<std::is_floating_point_v<T>, double,
                                   std::conditional_t<std::is_signed_v<T>, std::int64_t, std::uint64_t>>;
  const std::size_t operands = p.strides.size();
  std::vector<const T*> data(operands);
  for (std::size_t i = 0; i < operands; ++i) data[i] = ctx.input(i).data<T>();
  // Walk order: output axes (outer), then summed axes (inner).
  std::vector<std::size_t> order = p.out_axes;
  order.insert(order.end(), p.sum_axes.begin(), p.sum_axes.end());
  std::int64_t sum_count = 1;
  for (auto a : p.sum_axes) sum_count *= p.extent[a];
  const std::int64_t out_count = element_count(p.out_shape);
  std::vector<std::int64_t> idx(order.size(), 0);
  std::vector<std::int64_t> offset(operands, 0);
  T* yd = y.data<T>();
  for (std::int64_t o = 0; o < out_count; ++o) {
    acc_t acc = 0;
    for (std::int64_t s = 0; s < sum_count; ++s) {
      acc_t prod = 1;
      for (std::size_t i = 0; i < operands; ++i) prod *= static_cast<acc_t>(data[i][offset[i]]);
      acc += prod;
      // Advance the odometer over all axes (the summed ones run fastest).
      for (std::size_t k = order.size(); k-- > 0;) {
        const std::size_t a = order[k];
        for (std::size_t i = 0; i < operands; ++i) offset[i] += p.strides[i][a];
        if (++idx[k] < p.extent[a]) break;
        for (std::size_t i = 0; i < operands; ++i) offset[i] -= p.strides[i][a] * p.extent[a];
        idx[k] = 0;
      }
    }
    yd[o] = static_cast<T>(acc);
    if (sum_count == 0) {
      // No summed positions: advance the output axes by hand.
      for (std::size_t k = p.out_axes.size(); k-- > 0;) {
        const std::size_t a = order[k];
        for (std::size_t i = 0; i < operands; ++i) offset[i] += p.strides[i][a];
        if (++idx[k] < p.extent[a]) break;
        for (std::size_t i = 0; i < operands; ++i) offset[i] -= p.strides[i][a] * p.extent[a];
        idx[k] = 0;
      }
    }
  }
}

}  // namespace

result<void> einsum_kernel(kernel_context& ctx) {
  if (ctx.inputs.empty()) return ctx.invalid("Einsum needs at least one input");
  const attribute* eq = ctx.n.find("equation");
  if (!eq) return ctx.invalid("the equation attribute is required");
  const dtype type = ctx.has_input(0) ? ctx.input(0).type() : dtype::undefined;
  for (std::size_t i = 0; i < ctx.inputs.size(); ++i)
    if (ctx.has_input(i) && ctx.input(i).type() != type) return ctx.invalid("all inputs must have the same type");
  auto p = make_plan(ctx, eq->s);
  if (!p) return p.error();
  tensor y(type, p->out_shape);
  bool done = dispatch_numeric(type, [&](auto v) { evaluate<decltype(v)>(ctx, *p, y); });
  if (!done) return ctx.unsupported("Einsum on " + std::string(to_string(type)) + " tensors");
  ctx.outputs[0] = y;
  return {};
}

}  // namespace edgert::engine
