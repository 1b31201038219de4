#!/usr/bin/env python3
"""Build a Hugging Face BERT checkpoint as a plain standard-op ONNX graph, without torch.

    python benches/peers/build_onnx.py HFDIR OUTDIR [--validate GOLDEN.json] [--no-int8]

Reads HFDIR/config.json and HFDIR/model.safetensors (f32) and writes

    OUTDIR/model.onnx       fp32, opset 17, standard ops only (ONNX Runtime fuses it itself)
    OUTDIR/model.int8.onnx  onnxruntime.quantization.quantize_dynamic, per channel,
                            int8 weights (QInt8, "U8S8"), reduce_range=False
    OUTDIR/meta.json        what was built (model kind, vocab size, versions)

and with --fused also the graph pre-fused by ONNX Runtime's transformer optimizer
(onnxruntime.transformers.optimizer, model_type bert: EmbedLayerNormalization, Attention,
SkipLayerNormalization, BiasGelu) and its int8 version (QAttention):

    OUTDIR/model.fused.onnx, OUTDIR/model.fused.int8.onnx

Inputs: input_ids, attention_mask, token_type_ids, all int64 [batch, seq].
Outputs: BertModel -> last_hidden_state [batch, seq, hidden] and sentence_embedding
[batch, hidden] (masked mean pooling + L2 normalisation, as sentence-transformers);
BertForSequenceClassification -> logits [batch, labels] (pooler tanh on [CLS] + classifier).

The graph has the same shape as a PyTorch export of transformers' BertModel, so that ONNX
Runtime's own graph optimizer (level ALL) finds its fusions: Gather+Add+LayerNormalization
(EmbedLayerNormalization), MatMul+Add, Reshape/Transpose per head, Div by sqrt(d), additive mask
(1 - mask) * -10000, Softmax, Erf-form GELU (x * 0.5 * (1 + erf(x / sqrt 2))), residual Add +
LayerNormalization (SkipLayerNormalization).

With --validate, the fp32 graph is checked against golden.json (PyTorch transformers outputs):
logits / embeddings / last_hidden_state of the 32 sentences, one at a time and as one padded
batch (which checks the mask).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
MASK_VALUE = -10000.0


def load_safetensors(path):
    try:
        from safetensors.numpy import load_file

        return load_file(path)
    except ImportError:  # plain parser: 8-byte little-endian header length + JSON header
        dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "BF16": None}
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(n))
            base = 8 + n
            out = {}
            for name, info in header.items():
                if name == "__metadata__":
                    continue
                a, b = info["data_offsets"]
                f.seek(base + a)
                out[name] = np.frombuffer(f.read(b - a), dtype=dtypes[info["dtype"]]).reshape(info["shape"])
            return out


class Builder:
    def __init__(self):
        self.nodes = []
        self.inits = []
        self.count = 0

    def name(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def init(self, name, array):
        array = np.asarray(array)  # (np.ascontiguousarray would turn a 0-d scalar into shape [1])
        self.inits.append(numpy_helper.from_array(array if array.flags.c_contiguous else array.copy(), name))
        return name

    def const(self, value, dtype):
        return self.init(self.name("const"), np.array(value, dtype=dtype))

    def op(self, op_type, inputs, prefix=None, n_out=1, **attrs):
        base = self.name(prefix or op_type)
        outs = [base] if n_out == 1 else [f"{base}:{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=base, **attrs))
        return outs[0] if n_out == 1 else outs

    def linear(self, x, w, b, prefix):
        # torch Linear weight is [out, in]; MatMul wants [in, out]
        wt = self.init(prefix + ".weight", w.T.astype(np.float32))
        bt = self.init(prefix + ".bias", b.astype(np.float32))
        return self.op("Add", [self.op("MatMul", [x, wt], prefix + "/MatMul"), bt], prefix + "/Add")

    def layer_norm(self, x, w, b, eps, prefix):
        wt = self.init(prefix + ".weight", w.astype(np.float32))
        bt = self.init(prefix + ".bias", b.astype(np.float32))
        return self.op("LayerNormalization", [x, wt, bt], prefix, axis=-1, epsilon=eps)


def detect(weights, config):
    arch = (config.get("architectures") or ["BertModel"])[0]
    prefix = "bert." if any(k.startswith("bert.") for k in weights) else ""
    if arch == "BertForSequenceClassification" or "classifier.weight" in weights:
        return "classification", prefix
    if arch in ("BertModel",):
        return "embedding", prefix
    raise SystemExit(f"unsupported architecture {arch!r} (BertModel or BertForSequenceClassification)")


def build(hfdir):
    config = json.load(open(os.path.join(hfdir, "config.json")))
    w = load_safetensors(os.path.join(hfdir, "model.safetensors"))
    w = {k: (v.astype(np.float32) if v.dtype != np.int64 else v) for k, v in w.items()}
    kind, p = detect(w, config)
    if config.get("hidden_act", "gelu") != "gelu":
        raise SystemExit(f"hidden_act {config['hidden_act']!r} not supported (gelu only)")
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise SystemExit("only absolute position embeddings are supported")
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    layers = config["num_hidden_layers"]
    eps = float(config.get("layer_norm_eps", 1e-12))
    vocab = config["vocab_size"]
    max_pos = config["max_position_embeddings"]

    g = Builder()
    I64, F32 = np.int64, np.float32

    # ---- embeddings: word + position + token type, LayerNorm (PyTorch-export shape) ----
    word = g.init(p + "embeddings.word_embeddings.weight", w[p + "embeddings.word_embeddings.weight"])
    pos = g.init(p + "embeddings.position_embeddings.weight", w[p + "embeddings.position_embeddings.weight"])
    tok = g.init(p + "embeddings.token_type_embeddings.weight", w[p + "embeddings.token_type_embeddings.weight"])
    pos_ids_all = g.init("position_ids", np.arange(max_pos, dtype=I64)[None, :])
    shape = g.op("Shape", ["input_ids"])
    seq_len = g.op("Gather", [shape, g.const(1, I64)], axis=0)
    seq_len_1d = g.op("Unsqueeze", [seq_len, g.const([0], I64)])
    pos_ids = g.op("Slice", [pos_ids_all, g.const([0], I64), seq_len_1d, g.const([1], I64)])
    e = g.op("Gather", [word, "input_ids"], axis=0)
    e = g.op("Add", [e, g.op("Gather", [tok, "token_type_ids"], axis=0)])
    e = g.op("Add", [e, g.op("Gather", [pos, pos_ids], axis=0)])
    x = g.layer_norm(e, w[p + "embeddings.LayerNorm.weight"], w[p + "embeddings.LayerNorm.bias"], eps,
                     p + "embeddings.LayerNorm")

    # ---- additive mask: (1 - mask) * -10000, [batch, 1, 1, seq] ----
    m = g.op("Unsqueeze", ["attention_mask", g.const([1], I64)])
    m = g.op("Unsqueeze", [m, g.const([2], I64)])
    m = g.op("Cast", [m], to=TensorProto.FLOAT)
    m = g.op("Sub", [g.const(1.0, F32), m])
    mask_add = g.op("Mul", [m, g.const(MASK_VALUE, F32)])

    split_shape = g.const([0, 0, heads, head_dim], I64)
    merge_shape = g.const([0, 0, hidden], I64)
    scale = g.const(math.sqrt(head_dim), F32)
    sqrt2 = g.const(math.sqrt(2.0), F32)
    one = g.const(1.0, F32)
    half = g.const(0.5, F32)

    for li in range(layers):
        L = f"{p}encoder.layer.{li}."
        # self-attention
        q = g.linear(x, w[L + "attention.self.query.weight"], w[L + "attention.self.query.bias"], L + "attention.self.query")
        k = g.linear(x, w[L + "attention.self.key.weight"], w[L + "attention.self.key.bias"], L + "attention.self.key")
        v = g.linear(x, w[L + "attention.self.value.weight"], w[L + "attention.self.value.bias"], L + "attention.self.value")
        q = g.op("Transpose", [g.op("Reshape", [q, split_shape])], perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [k, split_shape])], perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [v, split_shape])], perm=[0, 2, 1, 3])
        s = g.op("Div", [g.op("MatMul", [q, k]), scale])
        s = g.op("Add", [s, mask_add])
        a = g.op("Softmax", [s], axis=-1)
        c = g.op("MatMul", [a, v])
        c = g.op("Reshape", [g.op("Transpose", [c], perm=[0, 2, 1, 3]), merge_shape])
        o = g.linear(c, w[L + "attention.output.dense.weight"], w[L + "attention.output.dense.bias"], L + "attention.output.dense")
        x = g.layer_norm(g.op("Add", [o, x]), w[L + "attention.output.LayerNorm.weight"],
                         w[L + "attention.output.LayerNorm.bias"], eps, L + "attention.output.LayerNorm")
        # feed-forward, GELU erf form
        h = g.linear(x, w[L + "intermediate.dense.weight"], w[L + "intermediate.dense.bias"], L + "intermediate.dense")
        gl = g.op("Add", [g.op("Erf", [g.op("Div", [h, sqrt2])]), one])
        h = g.op("Mul", [g.op("Mul", [h, gl]), half])
        o = g.linear(h, w[L + "output.dense.weight"], w[L + "output.dense.bias"], L + "output.dense")
        x = g.layer_norm(g.op("Add", [o, x]), w[L + "output.LayerNorm.weight"], w[L + "output.LayerNorm.bias"], eps,
                         L + "output.LayerNorm")

    ids_info = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
                for n in ("input_ids", "attention_mask", "token_type_ids")]
    if kind == "embedding":
        g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="last_hidden_state"))
        # masked mean pooling + L2 normalisation (sentence-transformers Pooling + Normalize)
        mf = g.op("Unsqueeze", [g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT), g.const([2], I64)])
        summed = g.op("ReduceSum", [g.op("Mul", [x, mf]), g.const([1], I64)], keepdims=0)
        count = g.op("Max", [g.op("ReduceSum", [mf, g.const([1], I64)], keepdims=0), g.const(1e-9, F32)])
        mean = g.op("Div", [summed, count])
        norm = g.op("Sqrt", [g.op("ReduceSum", [g.op("Mul", [mean, mean]), g.const([1], I64)], keepdims=1)])
        norm = g.op("Max", [norm, g.const(1e-12, F32)])
        g.nodes.append(helper.make_node("Div", [mean, norm], ["sentence_embedding"], name="sentence_embedding"))
        outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", hidden]),
                   helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden])]
    else:
        cls = g.op("Gather", [x, g.const(0, I64)], axis=1)
        pooled = g.op("Tanh", [g.linear(cls, w[p + "pooler.dense.weight"], w[p + "pooler.dense.bias"], p + "pooler.dense")])
        logits = g.linear(pooled, w["classifier.weight"], w["classifier.bias"], "classifier")
        g.nodes.append(helper.make_node("Identity", [logits], ["logits"], name="logits"))
        n_labels = w["classifier.weight"].shape[0]
        outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", n_labels])]

    graph = helper.make_graph(g.nodes, "bert", ids_info, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="edgebert-peers-build_onnx")
    model.ir_version = 8
    meta = {"kind": kind, "vocab_size": str(vocab), "hidden_size": str(hidden), "num_layers": str(layers),
            "num_heads": str(heads), "source": os.path.abspath(hfdir)}
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model, full_check=True)
    return model, meta


def quantize(fp32_path, int8_path, meta, extra_options=None):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # U8S8: activations are quantized to uint8 at run time (dynamic quantization always does),
    # weights to int8 per output channel. On AVX-512 VNNI (vpdpbusd) U8S8 has no intermediate
    # int16 saturation, so reduce_range (7-bit weights, needed on AVX2/AVX-512 without VNNI)
    # is not needed and only costs accuracy. QUInt8 weights (U8U8) take a slower path on x86.
    quantize_dynamic(fp32_path, int8_path, per_channel=True, reduce_range=False,
                     weight_type=QuantType.QInt8, extra_options=extra_options)
    m = onnx.load(int8_path)
    helper.set_model_props(m, dict(meta, quantization="quantize_dynamic per_channel QInt8 reduce_range=False"))
    onnx.save(m, int8_path)


def fuse(fp32_path, fused_path, meta):
    import logging

    from onnxruntime.transformers.optimizer import optimize_model

    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    m = optimize_model(fp32_path, model_type="bert", num_heads=int(meta["num_heads"]),
                       hidden_size=int(meta["hidden_size"]), opt_level=0)
    stats = {k: v for k, v in m.get_fused_operator_statistics().items() if v}
    helper.set_model_props(m.model, dict(meta, fused="onnxruntime.transformers.optimizer bert opt_level=0"))
    m.save_model_to_file(fused_path)
    return stats


def validate(onnx_path, hfdir, golden_path, name=None):
    import onnxruntime as ort

    golden = json.load(open(golden_path))
    name = name or os.path.basename(os.path.normpath(hfdir))
    if name not in golden["models"]:
        print(f"validate: {name} not in {golden_path}; skipped")
        return True
    cases = golden["models"][name]
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    outs = [o.name for o in sess.get_outputs()]

    def run(rows):
        n = max(len(r) for r in rows)
        ids = np.zeros((len(rows), n), np.int64)
        mask = np.zeros((len(rows), n), np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        res = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
        return dict(zip(outs, res))

    key = "logits" if "logits" in outs else "sentence_embedding"
    gkey = "logits" if key == "logits" else "embedding"
    err_single = err_batch = err_hidden = 0.0
    singles = []
    for c in cases:
        r = run([c["input_ids"]])
        singles.append(r[key][0])
        err_single = max(err_single, float(np.abs(r[key][0] - np.array(c[gkey])).max()))
        if "last_hidden_state" in c and "last_hidden_state" in r:
            err_hidden = max(err_hidden, float(np.abs(r["last_hidden_state"][0] - np.array(c["last_hidden_state"])).max()))
    rb = run([c["input_ids"] for c in cases])
    for i, c in enumerate(cases):
        err_batch = max(err_batch, float(np.abs(rb[key][i] - np.array(c[gkey])).max()))
    ok = max(err_single, err_batch, err_hidden) <= 1e-4
    print(f"validate {name}: max |{key} - golden {gkey}| = {err_single:.2e} one at a time, {err_batch:.2e} padded batch"
          + (f"; last_hidden_state {err_hidden:.2e}" if err_hidden else "")
          + f" over {len(cases)} sentences -> {'OK' if ok else 'FAIL'} (tolerance 1e-4)")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("hfdir")
    ap.add_argument("outdir")
    ap.add_argument("--validate", metavar="GOLDEN_JSON", help="check the fp32 graph against golden.json")
    ap.add_argument("--name", help="model name in golden.json (default: HFDIR's folder name)")
    ap.add_argument("--no-int8", action="store_true", help="skip the int8 model")
    ap.add_argument("--fused", action="store_true",
                    help="also write model.fused.onnx (+ .int8) pre-fused by ORT's transformer optimizer")
    args = ap.parse_args()

    os.makedirs(args.outdir, exist_ok=True)
    model, meta = build(args.hfdir)
    fp32 = os.path.join(args.outdir, "model.onnx")
    onnx.save(model, fp32)
    print(f"wrote {fp32} ({os.path.getsize(fp32) / 1e6:.1f} MB, {len(model.graph.node)} nodes, {meta['kind']})")
    if not args.no_int8:
        int8 = os.path.join(args.outdir, "model.int8.onnx")
        quantize(fp32, int8, meta)
        print(f"wrote {int8} ({os.path.getsize(int8) / 1e6:.1f} MB)")
    if args.fused:
        fused = os.path.join(args.outdir, "model.fused.onnx")
        stats = fuse(fp32, fused, meta)
        print(f"wrote {fused} (fused: {stats})")
        if not args.no_int8:
            # contrib ops have no ONNX shape inference: tell the quantizer their outputs are float
            quantize(fused, os.path.join(args.outdir, "model.fused.int8.onnx"), meta,
                     {"DefaultTensorType": TensorProto.FLOAT})
            print(f"wrote {os.path.join(args.outdir, 'model.fused.int8.onnx')}")
    import onnxruntime

    meta.update(onnx=onnx.__version__, onnxruntime=onnxruntime.__version__, opset=OPSET,
                int8=None if args.no_int8 else "quantize_dynamic(per_channel=True, reduce_range=False, weight_type=QInt8)")
    json.dump(meta, open(os.path.join(args.outdir, "meta.json"), "w"), indent=1)
    if args.validate:
        ok = validate(fp32, args.hfdir, args.validate, args.name)
        if args.fused:
            ok = validate(os.path.join(args.outdir, "model.fused.onnx"), args.hfdir, args.validate, args.name) and ok
        if not ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
