"""A plain NumPy interpreter for the ONNX graphs this generator writes.

It evaluates floating-point ops in float64 (the reference precision for fp32 models) and is used
for calibration, for the expected outputs of fp32 models, for activation statistics, and as an
independent cross-check of the quantized graphs: quantized ops are evaluated literally from the
ONNX operator definitions (dequantize, compute in float64, quantize with round-half-to-even).

Only the ops and attribute combinations the generator emits are supported (2-D NCHW, dilation 1);
anything else raises NotImplementedError instead of guessing.
"""

import numpy as np
from onnx import numpy_helper


def _attrs(node):
    out = {}
    for a in node.attribute:
        if a.type == a.INT:
            out[a.name] = a.i
        elif a.type == a.INTS:
            out[a.name] = list(a.ints)
        elif a.type == a.FLOAT:
            out[a.name] = a.f
        else:
            raise NotImplementedError(f"{node.op_type}: attribute {a.name}")
    return out


def _window_geometry(x_shape, kernel, strides, pads):
    _, _, h, w = x_shape
    kh, kw = kernel
    sh, sw = strides
    pt, pl, pb, pr = pads
    ho = (h + pt + pb - kh) // sh + 1
    wo = (w + pl + pr - kw) // sw + 1
    return ho, wo


def _taps(xp, kh, kw, sh, sw, ho, wo):
    """Yields (i, j, view) for every kernel tap; view is the strided [N, C, ho, wo] window."""
    for i in range(kh):
        for j in range(kw):
            yield i, j, xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]


def conv2d(x, w, strides=(1, 1), pads=(0, 0, 0, 0), group=1):
    """Cross-correlation of x [N,C,H,W] with w [M, C/group, kh, kw]; zero padding; dtype of x.

    Works for float and integer dtypes alike (integer inputs give exact integer results, since
    NumPy's integer matmul does not go through BLAS).
    """
    n, c, _, _ = x.shape
    m, cg, kh, kw = w.shape
    if cg * group != c or m % group:
        raise ValueError("conv2d: channel counts do not match the group count")
    ho, wo = _window_geometry(x.shape, (kh, kw), strides, pads)
    pt, pl, pb, pr = pads
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    sh, sw = strides
    if group == c and m == c:
        out = np.zeros((n, c, ho, wo), dtype=np.result_type(x, w))
        for i, j, view in _taps(xp, kh, kw, sh, sw, ho, wo):
            out += view * w[:, 0, i, j][None, :, None, None]
        return out
    mg = m // group
    outs = []
    for g in range(group):
        xg = xp[:, g * cg:(g + 1) * cg]
        cols = np.empty((n, ho, wo, cg, kh, kw), dtype=x.dtype)
        for i, j, view in _taps(xg, kh, kw, sh, sw, ho, wo):
            cols[..., i, j] = view.transpose(0, 2, 3, 1)
        wg = w[g * mg:(g + 1) * mg].reshape(mg, -1)
        y = cols.reshape(n * ho * wo, -1) @ wg.T.astype(np.result_type(x, w))
        outs.append(y.reshape(n, ho, wo, mg).transpose(0, 3, 1, 2))
    return np.ascontiguousarray(np.concatenate(outs, axis=1))


def maxpool2d(x, kernel, strides, pads):
    ho, wo = _window_geometry(x.shape, kernel, strides, pads)
    pt, pl, pb, pr = pads
    low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=low)
    out = None
    for _, _, view in _taps(xp, kernel[0], kernel[1], strides[0], strides[1], ho, wo):
        out = view.copy() if out is None else np.maximum(out, view)
    return out


def _bcast_axis(v, axis, ndim):
    """Reshapes a per-axis 1-D parameter so it broadcasts along `axis` of an ndim tensor."""
    v = np.asarray(v)
    if v.ndim == 0:
        return v
    shape = [1] * ndim
    shape[axis] = v.size
    return v.reshape(shape)


class TieAudit:
    """Counts roundings whose argument lies within `window` of a .5 tie without being one.

    When the dequantized inputs of a quantized op are exact in float64 (as they are for the
    generated models, whose scales have 8 significant bits), the float64 evaluation is off the
    exact real-number result by ~1e-13 LSB at most, so a clean audit means it *is* the exact
    result. Exact ties are computed exactly and not counted."""

    def __init__(self, window=1e-9):
        self.window = window
        self.values = 0
        self.near_ties = 0

    def record(self, v):
        d = np.abs(v - np.floor(v) - 0.5)
        self.values += v.size
        self.near_ties += int(np.count_nonzero((d > 0) & (d < self.window)))


def quantize(x, scale, zero_point, axis=1, ties=None):
    """ONNX QuantizeLinear: saturate(round_half_even(x / scale) + zero_point)."""
    info = np.iinfo(np.asarray(zero_point).dtype)
    s = _bcast_axis(np.asarray(scale, np.float64), axis, np.ndim(x))
    z = _bcast_axis(np.asarray(zero_point, np.int64), axis, np.ndim(x))
    v = np.asarray(x, np.float64) / s
    if ties is not None:
        ties.record(v)
    q = np.round(v) + z
    return np.clip(q, info.min, info.max).astype(np.asarray(zero_point).dtype)


