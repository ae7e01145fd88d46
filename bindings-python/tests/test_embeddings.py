"""The real all-MiniLM-L6-v2 sentence encoder through the binding, on every backend this build
has (tract, ONNX Runtime, candle): the MiniLM directory is fetched from the filesystem (the
model file and its tokenizer.json, config.json, pooling config), and ``embed`` gives the
vectors Python's onnxruntime + tokenizers gave on the same files
(``tests/data/minilm_reference.json``, written by ``scripts/make_minilm_reference.py``).

The model files come from ``scripts/setup_models.sh`` (``make python-test`` runs it);
``HARPER_EDGE_MINILM_DIR`` points at them."""

import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import harper_edge
from conftest import DATA

WAIT = 300.0
DIM = 384
MODEL_DIR = Path(
    os.environ.get("HARPER_EDGE_MINILM_DIR")
    or Path.home() / ".cache" / "harper-edge" / "models" / "minilm-l6"
)
NEEDED = ["model.onnx", "model_int8.onnx", "model.safetensors", "config.json", "tokenizer.json"]

# (version, main file, backend, reference key): every backend the Python binding builds.
VARIANTS = [
    ("tract", "model.onnx", "tract", "fp32"),
    ("ort", "model.onnx", "ort", "fp32"),
    ("ort-int8", "model_int8.onnx", "ort", "int8"),
    ("candle", "model.safetensors", "candle", "fp32"),
]


def model_dir() -> Path:
    """The MiniLM files; a test fails (is not skipped) when they are missing."""
    missing = [name for name in NEEDED if not (MODEL_DIR / name).is_file()]
    if missing:
        pytest.fail(
            f"MiniLM test models missing in {MODEL_DIR} ({', '.join(missing)}): "
            "run scripts/setup_models.sh (make python-test does)"
        )
    return MODEL_DIR


def cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


@pytest.fixture(scope="module")
def minilm_reference() -> dict[str, Any]:
    with open(DATA / "minilm_reference.json", encoding="utf-8") as f:
        ref: dict[str, Any] = json.load(f)
    return ref


@pytest.fixture(scope="module")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> harper_edge.Engine:
    """One engine on a fresh home with the MiniLM directory fetched once per backend, as
    ``minilm:<version>`` (``main_file`` and ``metadata.backend`` per version)."""
    if importlib.util.find_spec("onnxruntime") is None:
        pytest.fail("the test requirements install onnxruntime (the ort backend); it is missing")
    directory = model_dir()
    engine = harper_edge.Engine.open(tmp_path_factory.mktemp("minilm-home"), tick_interval=None)
    source = {"kind": "fs", "root": str(directory.parent), "path": directory.name}
    for version, main, backend, _ in VARIANTS:
        job = engine.fetch_model(
            "minilm",
            version,
            source,
            main_file=main,
            metadata={"backend": backend, "taskType": "embedding"},
        )
        job = engine.wait_job(job["id"], timeout=WAIT)
        assert job["state"] == "completed", f"{version}: {job}"
    return engine


@pytest.fixture(scope="module")
def vectors(
    minilm: harper_edge.Engine, minilm_reference: dict[str, Any]
) -> dict[str, npt.NDArray[np.float32]]:
    """All reference sentences embedded in one call per backend."""
    return {
        version: minilm.embed(f"minilm:{version}", minilm_reference["sentences"])
        for version, *_ in VARIANTS
    }


def test_the_registered_versions_carry_their_companion_files(minilm: harper_edge.Engine) -> None:
    for version, _, backend, _ in VARIANTS:
        model = minilm.model(f"minilm:{version}")
        assert model.metadata["backend"] == backend


@pytest.mark.parametrize(("version", "key"), [(v[0], v[3]) for v in VARIANTS])
def test_every_backend_gives_the_reference_vectors_in_one_batch(
    version: str,
    key: str,
    vectors: dict[str, npt.NDArray[np.float32]],
    minilm_reference: dict[str, Any],
) -> None:
    got = vectors[version]
    sentences = minilm_reference["sentences"]
    want = minilm_reference[key]
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.float32
    assert got.shape == (len(sentences), DIM) == (8, 384)
    np.testing.assert_allclose(np.linalg.norm(got.astype(np.float64), axis=1), 1.0, atol=1e-5)
    cosines = [cosine(got[i], want[i]) for i in range(len(sentences))]
    for text, c in zip(sentences, cosines):
        assert c >= 0.9999, f"{version} vs Python {key} on {text!r}: cosine {c}"
    print(f"\n{version}: lowest cosine to the Python {key} vectors {min(cosines):.12f}")
    # The same sentence twice in the batch gives the same vector twice.
    assert sentences[1] == sentences[3]
    assert cosine(got[1], got[3]) > 0.999_999


