"""Step Functions on ferrule with boto3's `stepfunctions` client and the aws
CLI: the founding documents' workflows end to end (the KYC workflow publishing
to a central bus, a rule whose target is a state machine), task tokens across
a restart, activities, nested executions, and the service's errors."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, client

ROLE = f"arn:aws:iam::{ACCOUNT}:role/StepFunctionsRole"


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def queue_with_rule(events, sqs, name: str, pattern: dict, bus: str = "default", **target) -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    events.put_rule(Name=f"to-{name}", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"to-{name}", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn, **target}])
    return url


def drain(sqs, url: str, want: int, timeout: float = 15.0) -> list[dict]:
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in out.get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def wait_status(sfn, arn: str, status: str = "SUCCEEDED", timeout: float = 15.0) -> dict:
    def done():
        d = sfn.describe_execution(executionArn=arn)
        return d if d["status"] != "RUNNING" else None
    d = wait_until(done, timeout)
    assert d, f"{arn} still running"
    assert d["status"] == status, d
    return d


# The KYC workflow of the founding document: an identity check whose
# completion is published (with the document's Retry block), a risk profile,
# then "New account approved" or "declined" published on the central bus.
KYC = {
    "Comment": "Know your customer",
    "StartAt": "Check identity",
    "States": {
        "Check identity": {
            "Type": "Pass",
            "Result": {"identityChecked": True, "agencyChecked": True},
            "ResultPath": "$.checks",
            "Next": "Identity check completed",
        },
        "Identity check completed": {
            "Comment": "Publish event when identity check has been completed",
            "Type": "Task",
            "Resource": "arn:aws:states:::events:putEvents",
            "Parameters": {"Entries": [{
                "Detail.$": "$",
                "DetailType": "Identity check completed",
                "EventBusName": "CentralEventBus",
                "Source": "com.example.kyc",
            }]},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 2}],
            "ResultPath": "$.identityEvent",
            "Next": "Verify risk profile",
        },
        "Verify risk profile": {
            "Type": "Pass",
            "Parameters": {
                "customerName.$": "$.customerName",
                "customerAddress.$": "$.customerAddress",
                "indentityChecked.$": "$.checks.identityChecked",
                "agencyChecked.$": "$.checks.agencyChecked",
                "checksPassed.$": "States.ArrayContains(States.Array('Nikki Wolf', 'Alejandro Rosalez'), $.customerName)",
            },
            "Next": "Risk profile check",
        },
        "Risk profile check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.checksPassed", "BooleanEquals": True, "Next": "New account approved"}],
            "Default": "New account declined",
        },
        "New account approved": {
            "Type": "Task",
            "Resource": "arn:aws:states:::events:putEvents",
            "Parameters": {"Entries": [{
                "Detail.$": "$", "DetailType": "New account approved",
                "EventBusName": "CentralEventBus", "Source": "com.example.kyc",
            }]},
            "End": True,
        },
        "New account declined": {
            "Type": "Task",
            "Resource": "arn:aws:states:::events:putEvents",
            "Parameters": {"Entries": [{
                "Detail.$": "$", "DetailType": "New account declined",
                "EventBusName": "CentralEventBus", "Source": "com.example.kyc",
            }]},
            "End": True,
        },
    },
}


def test_kyc_workflow_end_to_end(server_factory, workdir):
    server = server_factory()
    events, sqs, sfn = (client(s, server.url) for s in ("events", "sqs", "stepfunctions"))
    events.create_event_bus(Name="CentralEventBus")
    identity = queue_with_rule(events, sqs, "identity-checked", {"detail-type": ["Identity check completed"]},
                               bus="CentralEventBus")
    approved = queue_with_rule(events, sqs, "approved", {"detail-type": ["New account approved"]},
                               bus="CentralEventBus")
    declined = queue_with_rule(events, sqs, "declined", {"detail-type": ["New account declined"]},
                               bus="CentralEventBus")
    status = queue_with_rule(events, sqs, "status", {
        "source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["SUCCEEDED"]}})

    machine = sfn.create_state_machine(name="kyc", definition=json.dumps(KYC), roleArn=ROLE)["stateMachineArn"]
    assert machine == f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:kyc"
    # The rule of the document's template: InputPath $.detail, a state machine target with a role.
    events.put_rule(Name="new-account-requested", EventBusName="CentralEventBus",
                    EventPattern=json.dumps({"detail-type": ["New account requested"],
                                             "source": ["com.example.accounts"]}))
    events.put_targets(Rule="new-account-requested", EventBusName="CentralEventBus", Targets=[
        {"Id": "kyc", "Arn": machine, "RoleArn": ROLE, "InputPath": "$.detail"}])

    # The document's put_events.json, sent with the aws CLI (with a Source).
    entries = [
        {"Source": "com.example.accounts", "DetailType": "New account requested", "EventBusName": "CentralEventBus",
         "Detail": json.dumps({"customerName": "Nikki Wolf", "customerAddress": "123 Any Street, Any Town, USA"})},
        {"Source": "com.example.accounts", "DetailType": "New account requested", "EventBusName": "CentralEventBus",
         "Detail": json.dumps({"customerName": "Mallory", "customerAddress": "9 Elsewhere Road"})},
    ]
    entries_file = workdir / "put_events.json"
    entries_file.write_text(json.dumps(entries))
    out = subprocess.run(["aws", "events", "put-events", "--endpoint-url", server.url,
                          "--entries", f"file://{entries_file}"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["FailedEntryCount"] == 0

    checked = drain(sqs, identity, 2)
    assert sorted(e["detail"]["customerName"] for e in checked) == ["Mallory", "Nikki Wolf"]
    for e in checked:
        assert e["source"] == "com.example.kyc"
        # The service adds the state machine's and the execution's ARNs.
        assert e["resources"][0] == machine
        assert e["resources"][1].startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:execution:kyc:")
        assert e["detail"]["checks"] == {"identityChecked": True, "agencyChecked": True}
    ok = drain(sqs, approved, 1)
    assert [e["detail"] for e in ok] == [{
        "customerName": "Nikki Wolf", "customerAddress": "123 Any Street, Any Town, USA",
        "indentityChecked": True, "agencyChecked": True, "checksPassed": True}]
    no = drain(sqs, declined, 1)
    assert [e["detail"]["customerName"] for e in no] == ["Mallory"]

    runs = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert len(runs) == 2 and {r["status"] for r in runs} == {"SUCCEEDED"}
    for r in runs:
        d = sfn.describe_execution(executionArn=r["executionArn"])
        assert json.loads(d["output"])["Entries"][0]["EventId"]
        history = sfn.get_execution_history(executionArn=r["executionArn"])["events"]
        types = [h["type"] for h in history]
        assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
        assert "TaskSucceeded" in types and "ChoiceStateEntered" in types
    # Both executions announced their success on the default bus.
    changes = drain(sqs, status, 2)
    assert sorted(c["detail"]["executionArn"] for c in changes) == sorted(r["executionArn"] for r in runs)
    assert all(c["resources"] == [c["detail"]["executionArn"]] for c in changes)


def test_rule_with_state_machine_target_starts_executions(server_factory):
    """The founding document's rule: detail-type start-state-machine on the default bus."""
    server = server_factory()
    events, sfn = client("events", server.url), client("stepfunctions", server.url)
    # The Hello World machine of the founding documents, combining input and result.
    hello = {"Comment": "A Hello World example of the Amazon States Language using Pass states",
             "StartAt": "Hello", "States": {
                 "Hello": {"Type": "Pass", "Result": "Hello", "ResultPath": "$.taskresult", "Next": "World"},
                 "World": {"Type": "Pass", "Result": "World", "ResultPath": "$.taskresult", "End": True}}}
    machine = sfn.create_state_machine(name="TestStateMachine", definition=json.dumps(hello), roleArn=ROLE)[
        "stateMachineArn"]
    events.put_rule(Name="start-state-machine", EventBusName="default",
                    EventPattern=json.dumps({"detail-type": ["start-state-machine"]}), State="ENABLED")
    events.put_targets(Rule="start-state-machine", EventBusName="default",
                       Targets=[{"Id": "TestStateMachine", "Arn": machine, "RoleArn": ROLE}])
    events.put_events(Entries=[{"Source": "test", "DetailType": "start-state-machine", "Detail": '{"n": 1}'},
                               {"Source": "test", "DetailType": "something-else", "Detail": '{"n": 2}'}])
    runs = wait_until(lambda: sfn.list_executions(stateMachineArn=machine, statusFilter="SUCCEEDED")["executions"])
    assert len(runs) == 1
    d = sfn.describe_execution(executionArn=runs[0]["executionArn"])
    inp, out = json.loads(d["input"]), json.loads(d["output"])
    # The input is the whole event; the output is it with World's result.
    assert inp["detail-type"] == "start-state-machine" and inp["detail"] == {"n": 1}
    assert out == {**inp, "taskresult": "World"}
    time.sleep(0.5)
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1


