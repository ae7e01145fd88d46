"""HTML reports from Python: DriftResult.to_html / save_html / _repr_html_, and the engine's
model health and report pages."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harper_edge
from harper_edge import Baseline, check_drift


def drifted_result() -> harper_edge.DriftResult:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"amount": rng.normal(0, 1, 2000), "<i>plan</i>": rng.choice(["a", "b"], 2000)})
    cur = pd.DataFrame({"amount": rng.normal(1, 1, 2000), "<i>plan</i>": rng.choice(["a", "b"], 2000)})
    return check_drift(Baseline.fit(ref), cur)


def test_a_drift_result_renders_offline_with_escaped_names(tmp_path: Path) -> None:
    result = drifted_result()
    html = result.to_html(title="Nightly")
    assert html.startswith("<!DOCTYPE html>") and "<title>Nightly</title>" in html
    assert "amount" in html and "▲ drifted" in html
    assert "&lt;i&gt;plan&lt;/i&gt;" in html and "<i>plan</i>" not in html
    assert "http://" not in html and "https://" not in html
    assert html.count("<svg") == html.count('role="img"')
    path = tmp_path / "drift.html"
    written = result.save_html(path)
    assert written == path.stat().st_size
    assert "▲ drifted" in path.read_text(encoding="utf-8")
    fragment = result._repr_html_()
    assert fragment.startswith("<style>") and '<section class="he-drift he-report"' in fragment
    assert "<script>" not in fragment and "<!DOCTYPE" not in fragment
    with pytest.raises(harper_edge.IoError):
        result.save_html(tmp_path / "missing" / "dir" / "x.html")


def test_the_engine_reports_a_models_health(engine: harper_edge.Engine, tmp_path: Path) -> None:
    x = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)
    for _ in range(40):
        engine.infer("iris", x)
    engine.flush()
    health = engine.model_health("iris")
    assert health["modelName"] == "iris" and health["modelVersion"] == "1"
    assert sum(r["requestCount"] for r in health["rollups"]) == 40
    assert health["drift"] is None and health["retraining"] == []
    page = engine.report_html(title="Fleet")
    assert "<title>Fleet</title>" in page and "Model iris:1" in page
    assert "<dt>Requests</dt><dd>40</dd>" in page
    size = engine.save_report(tmp_path / "r.html", ["iris:1"])
    assert size == (tmp_path / "r.html").stat().st_size
    with pytest.raises(harper_edge.NotFoundError):
        engine.report_html(["nosuch"])
    with pytest.raises(harper_edge.InvalidInputError, match="granularity"):
        engine.model_health("iris", granularity="weekly")
