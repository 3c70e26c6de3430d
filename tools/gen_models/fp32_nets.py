"""The float32 networks: MNIST CNN, MobileNetV2-1.0 (BN folded) and ResNet-18 (explicit BN).

Weights are random but scaled like a trained network's: He-normal for convolutions feeding a
ReLU/ReLU6, LeCun-normal (variance 1/fan_in) for linear layers, and the last convolution of each
residual branch is scaled down so that residual sums do not grow from block to block. Every
builder takes a numpy Generator and draws from it in a fixed order, so a seed fixes every byte.
"""

import numpy as np

from graph_builder import GraphBuilder

F32 = np.float32


def _normal(rng, shape, std):
    return (rng.standard_normal(shape, dtype=F32) * F32(std)).astype(F32)


def he_conv(rng, cout, cin_per_group, k, gain=2.0):
    fan_in = cin_per_group * k * k
    return _normal(rng, (cout, cin_per_group, k, k), np.sqrt(gain / fan_in))


def small_bias(rng, n, std=0.05):
    return _normal(rng, (n,), std)


# --------------------------------------------------------------------------------------------
# MNIST CNN: Conv5x5(8,p2)-Relu-MaxPool2-Conv5x5(16,p2)-Relu-MaxPool2-Flatten-Gemm(10)

MNIST_INPUT_SHAPE = (1, 1, 28, 28)


def mnist_weights(rng):
    """The fp32 MNIST parameters, shared by the fp32, QDQ and QLinear models."""
    return {
        "conv1.weight": he_conv(rng, 8, 1, 5),
        "conv1.bias": small_bias(rng, 8),
        "conv2.weight": he_conv(rng, 16, 8, 5),
        "conv2.bias": small_bias(rng, 16),
        "fc.weight": _normal(rng, (10, 16 * 7 * 7), np.sqrt(1.0 / (16 * 7 * 7))),
        "fc.bias": small_bias(rng, 10),
    }


def mnist_cnn(weights):
    g = GraphBuilder("mnist_cnn")
    x = g.input("input", F32, MNIST_INPUT_SHAPE)
    for i, name in enumerate(("conv1", "conv2")):
        x = g.node("Conv", [x, g.const(f"{name}.weight", weights[f"{name}.weight"]),
                            g.const(f"{name}.bias", weights[f"{name}.bias"])],
                   f"{name}.out", kernel_shape=[5, 5], pads=[2, 2, 2, 2], strides=[1, 1])
        x = g.node("Relu", [x], f"{name}.relu")
        x = g.node("MaxPool", [x], f"pool{i + 1}.out", kernel_shape=[2, 2], strides=[2, 2])
    x = g.node("Flatten", [x], "flatten.out", axis=1)
    g.node("Gemm", [x, g.const("fc.weight", weights["fc.weight"]),
                    g.const("fc.bias", weights["fc.bias"])], "logits", transB=1)
    g.output("logits", F32, (1, 10))
    return g.model("MNIST CNN, fp32, random weights (edgert tools/gen_models)")


# --------------------------------------------------------------------------------------------
# MobileNetV2-1.0, 224x224, BatchNormalization folded into the convolutions, ReLU6 as Clip.

MOBILENETV2_BLOCKS = [  # expansion t, output channels c, repeats n, first stride s
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
]
IMAGENET_INPUT_SHAPE = (1, 3, 224, 224)


def _folded_bn(rng, w):
    """Folds a random inference-time BatchNormalization into conv weights; returns (w, b).

    The BN statistics are drawn around those a He-initialised conv produces (mean ~0,
    variance ~gain x input power), so folding keeps the activation scale near 1.
    """
    cout = w.shape[0]
    gamma = rng.uniform(0.8, 1.2, cout).astype(F32)
    beta = _normal(rng, (cout,), 0.1)
    mean = _normal(rng, (cout,), 0.1)
    var = rng.uniform(0.8, 1.25, cout).astype(F32)
    scale = (gamma / np.sqrt(var + F32(1e-5))).astype(F32)
    return (w * scale[:, None, None, None]).astype(F32), (beta - mean * scale).astype(F32)


