"""Fetching models (URL, filesystem, a Hub-like server on 127.0.0.1), fetch jobs, the registry
filters and removal, inspecting sources, and profiles. No network beyond the loopback."""

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import harper_edge
from conftest import DATA, IRIS

IRIS_BYTES = IRIS.read_bytes()
IRIS_SHA = hashlib.sha256(IRIS_BYTES).hexdigest()
REPO_ROOT = DATA.parents[1]
COMMIT = "0123456789abcdef0123456789abcdef01234567"
CONFIG = b'{"model_type": "logistic-regression"}'
WAIT = 30.0


@dataclass
class Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    chunk: int = 0
    """Bytes per write (0: all at once)."""
    delay: float = 0.0
    """Seconds before each chunk."""


class Loopback:
    """An HTTP server on 127.0.0.1 serving fixed routes (by path with query, else without)
    and recording every request's method, path and headers."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def serve(self, body: bool) -> None:
                loopback.requests.append((self.command, self.path, dict(self.headers.items())))
                route = loopback.routes.get(self.path) or loopback.routes.get(self.path.split("?")[0])
                if route is None:
                    route = Route(b"not found", status=404)
                self.send_response(route.status)
                self.send_header("Content-Length", str(len(route.body)))
                for k, v in route.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if not body:
                    return
                step = route.chunk or len(route.body) or 1
                try:
                    for i in range(0, len(route.body), step):
                        if route.delay:
                            time.sleep(route.delay)
                        self.wfile.write(route.body[i : i + step])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                self.serve(True)

            def do_HEAD(self) -> None:
                self.serve(False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[Loopback]:
    s = Loopback()
    yield s
    s.close()


@pytest.fixture
def hub(server: Loopback) -> Loopback:
    """The loopback server laid out like the Hugging Face Hub for repository acme/iris."""
    listing = {
        "sha": COMMIT,
        "siblings": [
            {"rfilename": "onnx/model.onnx", "size": len(IRIS_BYTES)},
            {"rfilename": "config.json", "size": len(CONFIG)},
            {"rfilename": "README.md", "size": 10},
        ],
    }
    server.routes["/api/models/acme/iris/revision/main?blobs=true"] = Route(
        json.dumps(listing).encode(), headers={"Content-Type": "application/json"}
    )
    server.routes[f"/acme/iris/resolve/{COMMIT}/onnx/model.onnx"] = Route(
        IRIS_BYTES, headers={"ETag": f'"{IRIS_SHA}"', "X-Repo-Commit": COMMIT}
    )
    server.routes[f"/acme/iris/resolve/{COMMIT}/config.json"] = Route(
        CONFIG, headers={"ETag": '"config-etag"', "X-Repo-Commit": COMMIT}
    )
    return server


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Hugging Face settings or cache of the machine leak into a test."""
    for var in ("HF_ENDPOINT", "HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HARPER_EDGE_HOME", str(tmp_path / "home"))


@pytest.fixture
def home_engine(tmp_path: Path) -> harper_edge.Engine:
    """An engine on a store in a fresh home ($HARPER_EDGE_HOME): it can fetch."""
    return harper_edge.Engine.open(tick_interval=None)


def assert_infers_iris(engine: harper_edge.Engine, model: str, reference: dict[str, Any]) -> None:
    p = engine.infer(model, reference["inputs"])
    np.testing.assert_array_equal(p.outputs["label"], reference["labels"])


