"""Power of drift verdicts against standard shifts: harper_edge, Evidently, scouter, whylogs.

What is measured
----------------
For each cell (a shift of one feature x a sample size n), `--trials` independent pairs
(reference, current) of n rows each are drawn with numpy, and every tool judges the same
arrays with its *default* per-feature verdict, as a user gets it. The share of trials judged
"drifted" is the detection rate (power); on the "none" rows, where nothing changed, it is the
false-positive rate. Each rate comes with a 95 % Wilson interval.

Shifts (one feature each):

* numeric, reference N(0, 1): none; mean +0.1 sd; mean +0.25 sd; scale x1.2;
* categorical, reference 5 categories with probabilities [0.40, 0.25, 0.15, 0.12, 0.08]:
  none; one category +5 points (0.15 -> 0.20, taken from the 0.40 one -> 0.35); a new
  category appearing with 2 % of the rows (taken proportionally from the others).

n = 1,000, 10,000 and 100,000 rows per side by default.

To save time, the 7 features of a trial are 7 columns of one frame, each drawn independently
(its own reference and current), and each tool runs once per trial on that frame. Every
verdict below is per column and does not depend on the other columns, so this is the same as
7 separate runs.

The tools and their default rules
---------------------------------

* `harper_edge`: `Baseline.fit(reference)` then `check_drift(baseline, current)` with the
  defaults; the feature's `drifted`: two-sample KS (numeric) or chi-square of reference vs
  current counts (categorical), p < 0.05.
* `evidently`: `Report([DataDriftPreset()])` with its defaults and a `DataDefinition` naming
  the numeric and categorical columns; the column's ValueDrift verdict. Evidently picks the
  method by the reference size: up to 1,000 rows KS (numeric) / chi-square (categorical),
  drifted when p < 0.05; above 1,000 rows the normed Wasserstein distance (numeric) / the
  Jensen-Shannon distance (categorical), drifted when >= 0.1.
* `scouter`: a PSI drift profile (`Drifter().create_drift_profile(reference,
  PsiDriftConfig(categorical_features=[...]))`, default 10 quantile bins) and
  `Drifter().compute_drift(current, profile)` for the PSI; the alert rule is scouter's
  default `PsiAlertConfig` threshold, `PsiChiSquareThreshold(alpha=0.05)`: alert when
  PSI > chi2.ppf(0.95, B - 1) / M, B the feature's bins in the profile, M the current
  sample size. scouter evaluates that rule on its server (crates/scouter_types/src/psi/
  alert.rs, `compute_threshold`, and crates/scouter_drift/src/psi/drift.rs); it is
  re-implemented here in one line, with the PSI from scouter's own client.
* `whylogs`: `why.log(pandas=frame).view()` for each side and
  `whylogs.viz.drift.column_drift_algorithms.calculate_drift_scores(target_view=current,
  reference_view=reference, with_thresholds=True)` (default algorithm selection: KS on the
  KLL sketches for numeric columns, a chi-square on the frequent-items sketches for others);
  drifted when its `drift_category` is "DRIFT" (p < 0.05); "POSSIBLE_DRIFT"
  (0.05 <= p < 0.15) is counted separately in the JSON, not as a detection.

A tool that raises or gives no verdict for a column in a trial has that trial recorded as
"n/a" with the reason; it never counts as a detection or a non-detection.

How to run
----------
    make bench-drift-power        # venv with requirements-power.txt + the local bindings, then this
    python power.py --trials 200 --seed 20261127 --out-json docs/data/drift-power.json --out-md power.md
    python power.py --trials 20 --sizes 1000,10000 --tools harper_edge,whylogs    # a quick look
    python power.py --tool-trials evidently=100   # fewer trials for one slow peer (said in the table)

Progress goes to stderr; the Markdown table to stdout (and `--out-md`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sys
import time
import warnings

# No telemetry from any peer (this script needs no network).
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

TOOLS = ["harper_edge", "evidently", "scouter", "whylogs"]
SIZES = [1_000, 10_000, 100_000]

CAT_P = np.array([0.40, 0.25, 0.15, 0.12, 0.08])
CAT_LABELS = np.array([f"c{i}" for i in range(len(CAT_P))] + ["c_new"], dtype=object)
CAT_PLUS5 = np.array([0.35, 0.25, 0.20, 0.12, 0.08])  # the 0.15 one +5 points, from the 0.40 one
NEW_SHARE = 0.02
CAT_NEW = np.append(CAT_P * (1 - NEW_SHARE), NEW_SHARE)  # 2 % new, taken proportionally

# (column, kind, label shown in the table)
CELLS = [
    ("num_none", "numeric", "numeric: none"),
    ("num_mean010", "numeric", "numeric: mean +0.1σ"),
    ("num_mean025", "numeric", "numeric: mean +0.25σ"),
    ("num_scale12", "numeric", "numeric: scale ×1.2"),
    ("cat_none", "categorical", "categorical: none"),
    ("cat_plus5", "categorical", "categorical: one category +5 points"),
    ("cat_new", "categorical", "categorical: new category (2 %)"),
]
NUMERIC = [c for c, k, _ in CELLS if k == "numeric"]
CATEGORICAL = [c for c, k, _ in CELLS if k == "categorical"]


# ---------------------------------------------------------------------------------------------
# Data


def draw(seed: int, n: int, trial: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference and current frames of one trial: every column drawn independently."""
    rng = np.random.default_rng([seed, n, trial])
    ref, cur = {}, {}
    for col in NUMERIC:
        ref[col] = rng.standard_normal(n)
        z = rng.standard_normal(n)
        if col == "num_mean010":
            z = z + 0.1
        elif col == "num_mean025":
            z = z + 0.25
        elif col == "num_scale12":
            z = z * 1.2
        cur[col] = z
    for col in CATEGORICAL:
        ref[col] = CAT_LABELS[rng.choice(len(CAT_P), n, p=CAT_P)]
        if col == "cat_plus5":
            cur[col] = CAT_LABELS[rng.choice(len(CAT_PLUS5), n, p=CAT_PLUS5)]
        elif col == "cat_new":
            cur[col] = CAT_LABELS[rng.choice(len(CAT_NEW), n, p=CAT_NEW)]
        else:
            cur[col] = CAT_LABELS[rng.choice(len(CAT_P), n, p=CAT_P)]
    return pd.DataFrame(ref), pd.DataFrame(cur)


