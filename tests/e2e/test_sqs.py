"""SQS's JSON protocol through boto3 and the aws CLI, over ferrule's built-in
queues: send (boto3 checks MD5OfMessageBody), receive (MD5OfBody), batches,
visibility, purge, attributes, listing and the errors boto3 maps to its
exception classes."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, aws_cli


def test_send_receive_delete(sqs, endpoint):
    url = sqs.create_queue(QueueName="basic")["QueueUrl"]
    assert url.endswith(f"/{ACCOUNT}/basic")
    assert sqs.create_queue(QueueName="basic")["QueueUrl"] == url  # idempotent
    assert sqs.get_queue_url(QueueName="basic")["QueueUrl"] == url

    body = 'héllo "world" \t\n 🚀'
    sent = sqs.send_message(QueueUrl=url, MessageBody=body)  # boto3 verifies MD5OfMessageBody
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MaxNumberOfMessages=10,
                              AttributeNames=["All"])["Messages"]  # and MD5OfBody
    assert len(got) == 1
    m = got[0]
    assert m["Body"] == body and m["MessageId"] == sent["MessageId"]
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    assert abs(int(m["Attributes"]["SentTimestamp"]) / 1000 - time.time()) < 60
    # In flight: not received again.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)


def test_batches_visibility_and_purge(sqs):
    url = sqs.create_queue(QueueName="batch")["QueueUrl"]
    out = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": f"body {i}"} for i in range(10)])
    assert sorted(s["Id"] for s in out["Successful"]) == [f"m{i}" for i in range(10)]
    assert out.get("Failed", []) == []

    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "10"
    assert attrs["QueueArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:batch"

    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
    assert sorted(m["Body"] for m in got) == sorted(f"body {i}" for i in range(10))
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "10"

    # Make three visible again at once; they are received a second time.
    out = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": f"v{i}", "ReceiptHandle": got[i]["ReceiptHandle"], "VisibilityTimeout": 0} for i in range(3)])
    assert len(out["Successful"]) == 3
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert sorted(m["Body"] for m in again) == sorted(m["Body"] for m in got[:3])
    assert all(m["Attributes"]["ApproximateReceiveCount"] == "2" for m in again)

    # The superseded handle of a re-received message is no longer valid.
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=5)
    assert e.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"

    out = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(again + got[3:6])])
    assert len(out["Successful"]) == 6 and out.get("Failed", []) == []
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                    "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert attrs == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "4"}

    sqs.purge_queue(QueueUrl=url)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_delay_and_queue_attributes(sqs):
    url = sqs.create_queue(QueueName="attrs", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "DelaySeconds"])["Attributes"]
    assert attrs == {"VisibilityTimeout": "5", "DelaySeconds": "0"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "1"})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"]["DelaySeconds"] == "1"
    sqs.send_message(QueueUrl=url, MessageBody="late")
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert got[0]["Body"] == "late"
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "99999"})
    assert e.value.response["Error"]["Code"] == "InvalidAttributeValue"


def test_list_and_delete_queues(sqs):
    for n in ("lq-a", "lq-b", "lq-c", "other"):
        sqs.create_queue(QueueName=n)
    urls = sqs.list_queues(QueueNamePrefix="lq-")["QueueUrls"]
    assert [u.rsplit("/", 1)[1] for u in urls] == ["lq-a", "lq-b", "lq-c"]
    pages = [u.rsplit("/", 1)[1] for p in sqs.get_paginator("list_queues").paginate(
        QueueNamePrefix="lq-", PaginationConfig={"PageSize": 2}) for u in p.get("QueueUrls", [])]
    assert pages == ["lq-a", "lq-b", "lq-c"]
    url = sqs.get_queue_url(QueueName="lq-b")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="lq-b")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.receive_message(QueueUrl=url)


def test_sqs_errors(sqs):
    url = sqs.create_queue(QueueName="errors")["QueueUrl"]
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": "x"} for i in range(11)])
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "same", "MessageBody": "x"}] * 2)
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["NoSuchAttribute"])
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="bad name!")
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_aws_cli_sqs(endpoint):
    url = aws_cli(endpoint, "sqs", "create-queue", "--queue-name", "cli-sqs")["QueueUrl"]
    sent = aws_cli(endpoint, "sqs", "send-message", "--queue-url", url, "--message-body", "from the cli")
    assert sent["MessageId"]
    got = aws_cli(endpoint, "sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "2")
    assert got["Messages"][0]["Body"] == "from the cli"
    aws_cli(endpoint, "sqs", "delete-message", "--queue-url", url,
            "--receipt-handle", got["Messages"][0]["ReceiptHandle"])
    p = aws_cli(endpoint, "sqs", "get-queue-url", "--queue-name", "missing", check=False)
    assert p.returncode != 0
    assert "NonExistentQueue" in p.stderr or "QueueDoesNotExist" in p.stderr
