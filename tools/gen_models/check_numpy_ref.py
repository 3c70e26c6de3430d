#!/usr/bin/python3
"""Checks the generator's NumPy interpreter (numpy_ref.py) against the ONNX backend node tests
of Debian's libonnx-testdata, for the ops the generated models use.

    /usr/bin/python3 tools/gen_models/check_numpy_ref.py [DATA_DIR]

Runs every node test whose graph uses only supported ops and attributes; a test the interpreter
declines (NotImplementedError) is skipped. Comparison as the ONNX backend runner does it (rtol
1e-3, atol 1e-7), exact for integer outputs. Exits non-zero on any mismatch.
"""

import glob
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy_ref  # noqa: E402

OPS = {"Conv", "Relu", "Clip", "Add", "MaxPool", "GlobalAveragePool", "Flatten", "Gemm",
       "BatchNormalization", "QuantizeLinear", "DequantizeLinear", "QLinearConv",
       "QLinearMatMul"}
DEFAULT_DIR = "/usr/share/libonnx-testdata/data/node"


def _load(pb):
    t = onnx.TensorProto()
    with open(pb, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def run_case(case):
    model = onnx.load(os.path.join(case, "model.onnx"))
    if not {n.op_type for n in model.graph.node} <= OPS:
        return None
    results = []
    for data in sorted(glob.glob(os.path.join(case, "test_data_set_*"))):
        ins = [_load(p) for p in sorted(glob.glob(os.path.join(data, "input_*.pb")))]
        outs = [_load(p) for p in sorted(glob.glob(os.path.join(data, "output_*.pb")))]
        feeds = {i.name: v for i, v in zip(model.graph.input, ins)}
        try:
            got = numpy_ref.run(model, feeds)
        except (NotImplementedError, KeyError, ValueError, IndexError, TypeError):
            return None
        for o, want in zip(model.graph.output, outs):
            g = got[o.name]
            if want.dtype.kind == "f":
                ok = g.shape == want.shape and np.allclose(g, want, rtol=1e-3, atol=1e-7)
            else:
                ok = g.shape == want.shape and np.array_equal(g.astype(want.dtype), want)
            results.append(ok)
    return all(results)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR
    if not os.path.isdir(root):
        print(f"no ONNX node tests at {root} (Debian package libonnx-testdata)")
        return 1
    passed, failed, skipped = [], [], 0
    for case in sorted(glob.glob(os.path.join(root, "test_*"))):
        outcome = run_case(case)
        if outcome is None:
            skipped += 1
        elif outcome:
            passed.append(os.path.basename(case))
        else:
            failed.append(os.path.basename(case))
    print(f"passed {len(passed)}, failed {len(failed)}, not applicable {skipped}")
    for name in passed:
        print(f"  ok   {name}")
    for name in failed:
        print(f"  FAIL {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