# ---------------------------------------------------------------------------------------------
# Tools: each factory returns (versions, judge) where judge(ref, cur) returns
# {column: True | False | None} (None: no verdict for that column) and may raise.


def harper_edge_tool():
    import harper_edge

    def judge(ref, cur):
        baseline = harper_edge.Baseline.fit(ref)
        result = harper_edge.check_drift(baseline, cur)
        out = {c: None for c, _, _ in CELLS}
        for f in result.features:
            out[f["feature_name"]] = bool(f["drifted"])
        return out

    return {"harper_edge": getattr(harper_edge, "__version__", "?")}, judge


def evidently_tool():
    import evidently
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    p_value_methods = {"ks", "chisquare", "z", "anderson", "fisher_exact", "cramer_von_mises", "g_test",
                       "mannw", "t_test", "epps_singleton", "empirical_mmd"}
    # Evidently's chi-square on a category the reference never had divides by a zero expectation.
    warnings.filterwarnings("ignore", message="divide by zero encountered", category=RuntimeWarning)
    methods_seen: dict[str, set] = {}

    def judge(ref, cur):
        snapshot = Report([DataDriftPreset()]).run(
            current_data=Dataset.from_pandas(cur, data_definition=definition),
            reference_data=Dataset.from_pandas(ref, data_definition=definition),
        )
        out = {c: None for c, _, _ in CELLS}
        for metric in snapshot.dict()["metrics"]:
            config = metric["config"]
            if not config["type"].endswith(":ValueDrift"):
                continue
            value, threshold, method = metric["value"], config["threshold"], config["method"]
            # p-value tests drift below the threshold; distances at or above it (as Evidently).
            is_p = "p_value" in method or method in p_value_methods
            out[config["column"]] = bool(value < threshold if is_p else value >= threshold)
            methods_seen.setdefault(f"{config['column']}@{len(ref)}", set()).add(f"{method} {threshold}")
        return out

    judge.methods_seen = methods_seen
    return {"evidently": evidently.__version__}, judge