def test_fetch_by_url_registers_with_provenance(
    home_engine: harper_edge.Engine, server: Loopback, reference: dict[str, Any], tmp_path: Path
) -> None:
    server.routes["/models/iris.onnx"] = Route(IRIS_BYTES, headers={"ETag": '"iris-v1"'})
    url = server.url("/models/iris.onnx")
    job = home_engine.fetch_model(
        "iris", "1", url, sha256=IRIS_SHA, metadata={"taskType": "classification"}
    )
    assert job["id"] == "iris:1"
    assert job["source"] == {"kind": "http", "url": url}
    assert job["state"] in {"queued", "downloading", "verifying", "completed"}
    assert job["registration"]["metadata"] == {"taskType": "classification"}

    job = home_engine.wait_job("iris:1", timeout=WAIT)
    assert job["state"] == "completed", job
    assert (job["percent"], job["bytesDone"], job["bytesTotal"]) == (100, 581, 581)
    assert job["attempts"] == 1 and job["error"] is None
    assert job["result"]["modelId"] == "iris:1"
    [file] = job["result"]["files"]
    assert (file["name"], file["sha256"], file["size"]) == ("iris.onnx", IRIS_SHA, 581)
    # Stored content-addressed in the engine's home.
    assert (tmp_path / "home" / "models" / IRIS_SHA).read_bytes() == IRIS_BYTES

    model = home_engine.model("iris:1")
    assert model.sha256 == IRIS_SHA and model.metadata == {"taskType": "classification"}
    prov = model.provenance
    assert prov is not None
    assert prov["source"] == "http"
    assert prov["sha256"] == IRIS_SHA == hashlib.sha256(IRIS_BYTES).hexdigest()
    assert prov["reference"] == url
    assert prov["revision"] == '"iris-v1"'
    assert prov["size"] == 581
    assert isinstance(prov["fetchedAt"], int) and prov["fetchedAt"] > 1_577_836_800_000
    assert [f["name"] for f in model.files] == ["iris.onnx"]
    assert model.to_dict()["provenance"] == prov
    assert_infers_iris(home_engine, "iris:1", reference)

    # The job is a record: by id, listed, and the same request again returns it unchanged.
    assert home_engine.fetch_job("iris:1") == job
    assert home_engine.fetch_jobs(model_name="iris") == [job]
    assert home_engine.fetch_jobs(state="completed") == [job]
    assert home_engine.fetch_jobs(state="failed") == []
    assert home_engine.fetch_model("iris", "1", url) == job
    gets = [r for r in server.requests if r[0] == "GET"]
    assert len(gets) == 1
    with pytest.raises(harper_edge.ConflictError):
        home_engine.fetch_model("iris", "1", server.url("/other.onnx"))
    with pytest.raises(harper_edge.InvalidInputError, match="unknown job state"):
        home_engine.fetch_jobs(state="done")
    with pytest.raises(harper_edge.InvalidTransitionError):
        home_engine.cancel_job("iris:1")
    with pytest.raises(harper_edge.InvalidTransitionError):
        home_engine.retry_job("iris:1")


def test_jobs_survive_reopening_the_home(server: Loopback, tmp_path: Path) -> None:
    server.routes["/iris.onnx"] = Route(IRIS_BYTES)
    first = harper_edge.Engine.open(tmp_path / "h", tick_interval=None)
    first.wait_job(first.fetch_model("iris", "1", server.url("/iris.onnx"))["id"], timeout=WAIT)
    del first
    again = harper_edge.Engine.open(tmp_path / "h", tick_interval=None)
    assert again.fetch_job("iris:1")["state"] == "completed"
    assert again.model("iris:1").provenance is not None


def test_progress_reports_increasing_bytes(
    home_engine: harper_edge.Engine, server: Loopback
) -> None:
    # 581 bytes in 64-byte chunks, one every 0.1 s: about a second of download.
    server.routes["/slow.onnx"] = Route(IRIS_BYTES, chunk=64, delay=0.1)
    job = home_engine.fetch_model(
        "slow", "1", server.url("/slow.onnx"), options={"progressIntervalMs": 10}
    )
    seen: list[dict[str, Any]] = []
    threads: set[int] = set()

    def progress(j: dict[str, Any]) -> None:
        seen.append(j)
        threads.add(threading.get_ident())

    done = home_engine.wait_job(job["id"], timeout=WAIT, progress=progress)
    assert done["state"] == "completed"
    assert threads == {threading.get_ident()}
    assert len(seen) >= 3
    assert seen[-1] == done
    progress_bytes = [j["bytesDone"] for j in seen]
    assert progress_bytes == sorted(progress_bytes), progress_bytes
    running = [j for j in seen if j["state"] == "downloading"]
    assert any(0 < j["bytesDone"] < 581 for j in running), progress_bytes
    assert all(j["bytesTotal"] in (None, 581) for j in seen)
    assert [0 <= j["percent"] <= 100 for j in seen]


