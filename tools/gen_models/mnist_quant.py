"""The quantized MNIST CNNs (QDQ with int8 activations, QOperator with uint8 activations) and
their exact integer references.

Both models take the quantized image as their graph input and return quantized logits; the
manifest carries the (scale, zero_point) of both. Layer by layer:

  QDQ (int8):    input:int8 -> DQ -> Conv(DQ w, DQ b) -> Relu -> Q -> DQ -> MaxPool -> Q -> ...
                 ... -> Q -> Flatten(int8) -> DQ -> Gemm(DQ w, DQ b) -> Q -> logits:int8
  QLinear (u8):  input:uint8 -> QLinearConv -> MaxPool(uint8) -> QLinearConv -> MaxPool ->
                 Flatten(uint8) -> QLinearMatMul -> DequantizeLinear -> Add(bias f32) ->
                 QuantizeLinear -> logits:uint8
In the QLinear model ReLU is the output clamp of QLinearConv (output zero point 0), which is how
QOperator converters express it. MaxPool keeps its input's quantization.
"""

import numpy as np

import numpy_ref
from fp32_nets import MNIST_INPUT_SHAPE
from graph_builder import GraphBuilder
from quantization import (activation_params, quantize_bias, quantize_tensor,
                          quantize_weights_per_channel, requantize, saturate)

F32 = np.float32
CONV_ATTRS = dict(kernel_shape=[5, 5], pads=[2, 2, 2, 2], strides=[1, 1])
POOL_ATTRS = dict(kernel_shape=[2, 2], strides=[2, 2])


def calibrate(fp32_model, weights, inputs):
    """Observed (min, max) of every tensor that gets quantized, over a calibration batch."""
    env = numpy_ref.run(fp32_model, {"input": inputs}, keep_all=True)
    flat = env["flatten.out"]
    ranges = {name: (float(env[t].min()), float(env[t].max())) for name, t in
              (("input", "input"), ("conv1", "conv1.relu"), ("conv2", "conv2.relu"),
               ("logits", "logits"))}
    mm = flat @ weights["fc.weight"].astype(np.float64).T
    ranges["fc.mm"] = (float(mm.min()), float(mm.max()))
    return ranges


def quantize_mnist(weights, ranges, act_dtype):
    """All integer parameters of the quantized MNIST CNN for int8 or uint8 activations."""
    p = {"act_dtype": np.dtype(act_dtype)}
    for name in ("input", "conv1", "conv2", "logits", "fc.mm"):
        p[name] = activation_params(*ranges[name], act_dtype)
    in_scale = {"conv1": p["input"][0], "conv2": p["conv1"][0], "fc": p["conv2"][0]}
    for layer in ("conv1", "conv2", "fc"):
        wq, ws = quantize_weights_per_channel(weights[f"{layer}.weight"])
        bq, bs = quantize_bias(weights[f"{layer}.bias"], in_scale[layer], ws)
        p[f"{layer}.w"], p[f"{layer}.w_scale"], p[f"{layer}.b"], p[f"{layer}.b_scale"] = \
            wq, ws, bq, bs
    p["fc.bias_f32"] = weights["fc.bias"].astype(F32)
    if act_dtype == np.uint8:
        for layer in ("conv1", "conv2"):  # ReLU realised by the clamp needs zero point 0
            assert int(p[layer][1]) == 0, layer
    return p


def _scalar_qparams(g, name, qparams):
    scale, zp = qparams
    return (g.const(f"{name}.scale", np.array(scale, F32)),
            g.const(f"{name}.zero_point", np.array(zp, zp.dtype)))


def _dq_const(g, name, q, scale, zp_dtype):
    """A per-axis (axis 0) dequantized initializer."""
    s = g.const(f"{name}.scale", np.asarray(scale, F32))
    z = g.const(f"{name}.zero_point", np.zeros(np.shape(scale), zp_dtype))
    return g.node("DequantizeLinear", [g.const(name, q), s, z], f"{name}.dq", axis=0)


