"""The monitor from Python: alert rules and their callbacks, acknowledgment, layered
configuration with field-named errors, the retraining approval workflow, the background
thread.

The Python API has no manual clock: these tests run on real time. Rules without a window
read the engine's real-time view (the last five minutes), so calls recorded just before a
tick are what the tick sees.
"""

import gc
import threading
import time
from datetime import timedelta
from typing import Any

import pytest

import harper_edge

ERRORS_RULE = {
    "ruleName": "errors",
    "modelName": "iris",
    "alertType": "error_rate",
    "severity": "critical",
    "condition": {"metric": "errorRate", "operator": ">", "threshold": 0.1},
}


def record_calls(engine: harper_edge.Engine, ok: int, failed: int) -> None:
    for i in range(ok + failed):
        engine.record_event(
            {
                "model_name": "iris",
                "model_version": "1",
                "latency_ms": 5.0,
                "features_in": [[5.1, 3.5, 1.4, 0.2]],
                "prediction": 0,
                "error": "boom" if i < failed else None,
            }
        )


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_an_error_rate_rule_fires_once_reaches_the_callback_and_is_acknowledged(
    engine: harper_edge.Engine,
) -> None:
    monitor = harper_edge.Monitor(engine)
    seen: list[harper_edge.AlertNotification] = []
    monitor.on_alert(seen.append)
    rule = monitor.put_rule(ERRORS_RULE)
    assert rule["id"]
    assert rule["rule_name"] == "errors"
    assert rule["notification_channels"] == ["callback"]
    assert rule["cooldown"] == "15m"
    assert [r["id"] for r in monitor.rules()] == [rule["id"]]

    record_calls(engine, ok=4, failed=4)
    report = monitor.tick()
    assert set(report) == {"at", "jobs", "fired", "resolved", "retraining_requests", "rules"}
    assert len(report["fired"]) == 1
    alert = report["fired"][0]
    assert alert["rule_id"] == rule["id"]
    assert (alert["model_name"], alert["model_version"]) == ("iris", "1")
    assert (alert["severity"], alert["alert_type"], alert["status"]) == (
        "critical",
        "error_rate",
        "firing",
    )
    assert alert["actual_value"] == pytest.approx(0.5)
    assert alert["threshold"] == pytest.approx(0.1)
    assert alert["condition"].startswith("errorRate > 0.1")
    assert alert["acknowledged"] is False
    status = report["rules"][0]
    assert (status["state"], status["alert_id"]) == ("firing", alert["id"])
    assert status["value"] == pytest.approx(0.5)

    # Still failing: the episode goes on, no second alert.
    record_calls(engine, ok=0, failed=2)
    assert monitor.tick()["fired"] == []
    assert monitor.rule_statuses()[0]["state"] == "firing"

    assert [(n["kind"], n["alert"]["id"]) for n in seen] == [("fired", alert["id"])]
    stored = monitor.alert(alert["id"])
    assert [(d["channel"], d["kind"], d["delivered"], d["attempts"]) for d in stored["notifications"]] == [
        ("callback", "fired", True, 1)
    ]

    acked = monitor.acknowledge(alert["id"], "ops@example.com")
    assert acked["acknowledged"] is True
    assert acked["acknowledged_by"] == "ops@example.com"
    assert isinstance(acked["acknowledged_at"], int)
    assert monitor.acknowledge(alert["id"], "someone-else")["acknowledged_by"] == "ops@example.com"
    assert monitor.alerts(acknowledged=False) == []
    assert [a["id"] for a in monitor.alerts(model_name="iris", severity="critical", status="firing")] == [
        alert["id"]
    ]
    assert monitor.alerts(status="resolved") == []
    assert monitor.alerts(severity="info") == []

    with pytest.raises(harper_edge.InvalidInputError, match="unknown severity 'urgent'"):
        monitor.alerts(severity="urgent")  # type: ignore[arg-type]
    with pytest.raises(harper_edge.InvalidInputError, match="unknown alert status 'open'"):
        monitor.alerts(status="open")  # type: ignore[arg-type]
    with pytest.raises(harper_edge.NotFoundError):
        monitor.acknowledge("alert-nope", "x")
    with pytest.raises(harper_edge.InvalidInputError):
        monitor.acknowledge(alert["id"], " ")

    monitor.delete_rule(rule["id"])
    assert monitor.rules() == []
    with pytest.raises(harper_edge.NotFoundError):
        monitor.delete_rule(rule["id"])


