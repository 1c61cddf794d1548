"""EventBridge and SQS operations against a real `ferrule serve`, through boto3
and the aws CLI: rules, targets (SQS queues, input transformers, HTTP
endpoints, dead-letter queues), PutEvents, errors as boto3's exception
classes, paging, the CLI's JSON output, /health and /metrics."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, aws_cli, http_get, receive_all

TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ENVELOPE_KEYS = ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]


def make_queue(sqs, name: str) -> tuple[str, str]:
    """Creates an SQS queue; returns (QueueUrl, QueueArn)."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    return url, arn


def delete_all(sqs, url: str, messages: list[dict]) -> None:
    for m in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def assert_no_messages(sqs, url: str, wait: int = 1) -> None:
    r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait, MaxNumberOfMessages=10)
    assert r.get("Messages", []) == [], r.get("Messages")


def check_envelope(event: dict, *, event_id: str, source: str, detail_type: str, detail: dict,
                   resources: list[str]) -> None:
    assert list(event.keys()) == ENVELOPE_KEYS, list(event.keys())
    assert event["version"] == "0"
    assert event["id"] == event_id
    assert event["detail-type"] == detail_type
    assert event["source"] == source
    assert event["account"] == ACCOUNT
    assert TIME_RE.match(event["time"]), event["time"]
    assert event["region"] == REGION
    assert event["resources"] == resources
    assert event["detail"] == detail


# ---------------------------------------------------------------------------
# PutEvents to SQS queues (whole event and InputTransformer)
# ---------------------------------------------------------------------------

def test_put_events_to_sqs_and_input_transformer(events, sqs):
    bus_arn = events.create_event_bus(Name="orders")["EventBusArn"]
    assert bus_arn == f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders"
    q_url, q_arn = make_queue(sqs, "orders-all")
    t_url, t_arn = make_queue(sqs, "orders-transformed")

    pattern = {"source": ["shop"], "detail-type": ["OrderPlaced"], "detail": {"total": [{"numeric": [">", 0]}]}}
    rule_arn = events.put_rule(Name="orders-rule", EventBusName="orders", EventPattern=json.dumps(pattern))["RuleArn"]
    assert rule_arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders/orders-rule"
    out = events.put_targets(Rule="orders-rule", EventBusName="orders", Targets=[
        {"Id": "queue", "Arn": q_arn},
        {"Id": "transformed", "Arn": t_arn, "InputTransformer": {
            "InputPathsMap": {"order": "$.detail.orderId", "total": "$.detail.total", "src": "$.source"},
            "InputTemplate": '{"order": <order>, "total": <total>, "text": "order <order> from <src>", '
                             '"rule": <aws.events.rule-name>}',
        }},
    ])
    assert out["FailedEntryCount"] == 0 and out["FailedEntries"] == []

    fixed_time = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    entries = []
    for i in range(10):
        e = {"Source": "shop", "DetailType": "OrderPlaced", "EventBusName": "orders",
             "Resources": [f"arn:aws:shop:::order/{i}"],
             "Detail": json.dumps({"orderId": f"o-{i}", "total": 10 + i, "items": [i, {"sku": "x"}]})}
        entries.append(e)
    entries[0]["Time"] = fixed_time
    bad = 4
    entries[bad]["Detail"] = "this is not JSON"
    out = events.put_events(Entries=entries)
    assert out["FailedEntryCount"] == 1
    assert len(out["Entries"]) == 10
    for i, r in enumerate(out["Entries"]):
        if i == bad:
            assert "EventId" not in r, r
            assert r["ErrorCode"] == "MalformedDetail", r
            assert r.get("ErrorMessage")
        else:
            assert "ErrorCode" not in r, r
            assert UUID_RE.match(r["EventId"]), r
    ids = {out["Entries"][i]["EventId"]: i for i in range(10) if i != bad}

    got = receive_all(sqs, q_url, 9)
    assert len(got) == 9, got
    seen = set()
    for m in got:
        event = json.loads(m["Body"])
        i = ids[event["id"]]
        seen.add(i)
        check_envelope(event, event_id=event["id"], source="shop", detail_type="OrderPlaced",
                       detail=json.loads(entries[i]["Detail"]), resources=[f"arn:aws:shop:::order/{i}"])
        if i == 0:
            assert event["time"] == "2024-05-01T12:00:00Z"
        assert m["MessageId"] and m["ReceiptHandle"]
    assert seen == set(ids.values())
    delete_all(sqs, q_url, got)
    assert_no_messages(sqs, q_url)

    got = receive_all(sqs, t_url, 9)
    assert len(got) == 9, got
    bodies = sorted((json.loads(m["Body"]) for m in got), key=lambda b: b["order"])
    expected = sorted(({"order": f"o-{i}", "total": 10 + i, "text": f"order o-{i} from shop", "rule": "orders-rule"}
                       for i in range(10) if i != bad), key=lambda b: b["order"])
    assert bodies == expected
    delete_all(sqs, t_url, got)
    assert_no_messages(sqs, t_url)


