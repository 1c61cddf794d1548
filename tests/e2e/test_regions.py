"""Regions and accounts from the request (issue 13, item 4): a request signed
for a Region acts in that Region's partition, a credential of another
account in its own account's; nothing leaks between them (read back through
every service: lists, queues, ARNs, delivered events), and only event buses
are reachable across them, under the receiving bus's policy."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, receive_all

EU = "eu-central-1"
PARTNER = "222222222222"
KEYS = {"AKIDHOME": "secret-home", "AKIDPARTNER": "secret-partner"}
SIGNED_CONFIG = {
    "credentials": [
        {"access_key_id": "AKIDHOME", "secret_access_key": KEYS["AKIDHOME"]},
        {"access_key_id": "AKIDPARTNER", "secret_access_key": KEYS["AKIDPARTNER"], "account": PARTNER},
    ],
}
PASS_MACHINE = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def make(service: str, url: str, region: str = REGION, key: str = "test", secret: str = "test"):
    return boto3.client(service, endpoint_url=url, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}, inject_host_prefix=False))


def code_of(call, *args, **kw) -> str:
    with pytest.raises(ClientError) as e:
        call(*args, **kw)
    return e.value.response["Error"]["Code"]


def queue_with_rule(events, sqs, name: str, source: str) -> tuple[str, str]:
    """A queue and a rule on the default bus sending `source`'s events to it."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    return url, arn


def bodies(sqs, url: str, count: int, timeout: float = 10.0) -> list[dict]:
    return [json.loads(m["Body"]) for m in receive_all(sqs, url, count, timeout=timeout)]


def drained(sqs, url: str) -> list[dict]:
    return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", [])


