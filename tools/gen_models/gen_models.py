#!/usr/bin/python3
"""Generates edgert's test and benchmark models: random-weight ONNX networks, a sample input per
model, the expected output for that input, and a manifest.json describing the I/O tensors.

    /usr/bin/python3 tools/gen_models/gen_models.py --out DIR [--only NAME ...]
    /usr/bin/python3 tools/gen_models/gen_models.py --list

Writes DIR/NAME/{model.onnx, manifest.json, input_0.npy, expected_output_0.npy} per model and
DIR/index.json listing every model present in DIR. Needs only Debian's python3-onnx (1.12) and
python3-numpy; every byte follows from the fixed seeds below. See README.md for the layout and
the manifest schema.
"""

import argparse
import hashlib
import io
import json
import os
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fp32_nets  # noqa: E402
import mnist_quant  # noqa: E402
import numpy_ref  # noqa: E402
import qdq_convert  # noqa: E402
from graph_builder import (IR_VERSION, OPSET, GraphBuilder, count_macs, tensor_shapes,  # noqa: E402
                           validate)
from quantization import RequantAudit, quantize_tensor  # noqa: E402

MANIFEST_SCHEMA = "edgert.model_manifest"
INDEX_SCHEMA = "edgert.model_index"
SCHEMA_VERSION = 1

SEEDS = {
    "mnist.weights": 101,
    "mnist.calibration": 102,
    "mnist.input": 103,  # first candidate; see pick_mnist_input
    "mobilenetv2.weights": 201,
    "mobilenetv2.input": 202,
    "mobilenetv2.calibration": 203,
    "resnet18.weights": 301,
    "resnet18.input": 302,
    "resnet18.calibration": 303,
    "identity.input": 401,
}
MNIST_CALIBRATION_IMAGES = 64
IMAGENET_CALIBRATION_IMAGES = 2

FP32_TOLERANCE = {"rtol": 1e-3, "atol": 1e-4}
EXACT_TOLERANCE = {"rtol": 0.0, "atol": 0.0}


class Artifact:
    """One generated model with its sample input, expected output and manifest fields."""

    def __init__(self, name, model, description, quant_format, inputs, outputs, seeds,
                 expected_macs=None, notes=None):
        self.name = name
        self.model = model
        self.description = description
        self.quant_format = quant_format  # "none", "qdq" or "qoperator"
        self.inputs = inputs      # [{"name", "array", "quantization"}]
        self.outputs = outputs    # [{"name", "expected", "method", "quantization"}]
        self.seeds = seeds
        self.expected_macs = expected_macs
        self.notes = notes or []
        self.macs = None
        self.shapes = None


# --------------------------------------------------------------------------------------------
# Model families

def _qinfo(qparams):
    scale, zp = qparams
    return {"scale": float(scale), "zero_point": int(zp)}


def pick_mnist_input(params_by_format):
    """The first sample image (seeds 103, 104, ...) on which every quantized MNIST model's
    requantizations round the same way whether an engine uses the exact rational multiplier,
    a float64 multiplier or a float32 multiplier. The expected outputs are then unambiguous."""
    seed = SEEDS["mnist.input"]
    for attempt in range(100):
        x = np.random.default_rng(seed + attempt).random(fp32_nets.MNIST_INPUT_SHAPE,
                                                         dtype=np.float32)
        audits = {}
        for fmt, p in params_by_format.items():
            audits[fmt] = RequantAudit()
            ref = mnist_quant.reference_qdq if fmt == "qdq" else mnist_quant.reference_qlinear
            ref(p, mnist_quant.quantize_input(x, p), audits[fmt])
        if all(a.clean for a in audits.values()):
            return seed + attempt, x, audits
    raise RuntimeError("no MNIST sample input without rounding ambiguity in 100 seeds")