def test_progress_exception_propagates_and_the_job_goes_on(
    home_engine: harper_edge.Engine, server: Loopback
) -> None:
    server.routes["/slow.onnx"] = Route(IRIS_BYTES, chunk=100, delay=0.1)
    job = home_engine.fetch_model("slow", "1", server.url("/slow.onnx"))

    class Stop(Exception):
        pass

    def progress(j: dict[str, Any]) -> None:
        raise Stop(j["state"])

    with pytest.raises(Stop):
        home_engine.wait_job(job["id"], timeout=WAIT, progress=progress)
    with pytest.raises(TypeError, match="callable"):
        home_engine.wait_job(job["id"], progress=42)  # type: ignore[arg-type]
    assert home_engine.wait_job(job["id"], timeout=WAIT)["state"] == "completed"


def test_wait_timeout_returns_the_running_job_and_cancel_stops_it(
    home_engine: harper_edge.Engine, server: Loopback
) -> None:
    server.routes["/stuck.onnx"] = Route(IRIS_BYTES, chunk=1, delay=0.5)
    job = home_engine.fetch_model("stuck", "1", server.url("/stuck.onnx"))
    started = time.monotonic()
    running = home_engine.wait_job(job["id"], timeout=0.5)
    assert 0.4 < time.monotonic() - started < 5
    assert running["state"] in {"queued", "downloading"}
    cancelled = home_engine.cancel_job(job["id"])
    assert cancelled["state"] == "cancelled"
    assert home_engine.wait_job(job["id"], timeout=WAIT)["state"] == "cancelled"
    with pytest.raises(harper_edge.NotFoundError):
        home_engine.model("stuck:1")
    with pytest.raises(ValueError, match="non-negative"):
        home_engine.wait_job(job["id"], timeout=-1)


def test_404_fails_the_job_with_not_found(home_engine: harper_edge.Engine, server: Loopback) -> None:
    url = server.url("/missing.onnx")
    with pytest.raises(harper_edge.NotFoundError):
        harper_edge.inspect_source(url)
    job = home_engine.fetch_model("gone", "1", url)
    job = home_engine.wait_job(job["id"], timeout=WAIT)
    assert job["state"] == "failed"
    error = job["error"]
    assert error["code"] == harper_edge.NotFoundError.code == "HARPER_EDGE_NOT_FOUND"
    # The core reports a 404 as NOT_FOUND without an httpStatus (only network errors carry one).
    assert error["httpStatus"] in (None, 404)
    assert error["retryable"] is False
    assert "missing.onnx" in error["message"]
    assert job["result"] is None
    with pytest.raises(harper_edge.NotFoundError):
        home_engine.model("gone:1")

    # Once the file is there, a retry succeeds.
    server.routes["/missing.onnx"] = Route(IRIS_BYTES)
    assert home_engine.retry_job("gone:1")["state"] in {"queued", "downloading", "verifying", "completed"}
    job = home_engine.wait_job("gone:1", timeout=WAIT)
    assert (job["state"], job["attempts"], job["error"]) == ("completed", 2, None)
    assert home_engine.model("gone:1").sha256 == IRIS_SHA

    with pytest.raises(harper_edge.NotFoundError):
        home_engine.fetch_job("nope:1")
    with pytest.raises(harper_edge.NotFoundError):
        home_engine.wait_job("nope:1")


