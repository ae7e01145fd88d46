"""A full tabular drift report, three ways, on the same generated data, in one run.

What is compared
----------------
Reference and current frames of N rows each (N = 10,000, 100,000 and 1,000,000 by default),
with 20 numeric float64 columns `num_0..num_19` (normal, lognormal and uniform) and 5
categorical string columns `cat_0..cat_4` (3 to 20 categories). Planted in the current frame:
5 numeric columns shifted (num_0, num_4, num_8, num_12, num_16: mean +0.1 sd or scale x1.2),
2 categorical columns shifted (cat_1: its frequencies moved; cat_3: a category the reference
never had, "NEW", takes 5% of the rows), and ~1% NaN in num_5 and num_10 in both frames. So a
report should flag 7 of 25 columns.

Contenders, each in a subprocess of its own (so peak memory is per contender):

* `scipy`: the loop a competent data scientist would write: per numeric column
  `scipy.stats.ks_2samp` (NaN dropped) and a PSI on 10 quantile bins of the reference; per
  categorical column `scipy.stats.chi2_contingency` on the counts over the union of categories
  and a categorical PSI; data quality (nulls per column, outliers outside the Tukey fences of the
  reference quartiles, rows of unknown categories). Drifted when p < 0.05.
* `evidently`: Evidently's `Report([DataDriftPreset()])` with its defaults (for more than 1,000
  rows these are the normed Wasserstein distance for numeric and the Jensen-Shannon distance for
  categorical columns, threshold 0.1), numeric and categorical columns declared in a
  `DataDefinition`; the time includes building the result dict (`snapshot.dict()`), no HTML.
* `evidently-ks`: the same preset told to use the tests the others use
  (`num_method="ks", cat_method="chisquare"`), for a like-for-like verdict.
* `harper_edge`: `harper_edge.Baseline.fit(reference)` then `harper_edge.check_drift(baseline,
  current)`, timed together (a report from raw data, as the others do), and `check_drift` alone
  with a baseline fitted beforehand ("check with saved baseline").

Each worker loads the parquet files into pandas, records its RSS (VmRSS), runs the report
`--repeat` times (default 3; the Evidently contenders once at 1,000,000 rows, where one run
takes minutes)
and reports the best wall time, its peak RSS (ru_maxrss) and the peak above the RSS it had once
the data was loaded. The parent prints a Markdown table per N; `--json FILE` also writes them.

How to run
----------
    make bench-peers-drift            # venv with requirements.txt + the local bindings, then this
    python report_peers.py --rows 10000,100000 --skip harper_edge
    python report_peers.py --only scipy,evidently --rows 1000000 --json out.json

Nothing is downloaded at run time except, once, the pip packages of requirements.txt (installed
by the Makefile): the data is generated here with numpy (fixed seed) and written once per N as
parquet under ~/.cache/harper-edge/drift-peers-data/, so every contender reads the same bytes.
Generating it is not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

SEED = 20_260_101
DATA_DIR = Path(os.environ.get("HARPER_EDGE_DRIFT_DATA", Path.home() / ".cache/harper-edge/drift-peers-data"))
CONTENDERS = ["scipy", "evidently", "evidently-ks", "harper_edge"]
NUMERIC = [f"num_{i}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
SHIFTED_NUMERIC = ["num_0", "num_4", "num_8", "num_12", "num_16"]
SHIFTED_CATEGORICAL = ["cat_1", "cat_3"]
NAN_COLUMNS = ["num_5", "num_10"]
CAT_SIZES = [3, 5, 8, 12, 20]
GEN_VERSION = 1  # bump when the generator changes, so stale files are not reused


# ---------------------------------------------------------------------------------------------
# Data


def paths(rows: int) -> tuple[Path, Path]:
    base = DATA_DIR / f"v{GEN_VERSION}-seed{SEED}-rows{rows}"
    return base / "reference.parquet", base / "current.parquet"


def generate(rows: int) -> None:
    """Write reference.parquet and current.parquet for `rows` rows, unless already there."""
    ref_path, cur_path = paths(rows)
    if ref_path.exists() and cur_path.exists():
        return
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED)
    ref, cur = {}, {}
    for i, name in enumerate(NUMERIC):
        kind = i % 3
        if kind == 0:  # normal
            mu, sd = rng.uniform(-5, 5), rng.uniform(0.5, 3)
            draw = lambda n, shift=0.0, scale=1.0: mu + shift * sd + rng.normal(0, sd * scale, n)  # noqa: E731
            sd_true = sd
        elif kind == 1:  # lognormal
            m, s = rng.uniform(0, 1), rng.uniform(0.25, 0.75)
            sd_true = float(np.sqrt((np.exp(s * s) - 1) * np.exp(2 * m + s * s)))
            draw = lambda n, shift=0.0, scale=1.0: shift * sd_true + np.exp(m + rng.normal(0, s, n)) * scale  # noqa: E731
        else:  # uniform
            lo, width = rng.uniform(-10, 10), rng.uniform(1, 20)
            sd_true = width / np.sqrt(12)
            mid = lo + width / 2
            draw = lambda n, shift=0.0, scale=1.0: mid + shift * sd_true + (rng.uniform(lo, lo + width, n) - mid) * scale  # noqa: E731
        ref[name] = draw(rows)
        if name in SHIFTED_NUMERIC:
            # alternate: mean +0.1 sd, or scale x1.2
            if SHIFTED_NUMERIC.index(name) % 2 == 0:
                cur[name] = draw(rows, shift=0.1)
            else:
                cur[name] = draw(rows, scale=1.2)
        else:
            cur[name] = draw(rows)
        if name in NAN_COLUMNS:
            for frame in (ref, cur):
                frame[name][rng.random(rows) < 0.01] = np.nan

    for i, (name, k) in enumerate(zip(CATEGORICAL, CAT_SIZES)):
        labels = np.array([f"{name}_v{j:02d}" for j in range(k)], dtype=object)
        p = rng.dirichlet(np.full(k, 2.0))
        ref[name] = labels[rng.choice(k, rows, p=p)]
        if name == "cat_1":  # frequencies moved: the two most common trade 5 points
            q = p.copy()
            top = np.argsort(q)[::-1][:2]
            q[top[0]] -= 0.05
            q[top[1]] += 0.05
            cur[name] = labels[rng.choice(k, rows, p=q)]
        elif name == "cat_3":  # a category the reference never had takes 5%
            values = labels[rng.choice(k, rows, p=p)]
            values[rng.random(rows) < 0.05] = "NEW"
            cur[name] = values
        else:
            cur[name] = labels[rng.choice(k, rows, p=p)]

    ref_path.parent.mkdir(parents=True, exist_ok=True)
    for frame, path in ((ref, ref_path), (cur, cur_path)):
        tmp = path.with_suffix(".tmp")
        pd.DataFrame(frame).to_parquet(tmp, engine="pyarrow", index=False)
        tmp.replace(path)


# ---------------------------------------------------------------------------------------------
# Contenders: each returns (run, check_only) where run(ref, cur) -> (drifted_numeric,
# drifted_categorical, result); check_only is None or a (prepare, run) pair.


def scipy_contender():
    import numpy as np
    from scipy import stats

    eps = 1e-4

    def psi(r_counts, c_counts):
        r = np.maximum(r_counts / max(r_counts.sum(), 1), eps)
        c = np.maximum(c_counts / max(c_counts.sum(), 1), eps)
        return float(np.sum((c - r) * np.log(c / r)))

    def run(ref, cur):
        result = {"numeric": {}, "categorical": {}, "quality": {}}
        for col in ref.columns:
            result["quality"][col] = {"nulls_reference": int(ref[col].isna().sum()),
                                      "nulls_current": int(cur[col].isna().sum())}
        for col in NUMERIC:
            r = ref[col].to_numpy()
            c = cur[col].to_numpy()
            r = r[~np.isnan(r)]
            c = c[~np.isnan(c)]
            ks = stats.ks_2samp(r, c)
            edges = np.quantile(r, np.linspace(0, 1, 11))[1:-1]
            r_counts = np.bincount(np.searchsorted(edges, r, side="right"), minlength=10)
            c_counts = np.bincount(np.searchsorted(edges, c, side="right"), minlength=10)
            q1, q3 = np.quantile(r, [0.25, 0.75])
            lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
            result["quality"][col]["outliers_current"] = int(np.count_nonzero((c < lo) | (c > hi)))
            result["numeric"][col] = {"ks": float(ks.statistic), "p_value": float(ks.pvalue),
                                      "psi": psi(r_counts, c_counts), "drifted": bool(ks.pvalue < 0.05)}
        for col in CATEGORICAL:
            r_vc = ref[col].value_counts()
            c_vc = cur[col].value_counts()
            cats = r_vc.index.union(c_vc.index)
            r_counts = r_vc.reindex(cats, fill_value=0).to_numpy()
            c_counts = c_vc.reindex(cats, fill_value=0).to_numpy()
            chi2, p, _, _ = stats.chi2_contingency(np.vstack([r_counts, c_counts]))
            unknown = c_vc.index.difference(r_vc.index)
            result["quality"][col]["unknown_categories"] = [str(u) for u in unknown]
            result["quality"][col]["unknown_rows"] = int(c_vc.reindex(unknown).sum())
            result["categorical"][col] = {"chi2": float(chi2), "p_value": float(p),
                                          "psi": psi(r_counts, c_counts), "drifted": bool(p < 0.05)}
        n_num = sum(v["drifted"] for v in result["numeric"].values())
        n_cat = sum(v["drifted"] for v in result["categorical"].values())
        return n_num, n_cat, result

    import scipy

    return run, None, {"scipy": scipy.__version__, "numpy": np.__version__}


def evidently_contender(like_for_like: bool):
    import evidently
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    P_VALUE_TESTS = {"ks", "chisquare", "z", "anderson", "fisher_exact", "cramer_von_mises", "g_test",
                     "mannw", "t_test", "epps_singleton", "empirical_mmd"}
    # Evidently's chisquare on a category the reference never had divides by a zero expectation
    # (p = 0, which is the right verdict); keep that scipy warning from flooding the output.
    warnings.filterwarnings("ignore", message="divide by zero encountered", category=RuntimeWarning)

    def run(ref, cur):
        preset = DataDriftPreset(num_method="ks", cat_method="chisquare") if like_for_like else DataDriftPreset()
        snapshot = Report([preset]).run(
            current_data=Dataset.from_pandas(cur, data_definition=definition),
            reference_data=Dataset.from_pandas(ref, data_definition=definition),
        )
        result = snapshot.dict()
        n_num = n_cat = total = 0
        for metric in result["metrics"]:
            config = metric["config"]
            if config["type"].endswith("DriftedColumnsCount"):
                total = int(metric["value"]["count"])
            elif config["type"].endswith(":ValueDrift"):
                value, threshold = metric["value"], config["threshold"]
                # p-value tests drift below the threshold; distances drift at or above it. The
                # method is a display name ("K-S p_value") when Evidently picked it, the short
                # name ("ks") when it was asked for.
                method = config["method"]
                drifted = value < threshold if ("p_value" in method or method in P_VALUE_TESTS) else value >= threshold
                if drifted:
                    if config["column"] in CATEGORICAL:
                        n_cat += 1
                    else:
                        n_num += 1
        if total != n_num + n_cat:
            print(f"warning: DriftedColumnsCount says {total}, per-column verdicts {n_num + n_cat}",
                  file=sys.stderr)
        return n_num, n_cat, result

    return run, None, {"evidently": evidently.__version__}


def harper_edge_contender():
    try:
        import harper_edge
    except ImportError as e:
        raise Skip(f"harper_edge drift API not available (harper_edge not importable: {e})") from e
    if not hasattr(harper_edge, "Baseline") or not hasattr(harper_edge, "check_drift"):
        raise Skip("harper_edge drift API not available (no harper_edge.Baseline / check_drift)")

    def counts(r):
        drifted = [f["feature_name"] for f in r.features if f["drifted"]]
        n_num = sum(1 for name in drifted if name in NUMERIC)
        n_cat = sum(1 for name in drifted if name in CATEGORICAL)
        return n_num, n_cat, r.to_dict()

    def run(ref, cur):
        b = harper_edge.Baseline.fit(ref)
        r = harper_edge.check_drift(b, cur)
        _ = r.quality
        return counts(r)

    def prepare(ref):
        return harper_edge.Baseline.fit(ref)

    def check(b, cur):
        r = harper_edge.check_drift(b, cur)
        _ = r.quality
        return counts(r)

    return run, (prepare, check), {"harper_edge": getattr(harper_edge, "__version__", "?")}


class Skip(Exception):
    pass


def vm_rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def worker(name: str, rows: int, repeat: int) -> dict:
    try:
        if name == "scipy":
            run, check_only, versions = scipy_contender()
        elif name == "evidently":
            run, check_only, versions = evidently_contender(False)
        elif name == "evidently-ks":
            run, check_only, versions = evidently_contender(True)
        elif name == "harper_edge":
            run, check_only, versions = harper_edge_contender()
        else:
            raise SystemExit(f"unknown contender {name}")
    except Skip as e:
        return {"contender": name, "rows": rows, "skipped": str(e)}

    import pandas as pd

    ref_path, cur_path = paths(rows)
    ref = pd.read_parquet(ref_path)
    cur = pd.read_parquet(cur_path)
    loaded_kib = vm_rss_kib()

    times, drifted = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        n_num, n_cat, _result = run(ref, cur)
        times.append(time.perf_counter() - start)
        drifted = (n_num, n_cat)
        del _result

    check_times = []
    if check_only is not None:
        prepare, check = check_only
        baseline = prepare(ref)
        for _ in range(repeat):
            start = time.perf_counter()
            check(baseline, cur)
            check_times.append(time.perf_counter() - start)

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "contender": name,
        "rows": rows,
        "versions": versions,
        "repeat": repeat,
        "times_s": times,
        "best_s": min(times),
        "check_times_s": check_times,
        "check_best_s": min(check_times) if check_times else None,
        "rss_after_load_mib": loaded_kib / 1024,
        "peak_rss_mib": peak_kib / 1024,
        "peak_above_data_mib": (peak_kib - loaded_kib) / 1024,
        "drifted_numeric": drifted[0],
        "drifted_categorical": drifted[1],
    }


# ---------------------------------------------------------------------------------------------
# Parent


MARK = "@@RESULT@@ "


def run_worker(name: str, rows: int, repeat: int) -> dict:
    env = dict(os.environ, DO_NOT_TRACK="1")  # no telemetry from any peer
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker", name, "--rows", str(rows), "--repeat", str(repeat)],
        env=env, stdout=subprocess.PIPE, text=True,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    return {"contender": name, "rows": rows, "failed": f"worker exited {proc.returncode}",
            "stdout_tail": proc.stdout[-2000:]}


def fmt_ratio(other: dict | None, mine: dict) -> str:
    if not other or "best_s" not in other:
        return "–"
    return f"{other['best_s'] / mine['best_s']:.2f}x"


def table(rows: int, results: list[dict]) -> str:
    by = {r["contender"]: r for r in results}
    ev, sp = by.get("evidently"), by.get("scipy")
    repeats = sorted({r["repeat"] for r in results if "repeat" in r})
    best_of = f", best of {'/'.join(map(str, repeats))}" if repeats else ""
    out = [f"### {rows:,} rows x 25 columns (reference and current){best_of}", "",
           "| contender | best s | vs evidently | vs scipy | check with saved baseline s "
           "| peak RSS MB | peak above data MB | drifted (num + cat) |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        if "best_s" not in r:
            out.append(f"| {r['contender']} | {r.get('skipped') or r.get('failed')} | | | | | | |")
            continue
        n_num, n_cat = r["drifted_numeric"], r["drifted_categorical"]
        drifted = f"{n_num} (split unknown)" if n_cat is None else f"{n_num + n_cat} ({n_num} + {n_cat})"
        check = f"{r['check_best_s']:.3f}" if r.get("check_best_s") is not None else "–"
        out.append(
            f"| {r['contender']} | {r['best_s']:.3f} | {fmt_ratio(ev, r)} | {fmt_ratio(sp, r)} | {check} "
            f"| {r['peak_rss_mib'] * 1.048576:.0f} | {r['peak_above_data_mib'] * 1.048576:.0f} | {drifted} |")
    out.append("")
    out.append(f"Planted: {len(SHIFTED_NUMERIC) + len(SHIFTED_CATEGORICAL)} drifted columns "
               f"({len(SHIFTED_NUMERIC)} + {len(SHIFTED_CATEGORICAL)}, one of them by a new category).")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default="10000,100000,1000000", help="comma-separated row counts")
    ap.add_argument("--repeat", type=int, default=None,
                    help="runs per contender (default 3 up to 100,000 rows, 1 above)")
    ap.add_argument("--only", default=None, help=f"comma-separated subset of {','.join(CONTENDERS)}")
    ap.add_argument("--skip", default="", help="comma-separated contenders to leave out")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    row_counts = [int(x.replace("_", "")) for x in args.rows.split(",") if x]

    if args.worker:
        rows = row_counts[0]
        repeat = args.repeat or (3 if rows <= 100_000 else 1)
        print(MARK + json.dumps(worker(args.worker, rows, repeat)), flush=True)
        return

    chosen = args.only.split(",") if args.only else list(CONTENDERS)
    skip = {s for s in args.skip.split(",") if s}
    for name in chosen + list(skip):
        if name not in CONTENDERS:
            ap.error(f"unknown contender {name!r}; choose from {', '.join(CONTENDERS)}")
    chosen = [c for c in chosen if c not in skip]

    import numpy as np
    import pandas as pd
    import pyarrow

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"numpy {np.__version__}, pandas {pd.__version__}, pyarrow {pyarrow.__version__}\n")
    everything = []
    for rows in row_counts:
        generate(rows)
        results = []
        for name in chosen:
            slow = name.startswith("evidently") and rows > 100_000
            repeat = args.repeat or (1 if slow else 3)
            print(f"... {name} at {rows:,} rows (x{repeat})", file=sys.stderr, flush=True)
            results.append(run_worker(name, rows, repeat))
        everything.extend(results)
        print(table(rows, results) + "\n", flush=True)
    versions = {}
    for r in everything:
        versions.update(r.get("versions", {}))
    if versions:
        print("Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": platform.python_version(), "cpus": os.cpu_count(),
                       "versions": versions, "results": everything}, f, indent=2)


if __name__ == "__main__":
    main()
