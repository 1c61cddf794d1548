"""Fixtures for ferrule's end-to-end tests: a real `ferrule serve` process on a
free loopback port with a fresh data directory, boto3 clients and the aws CLI
pointed at it, and a small HTTP sink that records what it is sent.

The binary is $FERRULE_BIN, or <repo>/target/release/ferrule (built with the
`server` feature).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
FERRULE_BIN = Path(os.environ.get("FERRULE_BIN", REPO / "target" / "release" / "ferrule"))
REGION = "us-east-1"
ACCOUNT = "000000000000"
# How long a fresh server may take to answer /health.
STARTUP_SECONDS = float(os.environ.get("FERRULE_STARTUP_SECONDS", "5"))
SHUTDOWN_SECONDS = 10.0

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_DEFAULT_OUTPUT": "json",
    "AWS_PAGER": "",
    # Keep the developer's own profile and config out of the tests.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
for _k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EVENTS", "AWS_ENDPOINT_URL_SQS",
           "AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL_STATES"):
    os.environ.pop(_k, None)
os.environ.update(AWS_ENV)


def pytest_sessionstart(session):
    """Stops at once, with one clear message, if the binary cannot serve."""
    if not FERRULE_BIN.exists():
        pytest.exit(f"{FERRULE_BIN} does not exist: run `cargo build --release -p ferrule-cli` "
                    "or set FERRULE_BIN", returncode=2)
    p = subprocess.run([str(FERRULE_BIN), "serve", "--listen", "not-an-address"],
                       capture_output=True, text=True, timeout=30)
    if 'unknown command "serve"' in p.stderr or "unrecognized subcommand 'serve'" in p.stderr:
        pytest.exit(f"{FERRULE_BIN} cannot serve: run "
                    "`cargo build --release -p ferrule-cli` or set FERRULE_BIN", returncode=2)


def free_port() -> int:
    """A loopback port nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


