"""The inference peer benchmark's driver (benches/peers/inference, `make bench-peers-inference`):
runs every peer harness (python_peer.py, node_peer.mjs, the Rust embed_peer binary) in a fresh
child process, `--rounds` times, and prints Markdown tables of what they measured.

Per peer and round: b1 p50 / p95 (nearest-rank percentiles of the raw batch-1 samples), the
mean ms per batch of 32 and its throughput in sentences/s, loadMs as the harness reports it,
the child's peak RSS (`ru_maxrss` from os.wait4 on that child alone), then the median of the
rounds. Install size (MB, disk usage as `du` counts it) is what each peer needs on disk, and
agreement is the lowest cosine of a peer's 4 vectors against python-onnxruntime's.

Standard library + numpy; run it with any Python 3.11+ that has numpy.
"""

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
CACHE = Path(os.environ.get("HARPER_EDGE_CACHE") or Path.home() / ".cache" / "harper-edge")
REFERENCE = "python-onnxruntime"
RUST_BUILD = "cargo build --release -p harper-edge-benches --bin embed_peer --features ort,candle"

# name -> harness kind
PEERS = {
    "python-onnxruntime": "python-peers",
    "harper-edge-python-ort": "python-harper",
    "harper-edge-python-tract": "python-harper",
    "harper-edge-python-candle": "python-harper",
    "onnxruntime-node": "node",
    "transformers-js-4": "node",
    "transformers-js-2.17": "node",
    "harper-edge-node-ort": "node",
    "harper-edge-node-tract": "node",
    "rust-bare-ort": "rust",
    "harper-edge-rust-ort": "rust",
    "harper-edge-rust-tract": "rust",
    "harper-edge-rust-candle": "rust",
}
# The peers harper-edge is compared against in the ratio table.
BASELINES = ["onnxruntime-node", "python-onnxruntime", "transformers-js-2.17"]


def nearest_rank(samples: list[float], p: float) -> float:
    """The nearest-rank percentile: the smallest sample with at least p% of the samples at or
    below it (rank ceil(p/100 * n), 1-based)."""
    s = sorted(samples)
    return s[max(1, math.ceil(p / 100 * len(s))) - 1]