def test_wait_for_task_token_survives_a_restart(server_factory, workdir):
    data_dir = workdir / "data"
    first = server_factory(data_dir=data_dir)
    events, sqs, sfn = (client(s, first.url) for s in ("events", "sqs", "stepfunctions"))
    tokens = queue_with_rule(events, sqs, "tokens", {"detail-type": ["Approval needed"]})
    definition = {"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
                "Parameters": {"Entries": [{"Source": "com.example.kyc", "DetailType": "Approval needed",
                                            "Detail": {"customer.$": "$.customer", "TaskToken.$": "$$.Task.Token"}}]},
                "ResultPath": "$.approval", "Next": "Done"},
        "Done": {"Type": "Succeed"}}}
    machine = sfn.create_state_machine(name="approve", definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="nikki", input='{"customer": "Nikki Wolf"}')[
        "executionArn"]
    asked = drain(sqs, tokens, 1)
    assert len(asked) == 1 and asked[0]["detail"]["customer"] == "Nikki Wolf"
    token = asked[0]["detail"]["TaskToken"]
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    first.stop()

    second = server_factory(data_dir=data_dir, port=first.port)
    sfn = client("stepfunctions", second.url)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    d = wait_status(sfn, arn)
    assert json.loads(d["output"]) == {"customer": "Nikki Wolf", "approval": {"approved": True}}
    with pytest.raises(ClientError) as e:
        sfn.send_task_success(taskToken=token, output="{}")
    assert e.value.response["Error"]["Code"] == "TaskTimedOut"
    types = [h["type"] for h in sfn.get_execution_history(executionArn=arn)["events"]]
    assert "TaskSubmitted" in types and "TaskSucceeded" in types