def test_filesystem_sources(home_engine: harper_edge.Engine, reference: dict[str, Any]) -> None:
    spec = {"kind": "fs", "root": str(DATA), "path": "iris_logreg.onnx"}
    for version, source in (("1", spec), ("2", str(IRIS)), ("3", IRIS)):
        job = home_engine.wait_job(
            home_engine.fetch_model("iris-fs", version, source)["id"], timeout=WAIT
        )
        assert job["state"] == "completed", job
        prov = home_engine.model(f"iris-fs:{version}").provenance
        assert prov is not None
        assert prov["source"] == "fs" and prov["revision"] is None
        assert prov["sha256"] == IRIS_SHA
        assert prov["reference"] == str(IRIS.resolve())
    assert_infers_iris(home_engine, "iris-fs:3", reference)

    # `..` cannot leave the import root.
    job = home_engine.fetch_model(
        "escape", "1", {"kind": "fs", "root": str(DATA / "drift"), "path": "../iris_logreg.onnx"}
    )
    job = home_engine.wait_job(job["id"], timeout=WAIT)
    assert job["state"] == "failed" and job["error"]["code"] == "HARPER_EDGE_INVALID_INPUT"

    # register=False only fetches.
    job = home_engine.fetch_model("raw", "1", str(IRIS), register=False)
    job = home_engine.wait_job(job["id"], timeout=WAIT)
    assert job["state"] == "completed" and "modelId" not in job["result"]
    assert "registration" not in job
    with pytest.raises(harper_edge.NotFoundError):
        home_engine.model("raw:1")
    with pytest.raises(ValueError, match="register=False"):
        home_engine.fetch_model("raw", "2", str(IRIS), register=False, stage="staging")


def test_argument_errors(home_engine: harper_edge.Engine) -> None:
    with pytest.raises(harper_edge.InvalidInputError, match="Hugging Face"):
        home_engine.fetch_model("x", "1", str(IRIS), revision="main")
    with pytest.raises(harper_edge.InvalidInputError, match="invalid source"):
        home_engine.fetch_model("x", "1", {"kind": "ftp", "url": "ftp://x"})
    with pytest.raises(harper_edge.InvalidInputError, match="fetch options"):
        home_engine.fetch_model("x", "1", str(IRIS), options={"retries": "many"})
    with pytest.raises(harper_edge.InvalidInputError):
        home_engine.fetch_model("x", "1", str(IRIS), framework="caffe")
    with pytest.raises(harper_edge.InvalidInputError):
        home_engine.fetch_model("x", "1", str(IRIS), sha256="abc")
    with pytest.raises(TypeError, match="source"):
        home_engine.fetch_model("x", "1", 42)  # type: ignore[arg-type]
    with pytest.raises(harper_edge.InvalidInputError, match="data directory"):
        harper_edge.Engine.in_memory(tick_interval=None).fetch_model("x", "1", str(IRIS))

    # A wrong expected sha256 fails the job with an integrity error, and nothing is registered.
    job = home_engine.fetch_model("x", "1", str(IRIS), sha256="0" * 64)
    job = home_engine.wait_job(job["id"], timeout=WAIT)
    assert job["state"] == "failed" and job["error"]["code"] == harper_edge.IntegrityError.code
    assert home_engine.list_models(name="x") == []


def test_hub_source(
    home_engine: harper_edge.Engine,
    hub: Loopback,
    reference: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.base)
    monkeypatch.setenv("HF_TOKEN", "hf_loopback_token")
    job = home_engine.fetch_model("iris-hub", "1", "hf:acme/iris@main")
    assert job["source"] == {"kind": "hf", "repo": "acme/iris", "revision": "main"}
    job = home_engine.wait_job(job["id"], timeout=WAIT)
    assert job["state"] == "completed", job
    assert [f["name"] for f in job["result"]["files"]] == ["onnx/model.onnx", "config.json"]
    assert job["bytesDone"] == len(IRIS_BYTES) + len(CONFIG)

    model = home_engine.model("iris-hub:1")
    assert model.framework == "onnx" and model.sha256 == IRIS_SHA
    prov = model.provenance
    assert prov is not None
    # "main" was asked for; the commit it pointed at is what is recorded.
    assert (prov["source"], prov["revision"]) == ("hf", COMMIT)
    assert prov["reference"] == "acme/iris/onnx/model.onnx"
    files = {f["name"]: f for f in model.files}
    assert set(files) == {"onnx/model.onnx", "config.json"}
    assert files["config.json"]["sha256"] == hashlib.sha256(CONFIG).hexdigest()
    assert files["config.json"]["provenance"]["revision"] == COMMIT
    assert_infers_iris(home_engine, "iris-hub", reference)

    paths = [path for _, path, _ in hub.requests]
    assert paths[0] == "/api/models/acme/iris/revision/main?blobs=true"
    assert f"/acme/iris/resolve/{COMMIT}/onnx/model.onnx" in paths
    assert not any("README" in p for p in paths)
    for method, path, headers in hub.requests:
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization")
        assert auth == "Bearer hf_loopback_token", (method, path)
    # The token is not stored in the job.
    assert "hf_loopback_token" not in json.dumps(home_engine.fetch_job("iris-hub:1"))


