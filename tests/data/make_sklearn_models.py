"""Builds the scikit-learn test models of the tract backend and their reference outputs.

The ONNX-ML operators scikit-learn exports lean on (ZipMap, Scaler, TreeEnsembleRegressor) are
not in tract 0.23; harper-edge adds them (harper-edge-core/src/backend/tract_ml.rs). These models
exercise each of them, exported the way skl2onnx does by default (ZipMap on), with the classic
ai.onnx.ml opset 3 so the trees are TreeEnsembleClassifier/TreeEnsembleRegressor nodes:

* sklearn_scaler_logreg.onnx   StandardScaler + LogisticRegression, string labels, ZipMap
                               (Scaler, LinearClassifier, Normalizer, ZipMap)
* sklearn_forest_classifier.onnx  RandomForestClassifier (10 trees, depth 4), int labels, ZipMap
                               (TreeEnsembleClassifier, ZipMap)
* sklearn_gbr.onnx             GradientBoostingRegressor (TreeEnsembleRegressor, SUM + base value)
* sklearn_forest_regressor.onnx   StandardScaler + RandomForestRegressor
                               (Scaler, TreeEnsembleRegressor with per-tree weights)
* sklearn_imputer_unsupported.onnx  SimpleImputer + LogisticRegression: the Imputer operator
                               stays unsupported, so loading it must fail with a typed error.

For each runnable model `NAME.onnx` the script writes `NAME.reference.json` with the inputs and
what ONNX Runtime answers (labels and the probability matrix in class order for classifiers,
the predicted values for regressors), and it prints the operator types of every graph (they are
recorded in the JSON under "operators").

Run from this folder with the pinned versions in `requirements-modelgen.txt`:

    python -m venv /tmp/modelgen && /tmp/modelgen/bin/pip install -r requirements-modelgen.txt
    /tmp/modelgen/bin/python make_sklearn_models.py
"""

import json
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
import skl2onnx
import sklearn
from skl2onnx import to_onnx
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import (
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = pathlib.Path(__file__).resolve().parent
OPSET = {"": 17, "ai.onnx.ml": 3}
TOLERANCE = 1e-5
MAX_BYTES = 200_000


def operators(model: onnx.ModelProto) -> list[str]:
    """`domain:op_type` of every node, in graph order, without repeats."""
    seen = []
    for node in model.graph.node:
        op = f"{node.domain or 'ai.onnx'}:{node.op_type}"
        if op not in seen:
            seen.append(op)
    return seen


def export(estimator, sample: np.ndarray, name: str, doc: str) -> tuple[pathlib.Path, list[str]]:
    onx = to_onnx(estimator, sample[:1], target_opset=OPSET)
    onx.doc_string = f"{doc} (scikit-learn), harper-edge test model"
    path = HERE / f"{name}.onnx"
    path.write_bytes(onx.SerializeToString())
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size} bytes"
    ops = operators(onx)
    print(f"{path.name}: {size} bytes, operators {', '.join(ops)}")
    return path, ops


def generated_with() -> dict:
    return {
        "scikit-learn": sklearn.__version__,
        "skl2onnx": skl2onnx.__version__,
        "onnxruntime": ort.__version__,
        "onnx": onnx.__version__,
    }


def write_reference(path: pathlib.Path, reference: dict) -> None:
    out = path.with_suffix(".reference.json")
    out.write_text(json.dumps(reference, indent=2) + "\n")
    print(f"wrote {out.name}")


def as_json_rows(a: np.ndarray) -> list[list[float]]:
    return [[float(v) for v in row] for row in a]


