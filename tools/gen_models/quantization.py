"""Quantization parameters and exact integer requantization.

Conventions (also in README.md):
- Activations are per-tensor and asymmetric: min/max from calibration, widened to include 0,
  scale = (max - min) / 255 rounded *up* to 8 significant bits, zero point = the quantized value
  of real 0 (round half to even, clamped). A tensor that follows a ReLU has min 0, so its zero
  point is the lowest code (-128 for int8, 0 for uint8) and the ReLU is exactly the clamp.
- Weights are per output channel, symmetric (zero point 0), int8 and full range: scale =
  max|w| / 127 rounded up to 8 significant bits, and every channel reaches +-127 (if rounding
  left a channel's largest magnitude at 126, that one weight is set to +-127).
- Biases are int32 with scale = input scale x weight scale. Because every scale has at most
  8 significant bits, that product is exact in float32, so the bias scale stored in the model is
  exactly the accumulator scale.
- Requantization is exact: y = round_half_even(acc * s_in * s_w / s_out) evaluated in rational
  arithmetic on the float32 scale values, then + zero point, then saturated.
"""

import math
from fractions import Fraction

import numpy as np

SCALE_BITS = 8


def round_scale_up(x, bits=SCALE_BITS):
    """The smallest float32 >= x with at most `bits` significant bits (x > 0)."""
    if not x > 0 or not math.isfinite(x):
        raise ValueError(f"scale must be positive and finite, got {x}")
    m, e = math.frexp(x)  # x = m * 2**e, 0.5 <= m < 1
    q = math.ceil(m * (1 << bits))
    value = np.float32(math.ldexp(q, e - bits))
    assert float(value) >= x and float(value) == math.ldexp(q, e - bits)
    return value


def qrange(dtype):
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def activation_params(lo, hi, dtype):
    """(scale float32, zero_point of dtype) for a tensor observed in [lo, hi]."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    qmin, qmax = qrange(dtype)
    scale = round_scale_up((hi - lo) / (qmax - qmin))
    zp = int(np.clip(np.round(qmin - lo / float(scale)), qmin, qmax))
    return scale, np.array(zp, dtype=dtype)


def quantize_weights_per_channel(w):
    """Symmetric full-range int8 per output channel (axis 0). Returns (q int8, scale f32[M])."""
    m = w.shape[0]
    flat = w.reshape(m, -1).astype(np.float64)
    peak = np.abs(flat).max(axis=1)
    scale = np.array([round_scale_up(p / 127.0) for p in peak], dtype=np.float32)
    q = np.clip(np.round(flat / scale.astype(np.float64)[:, None]), -127, 127).astype(np.int8)
    for c in range(m):
        i = int(np.argmax(np.abs(flat[c])))
        if abs(int(q[c, i])) != 127:
            q[c, i] = 127 if flat[c, i] > 0 else -127
    assert (np.abs(q.astype(np.int32)).max(axis=1) == 127).all()
    return q.reshape(w.shape), scale


def quantize_bias(b, in_scale, w_scale):
    """int32 bias in the accumulator scale in_scale * w_scale[c] (exact in float32)."""
    acc_scale = (np.float32(in_scale) * w_scale).astype(np.float32)
    for c in range(w_scale.size):  # the 8-bit-mantissa scales make this product exact
        assert Fraction(float(acc_scale[c])) == Fraction(float(in_scale)) * Fraction(
            float(w_scale[c]))
    q = np.round(b.astype(np.float64) / acc_scale.astype(np.float64))
    assert np.abs(q).max() < 2 ** 31
    return q.astype(np.int32), acc_scale


def quantize_tensor(x, scale, zp):
    """QuantizeLinear as ONNX defines it for a float32 input (float32 division)."""
    qmin, qmax = qrange(zp.dtype)
    v = np.asarray(x, np.float32) / np.float32(scale)
    return np.clip(np.round(v) + int(zp), qmin, qmax).astype(zp.dtype)


def round_half_even_div(n, d):
    """round_half_even(n / d) for int64 arrays n and positive int64 d (broadcast)."""
    n = np.asarray(n, np.int64)
    d = np.asarray(d, np.int64)
    q = np.floor_divide(n, d)
    twice_r = 2 * (n - q * d)
    return q + ((twice_r > d) | ((twice_r == d) & (q % 2 == 1)))


class RequantAudit:
    """Compares the exact requantization with the usual engine shortcuts (a float64 multiplier,
    a float32 multiplier) and remembers how close any value came to a rounding tie."""

    def __init__(self):
        self.values = 0
        self.mismatches = {}
        self.min_tie_distance = math.inf  # in output LSBs

    def record(self, site, exact_rounded, variants, tie_distance):
        self.values += exact_rounded.size
        for name, rounded in variants.items():
            bad = int(np.count_nonzero(rounded != exact_rounded))
            if bad:
                key = f"{site}:{name}"
                self.mismatches[key] = self.mismatches.get(key, 0) + bad
        if tie_distance.size:
            self.min_tie_distance = min(self.min_tie_distance, float(tie_distance.min()))

    @property
    def clean(self):
        return not self.mismatches


def requantize(acc, in_scale, w_scale, out_scale, axis, audit=None, site=""):
    """round_half_even(acc * in_scale * w_scale[c] / out_scale), exactly.

    acc is an integer array; w_scale is per channel along `axis` (or a scalar). Returns int64
    (not yet offset by the zero point nor saturated).
    """
    acc = np.asarray(acc, np.int64)
    w_scale = np.atleast_1d(np.asarray(w_scale, np.float32))
    nums, dens = [], []
    for s in w_scale:
        f = Fraction(float(in_scale)) * Fraction(float(s)) / Fraction(float(out_scale))
        nums.append(f.numerator)
        dens.append(f.denominator)
    if max(nums) * max(int(np.abs(acc).max(initial=0)), 1) >= 2 ** 61 or max(dens) >= 2 ** 61:
        raise OverflowError("requantize: multiplier too wide for int64 arithmetic")
    shape = [1] * acc.ndim
    if w_scale.size > 1:
        shape[axis] = w_scale.size
    num = np.array(nums, np.int64).reshape(shape)
    den = np.array(dens, np.int64).reshape(shape)
    n = acc * num
    exact = round_half_even_div(n, den)
    if audit is not None:
        r = n - np.floor_divide(n, den) * den
        tie_distance = np.abs(2 * r - den) / (2.0 * den)
        ws = w_scale.reshape(shape)
        m64 = np.float64(in_scale) * ws.astype(np.float64) / np.float64(out_scale)
        m32 = (np.float32(in_scale) * ws / np.float32(out_scale)).astype(np.float32)
        variants = {
            "float64_multiplier": np.round(acc * m64).astype(np.int64),
            "float32_multiplier": np.round(acc.astype(np.float32) * m32).astype(np.int64),
        }
        audit.record(site, exact, variants, tie_distance)
    return exact


def saturate(v, zp):
    qmin, qmax = qrange(zp.dtype)
    return np.clip(v + int(zp), qmin, qmax).astype(zp.dtype)
