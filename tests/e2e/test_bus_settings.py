"""Tags on buses and rules, UpdateEventBus and DescribeEventBus's full output,
with boto3: what is set is stored, described back, kept across a restart, and
bad input is refused with the service's errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, client

DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:bus-dlq"


def error(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_tags_settings_and_a_restart(server_factory, workdir):
    data_dir = workdir / "data"
    first = server_factory(data_dir=data_dir)
    events, sqs = client("events", first.url), client("sqs", first.url)
    sqs.create_queue(QueueName="bus-dlq")
    out = events.create_event_bus(Name="orders", Description="orders bus", KmsKeyIdentifier="alias/orders",
                                  DeadLetterConfig={"Arn": DLQ}, LogConfig={"Level": "ERROR", "IncludeDetail": "FULL"},
                                  Tags=[{"Key": "team", "Value": "shop"}])
    bus_arn = out["EventBusArn"]
    assert (out["Description"], out["KmsKeyIdentifier"], out["DeadLetterConfig"]) == (
        "orders bus", "alias/orders", {"Arn": DLQ})
    rule_arn = events.put_rule(Name="big", EventBusName="orders", EventPattern='{"source": ["shop"]}',
                               Tags=[{"Key": "tier", "Value": "gold"}])["RuleArn"]
    assert events.list_tags_for_resource(ResourceARN=bus_arn)["Tags"] == [{"Key": "team", "Value": "shop"}]
    assert events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"] == [{"Key": "tier", "Value": "gold"}]
    events.tag_resource(ResourceARN=rule_arn, Tags=[{"Key": "owner", "Value": "nikki"}, {"Key": "tier", "Value": "x"}])
    events.untag_resource(ResourceARN=bus_arn, TagKeys=["team"])
    up = events.update_event_bus(Name="orders", Description="renamed", LogConfig={"Level": "OFF"})
    assert up["Arn"] == bus_arn and up["Description"] == "renamed" and up["KmsKeyIdentifier"] == "alias/orders"
    first.stop()

    second = server_factory(data_dir=data_dir, port=first.port)
    events = client("events", second.url)
    d = events.describe_event_bus(Name="orders")
    assert d["Description"] == "renamed"
    assert d["KmsKeyIdentifier"] == "alias/orders"
    assert d["DeadLetterConfig"] == {"Arn": DLQ}
    # A LogConfig replaces the one before (it is one member, not merged).
    assert d["LogConfig"] == {"Level": "OFF"}
    assert d["LastModifiedTime"] >= d["CreationTime"]
    assert events.list_tags_for_resource(ResourceARN=bus_arn)["Tags"] == []
    assert sorted((t["Key"], t["Value"]) for t in events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"]) == [
        ("owner", "nikki"), ("tier", "x")]
    # Tags on the default bus and its rules too.
    default_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    events.tag_resource(ResourceARN=default_arn, Tags=[{"Key": "env", "Value": "test"}])
    assert events.list_tags_for_resource(ResourceARN=default_arn)["Tags"] == [{"Key": "env", "Value": "test"}]


def test_bad_settings_and_tags_are_refused(server_factory):
    server = server_factory()
    events = client("events", server.url)
    code, msg = error(events.tag_resource, ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/none",
                      Tags=[{"Key": "a", "Value": "b"}])
    assert code == "ResourceNotFoundException" and "none" in msg
    code, _ = error(events.list_tags_for_resource, ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/nope")
    assert code == "ResourceNotFoundException"
    code, _ = error(events.update_event_bus, Name="nope", Description="x")
    assert code == "ResourceNotFoundException"
    code, msg = error(events.update_event_bus, Name="default", DeadLetterConfig={"Arn": "arn:aws:sns:us-east-1:1:t"})
    assert code == "ValidationException"
    code, msg = error(events.update_event_bus, Name="default", LogConfig={"Level": "LOUD"})
    assert code == "ValidationException" and "logConfig.level" in msg
    code, _ = error(events.tag_resource, ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default",
                    Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert code == "LimitExceededException"
    # Nothing was tagged by the refused call.
    assert events.list_tags_for_resource(
        ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default")["Tags"] == []