def dequantize(q, scale, zero_point, axis=1):
    """ONNX DequantizeLinear: (q - zero_point) * scale, here in float64."""
    s = _bcast_axis(np.asarray(scale, np.float64), axis, np.ndim(q))
    z = _bcast_axis(np.asarray(zero_point, np.int64), axis, np.ndim(q))
    return (q.astype(np.int64) - z) * s


def _conv_attrs(a):
    if any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("Conv: dilation")
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("Conv: auto_pad")
    return (tuple(a.get("strides", [1, 1])), tuple(a.get("pads", [0, 0, 0, 0])),
            a.get("group", 1))


def run(model, feeds, keep_all=False, float_dtype=np.float64, observe=None, ties=None):
    """Evaluates `model` on `feeds` (name -> array). Returns the graph outputs as a dict, or
    every tensor when keep_all is set. Floating-point values are carried in float_dtype
    (float64, the reference precision; float32 to see what a float32 engine's error looks
    like). observe(name, value) is called for every tensor a node produces. `ties`, a
    TieAudit, watches every QuantizeLinear/QLinear* rounding."""
    env = {}
    for init in model.graph.initializer:
        arr = numpy_helper.to_array(init)
        env[init.name] = arr.astype(float_dtype) if arr.dtype.kind == "f" else arr
    for name, value in feeds.items():
        value = np.asarray(value)
        env[name] = value.astype(float_dtype) if value.dtype.kind == "f" else value
    for node in model.graph.node:
        ins = [env[i] if i else None for i in node.input]
        env[node.output[0]] = _eval(node, ins, ties)
        if observe is not None:
            observe(node.output[0], env[node.output[0]])
    if keep_all:
        return env
    return {o.name: env[o.name] for o in model.graph.output}


def _eval(node, ins, ties=None):
    op = node.op_type
    a = _attrs(node)
    if op == "Conv":
        strides, pads, group = _conv_attrs(a)
        y = conv2d(ins[0], ins[1], strides, pads, group)
        if len(ins) > 2 and ins[2] is not None:
            y = y + ins[2][None, :, None, None]
        return y
    if op == "Relu":
        return np.maximum(ins[0], 0)
    if op == "Clip":
        return np.clip(ins[0], ins[1], ins[2])
    if op == "Add":
        return ins[0] + ins[1]
    if op == "MaxPool":
        if a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1, 1])):
            raise NotImplementedError("MaxPool: ceil_mode/dilations")
        return maxpool2d(ins[0], a["kernel_shape"], a.get("strides", [1, 1]),
                         a.get("pads", [0, 0, 0, 0]))
    if op == "GlobalAveragePool":
        return ins[0].mean(axis=(2, 3), keepdims=True)
    if op == "Flatten":
        axis = a.get("axis", 1)
        return ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
    if op == "Gemm":
        x, w = ins[0], ins[1]
        if a.get("transA", 0):
            x = x.T
        if a.get("transB", 0):
            w = w.T
        y = a.get("alpha", 1.0) * (x @ w)
        if len(ins) > 2 and ins[2] is not None:
            y = y + a.get("beta", 1.0) * ins[2]
        return y
    if op == "BatchNormalization":
        x, gamma, beta, mean, var = ins
        eps = a.get("epsilon", 1e-5)
        # epsilon is a float32 attribute; the ONNX definition adds it to the variance.
        inv = gamma / np.sqrt(var + var.dtype.type(np.float32(eps)))
        return (x - mean[None, :, None, None]) * inv[None, :, None, None] + \
            beta[None, :, None, None]
    if op == "QuantizeLinear":
        return quantize(ins[0], ins[1], ins[2], a.get("axis", 1), ties)
    if op == "DequantizeLinear":
        return dequantize(ins[0], ins[1], ins[2], a.get("axis", 1))
    if op == "QLinearConv":
        x, xs, xz, w, ws, wz, ys, yz = ins[:8]
        strides, pads, group = _conv_attrs(a)
        xr = dequantize(x, xs, xz)
        wr = dequantize(w, ws, wz, axis=0)
        y = conv2d(xr, wr, strides, pads, group)
        if len(ins) > 8 and ins[8] is not None:
            y = y + dequantize(ins[8], np.float64(xs) * ws, np.zeros_like(ins[8]), 0)[
                None, :, None, None]
        return quantize(y, ys, yz, ties=ties)
    if op == "QLinearMatMul":
        x, xs, xz, w, ws, wz, ys, yz = ins
        y = dequantize(x, xs, xz) @ dequantize(w, ws, wz, axis=-1)
        return quantize(y, ys, yz, ties=ties)
    raise NotImplementedError(f"numpy_ref: op {op}")