def test_wait_state_resumes_after_restart(server_factory, workdir):
    data_dir = workdir / "data"
    first = server_factory(data_dir=data_dir)
    sfn = client("stepfunctions", first.url)
    definition = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 2, "Next": "Up"},
                                               "Up": {"Type": "Pass", "Result": "awake", "End": True}}}
    machine = sfn.create_state_machine(name="nap", definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    first.stop()
    second = server_factory(data_dir=data_dir, port=first.port)
    d = wait_status(client("stepfunctions", second.url), arn, timeout=10)
    assert d["output"] == '"awake"'


def test_activities_nested_executions_and_queues(server_factory):
    server = server_factory()
    sqs, sfn = client("sqs", server.url), client("stepfunctions", server.url)
    url = sqs.create_queue(QueueName="from-sfn")["QueueUrl"]
    activity = sfn.create_activity(name="review")["activityArn"]
    child = sfn.create_state_machine(name="child", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "Double", "States": {"Double": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, $.n)"},
                                                   "End": True}}}))["stateMachineArn"]
    parent = {"StartAt": "Child", "States": {
        "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                  "Parameters": {"StateMachineArn": child, "Input": {"n.$": "$.n"}},
                  "ResultSelector": {"n.$": "$.Output.n"}, "Next": "Review"},
        "Review": {"Type": "Task", "Resource": activity, "TimeoutSeconds": 30, "ResultPath": "$.review",
                   "Next": "Tell"},
        "Tell": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                 "Parameters": {"QueueUrl": url, "MessageBody.$": "$"}, "ResultPath": None, "End": True}}}
    machine = sfn.create_state_machine(name="parent", roleArn=ROLE, definition=json.dumps(parent))["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input='{"n": 21}')["executionArn"]

    task = {}

    def worker():
        task.update(sfn.get_activity_task(activityArn=activity, workerName="tester"))

    t = threading.Thread(target=worker)
    t.start()
    t.join(30)
    assert json.loads(task["input"]) == {"n": 42}
    sfn.send_task_success(taskToken=task["taskToken"], output='"looks good"')
    d = wait_status(sfn, arn)
    assert json.loads(d["output"]) == {"n": 42, "review": "looks good"}
    msgs = drain(sqs, url, 1)
    assert msgs == [{"n": 42, "review": "looks good"}]
    kids = sfn.list_executions(stateMachineArn=child)["executions"]
    assert len(kids) == 1 and kids[0]["status"] == "SUCCEEDED"
    # The activity's history events are the service's Activity* ones.
    events = sfn.get_execution_history(executionArn=arn)["events"]
    by_type = {e["type"]: e for e in events}
    assert by_type["ActivityScheduled"]["activityScheduledEventDetails"]["resource"] == activity
    assert by_type["ActivityScheduled"]["activityScheduledEventDetails"]["timeoutInSeconds"] == 30
    assert by_type["ActivityStarted"]["activityStartedEventDetails"] == {"workerName": "tester"}
    assert json.loads(by_type["ActivitySucceeded"]["activitySucceededEventDetails"]["output"]) == "looks good"


def test_express_sync_versions_and_aliases(server_factory):
    server = server_factory()
    sfn = client("stepfunctions", server.url)
    express = sfn.create_state_machine(name="quick", type="EXPRESS", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"hi.$": "$.who"}, "End": True}}}))
    # botocore prefixes StartSyncExecution's host with `sync-` (the service's
    # endpoint); against a local address that prefix must be turned off.
    sync = boto3.client("stepfunctions", endpoint_url=server.url, region_name=REGION,
                        config=Config(inject_host_prefix=False))
    out = sync.start_sync_execution(stateMachineArn=express["stateMachineArn"], input='{"who": "you"}')
    assert out["status"] == "SUCCEEDED" and json.loads(out["output"]) == {"hi": "you"}
    with pytest.raises(ClientError) as e:
        sync.start_sync_execution(stateMachineArn=sfn.create_state_machine(
            name="slow", roleArn=ROLE, definition=json.dumps(
                {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"])
    assert e.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"

    v = sfn.create_state_machine(name="versioned", roleArn=ROLE, publish=True, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": True}}}))
    v1 = v["stateMachineVersionArn"]
    assert v1 == v["stateMachineArn"] + ":1"
    upd = sfn.update_state_machine(stateMachineArn=v["stateMachineArn"], publish=True, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 2, "End": True}}}))
    v2 = upd["stateMachineVersionArn"]
    assert v2.endswith(":2")
    alias = sfn.create_state_machine_alias(name="prod", routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 100}])["stateMachineAliasArn"]
    run = sfn.start_execution(stateMachineArn=alias)["executionArn"]
    d = wait_status(sfn, run)
    assert d["output"] == "1" and d["stateMachineAliasArn"] == alias and d["stateMachineVersionArn"] == v1
    assert [x["stateMachineVersionArn"] for x in sfn.list_state_machine_versions(
        stateMachineArn=v["stateMachineArn"])["stateMachineVersions"]] == [v2, v1]
    with pytest.raises(ClientError) as e:
        sfn.delete_state_machine_version(stateMachineVersionArn=v1)
    assert e.value.response["Error"]["Code"] == "ConflictException"
    sfn.tag_resource(resourceArn=v["stateMachineArn"], tags=[{"key": "team", "value": "kyc"}])
    assert sfn.list_tags_for_resource(resourceArn=v["stateMachineArn"])["tags"] == [{"key": "team", "value": "kyc"}]


