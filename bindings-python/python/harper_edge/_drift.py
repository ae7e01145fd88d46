"""Tabular data for the drift functions: a pandas DataFrame, a pyarrow Table, a polars
DataFrame or a mapping of column name to 1-D array-like, as columns the native module reads
without a Python loop.

Each column becomes one of:

- a float64 numpy array (numeric; NaN is null) — numeric, nullable-integer and boolean-free
  numeric dtypes, read in place when already float64;
- a ``(codes, categories)`` pair (categorical): int64 codes into a list of ``str``
  categories, ``-1`` for null — strings, pandas ``category`` and ``object`` columns of
  strings, and booleans (as the categories ``"true"`` / ``"false"``);
- a numpy ``object`` array (``object`` columns), read by the native module: strings
  become categories (one string object per category is recognised by identity, so the
  usual pandas / pyarrow columns cost no hashing), numbers and ``None`` / NaN as in lists;
- a plain list (anything else: objects of mixed kinds), read value by value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def _bool_categories(values: Any) -> tuple[np.ndarray, list[str]]:
    codes = np.asarray(values, dtype=bool).astype(np.int64)
    return codes, ["false", "true"]


def _factorized(codes: Any, uniques: Any) -> Any:
    cats = list(uniques)
    if all(isinstance(c, str) for c in cats):
        return np.asarray(codes, dtype=np.int64), cats
    if all(isinstance(c, (bool, np.bool_)) for c in cats):
        text = ["true" if c else "false" for c in cats]
        return np.asarray(codes, dtype=np.int64), text
    return None


def _pandas_column(series: Any) -> Any:
    import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from pandas.api import types  # type: ignore[import-untyped, import-not-found, unused-ignore]

    if types.is_bool_dtype(series.dtype) and not series.isna().any():
        return _bool_categories(series.to_numpy())
    if series.dtype == np.float64:
        return series.to_numpy()  # NaN is null already: no copy
    if types.is_numeric_dtype(series.dtype) and not types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if isinstance(series.dtype, pd.CategoricalDtype):
        coded = _factorized(series.cat.codes.to_numpy(), series.cat.categories)
        if coded is not None:
            return coded
    if series.dtype == object:
        # Read by the native module object by object; equal strings that are one object (as
        # pyarrow and pandas usually make them) are recognised by identity, not hashed.
        return series.to_numpy()
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    coded = _factorized(codes, uniques)
    if coded is not None:
        return coded
    return [None if pd.isna(v) else v for v in series.tolist()]


def _array_column(values: Any) -> Any:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"a column must be 1-D, got shape {array.shape}")
    kind = array.dtype.kind
    if kind in "iuf":
        return array.astype(np.float64, copy=False)
    if kind == "b":
        return _bool_categories(array)
    if kind == "O":
        return array
    if kind in "US":
        uniques, codes = np.unique(array.astype(str), return_inverse=True)
        return codes.astype(np.int64), [str(u) for u in uniques]
    return array.tolist()


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _list_column(values: Any) -> Any:
    if all(v is None or _is_number(v) for v in values):
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return list(values)


def columns(data: Any) -> dict[str, Any]:
    """``data`` as ``{name: column}`` (see the module documentation)."""
    if hasattr(data, "to_pandas") and not hasattr(data, "iloc"):
        data = data.to_pandas()  # pyarrow Table, polars DataFrame
    if hasattr(data, "iloc") and hasattr(data, "columns"):
        out: dict[str, Any] = {}
        for name in data.columns:
            key = str(name)
            if key in out:
                raise ValueError(f"column '{key}' is given twice")
            out[key] = _pandas_column(data[name])
        return out
    if isinstance(data, Mapping):
        out = {}
        for name, values in data.items():
            if not isinstance(name, str):
                raise TypeError(f"column names must be str, got {type(name).__name__}")
            if hasattr(values, "iloc"):
                out[name] = _pandas_column(values)
            elif isinstance(values, (list, tuple)):
                out[name] = _list_column(values)
            else:
                out[name] = _array_column(values)
        return out
    raise TypeError(
        "data must be a pandas DataFrame, a pyarrow Table, a polars DataFrame or a mapping "
        f"of column name to 1-D array-like, got {type(data).__name__}"
    )


def report_frame(features: list[dict[str, Any]]) -> Any:
    """``DriftResult.to_pandas()``: one row per feature."""
    try:
        import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError as e:
        raise ImportError("DriftResult.to_pandas() needs pandas: pip install pandas") from e
    keys = (
        "feature_name",
        "kind",
        "drift_method",
        "drift_score",
        "p_value",
        "threshold",
        "drifted",
        "psi",
        "wasserstein",
    )
    return pd.DataFrame({k: [f.get(k) for f in features] for k in keys})


def segments_frame(segments: list[dict[str, Any]]) -> Any:
    """``SegmentedDriftResult.to_pandas()``: one row per segment and feature; a segment that
    was not tested has one row with ``feature_name`` ``None`` and the reason in
    ``skipped``."""
    try:
        import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError as e:
        raise ImportError(
            "SegmentedDriftResult.to_pandas() needs pandas: pip install pandas"
        ) from e
    segment_keys = ("segment", "rows", "reference_rows", "compared_with")
    feature_keys = (
        "feature_name",
        "kind",
        "drift_method",
        "drift_score",
        "p_value",
        "adjusted_p_value",
        "threshold",
        "drifted",
    )
    rows: list[dict[str, Any]] = []
    for s in segments:
        head = {k: s.get(k) for k in segment_keys}
        head["segment_drifted"] = s.get("drifted")
        report = s.get("report")
        if report is None:
            rows.append({**head, **dict.fromkeys(feature_keys), "skipped": s.get("skipped")})
            continue
        for f in report["features"]:
            rows.append({**head, **{k: f.get(k) for k in feature_keys}, "skipped": None})
    columns = [*segment_keys, "segment_drifted", *feature_keys, "skipped"]
    return pd.DataFrame.from_records(rows, columns=columns)
