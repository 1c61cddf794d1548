"""Archives and replays against a real `ferrule serve`, with boto3 unchanged:
every archive and replay operation, the service's errors and exception
classes, the archives-per-account limit, retention on a driven clock,
replays to the named rule only, in time order, with `replay-name` (read
back from the target queue), cancellation, and a replay that survives the
server being killed in the middle."""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, client

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
T0_MS = int(T0.timestamp() * 1000)
DAY_MS = 86_400_000
BUS_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"


def archive_arn(name: str) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:archive/{name}"


def move(url: str, advance_ms: int) -> None:
    import urllib.request
    req = urllib.request.Request(url + "/_ferrule/clock", data=json.dumps({"advance_ms": advance_ms}).encode(),
                                 method="POST", headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        r.read()


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def queue(sqs, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def rule_to_queue(events, sqs, name: str, pattern: dict) -> tuple[str, str]:
    url, arn = queue(sqs, name)
    rule_arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    return url, rule_arn


def drain(sqs, url: str) -> list[dict]:
    out = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not msgs:
            return out
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            out.append(json.loads(m["Body"]))


def collect(sqs, url: str, n: int, timeout: float = 20.0) -> list[dict]:
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got += drain(sqs, url)
        time.sleep(0.05)
    time.sleep(0.3)
    return got + drain(sqs, url)


def put(events, source: str, n: int, when: datetime | None = None, detail: dict | None = None):
    for i in range(0, n, 10):
        entries = []
        for j in range(i, min(n, i + 10)):
            e = {"Source": source, "DetailType": "T", "Detail": json.dumps(detail or {"n": j})}
            if when is not None:
                e["Time"] = when
            entries.append(e)
        out = events.put_events(Entries=entries)
        assert out["FailedEntryCount"] == 0, out


@pytest.fixture
def clocked(server_factory):
    server = server_factory(config={"clock": f"manual:{T0_MS}"})
    return server, client("events", server.url), client("sqs", server.url)


def test_archive_operations_and_their_errors(events, sqs):
    created = events.create_archive(ArchiveName="orders", EventSourceArn=BUS_ARN, Description="all orders",
                                    EventPattern=json.dumps({"source": ["shop"]}), RetentionDays=7)
    assert created["ArchiveArn"] == archive_arn("orders")
    assert created["State"] == "ENABLED"
    assert isinstance(created["CreationTime"], datetime)
    events.create_archive(ArchiveName="everything", EventSourceArn=BUS_ARN)

    d = events.describe_archive(ArchiveName="orders")
    assert (d["ArchiveName"], d["EventSourceArn"], d["Description"], d["RetentionDays"], d["State"]) == \
        ("orders", BUS_ARN, "all orders", 7, "ENABLED")
    assert json.loads(d["EventPattern"]) == {"source": ["shop"]}
    assert (d["EventCount"], d["SizeBytes"]) == (0, 0)

    put(events, "shop", 3)
    put(events, "elsewhere", 2)
    assert events.describe_archive(ArchiveName="orders")["EventCount"] == 3
    everything = events.describe_archive(ArchiveName="everything")
    assert everything["EventCount"] == 5
    assert everything["SizeBytes"] > 5 * 100

    # The archive is a managed rule of the bus, shown by ListRules.
    rules = {r["Name"]: r for r in events.list_rules()["Rules"]}
    managed = rules["Events-Archive-orders"]
    assert managed["ManagedBy"]
    pattern = json.loads(managed["EventPattern"])
    assert pattern == {"source": ["shop"], "replay-name": [{"exists": False}]}
    with pytest.raises(ClientError) as e:
        events.put_rule(Name="Events-Archive-orders", EventPattern=json.dumps({"source": ["x"]}))
    assert e.value.response["Error"]["Code"] == "ManagedRuleException"
    with pytest.raises(ClientError) as e:
        events.delete_rule(Name="Events-Archive-orders")
    assert e.value.response["Error"]["Code"] == "ManagedRuleException"

    updated = events.update_archive(ArchiveName="orders", Description="changed", RetentionDays=0,
                                    EventPattern=json.dumps({"source": ["shop", "store"]}))
    assert updated["ArchiveArn"] == archive_arn("orders")
    d = events.describe_archive(ArchiveName="orders")
    assert (d["Description"], d["RetentionDays"]) == ("changed", 0)
    put(events, "store", 1)
    assert events.describe_archive(ArchiveName="orders")["EventCount"] == 4

    listed = events.list_archives()["Archives"]
    assert [a["ArchiveName"] for a in listed] == ["everything", "orders"]
    assert events.list_archives(NamePrefix="ord")["Archives"][0]["EventCount"] == 4
    assert len(events.list_archives(EventSourceArn=BUS_ARN)["Archives"]) == 2
    assert len(events.list_archives(State="ENABLED")["Archives"]) == 2
    page = events.list_archives(Limit=1)
    assert len(page["Archives"]) == 1 and "NextToken" in page
    rest = events.list_archives(Limit=1, NextToken=page["NextToken"])
    assert rest["Archives"][0]["ArchiveName"] == "orders" and "NextToken" not in rest

    cases = [
        (lambda: events.create_archive(ArchiveName="orders", EventSourceArn=BUS_ARN),
         ("ResourceAlreadyExistsException", "Archive orders already exists.")),
        (lambda: events.create_archive(ArchiveName="x", EventSourceArn=BUS_ARN.replace("default", "nope")),
         ("ResourceNotFoundException", "Event bus nope does not exist.")),
        (lambda: events.describe_archive(ArchiveName="nope"),
         ("ResourceNotFoundException", "Archive nope does not exist.")),
        (lambda: events.update_archive(ArchiveName="nope", Description="d"),
         ("ResourceNotFoundException", "Archive nope does not exist.")),
        (lambda: events.delete_archive(ArchiveName="nope"),
         ("ResourceNotFoundException", "Archive nope does not exist.")),
        (lambda: events.list_archives(NamePrefix="o", State="ENABLED"),
         ("ValidationException",
          "At most one filter is allowed for ListArchives. Use either : State, EventSourceArn, or NamePrefix.")),
    ]
    for call, expected in cases:
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == expected
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName="bad", EventSourceArn=BUS_ARN, EventPattern='{"source": "shop"}')
    assert e.value.response["Error"]["Code"] == "InvalidEventPatternException"
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName="a" * 49, EventSourceArn=BUS_ARN)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must have length less than or equal to 48" in e.value.response["Error"]["Message"]

    # A bus is not deleted while an archive's rule is on it.
    bus = events.create_event_bus(Name="side")["EventBusArn"]
    events.create_archive(ArchiveName="side", EventSourceArn=bus)
    with pytest.raises(ClientError) as e:
        events.delete_event_bus(Name="side")
    assert error(e) == ("ValidationException", "EventBus can't be deleted since it has rules.")
    events.delete_archive(ArchiveName="side")
    assert events.list_rules(EventBusName="side")["Rules"] == []
    events.delete_event_bus(Name="side")

    events.delete_archive(ArchiveName="orders")
    assert "Events-Archive-orders" not in {r["Name"] for r in events.list_rules()["Rules"]}
    assert [a["ArchiveName"] for a in events.list_archives()["Archives"]] == ["everything"]


