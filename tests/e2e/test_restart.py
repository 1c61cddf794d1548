"""Durability across a restart: rules, targets and undelivered events stored
by one `ferrule serve` are there for the next one on the same data dir."""

from __future__ import annotations

import json
import time

from conftest import HttpSink, client, free_port


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def test_undelivered_events_survive_restart(server_factory, workdir):
    data_dir = workdir / "data"
    hook_port = free_port()  # nothing listens here until after the restart
    hook_url = f"http://127.0.0.1:{hook_port}/down"

    first = server_factory(data_dir=data_dir)
    events = client("events", first.url)
    events.create_event_bus(Name="durable")
    pattern = {"source": ["restart-test"]}
    rule_arn = events.put_rule(Name="to-down-hook", EventBusName="durable", EventPattern=json.dumps(pattern),
                               Description="survives")["RuleArn"]
    events.put_targets(Rule="to-down-hook", EventBusName="durable", Targets=[
        {"Id": "hook", "Arn": hook_url, "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 3600}},
    ])
    ids = []
    for batch in range(3):
        out = events.put_events(Entries=[
            {"Source": "restart-test", "DetailType": "Pending", "EventBusName": "durable",
             "Detail": json.dumps({"batch": batch, "n": n})} for n in range(5)])
        assert out["FailedEntryCount"] == 0
        ids += [e["EventId"] for e in out["Entries"]]
    assert len(set(ids)) == 15

    # The endpoint is down: every delivery is attempted, fails and is retried.
    def retried_all() -> bool:
        text = first.metrics()
        for line in text.splitlines():
            if line.startswith("ferrule_retries_total{") and 'rule="to-down-hook"' in line:
                return int(line.rsplit(" ", 1)[1]) >= 15
        return False
    assert wait_until(retried_all, timeout=10), first.metrics()
    assert first.health()["pending_deliveries"] == 15
    first.stop()  # SIGTERM; asserts exit status 0 within 10 s

    second = server_factory(data_dir=data_dir, port=first.port)
    events = client("events", second.url)
    rule = events.describe_rule(Name="to-down-hook", EventBusName="durable")
    assert rule["Arn"] == rule_arn
    assert json.loads(rule["EventPattern"]) == pattern
    assert rule["State"] == "ENABLED"
    assert rule["Description"] == "survives"
    targets = events.list_targets_by_rule(Rule="to-down-hook", EventBusName="durable")["Targets"]
    assert [(t["Id"], t["Arn"]) for t in targets] == [("hook", hook_url)]
    assert targets[0]["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 3600}
    assert second.health()["pending_deliveries"] == 15

    sink = HttpSink(port=hook_port)
    try:
        def delivered() -> set[str]:
            return {json.loads(b)["id"] for b in sink.bodies()}
        started = time.monotonic()
        ok = sink.wait_for(lambda rs: {json.loads(r["body"])["id"] for r in rs} >= set(ids), timeout=30)
        assert ok, f"delivered {len(delivered())} of 15 after 30 s:\n{second.log()}"
        print(f"restart: 15 pending events delivered {time.monotonic() - started:.1f}s after the endpoint came up")
        assert delivered() == set(ids)
        for body in sink.bodies():
            event = json.loads(body)
            assert event["source"] == "restart-test" and event["detail-type"] == "Pending"
        assert all(r["path"] == "/down" for r in sink.requests)
        assert wait_until(lambda: second.health()["pending_deliveries"] == 0, timeout=10)
    finally:
        sink.close()
    second.stop()


def test_queued_messages_survive_restart(server_factory, workdir):
    data_dir = workdir / "data"
    first = server_factory(data_dir=data_dir)
    events, sqs = client("events", first.url), client("sqs", first.url)
    q_url = sqs.create_queue(QueueName="kept")["QueueUrl"]
    q_arn = sqs.get_queue_attributes(QueueUrl=q_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="to-queue", EventPattern='{"source": ["kept"]}')
    events.put_targets(Rule="to-queue", Targets=[{"Id": "q", "Arn": q_arn}])
    out = events.put_events(Entries=[{"Source": "kept", "DetailType": "x", "Detail": json.dumps({"n": n})}
                                     for n in range(4)])
    ids = {e["EventId"] for e in out["Entries"]}
    assert wait_until(lambda: first.health()["pending_deliveries"] == 0, timeout=10)
    first.stop()

    second = server_factory(data_dir=data_dir, port=first.port)
    sqs = client("sqs", second.url)
    assert sqs.get_queue_url(QueueName="kept")["QueueUrl"].endswith("/kept")
    got = []
    deadline = time.monotonic() + 15
    while len(got) < 4 and time.monotonic() < deadline:
        got += sqs.receive_message(QueueUrl=q_url, WaitTimeSeconds=5, MaxNumberOfMessages=10).get("Messages", [])
    assert {json.loads(m["Body"])["id"] for m in got} == ids
    second.stop()
