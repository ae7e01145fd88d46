//! The monitor: schedules on a manual clock (no burst after a pause), alert rules with
//! episodes, cooldown and no-data policies, acknowledgment, retraining requests with safety
//! checks and approval, webhooks against a loopback server, state that survives a restart.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harper_edge_core::monitor::alert::{AlertQuery, AlertStatus};
use harper_edge_core::monitor::config::ConfigScope;
use harper_edge_core::monitor::retrain::RetrainingStatus;
use harper_edge_core::monitor::{
    JobKind, JobOutcome, Monitor, MonitorOptions, NotificationKind, RuleState, TickReport,
    WebhookOptions,
};
use harper_edge_core::{
    Engine, ErrorKind, Framework, InferContext, InferenceEvent, ManualClock, ModelRef,
    ModelRegistration, SqliteStore, Timestamp,
};
use serde_json::json;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");
const T0: i64 = 1_767_225_600_000; // 2026-01-01
const MIN: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

fn setup(store: Option<Arc<SqliteStore>>) -> (Arc<ManualClock>, Arc<Engine>, Monitor) {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    setup_with(clock, store)
}

fn setup_with(
    clock: Arc<ManualClock>,
    store: Option<Arc<SqliteStore>>,
) -> (Arc<ManualClock>, Arc<Engine>, Monitor) {
    let mut b = Engine::builder().clock(clock.clone()).tick_interval(None);
    if let Some(s) = store {
        b = b.store(s);
    }
    let e = Arc::new(b.build().unwrap());
    if e.models().unwrap().is_empty() {
        e.register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL)).unwrap();
    }
    let fast = WebhookOptions::default()
        .timeout(Duration::from_secs(2))
        .retries(3)
        .backoff(Duration::from_millis(10), Duration::from_millis(40));
    let m = Monitor::new(e.clone(), MonitorOptions::default().webhook(fast)).unwrap();
    (clock, e, m)
}

/// Host-recorded calls of iris:1 with the given latency, one every 100 ms.
fn calls(e: &Engine, clock: &ManualClock, n: u32, latency_ms: f64, errors: bool) {
    for _ in 0..n {
        let ev = InferenceEvent {
            id: InferenceEvent::new_id(),
            model_name: "iris".into(),
            model_version: "1".into(),
            framework: Framework::Onnx,
            request_id: None,
            user_id: None,
            session_id: None,
            features_in: json!([[5.1, 3.5, 1.4, 0.2]]),
            prediction: json!(0),
            confidence: None,
            latency_ms,
            timestamp: clock_now(clock),
            error: errors.then(|| "boom".to_string()),
            actual_outcome: None,
            correct: None,
            feedback_timestamp: None,
        };
        e.recorder().record(ev).unwrap();
        clock.advance(Duration::from_millis(100));
    }
}

fn clock_now(clock: &ManualClock) -> Timestamp {
    use harper_edge_core::Clock;
    clock.now()
}

fn slow_rule() -> serde_json::Value {
    json!({
        "ruleName": "slow iris", "modelName": "iris", "alertType": "latency", "severity": "critical",
        "condition": {"metric": "p95Latency", "operator": ">", "threshold": 500, "windowMinutes": 5},
        "cooldown": "30m"
    })
}

