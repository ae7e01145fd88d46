"""Ollama models through the binding, against a loopback stand-in that speaks Ollama's
documented HTTP API (no Ollama binary here): ``/api/embed`` (batched JSON), ``/api/chat`` and
``/api/generate`` (NDJSON streams with ``done``, ``done_reason`` and token counts), and the
failures (a model the daemon lacks, a daemon that is down). No request leaves 127.0.0.1."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

import harper_edge

DIM = 4
PIECES = ["Hel", "lo", " world"]


class Ollama:
    """A loopback stand-in of an Ollama daemon; records every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.missing: set[str] = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.requests.append((self.path, body))
                model = body.get("model", "")
                if model in outer.missing:
                    error = {"error": f'model "{model}" not found, try pulling it first'}
                    self.reply(404, json.dumps(error).encode(), "application/json")
                elif self.path == "/api/embed":
                    vectors = [[float(i), 1.0, 0.5, float(len(t))] for i, t in enumerate(body["input"])]
                    answer = {"model": model, "embeddings": vectors}
                    self.reply(200, json.dumps(answer).encode(), "application/json")
                elif self.path in ("/api/chat", "/api/generate"):
                    self.stream(self.path == "/api/chat")
                else:
                    self.reply(404, b"404 page not found", "text/plain")

            def reply(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def stream(self, chat: bool) -> None:
                def line(piece: str, done: bool) -> bytes:
                    v: dict[str, Any] = {"model": "m", "done": done}
                    if chat:
                        v["message"] = {"role": "assistant", "content": piece}
                    else:
                        v["response"] = piece
                    if done:
                        v.update(done_reason="stop", prompt_eval_count=7, eval_count=3,
                                 total_duration=12_500_000)
                    return (json.dumps(v) + "\n").encode()

                self.send_response(200)
                self.send_header("content-type", "application/x-ndjson")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for chunk in [line(p, False) for p in PIECES] + [line("", True)]:
                    try:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                    except OSError:
                        return  # the client stopped reading
                try:
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ollama() -> Iterator[Ollama]:
    server = Ollama()
    yield server
    server.close()


def engine_for(ollama: Ollama, mode: str = "chat", model: str = "llama3.2") -> harper_edge.Engine:
    e = harper_edge.Engine.in_memory()
    e.register_ollama("llm", "1", model, mode=mode, host=ollama.host)  # type: ignore[arg-type]
    return e


def test_register_ollama_records_the_manifest(ollama: Ollama) -> None:
    e = harper_edge.Engine.in_memory()
    m = e.register_ollama("emb", "1", "nomic-embed-text", mode="embeddings", host=ollama.host,
                          options={"temperature": 0}, read_timeout=5.0,
                          metadata={"taskType": "text-embedding"})
    assert m.framework == "ollama"
    assert m.metadata["taskType"] == "text-embedding"
    assert ollama.requests == [], "registering needs no daemon"
    with pytest.raises(harper_edge.InvalidInputError, match="mode"):
        e.register_ollama("x", "1", "m", mode="dance")  # type: ignore[arg-type]
    with pytest.raises(harper_edge.InvalidInputError):
        e.register_ollama("x", "1", " ")


def test_embed_is_one_request_for_the_batch(ollama: Ollama) -> None:
    e = engine_for(ollama, "embeddings", "nomic-embed-text")
    v = e.embed("llm", ["a", "bb", "ccc"])
    assert isinstance(v, np.ndarray)
    assert v.dtype == np.float32
    assert v.shape == (3, DIM)
    np.testing.assert_array_equal(v[2], [2.0, 1.0, 0.5, 3.0])
    assert len(ollama.requests) == 1
    path, body = ollama.requests[0]
    assert path == "/api/embed"
    assert body == {"model": "nomic-embed-text", "input": ["a", "bb", "ccc"]}

    e.flush()
    (event,) = e.events("llm")
    assert event.features_in == {"texts": ["a", "bb", "ccc"]}
    assert event.prediction == {"count": 3, "dim": DIM}


def test_embed_checks_its_texts(ollama: Ollama) -> None:
    e = engine_for(ollama, "embeddings")
    with pytest.raises(TypeError, match="list of str"):
        e.embed("llm", "one text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list of str"):
        e.embed("llm", ["a", 1])  # type: ignore[list-item]
    with pytest.raises(harper_edge.InvalidInputError):
        e.embed("llm", [])
    assert e.embed("llm", ("a", "b")).shape == (2, DIM), "any sequence of str"
    with pytest.raises(harper_edge.NotFoundError):
        e.embed("nope", ["a"])
    # An embeddings model does not chat.
    with pytest.raises(harper_edge.InvalidInputError, match="embeddings"):
        e.chat("llm", "hi")


def test_chat_streams_pieces_in_order(ollama: Ollama) -> None:
    e = engine_for(ollama)
    pieces: list[str] = []
    result = e.chat("llm", "Say hello", system="Be brief.", on_token=pieces.append)
    assert pieces == PIECES
    assert result["text"] == "Hello world"
    assert result["doneReason"] == "stop"
    assert result["completionTokens"] == 3
    assert result["promptTokens"] == 7
    assert result["totalMs"] == 12.5
    assert result["modelName"] == "llm" and result["modelVersion"] == "1"
    path, body = ollama.requests[0]
    assert path == "/api/chat"
    assert body["stream"] is True
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]

    e.flush()
    (event,) = e.events("llm")
    assert event.id == result["inferenceId"]
    assert event.prediction == "Hello world"
    assert event.features_in == {"messages": body["messages"]}