def test_archives_per_account_are_limited(events):
    for i in range(200):
        events.create_archive(ArchiveName=f"a{i:03}", EventSourceArn=BUS_ARN)
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName="one-too-many", EventSourceArn=BUS_ARN)
    assert e.value.response["Error"]["Code"] == "LimitExceededException"
    events.delete_archive(ArchiveName="a000")
    events.create_archive(ArchiveName="one-more", EventSourceArn=BUS_ARN)


def test_retention_expires_events_by_the_clock(clocked):
    server, events, _ = clocked
    events.create_archive(ArchiveName="week", EventSourceArn=BUS_ARN, RetentionDays=1)
    events.create_archive(ArchiveName="forever", EventSourceArn=BUS_ARN)
    put(events, "shop", 4)
    move(server.url, DAY_MS // 2)
    put(events, "shop", 2)
    assert events.describe_archive(ArchiveName="week")["EventCount"] == 6
    move(server.url, DAY_MS // 2 + 1)
    # A day and a millisecond after the first four: they expired.
    assert events.describe_archive(ArchiveName="week")["EventCount"] == 2
    move(server.url, DAY_MS)
    assert events.describe_archive(ArchiveName="week")["EventCount"] == 0
    assert events.list_archives(NamePrefix="forever")["Archives"][0]["EventCount"] == 6


def test_replay_goes_to_the_named_rule_in_time_order(clocked):
    server, events, sqs = clocked
    named_url, named_arn = rule_to_queue(events, sqs, "named", {"source": ["shop"]})
    other_url, _ = rule_to_queue(events, sqs, "other", {"source": ["shop"]})
    events.create_archive(ArchiveName="shop", EventSourceArn=BUS_ARN, EventPattern=json.dumps({"source": ["shop"]}))
    # Put out of time order; one before the window, one unarchived source.
    for minutes in (3, 5, 4, 1, 2):
        put(events, "shop", 1, T0 - timedelta(minutes=minutes), {"minute": -minutes})
    put(events, "shop", 1, T0 - timedelta(hours=2), {"minute": -120})
    put(events, "elsewhere", 1, T0 - timedelta(minutes=2))
    live_named = collect(sqs, named_url, 6)
    live_other = collect(sqs, other_url, 6)
    assert len(live_named) == len(live_other) == 6

    started = events.start_replay(ReplayName="fix", Description="after the bug", EventSourceArn=archive_arn("shop"),
                                  EventStartTime=T0 - timedelta(minutes=10), EventEndTime=T0,
                                  Destination={"Arn": BUS_ARN, "FilterArns": [named_arn]})
    assert started["State"] == "STARTING"
    assert started["ReplayArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:replay/fix"
    done = wait_until(lambda: events.describe_replay(ReplayName="fix")["State"] == "COMPLETED")
    assert done
    d = events.describe_replay(ReplayName="fix")
    assert d["EventSourceArn"] == archive_arn("shop")
    assert d["Destination"] == {"Arn": BUS_ARN, "FilterArns": [named_arn]}
    assert d["EventLastReplayedTime"] == T0 - timedelta(minutes=1)
    assert d["Description"] == "after the bug"
    assert d["ReplayStartTime"] <= d["ReplayEndTime"]

    replayed = collect(sqs, named_url, 5)
    assert [b["detail"]["minute"] for b in replayed] == [-5, -4, -3, -2, -1]
    assert all(b["replay-name"] == "fix" for b in replayed)
    by_id = {b["id"]: b for b in live_named}
    for b in replayed:
        original = by_id[b["id"]]
        assert {k: v for k, v in b.items() if k != "replay-name"} == original
    assert drain(sqs, other_url) == [], "the replay went to the named rule only"
    # Replayed events are not archived again.
    assert events.describe_archive(ArchiveName="shop")["EventCount"] == 6

    listed = events.list_replays()["Replays"]
    assert [(r["ReplayName"], r["State"]) for r in listed] == [("fix", "COMPLETED")]
    assert events.list_replays(State="RUNNING")["Replays"] == []
    assert len(events.list_replays(EventSourceArn=archive_arn("shop"))["Replays"]) == 1

    def start(name="again", source=archive_arn("shop"), start_time=T0 - timedelta(minutes=10), end_time=T0,
              destination=None):
        return events.start_replay(ReplayName=name, EventSourceArn=source, EventStartTime=start_time,
                                   EventEndTime=end_time, Destination=destination or {"Arn": BUS_ARN})

    side = events.create_event_bus(Name="side")["EventBusArn"]
    cases = [
        (lambda: start(name="fix"), ("ResourceAlreadyExistsException", "Replay fix already exists.")),
        (lambda: start(start_time=T0, end_time=T0 - timedelta(minutes=1)),
         ("ValidationException",
          "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.")),
        (lambda: start(source=archive_arn("nope")),
         ("ValidationException", "Parameter EventSourceArn is not valid. Reason: Archive nope does not exist.")),
        (lambda: start(destination={"Arn": side}),
         ("ValidationException",
          "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.")),
        (lambda: start(destination={"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}),
         ("ValidationException", "Parameter Destination.Arn is not valid. Reason: Must contain an event bus ARN.")),
        (lambda: events.describe_replay(ReplayName="nope"),
         ("ResourceNotFoundException", "Replay nope does not exist.")),
        (lambda: events.cancel_replay(ReplayName="fix"),
         ("IllegalStatusException", "Replay fix is not in a valid state for this operation.")),
        (lambda: events.list_replays(NamePrefix="f", State="COMPLETED"),
         ("ValidationException",
          "At most one filter is allowed for ListReplays. Use either : State, EventSourceArn, or NamePrefix.")),
    ]
    for call, expected in cases:
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == expected
    with pytest.raises(ClientError) as e:
        start(end_time=T0 + timedelta(minutes=1))
    code, message = error(e)
    assert code == "ValidationException" and message.startswith("Parameter EventEndTime is not valid.")
    with pytest.raises(ClientError) as e:
        start(destination={"Arn": BUS_ARN, "FilterArns": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/ghost"]})
    assert error(e)[0] == "ResourceNotFoundException"


def queued(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"])


def settle_and_purge(sqs, url: str, n: int):
    """Waits for the `n` live deliveries, then empties the queue."""
    assert wait_until(lambda: queued(sqs, url) >= n, 60), queued(sqs, url)
    sqs.purge_queue(QueueUrl=url)
    assert queued(sqs, url) == 0


def put_many(events, n: int, when: datetime):
    def batch(i):
        put(events, "bulk", 10, when, {"i": i})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(batch, range(n // 10)))


def test_cancel_stops_a_replay(clocked):
    server, events, sqs = clocked
    url, _ = rule_to_queue(events, sqs, "bulk", {"source": ["bulk"]})
    events.create_archive(ArchiveName="bulk", EventSourceArn=BUS_ARN)
    put_many(events, 20_000, T0 - timedelta(hours=1))
    settle_and_purge(sqs, url, 20_000)
    events.start_replay(ReplayName="big", EventSourceArn=archive_arn("bulk"),
                        EventStartTime=T0 - timedelta(days=1), EventEndTime=T0, Destination={"Arn": BUS_ARN})
    cancelled = events.cancel_replay(ReplayName="big")
    assert cancelled["State"] == "CANCELLING"
    assert wait_until(lambda: events.describe_replay(ReplayName="big")["State"] == "CANCELLED")
    d = events.describe_replay(ReplayName="big")
    assert "ReplayEndTime" in d
    time.sleep(1.0)
    assert queued(sqs, url) < 20_000, "cancelling stopped the replay"
    with pytest.raises(ClientError) as e:
        events.cancel_replay(ReplayName="big")
    assert error(e)[0] == "IllegalStatusException"


def test_a_replay_survives_the_server_being_killed(server_factory, workdir):
    server = server_factory(config={"clock": f"manual:{T0_MS}"})
    events, sqs = client("events", server.url), client("sqs", server.url)
    url, _ = rule_to_queue(events, sqs, "bulk", {"source": ["bulk"]})
    events.create_archive(ArchiveName="bulk", EventSourceArn=BUS_ARN)
    put_many(events, 5_000, T0 - timedelta(hours=1))
    settle_and_purge(sqs, url, 5_000)
    events.start_replay(ReplayName="survivor", EventSourceArn=archive_arn("bulk"),
                        EventStartTime=T0 - timedelta(days=1), EventEndTime=T0, Destination={"Arn": BUS_ARN})
    server.stop(check=False, sig=signal.SIGKILL)

    server = server_factory(data_dir=workdir / "data", config={"clock": f"manual:{T0_MS}"})
    events, sqs = client("events", server.url), client("sqs", server.url)
    assert wait_until(lambda: events.describe_replay(ReplayName="survivor")["State"] == "COMPLETED", 60)
    ids = set()
    deadline = time.monotonic() + 60
    while len(ids) < 5_000 and time.monotonic() < deadline:
        for b in drain(sqs, url):
            assert b["replay-name"] == "survivor"
            ids.add(b["id"])
    assert len(ids) == 5_000, "every archived event replayed after the restart"