def qdq_model(p):
    g = GraphBuilder("mnist_cnn_qdq")
    act = p["act_dtype"]
    x = g.input("input", act, MNIST_INPUT_SHAPE)
    in_qp = _scalar_qparams(g, "input", p["input"])
    x = g.node("DequantizeLinear", [x, *in_qp], "input.dq")
    for i, layer in enumerate(("conv1", "conv2")):
        w = _dq_const(g, f"{layer}.weight", p[f"{layer}.w"], p[f"{layer}.w_scale"], np.int8)
        b = _dq_const(g, f"{layer}.bias", p[f"{layer}.b"], p[f"{layer}.b_scale"], np.int32)
        y = g.node("Conv", [x, w, b], f"{layer}.out", **CONV_ATTRS)
        y = g.node("Relu", [y], f"{layer}.relu")
        qp = _scalar_qparams(g, f"{layer}.q", p[layer])
        y = g.node("QuantizeLinear", [y, *qp], f"{layer}.q")
        y = g.node("DequantizeLinear", [y, *qp], f"{layer}.dq")
        y = g.node("MaxPool", [y], f"pool{i + 1}.out", **POOL_ATTRS)
        y = g.node("QuantizeLinear", [y, *qp], f"pool{i + 1}.q")
        if layer == "conv2":  # Flatten works on the int8 tensor
            y = g.node("Flatten", [y], "flatten.q", axis=1)
        x = g.node("DequantizeLinear", [y, *qp], y.replace(".q", ".dq"))
    w = _dq_const(g, "fc.weight", p["fc.w"], p["fc.w_scale"], np.int8)
    b = _dq_const(g, "fc.bias", p["fc.b"], p["fc.b_scale"], np.int32)
    y = g.node("Gemm", [x, w, b], "fc.out", transB=1)
    g.node("QuantizeLinear", [y, *_scalar_qparams(g, "logits", p["logits"])], "logits")
    g.output("logits", act, (1, 10))
    return g.model("MNIST CNN, QDQ int8: int8 activations, per-channel full-range int8 "
                   "weights, int32 biases (edgert tools/gen_models)")


def qlinear_model(p):
    g = GraphBuilder("mnist_cnn_qlinear")
    act = p["act_dtype"]
    x = g.input("input", act, MNIST_INPUT_SHAPE)
    x_qp = _scalar_qparams(g, "input", p["input"])
    for i, layer in enumerate(("conv1", "conv2")):
        m = p[f"{layer}.w"].shape[0]
        w = g.const(f"{layer}.weight", p[f"{layer}.w"])
        ws = g.const(f"{layer}.weight.scale", p[f"{layer}.w_scale"])
        wz = g.const(f"{layer}.weight.zero_point", np.zeros(m, np.int8))
        b = g.const(f"{layer}.bias", p[f"{layer}.b"])
        y_qp = _scalar_qparams(g, f"{layer}.q", p[layer])
        y = g.node("QLinearConv", [x, *x_qp, w, ws, wz, *y_qp, b], f"{layer}.q", **CONV_ATTRS)
        x = g.node("MaxPool", [y], f"pool{i + 1}.q", **POOL_ATTRS)
        x_qp = y_qp
    x = g.node("Flatten", [x], "flatten.q", axis=1)
    # QLinearMatMul wants b as [K, N]; per-column scales are per output neuron.
    w = g.const("fc.weight", np.ascontiguousarray(p["fc.w"].T))
    ws = g.const("fc.weight.scale", p["fc.w_scale"])
    wz = g.const("fc.weight.zero_point", np.zeros(p["fc.w"].shape[0], np.int8))
    mm_qp = _scalar_qparams(g, "fc.mm.q", p["fc.mm"])
    y = g.node("QLinearMatMul", [x, *x_qp, w, ws, wz, *mm_qp], "fc.mm.q")
    y = g.node("DequantizeLinear", [y, *mm_qp], "fc.mm")
    y = g.node("Add", [y, g.const("fc.bias", p["fc.bias_f32"])], "fc.out")
    g.node("QuantizeLinear", [y, *_scalar_qparams(g, "logits", p["logits"])], "logits")
    g.output("logits", act, (1, 10))
    return g.model("MNIST CNN, QOperator: uint8 activations, QLinearConv/QLinearMatMul with "
                   "per-channel full-range int8 weights (edgert tools/gen_models)")