def disk_bytes(path: Path, skip_node_modules: bool = False) -> int:
    """Disk usage of a file or directory tree as `du` counts it (allocated blocks, each inode
    once); with skip_node_modules, nested node_modules folders are left out (they are counted
    as packages of their own)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    paths = [path]
    if path.is_dir():
        paths = []
        for root, dirs, files in os.walk(path):
            if skip_node_modules:
                dirs[:] = [d for d in dirs if d != "node_modules"]
            paths.extend(Path(root) / f for f in files)
            paths.append(Path(root))
    for p in paths:
        try:
            st = p.lstat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        total += st.st_blocks * 512
    return total


def npm_closure(lock: dict, roots: list[str]) -> list[str]:
    """The node_modules paths (package-lock.json keys) of `roots` and everything they pull in
    (dependencies and optional dependencies, resolved the way Node resolves them: the nearest
    node_modules folder up the tree)."""
    packages = lock["packages"]
    done: list[str] = []
    todo = [f"node_modules/{r}" for r in roots]
    while todo:
        key = todo.pop()
        if key in done or key not in packages:
            continue
        done.append(key)
        meta = packages[key]
        for name in {**meta.get("dependencies", {}), **meta.get("optionalDependencies", {})}:
            base = key
            while True:
                candidate = f"{base}/node_modules/{name}" if base else f"node_modules/{name}"
                if candidate in packages:
                    todo.append(candidate)
                    break
                if not base:
                    break
                cut = base.rfind("/node_modules/")
                base = base[:cut] if cut >= 0 else ""
    return sorted(done)


def site_packages(python: str) -> Path | None:
    try:
        out = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
        return Path(out)
    except (OSError, subprocess.CalledProcessError):
        return None


def ort_dylib(args: argparse.Namespace) -> Path | None:
    """The ONNX Runtime library harper-edge's ort backend loads: ORT_DYLIB_PATH, else the
    onnxruntime Python package of the harper-edge venv."""
    if os.environ.get("ORT_DYLIB_PATH"):
        return Path(os.environ["ORT_DYLIB_PATH"])
    sp = site_packages(args.python_harper)
    found = sorted((sp / "onnxruntime" / "capi").glob("libonnxruntime.so.*")) if sp else []
    return found[0] if found else None


def install_size(peer: str, args: argparse.Namespace) -> tuple[float | None, str]:
    """(MB, what was counted)."""
    parts: list[Path] = []
    what = ""
    if peer == "python-onnxruntime":
        sp = site_packages(args.python_peers)
        if sp:
            parts = [sp / "onnxruntime", sp / "tokenizers"]
        what = "site-packages onnxruntime/ + tokenizers/ (numpy not counted, as for harper_edge)"
    elif peer.startswith("harper-edge-python"):
        sp = site_packages(args.python_harper)
        if sp:
            parts = [sp / "harper_edge"]
        what = "site-packages harper_edge/ (numpy not counted)"
    elif peer.startswith("harper-edge-node"):
        parts = [REPO / "bindings-node" / f for f in ("harper-edge.linux-x64-gnu.node", "index.js", "index.d.ts")]
        what = "bindings-node .node file + index.js + index.d.ts"
    elif peer.startswith("harper-edge-rust") or peer == "rust-bare-ort":
        parts = [rust_binary()]
        what = "the embed_peer binary"
    elif peer in ("onnxruntime-node", "transformers-js-4", "transformers-js-2.17"):
        lock_path = HERE / "package-lock.json"
        if lock_path.exists():
            lock = json.loads(lock_path.read_text())
            roots = {
                "onnxruntime-node": ["onnxruntime-node", "@huggingface/tokenizers"],
                "transformers-js-4": ["@huggingface/transformers"],
                "transformers-js-2.17": ["@xenova/transformers"],
            }[peer]
            keys = [k for k in npm_closure(lock, roots) if (HERE / k).is_dir()]  # other platforms' optional packages are not installed
            total = sum(disk_bytes(HERE / k, skip_node_modules=True) for k in keys)
            what = (f"{' + '.join(roots)} and the {len(keys) - len(roots)} installed packages they pull in "
                    "(package-lock.json; nested node_modules counted once)")
            return total / 1e6, what
    if peer.endswith("-ort") and (peer.startswith("harper-edge") or peer == "rust-bare-ort"):
        lib = ort_dylib(args)
        if lib:
            parts.append(lib)
            what += f" + the ONNX Runtime library it loads ({lib.name})"
    if not parts or not parts[0].exists():  # the peer's own artifact is missing: nothing to size
        return None, what
    parts = [p for p in parts if p.exists()]
    return sum(disk_bytes(p) for p in parts) / 1e6, what


def rust_binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR") or CACHE / "target")
    return target / "release" / "embed_peer"


def command(peer: str, args: argparse.Namespace) -> list[str] | str:
    """The harness command line, or the reason the peer is skipped."""
    common = ["--peer", peer, "--model-dir", str(args.model_dir), "--sentences", str(args.sentences),
              "--warmup", str(args.warmup), "--runs", str(args.runs), "--batch", str(args.batch),
              "--batch-runs", str(args.batch_runs)]
    kind = PEERS[peer]
    if kind == "python-peers":
        return [args.python_peers, str(HERE / "python_peer.py"), *common]
    if kind == "python-harper":
        return [args.python_harper, str(HERE / "python_peer.py"), *common]
    if kind == "node":
        if not (HERE / "node_modules").is_dir():
            return "not installed (cd benches/peers/inference && ONNXRUNTIME_NODE_INSTALL=skip npm install)"
        return [args.node, str(HERE / "node_peer.mjs"), *common]
    binary = rust_binary()
    if not binary.exists():
        return f"not built ({RUST_BUILD})"
    return [str(binary), *common]


def run_child(cmd: list[str]) -> tuple[dict, float, str]:
    """Runs one harness; (its JSON, the child's peak RSS in MB, its stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=HERE)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    rss_mb = usage.ru_maxrss * 1024 / 1e6  # ru_maxrss is in KiB on Linux
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (stderr.strip().splitlines() or ["no output"])[-1]
        return {"skipped": f"harness failed (exit {child.returncode}): {tail}"}, rss_mb, stderr
    result = json.loads(lines[-1])
    if child.returncode != 0 and "skipped" not in result:
        result = {"skipped": f"harness exit {child.returncode}"}
    return result, rss_mb, stderr


def round_stats(result: dict, rss_mb: float, batch: int) -> dict:
    b1, b32 = result["b1Ms"], result["b32Ms"]
    mean32 = float(np.mean(b32))
    return {
        "b1P50": nearest_rank(b1, 50), "b1P95": nearest_rank(b1, 95), "b32Mean": mean32,
        "b32PerSec": batch / mean32 * 1000, "loadMs": result["loadMs"], "rssMb": rss_mb,
    }


def lowest_cosine(a: list[list[float]], b: list[list[float]]) -> float:
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    cos = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
    return float(cos.min())


def machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"load average {load}, nproc {len(os.sched_getaffinity(0))}"


def fmt(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=Path(os.environ.get("HARPER_EDGE_MINILM_DIR")
                        or CACHE / "models" / "minilm-l6"))
    parser.add_argument("--sentences", type=Path, default=HERE / "sentences.json")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--runs", type=int, default=200, help="batch-1 samples per peer and round")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--batch-runs", type=int, default=20, help="batch samples per peer and round")
    parser.add_argument("--rounds", type=int, default=1, help="the whole set this many times; medians are reported")
    parser.add_argument("--only", help="comma-separated peers to run")
    parser.add_argument("--python-peers", default=str(CACHE / "inference-peers-venv" / "bin" / "python"),
                        help="Python with requirements.txt installed")
    parser.add_argument("--python-harper", default=str(CACHE / "venv" / "bin" / "python"),
                        help="Python with the harper_edge binding installed")
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--json", type=Path, help="write everything (raw samples included) here")
    args = parser.parse_args()

    peers = list(PEERS)
    if args.only:
        wanted = [p.strip() for p in args.only.split(",") if p.strip()]
        unknown = [p for p in wanted if p not in PEERS]
        if unknown:
            sys.exit(f"unknown peers {unknown}; known: {', '.join(PEERS)}")
        peers = [p for p in PEERS if p in wanted]

    start_machine = machine()
    print(f"start: {start_machine}; {platform.platform()}; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"model {args.model_dir}; {args.warmup} warm-up + {args.runs} batch-1 runs, "
          f"{args.batch_runs} batches of {args.batch}; {args.rounds} round(s)\n", flush=True)

    results: dict[str, dict] = {p: {"rounds": []} for p in peers}
    for r in range(args.rounds):
        for peer in peers:
            cmd = command(peer, args)
            if isinstance(cmd, str):
                results[peer]["skipped"] = cmd
                continue
            t = time.perf_counter()
            result, rss_mb, stderr = run_child(cmd)
            took = time.perf_counter() - t
            if "skipped" in result:
                results[peer]["skipped"] = result["skipped"]
                print(f"round {r + 1} {peer}: skipped: {result['skipped']}", flush=True)
                if stderr.strip():
                    results[peer]["stderr"] = stderr[-4000:]
                continue
            stats = round_stats(result, rss_mb, args.batch)
            results[peer]["rounds"].append({**result, **stats, "wallS": took})
            print(f"round {r + 1} {peer}: b1 p50 {stats['b1P50']:.2f} ms, b32 {stats['b32Mean']:.1f} ms, "
                  f"load {stats['loadMs']:.0f} ms, RSS {rss_mb:.0f} MB ({took:.0f} s)", flush=True)

    reference = results.get(REFERENCE, {}).get("rounds")
    ref_vectors = reference[0]["vectors"] if reference else None
    for peer in peers:
        res = results[peer]
        res["installMb"], res["installCounted"] = install_size(peer, args)
        rounds = res["rounds"]
        if not rounds:
            continue
        if len(rounds) == args.rounds:
            res.pop("skipped", None)
        for key in ("b1P50", "b1P95", "b32Mean", "b32PerSec", "loadMs", "rssMb"):
            res[key] = float(np.median([x[key] for x in rounds]))
        res["runtime"] = rounds[0]["runtime"]
        res["threads"] = rounds[0].get("threads")
        if ref_vectors is not None:
            res["lowestCosine"] = min(lowest_cosine(x["vectors"], ref_vectors) for x in rounds)

    print("\n| peer | runtime | p50 b1 ms | p95 b1 ms | b32 ms/batch | sentences/s b32 | load ms | peak RSS MB "
          "| install MB | lowest cosine vs Python ort |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for peer in peers:
        res = results[peer]
        if not res["rounds"]:
            print(f"| {peer} | skipped: {res.get('skipped', '?')} | | | | | | | {fmt(res['installMb'])} | |")
            continue
        cos = res.get("lowestCosine")
        print(f"| {peer} | {res['runtime']} | {res['b1P50']:.2f} | {res['b1P95']:.2f} | {res['b32Mean']:.1f} "
              f"| {res['b32PerSec']:.0f} | {res['loadMs']:.0f} | {res['rssMb']:.0f} | {fmt(res['installMb'])} "
              f"| {'—' if cos is None else f'{cos:.7f}'} |")

    ran = {p for p in peers if results[p]["rounds"]}
    ours = [p for p in peers if p.startswith("harper-edge") and p in ran]
    bases = [b for b in BASELINES if b in ran]
    ratios: dict[str, dict] = {}
    if ours and bases:
        print("\nRatios (> 1 = harper-edge faster): b32 throughput ratio = ours / theirs sentences/s; "
              "b1 p50 ratio = theirs / ours ms.\n")
        print("| harper-edge peer | " + " | ".join(f"b32 vs {b} | b1 p50 vs {b}" for b in bases) + " |")
        print("|---|" + "---:|---:|" * len(bases))
        for p in ours:
            cells = []
            for b in bases:
                tp = results[p]["b32PerSec"] / results[b]["b32PerSec"]
                lat = results[b]["b1P50"] / results[p]["b1P50"]
                ratios.setdefault(p, {})[b] = {"b32Throughput": tp, "b1P50": lat}
                cells += [f"{tp:.2f}", f"{lat:.2f}"]
            print(f"| {p} | " + " | ".join(cells) + " |")

    print("\nPercentiles: nearest rank over the raw samples of a round; figures are the median of the rounds. "
          "Install MB counts:")
    for peer in peers:
        print(f"- {peer}: {results[peer]['installCounted']}")
    end_machine = machine()
    print(f"\nend: {end_machine}")

    if args.json:
        args.json.write_text(json.dumps({
            "startMachine": start_machine, "endMachine": end_machine, "platform": platform.platform(),
            "settings": {k: str(v) for k, v in vars(args).items()},
            "percentileMethod": "nearest rank", "peers": results, "ratios": ratios,
        }, indent=1))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