def test_put_events_entry_errors_fail_alone(events, sqs):
    q_url, q_arn = make_queue(sqs, "errs")
    events.put_rule(Name="all-app", EventPattern=json.dumps({"source": ["app"]}))
    events.put_targets(Rule="all-app", Targets=[{"Id": "q", "Arn": q_arn}])
    out = events.put_events(Entries=[
        {"Source": "app", "DetailType": "ok", "Detail": "{}"},
        {"DetailType": "no source", "Detail": "{}"},
        {"Source": "app", "Detail": "{}"},
        {"Source": "app", "DetailType": "array detail", "Detail": "[1, 2]"},
        {"Source": "aws.s3", "DetailType": "reserved source", "Detail": "{}"},
        {"Source": "app", "DetailType": "ok too", "Detail": "{\"a\": 1}"},
    ])
    codes = [e.get("ErrorCode") for e in out["Entries"]]
    assert codes == [None, "InvalidArgument", "InvalidArgument", "MalformedDetail",
                     "NotAuthorizedForSourceException", None], out
    assert out["FailedEntryCount"] == 4
    got = receive_all(sqs, q_url, 2)
    assert sorted(json.loads(m["Body"])["detail-type"] for m in got) == ["ok", "ok too"]


def test_put_events_too_many_entries_is_a_request_error(events):
    entries = [{"Source": "app", "DetailType": "x", "Detail": "{}"}] * 11
    with pytest.raises(ClientError) as e:
        events.put_events(Entries=entries)
    assert e.value.response["Error"]["Code"] == "ValidationException"


# ---------------------------------------------------------------------------
# HTTP endpoint targets and dead-letter queues
# ---------------------------------------------------------------------------

def test_http_endpoint_target(events, http_sink):
    sink = http_sink()
    target_url = f"{sink.url}/hook"
    events.put_rule(Name="to-hook", EventPattern=json.dumps({"source": ["web"], "detail": {"kind": ["ping"]}}))
    events.put_targets(Rule="to-hook", Targets=[{"Id": "hook", "Arn": target_url}])
    out = events.put_events(Entries=[
        {"Source": "web", "DetailType": "Ping", "Detail": json.dumps({"kind": "ping", "n": 1})},
        {"Source": "web", "DetailType": "Ping", "Detail": json.dumps({"kind": "pong", "n": 2})},
    ])
    assert out["FailedEntryCount"] == 0
    event_id = out["Entries"][0]["EventId"]
    assert sink.wait_for(lambda rs: len(rs) >= 1, timeout=10), "nothing was POSTed to the hook"
    time.sleep(0.5)  # the non-matching event must not arrive either
    reqs = sink.requests
    assert len(reqs) == 1, reqs
    assert reqs[0]["path"] == "/hook"
    headers = {k.lower(): v for k, v in reqs[0]["headers"].items()}
    assert headers.get("content-type", "").startswith("application/json")
    event = json.loads(reqs[0]["body"])
    check_envelope(event, event_id=event_id, source="web", detail_type="Ping",
                   detail={"kind": "ping", "n": 1}, resources=[])


