"""A small helper that assembles ONNX graphs node by node.

GraphBuilder keeps the nodes, initializers and graph inputs/outputs of one model in insertion
order, so the serialized model depends only on the order of calls (and the weights passed in),
never on dictionary or set iteration. It targets opset 13 and IR version 8.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 8
PRODUCER = "edgert tools/gen_models"
PRODUCER_VERSION = "1"

NUMPY_TO_ONNX = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.int8): TensorProto.INT8,
    np.dtype(np.uint8): TensorProto.UINT8,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.int64): TensorProto.INT64,
}


class GraphBuilder:
    """Collects one graph. Names must be unique; every helper returns the output name."""

    def __init__(self, name):
        self.name = name
        self.nodes = []
        self.initializers = []
        self.inputs = []
        self.outputs = []
        self._names = set()
        self._node_count = {}

    def _claim(self, name):
        if name in self._names:
            raise ValueError(f"duplicate tensor name {name!r}")
        self._names.add(name)
        return name

    def input(self, name, dtype, shape):
        self.inputs.append(helper.make_tensor_value_info(
            self._claim(name), NUMPY_TO_ONNX[np.dtype(dtype)], list(shape)))
        return name

    def output(self, name, dtype, shape):
        """Declares an existing tensor as a graph output."""
        self.outputs.append(helper.make_tensor_value_info(
            name, NUMPY_TO_ONNX[np.dtype(dtype)], list(shape)))
        return name

    def const(self, name, array):
        """Adds an initializer; the array's dtype is kept as is."""
        array = np.ascontiguousarray(array)
        if array.dtype not in NUMPY_TO_ONNX:
            raise TypeError(f"{name}: unsupported initializer dtype {array.dtype}")
        self.initializers.append(numpy_helper.from_array(array, self._claim(name)))
        return name

    def node(self, op, inputs, output=None, **attrs):
        """Adds one node with a single output (named `output`, or derived from the op)."""
        count = self._node_count.get(op, 0)
        self._node_count[op] = count + 1
        node_name = f"{op}_{count}"
        output = self._claim(output if output is not None else node_name)
        self.nodes.append(helper.make_node(op, list(inputs), [output], name=node_name, **attrs))
        return output

    def copy_node(self, node, inputs, output):
        """Adds a node with the op type and attributes of `node` but new input/output names."""
        out = self.node(node.op_type, inputs, output)
        self.nodes[-1].attribute.extend(node.attribute)
        return out

    def model(self, doc):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs,
                                  initializer=self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name=PRODUCER, producer_version=PRODUCER_VERSION,
                                  doc_string=doc)
        model.ir_version = IR_VERSION
        return model


def validate(model):
    """Runs the ONNX checker and strict shape inference; returns the inferred model."""
    onnx.checker.check_model(model, full_check=False)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    onnx.checker.check_model(inferred, full_check=False)
    return inferred


def tensor_shapes(inferred):
    """Maps every tensor name of a shape-inferred model to its static shape (tuple of ints)."""
    shapes = {}
    for info in list(inferred.graph.input) + list(inferred.graph.value_info) + \
            list(inferred.graph.output):
        dims = info.type.tensor_type.shape.dim
        shapes[info.name] = tuple(d.dim_value for d in dims)
    for init in inferred.graph.initializer:
        shapes[init.name] = tuple(init.dims)
    return shapes


def count_macs(inferred):
    """Multiply-accumulates of the convolutions and matrix products of a shape-inferred model.

    Conv/QLinearConv: output elements x (input channels per group x kernel area).
    Gemm/MatMul/QLinearMatMul: M x N x K. Everything else (BN, adds, pooling) counts zero.
    """
    shapes = tensor_shapes(inferred)
    macs = 0
    for node in inferred.graph.node:
        if node.op_type in ("Conv", "QLinearConv"):
            w = shapes[node.input[3] if node.op_type == "QLinearConv" else node.input[1]]
            out = shapes[node.output[0]]
            macs += int(np.prod(out)) * int(np.prod(w[1:]))
        elif node.op_type in ("Gemm", "MatMul", "QLinearMatMul"):
            a = shapes[node.input[0]]
            out = shapes[node.output[0]]
            trans_a = any(at.name == "transA" and at.i for at in node.attribute)
            k = a[-2] if trans_a else a[-1]
            macs += int(np.prod(out)) * int(k)
    return macs
