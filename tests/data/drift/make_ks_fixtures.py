"""Write ks_fixtures.json: scipy.stats.ks_2samp (and scipy.stats.kstwo.sf) reference values for
harper_edge_core::drift::ks, checked by harper-edge-core/tests/drift_ks.rs.

Run from the repository root, with the pinned versions of requirements.txt (scipy 1.18.1 needs
Python >= 3.12):

    python3.12 -m venv /root/.cache/harper-edge/drift-venv
    /root/.cache/harper-edge/drift-venv/bin/pip install -r tests/data/drift/requirements.txt
    /root/.cache/harper-edge/drift-venv/bin/python tests/data/drift/make_ks_fixtures.py

Samples of up to SMALL values are stored literally. Larger ones are not stored: the fixture
holds the parameters of a deterministic generator that the Rust test re-implements bit for
bit (integer arithmetic and IEEE-754 double operations only, no libm):

    SplitMix64 (Steele, Lea & Flood 2014), seeded with `seed`:
        state <- state + 0x9E3779B97F4A7C15 (mod 2^64)       # k-th draw: seed + k*G
        z <- (state ^ (state >> 30)) * 0xBF58476D1CE4E5B9   (mod 2^64)
        z <- (z ^ (z >> 27)) * 0x94D049BB133111EB           (mod 2^64)
        z <- z ^ (z >> 31)
    u = (z >> 11) * 2^-53, a double in [0, 1)
    transform "uniform":  x = loc + scale * u                           (one draw per value)
    transform "normal4":  x = loc + scale * ((((u0 + u1) + u2) + u3) - 2.0)
                          (Irwin-Hall of 4: four consecutive draws per value)
    transform "discrete": x = loc + scale * double(z mod levels)        (ties)

In the JSON, a non-finite sample value or location is the string "inf" or "-inf", and a NaN
p-value is null.
"""

import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

OUT = Path(__file__).with_name("ks_fixtures.json")
SMALL = 60
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)


def splitmix64(seed, count):
    """The first `count` outputs of SplitMix64 seeded with `seed`, vectorised."""
    k = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + k * GOLDEN
        z = (z ^ (z >> np.uint64(30))) * M1
        z = (z ^ (z >> np.uint64(27))) * M2
    return z ^ (z >> np.uint64(31))


def generate(spec):
    n, loc, scale = spec["n"], spec["loc"], spec["scale"]
    transform = spec["transform"]
    if transform == "uniform":
        z = splitmix64(spec["seed"], n)
        u = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
        return loc + scale * u
    if transform == "normal4":
        z = splitmix64(spec["seed"], 4 * n).reshape(n, 4)
        u = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
        s = ((u[:, 0] + u[:, 1]) + u[:, 2]) + u[:, 3]
        return loc + scale * (s - 2.0)
    if transform == "discrete":
        z = splitmix64(spec["seed"], n)
        return loc + scale * (z % np.uint64(spec["levels"])).astype(np.float64)
    raise ValueError(transform)


def gen(seed, n, transform="normal4", loc=0.0, scale=1.0, levels=None):
    spec = {"seed": seed, "n": n, "transform": transform, "loc": loc, "scale": scale}
    if levels is not None:
        spec["levels"] = levels
    return spec


def encode_value(x):
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def encode_sample(sample):
    if isinstance(sample, dict):
        return {"generate": sample}
    assert len(sample) <= SMALL, len(sample)
    return [encode_value(v) for v in sample]


def materialise(sample):
    return generate(sample) if isinstance(sample, dict) else np.asarray(sample, dtype=np.float64)


ALTERNATIVES = ["two-sided", "less", "greater"]
CASES = []


def case(name, reference, current, alternatives=ALTERNATIVES, methods=("auto",)):
    for alternative in alternatives:
        for method in methods:
            CASES.append((name, reference, current, alternative, method))