def test_a_callback_that_raises_is_printed_and_does_not_stop_the_tick(
    engine: harper_edge.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    monitor = harper_edge.Monitor(engine)
    seen: list[str] = []

    def broken(_: harper_edge.AlertNotification) -> None:
        raise RuntimeError("callback bug")

    monitor.on_alert(broken)
    monitor.on_alert(lambda n: seen.append(n["alert"]["rule_name"]))
    monitor.put_rule(ERRORS_RULE)
    record_calls(engine, ok=1, failed=3)
    report = monitor.tick()
    assert len(report["fired"]) == 1
    assert seen == ["errors"]
    assert "RuntimeError: callback bug" in capsys.readouterr().err
    # The failure is recorded with the alert.
    delivery = monitor.alert(report["fired"][0]["id"])["notifications"][0]
    assert (delivery["channel"], delivery["delivered"]) == ("callback", False)
    assert "callback bug" in delivery["error"]
    with pytest.raises(TypeError, match="callback must be callable"):
        monitor.on_alert(42)  # type: ignore[arg-type]


def test_rules_with_bad_fields_are_refused_naming_them(engine: harper_edge.Engine) -> None:
    monitor = harper_edge.Monitor(engine)
    bad = dict(ERRORS_RULE, condition={"metric": "p95", "operator": ">", "threshold": 1})
    with pytest.raises(harper_edge.InvalidInputError, match="unknown metric 'p95'"):
        monitor.put_rule(bad)
    with pytest.raises(TypeError, match="rule must be a dict, got list"):
        monitor.put_rule([ERRORS_RULE])  # type: ignore[arg-type]
    # snake_case field names are accepted too, and a stored rule can be saved back.
    rule = monitor.put_rule(
        {
            "rule_name": "slow",
            "alert_type": "latency",
            "condition": {"metric": "p95Latency", "operator": ">", "threshold": 500, "window_minutes": 5},
        }
    )
    assert rule["condition"]["window_minutes"] == 5
    rule["severity"] = "info"
    again = monitor.put_rule(rule)
    assert (again["id"], again["severity"]) == (rule["id"], "info")
    assert len(monitor.rules()) == 1


def test_config_layers_merge_and_errors_name_the_field(engine: harper_edge.Engine) -> None:
    monitor = harper_edge.Monitor(engine)
    with pytest.raises(harper_edge.InvalidInputError, match=r"aggregation\.driftCheck") as e:
        monitor.set_config({"aggregation": {"driftCheck": "6x"}})
    assert "6x" in str(e.value)
    with pytest.raises(harper_edge.InvalidInputError, match=r"aggregation\.driftCheck"):
        monitor.set_config({"aggregation": {"drift_check": "6 hours"}})
    with pytest.raises(harper_edge.InvalidInputError, match="driftChek"):
        monitor.set_config({"aggregation": {"driftChek": "6h"}})
    with pytest.raises(harper_edge.InvalidInputError, match="model_version needs model_name"):
        monitor.set_config({}, model_version="1")
    with pytest.raises(TypeError, match="config must be a dict"):
        monitor.set_config("6h")  # type: ignore[arg-type]
    assert monitor.config_layer() is None

    stored = monitor.set_config({"aggregation": {"driftCheck": "6h"}})
    assert (stored["id"], stored["model_name"], stored["model_version"]) == ("global", None, None)
    assert stored["config"] == {"aggregation": {"drift_check": "6h"}}
    monitor.set_config({"retrainingTriggers": {"minNewLabeledSamples": 0}}, model_name="iris")
    monitor.set_config({"aggregation": {"driftCheck": "2h"}}, "iris", "1")

    glob = monitor.config()
    assert glob["aggregation"]["drift_check"] == "6h"
    assert glob["retraining_triggers"]["min_new_labeled_samples"] == 500
    model = monitor.config("iris")
    assert model["aggregation"]["drift_check"] == "6h"
    assert model["retraining_triggers"]["min_new_labeled_samples"] == 0
    version = monitor.config("iris", "1")
    assert version["aggregation"]["drift_check"] == "2h"
    assert version["retraining_triggers"]["min_new_labeled_samples"] == 0
    assert set(version) == {"aggregation", "drift", "retraining_triggers"}

    assert monitor.config_layer("iris", "1")["id"] == "model:iris:1"  # type: ignore[index]
    assert monitor.clear_config("iris", "1") is True
    assert monitor.clear_config("iris", "1") is False
    assert monitor.config("iris", "1")["aggregation"]["drift_check"] == "6h"


def test_a_manual_request_goes_pending_then_approved_and_cannot_be_rejected(
    engine: harper_edge.Engine,
) -> None:
    monitor = harper_edge.Monitor(engine)
    approved: list[harper_edge.RetrainingRequest] = []
    monitor.on_retraining_approved(approved.append)

    # Defaults: 500 new labelled samples needed, none recorded: blocked, with the values.
    blocked = monitor.request_retraining("iris", by="ana")
    assert blocked["status"] == "blocked"
    failed = [c for c in blocked["safety_checks"] if not c["passed"]]
    assert [(c["check"], c["actual"], c["required"]) for c in failed] == [
        ("min_new_labeled_samples", 0.0, 500.0)
    ]

    monitor.set_config({"retrainingTriggers": {"minNewLabeledSamples": 0}}, model_name="iris")
    request = monitor.request_retraining("iris:1", by="ana", details={"ticketId": 7})
    assert request["status"] == "pending_approval"
    assert (request["model_name"], request["model_version"]) == ("iris", "1")
    assert request["trigger_reason"] == "manual"
    assert request["requested_by"] == "ana"
    assert request["trigger_details"] == {"ticketId": 7}, "free-form details keep their keys"
    assert request["training_job_id"] is None
    assert all(c["passed"] for c in request["safety_checks"])

    # A second one is blocked by the pending one.
    second = monitor.request_retraining("iris")
    assert second["status"] == "blocked"
    assert [(c["check"], c["actual"]) for c in second["safety_checks"] if not c["passed"]] == [
        ("no_pending_request", 1.0)
    ]
    pending = monitor.retraining_requests("iris", status="pending_approval")
    assert [r["id"] for r in pending] == [request["id"]]

    done = monitor.approve(request["id"], "lead@example.com", reason="drift confirmed")
    assert done["status"] == "approved"
    assert (done["reviewed_by"], done["review_reason"]) == ("lead@example.com", "drift confirmed")
    job = done["training_job_id"]
    assert job is not None and job.startswith("train-")
    assert [r["training_job_id"] for r in approved] == [job]
    assert approved[0]["id"] == request["id"]

    with pytest.raises(harper_edge.InvalidTransitionError, match="'approved' to 'rejected'"):
        monitor.reject(request["id"], "x")
    assert monitor.complete(request["id"])["status"] == "completed"
    assert monitor.retraining_request(request["id"])["completed_at"] is not None
    assert len(monitor.retraining_requests()) == 3
    assert monitor.retraining_requests(status="pending_approval") == []

    with pytest.raises(harper_edge.InvalidInputError, match="unknown retraining status"):
        monitor.retraining_requests(status="open")  # type: ignore[arg-type]
    with pytest.raises(harper_edge.NotFoundError):
        monitor.request_retraining("nope")
    with pytest.raises(harper_edge.NotFoundError):
        monitor.retraining_request("retrain-nope")


def test_a_rejected_request_cannot_be_approved(engine: harper_edge.Engine) -> None:
    monitor = harper_edge.Monitor(engine)
    monitor.set_config({"retraining_triggers": {"min_new_labeled_samples": 0}})
    request = monitor.request_retraining("iris")
    rejected = monitor.reject(request["id"], "lead", reason="flaky upstream")
    assert (rejected["status"], rejected["review_reason"]) == ("rejected", "flaky upstream")
    with pytest.raises(harper_edge.InvalidTransitionError):
        monitor.approve(request["id"], "lead")


def test_the_background_thread_ticks_calls_back_and_stops(engine: harper_edge.Engine) -> None:
    monitor = harper_edge.Monitor(engine, interval=0.02)
    fired_on: list[str] = []
    monitor.on_alert(lambda n: fired_on.append(threading.current_thread().name))
    monitor.put_rule(ERRORS_RULE)
    record_calls(engine, ok=0, failed=5)
    assert monitor.last_report() is None
    assert monitor.running is False

    monitor.start()
    monitor.start()  # already running: no second thread
    assert monitor.running is True
    wait_for(lambda: fired_on)
    monitor.stop()
    assert monitor.running is False
    monitor.stop()  # idempotent
    report = monitor.last_report()
    assert report is not None
    assert report["rules"][0]["state"] == "firing"
    assert fired_on[0] != threading.main_thread().name, "called on the monitor's thread"
    assert len(monitor.alerts()) == 1
    assert repr(monitor) == "Monitor(running=False)"


def test_a_dropped_monitor_stops_its_thread(engine: harper_edge.Engine) -> None:
    ticks: list[int] = []
    monitor = harper_edge.Monitor(engine, interval=timedelta(milliseconds=10))
    monitor.on_alert(lambda n: ticks.append(1))
    monitor.put_rule(ERRORS_RULE)
    record_calls(engine, ok=0, failed=1)
    monitor.start()
    wait_for(lambda: monitor.last_report() is not None)
    del monitor
    gc.collect()
    # The engine is usable and nothing ticks any more.
    assert engine.realtime("iris")["error_count"] == 1


def test_settings_are_checked(engine: harper_edge.Engine) -> None:
    with pytest.raises(harper_edge.InvalidInputError, match="interval"):
        harper_edge.Monitor(engine, interval=0)
    with pytest.raises(harper_edge.InvalidInputError, match="webhook_timeout"):
        harper_edge.Monitor(engine, webhook_timeout=float("nan"))
    with pytest.raises(TypeError):
        harper_edge.Monitor(engine, interval="10s")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        harper_edge.Monitor("engine")  # type: ignore[arg-type]
    monitor = harper_edge.Monitor(engine, webhook_retries=0)
    assert monitor.flush_notifications(0.1) is True