#[test]
fn a_latency_rule_fires_once_per_episode_resolves_and_waits_out_its_cooldown() {
    let (clock, e, m) = setup(None);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (s, inner) = (seen.clone(), m.clone());
    m.on_alert(move |n| {
        // Callbacks run after the tick released its state: reading it back does not block.
        assert!(!inner.rule_statuses().is_empty());
        s.lock().unwrap().push((n.kind, n.alert.condition.clone()));
    });
    let rule = m.put_rule_json(&slow_rule()).unwrap();

    calls(&e, &clock, 50, 40.0, false);
    let r = m.tick().unwrap();
    assert!(r.fired.is_empty());
    assert_eq!(r.rules[0].state, RuleState::Ok);
    assert!((r.rules[0].value.unwrap() - 40.0).abs() < 1.0, "{:?}", r.rules[0].value);

    // Slow for three ticks: one alert.
    calls(&e, &clock, 300, 900.0, false);
    let r = m.tick().unwrap();
    assert_eq!(r.fired.len(), 1);
    let alert = &r.fired[0];
    assert_eq!(alert.condition, "p95Latency > 500ms");
    assert!((alert.actual_value.unwrap() - 900.0).abs() < 10.0);
    assert_eq!((alert.severity.as_str(), alert.alert_type.as_str()), ("critical", "latency"));
    for _ in 0..2 {
        calls(&e, &clock, 10, 900.0, false);
        assert!(m.tick().unwrap().fired.is_empty(), "one alert per episode");
    }
    assert_eq!(m.rule_statuses()[0].state, RuleState::Firing);

    // Fast again (the window forgets the slow calls): resolved.
    clock.advance(6 * MIN);
    calls(&e, &clock, 100, 30.0, false);
    let r = m.tick().unwrap();
    assert_eq!(r.resolved.len(), 1);
    assert_eq!(r.resolved[0].status, AlertStatus::Resolved);
    assert_eq!(r.resolved[0].resolved_at, Some(clock_now(&clock)));

    // Slow again within the 30-minute cooldown: no alert, the status says why.
    calls(&e, &clock, 400, 800.0, false);
    let r = m.tick().unwrap();
    assert!(r.fired.is_empty());
    assert_eq!(r.rules[0].state, RuleState::Cooldown);
    // After the cooldown: a new episode.
    clock.advance(31 * MIN);
    calls(&e, &clock, 400, 800.0, false);
    assert_eq!(m.tick().unwrap().fired.len(), 1);

    let kinds: Vec<NotificationKind> = seen.lock().unwrap().iter().map(|s| s.0).collect();
    assert_eq!(
        kinds,
        [NotificationKind::Fired, NotificationKind::Resolved, NotificationKind::Fired]
    );
    let all = m.alerts(&AlertQuery::default()).unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|a| a.rule_id == rule.id));
    let first = all.iter().find(|a| a.status == AlertStatus::Resolved).unwrap();
    assert_eq!(first.notifications.len(), 2, "fired and resolved, both delivered to the callback");
    assert!(first.notifications.iter().all(|d| d.delivered && d.channel == "callback"));

    // Acknowledgment: who and when; the first one is kept.
    let acked = m.acknowledge(&first.id, "ops@example.com").unwrap();
    assert!(acked.acknowledged);
    assert_eq!(acked.acknowledged_by.as_deref(), Some("ops@example.com"));
    assert_eq!(acked.acknowledged_at, Some(clock_now(&clock)));
    let again = m.acknowledge(&first.id, "someone-else").unwrap();
    assert_eq!(again.acknowledged_by.as_deref(), Some("ops@example.com"));
    let q = AlertQuery { acknowledged: Some(false), ..AlertQuery::default() };
    assert_eq!(m.alerts(&q).unwrap().len(), 1);
    assert_eq!(m.acknowledge("alert-nope", "x").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(m.acknowledge(&first.id, " ").unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[test]
fn no_data_never_passes_silently() {
    let (clock, _e, m) = setup(None);
    let rule = |name: &str, action: &str| {
        json!({"ruleName": name, "modelName": "iris", "alertType": "error_rate",
               "condition": {"metric": "errorRate", "operator": ">", "threshold": 0.1},
               "noData": {"action": action, "after": 2}})
    };
    m.put_rule_json(&rule("hold", "hold")).unwrap();
    m.put_rule_json(&rule("fire", "fire")).unwrap();
    let r = m.tick().unwrap();
    assert!(r.rules.iter().all(|s| s.state == RuleState::NoData && s.value.is_none()));
    assert!(r.fired.is_empty(), "one evaluation without data is held");
    clock.advance(MIN);
    let r = m.tick().unwrap();
    assert_eq!(r.fired.len(), 1);
    assert_eq!(r.fired[0].rule_name, "fire");
    assert_eq!(r.fired[0].condition, "no data for errorRate");
    assert_eq!(r.fired[0].actual_value, None);
    let hold = r.rules.iter().find(|s| s.rule_name == "hold").unwrap();
    assert_eq!((hold.state, hold.no_data_streak), (RuleState::NoData, 2));

    // An unknown metric is a configuration error when the rule is saved.
    let bad = json!({"ruleName": "x", "alertType": "latency",
                     "condition": {"metric": "p95", "operator": ">", "threshold": 1}});
    let err = m.put_rule_json(&bad).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("unknown metric 'p95'"), "{err}");
}

#[test]
fn ignore_resolves_an_open_alert_when_data_stops() {
    let (clock, e, m) = setup(None);
    m.put_rule_json(&json!({"ruleName": "errors", "modelName": "iris", "alertType": "error_rate",
        "condition": {"metric": "errorRate", "operator": ">", "threshold": 0.1},
        "noData": {"action": "ignore", "after": 1}}))
        .unwrap();
    calls(&e, &clock, 20, 5.0, true);
    assert_eq!(m.tick().unwrap().fired.len(), 1);
    clock.advance(10 * MIN);
    let r = m.tick().unwrap();
    assert_eq!(r.resolved.len(), 1, "no calls in the window: resolved by the ignore policy");
}

#[test]
fn jobs_run_on_their_interval_and_a_pause_runs_each_once() {
    let (clock, e, m) = setup(None);
    m.set_config(
        &ConfigScope::Global,
        json!({"aggregation": {"driftCheck": "6h", "dataQualityCheck": "1h"}}),
    )
    .unwrap();
    // A baseline from real calls, then calls of the same regime.
    for i in 0..300 {
        let row = json!([[5.0 + f64::from(i % 10) / 10.0, 3.0, 1.5 + f64::from(i % 7) / 7.0, 0.2]]);
        e.infer_json(&"iris:1".parse().unwrap(), &row, &InferContext::new()).unwrap();
        clock.advance(Duration::from_millis(100));
    }
    e.fit_baseline(&"iris:1".parse().unwrap(), None, None, Default::default(), Default::default())
        .unwrap();
    let r = m.tick().unwrap();
    assert!(r.jobs.is_empty(), "first sight schedules, runs nothing: {:?}", r.jobs);

    let run = |r: &TickReport, job: JobKind| r.jobs.iter().filter(|j| j.job == job).count();
    clock.advance(HOUR);
    let r = m.tick().unwrap();
    assert_eq!(run(&r, JobKind::HourlyAggregation), 1);
    assert_eq!(run(&r, JobKind::DataQualityCheck), 1);
    let q = r.jobs.iter().find(|j| j.job == JobKind::DataQualityCheck).unwrap();
    assert_eq!(q.outcome, JobOutcome::Skipped, "no call since the baseline: {q:?}");
    assert_eq!(run(&r, JobKind::DriftCheck), 0);

    for i in 0..200 {
        let row = json!([[5.0 + f64::from(i % 10) / 10.0, 3.0, 1.5 + f64::from(i % 7) / 7.0, 0.2]]);
        e.infer_json(&"iris:1".parse().unwrap(), &row, &InferContext::new()).unwrap();
    }
    clock.advance(5 * HOUR);
    let r = m.tick().unwrap();
    let drift = r.jobs.iter().find(|j| j.job == JobKind::DriftCheck).unwrap();
    assert_eq!(drift.outcome, JobOutcome::Ran, "{drift:?}");
    assert_eq!(r.drift_checks.len(), 1);
    let quality = r.jobs.iter().find(|j| j.job == JobKind::DataQualityCheck).unwrap();
    assert_eq!((quality.outcome, quality.missed), (JobOutcome::Ran, 4));

    // Three days without a tick: each job runs once, the skipped runs are counted.
    clock.advance(72 * HOUR);
    let r = m.tick().unwrap();
    let get = |job: JobKind| r.jobs.iter().find(|j| j.job == job).unwrap();
    assert_eq!(run(&r, JobKind::DataQualityCheck), 1);
    assert_eq!(get(JobKind::DataQualityCheck).missed, 71);
    assert_eq!(run(&r, JobKind::DriftCheck), 1);
    assert_eq!(get(JobKind::DriftCheck).missed, 11);
    assert_eq!(get(JobKind::DriftCheck).outcome, JobOutcome::Skipped);
    assert_eq!(run(&r, JobKind::DailyAggregation), 1);
    // And nothing is due right after.
    assert!(m.tick().unwrap().jobs.is_empty());

    // A new monitor (a restarted process) continues from the newest stored checks: the
    // quality check is due an hour after the last one, not an hour after its first tick.
    for i in 0..50 {
        let row = json!([[5.0 + f64::from(i % 10) / 10.0, 3.0, 1.5, 0.2]]);
        e.infer_json(&"iris:1".parse().unwrap(), &row, &InferContext::new()).unwrap();
    }
    clock.advance(HOUR);
    let r = m.tick().unwrap();
    let q = r.jobs.iter().find(|j| j.job == JobKind::DataQualityCheck).unwrap();
    assert_eq!(q.outcome, JobOutcome::Ran, "{q:?}");
    let again = Monitor::new(e.clone(), MonitorOptions::default()).unwrap();
    assert!(again.tick().unwrap().jobs.iter().all(|j| j.job != JobKind::DataQualityCheck));
    clock.advance(HOUR);
    let r = again.tick().unwrap();
    assert_eq!(
        r.jobs.iter().filter(|j| j.job == JobKind::DataQualityCheck).count(),
        1,
        "{:?}",
        r.jobs
    );
}

#[test]
fn drift_triggers_a_retraining_request_that_passes_safety_checks_and_is_approved() {
    let (clock, e, m) = setup(None);
    m.set_config(
        &ConfigScope::Global,
        json!({
            "aggregation": {"driftCheck": "1h"},
            "retrainingTriggers": {"minNewLabeledSamples": 10, "minDaysBetweenRetraining": 7,
                "conditions": [{"type": "drift", "driftTypes": ["input"], "threshold": 0.3}]}
        }),
    )
    .unwrap();
    let iris: ModelRef = "iris:1".parse().unwrap();
    let row = |i: u32, shift: f64| {
        let u = |k: u32| f64::from((i * 7919 + k * 104_729) % 1000) / 1000.0;
        json!([[4.5 + 3.0 * u(1), 2.0 + 2.0 * u(2), 1.0 + 5.0 * u(3) + shift, 0.1 + 2.4 * u(4)]])
    };
    for i in 0..400 {
        let p = e.infer_json(&iris, &row(i, 0.0), &InferContext::new()).unwrap();
        e.feedback(&p.inference_id, p.prediction.clone()).unwrap();
        clock.advance(Duration::from_millis(100));
    }
    e.fit_baseline(&iris, None, None, Default::default(), Default::default()).unwrap();
    let approved = Arc::new(Mutex::new(Vec::new()));
    let a = approved.clone();
    m.on_retraining_approved(move |r| a.lock().unwrap().push(r.training_job_id.clone().unwrap()));
    // The model verdict as a rule: the smallest Holm-adjusted p-value of the newest check.
    m.put_rule_json(&json!({"ruleName": "model drift", "modelName": "iris", "alertType": "drift",
        "condition": {"metric": "adjustedPValue", "operator": "<", "threshold": 0.05}}))
        .unwrap();
    m.tick().unwrap();

    // Drifted traffic: petal length shifted by 3 → KS D well above 0.3.
    for i in 0..300 {
        e.infer_json(&iris, &row(i, 3.0), &InferContext::new()).unwrap();
    }
    clock.advance(HOUR);
    let r = m.tick().unwrap();
    assert_eq!(r.retraining_requests.len(), 1, "{:?}", r.jobs);
    assert_eq!(r.fired.iter().map(|a| a.rule_name.as_str()).collect::<Vec<_>>(), ["model drift"]);
    assert!(r.fired[0].actual_value.unwrap() < 1e-6);
    let req = &r.retraining_requests[0];
    assert_eq!(req.status, RetrainingStatus::PendingApproval, "{:?}", req.safety_checks);
    assert_eq!(req.trigger_reason.as_str(), "drift_detected");
    assert!(
        req.trigger_details["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["featureName"] == "input[2]")
    );
    assert_eq!(req.safety_checks.len(), 4);

    // Still drifting at the next check: no second request (one per episode)…
    for i in 0..300 {
        e.infer_json(&iris, &row(i, 3.0), &InferContext::new()).unwrap();
    }
    clock.advance(HOUR);
    assert!(m.tick().unwrap().retraining_requests.is_empty());
    // …and a manual request now is blocked by the pending one, with the values.
    let manual = m.request_retraining(&iris, Some("ana"), json!({"note": "try"})).unwrap();
    assert_eq!(manual.status, RetrainingStatus::Blocked);
    let blocked: Vec<&str> = manual.blocked_by().iter().map(|c| c.check.as_str()).collect();
    assert_eq!(blocked, ["no_pending_request"]);
    assert_eq!(manual.blocked_by()[0].actual, Some(1.0));

    // Approval hands a training job id to the callback; a second decision is refused.
    let done = m.approve(&req.id, "lead@example.com", Some("drift confirmed")).unwrap();
    assert_eq!(done.status, RetrainingStatus::Approved);
    assert_eq!(done.reviewed_by.as_deref(), Some("lead@example.com"));
    assert_eq!(done.reviewed_at, Some(clock_now(&clock)));
    let job = done.training_job_id.clone().unwrap();
    assert!(job.starts_with("train-"));
    assert_eq!(*approved.lock().unwrap(), [job]);
    let err = m.reject(&req.id, "x", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTransition);
    assert!(err.to_string().contains("'approved' to 'rejected'"), "{err}");
    assert_eq!(m.complete(&req.id).unwrap().status, RetrainingStatus::Completed);

    // Right after a retraining: blocked by the minimum days and by too few new labels.
    let next = m.request_retraining(&iris, Some("ana"), json!({})).unwrap();
    let blocked: Vec<&str> = next.blocked_by().iter().map(|c| c.check.as_str()).collect();
    assert_eq!(blocked, ["min_days_between_retraining", "min_new_labeled_samples"]);
    let pending =
        m.retraining_requests(Some("iris"), Some(RetrainingStatus::PendingApproval)).unwrap();
    assert!(pending.is_empty());
    assert_eq!(m.retraining_requests(None, None).unwrap().len(), 3);
}

#[test]
fn error_rate_conditions_and_rules_request_retraining_through_the_same_checks() {
    let (clock, e, m) = setup(None);
    m.set_config(
        &ConfigScope::Model("iris".into()),
        json!({"retrainingTriggers": {"minNewLabeledSamples": 0,
            "conditions": [{"type": "error_rate", "threshold": 0.1}]}}),
    )
    .unwrap();
    calls(&e, &clock, 50, 5.0, true);
    let r = m.tick().unwrap();
    assert_eq!(r.retraining_requests.len(), 1);
    assert_eq!(r.retraining_requests[0].trigger_reason.as_str(), "error_rate_threshold");
    assert_eq!(r.retraining_requests[0].status, RetrainingStatus::PendingApproval);
    let rejected = m.reject(&r.retraining_requests[0].id, "lead", Some("flaky upstream")).unwrap();
    assert_eq!(rejected.review_reason.as_deref(), Some("flaky upstream"));
    assert_eq!(
        m.approve(&rejected.id, "lead", None).unwrap_err().kind(),
        ErrorKind::InvalidTransition
    );

    // A rule with requestRetraining links its alert to the request.
    m.put_rule_json(&json!({"ruleName": "errors", "modelName": "iris", "alertType": "error_rate",
        "condition": {"metric": "errorRate", "operator": ">=", "threshold": 0.5},
        "requestRetraining": true}))
        .unwrap();
    calls(&e, &clock, 10, 5.0, true);
    let r = m.tick().unwrap();
    assert_eq!(r.fired.len(), 1);
    let linked = r.fired[0].retraining_request_id.clone().unwrap();
    assert_eq!(m.retraining_request(&linked).unwrap().trigger_details["alertId"], r.fired[0].id);
}

/// A loopback HTTP server answering each request with the next status of `script` (then
/// 200); records the bodies.
fn server(script: Vec<(u16, Option<&'static str>)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let b = bodies.clone();
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            b.lock().unwrap().push(String::from_utf8(body).unwrap());
            let (status, extra) = script.next().unwrap_or((200, None));
            let extra = extra.map(|h| format!("{h}\r\n")).unwrap_or_default();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\n{extra}content-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, bodies)
}

#[test]
fn webhooks_are_retried_on_5xx_and_429_and_not_on_4xx() {
    let (clock, e, m) = setup(None);
    let (good, bodies) = server(vec![(500, None), (429, Some("retry-after: 0")), (200, None)]);
    let (bad, _) = server(vec![(404, None)]);
    m.put_rule_json(&json!({"ruleName": "errors", "modelName": "iris", "alertType": "error_rate",
        "condition": {"metric": "errorCount", "operator": ">", "threshold": 0},
        "notificationChannels": [good, bad]}))
        .unwrap();
    calls(&e, &clock, 5, 5.0, true);
    let fired = m.tick().unwrap().fired;
    assert_eq!(fired.len(), 1);
    assert!(m.flush_notifications(Duration::from_secs(20)));
    let event = m.alert(&fired[0].id).unwrap();
    let good_d = event.notifications.iter().find(|d| d.channel == good).unwrap();
    assert!(good_d.delivered);
    assert_eq!(good_d.attempts, 3);
    let bad_d = event.notifications.iter().find(|d| d.channel == bad).unwrap();
    assert!(!bad_d.delivered);
    assert_eq!(bad_d.attempts, 1);
    assert!(bad_d.error.as_deref().unwrap().contains("404"));
    let sent: serde_json::Value = serde_json::from_str(&bodies.lock().unwrap()[2]).unwrap();
    assert_eq!(sent["kind"], "fired");
    assert_eq!(sent["alert"]["id"], json!(fired[0].id));
    assert_eq!(sent["alert"]["condition"], "errorCount > 0");
}

#[test]
fn rules_events_and_episodes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let open = || Arc::new(SqliteStore::open(dir.path()).unwrap());
    {
        let (_, e, m) = setup_with(clock.clone(), Some(open()));
        m.put_rule_json(
            &json!({"ruleName": "errors", "modelName": "iris", "alertType": "error_rate",
            "condition": {"metric": "errorRate", "operator": ">", "threshold": 0.1}}),
        )
        .unwrap();
        calls(&e, &clock, 20, 5.0, true);
        assert_eq!(m.tick().unwrap().fired.len(), 1);
        e.flush().unwrap();
    }
    // A new process: the stored events seed the window, the open alert is not raised again.
    let (_, _e, m) = setup_with(clock.clone(), Some(open()));
    assert_eq!(m.rules().unwrap().len(), 1);
    let r = m.tick().unwrap();
    assert!(r.fired.is_empty(), "the episode continues: {:?}", r.fired);
    assert_eq!(r.rules[0].state, RuleState::Firing);
    assert_eq!(m.alerts(&AlertQuery::default()).unwrap().len(), 1);
}

#[test]
fn the_background_thread_ticks_until_stopped() {
    let (_clock, e, _m) = setup(None);
    let m = Monitor::new(e, MonitorOptions::default().interval(Duration::from_millis(20))).unwrap();
    m.put_rule_json(&slow_rule()).unwrap();
    let thread = m.start().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while m.last_report().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    thread.stop();
    let report = m.last_report().unwrap();
    assert_eq!(report.rules.len(), 1);
}

#[test]
fn records_from_another_worker_are_restored_without_moving_backwards() {
    // Two workers, two stores; the second acts on records the first wrote (as mirrored rows).
    let (_c1, e1, m1) = setup(None);
    let (_c2, _e2, m2) = setup(None);
    m1.set_config(&ConfigScope::Global, json!({"retrainingTriggers": {"minNewLabeledSamples": 0}}))
        .unwrap();
    let req = m1.request_retraining(&"iris:1".parse().unwrap(), Some("ana"), json!({})).unwrap();
    let row = |m: &Monitor, table, id: &str| {
        m.engine().store().record(table, id).unwrap().unwrap().record
    };
    assert_eq!(m2.retraining_request(&req.id).unwrap_err().kind(), ErrorKind::NotFound);
    let pending = row(&m1, harper_edge_core::Table::RetrainingRequest, &req.id);
    assert!(m2.restore(harper_edge_core::Table::RetrainingRequest, &pending).unwrap());
    let approved = m2.approve(&req.id, "lead", None).unwrap();
    // The stale pending copy arriving later does not undo the approval…
    assert!(!m2.restore(harper_edge_core::Table::RetrainingRequest, &pending).unwrap());
    assert_eq!(m2.retraining_request(&req.id).unwrap().status, RetrainingStatus::Approved);
    // …and worker 1 learns of the approval, so it cannot approve a second time.
    let newer = row(&m2, harper_edge_core::Table::RetrainingRequest, &req.id);
    assert!(m1.restore(harper_edge_core::Table::RetrainingRequest, &newer).unwrap());
    assert_eq!(
        m1.approve(&req.id, "other", None).unwrap_err().kind(),
        ErrorKind::InvalidTransition
    );
    assert_eq!(m1.retraining_request(&req.id).unwrap().training_job_id, approved.training_job_id);

    // Alert events merge: resolved and acknowledged survive either order.
    m1.put_rule_json(&json!({"ruleName": "errors", "modelName": "iris", "modelVersion": "1",
        "alertType": "error_rate", "condition": {"metric": "errorCount", "operator": ">", "threshold": 0}}))
        .unwrap();
    let clock = _c1;
    calls(&e1, &clock, 3, 1.0, true);
    let fired = m1.tick().unwrap().fired.remove(0);
    let firing = row(&m1, harper_edge_core::Table::AlertEvent, &fired.id);
    assert!(m2.restore(harper_edge_core::Table::AlertEvent, &firing).unwrap());
    m2.acknowledge(&fired.id, "oncall").unwrap();
    let acked = row(&m2, harper_edge_core::Table::AlertEvent, &fired.id);
    assert!(m1.restore(harper_edge_core::Table::AlertEvent, &acked).unwrap());
    assert_eq!(m1.alert(&fired.id).unwrap().acknowledged_by.as_deref(), Some("oncall"));
    assert!(!m2.restore(harper_edge_core::Table::AlertEvent, &firing).unwrap(), "nothing new");
    let rule_row = row(&m1, harper_edge_core::Table::AlertRule, &fired.rule_id);
    assert!(m2.restore(harper_edge_core::Table::AlertRule, &rule_row).unwrap());
    assert!(!m2.restore(harper_edge_core::Table::AlertRule, &rule_row).unwrap());
    let err = m2.restore(harper_edge_core::Table::Model, &json!({})).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = m2.restore(harper_edge_core::Table::AlertEvent, &json!({"id": 3})).unwrap_err();
    assert!(err.to_string().contains("AlertEvent record: id"), "{err}");
}