def test_two_regions_share_nothing(server_factory, workdir):
    data = workdir / "regions-data"
    server = server_factory(data_dir=data)
    url = server.url
    us_events, eu_events = make("events", url), make("events", url, EU)
    us_sqs, eu_sqs = make("sqs", url), make("sqs", url, EU)
    us_sfn, eu_sfn = make("stepfunctions", url), make("stepfunctions", url, EU)
    us_sch, eu_sch = make("scheduler", url), make("scheduler", url, EU)

    # The same names in both Regions, each its own resource with its Region's ARNs.
    us_q, us_q_arn = queue_with_rule(us_events, us_sqs, "orders", "shop")
    eu_q, eu_q_arn = queue_with_rule(eu_events, eu_sqs, "orders", "shop")
    assert us_q_arn == f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"
    assert eu_q_arn == f"arn:aws:sqs:{EU}:{ACCOUNT}:orders"
    assert eu_events.describe_rule(Name="orders")["Arn"] == f"arn:aws:events:{EU}:{ACCOUNT}:rule/orders"
    assert eu_events.describe_event_bus()["Arn"] == f"arn:aws:events:{EU}:{ACCOUNT}:event-bus/default"
    eu_events.put_rule(Name="eu-only", EventPattern=json.dumps({"source": ["nobody"]}))
    assert [r["Name"] for r in us_events.list_rules()["Rules"]] == ["orders"]
    assert sorted(r["Name"] for r in eu_events.list_rules()["Rules"]) == ["eu-only", "orders"]
    eu_sqs.create_queue(QueueName="eu-queue")
    assert not any(u.endswith("/eu-queue") for u in us_sqs.list_queues().get("QueueUrls", []))
    assert code_of(us_sqs.get_queue_url, QueueName="eu-queue") == "AWS.SimpleQueueService.NonExistentQueue"

    # An event put in one Region is matched and delivered there only, and says so.
    out = eu_events.put_events(Entries=[{"Source": "shop", "DetailType": "order", "Detail": '{"n": 1}'}])
    assert out["FailedEntryCount"] == 0
    [event] = bodies(eu_sqs, eu_q, 1)
    assert (event["region"], event["account"], event["detail"]) == (EU, ACCOUNT, {"n": 1})
    assert event["resources"] == []
    assert drained(us_sqs, us_q) == []
    us_events.put_events(Entries=[{"Source": "shop", "DetailType": "order", "Detail": '{"n": 2}'}])
    [event] = bodies(us_sqs, us_q, 1)
    assert (event["region"], event["detail"]) == (REGION, {"n": 2})
    assert drained(eu_sqs, eu_q) == []

    # A message sent through one Region's client is in that Region's queue only
    # (the queue URLs look alike: the signature's Region chooses).
    eu_sqs.send_message(QueueUrl=eu_q, MessageBody="eu message")
    assert drained(us_sqs, us_q) == []
    assert [m["Body"] for m in receive_all(eu_sqs, eu_q, 1)] == ["eu message"]

    # Step Functions and Scheduler resources are the Region's too.
    role = f"arn:aws:iam::{ACCOUNT}:role/r"
    machine = eu_sfn.create_state_machine(name="m", definition=PASS_MACHINE, roleArn=role)["stateMachineArn"]
    assert machine == f"arn:aws:states:{EU}:{ACCOUNT}:stateMachine:m"
    assert us_sfn.list_state_machines()["stateMachines"] == []
    assert code_of(us_sfn.describe_state_machine, stateMachineArn=machine) == "InvalidArn"
    eu_sch.create_schedule(Name="s", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
                           Target={"Arn": f"arn:aws:sqs:{EU}:{ACCOUNT}:eu-queue", "RoleArn": role,
                                   "Input": "tick"})
    assert us_sch.list_schedules()["Schedules"] == []
    assert [s["Arn"] for s in eu_sch.list_schedules()["Schedules"]] == [
        f"arn:aws:scheduler:{EU}:{ACCOUNT}:schedule/default/s"]

    # A request naming another Region's resource is refused, not served from this one.
    assert code_of(us_events.list_rules, EventBusName=f"arn:aws:events:{EU}:{ACCOUNT}:event-bus/default") \
        == "ValidationException"
    # A rule reaches another Region's queue only through that Region's bus.
    assert code_of(us_events.put_targets, Rule="orders", Targets=[{"Id": "x", "Arn": eu_q_arn}]) \
        == "ValidationException"
    assert code_of(us_events.put_targets, Rule="orders", Targets=[
        {"Id": "x", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders",
         "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{EU}:{ACCOUNT}:eu-queue"}}]) == "ValidationException"
    us_events.put_rule(Name="to-eu", EventPattern=json.dumps({"source": ["travel"]}))
    us_events.put_targets(Rule="to-eu", Targets=[
        {"Id": "eu-bus", "Arn": f"arn:aws:events:{EU}:{ACCOUNT}:event-bus/default"}])
    eu_events.put_rule(Name="arrivals", EventPattern=json.dumps({"source": ["travel"]}))
    eu_events.put_targets(Rule="arrivals", Targets=[{"Id": "q", "Arn": eu_q_arn}])
    us_events.put_events(Entries=[{"Source": "travel", "DetailType": "trip", "Detail": '{"to": "eu"}'}])
    [event] = bodies(eu_sqs, eu_q, 1)
    assert (event["source"], event["detail"]) == ("travel", {"to": "eu"})
    assert drained(us_sqs, us_q) == []

    # Each partition keeps its store across a restart.
    server.stop()
    server = server_factory(data_dir=data, port=server.port)
    us_events, eu_events = make("events", server.url), make("events", server.url, EU)
    assert sorted(r["Name"] for r in us_events.list_rules()["Rules"]) == ["orders", "to-eu"]
    assert sorted(r["Name"] for r in eu_events.list_rules()["Rules"]) == ["arrivals", "eu-only", "orders"]
    assert [s["Name"] for s in make("scheduler", server.url, EU).list_schedules()["Schedules"]] == ["s"]
    assert (data / "accounts" / ACCOUNT / EU).is_dir()