def test_errors_are_the_services(server_factory):
    server = server_factory()
    sfn = client("stepfunctions", server.url)

    def code(call, **kw):
        with pytest.raises(ClientError) as e:
            call(**kw)
        return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]

    c, m = code(sfn.create_state_machine, name="bad", roleArn=ROLE,
                definition='{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}')
    assert c == "InvalidDefinition"
    assert "MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next" in m
    c, m = code(sfn.create_state_machine, name="lambda", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "L", "States": {"L": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}}}))
    assert c == "InvalidDefinition" and "/States/L/Resource" in m
    v = sfn.validate_state_machine_definition(definition='{"StartAt": "A"}')
    assert v["result"] == "FAIL" and v["diagnostics"][0]["code"] == "SCHEMA_VALIDATION_FAILED"
    assert sfn.validate_state_machine_definition(
        definition='{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}')["result"] == "OK"
    missing = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:nope"
    assert code(sfn.start_execution, stateMachineArn=missing) == (
        "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{missing}'")
    assert code(sfn.describe_execution, executionArn="arn:aws:states:us-east-1:1:activity:x")[0] == "InvalidArn"
    machine = sfn.create_state_machine(name="w", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}))["stateMachineArn"]
    first = sfn.start_execution(stateMachineArn=machine, name="once", input='{"a": 1}')
    again = sfn.start_execution(stateMachineArn=machine, name="once", input='{"a": 1}')
    assert again["executionArn"] == first["executionArn"]
    assert code(sfn.start_execution, stateMachineArn=machine, name="once", input='{"a": 2}')[0] == \
        "ExecutionAlreadyExists"
    assert code(sfn.start_execution, stateMachineArn=machine, input="{not json")[0] == "InvalidExecutionInput"
    assert code(sfn.start_execution, stateMachineArn=machine, name="a b")[0] == "InvalidName"
    assert code(sfn.send_task_success, taskToken="garbage", output="{}")[0] == "InvalidToken"
    stopped = sfn.stop_execution(executionArn=first["executionArn"], error="Cancelled", cause="by the test")
    assert stopped["stopDate"]
    d = sfn.describe_execution(executionArn=first["executionArn"])
    assert (d["status"], d["error"], d["cause"]) == ("ABORTED", "Cancelled", "by the test")


