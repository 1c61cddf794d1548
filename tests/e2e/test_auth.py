"""Access control against real boto3 and aws CLI signatures: SigV4
verification with configured keys, the signature's scope, identity policies,
bus resource policies (PutPermission, CreateEventBus Policy), and each attack
of issue 8 checked by its effect (the target queue is read, state is
described afterwards), not only by the answer."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import ACCOUNT, AWS_ENV, FERRULE_BIN, REGION, aws_cli, free_port, receive_all

KEYS = {"AKIDALLOWED": "secret-allowed", "AKIDOTHER": "secret-other",
        "AKIDREADER": "secret-reader", "AKIDPARTNER": "secret-partner"}
READER_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow",
    "Action": ["events:Describe*", "events:List*", "sqs:ReceiveMessage", "sqs:GetQueueUrl",
               "sqs:ListQueues", "sqs:GetQueueAttributes"],
    "Resource": "*"}]}
LOCKED_Q = f"arn:aws:sqs:{REGION}:{ACCOUNT}:locked-q"
LOCKED_BUS = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/locked"
CONFIG = {
    "credentials": [
        {"access_key_id": "AKIDALLOWED", "secret_access_key": KEYS["AKIDALLOWED"]},
        {"access_key_id": "AKIDOTHER", "secret_access_key": KEYS["AKIDOTHER"]},
        {"access_key_id": "AKIDREADER", "secret_access_key": KEYS["AKIDREADER"],
         "user": "reader", "policies": [READER_POLICY]},
        {"access_key_id": "AKIDPARTNER", "secret_access_key": KEYS["AKIDPARTNER"],
         "account": "222222222222", "org_id": "o-partner"},
    ],
    "buses": [{"name": "locked", "allowed_access_keys": ["AKIDALLOWED"]}],
    "queues": ["auth-q", "locked-q"],
    "rules": [
        # Everything from "app" on the locked bus lands in locked-q.
        {"name": "to-queue", "bus": "locked", "event_pattern": {"source": ["app"]},
         "targets": [{"id": "q", "arn": LOCKED_Q}]},
        # A forwarder from the open default bus to the locked bus.
        {"name": "forward", "event_pattern": {"source": ["app"]},
         "targets": [{"id": "fwd", "arn": LOCKED_BUS}]},
    ],
}


def signed(service: str, url: str, key: str, secret: str | None = None, region: str = REGION):
    return boto3.client(service, endpoint_url=url, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret if secret is not None else KEYS[key],
                        config=Config(retries={"max_attempts": 1}))


def raw(url: str, target: str, body: dict, key: str = "AKIDALLOWED", service: str = "events",
        region: str = REGION, sign_target: bool = True, swap_target: str | None = None):
    """A hand-signed JSON request: `sign_target=False` adds X-Amz-Target after
    signing; `swap_target` replaces it after signing (a replayed capture)."""
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if sign_target:
        headers["X-Amz-Target"] = target
    req = AWSRequest(method="POST", url=url + "/", data=json.dumps(body).encode(), headers=headers)
    SigV4Auth(Credentials(key, KEYS[key]), service, region).add_auth(req)
    sent = dict(req.headers.items())
    if not sign_target:
        sent["X-Amz-Target"] = target
    if swap_target:
        sent["X-Amz-Target"] = swap_target
    r = urllib.request.Request(url + "/", data=req.body, headers=sent, method="POST")
    try:
        with urllib.request.urlopen(r, timeout=5) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def error_code(call, *args, **kw) -> str:
    with pytest.raises(ClientError) as e:
        call(*args, **kw)
    return e.value.response["Error"]["Code"]


def locked_queue_messages(url: str, wait: float = 2.0) -> list[dict]:
    sqs = signed("sqs", url, "AKIDALLOWED")
    q = sqs.get_queue_url(QueueName="locked-q")["QueueUrl"]
    got, deadline = [], time.monotonic() + wait
    while time.monotonic() < deadline:
        got += sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return got


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


APP = {"Source": "app", "DetailType": "x", "Detail": '{"n": 1}'}


def test_a_denied_entry_is_never_delivered(auth_server):
    """Attack: a bus that refuses a putter used to answer AccessDenied and deliver anyway."""
    url = auth_server.url
    other = signed("events", url, "AKIDOTHER")
    out = other.put_events(Entries=[dict(APP, EventBusName="locked")])
    assert out["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    assert "arn:aws:iam::000000000000:user/AKIDOTHER" in out["Entries"][0]["ErrorMessage"]
    assert locked_queue_messages(url) == [], "a denied entry reached the target queue"
    allowed = signed("events", url, "AKIDALLOWED")
    assert allowed.put_events(Entries=[dict(APP, EventBusName="locked")])["FailedEntryCount"] == 0
    assert len(locked_queue_messages(url, wait=5)) == 1


def test_forwarding_cannot_route_around_a_policy(auth_server):
    """Attack: put to an open bus whose rule forwards to the locked bus."""
    url = auth_server.url
    other = signed("events", url, "AKIDOTHER")
    assert other.put_events(Entries=[APP])["FailedEntryCount"] == 0  # the default bus is open
    assert locked_queue_messages(url, wait=3) == [], "the forwarded event reached the locked bus"
    # Planting a new forwarder is refused at PutTargets.
    other.put_rule(Name="mine", EventPattern='{"source": ["app"]}')
    assert error_code(other.put_targets, Rule="mine",
                      Targets=[{"Id": "x", "Arn": LOCKED_BUS}]) == "AccessDeniedException"
    assert other.list_targets_by_rule(Rule="mine")["Targets"] == []
    # The allowed key's events take the same path.
    signed("events", url, "AKIDALLOWED").put_events(Entries=[APP])
    assert len(locked_queue_messages(url, wait=5)) == 1


def test_control_plane_takeover_of_a_restricted_bus_is_refused(auth_server):
    url = auth_server.url
    other = signed("events", url, "AKIDOTHER")
    sqs = signed("sqs", url, "AKIDOTHER")
    mine = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName="auth-q")["QueueUrl"],
                                    AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attempts = [
        (other.put_rule, dict(Name="steal", EventBusName="locked", EventPattern='{"source": [{"prefix": ""}]}')),
        (other.put_targets, dict(Rule="to-queue", EventBusName="locked", Targets=[{"Id": "mine", "Arn": mine}])),
        (other.remove_targets, dict(Rule="to-queue", EventBusName="locked", Ids=["q"])),
        (other.disable_rule, dict(Name="to-queue", EventBusName="locked")),
        (other.delete_rule, dict(Name="to-queue", EventBusName="locked")),
        (other.delete_event_bus, dict(Name="locked")),
        (other.put_permission, dict(EventBusName="locked", Action="events:PutEvents", Principal="*", StatementId="open")),
        (other.remove_permission, dict(EventBusName="locked", RemoveAllPermissions=True)),
    ]
    for call, kw in attempts:
        assert error_code(call, **kw) == "AccessDeniedException", call
    allowed = signed("events", url, "AKIDALLOWED")
    assert [r["Name"] for r in allowed.list_rules(EventBusName="locked")["Rules"]] == ["to-queue"]
    rule = allowed.describe_rule(Name="to-queue", EventBusName="locked")
    assert rule["State"] == "ENABLED"
    assert [t["Id"] for t in allowed.list_targets_by_rule(Rule="to-queue", EventBusName="locked")["Targets"]] == ["q"]
    policy = json.loads(allowed.describe_event_bus(Name="locked")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["FerruleAllowedAccessKeys"]
    # Reading is not restricted.
    assert other.describe_event_bus(Name="locked")["Name"] == "locked"


def test_signature_scope_must_name_this_service_and_region(auth_server):
    url = auth_server.url
    status, body = raw(url, "AWSEvents.ListRules", {}, service="sqs")
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert "correct service: 'events'" in body["message"]
    # Any AWS Region is served (each its own partition: test_regions.py);
    # a scope that is not a Region name is refused.
    status, body = raw(url, "AWSEvents.ListRules", {}, region="moon-base-1")
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert "valid region" in body["message"]
    assert error_code(signed("events", url, "AKIDALLOWED", region="local").list_rules) == "InvalidSignatureException"
    status, body = raw(url, "AWSEvents.ListRules", {}, region="eu-central-1")
    assert (status, body["Rules"]) == (200, [])
    status, _ = raw(url, "AWSEvents.ListRules", {})
    assert status == 200


def test_x_amz_target_must_be_signed(auth_server):
    url = auth_server.url
    status, body = raw(url, "AWSEvents.DeleteRule", {"Name": "forward"}, sign_target=False)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert "x-amz-target" in body["message"]
    # A captured, signed DescribeRule replayed as DeleteRule.
    status, body = raw(url, "AWSEvents.DescribeRule", {"Name": "forward"},
                       swap_target="AWSEvents.DeleteRule")
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    allowed = signed("events", url, "AKIDALLOWED")
    assert allowed.describe_rule(Name="forward")["Name"] == "forward"


def test_identity_policies_limit_a_credential(auth_server):
    url = auth_server.url
    reader = signed("events", url, "AKIDREADER")
    assert any(r["Name"] == "forward" for r in reader.list_rules()["Rules"])
    code = error_code(reader.put_rule, Name="nope", EventPattern='{"source": ["x"]}')
    assert code == "AccessDeniedException"
    out = reader.put_events(Entries=[APP])
    assert out["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    sqs = signed("sqs", url, "AKIDREADER")
    q = sqs.get_queue_url(QueueName="auth-q")["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=q, MessageBody="x")
    assert "not authorized" in str(e.value)
    assert sqs.receive_message(QueueUrl=q, WaitTimeSeconds=0).get("Messages", []) == []
    assert all(r["Name"] != "nope" for r in signed("events", url, "AKIDALLOWED").list_rules()["Rules"])


def test_cross_account_put_needs_a_grant_that_survives_restart(server_factory, workdir):
    data = workdir / "grant-data"
    server = server_factory(data_dir=data, config=CONFIG)
    url = server.url
    partner = signed("events", url, "AKIDPARTNER")
    # The partner's own default bus is its account's; this account's bus is
    # named by its ARN.
    entry = {"Source": "partner", "DetailType": "x", "Detail": "{}",
             "EventBusName": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"}
    shared_bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/shared"
    assert partner.put_events(Entries=[dict(entry, EventBusName="default")])["FailedEntryCount"] == 0
    out = partner.put_events(Entries=[entry])
    assert out["Entries"][0]["ErrorCode"] == "AccessDeniedException", "no grant yet"
    allowed = signed("events", url, "AKIDALLOWED")
    allowed.put_permission(Action="events:PutEvents", Principal="*", StatementId="org",
                           Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-partner"})
    assert partner.put_events(Entries=[entry])["FailedEntryCount"] == 0
    with pytest.raises(ClientError) as e:
        allowed.put_permission(Action="events:PutRule", Principal="*", StatementId="bad")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "events:PutEvents" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        allowed.put_permission(Action="events:PutEvents", Principal="12345", StatementId="bad")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "principal" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        allowed.remove_permission(EventBusName="default")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert [s["Sid"] for s in json.loads(allowed.describe_event_bus()["Policy"])["Statement"]] == ["org"]
    policy = '{"Version": "2012-10-17", "Statement": [{"Sid": "p", "Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "events:PutEvents", "Resource": "arn:aws:events:us-east-1:000000000000:event-bus/shared"}]}'
    # botocore's CreateEventBus has no Policy member (CloudFormation's
    # AWS::Events::EventBus does): ferrule accepts it on the wire.
    status, _ = raw(url, "AWSEvents.CreateEventBus", {"Name": "shared", "Policy": policy})
    assert status == 200
    status, body = raw(url, "AWSEvents.CreateEventBus",
                       {"Name": "bad", "Policy": '{"AllowedAccessKeys": ["AKIDOTHER"]}'})
    assert (status, body["__type"]) == (400, "ValidationException")
    assert body["message"].startswith("Policy is not valid. Reason:")
    assert error_code(allowed.describe_event_bus, Name="bad") == "ResourceNotFoundException"

    server.stop()
    server = server_factory(data_dir=data, port=server.port, config=CONFIG)
    allowed = signed("events", server.url, "AKIDALLOWED")
    partner = signed("events", server.url, "AKIDPARTNER")
    assert json.loads(allowed.describe_event_bus(Name="shared")["Policy"]) == json.loads(policy)
    default_policy = json.loads(allowed.describe_event_bus()["Policy"])
    assert [s["Sid"] for s in default_policy["Statement"]] == ["org"]
    assert partner.put_events(Entries=[entry, dict(entry, EventBusName=shared_bus)])["FailedEntryCount"] == 0
    allowed.remove_permission(StatementId="org")
    assert "Policy" not in allowed.describe_event_bus()
    assert partner.put_events(Entries=[entry])["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    assert error_code(allowed.remove_permission, StatementId="org") == "ResourceNotFoundException"


def test_open_mode_says_so(server):
    assert server.health()["auth"] == "open"
    assert "ferrule is open" in server.log()


def test_a_restricted_bus_without_credentials_is_refused_at_start(workdir):
    for bus in ({"name": "locked", "allowed_access_keys": ["AKID"]},
                {"name": "locked", "policy": {"Statement": [{"Effect": "Deny", "Principal": "*",
                                                             "Action": "events:PutEvents", "Resource": "*"}]}}):
        path = workdir / "restricted.json"
        path.write_text(json.dumps({"buses": [bus]}))
        p = subprocess.run([str(FERRULE_BIN), "serve", "--listen", f"127.0.0.1:{free_port()}",
                            "--data-dir", str(workdir / "restricted-data"), "--config", str(path)],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode != 0
        assert "no credentials are configured" in p.stderr


def test_metrics_can_require_a_bearer_token(server_factory):
    server = server_factory(config={"metrics": {"bearer_token": "scrape-me"}})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(server.url + "/metrics", timeout=5)
    assert e.value.code == 401
    assert json.loads(e.value.read())["__type"] == "UnrecognizedClientException"
    req = urllib.request.Request(server.url + "/metrics", headers={"Authorization": "Bearer scrape-me"})
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200 and b"ferrule_" in r.read()