def test_accounts_share_nothing_but_what_a_bus_policy_grants(server_factory):
    server = server_factory(config=SIGNED_CONFIG)
    url = server.url
    home = {s: make(s, url, key="AKIDHOME", secret=KEYS["AKIDHOME"]) for s in ("events", "sqs")}
    partner = {s: make(s, url, key="AKIDPARTNER", secret=KEYS["AKIDPARTNER"]) for s in ("events", "sqs")}
    home_q, _ = queue_with_rule(home["events"], home["sqs"], "inbox", "shop")
    partner_q, partner_q_arn = queue_with_rule(partner["events"], partner["sqs"], "inbox", "shop")
    assert partner_q_arn == f"arn:aws:sqs:{REGION}:{PARTNER}:inbox"
    assert partner_q.endswith(f"/{PARTNER}/inbox")

    # The partner's own default bus, rules and events are its account's.
    partner["events"].put_events(Entries=[{"Source": "shop", "DetailType": "t", "Detail": '{"who": "partner"}'}])
    [event] = bodies(partner["sqs"], partner_q, 1)
    assert (event["account"], event["detail"]) == (PARTNER, {"who": "partner"})
    assert drained(home["sqs"], home_q) == []
    partner["events"].put_rule(Name="partner-only", EventPattern=json.dumps({"source": ["x"]}))
    assert [r["Name"] for r in home["events"].list_rules()["Rules"]] == ["inbox"]

    # Another account's bus by ARN: denied (and nothing delivered) until its policy allows it.
    home_bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    entry = {"Source": "shop", "DetailType": "t", "Detail": '{"who": "partner, cross-account"}',
             "EventBusName": home_bus}
    out = partner["events"].put_events(Entries=[entry, dict(entry, EventBusName="default")])
    assert out["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    assert "EventId" in out["Entries"][1]
    assert drained(home["sqs"], home_q) == []
    assert len(bodies(partner["sqs"], partner_q, 1)) == 1
    # A partner's rule may not forward there either, until allowed.
    partner["events"].put_rule(Name="fwd", EventPattern=json.dumps({"source": ["fwd"]}))
    assert code_of(partner["events"].put_targets, Rule="fwd", Targets=[{"Id": "b", "Arn": home_bus}]) \
        == "AccessDeniedException"
    # The partner cannot read the home account's queue or rules.
    assert code_of(partner["sqs"].receive_message, QueueUrl=home_q) == "AccessDeniedException"
    assert code_of(partner["events"].list_rules, EventBusName=home_bus) == "AccessDeniedException"

    home["events"].put_permission(Action="events:PutEvents", Principal=PARTNER, StatementId="partner")
    out = partner["events"].put_events(Entries=[entry])
    assert out["FailedEntryCount"] == 0, out
    [event] = bodies(home["sqs"], home_q, 1)
    assert (event["account"], event["detail"]) == (ACCOUNT, {"who": "partner, cross-account"})
    partner["events"].put_targets(Rule="fwd", Targets=[{"Id": "b", "Arn": home_bus}])
    partner["events"].put_events(Entries=[{"Source": "shop", "DetailType": "t", "Detail": '{"n": 9}'},
                                          {"Source": "fwd", "DetailType": "t", "Detail": '{"n": 10}'}])
    # `fwd` events reach the home bus, but no home rule matches `fwd`: add one and send again.
    home["events"].put_rule(Name="from-partner", EventPattern=json.dumps({"source": ["fwd"]}))
    home_q_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox"
    home["events"].put_targets(Rule="from-partner", Targets=[{"Id": "q", "Arn": home_q_arn}])
    partner["events"].put_events(Entries=[{"Source": "fwd", "DetailType": "t", "Detail": '{"n": 11}'}])
    got = bodies(home["sqs"], home_q, 1)
    assert [e["detail"] for e in got] == [{"n": 11}]
    # Revoked: the next forwarded event is refused at the home bus and never delivered.
    home["events"].remove_permission(StatementId="partner")
    partner["events"].put_events(Entries=[{"Source": "fwd", "DetailType": "t", "Detail": '{"n": 12}'}])
    time.sleep(1.5)
    assert drained(home["sqs"], home_q) == []
    assert partner["events"].put_events(Entries=[entry])["Entries"][0]["ErrorCode"] == "AccessDeniedException"
