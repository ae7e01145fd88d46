//! `model add --ollama` and `chat` against a loopback server speaking Ollama's streamed
//! `/api/chat` (no Ollama binary can be installed here).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

fn cli(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harper-edge"))
        .env("HARPER_EDGE_HOME", home)
        .args(args)
        .output()
        .expect("run harper-edge")
}

/// Answers every request with a three-piece chat stream.
fn ollama_stand_in() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let lines = [
                r#"{"message":{"role":"assistant","content":"Hello"},"done":false}"#,
                r#"{"message":{"role":"assistant","content":", "},"done":false}"#,
                r#"{"message":{"role":"assistant","content":"world"},"done":false}"#,
                r#"{"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":3}"#,
            ];
            let payload = lines.join("\n") + "\n";
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                payload.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(payload.as_bytes());
        }
    });
    addr
}

#[test]
fn an_ollama_model_streams_its_answer_and_the_call_is_recorded() {
    let home = tempfile::tempdir().unwrap();
    let host = ollama_stand_in();
    let added =
        cli(home.path(), &["model", "add", "llm", "1", "--ollama", "llama3.2", "--host", &host]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let added: serde_json::Value = serde_json::from_slice(&added.stdout).unwrap();
    assert_eq!(added["framework"], "ollama");

    let out = cli(home.path(), &["chat", "llm", "Say hello", "--system", "Be brief."]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "Hello, world\n");

    let out = cli(home.path(), &["chat", "llm:1", "again", "--json"]);
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["text"], "Hello, world");
    assert_eq!(answer["completionTokens"], 3);

    let events = cli(home.path(), &["events", "--model", "llm"]);
    let lines: Vec<serde_json::Value> = String::from_utf8(events.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["prediction"], "Hello, world");
    assert_eq!(lines[1]["featuresIn"]["messages"][0]["role"], "system");

    // An Ollama chat model does not embed: a typed one-line error.
    let out = cli(home.path(), &["embed", "llm", "a", "b"]);
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("INVALID_INPUT"));

    let err = cli(home.path(), &["model", "add", "x", "1", "--ollama", "m", "--mode", "dance"]);
    assert!(String::from_utf8(err.stderr).unwrap().contains("unknown --mode 'dance'"));
}
