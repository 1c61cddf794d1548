"""EventBridge Scheduler and rule schedules against a real `ferrule serve`, on
a driven clock (`"clock": "manual:START"` in the config, moved with
`POST /_ferrule/clock`): schedules fire when the clock says so, into built-in
queues, event buses and HTTP endpoints, with retries, dead letters,
ActionAfterCompletion and the restart rule. boto3's `scheduler` client
(REST-JSON) and `events`/`sqs` clients, unchanged."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, client

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
T0_MS = int(T0.timestamp() * 1000)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler"
OFF = {"Mode": "OFF"}


def clock_config(start_ms: int = T0_MS, **extra) -> dict:
    return {"clock": f"manual:{start_ms}", **extra}


def move(url: str, advance_ms: int | None = None, set_ms: int | None = None) -> dict:
    body = {"advance_ms": advance_ms} if advance_ms is not None else {"set_ms": set_ms}
    req = urllib.request.Request(url + "/_ferrule/clock", data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class Queue:
    """A built-in queue read with boto3's SQS client."""

    def __init__(self, sqs, name: str):
        self.sqs = sqs
        self.url = sqs.create_queue(QueueName=name)["QueueUrl"]
        self.arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.received: list[dict] = []

    def drain(self) -> list[dict]:
        while True:
            r = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                         MessageAttributeNames=["All"])
            msgs = r.get("Messages", [])
            if not msgs:
                return self.received
            for m in msgs:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
            self.received.extend(msgs)

    def wait_count(self, n: int, timeout: float = 10.0) -> list[dict]:
        """Waits until exactly `n` messages arrived (and no more within a short settle)."""
        wait_until(lambda: len(self.drain()) >= n, timeout)
        time.sleep(0.3)
        return self.drain()

    def bodies(self) -> list[str]:
        return [m["Body"] for m in self.drain()]


@pytest.fixture
def sched_server(server_factory):
    return server_factory(config=clock_config())


@pytest.fixture
def clients(sched_server):
    url = sched_server.url
    return client("scheduler", url), client("sqs", url), client("events", url)


def test_rate_schedule_fires_every_minute_into_a_queue(sched_server, clients):
    scheduler, sqs, _ = clients
    q = Queue(sqs, "ticks")
    arn = scheduler.create_schedule(
        Name="every-minute", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF,
        Target={"Arn": q.arn, "RoleArn": ROLE, "Input": json.dumps({"Payload": "This is a test."})},
    )["ScheduleArn"]
    assert arn == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/every-minute"
    # A rate schedule without StartDate starts invoking at once.
    assert len(q.wait_count(1)) == 1
    # Not again until a minute has passed on the server's clock.
    move(sched_server.url, advance_ms=59_000)
    assert len(q.wait_count(1, timeout=1)) == 1
    move(sched_server.url, advance_ms=1_000)
    assert len(q.wait_count(2)) == 2
    move(sched_server.url, advance_ms=120_000)
    assert [m["Body"] for m in q.wait_count(4)] == [json.dumps({"Payload": "This is a test."})] * 4
    got = scheduler.get_schedule(Name="every-minute")
    assert got["Arn"] == arn
    assert got["State"] == "ENABLED"
    assert got["ScheduleExpression"] == "rate(1 minute)"
    assert got["ScheduleExpressionTimezone"] == "UTC"
    assert got["FlexibleTimeWindow"] == OFF
    assert got["Target"]["Arn"] == q.arn and got["Target"]["RoleArn"] == ROLE
    assert got["CreationDate"] == T0
    # Disabled: nothing fires; enabled again: fires from then on.
    scheduler.update_schedule(Name="every-minute", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF,
                              State="DISABLED", Target={"Arn": q.arn, "RoleArn": ROLE, "Input": "{}"})
    move(sched_server.url, advance_ms=300_000)
    assert len(q.wait_count(4, timeout=1)) == 4
    assert scheduler.get_schedule(Name="every-minute")["State"] == "DISABLED"
    scheduler.delete_schedule(Name="every-minute")
    with pytest.raises(ClientError) as e:
        scheduler.get_schedule(Name="every-minute")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == "Schedule every-minute does not exist."
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_at_schedule_fires_once_and_deletes_itself(sched_server, clients):
    scheduler, sqs, _ = clients
    q = Queue(sqs, "once")
    for name, action in [("kept", "NONE"), ("gone", "DELETE")]:
        scheduler.create_schedule(
            Name=name, ScheduleExpression="at(2024-05-01T14:30:00)", ScheduleExpressionTimezone="Europe/Berlin",
            FlexibleTimeWindow=OFF, ActionAfterCompletion=action,
            Target={"Arn": q.arn, "RoleArn": ROLE,
                    "Input": json.dumps({"name": name, "at": "<aws.scheduler.scheduled-time>"})},
        )
    # 14:30 in Berlin (CEST, UTC+2) is 12:30 UTC.
    move(sched_server.url, advance_ms=29 * 60_000 + 59_000)
    assert q.wait_count(0, timeout=1) == []
    move(sched_server.url, advance_ms=1_000)
    bodies = sorted(json.loads(m["Body"])["name"] for m in q.wait_count(2))
    assert bodies == ["gone", "kept"]
    assert all(json.loads(b)["at"] == "2024-05-01T12:30:00Z" for b in q.bodies())
    # The DELETE one is gone; the other stays.
    def deleted():
        try:
            scheduler.get_schedule(Name="gone")
            return False
        except ClientError as e:
            return e.response["Error"]["Code"] == "ResourceNotFoundException"
    assert wait_until(deleted)
    assert scheduler.get_schedule(Name="kept")["ActionAfterCompletion"] == "NONE"
    move(sched_server.url, advance_ms=24 * 3600_000)
    assert len(q.wait_count(2, timeout=1)) == 2