# The founding document's S3 event (CloudTrail's PutObject), as the service puts it.
S3_PUT_OBJECT = {
    "eventVersion": "1.05", "eventSource": "s3.amazonaws.com", "eventName": "PutObject",
    "awsRegion": REGION, "requestParameters": {"bucketName": "username-sfn-tutorial", "key": "test.png"},
    "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::username-sfn-tutorial/test.png"}],
    "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT,
}


def test_s3_events_start_a_state_machine_when_a_service_principal_puts_them(server_factory):
    """The founding document's rule (source aws.s3, PutObject on a bucket)
    starting the Helloworld machine: ordinary callers may not put aws.*
    events, as in the service; a credential marked service_principal may."""
    config = {"credentials": [
        {"access_key_id": "AKIDAPP", "secret_access_key": "app-secret"},
        {"access_key_id": "AKIDS3", "secret_access_key": "s3-secret", "service_principal": True}]}
    server = server_factory(config=config)

    def signed(service, key, secret):
        return boto3.client(service, endpoint_url=server.url, region_name=REGION, aws_access_key_id=key,
                            aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))

    events, sfn = signed("events", "AKIDAPP", "app-secret"), signed("stepfunctions", "AKIDAPP", "app-secret")
    s3_service = signed("events", "AKIDS3", "s3-secret")
    hello = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": "Hello World!", "End": True}}}
    machine = sfn.create_state_machine(name="Helloworld", definition=json.dumps(hello), roleArn=ROLE)[
        "stateMachineArn"]
    events.put_rule(Name="s3-put-object", EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventSource": ["s3.amazonaws.com"], "eventName": ["PutObject"],
                   "requestParameters": {"bucketName": ["username-sfn-tutorial"]}}}))
    events.put_targets(Rule="s3-put-object", Targets=[{"Id": "hello", "Arn": machine, "RoleArn": ROLE}])
    entry = {"Source": "aws.s3", "DetailType": "AWS API Call via CloudTrail", "Detail": json.dumps(S3_PUT_OBJECT)}

    refused = events.put_events(Entries=[entry])
    assert refused["FailedEntryCount"] == 1
    assert refused["Entries"][0]["ErrorCode"] == "NotAuthorizedForSourceException"
    assert s3_service.put_events(Entries=[entry])["FailedEntryCount"] == 0
    runs = wait_until(lambda: sfn.list_executions(stateMachineArn=machine, statusFilter="SUCCEEDED")["executions"])
    assert len(runs) == 1
    d = sfn.describe_execution(executionArn=runs[0]["executionArn"])
    event = json.loads(d["input"])
    assert event["source"] == "aws.s3" and event["detail"]["requestParameters"]["key"] == "test.png"
    assert d["output"] == '"Hello World!"'
    time.sleep(0.5)
    # The refused entry started nothing.
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1


