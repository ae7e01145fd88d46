//! The Ollama backend against a loopback server that speaks Ollama's documented HTTP API
//! (no Ollama binary can be installed here): batched embeddings, streamed chat and generate,
//! a stop from the callback, and the failures — daemon down, model missing, a malformed,
//! broken, erroring or stalled stream.
#![cfg(feature = "ollama")]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Reply, Server};
use harper_edge_core::backend::ollama::{OllamaMode, OllamaModel};
use harper_edge_core::backend::{ChatMessage, Prompt};
use harper_edge_core::{
    Engine, ErrorKind, EventQuery, Framework, InferContext, Inputs, ModelRegistration, Tensor,
    TensorData,
};
use serde_json::{Value, json};

fn ndjson(lines: &[Value]) -> Vec<u8> {
    lines.iter().map(|l| format!("{l}\n")).collect::<String>().into_bytes()
}

fn chat_stream() -> Vec<u8> {
    ndjson(&[
        json!({"model": "llama3.2", "message": {"role": "assistant", "content": "Hel"}, "done": false}),
        json!({"model": "llama3.2", "message": {"role": "assistant", "content": "lo"}, "done": false}),
        json!({"model": "llama3.2", "message": {"role": "assistant", "content": " world"}, "done": false}),
        json!({"model": "llama3.2", "message": {"role": "assistant", "content": ""}, "done": true,
               "done_reason": "stop", "prompt_eval_count": 7, "eval_count": 3, "total_duration": 12_500_000}),
    ])
}

/// An engine with `model` registered as an Ollama model at `server`.
fn engine_with(server: &Server, mode: OllamaMode, read_timeout_ms: Option<u64>) -> Engine {
    let engine = Engine::in_memory().unwrap();
    let mut manifest = OllamaModel::new("llama3.2", mode);
    manifest.host = Some(server.url.clone());
    manifest.read_timeout_ms = read_timeout_ms;
    engine
        .register_model(
            ModelRegistration::new("llm", "1", Framework::Ollama).bytes(manifest.to_bytes()),
        )
        .unwrap();
    engine
}

fn texts(t: &[&str]) -> Tensor<'static> {
    let owned: Vec<String> = t.iter().map(|s| (*s).to_string()).collect();
    Tensor::new(vec![t.len()], TensorData::String(owned.into())).unwrap()
}

#[test]
fn embeddings_are_batched_in_one_request() {
    let server = Server::routed(|req| {
        assert_eq!(req.path, "/api/embed");
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let n = body["input"].as_array().unwrap().len();
        let vectors: Vec<Vec<f32>> = (0..n).map(|i| vec![i as f32, 1.0, 0.5]).collect();
        Reply {
            body: json!({"model": body["model"], "embeddings": vectors}).to_string().into_bytes(),
            ..Reply::status(200)
        }
    });
    let engine = engine_with(&server, OllamaMode::Embeddings, None);
    let input = texts(&["a", "b", "c"]);
    let p = engine
        .infer(&"llm".parse().unwrap(), &Inputs::single(input), &InferContext::new())
        .unwrap();
    let out = p.outputs.get("embeddings").unwrap();
    assert_eq!(out.shape(), [3, 3]);
    assert_eq!(out.as_f32().unwrap()[6], 2.0, "third vector, first value");
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "one request for the whole batch");
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body, json!({"model": "llama3.2", "input": ["a", "b", "c"]}));

    // The text task: a list of strings in, one vector per text out, one request.
    let e = engine.embed(&"llm".parse().unwrap(), &["x", "y"], &InferContext::new()).unwrap();
    assert_eq!((e.count, e.dim), (2, 3));
    assert_eq!(e.vector(1).unwrap(), [1.0, 1.0, 0.5]);
    assert_eq!(server.requests().len(), 2);
    let err = engine.embed(&"llm".parse().unwrap(), &[], &InferContext::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");
    engine.register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(path)).unwrap();
    let err = engine.embed(&"iris".parse().unwrap(), &["x"], &InferContext::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("is not a text model"), "{err}");
}

#[test]
fn chat_streams_pieces_and_is_recorded() {
    let server = Server::routed(|req| {
        assert_eq!(req.path, "/api/chat");
        Reply { body: chat_stream(), ..Reply::status(200) }
            .header("content-type", "application/x-ndjson")
    });
    let engine = engine_with(&server, OllamaMode::Chat, None);
    let mut pieces = Vec::new();
    let messages = [ChatMessage::new("system", "Be brief."), ChatMessage::user("Say hello")];
    let answer = engine
        .generate(
            &"llm".parse().unwrap(),
            &Prompt::Chat(&messages),
            &InferContext::new(),
            &mut |p| {
                pieces.push(p.to_string());
                true
            },
        )
        .unwrap();
    assert_eq!(pieces, ["Hel", "lo", " world"]);
    assert_eq!(answer.generation.text, "Hello world");
    assert_eq!(answer.generation.done_reason, "stop");
    assert_eq!(answer.generation.completion_tokens, Some(3));
    assert_eq!(answer.generation.total_ms, Some(12.5));
    let sent: Value = serde_json::from_slice(&server.requests()[0].body).unwrap();
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["messages"][0], json!({"role": "system", "content": "Be brief."}));

    engine.flush().unwrap();
    let events = engine.events(&EventQuery::new()).unwrap();
    assert_eq!(events[0].id, answer.inference_id);
    assert_eq!(events[0].prediction, json!("Hello world"));
}

