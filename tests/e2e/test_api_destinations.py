"""Connections and API destinations through boto3 against a real `ferrule
serve`, with HTTP servers on loopback in this process: each authorization
type (an OAuth token endpoint that counts its calls), HttpParameters on the
wire, the invocation rate limit measured, retries and dead letters by status
code (read from the dead-letter queue), the service's errors, and secrets
absent from every answer and from the server's log."""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, receive_all

SECRETS = ["k3y-value-e2e", "pa55word-e2e", "client-s3cret-e2e", "hidden-header-e2e"]


class Recorder:
    """Records every request (any method); `answer(request)` gives (status, body)."""

    def __init__(self, answer=None):
        self.requests: list[dict] = []
        self.cond = threading.Condition()
        self.answer = answer or (lambda req: (200, "{}"))
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                req = {"method": self.command, "path": self.path, "body": body, "at": time.monotonic(),
                       "headers": {k.lower(): v for k, v in self.headers.items()}}
                with rec.cond:
                    status, text = rec.answer(req)
                    req["status"] = status
                    rec.requests.append(req)
                    rec.cond.notify_all()
                data = text.encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any  # noqa: N815

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # ferrule's keep-alive pool hanging up is not news.
                if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.requests) < count and time.monotonic() < deadline:
                self.cond.wait(max(0.0, deadline - time.monotonic()))
            return list(self.requests)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recorder():
    made: list[Recorder] = []

    def make(answer=None) -> Recorder:
        r = Recorder(answer)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def make_queue(sqs, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def error_of(call, **kw) -> tuple[str, str]:
    with pytest.raises(ClientError) as e:
        call(**kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def api_key_connection(events, name: str, value: str = "k3y-value-e2e", **extra) -> str:
    out = events.create_connection(
        Name=name, AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": value}, **extra})
    assert out["ConnectionState"] == "AUTHORIZED"
    return out["ConnectionArn"]


def route(events, rule: str, source: str, target: dict):
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    out = events.put_targets(Rule=rule, Targets=[target])
    assert out["FailedEntryCount"] == 0, out


def put(events, source: str, detail: dict, n: int = 1):
    out = events.put_events(Entries=[{"Source": source, "DetailType": "T", "Detail": json.dumps(detail)}] * n)
    assert out["FailedEntryCount"] == 0


def test_api_key_destination_with_http_parameters_and_input_transformer(events, recorder, server):
    api = recorder()
    conn = api_key_connection(events, "keyed", InvocationHttpParameters={
        "HeaderParameters": [{"Key": "x-conn", "Value": "hidden-header-e2e", "IsValueSecret": True},
                             {"Key": "x-plain", "Value": "shown"}],
        "QueryStringParameters": [{"Key": "source", "Value": "connection"}],
        "BodyParameters": [{"Key": "extra", "Value": "added"}]})
    assert conn.startswith(f"arn:aws:events:{REGION}:{ACCOUNT}:connection/keyed/")
    dest = events.create_api_destination(
        Name="orders", ConnectionArn=conn, InvocationEndpoint=f"{api.url}/orders/*/lines/*",
        HttpMethod="PUT", InvocationRateLimitPerSecond=50)
    assert dest["ApiDestinationState"] == "ACTIVE"
    assert dest["ApiDestinationArn"].startswith(f"arn:aws:events:{REGION}:{ACCOUNT}:api-destination/orders/")
    route(events, "to-api", "shop", {
        "Id": "api", "Arn": dest["ApiDestinationArn"],
        "HttpParameters": {"PathParameterValues": ["o-1", "l 2"],
                           "HeaderParameters": {"X-Target": "from-target"},
                           "QueryStringParameters": {"page": "3", "source": "target"}},
        "InputTransformer": {"InputPathsMap": {"id": "$.detail.id"}, "InputTemplate": '{"order": <id>}'}})
    listed = events.list_targets_by_rule(Rule="to-api")["Targets"][0]
    assert listed["HttpParameters"]["PathParameterValues"] == ["o-1", "l 2"]
    put(events, "shop", {"id": "A-7"})
    [req] = api.wait_for(1)
    assert req["method"] == "PUT"
    assert req["path"] == "/orders/o-1/lines/l%202?page=3&source=connection"
    assert req["headers"]["x-api-key"] == "k3y-value-e2e"
    assert req["headers"]["x-target"] == "from-target"
    assert req["headers"]["x-conn"] == "hidden-header-e2e"
    assert json.loads(req["body"]) == {"order": "A-7", "extra": "added"}

    described = events.describe_connection(Name="keyed")
    assert described["AuthorizationType"] == "API_KEY"
    assert described["AuthParameters"]["ApiKeyAuthParameters"] == {"ApiKeyName": "x-api-key"}
    headers = described["AuthParameters"]["InvocationHttpParameters"]["HeaderParameters"]
    assert {"Key": "x-conn", "IsValueSecret": True} in headers
    assert {"Key": "x-plain", "Value": "shown", "IsValueSecret": False} in headers
    assert described["SecretArn"].startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:")
    text = json.dumps(described, default=str)
    for s in SECRETS:
        assert s not in text
    d = events.describe_api_destination(Name="orders")
    assert d["InvocationEndpoint"] == f"{api.url}/orders/*/lines/*"
    assert d["HttpMethod"] == "PUT" and d["InvocationRateLimitPerSecond"] == 50
    assert d["ConnectionArn"] == conn
    for s in SECRETS:
        assert s not in server.log()


def test_basic_auth_and_list_update_delete(events, recorder, server):
    api = recorder()
    conn = events.create_connection(
        Name="basic", Description="d", AuthorizationType="BASIC",
        AuthParameters={"BasicAuthParameters": {"Username": "ann", "Password": "pa55word-e2e"}})["ConnectionArn"]
    dest = events.create_api_destination(Name="hook", ConnectionArn=conn,
                                         InvocationEndpoint=f"{api.url}/hook", HttpMethod="POST")
    assert events.describe_api_destination(Name="hook")["InvocationRateLimitPerSecond"] == 300
    route(events, "to-hook", "app", {"Id": "t", "Arn": dest["ApiDestinationArn"]})
    put(events, "app", {"n": 1})
    [req] = api.wait_for(1)
    assert req["headers"]["authorization"] == "Basic " + base64.b64encode(b"ann:pa55word-e2e").decode()
    assert json.loads(req["body"])["detail"] == {"n": 1}
    described = events.describe_connection(Name="basic")
    assert described["AuthParameters"]["BasicAuthParameters"] == {"Username": "ann"}
    assert described["Description"] == "d"

    events.create_connection(Name="other", AuthorizationType="API_KEY",
                             AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
    names = [c["Name"] for c in events.list_connections()["Connections"]]
    assert names == ["basic", "other"]
    assert [c["Name"] for c in events.list_connections(NamePrefix="ot")["Connections"]] == ["other"]
    page = events.list_connections(Limit=1)
    assert len(page["Connections"]) == 1 and "NextToken" in page
    assert [c["Name"] for c in events.list_connections(Limit=1, NextToken=page["NextToken"])["Connections"]] == ["other"]
    assert [d["Name"] for d in events.list_api_destinations(ConnectionArn=conn)["ApiDestinations"]] == ["hook"]

    up = events.update_api_destination(Name="hook", InvocationRateLimitPerSecond=7)
    assert up["ApiDestinationState"] == "ACTIVE"
    assert events.describe_api_destination(Name="hook")["InvocationRateLimitPerSecond"] == 7
    # A new password takes effect on the next delivery.
    events.update_connection(Name="basic", AuthParameters={"BasicAuthParameters": {"Password": "n3w"}})
    put(events, "app", {"n": 2})
    reqs = api.wait_for(2)
    assert reqs[1]["headers"]["authorization"] == "Basic " + base64.b64encode(b"ann:n3w").decode()

    deauth = events.deauthorize_connection(Name="other")
    assert deauth["ConnectionState"] == "DEAUTHORIZED"
    assert [c["Name"] for c in events.list_connections(ConnectionState="DEAUTHORIZED")["Connections"]] == ["other"]
    assert events.delete_connection(Name="other")["ConnectionState"] == "DELETING"
    events.delete_api_destination(Name="hook")
    code, msg = error_of(events.describe_api_destination, Name="hook")
    assert code == "ResourceNotFoundException"
    assert msg == "Failed to describe the api-destination(s). An api-destination 'hook' does not exist."
    for s in SECRETS:
        assert s not in server.log()


def test_oauth_token_fetched_once_and_refreshed_on_expiry(events, recorder, server):
    issued = {"n": 0}

    def token(req):
        issued["n"] += 1
        return 200, json.dumps({"access_token": f"tok-{issued['n']}", "token_type": "Bearer", "expires_in": 2})

    auth = recorder(token)
    api = recorder()
    out = events.create_connection(
        Name="oauth", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
        AuthParameters={"OAuthParameters": {
            "ClientParameters": {"ClientID": "cid", "ClientSecret": "client-s3cret-e2e"},
            "AuthorizationEndpoint": f"{auth.url}/token", "HttpMethod": "POST",
            "OAuthHttpParameters": {"BodyParameters": [{"Key": "grant_type", "Value": "client_credentials"}]}}})
    assert out["ConnectionState"] == "AUTHORIZING"
    deadline = time.monotonic() + 10
    while events.describe_connection(Name="oauth")["ConnectionState"] != "AUTHORIZED":
        assert time.monotonic() < deadline, "the connection was never authorized"
        time.sleep(0.05)
    [fetch] = auth.wait_for(1)
    assert fetch["method"] == "POST" and fetch["path"] == "/token"
    assert fetch["headers"]["authorization"] == "Basic " + base64.b64encode(b"cid:client-s3cret-e2e").decode()
    assert fetch["body"] == "grant_type=client_credentials"
    described = events.describe_connection(Name="oauth")
    assert described["AuthParameters"]["OAuthParameters"]["ClientParameters"] == {"ClientID": "cid"}
    assert "LastAuthorizedTime" in described

    dest = events.create_api_destination(Name="oa", ConnectionArn=out["ConnectionArn"],
                                         InvocationEndpoint=f"{api.url}/in", HttpMethod="POST")
    route(events, "to-oa", "oa", {"Id": "t", "Arn": dest["ApiDestinationArn"]})
    put(events, "oa", {}, n=3)
    reqs = api.wait_for(3)
    assert [r["headers"]["authorization"] for r in reqs] == ["Bearer tok-1"] * 3
    assert len(auth.requests) == 1, "the token is fetched once while it is valid"
    time.sleep(2.2)
    put(events, "oa", {})
    reqs = api.wait_for(4)
    assert reqs[3]["headers"]["authorization"] == "Bearer tok-2"
    assert len(auth.requests) == 2, "an expired token is fetched again"
    for s in SECRETS:
        assert s not in server.log()


def test_rate_limit_is_held(events, recorder):
    api = recorder()
    conn = api_key_connection(events, "rate")
    dest = events.create_api_destination(Name="slow", ConnectionArn=conn, InvocationEndpoint=f"{api.url}/x",
                                         HttpMethod="POST", InvocationRateLimitPerSecond=5)
    route(events, "to-slow", "burst", {"Id": "t", "Arn": dest["ApiDestinationArn"]})
    for _ in range(3):
        put(events, "burst", {}, n=10)
    reqs = api.wait_for(30, timeout=30)
    assert len(reqs) == 30
    times = sorted(r["at"] for r in reqs)
    span = times[-1] - times[0]
    # A burst of 5, then 5 a second: the 30th request comes >= 5 s after the first.
    print(f"30 invocations at 5/s took {span:.2f} s ({29 / span:.1f}/s)")
    assert span >= 4.8, span
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u - t < 1.0) <= 10


def test_retries_and_dead_letters_by_status_code(events, sqs, recorder):
    dlq_url, dlq_arn = make_queue(sqs, "api-dlq")
    conn = api_key_connection(events, "codes")
    retried = [401, 407, 409, 429, 500, 503]
    final = [400, 403, 404, 422]
    recorders = {}
    for status in retried + final:
        seen = {"n": 0}

        def answer(req, status=status, seen=seen):
            seen["n"] += 1
            return (status if seen["n"] == 1 else 200), "{}"

        r = recorder(answer)
        recorders[status] = r
        dest = events.create_api_destination(Name=f"d{status}", ConnectionArn=conn,
                                             InvocationEndpoint=f"{r.url}/s", HttpMethod="POST")
        route(events, f"r{status}", f"s{status}", {
            "Id": f"t{status}", "Arn": dest["ApiDestinationArn"], "DeadLetterConfig": {"Arn": dlq_arn},
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 60}})
        put(events, f"s{status}", {"status": status})
    for status in retried:
        reqs = recorders[status].wait_for(2, timeout=20)
        assert [r["status"] for r in reqs] == [status, 200], status
    letters = receive_all(sqs, dlq_url, len(final), MessageAttributeNames=["All"])
    assert len(letters) == len(final)
    got = sorted(json.loads(m["Body"])["detail"]["status"] for m in letters)
    assert got == final
    for m in letters:
        attrs = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
        assert attrs["ERROR_CODE"] == "ERROR_FROM_TARGET"
        assert attrs["RETRY_ATTEMPTS"] == "0"
        assert "EXHAUSTED_RETRY_CONDITION" not in attrs
        assert ":api-destination/" in attrs["TARGET_ARN"]
    for status in final:
        assert len(recorders[status].requests) == 1


def test_errors_have_the_services_types_and_messages(events):
    conn = api_key_connection(events, "dup")
    code, msg = error_of(events.create_connection, Name="dup", AuthorizationType="API_KEY",
                         AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
    assert (code, msg) == ("ResourceAlreadyExistsException", "Connection dup already exists.")
    code, msg = error_of(events.describe_connection, Name="nope")
    assert (code, msg) == ("ResourceNotFoundException",
                           "Failed to describe the connection(s). Connection 'nope' does not exist.")
    code, msg = error_of(events.delete_connection, Name="nope")
    assert code == "ResourceNotFoundException"
    code, msg = error_of(events.create_connection, Name="bad name", AuthorizationType="BASIC",
                         AuthParameters={"BasicAuthParameters": {"Username": "u", "Password": "pa55word-e2e\u0001"}})
    assert code == "ValidationException"
    assert msg.startswith("2 validation errors detected: "), msg
    assert "pa55word-e2e" not in msg and "Value '***' at 'authParameters.basicAuthParameters.password'" in msg
    code, msg = error_of(events.create_connection, Name="mismatch", AuthorizationType="BASIC",
                         AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
    assert (code, msg) == ("ValidationException",
                           "BasicAuthParameters must be specified for AuthorizationType BASIC.")
    code, msg = error_of(events.create_api_destination, Name="plain", ConnectionArn=conn,
                         InvocationEndpoint="http://example.com/x", HttpMethod="POST")
    assert code == "ValidationException" and "https://" in msg
    code, msg = error_of(events.create_api_destination, Name="fast", ConnectionArn=conn,
                         InvocationEndpoint="https://example.com/x", HttpMethod="POST",
                         InvocationRateLimitPerSecond=301)
    assert code == "LimitExceededException"
    code, msg = error_of(events.create_api_destination, Name="zero", ConnectionArn=conn,
                         InvocationEndpoint="https://example.com/x", HttpMethod="TRACE")
    assert code == "ValidationException" and "at 'httpMethod'" in msg
    missing = conn.replace(":connection/dup/", ":connection/gone/")
    code, msg = error_of(events.create_api_destination, Name="orphan", ConnectionArn=missing,
                         InvocationEndpoint="https://example.com/x", HttpMethod="POST")
    assert code == "ResourceNotFoundException"
    events.create_api_destination(Name="one", ConnectionArn=conn, InvocationEndpoint="https://example.com/x",
                                  HttpMethod="POST")
    code, msg = error_of(events.create_api_destination, Name="one", ConnectionArn=conn,
                         InvocationEndpoint="https://example.com/x", HttpMethod="POST")
    assert code == "ResourceAlreadyExistsException"
    code, msg = error_of(events.update_api_destination, Name="none", HttpMethod="GET")
    assert code == "ResourceNotFoundException"
    code, msg = error_of(events.put_targets, Rule="r", Targets=[{
        "Id": "t", "Arn": "arn:aws:events:us-east-1:000000000000:api-destination/one/x",
        "HttpParameters": {"HeaderParameters": {"bad key": "v"}}}])
    assert code == "ValidationException" and "httpParameters.headerParameters.key" in msg


def test_step_functions_http_invoke_uses_the_connection(server, recorder):
    from conftest import client

    events, sfn = client("events", server.url), client("stepfunctions", server.url)
    api = recorder(lambda req: (200, '{"ok": true}'))
    conn = api_key_connection(events, "for-sfn", InvocationHttpParameters={
        "QueryStringParameters": [{"Key": "tenant", "Value": "t1"}]})
    definition = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke", "End": True,
        "Parameters": {"ApiEndpoint": f"{api.url}/calls", "Method": "POST",
                       "Authentication": {"ConnectionArn": conn},
                       "RequestBody": {"n": 1}}}}}
    sm = sfn.create_state_machine(name="http-conn", definition=json.dumps(definition),
                                  roleArn=f"arn:aws:iam::{ACCOUNT}:role/StepFunctionsRole")
    run = sfn.start_execution(stateMachineArn=sm["stateMachineArn"])
    deadline = time.monotonic() + 15
    while (d := sfn.describe_execution(executionArn=run["executionArn"]))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert d["status"] == "SUCCEEDED", d
    [req] = api.wait_for(1)
    assert req["path"] == "/calls?tenant=t1"
    assert req["headers"]["x-api-key"] == "k3y-value-e2e"
    assert json.loads(req["body"]) == {"n": 1}
    assert json.loads(d["output"])["ResponseBody"] == {"ok": True}
    # A connection that does not exist fails the task.
    missing = conn.replace(":connection/for-sfn/", ":connection/nope/")
    definition["States"]["Call"]["Parameters"]["Authentication"]["ConnectionArn"] = missing
    sm2 = sfn.create_state_machine(name="http-noconn", definition=json.dumps(definition),
                                   roleArn=f"arn:aws:iam::{ACCOUNT}:role/StepFunctionsRole")
    run = sfn.start_execution(stateMachineArn=sm2["stateMachineArn"])
    deadline = time.monotonic() + 15
    while (d := sfn.describe_execution(executionArn=run["executionArn"]))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert d["status"] == "FAILED"
    assert d.get("error") == "States.Runtime", d
    assert len(api.requests) == 1