# --------------------------------------------------------------------------------------------
# Exact integer references. Inputs are the quantized graph input; the result is the quantized
# graph output. Integer arithmetic throughout, except the QLinear model's float32 bias tail,
# which is evaluated in IEEE float32 exactly as its ONNX ops define it.

def _conv_layer(x, zp_in, p, layer, relu, audit):
    acc = numpy_ref.conv2d(x.astype(np.int64) - int(zp_in), p[f"{layer}.w"].astype(np.int64),
                           pads=(2, 2, 2, 2))
    acc = acc + p[f"{layer}.b"].astype(np.int64)[None, :, None, None]
    in_scale = p["input"][0] if layer == "conv1" else p["conv1"][0]
    v = requantize(acc, in_scale, p[f"{layer}.w_scale"], p[layer][0], axis=1, audit=audit,
                   site=layer)
    if relu:
        v = np.maximum(v, 0)
    return saturate(v, p[layer][1])


def _maxpool(x):
    return numpy_ref.maxpool2d(x, (2, 2), (2, 2), (0, 0, 0, 0))


def reference_qdq(p, x, audit=None):
    y = _maxpool(_conv_layer(x, p["input"][1], p, "conv1", True, audit))
    y = _maxpool(_conv_layer(y, p["conv1"][1], p, "conv2", True, audit))
    flat = y.reshape(1, -1).astype(np.int64) - int(p["conv2"][1])
    acc = flat @ p["fc.w"].astype(np.int64).T + p["fc.b"].astype(np.int64)
    v = requantize(acc, p["conv2"][0], p["fc.w_scale"], p["logits"][0], axis=1, audit=audit,
                   site="fc")
    return saturate(v, p["logits"][1])


def reference_qlinear(p, x, audit=None):
    # ReLU is not applied separately: with zero point 0 the uint8 clamp is the ReLU.
    y = _maxpool(_conv_layer(x, p["input"][1], p, "conv1", False, audit))
    y = _maxpool(_conv_layer(y, p["conv1"][1], p, "conv2", False, audit))
    flat = y.reshape(1, -1).astype(np.int64) - int(p["conv2"][1])
    acc = flat @ p["fc.w"].astype(np.int64).T
    mm = saturate(requantize(acc, p["conv2"][0], p["fc.w_scale"], p["fc.mm"][0], axis=1,
                             audit=audit, site="fc.mm"), p["fc.mm"][1])
    mm_scale, mm_zp = p["fc.mm"]
    out_scale, out_zp = p["logits"]
    deq = (mm.astype(np.int32) - int(mm_zp)).astype(F32) * F32(mm_scale)   # DequantizeLinear
    summed = (deq + p["fc.bias_f32"]).astype(F32)                            # Add
    out = saturate(np.round(summed / F32(out_scale)).astype(np.int64), out_zp)  # QuantizeLinear
    if audit is not None:
        # Engines often multiply by a reciprocal or stay in float64; the sample must not care.
        recip = np.round(summed * (F32(1) / F32(out_scale))).astype(np.int64)
        wide = np.round(((mm.astype(np.int64) - int(mm_zp)) * np.float64(mm_scale) +
                         p["fc.bias_f32"].astype(np.float64)) / np.float64(out_scale))
        exact = np.round(summed / F32(out_scale)).astype(np.int64)
        frac = np.abs(summed.astype(np.float64) / np.float64(out_scale))
        audit.record("fc.tail", exact,
                     {"reciprocal": recip, "float64": wide.astype(np.int64)},
                     np.abs(frac - np.floor(frac) - 0.5))
    return out


def quantize_input(x_f32, p):
    return quantize_tensor(x_f32, *p["input"])
