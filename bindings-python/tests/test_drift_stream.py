"""Streaming drift detectors: harper_edge.Adwin and harper_edge.PageHinkley."""

import numpy as np
import pytest

import harper_edge


def shifted(n: int = 4000, at: int = 2000, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 0.2, n)
    values[at:] += 0.5
    return values


def test_adwin_finds_a_shift_soon_after_it_and_batches_equal_single_updates() -> None:
    values = shifted()
    one = harper_edge.Adwin()
    singles = [i for i, v in enumerate(values) if one.update(float(v))]
    many = harper_edge.Adwin()
    assert many.update_many(values) == singles
    assert singles and 2000 <= singles[0] < 2100
    assert many.changes == one.changes >= 1
    assert many.mean == pytest.approx(one.mean, rel=1e-15)
    assert many.mean > 0.5, "the window holds the new regime"
    assert many.update_many([0.6] * 10) == [] or many.changes >= 1
    assert many.width > 0 and many.variance >= 0


def test_page_hinkley_directions_and_lists() -> None:
    values = shifted()
    up = harper_edge.PageHinkley(threshold=5.0, direction="up")
    found = up.update_many(values)
    assert found and found[0] >= 2000
    down = harper_edge.PageHinkley(threshold=5.0, direction="down")
    assert down.update_many(values.tolist()) == [], "looks only for decreases"
    assert down.count == 4000


def test_state_round_trips_through_json() -> None:
    values = shifted()
    a = harper_edge.Adwin()
    a.update_many(values[:3000])
    b = harper_edge.Adwin.from_json(a.to_json())
    assert a.update_many(values[3000:]) == b.update_many(values[3000:])
    assert (a.width, a.mean, a.changes) == (b.width, b.mean, b.changes)
    p = harper_edge.PageHinkley()
    p.update_many(values[:100])
    assert harper_edge.PageHinkley.from_json(p.to_json()).count == 100
    with pytest.raises(harper_edge.InvalidInputError, match="not a saved detector state"):
        harper_edge.Adwin.from_json("{}")


def test_bad_values_and_settings_are_typed_errors_and_change_nothing() -> None:
    a = harper_edge.Adwin()
    a.update_many([0.1, 0.2])
    with pytest.raises(harper_edge.InvalidInputError, match="position 1"):
        a.update_many([0.3, float("nan"), 0.4])
    assert a.width == 2
    with pytest.raises(harper_edge.InvalidInputError):
        a.update(float("inf"))
    with pytest.raises(harper_edge.InvalidInputError):
        harper_edge.Adwin(delta=0.0)
    with pytest.raises(harper_edge.InvalidInputError, match="direction"):
        harper_edge.PageHinkley(direction="sideways")
    with pytest.raises((TypeError, ValueError)):
        a.update_many(np.ones((2, 2)))
    with pytest.raises(TypeError):
        a.update_many(["a", "b"])
