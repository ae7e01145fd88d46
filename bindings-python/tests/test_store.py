"""The embedded SQLite store keeps models and events across engines."""

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import harper_edge
from conftest import IRIS


def test_records_survive_reopening(tmp_path: Path, reference: dict[str, Any]) -> None:
    home = tmp_path / "home"
    engine = harper_edge.Engine.open(home)
    engine.register_model("iris", "1", IRIS)
    p = engine.infer("iris:1", reference["inputs"][:1], user_id="alice")
    engine.feedback(p.inference_id, int(reference["labels"][0]))
    del engine

    reopened = harper_edge.Engine.open(str(home))
    assert [m.id for m in reopened.models()] == ["iris:1"]
    [event] = reopened.events(model="iris")
    assert (event.id, event.user_id, event.correct) == (p.inference_id, "alice", True)
    assert event.prediction == reference["labels"][0]
    # The model file was stored too: the reopened engine loads it and runs it.
    q = reopened.infer("iris", reference["inputs"])
    np.testing.assert_array_equal(q.outputs["label"], reference["labels"])
    assert len(reopened.events()) == 2


def test_open_defaults_to_harper_edge_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "from-env"
    monkeypatch.setenv("HARPER_EDGE_HOME", os.fspath(home))
    engine = harper_edge.Engine.open()
    engine.register_model("iris", "1", IRIS)
    assert home.is_dir() and any(home.iterdir())
    assert str(home) in repr(engine)
    assert [m.id for m in harper_edge.Engine.open(home).models()] == ["iris:1"]


def test_in_memory_engines_are_separate(reference: dict[str, Any]) -> None:
    a, b = harper_edge.Engine.in_memory(), harper_edge.Engine.in_memory()
    a.register_model("iris", "1", IRIS)
    assert b.models() == []
    assert repr(a) == "Engine.in_memory()"
