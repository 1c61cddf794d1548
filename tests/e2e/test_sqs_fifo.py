"""FIFO queues in ferrule's built-in SQS, through boto3 and the aws CLI:
creation and its errors, message groups and deduplication ids, the 5-minute
deduplication window on the server's driven clock (`"clock": "manual:START"`,
moved with `POST /_ferrule/clock`), ordering and blocking per group, batches,
a restart, and EventBridge rules and Scheduler schedules that target a FIFO
queue with `SqsParameters`."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, aws_cli, client, receive_all

T0_MS = 1_714_564_800_000  # 2024-05-01T12:00:00Z
WINDOW_MS = 5 * 60_000


def move(url: str, advance_ms: int) -> None:
    req = urllib.request.Request(url + "/_ferrule/clock", data=json.dumps({"advance_ms": advance_ms}).encode(),
                                 method="POST", headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        r.read()


def error(e: pytest.ExceptionInfo) -> tuple[str, str]:
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def fifo_queue(sqs, name: str, **attributes: str) -> str:
    return sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true", **attributes})["QueueUrl"]


def drain(sqs, url: str, count: int, timeout: float = 15.0) -> list[dict]:
    """Receives and deletes until `count` messages came (a FIFO group gives
    out nothing more while its messages are in flight)."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MaxNumberOfMessages=10,
                                    AttributeNames=["All"]).get("Messages", [])
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        got.extend(batch)
    return got


@pytest.fixture
def clocked(server_factory):
    return server_factory(config={"clock": f"manual:{T0_MS}"})


def test_fifo_queues_are_created_with_their_attributes_and_errors(sqs):
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="orders.fifo")
    assert error(e) == ("InvalidParameterValue",
                        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
    for bad in ["orders", "a.b.fifo", "x" * 76 + ".fifo"]:
        with pytest.raises(ClientError) as e:
            sqs.create_queue(QueueName=bad, Attributes={"FifoQueue": "true"})
        assert error(e) == ("InvalidParameterValue",
                            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
                            "underscores, must end with .fifo suffix and be 1 to 80 in length."), bad
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="std", Attributes={"ContentBasedDeduplication": "true"})
    assert error(e) == ("InvalidAttributeName", "Unknown Attribute ContentBasedDeduplication.")
    with pytest.raises(ClientError) as e:
        fifo_queue(sqs, "bad.fifo", DeduplicationScope="everything")
    assert error(e)[0] == "InvalidAttributeValue"

    url = fifo_queue(sqs, "orders.fifo")
    assert url.endswith(f"/{ACCOUNT}/orders.fifo")
    assert sqs.get_queue_url(QueueName="orders.fifo")["QueueUrl"] == url
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    assert attrs["DeduplicationScope"] == "queue"
    assert attrs["FifoThroughputLimit"] == "perQueue"
    assert attrs["QueueArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders.fifo"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        "ContentBasedDeduplication": "true", "DeduplicationScope": "messageGroup",
        "FifoThroughputLimit": "perMessageGroupId"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ContentBasedDeduplication",
                                                                   "DeduplicationScope"])["Attributes"]
    assert attrs == {"ContentBasedDeduplication": "true", "DeduplicationScope": "messageGroup"}
    # Created again, it keeps what it was set to.
    assert fifo_queue(sqs, "orders.fifo") == url
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ContentBasedDeduplication"])[
        "Attributes"] == {"ContentBasedDeduplication": "true"}
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"})
    assert error(e) == ("InvalidAttributeName", "Unknown Attribute FifoQueue.")
    # A standard queue has none of them.
    std = sqs.create_queue(QueueName="std")["QueueUrl"]
    assert "FifoQueue" not in sqs.get_queue_attributes(QueueUrl=std, AttributeNames=["All"])["Attributes"]
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=std, Attributes={"DeduplicationScope": "queue"})
    assert error(e) == ("InvalidAttributeName", "Unknown Attribute DeduplicationScope.")
    assert url in sqs.list_queues()["QueueUrls"]