def build_cases():
    # Tiny samples, by hand.
    case("n1=1 vs 1, apart", [1.0], [2.0], methods=("auto", "exact", "asymp"))
    case("n1=1 vs 1, equal", [3.0], [3.0], methods=("auto", "exact", "asymp"))
    case("1 vs 2", [0.5], [0.1, 0.9], methods=("auto", "asymp"))
    case("2 vs 1", [0.1, 0.9], [1.5], methods=("auto", "asymp"))
    case("2 vs 3", [1.0, 2.0], [0.0, 1.5, 3.0], methods=("auto", "asymp"))
    case("3 vs 3 interleaved", [1.0, 3.0, 5.0], [2.0, 4.0, 6.0], methods=("auto", "asymp"))
    case("3 vs 3 disjoint", [1.0, 2.0, 3.0], [4.0, 5.0, 6.0], methods=("auto", "asymp"))
    case("1 vs 3 below", [-1.0], [0.0, 1.0, 2.0])
    case("6 vs 4 doc example", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [4.5, 5.5, 6.5, 7.5])
    case("5 vs 4 sorted example", [0.3, 0.1, 0.2, 0.5, 0.4], [0.45, 0.6, 0.7, 0.8])
    # Infinities are ordered values; -0.0 and 0.0 are one value.
    case(
        "infinities",
        [-math.inf, -1.0, 0.0, 2.0, math.inf],
        [-math.inf, 0.5, 3.0, math.inf, math.inf, 7.0],
    )
    case("signed zeros", [0.0, -0.0, 1.0], [-0.0, 0.0, 2.0])
    case("all ties", [2.0] * 7, [2.0] * 5)
    # Interleaved equal sizes, D = 1/n: scipy's exact two-sided sum rounds to 1 + 2^-52 for
    # n = 5, 7, 30, ..., falls outside [0, 1], and scipy falls back to the asymptotic p-value.
    for n in (5, 6, 7, 30, 36):
        case(f"interleaved {n} vs {n}", [2.0 * i for i in range(n)],
             [2.0 * i + 1 for i in range(n)], ["two-sided"])
    case("ties across samples", [1, 1, 2, 2, 2, 3], [2, 2, 3, 3, 3, 3, 4])

    # Equal sizes: the exact square path.
    for n, shift, seed in [(5, 0.8, 1), (10, 0.5, 2), (20, 0.3, 3), (50, 0.4, 4),
                           (100, 0.2, 5), (500, 0.15, 6), (1000, 0.05, 7), (3000, 0.08, 8)]:
        case(f"equal n={n} shift={shift}", gen(seed, n) if n > SMALL else
             list(generate(gen(seed, n))), gen(seed + 100, n, loc=shift))
    # Unequal sizes, coprime.
    for n1, n2, shift, seed in [(7, 11, 0.6, 11), (13, 29, 0.4, 12), (100, 101, 0.3, 13),
                                (97, 250, 0.25, 14), (250, 97, -0.25, 15), (1000, 999, 0.1, 16),
                                (3001, 2999, 0.04, 17), (30, 400, 0.5, 18)]:
        case(f"coprime {n1} vs {n2}", gen(seed, n1), gen(seed + 100, n2, loc=shift))
    # Unequal sizes with common divisors.
    for n1, n2, shift, seed in [(6, 9, 0.7, 21), (20, 30, 0.5, 22), (100, 150, 0.3, 23),
                                (400, 1000, 0.12, 24), (1200, 800, 0.1, 25), (48, 36, 0.0, 26),
                                (2000, 5000, 0.05, 27)]:
        case(f"divisors {n1} vs {n2}", gen(seed, n1), gen(seed + 100, n2, loc=shift))
    # One-sided exact counts near the limit of a double (C(n1+n2, n1) < 1.8e308).
    case("one-sided 500 vs 520", gen(31, 500), gen(131, 520, loc=0.1), ["less", "greater"])
    case("one-sided 600 vs 700 (overflow: asymptotic)", gen(32, 600), gen(132, 700, loc=0.1),
         ["less", "greater"])
    case("one-sided 5000 vs 37", gen(33, 5000), gen(133, 37, loc=0.3), ["less", "greater"])
    # Heavy ties, discrete data.
    case("discrete 5 levels 50 vs 70", gen(41, 50, "discrete", levels=5),
         gen(141, 70, "discrete", levels=5))
    case("discrete 3 levels 200 vs 300", gen(42, 200, "discrete", levels=3),
         gen(142, 300, "discrete", loc=0.0, levels=4))
    case("discrete 10 levels 4000 vs 4000", gen(43, 4000, "discrete", levels=10),
         gen(143, 4000, "discrete", levels=10))
    case("discrete 2 levels 20000 vs 15000", gen(44, 20000, "discrete", levels=2),
         gen(144, 15000, "discrete", levels=2))
    # Identical samples: statistic 0, p = 1.
    case("identical 40", gen(51, 40), gen(51, 40))
    case("identical 12000", gen(52, 12000), gen(52, 12000))
    # Disjoint samples: tiny p.
    case("disjoint 20 vs 20", gen(61, 20, "uniform"), gen(161, 20, "uniform", loc=2.0))
    case("disjoint 30 vs 40", gen(62, 30, "uniform", loc=2.0), gen(162, 40, "uniform"))
    case("disjoint 500 vs 500", gen(63, 500, "uniform"), gen(163, 500, "uniform", loc=1.5))
    case("disjoint 3000 vs 3000", gen(64, 3000, "uniform"), gen(164, 3000, "uniform", loc=1.5),
         ["two-sided"])
    case("disjoint 20000 vs 30000", gen(65, 20000, "uniform"),
         gen(165, 30000, "uniform", loc=1.5))
    # The switch rule at 10 000.
    case("switch 10000 vs 10000", gen(71, 10000), gen(171, 10000, loc=0.02))
    case("switch 10000 vs 9999", gen(72, 10000), gen(172, 9999, loc=0.03))
    case("switch 10001 vs 10000", gen(73, 10001), gen(173, 10000, loc=0.03))
    case("switch 10001 vs 10001", gen(74, 10001), gen(174, 10001, loc=0.01))
    # Large samples: asymptotic, every branch of kstwo.sf for large n.
    case("large 50000 vs 70000 same", gen(81, 50000), gen(181, 70000))
    case("large 50000 vs 70000 shift 0.02", gen(82, 50000), gen(182, 70000, loc=0.02))
    case("large 50000 vs 70000 shift 0.06", gen(83, 50000), gen(183, 70000, loc=0.06))
    case("large 50000 vs 70000 shift 0.5", gen(84, 50000), gen(184, 70000, loc=0.5))
    case("large 200000 vs 300000 shift 0.01", gen(85, 200000), gen(185, 300000, loc=0.01),
         ["two-sided", "greater"])
    # Nearly the same sample (a prefix): a very small statistic, Durbin's matrix.
    case("prefix 20000 vs 22000", gen(86, 20000), gen(86, 22000), ["two-sided"])
    case("prefix 30000 vs 31000", gen(87, 30000), gen(87, 31000), ["two-sided"])
    # Forced methods.
    case("forced exact 15000 vs 12000", gen(91, 15000), gen(191, 12000, loc=0.03),
         ["two-sided"], methods=("exact",))
    case("forced exact 12000 vs 12000", gen(92, 12000), gen(192, 12000, loc=0.03),
         methods=("exact",))
    case("forced exact 50000 vs 49999 (lcm too big)", gen(93, 50000), gen(193, 49999, loc=0.01),
         methods=("exact",))
    case("forced exact 1500 vs 1000 one-sided", gen(94, 1500), gen(194, 1000, loc=0.1),
         ["less", "greater"], methods=("exact",))
    for n1, n2, shift, seed in [(3, 4, 0.5, 101), (20, 30, 0.0, 102), (20, 30, 1.0, 103),
                                (50, 50, 0.3, 104), (100, 300, 0.2, 105), (140, 140, 0.1, 106),
                                (140, 140, 0.9, 107), (300, 300, 0.15, 108),
                                (1000, 1000, 0.02, 109), (9, 8, 2.5, 110), (40, 25, 0.6, 111)]:
        case(f"forced asymp {n1} vs {n2} shift {shift}", gen(seed, n1),
             gen(seed + 1000, n2, loc=shift), methods=("asymp",))