def test_rule_schedule_delivers_a_scheduled_event(sched_server, clients):
    _, sqs, events = clients
    q = Queue(sqs, "rule-ticks")
    rule_arn = events.put_rule(Name="five", ScheduleExpression="rate(5 minutes)")["RuleArn"]
    events.put_targets(Rule="five", Targets=[{"Id": "q", "Arn": q.arn}])
    move(sched_server.url, advance_ms=4 * 60_000)
    assert q.wait_count(0, timeout=1) == []
    move(sched_server.url, advance_ms=60_000)
    [m] = q.wait_count(1)
    event = json.loads(m["Body"])
    assert event["source"] == "aws.events"
    assert event["detail-type"] == "Scheduled Event"
    assert event["resources"] == [rule_arn]
    assert event["time"] == "2024-05-01T12:05:00Z"
    assert event["account"] == ACCOUNT and event["region"] == REGION
    assert event["detail"] == {}
    # A schedule on another bus is refused, as the service refuses it.
    events.create_event_bus(Name="other")
    with pytest.raises(ClientError) as e:
        events.put_rule(Name="x", EventBusName="other", ScheduleExpression="rate(5 minutes)")
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_retries_to_a_failing_endpoint_end_in_the_dead_letter_queue(sched_server, clients, http_sink):
    scheduler, sqs, _ = clients
    sink = http_sink(status=500)
    dlq = Queue(sqs, "dead")
    arn = scheduler.create_schedule(
        Name="to-broken-hook", ScheduleExpression="at(2024-05-01T12:01:00)", FlexibleTimeWindow=OFF,
        Target={"Arn": sink.url + "/hook", "RoleArn": ROLE, "Input": '{"job": 7}',
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
                "DeadLetterConfig": {"Arn": dlq.arn}},
    )["ScheduleArn"]
    move(sched_server.url, advance_ms=60_000)
    assert sink.wait_for(lambda rs: len(rs) >= 1, timeout=10)
    # Retries come due on the server's clock (backoff of seconds).
    for _ in range(10):
        move(sched_server.url, advance_ms=60_000)
        if sink.wait_for(lambda rs: len(rs) >= 3, timeout=0.5):
            break
    assert sink.wait_for(lambda rs: len(rs) == 3, timeout=5)
    assert [r["body"] for r in sink.requests] == ['{"job": 7}'] * 3
    [dead] = dlq.wait_count(1)
    assert dead["Body"] == '{"job": 7}'
    attrs = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
    assert attrs["TARGET_ARN"] == sink.url + "/hook"
    assert attrs["RULE_ARN"] == arn
    assert attrs["RETRY_ATTEMPTS"] == "2"
    assert attrs["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attrs["ERROR_CODE"]


def test_event_bus_and_universal_targets(sched_server, clients):
    scheduler, sqs, events = clients
    q = Queue(sqs, "from-bus")
    events.put_rule(Name="scheduled", EventPattern=json.dumps({"source": ["my.scheduler"]}))
    events.put_targets(Rule="scheduled", Targets=[{"Id": "q", "Arn": q.arn}])
    bus_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    sched_arn = scheduler.create_schedule(
        Name="to-bus", ScheduleExpression="at(2024-05-01T12:10:00)", FlexibleTimeWindow=OFF,
        Target={"Arn": bus_arn, "RoleArn": ROLE, "Input": json.dumps({"n": 1}),
                "EventBridgeParameters": {"DetailType": "Tick", "Source": "my.scheduler"}},
    )["ScheduleArn"]
    other = Queue(sqs, "universal")
    scheduler.create_schedule(
        Name="universal-sqs", ScheduleExpression="at(2024-05-01T12:10:00)", FlexibleTimeWindow=OFF,
        Target={"Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage", "RoleArn": ROLE,
                "Input": json.dumps({"QueueUrl": other.url, "MessageBody": "via the SDK"})},
    )
    scheduler.create_schedule(
        Name="universal-events", ScheduleExpression="at(2024-05-01T12:10:00)", FlexibleTimeWindow=OFF,
        Target={"Arn": "arn:aws:scheduler:::aws-sdk:eventbridge:putEvents", "RoleArn": ROLE,
                "Input": json.dumps({"Entries": [{"Source": "my.scheduler", "DetailType": "Sdk",
                                                  "Detail": json.dumps({"n": 2})}]})},
    )
    move(sched_server.url, advance_ms=10 * 60_000)
    got = sorted((json.loads(m["Body"]) for m in q.wait_count(2)), key=lambda e: e["detail"]["n"])
    assert [e["detail-type"] for e in got] == ["Tick", "Sdk"]
    assert got[0]["source"] == "my.scheduler" and got[0]["detail"] == {"n": 1}
    assert got[0]["resources"] == [sched_arn]
    assert got[0]["time"] == "2024-05-01T12:10:00Z"
    assert [m["Body"] for m in other.wait_count(1)] == ["via the SDK"]


def test_universal_targets_run_any_served_operation(sched_server, clients):
    """Universal targets beyond the three templated ones run the operation in
    process with the Input as the SDK's request: an SQS CreateQueue, an
    EventBridge PutRule, a Step Functions StartExecution with PascalCase members."""
    scheduler, sqs, events = clients
    sfn = client("stepfunctions", sched_server.url)
    machine = sfn.create_state_machine(name="tick", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    at = "at(2024-05-01T12:05:00)"
    for name, arn, request in [
        ("make-queue", "arn:aws:scheduler:::aws-sdk:sqs:createQueue", {"QueueName": "made-by-a-schedule"}),
        ("make-rule", "arn:aws:scheduler:::aws-sdk:eventbridge:putRule",
         {"Name": "made-by-a-schedule", "EventPattern": json.dumps({"source": ["x"]})}),
        ("start-machine", "arn:aws:scheduler:::aws-sdk:sfn:startExecution",
         {"StateMachineArn": machine, "Name": "from-a-schedule", "Input": json.dumps({"Keep": "Case"})}),
    ]:
        scheduler.create_schedule(Name=name, ScheduleExpression=at, FlexibleTimeWindow=OFF,
                                  Target={"Arn": arn, "RoleArn": ROLE, "Input": json.dumps(request)})
    with pytest.raises(ClientError) as e:
        scheduler.create_schedule(Name="bad", ScheduleExpression=at, FlexibleTimeWindow=OFF,
                                  Target={"Arn": "arn:aws:scheduler:::aws-sdk:lambda:invoke", "RoleArn": ROLE,
                                          "Input": "{}"})
    assert e.value.response["Error"]["Code"] == "ValidationException"
    move(sched_server.url, advance_ms=5 * 60_000)
    assert wait_until(lambda: any(u.endswith("/made-by-a-schedule") for u in sqs.list_queues().get("QueueUrls", [])))
    assert wait_until(lambda: [r["Name"] for r in events.list_rules(NamePrefix="made-by")["Rules"]])
    runs = wait_until(lambda: sfn.list_executions(stateMachineArn=machine, statusFilter="SUCCEEDED")["executions"])
    assert [r["name"] for r in runs] == ["from-a-schedule"]
    d = sfn.describe_execution(executionArn=runs[0]["executionArn"])
    assert json.loads(d["input"]) == {"Keep": "Case"}


def test_restart_delivers_recent_fires_once_and_misses_old_ones(server_factory, workdir):
    data_dir = workdir / "data"
    first = server_factory(data_dir=data_dir, config=clock_config())
    scheduler, sqs = client("scheduler", first.url), client("sqs", first.url)
    q = Queue(sqs, "durable")
    scheduler.create_schedule(
        Name="minutely", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF,
        Target={"Arn": q.arn, "RoleArn": ROLE, "Input": '{"t": "<aws.scheduler.scheduled-time>"}',
                "RetryPolicy": {"MaximumEventAgeInSeconds": 300, "MaximumRetryAttempts": 3}},
    )
    q.wait_count(1)
    move(first.url, advance_ms=60_000)
    q.wait_count(2)
    move(first.url, advance_ms=60_000)
    q.wait_count(3)
    first.stop()
    # Down until 12:12: the runs of 12:03-12:06 are older than 300 s (missed),
    # those of 12:07-12:12 are delivered, each once.
    second = server_factory(data_dir=data_dir, port=first.port, config=clock_config(T0_MS + 12 * 60_000))
    sqs = client("sqs", second.url)
    q.sqs = sqs
    times = [json.loads(m["Body"])["t"] for m in q.wait_count(9)]
    expected = [f"2024-05-01T12:{m:02d}:00Z" for m in [0, 1, 2, 7, 8, 9, 10, 11, 12]]
    assert sorted(times) == expected, second.log()
    assert "missed" in second.log()
    # And it goes on.
    move(second.url, advance_ms=60_000)
    assert len(q.wait_count(10)) == 10
    # Another restart at the same instant fires nothing again.
    second.stop()
    third = server_factory(data_dir=data_dir, port=first.port, config=clock_config(T0_MS + 13 * 60_000))
    q.sqs = client("sqs", third.url)
    assert len(q.wait_count(10, timeout=1.5)) == 10


def test_validation_and_errors_as_the_service_answers(sched_server, clients):
    scheduler, sqs, _ = clients
    q = Queue(sqs, "v")
    target = {"Arn": q.arn, "RoleArn": ROLE}

    def error(**kw):
        with pytest.raises(ClientError) as e:
            scheduler.create_schedule(**{"Name": "s", "FlexibleTimeWindow": OFF, "Target": target,
                                         "ScheduleExpression": "rate(1 minute)", **kw})
        err = e.value.response["Error"]
        return err["Code"], err["Message"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]

    assert error(ScheduleExpression="cron(* * * * * *)") == (
        "ValidationException", "Invalid Schedule Expression cron(* * * * * *).", 400)
    assert error(ScheduleExpression="rate(0 minutes)")[1] == "Invalid Schedule Expression rate(0 minutes)."
    assert error(ScheduleExpression="at(2024-05-01T12:00:00Z)")[0] == "ValidationException"
    code, message, _ = error(Target={"Arn": q.arn, "RoleArn": "not-a-role"})
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value 'not-a-role' at 'target.roleArn'")
    code, message, _ = error(FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441})
    assert "Member must have value less than or equal to 1440" in message
    assert error(ScheduleExpressionTimezone="Mars/Olympus")[1] == "Invalid time zone Mars/Olympus."
    code, message, _ = error(Target={**target, "RetryPolicy": {"MaximumRetryAttempts": 186}})
    assert "target.retryPolicy.maximumRetryAttempts" in message
    # Targets ferrule cannot deliver to, and state machines until the states runner exists.
    code, message, _ = error(Target={"Arn": "arn:aws:scheduler:::aws-sdk:s3:putObject", "RoleArn": ROLE,
                                     "Input": "{}"})
    assert code == "ValidationException" and "sqs, eventbridge and sfn" in message
    code, message, _ = error(Target={"Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f", "RoleArn": ROLE})
    assert code == "ValidationException"
    # The states runner judges `states` ARNs: an activity is not a StartExecution target.
    activity = f"arn:aws:states:{REGION}:{ACCOUNT}:activity:a"
    code, message, _ = error(Target={"Arn": activity, "RoleArn": ROLE})
    assert code == "ValidationException" and activity in message
    assert error(GroupName="nope") == ("ResourceNotFoundException", "Schedule group nope does not exist.", 404)
    scheduler.create_schedule(Name="s", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF, Target=target)
    assert error() == ("ConflictException", "Schedule s already exists.", 409)
    with pytest.raises(ClientError) as e:
        scheduler.update_schedule(Name="missing", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF,
                                  Target=target)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        scheduler.delete_schedule(Name="missing")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_groups_tags_and_listing(sched_server, clients):
    scheduler, sqs, _ = clients
    q = Queue(sqs, "l")
    target = {"Arn": q.arn, "RoleArn": ROLE}
    group_arn = scheduler.create_schedule_group(Name="team", Tags=[{"Key": "owner", "Value": "me"}])[
        "ScheduleGroupArn"]
    assert group_arn == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/team"
    with pytest.raises(ClientError) as e:
        scheduler.create_schedule_group(Name="team")
    assert e.value.response["Error"]["Code"] == "ConflictException"
    g = scheduler.get_schedule_group(Name="team")
    assert (g["Name"], g["State"], g["Arn"]) == ("team", "ACTIVE", group_arn)
    assert sorted(x["Name"] for x in scheduler.list_schedule_groups()["ScheduleGroups"]) == ["default", "team"]
    assert scheduler.list_tags_for_resource(ResourceArn=group_arn)["Tags"] == [{"Key": "owner", "Value": "me"}]
    scheduler.tag_resource(ResourceArn=group_arn, Tags=[{"Key": "env", "Value": "test"}])
    scheduler.untag_resource(ResourceArn=group_arn, TagKeys=["owner"])
    assert scheduler.list_tags_for_resource(ResourceArn=group_arn)["Tags"] == [{"Key": "env", "Value": "test"}]
    for i in range(5):
        scheduler.create_schedule(Name=f"job-{i}", GroupName="team", ScheduleExpression="rate(1 hour)",
                                  FlexibleTimeWindow=OFF, Target=target, State="DISABLED" if i == 4 else "ENABLED")
    scheduler.create_schedule(Name="other", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF,
                              Target=target)
    names = []
    token = None
    pages = 0
    while True:
        kw = {"GroupName": "team", "MaxResults": 2, **({"NextToken": token} if token else {})}
        page = scheduler.list_schedules(**kw)
        pages += 1
        names += [s["Name"] for s in page["Schedules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == [f"job-{i}" for i in range(5)] and pages == 3
    page = scheduler.list_schedules(NamePrefix="job", State="DISABLED")["Schedules"]
    assert [(s["Name"], s["GroupName"], s["State"], s["Target"]["Arn"]) for s in page] == [
        ("job-4", "team", "DISABLED", q.arn)]
    assert [s["Name"] for s in scheduler.list_schedules(GroupName="default")["Schedules"]] == ["other"]
    with pytest.raises(ClientError) as e:
        scheduler.list_schedules(GroupName="nope")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # Deleting a group deletes its schedules.
    scheduler.delete_schedule_group(Name="team")
    with pytest.raises(ClientError) as e:
        scheduler.get_schedule(Name="job-0", GroupName="team")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert [s["Name"] for s in scheduler.list_schedules()["Schedules"]] == ["other"]
    with pytest.raises(ClientError) as e:
        scheduler.delete_schedule_group(Name="default")
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_the_clock_cannot_be_moved_on_the_system_clock(server):
    req = urllib.request.Request(server.url + "/_ferrule/clock", data=b'{"advance_ms": 1000}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 400
    assert json.loads(e.value.read())["__type"] == "ValidationException"
    with urllib.request.urlopen(server.url + "/_ferrule/clock", timeout=5) as r:
        body = json.loads(r.read())
    assert body["clock"] == "system"
    assert abs(body["now_ms"] - time.time() * 1000) < 60_000


def test_flexible_window_spreads_within_the_window(sched_server, clients):
    scheduler, sqs, _ = clients
    q = Queue(sqs, "flex")
    scheduler.create_schedule(
        Name="flex", ScheduleExpression="at(2024-05-01T13:00:00)",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Target={"Arn": q.arn, "RoleArn": ROLE, "Input": "{}"},
    )
    move(sched_server.url, set_ms=T0_MS + 3600_000 - 1)
    assert q.wait_count(0, timeout=0.5) == []
    # Somewhere in [13:00, 13:15): step through it a minute at a time.
    fired_at = None
    for minute in range(16):
        now = move(sched_server.url, set_ms=T0_MS + 3600_000 + minute * 60_000)["now_ms"]
        if q.wait_count(1, timeout=0.5):
            fired_at = now
            break
    assert fired_at is not None and fired_at <= T0_MS + 3600_000 + 15 * 60_000
    assert len(q.wait_count(1, timeout=0.5)) == 1


def test_timestamps_round_trip(sched_server, clients):
    scheduler, sqs, _ = clients
    q = Queue(sqs, "dates")
    start = T0 + timedelta(hours=1)
    end = T0 + timedelta(days=1)
    scheduler.create_schedule(Name="dated", ScheduleExpression="cron(0 * * * ? *)", FlexibleTimeWindow=OFF,
                              StartDate=start, EndDate=end, Description="hourly",
                              Target={"Arn": q.arn, "RoleArn": ROLE, "Input": "{}"})
    got = scheduler.get_schedule(Name="dated")
    assert (got["StartDate"], got["EndDate"], got["Description"]) == (start, end, "hourly")
    move(sched_server.url, advance_ms=3 * 3600_000)
    # 13:00, 14:00, 15:00 (12:00 is before the start).
    assert len(q.wait_count(3)) == 3
    with pytest.raises(ClientError) as e:
        scheduler.create_schedule(Name="ended", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF,
                                  EndDate=T0, Target={"Arn": q.arn, "RoleArn": ROLE})
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_the_founding_documents_schedule_starts_the_hello_world_machine(sched_server, clients):
    """'Schedule a Serverless Workflow with AWS Step Functions and Amazon EventBridge
    Scheduler': the Hello World Pass machine (ResultPath $.taskresult), started every minute by
    a rate(1 minute) schedule with the flexible window off and input {"Payload": "This is a
    test."}; each execution's output checked with DescribeExecution."""
    scheduler, _, _ = clients
    sfn = client("stepfunctions", sched_server.url)
    definition = {
        "Comment": "A Hello World example of the Amazon States Language using Pass states",
        "StartAt": "Hello",
        "States": {
            "Hello": {"Type": "Pass", "Result": "Hello", "ResultPath": "$.taskresult", "Next": "World"},
            "World": {"Type": "Pass", "Result": "World", "ResultPath": "$.taskresult", "End": True},
        },
    }
    machine = sfn.create_state_machine(
        name="ScheduledWorkflow", definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/step_functions_basic_execution")["stateMachineArn"]
    scheduler.create_schedule(
        Name="ExecuteStateMachine", Description="Execute state machine every minute",
        ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": machine, "RoleArn": ROLE, "Input": json.dumps({"Payload": "This is a test."})},
    )

    def executions(n):
        runs = sfn.list_executions(stateMachineArn=machine)["executions"]
        return runs if len(runs) >= n and all(r["status"] != "RUNNING" for r in runs) else None

    # One at once (no StartDate), then one per minute of the server's clock.
    assert wait_until(lambda: executions(1)), sfn.list_executions(stateMachineArn=machine)
    move(sched_server.url, advance_ms=60_000)
    runs = wait_until(lambda: executions(2))
    assert runs and len(runs) == 2, runs
    for run in runs:
        d = sfn.describe_execution(executionArn=run["executionArn"])
        assert d["status"] == "SUCCEEDED", d
        assert json.loads(d["input"]) == {"Payload": "This is a test."}
        assert json.loads(d["output"]) == {"Payload": "This is a test.", "taskresult": "World"}
    # Not again within the minute.
    move(sched_server.url, advance_ms=30_000)
    time.sleep(0.5)
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 2


def test_signed_requests_with_encoded_paths(server_factory):
    """With credentials configured, boto3's SigV4 signatures (scope `scheduler`, the tag
    operations' percent-encoded ARN in the path) verify; a wrong secret is refused."""
    server = server_factory(config={"credentials": [{"access_key_id": "test", "secret_access_key": "test"}]})
    scheduler = client("scheduler", server.url)
    arn = scheduler.create_schedule_group(Name="signed")["ScheduleGroupArn"]
    scheduler.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["k"])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == []
    import boto3
    bad = boto3.client("scheduler", endpoint_url=server.url, region_name=REGION,
                       aws_access_key_id="test", aws_secret_access_key="wrong")
    with pytest.raises(ClientError) as e:
        bad.get_schedule_group(Name="signed")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)
    assert e.value.response["Error"]["Code"] in ("InvalidSignatureException", "SignatureDoesNotMatch")
