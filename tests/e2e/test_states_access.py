"""Step Functions under identity policies, checked by effect: what a policy
denies never happens. A denied StartExecution starts nothing (no execution
listed, no task run, no status-change event on the bus); denied task-token
calls, StopExecution and DeleteStateMachine leave the execution and the
machine as they were. Each test also shows the allowed path works, so the
absence of an effect is not an accident of the setup."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION

KEYS = {"AKIDADMIN": "secret-admin", "AKIDLIMITED": "secret-limited"}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sfn"
GUARDED = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:guarded"
LIMITED_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["states:*", "sqs:*", "events:*"], "Resource": "*"},
    # Neither the machine nor any of its versions or aliases may be started.
    {"Effect": "Deny", "Action": ["states:StartExecution", "states:StartSyncExecution"],
     "Resource": [GUARDED, GUARDED + ":*", GUARDED + "-express"]},
    {"Effect": "Deny", "Action": ["states:SendTask*", "states:StopExecution",
                                  "states:DeleteStateMachine"], "Resource": "*"},
]}
CONFIG = {
    "credentials": [
        {"access_key_id": "AKIDADMIN", "secret_access_key": KEYS["AKIDADMIN"]},
        {"access_key_id": "AKIDLIMITED", "secret_access_key": KEYS["AKIDLIMITED"],
         "user": "limited", "policies": [LIMITED_POLICY]},
    ],
    "queues": ["tell-q", "status-q"],
    "rules": [{"name": "status", "event_pattern": {
        "source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"]},
        "targets": [{"id": "q", "arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:status-q"}]}],
}


def signed(service: str, url: str, key: str, **config):
    return boto3.client(service, endpoint_url=url, region_name=REGION, aws_access_key_id=key,
                        aws_secret_access_key=KEYS[key],
                        config=Config(retries={"max_attempts": 1}, **config))


def denied(call, **kw) -> str:
    with pytest.raises(ClientError) as e:
        call(**kw)
    err = e.value.response["Error"]
    assert err["Code"] == "AccessDeniedException", err
    return err["Message"]


def drain(sqs, url: str, seconds: float) -> list[dict]:
    """Every message that arrives within `seconds`, deleted as read."""
    got: list[dict] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                     WaitTimeSeconds=1).get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def wait_status(sfn, arn: str, status: str, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            break
        time.sleep(0.1)
    assert d["status"] == status, d
    return d


@pytest.fixture
def clients(server_factory):
    url = server_factory(config=CONFIG).url
    return {
        "admin": signed("stepfunctions", url, "AKIDADMIN"),
        "limited": signed("stepfunctions", url, "AKIDLIMITED"),
        "limited_sync": signed("stepfunctions", url, "AKIDLIMITED", inject_host_prefix=False),
        "sqs": signed("sqs", url, "AKIDADMIN"),
    }


def tell(queue_url: str) -> dict:
    """A machine whose one task sends its input to `queue_url`: a run leaves a message."""
    return {"StartAt": "Tell", "States": {"Tell": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": queue_url, "MessageBody.$": "$"}, "End": True}}}


def test_a_denied_start_starts_nothing(clients):
    admin, limited, sqs = clients["admin"], clients["limited"], clients["sqs"]
    tell_q = sqs.get_queue_url(QueueName="tell-q")["QueueUrl"]
    status_q = sqs.get_queue_url(QueueName="status-q")["QueueUrl"]
    definition = json.dumps(tell(tell_q))
    guarded = admin.create_state_machine(name="guarded", roleArn=ROLE, definition=definition,
                                         publish=True)
    assert guarded["stateMachineArn"] == GUARDED
    version = guarded["stateMachineVersionArn"]
    alias = admin.create_state_machine_alias(
        name="live", routingConfiguration=[{"stateMachineVersionArn": version, "weight": 100}]
    )["stateMachineAliasArn"]
    express = admin.create_state_machine(name="guarded-express", roleArn=ROLE, type="EXPRESS",
                                         definition=definition)["stateMachineArn"]
    opened = admin.create_state_machine(name="open", roleArn=ROLE,
                                        definition=definition)["stateMachineArn"]

    message = denied(limited.start_execution, stateMachineArn=GUARDED, name="first",
                     input='{"who": "limited"}')
    assert "is not authorized to perform: states:StartExecution" in message
    assert GUARDED in message
    for target in (version, alias):
        denied(limited.start_execution, stateMachineArn=target, input='{"who": "limited"}')
    denied(clients["limited_sync"].start_sync_execution, stateMachineArn=express,
           input='{"who": "limited"}')

    # The effect: no execution of any of them, no task ran, no status event.
    assert admin.list_executions(stateMachineArn=GUARDED)["executions"] == []
    assert admin.list_executions(stateMachineArn=version)["executions"] == []
    assert drain(sqs, tell_q, 2) == []
    assert [e for e in drain(sqs, status_q, 1) if e["detail"]["stateMachineArn"] == GUARDED] == []

    # The same credential may start the open machine: its run is seen
    # everywhere the denied ones were looked for.
    arn = limited.start_execution(stateMachineArn=opened, input='{"who": "limited"}')["executionArn"]
    wait_status(admin, arn, "SUCCEEDED")
    assert drain(sqs, tell_q, 2) == [{"who": "limited"}]
    statuses = [e["detail"]["status"] for e in drain(sqs, status_q, 2)
                if e["detail"]["executionArn"] == arn]
    assert sorted(statuses) == ["RUNNING", "SUCCEEDED"]

    # The denied name was never taken: the admin starts "first" as a new execution.
    first = admin.start_execution(stateMachineArn=GUARDED, name="first", input='{"who": "admin"}')
    wait_status(admin, first["executionArn"], "SUCCEEDED")
    assert drain(sqs, tell_q, 2) == [{"who": "admin"}]
    assert [e["name"] for e in admin.list_executions(stateMachineArn=GUARDED)["executions"]] == ["first"]


def test_denied_token_stop_and_delete_calls_change_nothing(clients):
    admin, limited, sqs = clients["admin"], clients["limited"], clients["sqs"]
    tell_q = sqs.get_queue_url(QueueName="tell-q")["QueueUrl"]
    waiter = admin.create_state_machine(name="waiter", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Ask", "States": {"Ask": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": tell_q, "MessageBody": {"token.$": "$$.Task.Token"}},
            "End": True}}}))["stateMachineArn"]
    # The limited credential may start it: only the calls below are denied.
    arn = limited.start_execution(stateMachineArn=waiter)["executionArn"]
    (asked,) = drain(sqs, tell_q, 2)
    token = asked["token"]

    denied(limited.send_task_success, taskToken=token, output='{"by": "limited"}')
    denied(limited.send_task_failure, taskToken=token, error="Nope", cause="limited")
    denied(limited.send_task_heartbeat, taskToken=token)
    denied(limited.stop_execution, executionArn=arn, error="Stop", cause="limited")
    denied(limited.delete_state_machine, stateMachineArn=waiter)

    # The effect: still running, still waiting on the same token, machine still there.
    d = admin.describe_execution(executionArn=arn)
    assert d["status"] == "RUNNING" and "output" not in d
    assert admin.describe_state_machine(stateMachineArn=waiter)["status"] == "ACTIVE"
    types = [e["type"] for e in admin.get_execution_history(executionArn=arn)["events"]]
    assert not any(t in types for t in ("TaskSucceeded", "TaskFailed", "ExecutionAborted"))

    # The token is still good for a caller who may use it.
    admin.send_task_success(taskToken=token, output='{"by": "admin"}')
    d = wait_status(admin, arn, "SUCCEEDED")
    assert json.loads(d["output"]) == {"by": "admin"}