def test_dead_letter_queue_for_http_404(events, sqs, http_sink):
    sink = http_sink(status=404)
    dlq_url, dlq_arn = make_queue(sqs, "hook-dlq")
    target_url = f"{sink.url}/missing"
    rule_arn = events.put_rule(Name="to-404", EventPattern=json.dumps({"source": ["dlq-test"]}))["RuleArn"]
    events.put_targets(Rule="to-404", Targets=[{
        "Id": "hook", "Arn": target_url,
        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60},
        "DeadLetterConfig": {"Arn": dlq_arn},
    }])
    listed = events.list_targets_by_rule(Rule="to-404")["Targets"][0]
    assert listed["DeadLetterConfig"] == {"Arn": dlq_arn}
    assert listed["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60}

    detail = {"order": 7}
    out = events.put_events(Entries=[{"Source": "dlq-test", "DetailType": "Failing", "Detail": json.dumps(detail)}])
    event_id = out["Entries"][0]["EventId"]

    got = receive_all(sqs, dlq_url, 1, MessageAttributeNames=["All"])
    assert len(got) == 1, got
    m = got[0]
    event = json.loads(m["Body"])
    check_envelope(event, event_id=event_id, source="dlq-test", detail_type="Failing", detail=detail, resources=[])
    attrs = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
    assert attrs["ERROR_CODE"] == "ERROR_FROM_TARGET", attrs
    assert "404" in attrs["ERROR_MESSAGE"], attrs
    assert attrs["RULE_ARN"] == rule_arn
    assert attrs["TARGET_ARN"] == target_url
    assert attrs["RETRY_ATTEMPTS"] == "0"  # a 4xx other than 429 is not retried
    assert "EXHAUSTED_RETRY_CONDITION" not in attrs
    for v in m["MessageAttributes"].values():
        assert v["DataType"] == "String"
    assert len(sink.requests) == 1  # one attempt only
    sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
    assert_no_messages(sqs, dlq_url)


def test_dead_letter_after_retries_exhausted(events, sqs, http_sink):
    sink = http_sink(status=503)
    dlq_url, dlq_arn = make_queue(sqs, "retry-dlq")
    events.put_rule(Name="to-503", EventPattern=json.dumps({"source": ["retry-test"]}))
    events.put_targets(Rule="to-503", Targets=[{
        "Id": "hook", "Arn": sink.url,
        "RetryPolicy": {"MaximumRetryAttempts": 1},
        "DeadLetterConfig": {"Arn": dlq_arn},
    }])
    events.put_events(Entries=[{"Source": "retry-test", "DetailType": "x", "Detail": "{}"}])
    got = receive_all(sqs, dlq_url, 1, timeout=20, MessageAttributeNames=["All"])
    assert len(got) == 1
    attrs = {k: v["StringValue"] for k, v in got[0]["MessageAttributes"].items()}
    assert attrs["ERROR_CODE"] == "ERROR_FROM_TARGET"
    assert attrs["RETRY_ATTEMPTS"] == "1"
    assert attrs["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert len(sink.requests) == 2


# ---------------------------------------------------------------------------
# Errors as boto3 exception classes
# ---------------------------------------------------------------------------

def test_describe_missing_rule_is_resource_not_found(events):
    with pytest.raises(events.exceptions.ResourceNotFoundException) as e:
        events.describe_rule(Name="nope")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "nope" in e.value.response["Error"]["Message"]


def test_invalid_pattern_is_invalid_event_pattern(events):
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.put_rule(Name="bad", EventPattern='{"source": "not-a-list"}')
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.put_rule(Name="bad", EventPattern="{not json")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name="bad")


def test_create_event_bus_twice(events):
    events.create_event_bus(Name="twice")
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name="twice")