def mnist_family():
    weights = fp32_nets.mnist_weights(np.random.default_rng(SEEDS["mnist.weights"]))
    fp32 = fp32_nets.mnist_cnn(weights)
    calib = np.random.default_rng(SEEDS["mnist.calibration"]).random(
        (MNIST_CALIBRATION_IMAGES,) + fp32_nets.MNIST_INPUT_SHAPE[1:], dtype=np.float32)
    ranges = mnist_quant.calibrate(fp32, weights, calib)
    params = {"qdq": mnist_quant.quantize_mnist(weights, ranges, np.int8),
              "qoperator": mnist_quant.quantize_mnist(weights, ranges, np.uint8)}
    input_seed, x, audits = pick_mnist_input(params)
    fp32_ref = numpy_ref.run(fp32, {"input": x})["logits"]
    seeds = {"weights": SEEDS["mnist.weights"], "calibration": SEEDS["mnist.calibration"],
             "input": input_seed}
    arts = [Artifact(
        "mnist_cnn", fp32, "MNIST CNN: Conv5x5(8,pad2)-Relu-MaxPool2-Conv5x5(16,pad2)-Relu-"
        "MaxPool2-Flatten-Gemm(10); float32", "none",
        [{"name": "input", "array": x, "quantization": None}],
        [{"name": "logits", "expected": fp32_ref, "method": "float64"}],
        {"weights": SEEDS["mnist.weights"], "input": input_seed}, expected_macs=791840)]
    builders = {"qdq": (mnist_quant.qdq_model, mnist_quant.reference_qdq, "mnist_cnn_qdq",
                        "same network, QDQ: int8 activations, per-channel full-range int8 "
                        "weights, int32 biases"),
                "qoperator": (mnist_quant.qlinear_model, mnist_quant.reference_qlinear,
                              "mnist_cnn_qlinear", "same network, QOperator: QLinearConv/"
                              "QLinearMatMul, uint8 activations, per-channel full-range int8 "
                              "weights, MaxPool on uint8")}
    for fmt, (build, reference, name, desc) in builders.items():
        p = params[fmt]
        model = build(p)
        xq = mnist_quant.quantize_input(x, p)
        expected = reference(p, xq)
        # Independent check of the graph wiring: the literal ONNX semantics (dequantize,
        # float64 compute, quantize) must agree with the integer reference exactly.
        literal = numpy_ref.run(model, {"input": xq})["logits"]
        if not np.array_equal(literal, expected):
            raise AssertionError(f"{name}: ONNX-literal evaluation differs from the reference")
        scale, zp = p["logits"]
        err = np.abs((expected.astype(np.float64) - int(zp)) * float(scale) - fp32_ref).max()
        notes = [f"dequantized logits vs fp32 on the sample: max abs error {err:.4f} "
                 f"(output scale {float(scale):.4g}), argmax "
                 f"{'agrees' if np.argmax(expected) == np.argmax(fp32_ref) else 'DIFFERS'}",
                 f"requantized values audited: {audits[fmt].values}, closest to a rounding tie:"
                 f" {audits[fmt].min_tie_distance:.2e} LSB"]
        arts.append(Artifact(
            name, model, f"MNIST CNN, {desc}", fmt,
            [{"name": "input", "array": xq, "quantization": _qinfo(p["input"])}],
            [{"name": "logits", "expected": expected, "method": "exact",
              "quantization": _qinfo(p["logits"])}],
            seeds, expected_macs=791840, notes=notes))
    return arts


def imagenet_family(name, build, description, expected_macs, wanted):
    """The fp32 model and, when asked for, its QDQ int8 version (BN folded, calibrated on
    IMAGENET_CALIBRATION_IMAGES fixed-seed images, same sample input quantized)."""
    model = build(np.random.default_rng(SEEDS[f"{name}.weights"]))
    x = np.random.default_rng(SEEDS[f"{name}.input"]).standard_normal(
        fp32_nets.IMAGENET_INPUT_SHAPE, dtype=np.float32)
    expected = numpy_ref.run(model, {"input": x})["logits"]
    seeds = {"weights": SEEDS[f"{name}.weights"], "input": SEEDS[f"{name}.input"]}
    arts = [Artifact(name, model, f"{description}; float32", "none",
                     [{"name": "input", "array": x, "quantization": None}],
                     [{"name": "logits", "expected": expected, "method": "float64"}],
                     seeds, expected_macs=expected_macs)]
    if f"{name}_qdq" not in wanted:
        return arts
    folded = qdq_convert.fold_batchnorm(model)
    calib = np.random.default_rng(SEEDS[f"{name}.calibration"]).standard_normal(
        (IMAGENET_CALIBRATION_IMAGES,) + fp32_nets.IMAGENET_INPUT_SHAPE[1:], dtype=np.float32)
    ranges = qdq_convert.calibrate(folded, calib)
    qmodel, in_qp, out_qp = qdq_convert.to_qdq(
        folded, ranges, f"{name}_qdq", f"{description}; QDQ int8: BatchNormalization folded, "
        "int8 activations, per-channel full-range int8 weights, int32 biases "
        "(edgert tools/gen_models)")
    xq = quantize_tensor(x, *in_qp)
    ties = numpy_ref.TieAudit()
    out = numpy_ref.run(qmodel, {"input": xq}, ties=ties)["logits"]
    if ties.near_ties:
        raise AssertionError(f"{name}_qdq: {ties.near_ties} roundings within "
                             f"{ties.window} LSB of a tie; the float64 result is not exact")
    deq = (out.astype(np.float64) - int(out_qp[1])) * float(out_qp[0])
    notes = [f"dequantized logits vs fp32 on the sample: correlation "
             f"{np.corrcoef(deq.ravel(), expected.ravel())[0, 1]:.5f}, max abs error "
             f"{np.abs(deq - expected).max():.4f} (output scale {float(out_qp[0]):.4g}), "
             f"argmax {'agrees' if np.argmax(deq) == np.argmax(expected) else 'DIFFERS'}",
             f"requantized values audited: {ties.values}, within {ties.window:g} LSB of a "
             f"rounding tie: 0"]
    arts.append(Artifact(
        f"{name}_qdq", qmodel, f"{description}; QDQ int8: BatchNormalization folded, int8 "
        "activations, per-channel full-range int8 weights, int32 biases", "qdq",
        [{"name": "input", "array": xq, "quantization": _qinfo(in_qp)}],
        [{"name": "logits", "expected": out, "method": "exact",
          "quantization": _qinfo(out_qp)}],
        dict(seeds, calibration=SEEDS[f"{name}.calibration"]),
        expected_macs=expected_macs, notes=notes))
    return arts