def test_hub_endpoint_in_the_source_dict(
    home_engine: harper_edge.Engine, hub: Loopback
) -> None:
    source = {"kind": "hf", "repo": "acme/iris", "endpoint": hub.base}
    job = home_engine.fetch_model("iris-hub", "2", source, files=["onnx/model.onnx"])
    job = home_engine.wait_job(job["id"], timeout=WAIT)
    assert job["state"] == "completed", job
    assert [f["name"] for f in job["result"]["files"]] == ["onnx/model.onnx"]
    assert home_engine.model("iris-hub:2").provenance["revision"] == COMMIT  # type: ignore[index]
    assert all(
        "authorization" not in {k.lower() for k in h} for _, _, h in hub.requests
    ), "no token configured, none sent"

    # An unknown repository is a failed job with NOT_FOUND.
    job = home_engine.fetch_model("nope", "1", {"kind": "hf", "repo": "acme/nope", "endpoint": hub.base})
    job = home_engine.wait_job(job["id"], timeout=WAIT)
    assert job["state"] == "failed" and job["error"]["code"] == harper_edge.NotFoundError.code


def test_inspect_hub_source(hub: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    found = harper_edge.inspect_source({"kind": "hf", "repo": "acme/iris", "endpoint": hub.base})
    assert found["source"] == "hf" and found["reference"] == "acme/iris"
    assert found["revision"] == COMMIT
    assert found["modelFile"] == "onnx/model.onnx" and found["framework"] == "onnx"
    assert found["suggestedName"] == "iris" and found["fromCache"] is False
    assert found["downloadBytes"] == len(IRIS_BYTES) + len(CONFIG)
    selected = {f["name"]: f["selected"] for f in found["files"]}
    assert selected == {"onnx/model.onnx": True, "config.json": True, "README.md": False}
    # Only the listing was requested: no model bytes.
    assert [p for _, p, _ in hub.requests] == ["/api/models/acme/iris/revision/main?blobs=true"]

    monkeypatch.setenv("HF_ENDPOINT", hub.base)
    found = harper_edge.inspect_source("hf:acme/iris", files=["config.json"])
    assert [f["name"] for f in found["files"] if f["selected"]] == ["config.json"]
    assert found["downloadBytes"] == len(CONFIG)
    with pytest.raises(harper_edge.NotFoundError):
        harper_edge.inspect_source("hf:acme/iris", files=["missing.bin"])
    with pytest.raises(harper_edge.NotFoundError):
        harper_edge.inspect_source("hf:acme/iris", revision="v9")


def test_inspect_filesystem_source(tmp_path: Path) -> None:
    found = harper_edge.inspect_source(str(IRIS))
    assert (found["source"], found["revision"]) == ("fs", None)
    assert found["files"] == [{"name": "iris_logreg.onnx", "size": 581, "selected": True}]
    assert found["downloadBytes"] == 581
    assert (found["modelFile"], found["framework"]) == ("iris_logreg.onnx", "onnx")
    assert found["suggestedName"] == "iris_logreg"

    model_dir = tmp_path / "My Model"
    model_dir.mkdir()
    (model_dir / "model.onnx").write_bytes(IRIS_BYTES)
    (model_dir / "tokenizer.json").write_bytes(b"{}")
    found = harper_edge.inspect_source(model_dir)
    assert sorted(f["name"] for f in found["files"]) == ["model.onnx", "tokenizer.json"]
    assert found["downloadBytes"] == 583 and found["suggestedName"] == "my-model"
    with pytest.raises(harper_edge.NotFoundError):
        harper_edge.inspect_source(str(tmp_path / "nothing.onnx"))
    with pytest.raises(harper_edge.InvalidInputError, match="Hugging Face"):
        harper_edge.inspect_source(str(IRIS), files=["x"])


def test_list_models_filters_and_remove_model(home_engine: harper_edge.Engine) -> None:
    home_engine.register_model("iris", "1", IRIS, metadata={"taskType": "classification"})
    home_engine.register_model("iris", "2", IRIS, stage="staging", metadata={"taskType": "classification"})
    home_engine.register_model("flowers", "1", IRIS, metadata={"taskType": "regression"})

    def ids(models: list[harper_edge.Model]) -> list[str]:
        return [m.id for m in models]

    assert ids(home_engine.list_models()) == ["iris:1", "iris:2", "flowers:1"]
    assert ids(home_engine.list_models(name="iris")) == ["iris:1", "iris:2"]
    assert ids(home_engine.list_models(stage="staging")) == ["iris:2"]
    assert ids(home_engine.list_models(task_type="regression")) == ["flowers:1"]
    assert ids(home_engine.list_models(name="iris", stage="candidate", framework="onnx")) == ["iris:1"]
    assert home_engine.list_models(framework="transformers") == []
    assert home_engine.list_models(name="nope") == []
    with pytest.raises(harper_edge.InvalidInputError):
        home_engine.list_models(framework="caffe")
    with pytest.raises(harper_edge.InvalidInputError):
        home_engine.list_models(stage="retired")
    assert home_engine.model("iris:1").provenance is None
    assert home_engine.model("iris:1").files == []

    removed = home_engine.remove_model("iris:2")
    assert isinstance(removed, harper_edge.Model) and removed.id == "iris:2"
    assert ids(home_engine.list_models(name="iris")) == ["iris:1"]
    assert home_engine.model("iris").id == "iris:1"
    with pytest.raises(harper_edge.NotFoundError):
        home_engine.model("iris:2")
    with pytest.raises(harper_edge.NotFoundError):
        home_engine.remove_model("iris:2")
    with pytest.raises(harper_edge.InvalidInputError, match="name the version"):
        home_engine.remove_model("iris")


def test_remove_fetched_model_removes_its_job(home_engine: harper_edge.Engine) -> None:
    job = home_engine.wait_job(home_engine.fetch_model("iris", "1", str(IRIS))["id"], timeout=WAIT)
    assert job["state"] == "completed"
    assert home_engine.remove_model("iris:1").provenance is not None
    assert home_engine.fetch_jobs() == []
    with pytest.raises(harper_edge.NotFoundError):
        home_engine.fetch_job("iris:1")
    assert home_engine.list_models() == []
    # Fetching it again works (the job is new).
    job = home_engine.wait_job(home_engine.fetch_model("iris", "1", str(IRIS))["id"], timeout=WAIT)
    assert (job["state"], job["attempts"]) == ("completed", 1)


def write_profile(directory: Path, models: list[dict[str, Any]], name: str = "lab") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "profile.json"
    path.write_text(json.dumps({"name": name, "description": "test", "models": models}))
    return path


def iris_entry(version: str = "v1", **blob: Any) -> dict[str, Any]:
    return {
        "modelName": "iris",
        "modelVersion": version,
        "framework": "onnx",
        "stage": "candidate",
        "metadata": {"taskType": "classification", "outputDimensions": [3]},
        "modelBlob": blob,
    }


def test_deploy_profile_twice(
    home_engine: harper_edge.Engine, tmp_path: Path, reference: dict[str, Any]
) -> None:
    profile_dir = tmp_path / "profiles"
    relative = os.path.relpath(IRIS, profile_dir)
    assert not os.path.isabs(relative) and relative.startswith("..")
    path = write_profile(profile_dir, [iris_entry(source="filesystem", path=relative)])

    seen: list[dict[str, Any]] = []
    report = home_engine.deploy_profile(path, progress=seen.append)
    assert report["profile"] == "lab"
    [entry] = report["models"]
    assert entry == {"modelId": "iris:v1", "action": "registered", "jobId": "iris:v1", "bytes": 581, "error": None}
    assert isinstance(report["elapsedMs"], int)
    assert seen and seen[-1]["state"] == "completed" and seen[-1]["id"] == "iris:v1"
    model = home_engine.model("iris:v1")
    assert model.provenance["source"] == "fs"  # type: ignore[index]
    assert model.metadata["outputDimensions"] == [3]
    assert_infers_iris(home_engine, "iris:v1", reference)

    again = home_engine.deploy_profile(str(path))
    assert [(m["modelId"], m["action"], m["bytes"]) for m in again["models"]] == [
        ("iris:v1", "already_registered", 0)
    ]

    # A dry run of a profile with a new version fetches nothing.
    path = write_profile(profile_dir, [iris_entry("v1", source="filesystem", path=relative),
                                       iris_entry("v2", source="filesystem", path=relative)])
    dry = home_engine.deploy_profile(path, dry_run=True)
    assert [m["action"] for m in dry["models"]] == ["already_registered", "would_register"]
    with pytest.raises(harper_edge.NotFoundError):
        home_engine.model("iris:v2")

    # With a root, paths outside it fail (per model, not as an exception).
    confined = home_engine.deploy_profile(path, root=profile_dir, timeout=WAIT)
    assert [m["action"] for m in confined["models"]] == ["already_registered", "failed"]
    assert confined["models"][1]["error"]["code"] == harper_edge.InvalidInputError.code
    assert "outside the deploy root" in confined["models"][1]["error"]["message"]


def test_deploy_profile_failure_and_progress_exception(
    home_engine: harper_edge.Engine, tmp_path: Path, server: Loopback
) -> None:
    server.routes["/slow.onnx"] = Route(IRIS_BYTES, chunk=100, delay=0.1)
    path = write_profile(
        tmp_path / "p",
        [
            iris_entry("v1", source="url", url=server.url("/slow.onnx"), sha256=IRIS_SHA),
            iris_entry("v2", source="url", url=server.url("/absent.onnx")),
        ],
    )

    def progress(job: dict[str, Any]) -> None:
        raise RuntimeError(f"stop at {job['id']}")

    with pytest.raises(RuntimeError, match="stop at iris:v1"):
        home_engine.deploy_profile(path, progress=progress, timeout=WAIT)
    report = home_engine.deploy_profile(path, timeout=WAIT)
    assert [m["action"] for m in report["models"]] == ["already_registered", "failed"]
    assert report["models"][1]["error"]["code"] == harper_edge.NotFoundError.code


def test_validate_profile(tmp_path: Path) -> None:
    shipped = harper_edge.validate_profile(REPO_ROOT / "profiles" / "minimal.json")
    assert shipped["name"] == "minimal" and shipped["models"] == ["iris-logreg:v1"]
    assert isinstance(shipped["description"], str)

    good = write_profile(tmp_path / "good", [iris_entry(source="filesystem", path=str(IRIS))])
    assert harper_edge.validate_profile(good) == {
        "name": "lab",
        "description": "test",
        "models": ["iris:v1"],
    }

    bad_models = [
        iris_entry(source="filesystem"),
        {**iris_entry("v2", source="url", url=str(IRIS)), "modelName": "petals", "framework": "caffe"},
    ]
    bad = write_profile(tmp_path / "bad", bad_models)
    with pytest.raises(harper_edge.InvalidInputError) as info:
        harper_edge.validate_profile(bad)
    message = str(info.value)
    assert "model 'iris', field models[0].modelBlob.path" in message
    assert "model 'petals', field models[1].framework" in message
    assert info.value.code == "HARPER_EDGE_INVALID_INPUT"
    problems = info.value.problems  # type: ignore[attr-defined]
    assert {(p["model"], p["field"]) for p in problems} == {
        ("iris", "models[0].modelBlob.path"),
        ("petals", "models[1].framework"),
    }
    assert all(p["message"] for p in problems)

    # deploy_profile refuses it the same way, before fetching anything.
    engine = harper_edge.Engine.open(tmp_path / "home2", tick_interval=None)
    with pytest.raises(harper_edge.InvalidInputError, match=r"models\[0\]\.modelBlob\.path"):
        engine.deploy_profile(bad)

    not_json = tmp_path / "broken.json"
    not_json.write_text("{ nope")
    with pytest.raises(harper_edge.InvalidInputError, match="not valid JSON") as info:
        harper_edge.validate_profile(not_json)
    assert info.value.problems == []  # type: ignore[attr-defined]
    with pytest.raises(harper_edge.IoError):
        harper_edge.validate_profile(tmp_path / "absent.json")