def test_waits_and_timeouts_follow_the_driven_clock(server_factory):
    """With `"clock": "manual:START"`, an hour-long Wait and a task token's
    timeout pass when the clock is moved (POST /_ferrule/clock), not before."""
    import urllib.request

    start = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    server = server_factory(config={"clock": f"manual:{start}"})
    sfn = client("stepfunctions", server.url)

    def advance(ms: int):
        req = urllib.request.Request(server.url + "/_ferrule/clock", data=json.dumps({"advance_ms": ms}).encode(),
                                     method="POST", headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200

    nap = sfn.create_state_machine(name="hour", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "Next": "P"},
                                    "P": {"Type": "Pass", "Result": "later", "End": True}}}))["stateMachineArn"]
    wait = sfn.create_state_machine(name="token", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
                                          "TimeoutSeconds": 600, "End": True,
                                          "Parameters": {"Entries": [{"Source": "t", "DetailType": "d",
                                                                      "Detail": {"t.$": "$$.Task.Token"}}]}}}}))[
        "stateMachineArn"]
    a = sfn.start_execution(stateMachineArn=nap)["executionArn"]
    b = sfn.start_execution(stateMachineArn=wait)["executionArn"]
    time.sleep(0.5)
    assert sfn.describe_execution(executionArn=a)["status"] == "RUNNING"
    advance(599_000)
    time.sleep(0.5)
    assert sfn.describe_execution(executionArn=b)["status"] == "RUNNING"
    advance(1_000)
    d = wait_status(sfn, b, "FAILED", timeout=5)
    assert d["error"] == "States.Timeout"
    assert sfn.describe_execution(executionArn=a)["status"] == "RUNNING"
    advance(3_000_000)
    d = wait_status(sfn, a, timeout=5)
    assert d["output"] == '"later"'
    # The stop date is the driven clock's, an hour after the start.
    assert d["stopDate"].timestamp() * 1000 - start >= 3_600_000