def test_sixth_target_exceeds_limit(events, sqs):
    _, arn = make_queue(sqs, "limit-q")
    events.put_rule(Name="many", EventPattern=json.dumps({"source": ["x"]}))
    events.put_targets(Rule="many", Targets=[{"Id": f"t{i}", "Arn": arn} for i in range(5)])
    # Replacing an existing id is not a sixth target.
    events.put_targets(Rule="many", Targets=[{"Id": "t0", "Arn": arn, "Input": "{}"}])
    with pytest.raises(events.exceptions.LimitExceededException):
        events.put_targets(Rule="many", Targets=[{"Id": "t5", "Arn": arn}])
    assert len(events.list_targets_by_rule(Rule="many")["Targets"]) == 5


def test_delete_default_bus_is_validation_error(events):
    with pytest.raises(ClientError) as e:
        events.delete_event_bus(Name="default")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_delete_rule_with_targets_is_validation_error(events, sqs):
    _, arn = make_queue(sqs, "del-q")
    events.put_rule(Name="has-targets", EventPattern=json.dumps({"source": ["x"]}))
    events.put_targets(Rule="has-targets", Targets=[{"Id": "q", "Arn": arn}])
    with pytest.raises(ClientError) as e:
        events.delete_rule(Name="has-targets")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    events.remove_targets(Rule="has-targets", Ids=["q"])
    events.delete_rule(Name="has-targets")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name="has-targets")


def test_missing_queue_is_queue_does_not_exist(sqs):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="missing")


def test_unknown_bus_is_resource_not_found(events):
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.put_rule(Name="r", EventBusName="no-such-bus", EventPattern='{"source": ["x"]}')
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_event_bus(Name="no-such-bus")


# ---------------------------------------------------------------------------
# Listing, paging, TestEventPattern, Enable/Disable, targets
# ---------------------------------------------------------------------------

def test_list_rules_prefix_and_paging(events):
    names = [f"page-{i:02d}" for i in range(7)]
    for n in names + ["other-1", "other-2"]:
        events.put_rule(Name=n, EventPattern=json.dumps({"source": [n]}))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kw = {"NamePrefix": "page-", "Limit": 2}
        if token:
            kw["NextToken"] = token
        out = events.list_rules(**kw)
        assert len(out["Rules"]) <= 2
        seen += [r["Name"] for r in out["Rules"]]
        pages += 1
        token = out.get("NextToken")
        if not token:
            break
        assert pages < 20
    assert sorted(seen) == names and len(seen) == len(set(seen))
    assert pages == 4
    # The same through boto3's paginator.
    paged = [r["Name"] for p in events.get_paginator("list_rules").paginate(
        NamePrefix="page-", PaginationConfig={"PageSize": 3}) for r in p["Rules"]]
    assert sorted(paged) == names
    everything = {r["Name"] for r in events.list_rules()["Rules"]}
    assert everything == set(names) | {"other-1", "other-2"}
    rule = next(r for r in events.list_rules(NamePrefix="other-1")["Rules"])
    assert rule["State"] == "ENABLED" and rule["EventBusName"] == "default"
    assert json.loads(rule["EventPattern"]) == {"source": ["other-1"]}
    assert rule["Arn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/other-1"


def test_test_event_pattern(events):
    event = {"id": "e1", "account": ACCOUNT, "source": "shop", "time": "2024-05-01T12:00:00Z",
             "region": REGION, "detail-type": "OrderPlaced", "resources": [], "detail": {"total": 250}}
    pattern = json.dumps({"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}})
    assert events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event))["Result"] is True
    event["detail"]["total"] = 5
    assert events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event))["Result"] is False
    incomplete = {"source": "shop", "detail": {"total": 250}}
    with pytest.raises(ClientError) as e:
        events.test_event_pattern(EventPattern=pattern, Event=json.dumps(incomplete))
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "Event" in e.value.response["Error"]["Message"]
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.test_event_pattern(EventPattern='{"source": [{"bogus": 1}]}', Event=json.dumps(event))


