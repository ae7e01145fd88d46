"""Write stats_fixtures.json: reference values for harper_edge_core::drift::{special, chi2,
distance}, checked by harper-edge-core/tests/drift_stats.rs to 1e-9 relative.

Run with the pinned versions of requirements.txt (numpy 2.4.6, scipy 1.18.1):

    python3 -m venv ~/.cache/harper-edge/drift-venv
    ~/.cache/harper-edge/drift-venv/bin/pip install -r tests/data/drift/requirements.txt
    ~/.cache/harper-edge/drift-venv/bin/python tests/data/drift/make_stats_fixtures.py

Sources of the expected values:

- special functions: scipy.special (gammaln, gammainc, gammaincc, chdtrc); 60-digit `decimal`
  arithmetic for ln Γ (Stirling's series after shifting the argument above 40) and for
  chi-square log-survival values far below the float range (the continued fraction of the upper
  incomplete gamma function, exact ln Γ of integers and half-integers);
- chi-square tests: scipy.stats.chisquare and scipy.stats.chi2_contingency (errors: the
  ValueError message scipy raises); the categorical helper's 2 x K table is built here by the
  documented policy (columns: categories counted in either sample, ascending; zero-in-both
  dropped) and tested with chi2_contingency;
- PSI: computed here by the documented binning, with numpy: edges = np.unique(np.quantile(
  reference, np.arange(1, B) / B)) (method "linear", numpy's default), minus edges >= the
  reference maximum; bins right-closed (np.searchsorted(edges, x, side="left")); empty bins get
  the proportion epsilon; PSI = sum((c - r) * log(c / r));
- Jensen-Shannon: scipy.spatial.distance.jensenshannon; Wasserstein: scipy.stats.
  wasserstein_distance; the reference standard deviation: np.std (ddof 0).

Larger samples are not stored: they are {"gen": {...}} specs of the generator below, which the
Rust test re-implements bit for bit (it uses only integer operations and exact or correctly
rounded IEEE float operations, no transcendental functions, so both languages agree exactly).
"""

import json
import math
import sys
from decimal import Decimal, getcontext
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

OUT = Path(__file__).with_name("stats_fixtures.json")
MASK = (1 << 64) - 1

# ---------------------------------------------------------------------------------------------
# The deterministic generator (documented in the fixture file as "generator").


def splitmix64(seed):
    state = seed & MASK
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def generate(spec):
    """Values of a {"seed", "n", "kind", "loc", "scale", "k"} spec."""
    rng = splitmix64(spec["seed"])
    unit = lambda: (next(rng) >> 11) * 2.0**-53  # noqa: E731  uniform on [0, 1), exact
    loc, scale, kind = float(spec["loc"]), float(spec["scale"]), spec["kind"]
    out = []
    for _ in range(spec["n"]):
        if kind == "uniform":
            v = loc + scale * unit()
        elif kind == "irwin_hall":  # sum of 4 uniforms, centred: bell-shaped, sd = scale/sqrt(3)
            s = unit()
            s = s + unit()
            s = s + unit()
            s = s + unit()
            v = loc + scale * (s - 2.0)
        elif kind == "cubic":  # right-skewed: mass piles up near loc
            u = unit()
            v = loc + scale * (u * u * u)
        elif kind == "integers":  # ties: loc + scale * (z mod k)
            v = loc + scale * float(next(rng) % spec["k"])
        else:
            raise ValueError(kind)
        out.append(v)
    return out


def gen(seed, n, kind, loc=0.0, scale=1.0, k=None):
    spec = {"seed": seed, "n": n, "kind": kind, "loc": loc, "scale": scale}
    if k is not None:
        spec["k"] = k
    return {"gen": spec}


def values(sample):
    return sample["values"] if "values" in sample else generate(sample["gen"])


def lit(xs):
    return {"values": [float(x) for x in xs]}


# ---------------------------------------------------------------------------------------------
# High-precision ln of the chi-square survival function, for integer degrees of freedom.

getcontext().prec = 60
PI = Decimal("3.14159265358979323846264338327950288419716939937510582097494")