def test_sends_to_fifo_queues_need_a_group_and_a_deduplication_id(sqs):
    url = fifo_queue(sqs, "jobs.fifo")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert error(e) == ("MissingParameter", "The request must contain the parameter MessageGroupId.")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert error(e) == ("InvalidParameterValue", "The queue should either have ContentBasedDeduplication "
                                                 "enabled or MessageDeduplicationId provided explicitly")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d",
                         DelaySeconds=5)
    assert error(e) == ("InvalidParameterValue", "Value 5 for parameter DelaySeconds is invalid. Reason: The "
                                                 "request include parameter that is not valid for this queue type.")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="a b", MessageDeduplicationId="d")
    assert error(e)[0] == "InvalidParameterValue"
    sent = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d")
    assert len(sent["SequenceNumber"]) == 20 and sent["SequenceNumber"].isdigit()
    # Standard queues: no deduplication id; a group is accepted (fair queues), no sequence number.
    std = sqs.create_queue(QueueName="plain")["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=std, MessageBody="x", MessageDeduplicationId="d")
    assert error(e) == ("InvalidParameterValue", "Value d for parameter MessageDeduplicationId is invalid. "
                                                 "Reason: The request include parameter that is not valid for "
                                                 "this queue type.")
    plain = sqs.send_message(QueueUrl=std, MessageBody="x", MessageGroupId="tenant-1")
    assert "SequenceNumber" not in plain


def test_duplicates_within_the_window_are_accepted_and_not_enqueued(clocked):
    sqs = client("sqs", clocked.url)
    url = fifo_queue(sqs, "dedup.fifo")
    first = sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1")
    again = sqs.send_message(QueueUrl=url, MessageBody="other body", MessageGroupId="g",
                             MessageDeduplicationId="d1")
    assert again["MessageId"] == first["MessageId"]
    assert again["SequenceNumber"] == first["SequenceNumber"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in got] == ["one"]
    assert got[0]["Attributes"]["MessageDeduplicationId"] == "d1"
    assert got[0]["Attributes"]["MessageGroupId"] == "g"
    assert got[0]["Attributes"]["SequenceNumber"] == first["SequenceNumber"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    # Deleted, its id is remembered until 5 minutes after the first send.
    move(clocked.url, WINDOW_MS - 1_000)
    late = sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1")
    assert late["MessageId"] == first["MessageId"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    move(clocked.url, 1_000)
    after = sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1")
    assert after["MessageId"] != first["MessageId"]
    assert int(after["SequenceNumber"]) > int(first["SequenceNumber"])
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["one"]

    # Content-based: the SHA-256 of the body is the id; an explicit id overrides it.
    cbd = fifo_queue(sqs, "content.fifo", ContentBasedDeduplication="true")
    a = sqs.send_message(QueueUrl=cbd, MessageBody='{"n": 1}', MessageGroupId="g")
    b = sqs.send_message(QueueUrl=cbd, MessageBody='{"n": 1}', MessageGroupId="other")
    c = sqs.send_message(QueueUrl=cbd, MessageBody='{"n": 1}', MessageGroupId="g", MessageDeduplicationId="mine")
    assert a["MessageId"] == b["MessageId"] != c["MessageId"]
    got = receive_all(sqs, cbd, 2, timeout=3, AttributeNames=["All"])
    assert [m["Attributes"]["MessageDeduplicationId"] for m in got] == [
        hashlib.sha256(b'{"n": 1}').hexdigest(), "mine"]
    move(clocked.url, WINDOW_MS)
    d = sqs.send_message(QueueUrl=cbd, MessageBody='{"n": 1}', MessageGroupId="g")
    assert d["MessageId"] != a["MessageId"]

    # Scope messageGroup: the same id in another group is another message.
    scoped = fifo_queue(sqs, "scoped.fifo", DeduplicationScope="messageGroup")
    x = sqs.send_message(QueueUrl=scoped, MessageBody="x", MessageGroupId="a", MessageDeduplicationId="d")
    y = sqs.send_message(QueueUrl=scoped, MessageBody="y", MessageGroupId="b", MessageDeduplicationId="d")
    z = sqs.send_message(QueueUrl=scoped, MessageBody="z", MessageGroupId="a", MessageDeduplicationId="d")
    assert x["MessageId"] != y["MessageId"] and z["MessageId"] == x["MessageId"]


def test_groups_are_received_in_order_one_in_flight_at_a_time(sqs):
    url = fifo_queue(sqs, "groups.fifo", ContentBasedDeduplication="true")
    for body, group in [("a1", "a"), ("b1", "b"), ("a2", "a"), ("a3", "a"), ("b2", "b")]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert [m["Body"] for m in first] == ["a1"]
    # Group a is blocked while a1 is in flight; group b goes on, in order.
    b = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in b] == ["b1", "b2"]
    assert int(b[0]["Attributes"]["SequenceNumber"]) < int(b[1]["Attributes"]["SequenceNumber"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    a = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert [m["Body"] for m in a] == ["a2"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    # a2 visible again (its visibility ended): it comes back before a3.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=a[0]["ReceiptHandle"], VisibilityTimeout=0)
    back = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"],
                               ReceiveRequestAttemptId="attempt-1")["Messages"]
    assert [m["Body"] for m in back] == ["a2", "a3"]
    assert back[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_a_receive_retried_with_its_attempt_id_gets_the_same_messages(sqs):
    url = fifo_queue(sqs, "attempts.fifo", ContentBasedDeduplication="true")
    for body in ("m1", "m2", "m3"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1")["Messages"]
    assert [m["Body"] for m in first] == ["m1", "m2"]
    # The answer was "lost": the retry gets the same messages and handles,
    # though they are in flight; another attempt id gets none of the group.
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1")["Messages"]
    assert [(m["Body"], m["ReceiptHandle"]) for m in again] == [(m["Body"], m["ReceiptHandle"]) for m in first]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="try-2")
    # Once one of them is deleted, the id no longer names them: a fresh receive
    # (m2 is still in flight, so the group gives nothing).
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2,
                                                 ReceiveRequestAttemptId="try-1")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"])
    last = sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="try-1")["Messages"]
    assert [m["Body"] for m in last] == ["m3"]


def test_batch_entries_fail_alone(sqs):
    url = fifo_queue(sqs, "batch.fifo")
    r = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok", "MessageBody": "1", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},
        {"Id": "nogroup", "MessageBody": "2", "MessageDeduplicationId": "d2"},
        {"Id": "delay", "MessageBody": "3", "MessageGroupId": "g", "MessageDeduplicationId": "d3",
         "DelaySeconds": 1},
        {"Id": "nodedup", "MessageBody": "4", "MessageGroupId": "g"},
        {"Id": "dup", "MessageBody": "5", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},
        {"Id": "ok2", "MessageBody": "6", "MessageGroupId": "g", "MessageDeduplicationId": "d6"},
    ])
    ok = {e["Id"]: e for e in r["Successful"]}
    assert set(ok) == {"ok", "dup", "ok2"}
    assert ok["dup"]["MessageId"] == ok["ok"]["MessageId"]
    assert int(ok["ok2"]["SequenceNumber"]) > int(ok["ok"]["SequenceNumber"])
    failed = {e["Id"]: (e["Code"], e["SenderFault"]) for e in r["Failed"]}
    assert failed == {"nogroup": ("MissingParameter", True), "delay": ("InvalidParameterValue", True),
                      "nodedup": ("InvalidParameterValue", True)}
    got = receive_all(sqs, url, 2, timeout=3)
    assert [m["Body"] for m in got] == ["1", "6"]


def test_a_restart_keeps_the_window_and_the_group_locks(server_factory, workdir):
    data = workdir / "fifo-data"
    first = server_factory(data_dir=data, config={"clock": f"manual:{T0_MS}"})
    sqs = client("sqs", first.url)
    url = fifo_queue(sqs, "durable.fifo")
    sent = sqs.send_message(QueueUrl=url, MessageBody="1", MessageGroupId="g", MessageDeduplicationId="d1")
    sqs.send_message(QueueUrl=url, MessageBody="2", MessageGroupId="g", MessageDeduplicationId="d2")
    held = sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)["Messages"]
    assert [m["Body"] for m in held] == ["1"]
    first.stop()
    second = server_factory(data_dir=data, port=first.port, config={"clock": f"manual:{T0_MS + 60_000}"})
    sqs = client("sqs", second.url)
    again = sqs.send_message(QueueUrl=url, MessageBody="1", MessageGroupId="g", MessageDeduplicationId="d1")
    assert again["MessageId"] == sent["MessageId"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true"
    assert attrs["ApproximateNumberOfMessages"] == "1" and attrs["ApproximateNumberOfMessagesNotVisible"] == "1"
    # 1 is still in flight: 2 waits behind it.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=held[0]["ReceiptHandle"])
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["2"]


def test_rules_deliver_to_fifo_queues_in_order_with_their_group(events, sqs):
    url = fifo_queue(sqs, "orders.fifo", ContentBasedDeduplication="true")
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders.fifo"
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": arn}])
    assert error(e) == ("ValidationException", "Parameter(s) SqsParameters must be specified for target: q.")
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": arn, "SqsParameters": {}}])
    assert error(e) == ("ValidationException", "Parameter(s) SqsParameters must be specified for target: q.")
    assert events.list_targets_by_rule(Rule="orders")["Targets"] == []
    # Dead letters carry no group: a FIFO queue is no dead-letter queue.
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": arn, "SqsParameters": {"MessageGroupId": "g"},
                                                    "DeadLetterConfig": {"Arn": arn}}])
    assert error(e)[0] == "ValidationException" and "is not valid" in error(e)[1]
    r = events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": arn,
                                                    "SqsParameters": {"MessageGroupId": "orders"}}])
    assert r["FailedEntryCount"] == 0
    assert events.list_targets_by_rule(Rule="orders")["Targets"] == [
        {"Id": "q", "Arn": arn, "SqsParameters": {"MessageGroupId": "orders"}}]
    for batch in range(3):
        entries = [{"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"n": batch * 5 + i})}
                   for i in range(5)]
        assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    got = drain(sqs, url, 15)
    assert [json.loads(m["Body"])["detail"]["n"] for m in got] == list(range(15))
    for m in got:
        assert m["Attributes"]["MessageGroupId"] == "orders"
        assert m["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(m["Body"].encode()).hexdigest()
    seqs = [int(m["Attributes"]["SequenceNumber"]) for m in got]
    assert seqs == sorted(seqs)


def test_schedules_deliver_to_fifo_queues_with_their_group(clocked):
    sqs, scheduler = client("sqs", clocked.url), client("scheduler", clocked.url)
    url = fifo_queue(sqs, "ticks.fifo", ContentBasedDeduplication="true")
    target = {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:ticks.fifo",
              "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/scheduler", "Input": "x"}
    with pytest.raises(ClientError) as e:
        scheduler.create_schedule(Name="groupless", ScheduleExpression="rate(1 minute)",
                                  FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "MessageGroupId" in e.value.response["Error"]["Message"]
    assert scheduler.list_schedules()["Schedules"] == []
    scheduler.create_schedule(
        Name="tick", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:ticks.fifo",
                "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/scheduler",
                "Input": "<aws.scheduler.scheduled-time>", "SqsParameters": {"MessageGroupId": "clock"}})
    got = receive_all(sqs, url, 1, timeout=10, AttributeNames=["All"])
    assert len(got) == 1
    assert got[0]["Attributes"]["MessageGroupId"] == "clock"


def test_the_aws_cli_creates_and_fills_a_fifo_queue(endpoint):
    created = aws_cli(endpoint, "sqs", "create-queue", "--queue-name", "cli.fifo",
                      "--attributes", "FifoQueue=true,ContentBasedDeduplication=true")
    url = created["QueueUrl"]
    sent = aws_cli(endpoint, "sqs", "send-message", "--queue-url", url, "--message-body", "hello",
                   "--message-group-id", "g")
    assert sent["SequenceNumber"].isdigit()
    dup = aws_cli(endpoint, "sqs", "send-message", "--queue-url", url, "--message-body", "hello",
                  "--message-group-id", "g")
    assert dup["MessageId"] == sent["MessageId"]
    got = aws_cli(endpoint, "sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "10",
                  "--attribute-names", "All")
    assert [m["Body"] for m in got["Messages"]] == ["hello"]
    assert got["Messages"][0]["Attributes"]["MessageGroupId"] == "g"
    p = aws_cli(endpoint, "sqs", "send-message", "--queue-url", url, "--message-body", "x", check=False)
    assert p.returncode != 0 and "MissingParameter" in p.stderr