def classifier(estimator, x, y, rows, name: str, doc: str, required: list[str]) -> None:
    estimator.fit(x, y)
    path, ops = export(estimator, x, name, doc)
    for op in required:
        assert op in ops, f"{name} has no {op} node: {ops}"
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    input_name = sess.get_inputs()[0].name
    outputs = [o.name for o in sess.get_outputs()]
    assert outputs == ["output_label", "output_probability"], outputs
    labels, maps = sess.run(None, {input_name: rows})
    classes = list(estimator.classes_)
    # ZipMap answers one {class: probability} map per row; the matrix is in class order.
    probabilities = np.array([[m[c] for c in classes] for m in maps], dtype=np.float32)

    np.testing.assert_allclose(probabilities, estimator.predict_proba(rows), rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(labels, estimator.predict(rows))

    def py(v):
        return v.item() if isinstance(v, np.generic) else v

    write_reference(
        path,
        {
            "model": path.name,
            "operators": ops,
            "inputName": input_name,
            "outputs": outputs,
            "classes": [py(c) for c in classes],
            "tolerance": TOLERANCE,
            "generatedWith": generated_with(),
            "inputs": as_json_rows(rows),
            "labels": [py(v) for v in labels],
            "probabilities": as_json_rows(probabilities),
        },
    )


def regressor(estimator, x, y, rows, name: str, doc: str, required: list[str]) -> None:
    estimator.fit(x, y)
    path, ops = export(estimator, x, name, doc)
    for op in required:
        assert op in ops, f"{name} has no {op} node: {ops}"
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    input_name = sess.get_inputs()[0].name
    outputs = [o.name for o in sess.get_outputs()]
    (values,) = sess.run(None, {input_name: rows})
    assert values.shape == (len(rows), 1), values.shape
    # float32 trees against sklearn's float64 ones: a loose check that the export is right.
    np.testing.assert_allclose(values[:, 0], estimator.predict(rows), rtol=1e-4, atol=1e-2)
    write_reference(
        path,
        {
            "model": path.name,
            "operators": ops,
            "inputName": input_name,
            "outputs": outputs,
            "tolerance": TOLERANCE,
            "generatedWith": generated_with(),
            "inputs": as_json_rows(rows),
            "values": as_json_rows(values),
        },
    )


def main() -> None:
    iris = load_iris()
    xi = iris.data.astype(np.float32)
    yi = iris.target.astype(np.int64)
    names = np.array(iris.target_names)[yi]
    iris_rows = np.concatenate(
        [
            xi[::10],
            np.array(
                [[6.0, 2.9, 4.5, 1.5], [5.5, 3.0, 3.0, 0.9], [7.9, 3.8, 6.9, 2.5]],
                dtype=np.float32,
            ),
        ]
    )

    classifier(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=0)),
        xi,
        names,
        iris_rows,
        "sklearn_scaler_logreg",
        "iris StandardScaler + LogisticRegression with string labels",
        ["ai.onnx.ml:Scaler", "ai.onnx.ml:ZipMap"],
    )
    classifier(
        RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0),
        xi,
        yi,
        iris_rows,
        "sklearn_forest_classifier",
        "iris RandomForestClassifier, 10 trees of depth 4",
        ["ai.onnx.ml:TreeEnsembleClassifier", "ai.onnx.ml:ZipMap"],
    )

    diabetes = load_diabetes()
    xd = diabetes.data.astype(np.float32)
    yd = diabetes.target.astype(np.float32)
    rng = np.random.default_rng(0)
    diabetes_rows = np.concatenate(
        [xd[::37], rng.normal(0.0, 0.08, size=(3, xd.shape[1])).astype(np.float32)]
    )
    regressor(
        GradientBoostingRegressor(n_estimators=20, max_depth=3, random_state=0),
        xd,
        yd,
        diabetes_rows,
        "sklearn_gbr",
        "diabetes GradientBoostingRegressor, 20 trees of depth 3",
        ["ai.onnx.ml:TreeEnsembleRegressor"],
    )
    regressor(
        make_pipeline(
            StandardScaler(), RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0)
        ),
        xd,
        yd,
        diabetes_rows,
        "sklearn_forest_regressor",
        "diabetes StandardScaler + RandomForestRegressor, 10 trees of depth 4",
        ["ai.onnx.ml:Scaler", "ai.onnx.ml:TreeEnsembleRegressor"],
    )

    # Imputer has no translation in tract nor in harper-edge: the load must fail naming it.
    xm = xi.copy()
    xm[::7, 1] = np.nan
    pipe = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=1000, random_state=0))
    pipe.fit(xm, yi)
    _, ops = export(
        pipe, xm, "sklearn_imputer_unsupported", "iris SimpleImputer + LogisticRegression"
    )
    assert "ai.onnx.ml:Imputer" in ops, ops


if __name__ == "__main__":
    main()
