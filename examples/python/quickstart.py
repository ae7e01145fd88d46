"""Quick start: register a model, run it on a numpy array, record feedback, read events."""

import tempfile
from pathlib import Path

import numpy as np

import harper_edge

MODEL = Path(__file__).resolve().parents[2] / "tests" / "data" / "iris_logreg.onnx"

with tempfile.TemporaryDirectory() as home:
    # An engine on the embedded SQLite store (here in a temporary directory).
    engine = harper_edge.Engine.open(home)
    model = engine.register_model("iris", "1", MODEL, metadata={"taskType": "classification"})
    print(f"registered {model.id} ({model.blob_size} bytes, inputs {model.input_schema})")

    # C-contiguous float32 arrays are read in place; the GIL is released during the call.
    x = np.array([[6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
    p = engine.infer("iris:1", x, user_id="quickstart")
    print(f"prediction {p.prediction} confidence {p.confidence:.3f} in {p.latency_ms:.3f} ms")
    print(f"probabilities {p.outputs['probabilities']}")
    assert p.prediction == 2  # virginica

    # The ground truth arrives later: record it against the inference id.
    event = engine.feedback(p.inference_id, 2)
    assert event.correct is True

    events = engine.events(model="iris")
    print(f"{len(events)} event(s) recorded; newest correct = {events[0].correct}")
    assert events[0].user_id == "quickstart"

    try:
        engine.infer("iris:9", x)
    except harper_edge.NotFoundError as e:
        print(f"{e.code}: {e}")