def mobilenetv2(rng):
    g = GraphBuilder("mobilenetv2")
    clip_min = g.const("relu6.min", np.array(0.0, F32))
    clip_max = g.const("relu6.max", np.array(6.0, F32))

    def conv(x, name, cin, cout, k, stride, group, relu6, gain):
        w, b = _folded_bn(rng, he_conv(rng, cout, cin // group, k, gain))
        pad = k // 2
        y = g.node("Conv", [x, g.const(f"{name}.weight", w), g.const(f"{name}.bias", b)],
                   f"{name}.out", kernel_shape=[k, k], strides=[stride, stride],
                   pads=[pad] * 4, group=group)
        if relu6:
            y = g.node("Clip", [y, clip_min, clip_max], f"{name}.relu6")
        return y

    x = g.input("input", F32, IMAGENET_INPUT_SHAPE)
    x = conv(x, "stem", 3, 32, 3, 2, 1, True, 2.0)
    cin = 32
    index = 0
    for t, c, n, s in MOBILENETV2_BLOCKS:
        for r in range(n):
            stride = s if r == 0 else 1
            name = f"block{index}"
            hidden = cin * t
            residual = stride == 1 and cin == c
            y = x
            if t != 1:
                y = conv(y, f"{name}.expand", cin, hidden, 1, 1, 1, True, 2.0)
            y = conv(y, f"{name}.dw", hidden, hidden, 3, stride, hidden, True, 2.0)
            # A linear projection; inside a residual branch it is damped so sums stay bounded.
            y = conv(y, f"{name}.project", hidden, c, 1, 1, 1, False, 0.5 if residual else 1.0)
            if residual:
                y = g.node("Add", [x, y], f"{name}.add")
            x, cin = y, c
            index += 1
    x = conv(x, "head", cin, 1280, 1, 1, 1, True, 2.0)
    x = g.node("GlobalAveragePool", [x], "pool.out")
    x = g.node("Flatten", [x], "flatten.out", axis=1)
    g.node("Gemm", [x, g.const("fc.weight", _normal(rng, (1000, 1280), np.sqrt(1.0 / 1280))),
                    g.const("fc.bias", small_bias(rng, 1000))], "logits", transB=1)
    g.output("logits", F32, (1, 1000))
    return g.model("MobileNetV2-1.0 224, BatchNormalization folded, ReLU6 as Clip, "
                   "random weights (edgert tools/gen_models)")


# --------------------------------------------------------------------------------------------
# ResNet-18, 224x224, explicit BatchNormalization after every convolution.

def resnet18(rng):
    g = GraphBuilder("resnet18")

    def conv_bn(x, power, name, cin, cout, k, stride, gamma_range=(0.8, 1.2)):
        """Conv + BatchNormalization. `power` estimates E[x^2] of the input; the running
        variance is drawn around the variance a He-initialised conv produces from it
        (2 x power), so BN renormalises to unit scale the way trained statistics would."""
        pad = k // 2
        y = g.node("Conv", [x, g.const(f"{name}.weight", he_conv(rng, cout, cin, k))],
                   f"{name}.out", kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)
        gamma = rng.uniform(*gamma_range, cout).astype(F32)
        beta = _normal(rng, (cout,), 0.1)
        mean = _normal(rng, (cout,), 0.1)
        var = (rng.uniform(0.8, 1.25, cout) * 2.0 * power).astype(F32)
        y = g.node("BatchNormalization",
                   [y, g.const(f"{name}.bn.scale", gamma), g.const(f"{name}.bn.bias", beta),
                    g.const(f"{name}.bn.mean", mean), g.const(f"{name}.bn.var", var)],
                   f"{name}.bn.out", epsilon=1e-5)
        return y, float(np.mean(gamma.astype(np.float64) ** 2)) + 0.01

    # Power (E[x^2]) bookkeeping: ReLU halves it, a 3x3/2 max pool of ReLU output roughly
    # quadruples it, a residual Add sums the powers of its two independent operands.
    x = g.input("input", F32, IMAGENET_INPUT_SHAPE)
    x, p = conv_bn(x, 1.0, "stem", 3, 64, 7, 2)
    x = g.node("Relu", [x], "stem.relu")
    x = g.node("MaxPool", [x], "stem.pool", kernel_shape=[3, 3], strides=[2, 2],
               pads=[1, 1, 1, 1])
    p = p / 2 * 4
    cin = 64
    for stage, cout in enumerate((64, 128, 256, 512)):
        for blk in range(2):
            name = f"layer{stage + 1}.{blk}"
            stride = 2 if stage > 0 and blk == 0 else 1
            y, q = conv_bn(x, p, f"{name}.conv1", cin, cout, 3, stride)
            y = g.node("Relu", [y], f"{name}.relu1")
            # The branch's last BN is damped (as trained residual nets tend to be).
            y, q = conv_bn(y, q / 2, f"{name}.conv2", cout, cout, 3, 1, (0.4, 0.6))
            shortcut = x
            if stride != 1 or cin != cout:
                shortcut, p = conv_bn(x, p, f"{name}.downsample", cin, cout, 1, stride)
            y = g.node("Add", [shortcut, y], f"{name}.add")
            x = g.node("Relu", [y], f"{name}.relu2")
            p = (p + q) / 2
            cin = cout
    x = g.node("GlobalAveragePool", [x], "pool.out")
    x = g.node("Flatten", [x], "flatten.out", axis=1)
    g.node("Gemm", [x, g.const("fc.weight", _normal(rng, (1000, 512), np.sqrt(1.0 / 512))),
                    g.const("fc.bias", small_bias(rng, 1000))], "logits", transB=1)
    g.output("logits", F32, (1, 1000))
    return g.model("ResNet-18 224, explicit BatchNormalization, random weights "
                   "(edgert tools/gen_models)")
