// The oneDNN backend: fp32 Conv, Gemm and MatMul groups, and conversions between the
// layouts it introduces. Used on x86-64 only; elsewhere (Debian's arm64 oneDNN has no
// NEON kernels) make_onednn_backend returns null and those nodes go to the other backends.
#include <optional>

#include "engine/plan/onednn/lowering.hpp"

namespace edgert::engine::planning {

namespace {

class onednn_backend final : public backend {
 public:
  const char* name() const override { return "onednn"; }

  result<bool> lower(const node_group& g, lowering_context& ctx) override {
    const node& anchor = ctx.model().nodes[static_cast<std::size_t>(g.anchor)];
    if (!anchor.domain.empty()) return false;
    if (anchor.op_type == "Conv") {
      if (!policy_) policy_ = onednn::choose_conv_policy(ctx);
      return onednn::lower_conv(g, ctx, *policy_);
    }
    if (anchor.op_type == "Gemm") return onednn::lower_gemm(g, ctx);
    if (anchor.op_type == "MatMul") return onednn::lower_matmul(g, ctx);
    return false;
  }

  std::unique_ptr<step> convert(int from, int to, const lowering_context& ctx) override {
    return onednn::make_reorder(from, to, ctx);
  }

 private:
  std::optional<onednn::conv_policy> policy_;  // decided at the first convolution
};

}  // namespace

std::unique_ptr<backend> make_onednn_backend(const plan_options&) {
#if defined(__x86_64__) || defined(_M_X64)
  try {
    (void)onednn::cpu_engine();
  } catch (const dnnl::error&) {
    return nullptr;
  }
  return std::make_unique<onednn_backend>();
#else
  return nullptr;
#endif
}

}  // namespace edgert::engine::planning
