"""`https://` targets through boto3 against a real `ferrule serve`, with TLS
servers (Python's `ssl`) on loopback whose certificates come from a CA made
here with the `openssl` command and trusted the way a user trusts a private
CA: `SSL_CERT_FILE` in the server's environment. An https rule target and an
https API destination receive the event; a server whose certificate comes
from another CA, or names another host, is never sent the event, and the
delivery goes to the dead-letter queue as a connection failure that says why.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import client, receive_all

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command to make certificates")

def openssl(*args: str, cwd: Path):
    p = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"openssl {' '.join(args)}:\n{p.stderr}"

def make_ca(d: Path, name: str) -> Path:
    """A root CA in d/NAME.pem (key d/NAME.key)."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN=ferrule e2e {name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    return d / f"{name}.pem"

def make_server_cert(d: Path, ca: str, name: str, sans: str) -> tuple[Path, Path]:
    """A server certificate issued by CA `ca` for `sans` (openssl's syntax)."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    (d / f"{name}.ext").write_text(
        f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return d / f"{name}.pem", d / f"{name}.key"

class TlsRecorder:
    """An HTTPS server on 127.0.0.1 that records every request and answers 200;
    handshakes that fail are counted."""

    def __init__(self, cert: Path, key: Path):
        self.requests: list[dict] = []
        self.failed_handshakes = 0
        self.cond = threading.Condition()
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                with rec.cond:
                    rec.requests.append({"method": self.command, "path": self.path, "body": body,
                                         "headers": {k.lower(): v for k, v in self.headers.items()}})
                    rec.cond.notify_all()
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_POST = do_PUT = handle_any  # noqa: N815

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

        class Server(ThreadingHTTPServer):
            def get_request(self):
                sock, addr = self.socket.accept()
                # The handshake in the handler's thread: a client refusing the
                # certificate must not stop the accept loop.
                return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

            def finish_request(self, request, client_address):
                try:
                    request.do_handshake()
                except (ssl.SSLError, OSError):
                    with rec.cond:
                        rec.failed_handshakes += 1
                        rec.cond.notify_all()
                    return
                super().finish_request(request, client_address)

            def handle_error(self, request, client_address):
                if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, ssl.SSLError)):
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}{path}"

    def wait_for(self, predicate, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

@pytest.fixture
def pki(workdir):
    """Certificates: a trusted CA's server cert for localhost and 127.0.0.1, the
    same CA's cert for another host, and another (untrusted) CA's cert."""
    d = workdir / "pki"
    d.mkdir()
    trusted = make_ca(d, "trusted")
    make_ca(d, "other")
    return {
        "roots": trusted,
        "good": make_server_cert(d, "trusted", "good", "DNS:localhost,IP:127.0.0.1"),
        "misnamed": make_server_cert(d, "trusted", "misnamed", "DNS:orders.example.com"),
        "untrusted": make_server_cert(d, "other", "untrusted", "DNS:localhost,IP:127.0.0.1"),
    }

@pytest.fixture
def tls_servers(pki):
    made = {name: TlsRecorder(*pki[name]) for name in ("good", "misnamed", "untrusted")}
    yield made
    for s in made.values():
        s.close()

@pytest.fixture
def trusting_server(server_factory, pki, monkeypatch):
    """`ferrule serve` trusting the test's CA alone, through SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", str(pki["roots"]))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return server_factory()

def test_https_targets_deliver_and_refused_certificates_are_dead_lettered(trusting_server, tls_servers):
    events = client("events", trusting_server.url)
    sqs = client("sqs", trusting_server.url)
    dlq_url = sqs.create_queue(QueueName="tls-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    good, misnamed, untrusted = tls_servers["good"], tls_servers["misnamed"], tls_servers["untrusted"]

    conn = events.create_connection(
        Name="tls", AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "tls-k3y"}})
    dest = events.create_api_destination(
        Name="tls-api", ConnectionArn=conn["ConnectionArn"], InvocationEndpoint=good.url("/api"),
        HttpMethod="POST")
    refused = {untrusted.url("/hook"): "is not issued by a trusted certificate authority",
               misnamed.url("/hook"): "is not valid for the host name"}
    targets = [{"Id": "hook", "Arn": good.url("/hook", host="127.0.0.1")},
               {"Id": "api", "Arn": dest["ApiDestinationArn"]}]
    for i, url in enumerate(refused):
        targets.append({"Id": f"refused{i}", "Arn": url, "DeadLetterConfig": {"Arn": dlq_arn},
                        "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}})
    events.put_rule(Name="tls", EventPattern=json.dumps({"source": ["tls.test"]}))
    out = events.put_targets(Rule="tls", Targets=targets)
    assert out["FailedEntryCount"] == 0, out
    out = events.put_events(Entries=[{"Source": "tls.test", "DetailType": "T", "Detail": json.dumps({"n": 1})}])
    assert out["FailedEntryCount"] == 0

    assert good.wait_for(lambda s: len(s.requests) >= 2), good.requests
    by_path = {r["path"]: r for r in good.requests}
    assert set(by_path) == {"/hook", "/api"}
    for r in by_path.values():
        event = json.loads(r["body"])
        assert event["source"] == "tls.test" and event["detail"] == {"n": 1}
    assert by_path["/api"]["headers"]["x-api-key"] == "tls-k3y"
    assert by_path["/api"]["headers"]["user-agent"] == "Amazon/EventBridge/ApiDestinations"

    letters = receive_all(sqs, dlq_url, 2, MessageAttributeNames=["All"])
    assert len(letters) == 2, letters
    for m in letters:
        attrs = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
        assert attrs["ERROR_CODE"] == "CONNECTION_FAILURE", attrs
        assert attrs["TARGET_ARN"] in refused, attrs
        assert f"TLS handshake failed: the server's certificate {refused[attrs['TARGET_ARN']]}" \
            in attrs["ERROR_MESSAGE"], attrs
        assert json.loads(m["Body"])["source"] == "tls.test"
    for s in (misnamed, untrusted):
        assert s.requests == []
        assert s.wait_for(lambda s: s.failed_handshakes >= 1)