def identity_family():
    """A graph that only copies its input: the serving benchmarks measure the runtime's own
    overhead with it, since the engine's compute time is next to nothing."""
    g = GraphBuilder("identity")
    x = g.input("input", np.float32, IDENTITY_SHAPE)
    g.node("Identity", [x], "output")
    g.output("output", np.float32, IDENTITY_SHAPE)
    model = g.model("Identity of a float32 [1, 16] tensor (edgert tools/gen_models)")
    x = np.random.default_rng(SEEDS["identity.input"]).random(IDENTITY_SHAPE, dtype=np.float32)
    return [Artifact("identity", model, "Identity: output = input, float32 [1, 16]; for "
                     "measuring serving overhead", "none",
                     [{"name": "input", "array": x, "quantization": None}],
                     [{"name": "output", "expected": x.astype(np.float64), "method": "float64"}],
                     {"input": SEEDS["identity.input"]}, expected_macs=0)]


IDENTITY_SHAPE = (1, 16)

FAMILIES = {
    "mnist": (["mnist_cnn", "mnist_cnn_qdq", "mnist_cnn_qlinear"], lambda wanted: mnist_family()),
    "identity": (["identity"], lambda wanted: identity_family()),
    "mobilenetv2": (["mobilenetv2", "mobilenetv2_qdq"], lambda wanted: imagenet_family(
        "mobilenetv2", fp32_nets.mobilenetv2, "MobileNetV2-1.0 224: BatchNormalization folded, "
        "ReLU6 as Clip(0, 6), depthwise convs as group=C, inverted residuals, "
        "GlobalAveragePool-Flatten-Gemm(1000)", 300.8e6, wanted)),
    "resnet18": (["resnet18", "resnet18_qdq"], lambda wanted: imagenet_family(
        "resnet18", fp32_nets.resnet18, "ResNet-18 224: explicit BatchNormalization, MaxPool "
        "stem, residual Adds, GlobalAveragePool-Flatten-Gemm(1000)", 1814e6, wanted)),
}
ALL_MODELS = [n for names, _ in FAMILIES.values() for n in names]


# --------------------------------------------------------------------------------------------
# Output

