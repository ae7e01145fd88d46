"""One peer of the inference peer benchmark (benches/peers/inference), in Python: MiniLM-L6
sentence vectors (tokenize, run, attention-masked mean, L2 normalise), timed, printed as one
JSON object on stdout. run_peers.py runs each peer in a fresh process; see README.md.

    python python_peer.py --peer NAME --model-dir DIR --sentences FILE \
        --warmup W --runs N --batch 32 --batch-runs M

Peers:

- python-onnxruntime: onnxruntime + tokenizers + numpy, the way a Python user does it by hand
  (needs the venv of requirements.txt); 2 intra-op threads, 1 inter-op thread.
- harper-edge-python-ort | -tract | -candle: the harper_edge binding (needs the venv harper_edge
  is installed in), `Engine.embed` on the MiniLM directory fetched from the filesystem with
  metadata.backend = ort | tract | candle. The binding sets no thread count (each backend's
  default); its `embed` also records the call as an event, as it does for any user.

loadMs: python-onnxruntime: tokenizer + session creation. harper-edge: Engine.open + fetch_model
+ wait_job + one embed of one short sentence (the first embed loads the session), which also
copies the model files into the engine's home.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

HARPER_BACKENDS = {
    "harper-edge-python-ort": ("ort", "model.onnx"),
    "harper-edge-python-tract": ("tract", "model.onnx"),
    "harper-edge-python-candle": ("candle", "model.safetensors"),
}
PEERS = ["python-onnxruntime", *HARPER_BACKENDS]
THREADS = 2


def ms_since(start: int) -> float:
    return (time.perf_counter_ns() - start) / 1e6


def python_onnxruntime(model_dir: Path) -> tuple[Callable[[list[str]], np.ndarray], str, dict]:
    """onnxruntime + tokenizers, as scripts/make_minilm_reference.py does it: padding to the
    longest of the batch (tokenizer.json pins Fixed(128); overridden), truncation at
    max_position_embeddings (512), token_type_ids all 0."""
    import onnxruntime as ort
    import tokenizers
    from tokenizers import Tokenizer

    config = json.loads((model_dir / "config.json").read_text())
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_padding(pad_id=0, pad_token="[PAD]")  # batch-longest instead of Fixed(128)
    tok.enable_truncation(max_length=int(config.get("max_position_embeddings", 512)))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = THREADS
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(model_dir / "model.onnx"), opts, providers=["CPUExecutionProvider"])

    def embed(texts: list[str]) -> np.ndarray:
        encodings = tok.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], np.int64)
        mask = np.array([e.attention_mask for e in encodings], np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = session.run(["last_hidden_state"], feeds)
        m = mask[..., None].astype(np.float32)
        v = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

    runtime = f"onnxruntime {ort.__version__} (Python), tokenizers {tokenizers.__version__}"
    threads = f"intra_op_num_threads={THREADS}, inter_op_num_threads=1 (SessionOptions)"
    return embed, runtime, {"threads": threads}


def harper_edge_python(peer: str, model_dir: Path, home: Path) -> tuple[Callable[[list[str]], np.ndarray], str, dict]:
    from importlib.metadata import version

    import harper_edge

    backend, main_file = HARPER_BACKENDS[peer]
    detail: dict = {}
    t = time.perf_counter_ns()
    engine = harper_edge.Engine.open(home, tick_interval=None)
    source = {"kind": "fs", "root": str(model_dir.parent), "path": model_dir.name}
    job = engine.fetch_model(
        "minilm", backend, source, main_file=main_file,
        metadata={"backend": backend, "taskType": "embedding"},
    )
    job = engine.wait_job(job["id"], timeout=600.0)
    if job["state"] != "completed":
        raise RuntimeError(f"fetch job {job['state']}: {job.get('error')}")
    detail["fetchMs"] = ms_since(t)
    t = time.perf_counter_ns()
    engine.embed(f"minilm:{backend}", ["Hello world."])  # the first embed loads the session
    detail["firstEmbedMs"] = ms_since(t)
    ref = f"minilm:{backend}"

    def embed(texts: list[str]) -> np.ndarray:
        return engine.embed(ref, texts)

    runtime = f"harper_edge {version('harper_edge')} (Python binding), backend {backend}"
    if backend == "ort":
        import importlib.util

        dylib = os.environ.get("ORT_DYLIB_PATH")
        spec = importlib.util.find_spec("onnxruntime")
        if not dylib and spec is not None and spec.origin:
            runtime += f" (ONNX Runtime from the onnxruntime {version('onnxruntime')} Python package)"
        elif dylib:
            runtime += f" (ONNX Runtime from ORT_DYLIB_PATH={dylib})"
    detail["threads"] = "binding default (not settable): " + {
        "ort": "ONNX Runtime's default intra-op pool (one per physical core)",
        "tract": "tract's default (harper-edge configures no thread pool)",
        "candle": "candle's CPU default (harper-edge configures no thread count)",
    }[backend]
    detail["loadNote"] = "loadMs = Engine.open + fetch_model + wait_job (copies the files into the home) + first embed of one sentence (loads the session)"
    return embed, runtime, detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", required=True, choices=PEERS)
    parser.add_argument("--model-dir", type=Path, default=os.environ.get("HARPER_EDGE_MINILM_DIR")
                        or Path.home() / ".cache" / "harper-edge" / "models" / "minilm-l6")
    parser.add_argument("--sentences", type=Path, default=Path(__file__).with_name("sentences.json"))
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--batch-runs", type=int, default=20)
    parser.add_argument("--batch-warmup", type=int, default=2)
    args = parser.parse_args()

    sentences: list[str] = json.loads(args.sentences.read_text(encoding="utf-8"))["sentences"]
    if len(sentences) < 2 * args.batch:
        sys.exit(f"need at least {2 * args.batch} sentences, {args.sentences} has {len(sentences)}")
    batches = [sentences[: args.batch], sentences[args.batch : 2 * args.batch]]
    home = Path(tempfile.mkdtemp(prefix="harper-edge-inference-peer-"))
    try:
        try:
            t = time.perf_counter_ns()
            if args.peer == "python-onnxruntime":
                embed, runtime, detail = python_onnxruntime(args.model_dir)
            else:
                embed, runtime, detail = harper_edge_python(args.peer, args.model_dir, home)
            load_ms = ms_since(t)
        except Exception as e:  # noqa: BLE001 - a peer that cannot run is reported, not fatal
            print(json.dumps({"peer": args.peer, "skipped": f"{type(e).__name__}: {e}"}))
            return

        k = 0
        for _ in range(args.warmup):
            embed([sentences[k % len(sentences)]])
            k += 1
        b1 = []
        for _ in range(args.runs):
            text = sentences[k % len(sentences)]
            k += 1
            t = time.perf_counter_ns()
            embed([text])
            b1.append(ms_since(t))
        for j in range(args.batch_warmup):
            embed(batches[j % 2])
        b32 = []
        for j in range(args.batch_runs):
            batch = batches[j % 2]
            t = time.perf_counter_ns()
            out = embed(batch)
            b32.append(ms_since(t))
            assert out.shape == (args.batch, 384), out.shape
        vectors = np.asarray(embed(sentences[:4]), dtype=np.float64)
        print(json.dumps({
            "peer": args.peer, "runtime": runtime, "loadMs": load_ms, "b1Ms": b1, "b32Ms": b32,
            "vectors": vectors.tolist(), **detail,
        }))
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