def scouter_tool():
    from importlib.metadata import version

    from scipy import stats
    from scouter import Drifter, PsiDriftConfig
    from scouter.alert import PsiAlertConfig, PsiChiSquareThreshold

    default_threshold = PsiAlertConfig().threshold
    if not isinstance(default_threshold, PsiChiSquareThreshold):
        raise RuntimeError(f"scouter's default PSI alert threshold is {type(default_threshold).__name__}, "
                           "not PsiChiSquareThreshold: update the rule here")
    alpha = default_threshold.alpha
    drifter = Drifter()

    def judge(ref, cur):
        profile = drifter.create_drift_profile(ref, PsiDriftConfig(categorical_features=list(CATEGORICAL)))
        psi = drifter.compute_drift(cur, profile).features
        out = {c: None for c, _, _ in CELLS}
        m = len(cur)
        for col, value in psi.items():
            bins = len(profile.features[col].bins)
            threshold = stats.chi2.ppf(1 - alpha, bins - 1) / m  # PsiChiSquareThreshold::compute_threshold
            out[col] = bool(value > threshold)
        return out

    return {"scouter-ml": version("scouter-ml")}, judge


def whylogs_tool():
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    possible: dict[str, int] = {}

    def judge(ref, cur):
        ref_view = why.log(pandas=ref).view()
        cur_view = why.log(pandas=cur).view()
        scores = calculate_drift_scores(target_view=cur_view, reference_view=ref_view, with_thresholds=True)
        out = {c: None for c, _, _ in CELLS}
        for col, score in scores.items():
            if score is None or score.get("drift_category") is None:
                continue
            out[col] = score["drift_category"] == "DRIFT"
            if score["drift_category"] == "POSSIBLE_DRIFT":
                possible[f"{col}@{len(ref)}"] = possible.get(f"{col}@{len(ref)}", 0) + 1
        return out

    judge.possible = possible
    return {"whylogs": why.__version__}, judge


FACTORIES = {"harper_edge": harper_edge_tool, "evidently": evidently_tool,
             "scouter": scouter_tool, "whylogs": whylogs_tool}


# ---------------------------------------------------------------------------------------------
# Statistics and output


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def cell_text(c: dict, default_trials: int, notes: dict) -> str:
    if c["trials"] == 0:
        reason = c.get("na_reason") or "no verdict"
        mark = notes.setdefault(reason, len(notes) + 1)
        return f"n/a[^{mark}]"
    lo, hi = wilson(c["drifted"], c["trials"])
    text = f"{c['drifted'] / c['trials']:.3f} ({lo:.3f}–{hi:.3f})"
    if c["trials"] != default_trials:
        text += f" [{c['trials']} trials]"
    if c["na"]:
        mark = notes.setdefault(f"{c['na']} trial(s) without a verdict: {c.get('na_reason')}", len(notes) + 1)
        text += f"[^{mark}]"
    return text