def kstwo_grid():
    """Direct scipy.stats.kstwo.sf values: every branch of _kolmogn."""
    out = []
    ns = [1, 2, 3, 5, 10, 50, 140, 141, 1000, 20000, 100000, 100001, 1000000, 2000001]
    for n in ns:
        ds = set()
        for z in [0.3, 0.6, 0.8, 0.87, 1.0, 1.2, 1.5, 1.9, 2.1, 2.5, 4.0, 10.0, 19.0, 20.0]:
            d = z / math.sqrt(n)
            if 0 < d < 1:
                ds.add(d)
        for k in [0.4, 0.5, 0.7, 1.0, 1.5, 3.0]:
            if k / n < 1:
                ds.add(k / n)
        for d in [0.05, 0.2, 0.45, 0.5, 0.6, 0.75, 0.9, 0.99, 1 - 1 / n + 1e-9, 1 - 0.5 / n]:
            if 0 < d < 1:
                ds.add(d)
        for d in sorted(ds):
            out.append({"n": n, "d": d, "sf": float(stats.kstwo.sf(d, n))})
    # Densely where 2*smirnov(n, d) is summed term by term (2.2 <= n d^2 < 370, n <= 1e6).
    for n in [141, 300, 1000, 5000, 29167, 120000, 250000, 500000, 999999, 1000000]:
        for c in [2.2, 2.21, 2.6, 3.0, 5.0, 8.0, 15.0, 30.0, 60.0, 120.0, 250.0, 369.0]:
            d = math.sqrt(c / n)
            out.append({"n": n, "d": d, "sf": float(stats.kstwo.sf(d, n))})
    return out