def test_the_backends_agree_with_each_other(
    vectors: dict[str, npt.NDArray[np.float32]], minilm_reference: dict[str, Any]
) -> None:
    keys = {v[0]: v[3] for v in VARIANTS}
    lowest: dict[tuple[str, str], float] = {}
    for a, va in vectors.items():
        for b, vb in vectors.items():
            if a >= b:
                continue
            # fp32 backends agree to 0.9999 and better; int8 stays close to fp32.
            floor = 0.9999 if keys[a] == keys[b] else 0.99
            cs = [cosine(va[i], vb[i]) for i in range(len(va))]
            for text, c in zip(minilm_reference["sentences"], cs):
                assert c >= floor, f"{a} vs {b} on {text!r}: cosine {c}"
            lowest[(a, b)] = min(cs)
    print("\n" + "\n".join(f"{a} vs {b}: lowest cosine {c:.12f}" for (a, b), c in lowest.items()))


def test_a_text_alone_gives_its_vector_in_the_batch(
    minilm: harper_edge.Engine,
    vectors: dict[str, npt.NDArray[np.float32]],
    minilm_reference: dict[str, Any],
) -> None:
    text = minilm_reference["sentences"][6]
    for version, *_ in VARIANTS:
        alone = minilm.embed(f"minilm:{version}", [text])
        assert alone.shape == (1, DIM)
        c = cosine(alone[0], vectors[version][6])
        assert c >= 0.99999, f"{version}: alone vs in the batch: {c}"


def test_the_texts_argument(
    minilm: harper_edge.Engine,
    vectors: dict[str, npt.NDArray[np.float32]],
    minilm_reference: dict[str, Any],
) -> None:
    sentences: list[str] = minilm_reference["sentences"]
    # A list of str, and any other sequence of str, give the same vectors.
    listed = minilm.embed("minilm:tract", list(sentences[:3]))
    tupled = minilm.embed("minilm:tract", tuple(sentences[:3]))  # type: ignore[arg-type]
    assert listed.shape == tupled.shape == (3, DIM)
    np.testing.assert_allclose(listed, tupled, atol=1e-6)
    for i in range(3):
        assert cosine(listed[i], vectors["tract"][i]) >= 0.99999
    with pytest.raises(TypeError, match="list of str"):
        minilm.embed("minilm:tract", "one text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list of str"):
        minilm.embed("minilm:tract", ["a", 1])  # type: ignore[list-item]
    for version, *_ in VARIANTS:
        with pytest.raises(harper_edge.InvalidInputError) as info:
            minilm.embed(f"minilm:{version}", [])
        assert info.value.code == "HARPER_EDGE_INVALID_INPUT"
    with pytest.raises(harper_edge.NotFoundError):
        minilm.embed("minilm:nope", ["a"])
    # Every call is recorded with its texts and the batch's size.
    minilm.flush()
    events = minilm.events("minilm", "tract")
    assert any(
        e.features_in == {"texts": sentences} and e.prediction == {"count": 8, "dim": DIM}
        for e in events
    ), events


def test_an_onnx_encoder_without_its_tokenizer_is_refused_with_the_reason(
    tmp_path: Path,
) -> None:
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copyfile(model_dir() / "model_int8.onnx", lone / "model.onnx")
    engine = harper_edge.Engine.open(tmp_path / "home", tick_interval=None)
    job = engine.wait_job(engine.fetch_model("bare", "1", str(lone / "model.onnx"))["id"], timeout=WAIT)
    assert job["state"] == "completed", job
    with pytest.raises(harper_edge.ModelLoadError, match="no tokenizer.json") as info:
        engine.embed("bare:1", ["hi"])
    assert info.value.code == "HARPER_EDGE_MODEL_LOAD"