def markdown(results: dict, tools: list[str], sizes: list[int], trials: int) -> str:
    notes: dict[str, int] = {}
    header = "| shift | n per side | " + " | ".join(tools) + " |"
    out = [header, "|---|---:|" + "---:|" * len(tools)]
    for col, _kind, label in CELLS:
        for n in sizes:
            row = [label, f"{n:,}"]
            for tool in tools:
                row.append(cell_text(results[tool]["cells"][f"{col}@{n}"], trials, notes))
            out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.append(f"Detection rate (drifted trials / trials) with its 95 % Wilson interval; {trials} trials "
               "per cell unless a cell says otherwise. On the \"none\" rows it is the false-positive rate.")
    if notes:
        out.append("")
        for reason, mark in notes.items():
            out.append(f"[^{mark}]: {reason}")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=200, help="trials per cell (default 200)")
    ap.add_argument("--seed", type=int, default=20_261_127, help="base seed (default 20261127)")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated rows per side")
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    ap.add_argument("--tool-trials", default="",
                    help="fewer trials for a slow tool, e.g. evidently=100 (the first trials of each size)")
    ap.add_argument("--out-json", default=None, help="write the raw counts here")
    ap.add_argument("--out-md", default=None, help="write the Markdown table here")
    args = ap.parse_args()

    sizes = [int(x.replace("_", "")) for x in args.sizes.split(",") if x]
    tools = [t for t in args.tools.split(",") if t]
    for t in tools:
        if t not in FACTORIES:
            ap.error(f"unknown tool {t!r}; choose from {', '.join(TOOLS)}")
    tool_trials = {t: args.trials for t in tools}
    for item in filter(None, args.tool_trials.split(",")):
        name, _, count = item.partition("=")
        if name not in tool_trials:
            ap.error(f"--tool-trials: {name!r} is not a chosen tool")
        tool_trials[name] = min(int(count), args.trials)

    versions = {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__}
    judges, results = {}, {}
    for t in tools:
        results[t] = {"trials_requested": tool_trials[t], "seconds": 0.0, "errors": {},
                      "cells": {f"{c}@{n}": {"drifted": 0, "trials": 0, "na": 0, "na_reason": None}
                                for c, _, _ in CELLS for n in sizes}}
        try:
            v, judges[t] = FACTORIES[t]()
            versions.update(v)
        except Exception as e:  # a peer that does not import: every cell n/a, with the reason
            reason = f"{t} could not be set up: {type(e).__name__}: {e}"
            print(reason, file=sys.stderr)
            for c in results[t]["cells"].values():
                c["na_reason"] = reason

    print(f"power: {len(CELLS)} shifts x sizes {sizes} x {args.trials} trials, tools {tools}; "
          f"versions {versions}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    for n in sizes:
        gen_s = 0.0
        for trial in range(args.trials):
            t0 = time.perf_counter()
            ref, cur = draw(args.seed, n, trial)
            gen_s += time.perf_counter() - t0
            for t in tools:
                if t not in judges or trial >= tool_trials[t]:
                    continue
                t0 = time.perf_counter()
                try:
                    verdicts = judges[t](ref, cur)
                    error = None
                except Exception as e:
                    verdicts, error = {}, f"{type(e).__name__}: {str(e)[:300]}"
                    results[t]["errors"][error] = results[t]["errors"].get(error, 0) + 1
                results[t]["seconds"] += time.perf_counter() - t0
                results[t].setdefault("seconds_by_n", {}).setdefault(str(n), 0.0)
                results[t]["seconds_by_n"][str(n)] += time.perf_counter() - t0
                for col, _, _ in CELLS:
                    c = results[t]["cells"][f"{col}@{n}"]
                    v = verdicts.get(col)
                    if v is None:
                        c["na"] += 1
                        c["na_reason"] = c["na_reason"] or error or f"{t} gave no verdict for this column"
                    else:
                        c["trials"] += 1
                        c["drifted"] += int(v)
            if (trial + 1) % 20 == 0 or trial + 1 == args.trials:
                per_tool = ", ".join(f"{t} {results[t].get('seconds_by_n', {}).get(str(n), 0.0):.0f}s" for t in tools)
                print(f"  n={n:,}: {trial + 1}/{args.trials} trials, {time.perf_counter() - started:.0f}s "
                      f"elapsed (data {gen_s:.0f}s; {per_tool})", file=sys.stderr, flush=True)

    elapsed = time.perf_counter() - started
    for t in tools:
        judge = judges.get(t)
        if judge is not None and hasattr(judge, "methods_seen"):
            results[t]["methods_seen"] = {k: sorted(v) for k, v in sorted(judge.methods_seen.items())}
        if judge is not None and hasattr(judge, "possible"):
            results[t]["possible_drift"] = dict(sorted(judge.possible.items()))

    table = markdown(results, tools, sizes, args.trials)
    print(table)
    print(f"\n{elapsed:.0f} s in all; " + ", ".join(f"{t} {results[t]['seconds']:.0f} s" for t in tools),
          file=sys.stderr)
    if args.out_md:
        with open(args.out_md, "w") as f:
            f.write(table + "\n")
    if args.out_json:
        doc = {
            "date": dt.date.today().isoformat(),
            "command": " ".join(["python", "benches/peers/drift/power.py"] + sys.argv[1:]),
            "seed": args.seed, "trials": args.trials, "sizes": sizes, "cpus": os.cpu_count(),
            "versions": versions, "elapsed_s": round(elapsed, 1),
            "shifts": {col: label for col, _, label in CELLS},
            "categorical": {"reference": CAT_P.tolist(), "plus5": CAT_PLUS5.tolist(),
                            "new": CAT_NEW.tolist(), "labels": CAT_LABELS.tolist()},
            "tools": {t: {**r, "seconds": round(r["seconds"], 1),
                          "seconds_by_n": {k: round(v, 1) for k, v in r.get("seconds_by_n", {}).items()}}
                      for t, r in results.items()},
        }
        with open(args.out_json, "w") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
