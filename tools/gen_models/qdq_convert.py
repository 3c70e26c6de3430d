"""Turns the generator's fp32 graphs into QDQ int8 graphs (used for MobileNetV2 and ResNet-18).

Steps: fold BatchNormalization into the convolution before it, calibrate every activation on
fixed-seed inputs (NumPy, float64), then rewrite the graph in the QDQ pattern:

  input:int8 -> DequantizeLinear -> ...
  Conv(DQ x, DQ w per-channel int8, DQ b int32) [-> Relu | Clip] -> QuantizeLinear
  Add(DQ a, DQ b) [-> Relu] -> QuantizeLinear
  MaxPool(DQ x) -> QuantizeLinear with the input's parameters
  GlobalAveragePool(DQ x) -> QuantizeLinear
  Flatten on the int8 tensor
  Gemm(DQ x, DQ w per-channel int8, DQ b int32) -> QuantizeLinear -> output:int8

The quantization conventions (8-significant-bit scales, full-range symmetric per-channel
weights, exact int32 bias scales) are those of quantization.py. Only the node patterns the
generator produces are supported; anything else raises NotImplementedError.
"""

import numpy as np
from onnx import numpy_helper

import numpy_ref
from graph_builder import GraphBuilder
from quantization import activation_params, quantize_bias, quantize_weights_per_channel

F32 = np.float32


def _initializers(model):
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def _consumers(model):
    out = {}
    for node in model.graph.node:
        for name in node.input:
            out.setdefault(name, []).append(node)
    return out


def _attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return a.f if a.type == a.FLOAT else a.i
    return default


def fold_batchnorm(model):
    """A copy of `model` with every Conv -> BatchNormalization pair merged into one Conv."""
    inits = _initializers(model)
    consumers = _consumers(model)
    g = GraphBuilder(model.graph.name + "_folded")
    for i in model.graph.input:
        shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
        g.input(i.name, F32, shape)
    emitted = set()

    def const(name, array=None):
        if name not in emitted:
            emitted.add(name)
            g.const(name, inits[name] if array is None else array)
        return name

    folded = set()
    for node in model.graph.node:
        if node.name in folded:
            continue
        users = consumers.get(node.output[0], [])
        if node.op_type == "Conv" and len(users) == 1 and \
                users[0].op_type == "BatchNormalization":
            bn = users[0]
            gamma, beta, mean, var = (inits[n].astype(np.float64) for n in bn.input[1:5])
            eps = float(np.float32(_attr(bn, "epsilon", 1e-5)))
            scale = gamma / np.sqrt(var + eps)
            w = inits[node.input[1]].astype(np.float64) * scale[:, None, None, None]
            b = inits[node.input[2]].astype(np.float64) if len(node.input) > 2 else 0.0
            b = (b - mean) * scale + beta
            prefix = node.input[1].rsplit(".", 1)[0]
            g.copy_node(node, [node.input[0], const(f"{prefix}.weight", w.astype(F32)),
                               const(f"{prefix}.bias", b.astype(F32))], bn.output[0])
            folded.add(bn.name)
            continue
        if node.op_type == "BatchNormalization":
            raise NotImplementedError("fold_batchnorm: BatchNormalization not after a Conv")
        ins = [const(n) if n in inits else n for n in node.input]
        g.copy_node(node, ins, node.output[0])
    for o in model.graph.output:
        g.output(o.name, F32, [d.dim_value for d in o.type.tensor_type.shape.dim])
    return g.model(model.doc_string + "; BatchNormalization folded")


def calibrate(model, inputs):
    """(min, max) of every tensor over the calibration batch `inputs` (fed to "input")."""
    ranges = {"input": (float(inputs.min()), float(inputs.max()))}

    def observe(name, value):
        ranges[name] = (float(value.min()), float(value.max()))

    numpy_ref.run(model, {"input": inputs}, observe=observe)
    return ranges