def ln_gamma_decimal(twice_a):
    """ln Γ(a) for a = twice_a / 2, a positive integer or half-integer."""
    if twice_a % 2 == 0:
        return Decimal(math.factorial(twice_a // 2 - 1)).ln()
    n = twice_a // 2  # a = n + 1/2: Γ(a) = (2n)! √π / (4^n n!)
    return (Decimal(math.factorial(2 * n)) / (Decimal(4) ** n * Decimal(math.factorial(n)))).ln() + PI.sqrt().ln()


def bernoulli(n_max):
    """B_0 … B_n_max as fractions (Akiyama–Tanigawa)."""
    out, a = [], [Fraction(0)] * (n_max + 1)
    for m in range(n_max + 1):
        a[m] = Fraction(1, m + 1)
        for j in range(m, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        out.append(a[0])
    return out


BERNOULLI = bernoulli(44)


def ln_gamma_decimal_any(x):
    """ln Γ(x) for any float x > 0: shift to y >= 40, Stirling's series with 21 terms."""
    y, product = Decimal(x), Decimal(1)
    while y < 40:
        product *= y
        y += 1
    s = (y - Decimal("0.5")) * y.ln() - y + (2 * PI).ln() / 2
    for k in range(1, 22):
        b = BERNOULLI[2 * k]
        s += Decimal(b.numerator) / Decimal(b.denominator) / (2 * k * (2 * k - 1) * y ** (2 * k - 1))
    return s - product.ln()


def to_float(d):
    return 0.0 if abs(d) < Decimal("1e-40") else float(d)


def incomplete_gamma_decimal(a, x):
    """(P(a, x), Q(a, x)) as floats, from 60-digit arithmetic: the series of P below a + 1,
    the continued fraction of Q (modified Lentz) above."""
    a, x = Decimal(a), Decimal(x)
    prefactor = (a * x.ln() - x - ln_gamma_decimal_any(a)).exp()
    eps = Decimal("1e-45")
    if x < a + 1:
        term = sum_ = 1 / a
        ap = a
        while term > sum_ * eps:
            ap += 1
            term *= x / ap
            sum_ += term
        p = prefactor * sum_
        return float(p), float(1 - p)
    tiny = Decimal("1e-300")
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h, i = d, 1
    while True:
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = d if abs(d) > tiny else tiny
        c = b + an / c
        c = c if abs(c) > tiny else tiny
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < eps:
            break
        i += 1
    q = prefactor * h
    return float(1 - q), float(q)


def chi2_ln_sf_decimal(x, dof):
    """ln Q(dof/2, x/2) by the continued fraction, for x/2 well above dof/2."""
    a = Decimal(dof) / 2
    big_x = Decimal(x) / 2
    assert big_x > a + 30 * a.sqrt() + 50, (x, dof)

    def fraction(terms):
        d = big_x + 2 * terms + 1 - a
        for i in range(terms - 1, -1, -1):
            d = big_x + 2 * i + 1 - a - (i + 1) * (i + 1 - a) / d
        return d

    d, d2 = fraction(400), fraction(800)
    assert abs(d / d2 - 1) < Decimal("1e-40")
    return float(-big_x + a * big_x.ln() - d.ln() - ln_gamma_decimal(dof))


# ---------------------------------------------------------------------------------------------


def rel(a, b):
    return 0.0 if a == b else abs(a - b) / abs(b)


def special_cases():
    xs = [1e-300, 1e-10, 1e-5, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999999, 1.0, 1.000001, 1.01,
          1.1, 1.3, 1.4999, 1.5, 1.7, 1.9, 1.99, 2.0, 2.01, 2.1, 2.4999, 2.5, 3.0, 3.7, 5.0, 7.25,
          9.99, 10.0, 10.01, 20.5, 33.3, 100.0, 1000.5, 12345.678, 1e5, 1e10, 1e100, 1e300]
    # [x, scipy gammaln, 60-digit value]: scipy is only absolutely accurate (~1e-16) near the
    # zeros at 1 and 2, so the Rust test checks it there with an absolute tolerance.
    ln_gamma = [[x, float(special.gammaln(x)), to_float(ln_gamma_decimal_any(x))] for x in xs]

    a_values = [0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.5, 5.0, 7.5, 9.5, 10.0, 10.5, 12.0,
                20.0, 25.5, 50.0, 100.0, 150.5, 250.0, 500.0, 1000.0, 5000.0, 1e4, 1e5, 1e6]
    factors = [1e-6, 0.01, 0.1, 0.5, 0.8, 0.9, 0.99, 1.0, 1.01, 1.1, 1.5, 2.0, 3.0, 5.0, 10.0,
               30.0, 100.0]
    # [a, x, scipy gammainc, scipy gammaincc, P and Q from 60-digit arithmetic]: for a >= 1e5
    # just outside its asymptotic region, scipy's series stops after 2000 terms (4e-6 low at
    # a = 1e6, x = a - 5 sqrt(a)); the Rust test reports such rows.
    gammainc = []
    for a in a_values:
        xs = {a * f for f in factors}
        xs |= {a + k * math.sqrt(a) for k in (-5, -2, -1, 1, 2, 5, 10, 20, 30)}
        xs |= {1e-10, 0.5, 1.0, 1.1, 10.0, 100.0, 700.0}
        for x in sorted(xs):
            if x <= 0:
                continue
            p, q = float(special.gammainc(a, x)), float(special.gammaincc(a, x))
            if max(p, q) == 0.0 or (q < 1e-300 and x > a):
                continue
            gammainc.append([a, x, p, q, *incomplete_gamma_decimal(a, x)])

    chi2_sf = []  # [x, dof, scipy chdtrc, Q(dof/2, x/2) from 60-digit arithmetic]
    dofs = [1, 2, 3, 4, 5, 7, 10, 20, 30, 50, 100, 200, 500, 1000, 10_000, 100_000]
    for k in dofs:
        xs = {k * f for f in (1e-4, 0.1, 0.5, 0.9, 1.0, 1.1, 1.5, 2.0, 3.0)}
        for p in (0.5, 0.05, 1e-3, 1e-6, 1e-10, 1e-15, 1e-30, 1e-50, 1e-100, 1e-200, 1e-300):
            xs.add(float(stats.chi2.isf(p, k)))
        for x in sorted(xs):
            chi2_sf.append([x, k, float(special.chdtrc(k, x)), incomplete_gamma_decimal(k / 2, x / 2)[1]])

    # ln sf where sf underflows (or nearly), against 60-digit arithmetic; the representable ones
    # double-check scipy.
    chi2_ln_sf = []
    for k in (1, 2, 3, 10, 51, 1000):
        for x in (1500.0, 3000.0, 1e4, 1e5, 1e6):
            if x / 2 <= k / 2 + 30 * math.sqrt(k / 2) + 50:
                continue
            ln_sf = chi2_ln_sf_decimal(x, k)
            sf = float(special.chdtrc(k, x))
            if sf > 1e-300:
                assert rel(math.log(sf), ln_sf) < 1e-12, (x, k, sf, ln_sf)
            chi2_ln_sf.append([x, k, ln_sf])
    return ln_gamma, gammainc, chi2_sf, chi2_ln_sf


def ln_p(p, statistic, dof):
    if p > 1e-300:
        return math.log(p)
    return chi2_ln_sf_decimal(statistic, dof)


def chisquare_cases():
    cases = [
        ([16, 18, 16, 14, 12, 12], None, 0),
        ([16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8], 0),
        ([16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8], 2),
        ([10.5, 20.25, 5.25], [12, 12, 12], 0),
        ([1, 2, 3], [2, 2, 2.000000001], 0),
        ([0, 1, 0, 2], None, 0),
        ([1, 0], [0.5, 0.5], 0),
        ([1_010_000, 990_000, 1_000_000], None, 0),
        ([1_050_000, 950_000, 1_000_000, 1_000_000], None, 0),
        ([1_300_000, 700_000, 1_000_000, 1_000_000], None, 0),
        (list(range(1, 101)), None, 0),
        ([1, 2, 3], [2, 2, 2.0001], 0),  # sums disagree: ValueError
    ]
    out = []
    for obs, exp, ddof in cases:
        case = {"observed": [float(v) for v in obs],
                "expected": None if exp is None else [float(v) for v in exp], "ddof": ddof}
        try:
            r = stats.chisquare(obs, exp, ddof=ddof)
        except ValueError as e:
            case["error"] = str(e).splitlines()[0]
        else:
            dof = len(obs) - 1 - ddof
            case.update(statistic=float(r.statistic), p_value=float(r.pvalue), dof=dof,
                        ln_p_value=ln_p(float(r.pvalue), float(r.statistic), dof))
        out.append(case)
    return out


def contingency_cases():
    grid_3x4 = np.array(values(gen(32, 12, "integers", 0, 1, k=30))).reshape(3, 4).tolist()
    grid_10x20 = np.array(values(gen(33, 200, "integers", 5, 1, k=50))).reshape(10, 20).tolist()
    tables = [
        ([[12, 5], [7, 9]], True),
        ([[12, 5], [7, 9]], False),
        ([[5, 5], [5, 6]], True),  # |e - o| < 1/2: corrected to the expected counts
        ([[1, 0], [0, 1]], True),
        ([[1, 0], [0, 1]], False),
        ([[50, 30, 20, 0], [45, 30, 15, 10]], True),
        ([[0, 1, 2], [3, 0, 1]], True),
        (grid_3x4, True),
        (grid_10x20, True),
        ([[1.5, 2.25], [3.0, 4.75]], True),
        ([[10, 20], [30, 40], [50, 65]], True),
        ([[1_000_000, 1_010_000], [1_000_000, 990_000]], True),
        ([[1_000_000, 1_010_000], [1_000_000, 990_000]], False),
        ([[1_000_000, 1_060_000, 980_000], [1_000_000, 940_000, 1_020_000]], True),
        ([[2_000_000, 1_000_000], [1_000_000, 2_000_000]], True),  # p underflows to 0
        ([[1, 2, 3]], True),  # dof 0
        ([[1], [2], [3]], True),  # dof 0
        ([[1, 0], [2, 0]], True),  # zero expected: ValueError
        ([[0, 0], [0, 0]], True),  # no counts: scipy NaN, Rust InvalidInput
    ]
    out = []
    for table, correction in tables:
        case = {"table": [[float(v) for v in row] for row in table], "correction": correction}
        try:
            with np.errstate(invalid="ignore"):
                r = stats.chi2_contingency(table, correction=correction)
        except ValueError as e:
            case["error"] = str(e)
        else:
            if math.isnan(r.pvalue):  # an all-zero table: scipy answers NaN, Rust an error
                case["error"] = "scipy returns NaN"
                out.append(case)
                continue
            case.update(statistic=float(r.statistic), p_value=float(r.pvalue), dof=int(r.dof),
                        expected=r.expected_freq.tolist(),
                        ln_p_value=ln_p(float(r.pvalue), float(r.statistic), int(r.dof))
                        if r.dof > 0 else 0.0)
        out.append(case)
    return out


def categorical_cases():
    cases = [
        ([["red", 50], ["green", 30], ["blue", 20]],
         [["red", 45], ["green", 30], ["blue", 15], ["violet", 10]], True),
        ([["a", 10], ["b", 0], ["c", 5], ["a", 5]], [["a", 7], ["c", 0], ["d", 3], ["e", 0]], True),
        ([["yes", 120], ["no", 80]], [["yes", 90], ["no", 110]], True),
        ([["yes", 120], ["no", 80]], [["yes", 90], ["no", 110]], False),
        ([["x", 3]], [["x", 4]], True),
        ([["a", 1_000_000], ["b", 500_000], ["c", 250_000]],
         [["a", 990_000], ["b", 520_000], ["c", 240_000], ["new", 2_000]], True),
        ([[f"c{i:02}", 100 + 7 * i] for i in range(30)],
         [[f"c{i:02}", 100 + 5 * i] for i in range(0, 30, 2)] + [["zz", 1]], True),
    ]
    out = []
    for ref, cur, correction in cases:
        counts = {}
        for k, c in ref:
            counts.setdefault(k, [0, 0])[0] += c
        for k, c in cur:
            counts.setdefault(k, [0, 0])[1] += c
        cats = sorted(k for k, (r, c) in counts.items() if r > 0 or c > 0)
        table = [[counts[k][0] for k in cats], [counts[k][1] for k in cats]]
        r = stats.chi2_contingency(table, correction=correction)
        out.append({
            "reference": ref, "current": cur, "correction": correction, "categories": cats,
            "new_categories": [k for k in cats if counts[k][0] == 0],
            "missing_categories": [k for k in cats if counts[k][1] == 0],
            "statistic": float(r.statistic), "p_value": float(r.pvalue), "dof": int(r.dof),
        })
    return out


def psi_expected(ref, cur, bins, eps):
    ref, cur = np.asarray(ref, dtype=float), np.asarray(cur, dtype=float)
    edges = np.unique(np.quantile(ref, np.arange(1, bins) / bins, method="linear"))
    edges = edges[edges < ref.max()]
    rc = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=len(edges) + 1)
    cc = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1)
    r = np.where(rc == 0, eps, rc / len(ref))
    c = np.where(cc == 0, eps, cc / len(cur))
    return edges, rc, cc, float(np.sum((c - r) * np.log(c / r)))


def psi_cases():
    specs = [
        (gen(1, 5000, "irwin_hall"), gen(2, 4000, "irwin_hall"), 10, 1e-4),
        (gen(1, 5000, "irwin_hall"), gen(3, 4000, "irwin_hall", 0.3, 1.2), 10, 1e-4),
        (gen(4, 3000, "uniform", -5, 10), gen(5, 3000, "uniform", 0, 10), 10, 1e-4),  # half outside
        (gen(6, 2000, "cubic", 0, 100), gen(7, 2500, "cubic", 0, 120), 20, 1e-4),
        (gen(8, 2000, "integers", 0, 1, k=4), gen(9, 1000, "integers", 0, 1, k=5), 10, 1e-4),  # ties
        (gen(10, 1000, "integers", 3, 0.5, k=2), gen(11, 800, "integers", 3, 0.5, k=3), 10, 1e-3),
        (gen(12, 10_000, "uniform", 100, 1), gen(13, 10_000, "uniform", 100, 1), 4, 1e-4),
        (gen(14, 1000, "irwin_hall"), gen(15, 50, "irwin_hall", 10, 1), 10, 1e-4),  # all in last bin
        (lit([7.0] * 20), lit([7.0, 8.0, 6.0]), 10, 1e-4),  # constant: one bin
        (lit([3.0, 1.0, 2.0]), lit([0.5, 1.5, 2.5, 3.5]), 10, 1e-4),  # n < bins
        (lit([0, 0, 0, 0, 0, 0, 0, 1, 2, 3]), lit([0, 1, 1, 2, 2, 3, 3, 4]), 10, 1e-4),
        (lit([-0.0, 0.0, 1.0, 2.0]), lit([0.0, -0.0, 0.5]), 3, 1e-4),
        (gen(16, 997, "uniform", 0, 1), gen(17, 1003, "uniform", 0.01, 1), 1, 1e-4),  # one bin
        (gen(18, 4000, "irwin_hall", 50, 3), gen(19, 4000, "cubic", 45, 10), 13, 0.01),
    ]
    out = []
    for ref, cur, bins, eps in specs:
        edges, rc, cc, value = psi_expected(values(ref), values(cur), bins, eps)
        out.append({"reference": ref, "current": cur, "bins": bins, "epsilon": eps,
                    "edges": edges.tolist(), "reference_counts": rc.tolist(),
                    "current_counts": cc.tolist(), "psi": value})
    return out


def categorical_psi_cases():
    cases = [
        ([["a", 60], ["b", 40]], [["a", 50], ["b", 40], ["c", 10]], 1e-4),
        ([["a", 60], ["b", 40], ["z", 0]], [["a", 60], ["b", 40]], 1e-4),
        ([["x", 10], ["y", 5]], [["y", 5], ["x", 10], ["x", 3]], 1e-3),
        ([["mon", 100], ["tue", 120], ["wed", 90]], [["mon", 10], ["sun", 40]], 1e-4),
    ]
    out = []
    for ref, cur, eps in cases:
        counts = {}
        for k, c in ref:
            counts.setdefault(k, [0, 0])[0] += c
        for k, c in cur:
            counts.setdefault(k, [0, 0])[1] += c
        cats = sorted(k for k, (r, c) in counts.items() if r > 0 or c > 0)
        rc = np.array([counts[k][0] for k in cats])
        cc = np.array([counts[k][1] for k in cats])
        r = np.where(rc == 0, eps, rc / rc.sum())
        c = np.where(cc == 0, eps, cc / cc.sum())
        out.append({"reference": ref, "current": cur, "epsilon": eps, "categories": cats,
                    "new_categories": [k for k in cats if counts[k][0] == 0],
                    "psi": float(np.sum((c - r) * np.log(c / r)))})
    return out


def js_cases():
    cases = [
        (lit([1, 0, 0]), lit([0, 1, 0]), 2.0),
        (lit([1, 0, 0]), lit([1, 0, 0]), None),
        (lit([1, 0]), lit([0.5, 0.5]), None),
        (lit([1, 0, 0]), lit([0, 1, 0]), None),
        (lit([10, 20, 30, 0]), lit([5, 0, 25, 70]), None),
        (lit([10, 20, 30, 0]), lit([5, 0, 25, 70]), 2.0),
        (lit([10, 20, 30, 0]), lit([5, 0, 25, 70]), 10.0),
        (gen(20, 50, "uniform"), gen(21, 50, "uniform"), None),
        (gen(20, 50, "uniform"), gen(22, 50, "cubic", 0, 3), 2.0),
        (gen(23, 1000, "integers", 0, 1, k=7), gen(24, 1000, "integers", 0, 1, k=3), None),
        (gen(25, 200, "uniform", 1, 1e6), gen(26, 200, "uniform", 1, 1e6), 3.0),
    ]
    out = []
    for p, q, base in cases:
        out.append({"p": p, "q": q, "base": base,
                    "distance": float(jensenshannon(values(p), values(q), base=base))})
    return out


def wasserstein_cases():
    cases = [
        (lit([0, 1, 3]), lit([5, 6, 8]), None, None),
        (lit([0, 1]), lit([0, 1]), lit([3, 1]), lit([2, 2])),
        (lit([3.4, 3.9, 7.5, 7.8]), lit([4.5, 1.4]), lit([1.4, 0.9, 3.1, 7.2]), lit([3.2, 3.5])),
        (lit([5.0, 5.0, 5.0]), lit([5.0]), None, None),
        (lit([5.0, 5.0, 5.0]), lit([5.0, 7.0]), None, None),
        (gen(40, 1000, "irwin_hall"), gen(41, 1500, "irwin_hall", 0.5, 2), None, None),
        (gen(42, 2000, "cubic", -3, 7), gen(43, 700, "uniform", -3, 7), None, None),
        (gen(44, 3000, "integers", 0, 1, k=10), gen(45, 3000, "integers", 0, 1, k=12), None, None),
        (gen(46, 500, "uniform", 1e6, 1), gen(47, 400, "uniform", 1e6 + 0.25, 1), None, None),
        (gen(48, 300, "irwin_hall"), gen(49, 200, "irwin_hall", 1, 1),
         gen(50, 300, "uniform"), gen(51, 200, "cubic", 0.01, 1)),
        (gen(52, 400, "integers", 0, 1, k=5), gen(53, 300, "integers", 0, 1, k=5),
         gen(54, 400, "integers", 0, 1, k=4), gen(55, 300, "uniform")),
    ]
    out = []
    for u, v, uw, vw in cases:
        uu, vv = values(u), values(v)
        d = stats.wasserstein_distance(uu, vv, None if uw is None else values(uw),
                                       None if vw is None else values(vw))
        out.append({"u": u, "v": v, "u_weights": uw, "v_weights": vw, "distance": float(d),
                    "u_std": float(np.std(uu))})
    return out


def main():
    assert scipy.__version__ == "1.18.1" and np.__version__ == "2.4.6", (scipy.__version__,
                                                                        np.__version__)
    ln_gamma, gammainc, chi2_sf, chi2_ln_sf = special_cases()
    fixtures = {
        "about": "reference values for harper_edge_core::drift; regenerate with "
                 "tests/data/drift/make_stats_fixtures.py",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                     "scipy": scipy.__version__},
        "generator": {
            "algorithm": "splitmix64: state += 0x9E3779B97F4A7C15; z = state; "
                         "z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; "
                         "z = (z ^ (z >> 27)) * 0x94D049BB133111EB; out = z ^ (z >> 31) "
                         "(wrapping u64); the state starts at seed",
            "unit": "u = (out >> 11) * 2^-53",
            "kinds": {
                "uniform": "loc + scale * u",
                "irwin_hall": "loc + scale * ((((u1 + u2) + u3) + u4) - 2)",
                "cubic": "loc + scale * ((u * u) * u)",
                "integers": "loc + scale * (out mod k)",
            },
        },
        "ln_gamma": ln_gamma,
        "gammainc": gammainc,
        "chi2_sf": chi2_sf,
        "chi2_ln_sf": chi2_ln_sf,
        "chisquare": chisquare_cases(),
        "contingency": contingency_cases(),
        "categorical": categorical_cases(),
        "psi": psi_cases(),
        "categorical_psi": categorical_psi_cases(),
        "jensenshannon": js_cases(),
        "wasserstein": wasserstein_cases(),
    }
    text = json.dumps(fixtures, separators=(",", ":"), allow_nan=False)
    OUT.write_text(text + "\n")
    counts = {k: len(v) for k, v in fixtures.items() if isinstance(v, list)}
    print(f"wrote {OUT} ({len(text)} bytes): {counts}")


if __name__ == "__main__":
    main()
