"""Events, feedback and the records' dict form."""

from typing import Any

import numpy as np
import pytest

import harper_edge


def test_feedback_sets_correct_and_actual_outcome(
    engine: harper_edge.Engine, reference: dict[str, Any]
) -> None:
    x, labels = reference["inputs"], reference["labels"]
    right = engine.infer("iris", x[:1])
    wrong = engine.infer("iris", x[-1:])
    assert right.prediction == labels[0]

    e = engine.feedback(right.inference_id, int(labels[0]))
    assert e.correct is True
    assert e.actual_outcome == labels[0]
    assert isinstance(e.feedback_timestamp, int) and e.feedback_timestamp >= e.timestamp

    wrong_label = (int(labels[-1]) + 1) % 3
    e = engine.feedback(wrong.inference_id, np.int64(wrong_label))
    assert e.correct is False
    assert e.actual_outcome == wrong_label

    stored = engine.event(right.inference_id)
    assert (stored.correct, stored.actual_outcome) == (True, labels[0])
    assert engine.event(wrong.inference_id).correct is False

    # 1.0 equals 1; feedback given again replaces the earlier one.
    e = engine.feedback(right.inference_id, float(labels[0]))
    assert e.correct is True
    e = engine.feedback(right.inference_id, {"label": "other"})
    assert e.correct is False
    assert e.actual_outcome == {"label": "other"}


def test_events_are_newest_first_with_context(
    engine: harper_edge.Engine, reference: dict[str, Any]
) -> None:
    x = reference["inputs"]
    ids = []
    for i in range(3):
        p = engine.infer(
            "iris", x[i : i + 1], user_id=f"u{i}", session_id="s", request_id=f"r{i}"
        )
        ids.append(p.inference_id)
    events = engine.events()
    assert [e.id for e in events] == ids[::-1]
    assert [e.user_id for e in events] == ["u2", "u1", "u0"]
    assert [e.request_id for e in events] == ["r2", "r1", "r0"]
    assert all(e.session_id == "s" for e in events)
    assert [e.id for e in engine.events(limit=2)] == ids[:0:-1]
    assert engine.events(model="other") == []
    assert len(engine.events(model="iris", version="1")) == 3
    newest = events[0]
    assert (newest.model_name, newest.model_version, newest.framework) == ("iris", "1", "onnx")
    np.testing.assert_array_equal(np.float32(newest.features_in), x[2:3])
    assert newest.prediction == reference["labels"][2]
    assert newest.confidence == pytest.approx(float(reference["probabilities"][2].max()), abs=1e-5)
    assert newest.error is None and newest.correct is None and newest.actual_outcome is None
    assert newest.latency_ms > 0 and newest.timestamp > 1_577_836_800_000
    assert "correct=None" in repr(newest)


def test_to_dict_has_original_camel_case_names(
    engine: harper_edge.Engine, reference: dict[str, Any]
) -> None:
    p = engine.infer("iris", reference["inputs"][:2], user_id="u")
    d = p.to_dict()
    assert {"inferenceId", "modelName", "modelVersion", "prediction", "confidence", "latencyMs"} == set(d)
    assert d["modelName"] == "iris" and d["prediction"] == reference["labels"][:2].tolist()

    e = engine.event(p.inference_id).to_dict()
    for key in ("modelName", "modelVersion", "featuresIn", "latencyMs", "userId", "actualOutcome", "feedbackTimestamp"):
        assert key in e, key
    assert not any("_" in k for k in e)
    # The recorded inputs read back as the same float32 values.
    np.testing.assert_array_equal(np.float32(e["featuresIn"]), reference["inputs"][:2])
    assert e["userId"] == "u"

    m = engine.model("iris").to_dict()
    assert {"modelName", "modelVersion", "blobSize", "inputSchema", "uploadedAt"} <= set(m)


def test_outbox_lists_and_prunes_records(
    engine: harper_edge.Engine, reference: dict[str, Any]
) -> None:
    p = engine.infer("iris", reference["inputs"][:1])
    engine.feedback(p.inference_id, 0)
    entries = engine.outbox()
    assert [e["table"] for e in entries] == ["Model", "InferenceEvent", "InferenceEvent"]
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert entries[-1]["record"]["correct"] is True
    assert entries[-1]["record"]["modelName"] == "iris"
    assert engine.outbox(after=entries[0]["seq"], limit=1) == entries[1:2]
    assert engine.prune_outbox(entries[1]["seq"]) == 2
    assert [e["seq"] for e in engine.outbox()] == [entries[2]["seq"]]