def run_case(name, reference, current, alternative, method):
    a, b = materialise(reference), materialise(current)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = stats.ks_2samp(a, b, alternative=alternative, method=method)
    switched = any("Switching to" in str(w.message) for w in caught)
    if method == "asymp" or switched:
        used = "asymp"
    elif method == "exact":
        used = "exact"
    else:
        used = "exact" if max(len(a), len(b)) <= 10000 else "asymp"
    p = float(res.pvalue)
    return {
        "name": name,
        "n1": len(a),
        "n2": len(b),
        "alternative": alternative,
        "method": method,
        "reference": encode_sample(reference),
        "current": encode_sample(current),
        "statistic": float(res.statistic),
        "pvalue": None if math.isnan(p) else p,
        "statistic_location": encode_value(res.statistic_location),
        "statistic_sign": int(res.statistic_sign),
        "method_used": used,
    }


def main():
    assert scipy.__version__ == "1.18.1", scipy.__version__
    assert np.__version__ == "2.4.6", np.__version__
    build_cases()
    cases = []
    for c in CASES:
        cases.append(run_case(*c))
        print(f"{c[0]} / {c[3]} / {c[4]}: p={cases[-1]['pvalue']}", file=sys.stderr)
    doc = {
        "about": "scipy.stats.ks_2samp and scipy.stats.kstwo.sf reference values; "
                 "written by tests/data/drift/make_ks_fixtures.py (see its docstring for the "
                 "sample generator)",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "cases": cases,
        "kstwo_sf": kstwo_grid(),
    }
    text = json.dumps(doc, indent=None, separators=(",", ":"), allow_nan=False)
    OUT.write_text(text.replace('},{"name"', '},\n{"name"').replace('},{"n"', '},\n{"n"') + "\n")
    print(f"{len(cases)} cases, {len(doc['kstwo_sf'])} kstwo.sf values -> {OUT} "
          f"({OUT.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