def test_disable_and_enable_rule(events, sqs):
    off_url, off_arn = make_queue(sqs, "toggled")
    on_url, on_arn = make_queue(sqs, "always")
    events.put_rule(Name="toggled", EventPattern=json.dumps({"source": ["toggle"]}))
    events.put_targets(Rule="toggled", Targets=[{"Id": "q", "Arn": off_arn}])
    events.put_rule(Name="always", EventPattern=json.dumps({"source": ["toggle"]}))
    events.put_targets(Rule="always", Targets=[{"Id": "q", "Arn": on_arn}])

    events.disable_rule(Name="toggled")
    assert events.describe_rule(Name="toggled")["State"] == "DISABLED"
    first = events.put_events(Entries=[{"Source": "toggle", "DetailType": "x", "Detail": "{}"}])["Entries"][0]["EventId"]
    got = receive_all(sqs, on_url, 1)  # the enabled rule delivered it...
    assert [json.loads(m["Body"])["id"] for m in got] == [first]
    time.sleep(0.5)
    assert_no_messages(sqs, off_url)  # ...and the disabled one did not

    events.enable_rule(Name="toggled")
    assert events.describe_rule(Name="toggled")["State"] == "ENABLED"
    second = events.put_events(Entries=[{"Source": "toggle", "DetailType": "x", "Detail": "{}"}])["Entries"][0]["EventId"]
    got = receive_all(sqs, off_url, 1)
    assert [json.loads(m["Body"])["id"] for m in got] == [second]

    # PutRule with State=DISABLED creates a disabled rule.
    events.put_rule(Name="born-off", EventPattern='{"source": ["x"]}', State="DISABLED")
    assert events.describe_rule(Name="born-off")["State"] == "DISABLED"
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.disable_rule(Name="not-there")


def test_targets_listing_and_removal(events, sqs):
    _, a_arn = make_queue(sqs, "qa")
    _, b_arn = make_queue(sqs, "qb")
    events.create_event_bus(Name="side")
    for bus in ("default", "side"):
        events.put_rule(Name="r1", EventBusName=bus, EventPattern='{"source": ["a"]}')
    events.put_rule(Name="r2", EventPattern='{"source": ["b"]}')
    events.put_targets(Rule="r1", Targets=[
        {"Id": "a", "Arn": a_arn},
        {"Id": "b", "Arn": b_arn, "Input": '{"constant": true}'},
        {"Id": "c", "Arn": b_arn, "InputPath": "$.detail"},
    ])
    events.put_targets(Rule="r2", Targets=[{"Id": "a", "Arn": a_arn}])
    events.put_targets(Rule="r1", EventBusName="side", Targets=[{"Id": "a", "Arn": a_arn}])

    targets = events.list_targets_by_rule(Rule="r1")["Targets"]
    assert {t["Id"]: t["Arn"] for t in targets} == {"a": a_arn, "b": b_arn, "c": b_arn}
    by_id = {t["Id"]: t for t in targets}
    assert by_id["b"]["Input"] == '{"constant": true}'
    assert by_id["c"]["InputPath"] == "$.detail"

    assert sorted(events.list_rule_names_by_target(TargetArn=a_arn)["RuleNames"]) == ["r1", "r2"]
    assert events.list_rule_names_by_target(TargetArn=b_arn)["RuleNames"] == ["r1"]
    assert events.list_rule_names_by_target(TargetArn=a_arn, EventBusName="side")["RuleNames"] == ["r1"]

    out = events.remove_targets(Rule="r1", Ids=["a", "c"])
    assert out["FailedEntryCount"] == 0
    assert [t["Id"] for t in events.list_targets_by_rule(Rule="r1")["Targets"]] == ["b"]
    assert events.list_rule_names_by_target(TargetArn=a_arn)["RuleNames"] == ["r2"]
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.list_targets_by_rule(Rule="nope")