#[test]
fn the_callback_can_stop_an_answer() {
    let server = Server::routed(|_| Reply { body: chat_stream(), ..Reply::status(200) });
    let engine = engine_with(&server, OllamaMode::Chat, None);
    let answer = engine
        .generate(&"llm".parse().unwrap(), &Prompt::Text("hi"), &InferContext::new(), &mut |_| {
            false
        })
        .unwrap();
    assert_eq!(answer.generation.text, "Hel");
    assert_eq!(answer.generation.done_reason, "cancelled");
}

#[test]
fn generate_mode_uses_the_generate_endpoint() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let server = Server::routed(move |req| {
        log.lock().unwrap().push(req.path.clone());
        let body = ndjson(&[
            json!({"response": "4", "done": false}),
            json!({"response": "", "done": true, "done_reason": "stop"}),
        ]);
        Reply { body, ..Reply::status(200) }
    });
    let engine = engine_with(&server, OllamaMode::Generate, None);
    let p = engine
        .infer(&"llm".parse().unwrap(), &Inputs::single(texts(&["2+2="])), &InferContext::new())
        .unwrap();
    assert_eq!(p.outputs.get("text").unwrap().as_strings().unwrap(), ["4"]);
    assert_eq!(*seen.lock().unwrap(), ["/api/generate"]);
}

#[test]
fn a_missing_model_is_not_found_with_the_pull_command() {
    let server = Server::routed(|_| Reply {
        body: br#"{"error":"model \"llama3.2\" not found, try pulling it first"}"#.to_vec(),
        ..Reply::status(404)
    });
    let engine = engine_with(&server, OllamaMode::Chat, None);
    let err = engine
        .generate(&"llm".parse().unwrap(), &Prompt::Text("hi"), &InferContext::new(), &mut |_| true)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("ollama pull llama3.2"), "{err}");
}

#[test]
fn a_daemon_that_is_down_is_a_retryable_network_error() {
    let engine = Engine::in_memory().unwrap();
    let mut manifest = OllamaModel::new("llama3.2", OllamaMode::Chat);
    manifest.host = Some("127.0.0.1:9".into());
    // Registration does not need the daemon.
    engine
        .register_model(
            ModelRegistration::new("llm", "1", Framework::Ollama).bytes(manifest.to_bytes()),
        )
        .unwrap();
    let err = engine
        .generate(&"llm".parse().unwrap(), &Prompt::Text("hi"), &InferContext::new(), &mut |_| true)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.is_retryable());
    assert!(err.to_string().contains("ollama serve"), "{err}");
}

#[test]
fn malformed_broken_and_erroring_streams_are_backend_errors() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{\"message\":{\"content\":\"a\"},\"done\":false}\nnot json\n".to_vec(), "malformed"),
        (ndjson(&[json!({"message": {"content": "a"}, "done": false})]), "ended before"),
        (ndjson(&[json!({"error": "out of memory"})]), "out of memory"),
    ];
    for (body, expect) in cases {
        let server = Server::routed(move |_| Reply { body: body.clone(), ..Reply::status(200) });
        let engine = engine_with(&server, OllamaMode::Chat, None);
        let err = engine
            .generate(
                &"llm".parse().unwrap(),
                &Prompt::Text("hi"),
                &InferContext::new(),
                &mut |_| true,
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Backend, "{err}");
        assert!(err.to_string().contains(expect), "{expect:?} not in {err}");
    }
}

#[test]
fn a_stalled_stream_times_out_and_a_slow_one_does_not() {
    let stalled = Server::routed(|_| Reply {
        body: chat_stream(),
        stall: Some((40, Duration::from_millis(1500))),
        ..Reply::status(200)
    });
    let engine = engine_with(&stalled, OllamaMode::Chat, Some(300));
    let err = engine
        .generate(&"llm".parse().unwrap(), &Prompt::Text("hi"), &InferContext::new(), &mut |_| true)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert!(err.is_retryable());

    // A pause shorter than the read timeout is waited out.
    let slow = Server::routed(|_| Reply {
        body: chat_stream(),
        stall: Some((40, Duration::from_millis(200))),
        ..Reply::status(200)
    });
    let engine = engine_with(&slow, OllamaMode::Chat, Some(5_000));
    let answer = engine
        .generate(&"llm".parse().unwrap(), &Prompt::Text("hi"), &InferContext::new(), &mut |_| true)
        .unwrap();
    assert_eq!(answer.generation.text, "Hello world");
}

#[test]
fn an_embedding_model_does_not_chat_and_a_tabular_model_does_not_generate() {
    let server = Server::routed(|_| Reply::status(500));
    let engine = engine_with(&server, OllamaMode::Embeddings, None);
    let err = engine
        .generate(&"llm".parse().unwrap(), &Prompt::Text("hi"), &InferContext::new(), &mut |_| true)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(server.requests().is_empty());

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");
    engine.register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(path)).unwrap();
    let err = engine
        .generate(&"iris".parse().unwrap(), &Prompt::Text("hi"), &InferContext::new(), &mut |_| {
            true
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}
