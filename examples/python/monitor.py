"""Watch a model: an alert rule on its error rate with a callback, acknowledgment, and a
retraining request through its safety checks and approval."""

from pathlib import Path

import numpy as np

import harper_edge

MODEL = Path(__file__).resolve().parents[2] / "tests" / "data" / "iris_logreg.onnx"
engine = harper_edge.Engine.in_memory()
engine.register_model("iris", "1", MODEL)
monitor = harper_edge.Monitor(engine, interval=10.0)  # interval: for monitor.start()

monitor.on_alert(lambda n: print(f"{n['kind']}: {n['alert']['message']}"))
monitor.put_rule(
    {
        "ruleName": "iris failing",
        "modelName": "iris",
        "alertType": "error_rate",
        "severity": "critical",
        "condition": {"metric": "errorRate", "operator": ">", "threshold": 0.2},
    }
)

# Nine good calls, then three with the wrong input shape: 25% of the last five minutes failed.
x = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)
for _ in range(9):
    engine.infer("iris", x)
for _ in range(3):
    try:
        engine.infer("iris", np.zeros((1, 3), dtype=np.float32))
    except harper_edge.ShapeError:
        pass

report = monitor.tick()  # or monitor.start() / monitor.stop() for a background thread
assert len(report["fired"]) == 1, report
alert = report["fired"][0]
assert alert["actual_value"] == 0.25
monitor.acknowledge(alert["id"], "ops@example.com")
assert monitor.alerts(acknowledged=False) == []

# Retraining goes through safety checks; by default 500 new labelled samples are needed.
blocked = monitor.request_retraining("iris", by="ana")
print([(c["check"], c["actual"], c["required"]) for c in blocked["safety_checks"] if not c["passed"]])
assert blocked["status"] == "blocked"

monitor.set_config({"retrainingTriggers": {"minNewLabeledSamples": 0}}, model_name="iris")
monitor.on_retraining_approved(lambda r: print("start training job", r["training_job_id"]))
request = monitor.request_retraining("iris", by="ana", details={"reason": "error spike"})
assert request["status"] == "pending_approval"
approved = monitor.approve(request["id"], "lead@example.com", reason="confirmed")
assert approved["training_job_id"] is not None
monitor.complete(request["id"])
print(monitor.config("iris")["retraining_triggers"])