def _npy_bytes(array):
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def _write(path, data):
    """Writes atomically (a reader never sees a half-written file)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _json_text(obj, indent=0):
    """json.dumps(indent=2), except that lists of numbers (shapes, paddings) stay on one line."""
    pad = "  " * (indent + 1)
    if isinstance(obj, dict) and obj:
        items = [f"{pad}{json.dumps(k)}: {_json_text(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(obj, list) and obj and not all(
            isinstance(v, (int, float)) or (isinstance(v, list) and all(
                isinstance(u, (int, float)) for u in v)) for v in obj):
        items = [pad + _json_text(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + "  " * indent + "]"
    return json.dumps(obj)


def _json_bytes(obj):
    return (_json_text(obj) + "\n").encode()


def _layout(rank):
    return {4: "NCHW", 2: "NC"}.get(rank, "")


def _tensor_entry(name, dtype, shape, quantization):
    return {"name": name, "dtype": np.dtype(dtype).name, "shape": list(shape),
            "layout": _layout(len(shape)), "quantization": quantization,
            "padding": [[0, 0] for _ in shape]}


def manifest(art, model_bytes):
    inputs = []
    for i, t in enumerate(art.inputs):
        entry = _tensor_entry(t["name"], t["array"].dtype, t["array"].shape, t["quantization"])
        entry["sample"] = f"input_{i}.npy"
        inputs.append(entry)
    outputs = []
    for i, t in enumerate(art.outputs):
        entry = _tensor_entry(t["name"], t["expected"].dtype if t["method"] == "exact"
                              else np.float32, art.shapes[t["name"]], t.get("quantization"))
        entry["expected"] = {
            "file": f"expected_output_{i}.npy", "dtype": t["expected"].dtype.name,
            "method": t["method"],
            "tolerance": EXACT_TOLERANCE if t["method"] == "exact" else FP32_TOLERANCE}
        outputs.append(entry)
    return {
        "schema": MANIFEST_SCHEMA, "version": SCHEMA_VERSION, "name": art.name,
        "description": art.description,
        "model": {"file": "model.onnx", "format": "onnx", "opset": OPSET,
                  "ir_version": IR_VERSION, "bytes": len(model_bytes),
                  "sha256": hashlib.sha256(model_bytes).hexdigest()},
        "quantization_format": art.quant_format, "macs": art.macs,
        "inputs": inputs, "outputs": outputs,
        "generator": {"tool": "tools/gen_models/gen_models.py", "seeds": art.seeds},
        "notes": art.notes,
    }


def write_artifact(out_dir, art):
    folder = os.path.join(out_dir, art.name)
    os.makedirs(folder, exist_ok=True)
    model_bytes = art.model.SerializeToString()
    _write(os.path.join(folder, "model.onnx"), model_bytes)
    for i, t in enumerate(art.inputs):
        _write(os.path.join(folder, f"input_{i}.npy"), _npy_bytes(t["array"]))
    for i, t in enumerate(art.outputs):
        _write(os.path.join(folder, f"expected_output_{i}.npy"), _npy_bytes(t["expected"]))
    _write(os.path.join(folder, "manifest.json"), _json_bytes(manifest(art, model_bytes)))
    return len(model_bytes)


def update_index(out_dir, entries):
    """DIR/index.json lists every generated model in DIR (merging earlier runs)."""
    path = os.path.join(out_dir, "index.json")
    models = {}
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
        if old.get("schema") == INDEX_SCHEMA:
            models = {m["name"]: m for m in old.get("models", [])}
    models.update({e["name"]: e for e in entries})
    index = {"schema": INDEX_SCHEMA, "version": SCHEMA_VERSION,
             "models": [models[n] for n in sorted(models)]}
    _write(path, _json_bytes(index))


def check(art):
    """Checker + strict shape inference, declared-vs-inferred output shapes, MAC budget."""
    inferred = validate(art.model)
    art.shapes = tensor_shapes(inferred)
    art.macs = count_macs(inferred)
    for t in art.outputs:
        if art.shapes[t["name"]] != tuple(t["expected"].shape):
            raise AssertionError(f"{art.name}: output {t['name']} shape "
                                 f"{art.shapes[t['name']]} != reference {t['expected'].shape}")
        if not np.isfinite(t["expected"].astype(np.float64)).all():
            raise AssertionError(f"{art.name}: non-finite reference output")
        if np.unique(t["expected"]).size < 2:
            raise AssertionError(f"{art.name}: degenerate reference output (all equal)")
    if art.expected_macs and abs(art.macs - art.expected_macs) > 0.01 * art.expected_macs:
        raise AssertionError(f"{art.name}: {art.macs} MACs, expected within 1% of "
                             f"{art.expected_macs:.0f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="output directory (one folder per model is written in it)")
    ap.add_argument("--only", nargs="+", metavar="NAME", choices=ALL_MODELS,
                    help="generate only these models")
    ap.add_argument("--list", action="store_true", help="list the model names and exit")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(ALL_MODELS))
        return 0
    if not args.out:
        ap.error("--out is required")
    wanted = set(args.only or ALL_MODELS)
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()
    index = []
    for names, family in FAMILIES.values():
        if not wanted.intersection(names):
            continue
        t0 = time.perf_counter()
        artifacts = [a for a in family(wanted) if a.name in wanted]
        for art in artifacts:
            check(art)
            size = write_artifact(args.out, art)
            index.append({"name": art.name, "path": f"{art.name}/model.onnx", "bytes": size,
                          "macs": art.macs, "quantization_format": art.quant_format})
            print(f"{art.name:20s} {size / 1e6:8.3f} MB {art.macs / 1e6:10.2f} M MACs")
            for note in art.notes:
                print(f"{'':20s} {note}")
        print(f"{'':20s} ({time.perf_counter() - t0:.2f} s)")
    update_index(args.out, index)
    print(f"wrote {len(index)} model(s) to {args.out} in {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