def test_chat_takes_messages_and_needs_no_callback(ollama: Ollama) -> None:
    e = engine_for(ollama)
    history = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "again"},
    ]
    result = e.chat("llm", history)
    assert result["text"] == "Hello world"
    assert ollama.requests[0][1]["messages"] == history
    with pytest.raises(TypeError, match="role"):
        e.chat("llm", [{"role": 1, "content": "x"}])
    with pytest.raises(harper_edge.InvalidInputError, match="content"):
        e.chat("llm", [{"role": "user"}])
    with pytest.raises(TypeError):
        e.chat("llm", 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="on_token"):
        e.chat("llm", "hi", on_token="print")  # type: ignore[arg-type]


def test_generate_uses_the_generate_endpoint(ollama: Ollama) -> None:
    e = engine_for(ollama, "generate")
    pieces: list[str] = []
    result = e.generate("llm", "2+2=", on_token=pieces.append)
    assert pieces == PIECES
    assert result["text"] == "Hello world"
    path, body = ollama.requests[0]
    assert path == "/api/generate"
    assert body["prompt"] == "2+2="
    e.flush()
    assert e.events("llm")[0].features_in == {"prompt": "2+2="}


def test_returning_false_cancels(ollama: Ollama) -> None:
    e = engine_for(ollama)
    seen: list[str] = []

    def first_only(piece: str) -> bool:
        seen.append(piece)
        return False

    result = e.chat("llm", "hi", on_token=first_only)
    assert seen == ["Hel"]
    assert result["text"] == "Hel"
    assert result["doneReason"] == "cancelled"
    # None (no return value) and truthy values go on.
    assert e.chat("llm", "hi", on_token=lambda p: None)["doneReason"] == "stop"
    assert e.chat("llm", "hi", on_token=lambda p: 0)["doneReason"] == "stop"


def test_a_raising_callback_stops_and_propagates(ollama: Ollama) -> None:
    e = engine_for(ollama)
    seen: list[str] = []

    class Stop(Exception):
        pass

    def boom(piece: str) -> None:
        seen.append(piece)
        if len(seen) == 2:
            raise Stop("enough")

    with pytest.raises(Stop, match="enough"):
        e.chat("llm", "hi", on_token=boom)
    assert seen == ["Hel", "lo"], "no call after the exception"
    e.flush()
    (event,) = e.events("llm")
    assert event.prediction == "Hello", "the call is still recorded, with what came"


def test_a_missing_model_is_not_found_with_the_pull_command(ollama: Ollama) -> None:
    ollama.missing.add("llama3.2")
    e = engine_for(ollama)
    with pytest.raises(harper_edge.NotFoundError, match="ollama pull llama3.2") as info:
        e.chat("llm", "hi")
    assert info.value.code == "HARPER_EDGE_NOT_FOUND"  # type: ignore[attr-defined]
    emb = engine_for(ollama, "embeddings")
    with pytest.raises(harper_edge.NotFoundError, match="ollama pull"):
        emb.embed("llm", ["a"])
    e.flush()
    (event,) = e.events("llm")
    assert event.error is not None and "ollama pull" in event.error


def test_a_daemon_that_is_down_is_a_network_error() -> None:
    e = harper_edge.Engine.in_memory()
    e.register_ollama("llm", "1", "llama3.2", host="127.0.0.1:9")
    with pytest.raises(harper_edge.NetworkError, match="ollama serve"):
        e.chat("llm", "hi")
    e.register_ollama("emb", "1", "nomic-embed-text", mode="embeddings", host="127.0.0.1:9")
    with pytest.raises(harper_edge.NetworkError):
        e.embed("emb", ["a"])


def test_the_gil_is_released_while_streaming(ollama: Ollama) -> None:
    """Other Python threads run during a call: the stand-in itself is Python."""
    e = engine_for(ollama)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(e.chat("llm", "hi")["text"]))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == ["Hello world"] * 4