def test_describe_and_list_event_buses(events):
    default = events.describe_event_bus()
    assert default["Name"] == "default"
    assert default["Arn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    arn = events.create_event_bus(Name="billing", Description="money")["EventBusArn"]
    events.create_event_bus(Name="billing-eu")
    events.create_event_bus(Name="audit")
    d = events.describe_event_bus(Name="billing")
    assert d["Name"] == "billing" and d["Arn"] == arn
    assert d.get("Description") == "money"
    assert isinstance(d["CreationTime"], datetime)
    assert abs(d["CreationTime"].timestamp() - time.time()) < 120
    names = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert set(names) == {"default", "billing", "billing-eu", "audit"}
    names = sorted(b["Name"] for b in events.list_event_buses(NamePrefix="billing")["EventBuses"])
    assert names == ["billing", "billing-eu"]
    events.delete_event_bus(Name="billing-eu")
    names = [b["Name"] for b in events.list_event_buses(NamePrefix="billing")["EventBuses"]]
    assert names == ["billing"]


def test_describe_rule_fields(events):
    pattern = json.dumps({"source": ["x"], "detail": {"n": [1, 2]}})
    arn = events.put_rule(Name="described", EventPattern=pattern, Description="a rule")["RuleArn"]
    d = events.describe_rule(Name="described")
    assert d["Name"] == "described"
    assert d["Arn"] == arn
    assert json.loads(d["EventPattern"]) == json.loads(pattern)
    assert d["State"] == "ENABLED"
    assert d["Description"] == "a rule"
    assert d["EventBusName"] == "default"


# ---------------------------------------------------------------------------
# /health and /metrics
# ---------------------------------------------------------------------------

def test_health_and_metrics(server, events):
    health = server.health()
    assert health["status"] == "ok"
    events.put_rule(Name="m", EventPattern='{"source": ["m"]}')
    events.put_events(Entries=[{"Source": "m", "DetailType": "x", "Detail": "{}"}])
    status, text = http_get(server.url + "/metrics")
    assert status == 200
    assert 'ferrule_requests_total{operation="AWSEvents.PutEvents",status="200"} 1' in text
    assert "ferrule_put_events_entries_total 1" in text
    assert "ferrule_request_duration_seconds_bucket" in text


# ---------------------------------------------------------------------------
# The aws CLI
# ---------------------------------------------------------------------------

def test_aws_cli(endpoint, events, sqs):
    q_url, q_arn = make_queue(sqs, "cli-q")
    pattern = {"source": ["cli"]}
    aws_cli(endpoint, "events", "put-rule", "--name", "cli-rule", "--event-pattern", json.dumps(pattern))
    aws_cli(endpoint, "events", "put-targets", "--rule", "cli-rule",
            "--targets", json.dumps([{"Id": "q", "Arn": q_arn}]))

    out = aws_cli(endpoint, "events", "put-events", "--entries", json.dumps([
        {"Source": "cli", "DetailType": "FromCli", "Detail": json.dumps({"via": "aws"})},
        {"Source": "cli", "DetailType": "FromCli"},
    ]))
    assert out["FailedEntryCount"] == 1
    event_id = out["Entries"][0]["EventId"]
    assert UUID_RE.match(event_id)
    assert out["Entries"][1]["ErrorCode"] == "InvalidArgument"

    rules = aws_cli(endpoint, "events", "list-rules", "--name-prefix", "cli-")
    assert [r["Name"] for r in rules["Rules"]] == ["cli-rule"]
    assert json.loads(rules["Rules"][0]["EventPattern"]) == pattern

    d = aws_cli(endpoint, "events", "describe-rule", "--name", "cli-rule")
    assert d["Name"] == "cli-rule"
    assert d["Arn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/cli-rule"
    assert d["State"] == "ENABLED"
    assert json.loads(d["EventPattern"]) == pattern

    msgs = aws_cli(endpoint, "sqs", "receive-message", "--queue-url", q_url, "--wait-time-seconds", "5",
                   "--max-number-of-messages", "10")
    assert len(msgs["Messages"]) == 1, msgs
    event = json.loads(msgs["Messages"][0]["Body"])
    check_envelope(event, event_id=event_id, source="cli", detail_type="FromCli", detail={"via": "aws"}, resources=[])

    p = aws_cli(endpoint, "events", "describe-rule", "--name", "nope", check=False)
    assert p.returncode != 0
    assert "ResourceNotFoundException" in p.stderr


# ---------------------------------------------------------------------------
# Buses by ARN, constant and path inputs, bus-to-bus targets, size limits
# ---------------------------------------------------------------------------

def test_bus_arns_inputs_and_bus_targets(events, sqs):
    bus_arn = events.create_event_bus(Name="downstream")["EventBusArn"]
    path_url, path_arn = make_queue(sqs, "by-path")
    const_url, const_arn = make_queue(sqs, "constant")
    down_url, down_arn = make_queue(sqs, "downstream-q")

    # A rule on the default bus forwards to bus "downstream" (named by ARN).
    events.put_rule(Name="fwd", EventPattern=json.dumps({"source": ["fwd"]}))
    events.put_targets(Rule="fwd", Targets=[
        {"Id": "bus", "Arn": bus_arn},
        {"Id": "path", "Arn": path_arn, "InputPath": "$.detail.inner"},
        {"Id": "const", "Arn": const_arn, "Input": '{"fixed": [1, 2, 3]}'},
    ])
    events.put_rule(Name="below", EventBusName=bus_arn, EventPattern=json.dumps({"source": ["fwd"]}))
    events.put_targets(Rule="below", EventBusName=bus_arn, Targets=[{"Id": "q", "Arn": down_arn}])
    assert [r["Name"] for r in events.list_rules(EventBusName=bus_arn)["Rules"]] == ["below"]

    detail = {"inner": {"a": 1, "b": "two"}, "outer": True}
    out = events.put_events(Entries=[{"Source": "fwd", "DetailType": "Fwd", "Detail": json.dumps(detail)}])
    assert out["FailedEntryCount"] == 0

    got = receive_all(sqs, path_url, 1)
    assert [json.loads(m["Body"]) for m in got] == [{"a": 1, "b": "two"}]
    got = receive_all(sqs, const_url, 1)
    assert [m["Body"] for m in got] == ['{"fixed": [1, 2, 3]}']
    got = receive_all(sqs, down_url, 1)
    assert len(got) == 1
    forwarded = json.loads(got[0]["Body"])
    assert forwarded["source"] == "fwd" and forwarded["detail-type"] == "Fwd" and forwarded["detail"] == detail

    # PutEvents naming the bus by ARN.
    out = events.put_events(Entries=[{"Source": "fwd", "DetailType": "Direct", "EventBusName": bus_arn, "Detail": "{}"}])
    got = receive_all(sqs, down_url, 1)
    assert [json.loads(m["Body"])["id"] for m in got] == [out["Entries"][0]["EventId"]]


def test_put_events_size_limit(events):
    big = json.dumps({"x": "a" * 300_000})
    with pytest.raises(ClientError) as e:
        events.put_events(Entries=[{"Source": "app", "DetailType": "big", "Detail": big}])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "size" in e.value.response["Error"]["Message"]
    # Just under 256 KiB in total is accepted.
    detail = json.dumps({"x": "a" * (256 * 1024 - 100)})
    out = events.put_events(Entries=[{"Source": "app", "DetailType": "big", "Detail": detail}])
    assert out["FailedEntryCount"] == 0


def test_custom_bus_name_with_slash_is_refused(events):
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name="bad/name")
    assert e.value.response["Error"]["Code"] == "ValidationException"