def test_test_state_runs_one_state(server_factory):
    server = server_factory()
    events, sqs = client("events", server.url), client("sqs", server.url)
    # TestState, like StartSyncExecution, is sent to the `sync-` host by botocore.
    sfn = boto3.client("stepfunctions", endpoint_url=server.url, region_name=REGION,
                       config=Config(inject_host_prefix=False))
    out = sfn.test_state(definition=json.dumps({"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                                                "ResultPath": "$.r", "Next": "After"}),
                         roleArn=ROLE, input='{"n": 1}', inspectionLevel="DEBUG")
    assert out["status"] == "SUCCEEDED" and out["nextState"] == "After"
    assert json.loads(out["output"]) == {"n": 1, "r": {"n": 2}}
    assert json.loads(out["inspectionData"]["afterParameters"]) == {"n": 2}
    # A Task runs for real: the event reaches the bus.
    q = queue_with_rule(events, sqs, "tested", {"detail-type": ["Tested"]})
    task = {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": True,
            "Parameters": {"Entries": [{"Source": "t", "DetailType": "Tested", "Detail": {"x": 1}}]}}
    out = sfn.test_state(definition=json.dumps(task), roleArn=ROLE, input="{}")
    assert out["status"] == "SUCCEEDED", out
    assert [e["detail"] for e in drain(sqs, q, 1)] == [{"x": 1}]
    # A mocked error caught by a catcher.
    caught = dict(task, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Oops"}])
    out = sfn.test_state(definition=json.dumps(caught), roleArn=ROLE, input="{}",
                         mock={"errorOutput": {"error": "Boom", "cause": "mocked"}, "fieldValidationMode": "NONE"})
    assert (out["status"], out["nextState"], out["error"]) == ("CAUGHT_ERROR", "Oops", "Boom")
    with pytest.raises(ClientError) as e:
        sfn.test_state(definition='{"Type": "Nope"}', roleArn=ROLE)
    assert e.value.response["Error"]["Code"] == "InvalidDefinition"


def test_activity_alias_tag_and_describe_operations(server_factory):
    """The happy paths of the operations the other tests only reach with bad input."""
    server = server_factory()
    sfn = client("stepfunctions", server.url)
    act = sfn.create_activity(name="review", tags=[{"key": "team", "value": "kyc"}])["activityArn"]
    assert sfn.describe_activity(activityArn=act)["name"] == "review"
    assert [a["activityArn"] for a in sfn.list_activities()["activities"]] == [act]
    assert sfn.list_tags_for_resource(resourceArn=act)["tags"] == [{"key": "team", "value": "kyc"}]
    sfn.untag_resource(resourceArn=act, tagKeys=["team"])
    assert sfn.list_tags_for_resource(resourceArn=act)["tags"] == []
    sfn.delete_activity(activityArn=act)
    with pytest.raises(ClientError) as e:
        sfn.describe_activity(activityArn=act)
    assert e.value.response["Error"]["Code"] == "ActivityDoesNotExist"

    m = sfn.create_state_machine(name="m", roleArn=ROLE, publish=True, versionDescription="first",
                                 definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    v1 = m["stateMachineVersionArn"]
    assert sfn.describe_state_machine(stateMachineArn=v1)["description"] == "first"
    v2 = sfn.publish_state_machine_version(stateMachineArn=m["stateMachineArn"])["stateMachineVersionArn"]
    assert v2 == v1  # the latest revision is already version 1
    alias = sfn.create_state_machine_alias(name="live", routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 100}])["stateMachineAliasArn"]
    sfn.update_state_machine_alias(stateMachineAliasArn=alias, description="now")
    d = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert d["description"] == "now" and d["routingConfiguration"] == [{"stateMachineVersionArn": v1, "weight": 100}]
    assert [a["stateMachineAliasArn"] for a in sfn.list_state_machine_aliases(
        stateMachineArn=m["stateMachineArn"])["stateMachineAliases"]] == [alias]
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    sfn.delete_state_machine_version(stateMachineVersionArn=v1)
    assert sfn.list_state_machine_versions(stateMachineArn=m["stateMachineArn"])["stateMachineVersions"] == []
    run = sfn.start_execution(stateMachineArn=m["stateMachineArn"])["executionArn"]
    wait_status(sfn, run)
    assert json.loads(sfn.describe_state_machine_for_execution(executionArn=run)["definition"])["StartAt"] == "P"
    sfn.delete_state_machine(stateMachineArn=m["stateMachineArn"])
    assert sfn.list_state_machines()["stateMachines"] == []
    with pytest.raises(ClientError) as e:
        sfn.describe_state_machine(stateMachineArn=m["stateMachineArn"])
    assert e.value.response["Error"]["Code"] == "StateMachineDoesNotExist"