class FerruleServer:
    """One `ferrule serve` process. `start()` waits for /health; `stop()`
    sends SIGTERM and asserts a clean exit (status 0) within 10 s."""

    def __init__(self, data_dir: Path, port: int | None = None, config: dict | Path | None = None,
                 log_dir: Path | None = None, startup_seconds: float = STARTUP_SECONDS):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.startup_seconds = startup_seconds
        self.log_dir = Path(log_dir or self.data_dir.parent)
        self.config_path: Path | None = None
        if isinstance(config, dict):
            self.config_path = self.log_dir / f"ferrule-config-{self.port}.json"
            self.config_path.write_text(json.dumps(config))
        elif config is not None:
            self.config_path = Path(config)
        self.proc: subprocess.Popen | None = None
        self.log_path = self.log_dir / f"ferrule-{self.port}-{int(time.time() * 1000)}.log"
        self.startup_time: float | None = None

    def start(self) -> "FerruleServer":
        if not FERRULE_BIN.exists():
            pytest.fail(f"{FERRULE_BIN} does not exist: run `cargo build --release -p ferrule-cli` "
                        "or set FERRULE_BIN")
        args = [str(FERRULE_BIN), "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data_dir)]
        if self.config_path is not None:
            args += ["--config", str(self.config_path)]
        self._log = open(self.log_path, "wb")
        env = dict(os.environ)
        env.setdefault("FERRULE_LOG", "info")
        began = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = began + self.startup_seconds
        last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code, self.proc = self.proc.returncode, None
                self._log.close()
                pytest.fail(f"ferrule serve exited with {code} at start:\n{self.log()}")
            try:
                status, body = http_get(self.url + "/health", timeout=1.0)
                if status == 200:
                    self.startup_time = time.monotonic() - began
                    return self
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                last_error = e
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self._log.close()
        pytest.fail(f"ferrule serve did not answer /health within {self.startup_seconds}s "
                    f"({last_error}):\n{self.log()}")

    def stop(self, check: bool = True, sig: int = signal.SIGTERM) -> int | None:
        """Sends `sig` (SIGTERM); returns the exit status. With `check`,
        asserts status 0 within 10 s."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            code = proc.wait(timeout=SHUTDOWN_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self._log.close()
            if check:
                pytest.fail(f"ferrule serve did not exit within {SHUTDOWN_SECONDS}s of SIGTERM:\n{self.log()}")
            return None
        self._log.close()
        if check:
            assert code == 0, f"ferrule serve exited with {code} after SIGTERM:\n{self.log()}"
        return code

    def log(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-6000:]

    def health(self) -> dict:
        _, body = http_get(self.url + "/health")
        return json.loads(body)

    def metrics(self) -> str:
        return http_get(self.url + "/metrics")[1]


@pytest.fixture
def workdir():
    d = Path(tempfile.mkdtemp(prefix="ferrule-e2e-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server_factory(workdir):
    """Starts servers on demand (`factory(data_dir=None, port=None, config=None)`);
    any still running at the end are stopped with SIGTERM and must exit 0."""
    started: list[FerruleServer] = []

    def make(data_dir: Path | None = None, port: int | None = None, config=None, **kw) -> FerruleServer:
        data_dir = Path(data_dir or workdir / "data")
        s = FerruleServer(data_dir, port=port, config=config, log_dir=workdir, **kw)
        started.append(s)
        return s.start()

    yield make
    errors = []
    for s in started:
        if s.proc is not None:
            code = s.stop(check=False)
            if code != 0:
                errors.append(f"server on {s.url} exited with {code} after SIGTERM:\n{s.log()}")
    if errors:
        pytest.fail("\n".join(errors))


@pytest.fixture
def server(server_factory) -> FerruleServer:
    return server_factory()


@pytest.fixture
def endpoint(server) -> str:
    """The URL of a running `ferrule serve` with a fresh data directory."""
    return server.url


def client(service: str, url: str):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=30),
    )


@pytest.fixture
def events(endpoint):
    return client("events", endpoint)


@pytest.fixture
def sqs(endpoint):
    return client("sqs", endpoint)


def aws_cli(url: str, *args: str, check: bool = True) -> dict | subprocess.CompletedProcess:
    """Runs `aws --endpoint-url URL ARGS...`; returns the parsed JSON output
    (or {} for no output). With check=False returns the CompletedProcess."""
    exe = shutil.which("aws")
    cmd = [exe, "--endpoint-url", url, "--region", REGION, "--output", "json", *args] if exe else \
        [sys.executable, "-m", "awscli", "--endpoint-url", url, "--region", REGION, "--output", "json", *args]
    env = dict(os.environ, **AWS_ENV)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    if not check:
        return p
    assert p.returncode == 0, f"{' '.join(args)} failed ({p.returncode}):\n{p.stderr}\n{p.stdout}"
    return json.loads(p.stdout) if p.stdout.strip() else {}


class HttpSink:
    """An HTTP server on loopback that records every POST (path, headers,
    body) and answers `status` (changeable at run time)."""

    def __init__(self, port: int = 0, status: int = 200):
        self.status = status
        self.requests: list[dict] = []
        self.cond = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with sink.cond:
                    sink.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                          "body": body.decode("utf-8", "replace"), "status": sink.status})
                    sink.cond.notify_all()
                    status = sink.status
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # A client (ferrule's keep-alive pool) hanging up is not news.
                if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, predicate, timeout: float) -> bool:
        """Waits until predicate(requests) is true."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self.requests):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def bodies(self) -> list[str]:
        with self.cond:
            return [r["body"] for r in self.requests]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_sink():
    sinks: list[HttpSink] = []

    def make(port: int = 0, status: int = 200) -> HttpSink:
        s = HttpSink(port, status)
        sinks.append(s)
        return s

    yield make
    for s in sinks:
        s.close()


def receive_all(sqs, queue_url: str, count: int, timeout: float = 15.0, **kw) -> list[dict]:
    """Receives until `count` messages arrived (or `timeout` passed)."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        r = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5, MaxNumberOfMessages=10, **kw)
        got.extend(r.get("Messages", []))
    return got
