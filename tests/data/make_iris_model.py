"""Builds the test model and its reference outputs.

Trains a scikit-learn logistic-regression classifier on the iris data set (shipped inside
scikit-learn, no download), exports it to ONNX with skl2onnx (ZipMap off, so the outputs are a
plain `label` int64 tensor and a `probabilities` float tensor), and writes the reference outputs
that ONNX Runtime computes for a fixed set of inputs. Every surface (Rust, CLI, Python, Node,
the HarperDB component) is tested against `iris_logreg.reference.json`.

Run from this folder with the pinned versions in `requirements-modelgen.txt`:

    python -m venv /tmp/modelgen && /tmp/modelgen/bin/pip install -r requirements-modelgen.txt
    /tmp/modelgen/bin/python make_iris_model.py
"""

import json
import pathlib

import numpy as np
import onnxruntime as ort
import skl2onnx
import sklearn
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

HERE = pathlib.Path(__file__).resolve().parent
MODEL = HERE / "iris_logreg.onnx"
REFERENCE = HERE / "iris_logreg.reference.json"


def main() -> None:
    iris = load_iris()
    x = iris.data.astype(np.float32)
    y = iris.target.astype(np.int64)
    clf = LogisticRegression(max_iter=1000, random_state=0).fit(x, y)

    onx = to_onnx(
        clf,
        x[:1],
        options={id(clf): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    onx.doc_string = "iris logistic regression (scikit-learn), harper-edge test model"
    MODEL.write_bytes(onx.SerializeToString())

    # Inputs: every 10th iris row plus three off-distribution rows, so all classes and some
    # low-confidence answers are covered.
    rows = np.concatenate(
        [
            x[::10],
            np.array(
                [[6.0, 2.9, 4.5, 1.5], [5.5, 3.0, 3.0, 0.9], [7.9, 3.8, 6.9, 2.5]],
                dtype=np.float32,
            ),
        ]
    )
    sess = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    input_name = sess.get_inputs()[0].name
    labels, probabilities = sess.run(["label", "probabilities"], {input_name: rows})

    np.testing.assert_allclose(probabilities, clf.predict_proba(rows), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(labels, clf.predict(rows))

    reference = {
        "model": MODEL.name,
        "inputName": input_name,
        "outputs": ["label", "probabilities"],
        "classes": [int(c) for c in clf.classes_],
        "tolerance": 1e-5,
        "generatedWith": {
            "scikit-learn": sklearn.__version__,
            "skl2onnx": skl2onnx.__version__,
            "onnxruntime": ort.__version__,
        },
        "inputs": [[float(v) for v in row] for row in rows],
        "labels": [int(v) for v in labels],
        "probabilities": [[float(v) for v in row] for row in probabilities],
    }
    REFERENCE.write_text(json.dumps(reference, indent=2) + "\n")
    print(f"wrote {MODEL.name} ({MODEL.stat().st_size} bytes) and {REFERENCE.name}")


if __name__ == "__main__":
    main()
