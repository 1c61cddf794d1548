"""SigV4 verification with configured keys, and per-bus put permissions,
against real boto3 and aws CLI signatures."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import AWS_ENV, REGION, aws_cli

KEYS = {"AKIDALLOWED": "secret-allowed", "AKIDOTHER": "secret-other"}
CONFIG = {
    "credentials": [{"access_key_id": k, "secret_access_key": s} for k, s in KEYS.items()],
    "buses": [{"name": "locked", "allowed_access_keys": ["AKIDALLOWED"]}],
    "queues": ["auth-q"],
}


def signed(service: str, url: str, key: str, secret: str):
    return boto3.client(service, endpoint_url=url, region_name=REGION, aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def auth_server(server_factory):
    return server_factory(config=CONFIG)


def test_signed_requests_are_verified(auth_server):
    url = auth_server.url
    events = signed("events", url, "AKIDALLOWED", KEYS["AKIDALLOWED"])
    sqs = signed("sqs", url, "AKIDOTHER", KEYS["AKIDOTHER"])
    assert events.describe_event_bus(Name="locked")["Name"] == "locked"
    q = sqs.get_queue_url(QueueName="auth-q")["QueueUrl"]
    sqs.send_message(QueueUrl=q, MessageBody="signed body with spaces & ünïcode")
    got = sqs.receive_message(QueueUrl=q, WaitTimeSeconds=2)["Messages"]
    assert got[0]["Body"] == "signed body with spaces & ünïcode"

    with pytest.raises(ClientError) as e:
        signed("events", url, "AKIDALLOWED", "wrong-secret").list_rules()
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
    with pytest.raises(ClientError) as e:
        signed("events", url, "AKIDUNKNOWN", "whatever").list_rules()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    with pytest.raises(ClientError) as e:
        signed("sqs", url, "AKIDOTHER", "wrong-secret").list_queues()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)

    # An unsigned request is refused.
    req = urllib.request.Request(url + "/", data=b"{}", method="POST", headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents.ListRules"})
    with pytest.raises(urllib.error.HTTPError) as h:
        urllib.request.urlopen(req, timeout=5)
    assert h.value.code == 403
    assert json.loads(h.value.read())["__type"] == "MissingAuthenticationTokenException"

    # /health needs no signature.
    assert auth_server.health()["status"] == "ok"


def test_aws_cli_signatures_are_accepted(auth_server, monkeypatch):
    monkeypatch.setitem(AWS_ENV, "AWS_ACCESS_KEY_ID", "AKIDOTHER")
    monkeypatch.setitem(AWS_ENV, "AWS_SECRET_ACCESS_KEY", KEYS["AKIDOTHER"])
    out = aws_cli(auth_server.url, "events", "describe-event-bus", "--name", "locked")
    assert out["Name"] == "locked"
    out = aws_cli(auth_server.url, "sqs", "list-queues")
    assert any(u.endswith("/auth-q") for u in out["QueueUrls"])
    monkeypatch.setitem(AWS_ENV, "AWS_SECRET_ACCESS_KEY", "wrong")
    p = aws_cli(auth_server.url, "events", "list-rules", check=False)
    assert p.returncode != 0 and "InvalidSignatureException" in p.stderr


def test_bus_put_permissions(auth_server):
    url = auth_server.url
    allowed = signed("events", url, "AKIDALLOWED", KEYS["AKIDALLOWED"])
    other = signed("events", url, "AKIDOTHER", KEYS["AKIDOTHER"])
    entry = {"Source": "app", "DetailType": "x", "Detail": "{}", "EventBusName": "locked"}
    out = allowed.put_events(Entries=[entry])
    assert out["FailedEntryCount"] == 0 and "EventId" in out["Entries"][0]
    out = other.put_events(Entries=[entry, dict(entry, EventBusName="default")])
    assert out["FailedEntryCount"] == 1
    assert out["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    assert "EventId" in out["Entries"][1]
