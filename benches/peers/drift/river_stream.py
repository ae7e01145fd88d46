"""Updates per second of River's streaming drift detectors, on the same generated stream as
the criterion bench `drift/*` (benches/benches/drift.rs): 100,000 values, uniform on [0, 0.2)
then shifted by 0.5 halfway. Prints a Markdown table (best of 5)."""

import platform
import time

import river
from river import drift

N = 100_000


def stream() -> list[float]:
    # The LCG of benches/benches/drift.rs, so both sides read the same values.
    seed, out = 11, []
    for i in range(N):
        seed = (seed * 6364136223846793005 + 1442695040888963407) % 2**64
        u = (seed >> 11) / float(1 << 53)
        out.append(u * 0.2 + (0.5 if i >= N // 2 else 0.0))
    return out


def rate(make, values: list[float]) -> tuple[float, int]:
    best, changes = float("inf"), 0
    for _ in range(5):
        detector, changes = make(), 0
        start = time.perf_counter()
        for v in values:
            detector.update(v)
            changes += detector.drift_detected
        best = min(best, time.perf_counter() - start)
    return len(values) / best, changes


def main() -> None:
    values = stream()
    print(f"Python {platform.python_version()}, river {river.__version__}; {N:,} values, best of 5\n")
    print("| detector | updates per second | changes found |")
    print("|---|---:|---:|")
    for name, make in (
        ("river.drift.ADWIN()", drift.ADWIN),
        ("river.drift.PageHinkley()", drift.PageHinkley),
    ):
        r, changes = rate(make, values)
        print(f"| `{name}` | {r / 1e6:.3f} M | {changes} |")


if __name__ == "__main__":
    main()
