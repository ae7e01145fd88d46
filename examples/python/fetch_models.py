"""Fetching models: inspect a source, fetch it as a job (with progress), read the provenance
the registry keeps, list and remove models, deploy a profile. Offline: every source here is a
file of this repository (the same calls take `hf:org/name@rev` or an https URL)."""

import json
import os
import tempfile
from pathlib import Path

import numpy as np

import harper_edge

MODEL = Path(__file__).resolve().parents[2] / "tests" / "data" / "iris_logreg.onnx"

# What a source holds, without fetching it: files, sizes, the model file, a suggested name.
found = harper_edge.inspect_source(str(MODEL))
print(
    f"inspect: {found['source']} {found['reference']}: model file {found['modelFile']} "
    f"({found['framework']}, {found['downloadBytes']} bytes), suggested name "
    f"'{found['suggestedName']}'"
)
assert found["modelFile"] == "iris_logreg.onnx"

with tempfile.TemporaryDirectory() as home:
    # Fetched files go to <home>/models/<sha256>: the engine needs a home to fetch into.
    engine = harper_edge.Engine.open(home)

    # A fetch is a job: queued at once, run on the engine's workers, registered once verified.
    source = {"kind": "fs", "root": str(MODEL.parent), "path": MODEL.name}
    job = engine.fetch_model("iris", "1", source, metadata={"taskType": "classification"})
    print(f"job {job['id']}: {job['state']}")

    def progress(j: harper_edge.FetchJob) -> None:
        print(f"  {j['state']:<11} {j['bytesDone']}/{j['bytesTotal']} bytes ({j['percent']}%)")

    # The GIL is released while waiting; progress runs on this thread about every 200 ms.
    job = engine.wait_job(job["id"], timeout=60, progress=progress)
    assert job["state"] == "completed" and job["result"] is not None, job["error"]
    print(f"job {job['id']}: registered {job['result'].get('modelId')}")

    # The registry keeps where the file came from.
    model = engine.model("iris:1")
    prov = model.provenance
    assert prov is not None
    print(f"provenance: {prov['source']} {prov['reference']} sha256 {prov['sha256'][:12]}…")

    x = np.array([[6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
    assert engine.infer("iris:1", x).prediction == 2

    # A second version straight from a path, and a plain registration beside them.
    engine.wait_job(engine.fetch_model(
            "iris", "2", str(MODEL), stage="staging", metadata={"taskType": "classification"}
        )["id"], timeout=60)
    engine.register_model("local", "1", MODEL, metadata={"taskType": "classification"})
    for m in engine.list_models(task_type="classification"):
        origin = m.provenance["source"] if m.provenance else "file"
        print(f"model {m.id:<8} stage {m.stage:<9} from {origin}")
    assert [m.id for m in engine.list_models(stage="staging")] == ["iris:2"]

    removed = engine.remove_model("iris:2")
    print(f"removed {removed.id}; left: {[m.id for m in engine.list_models()]}")

    # A profile names several models; deploying it again registers nothing new.
    profile = Path(home) / "lab.json"
    profile.write_text(
        json.dumps(
            {
                "name": "lab",
                "models": [
                    {
                        "modelName": "iris-logreg",
                        "modelVersion": "v1",
                        "framework": "onnx",
                        "metadata": {"taskType": "classification"},
                        # Relative paths are read from the profile's directory.
                        "modelBlob": {
                            "source": "filesystem",
                            "path": os.path.relpath(MODEL, profile.parent),
                        },
                    }
                ],
            }
        )
    )
    print(f"profile: {harper_edge.validate_profile(profile)}")
    for run in (1, 2):
        report = engine.deploy_profile(profile, timeout=60)
        actions = [(m["modelId"], m["action"]) for m in report["models"]]
        print(f"deploy #{run}: {actions}")
    assert report["models"][0]["action"] == "already_registered"