def to_qdq(model, ranges, name, doc):
    """The QDQ int8 version of `model` (BN already folded). Returns (model, input qparams,
    output qparams)."""
    inits = _initializers(model)
    consumers = _consumers(model)
    g = GraphBuilder(name)
    q = {}        # fp32 tensor name -> (int8 tensor name, (scale, zero point))
    dq_of = {}    # int8 tensor name -> its DequantizeLinear output
    qp_consts = {}

    def qparams_consts(qname, qp):
        if qname not in qp_consts:
            qp_consts[qname] = (g.const(f"{qname}.scale", np.array(qp[0], F32)),
                                g.const(f"{qname}.zero_point", np.array(qp[1], np.int8)))
        return qp_consts[qname]

    def dq(fp_name):
        qname, qp = q[fp_name]
        if qname not in dq_of:
            dq_of[qname] = g.node("DequantizeLinear", [qname, *qparams_consts(qname, qp)],
                                  f"{qname}.dq")
        return dq_of[qname]

    def requant(y, fp_name, qp=None, out_name=None):
        qp = qp if qp is not None else activation_params(*ranges[fp_name], np.int8)
        qname = out_name or f"{fp_name}.q"
        q[fp_name] = (g.node("QuantizeLinear", [y, *qparams_consts(qname, qp)], qname), qp)
        return qp

    def dq_weight(wname, bname, in_qp, axis_out=0):
        wq, ws = quantize_weights_per_channel(inits[wname])
        bq, bs = quantize_bias(inits[bname], in_qp[0], ws)
        w = g.node("DequantizeLinear", [g.const(wname, wq), g.const(f"{wname}.scale", ws),
                                        g.const(f"{wname}.zero_point",
                                                np.zeros(ws.shape, np.int8))],
                   f"{wname}.dq", axis=axis_out)
        b = g.node("DequantizeLinear", [g.const(bname, bq), g.const(f"{bname}.scale", bs),
                                        g.const(f"{bname}.zero_point",
                                                np.zeros(bs.shape, np.int32))],
                   f"{bname}.dq", axis=0)
        return w, b

    def shared_const(init_name):  # Clip bounds are shared by every Clip
        if init_name not in qp_consts:
            qp_consts[init_name] = g.const(init_name, inits[init_name])
        return qp_consts[init_name]

    def fused_activation(node):
        users = consumers.get(node.output[0], [])
        if len(users) == 1 and users[0].op_type in ("Relu", "Clip"):
            return users[0]
        return None

    in_shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    input_qp = activation_params(*ranges["input"], np.int8)
    q["input"] = (g.input("input", np.int8, in_shape), input_qp)
    fused = set()
    output_name = model.graph.output[0].name
    for node in model.graph.node:
        op = node.op_type
        if node.name in fused:
            continue
        if op in ("Conv", "Add", "Gemm"):
            act = fused_activation(node) if op != "Gemm" else None
            out = act.output[0] if act is not None else node.output[0]
            # The graph output's name goes to the final int8 tensor; its float value is renamed.
            y_name = node.output[0] + (".float" if node.output[0] == output_name else "")
            if op == "Add":
                y = g.copy_node(node, [dq(node.input[0]), dq(node.input[1])], y_name)
            else:
                w, b = dq_weight(node.input[1], node.input[2], q[node.input[0]][1])
                y = g.copy_node(node, [dq(node.input[0]), w, b], y_name)
            if act is not None:
                fused.add(act.name)
                extra = [shared_const(n) for n in act.input[1:]]
                y = g.copy_node(act, [y, *extra], act.output[0])
            requant(y, out, out_name="logits" if out == output_name else None)
        elif op == "MaxPool":
            y = g.copy_node(node, [dq(node.input[0])], node.output[0])
            requant(y, node.output[0], qp=q[node.input[0]][1])
        elif op == "GlobalAveragePool":
            y = g.copy_node(node, [dq(node.input[0])], node.output[0])
            requant(y, node.output[0])
        elif op == "Flatten":
            qname, qp = q[node.input[0]]
            q[node.output[0]] = (g.copy_node(node, [qname], f"{node.output[0]}.q"), qp)
        else:
            raise NotImplementedError(f"to_qdq: {op}")
    out_shape = [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim]
    g.output("logits", np.int8, out_shape)
    return g.model(doc), input_qp, q[output_name][1]
