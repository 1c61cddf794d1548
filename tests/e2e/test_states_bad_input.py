"""Bad input to Step Functions gets the service's error, never a silent default.

As `test_bad_input.py` does for EventBridge and SQS: requests generated from
botocore's `stepfunctions` 2016-11-23 model, for every operation ferrule
serves and every member of its request (nested members too): values of the
wrong JSON type, strings too short, too long or off the model's pattern,
numbers out of range, unknown enum values, missing required members; then
what the model cannot say (ARNs of the wrong service or resource type, names
with refused characters, definitions and inputs that are not JSON, page
tokens never issued, alias routing). They are sent raw over HTTP (unsigned,
keep-alive), and some through boto3.

Step Functions speaks AWS JSON 1.0: a member of the wrong JSON type is a
`SerializationException`; a model constraint broken is a
`ValidationException` whose message names the member (`1 validation error
detected: Value 'x' at 'name' failed to satisfy constraint: Member must
have length less than or equal to 80`); the rest are the service's own
exceptions (`InvalidArn`, `InvalidName`, `InvalidDefinition`,
`InvalidExecutionInput`, `InvalidToken`, ...).

Every case must be refused with a 4xx and the expected error type (and
message text where given); none may be a 5xx or go unanswered for 5 s
(GetActivityTask would hold an accepted request for 60 s); and the state
machines, versions, aliases, activities, tags and the running execution
made first must be unchanged at the end, on a server that still answers.
"""

from __future__ import annotations

import copy
import http.client
import json
import time

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from conftest import ACCOUNT, REGION, client
from test_bad_input import WRONG, del_path, error_type, java_pattern, set_path

SER = "SerializationException"
VAL = "ValidationException"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/StepFunctionsRole"
WAIT = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}})
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
ONE_STATE = json.dumps({"Type": "Pass", "End": True})
PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}"
MACHINE = f"{PREFIX}:stateMachine:keep"
QUICK = f"{PREFIX}:stateMachine:quick"
VERSION = f"{MACHINE}:1"
ALIAS = f"{MACHINE}:live"
EXECUTION = f"{PREFIX}:execution:keep:keep-run"
ACTIVITY = f"{PREFIX}:activity:keep-act"
MAP_RUN = f"{PREFIX}:mapRun:keep/m:00000000-0000-0000-0000-000000000000"
# A token of the right shape that ferrule never issued.
BOGUS_TOKEN = "A" * 64
TAGS = [{"key": "team", "value": "kyc"}]
LOGGING = {"level": "OFF", "includeExecutionData": False}
TRACING = {"enabled": False}

# Every operation ferrule answers (crates/server/src/states.rs OPERATIONS).
OPS = [
    "CreateActivity", "CreateStateMachine", "CreateStateMachineAlias", "DeleteActivity", "DeleteStateMachine",
    "DeleteStateMachineAlias", "DeleteStateMachineVersion", "DescribeActivity", "DescribeExecution",
    "DescribeMapRun", "DescribeStateMachine", "DescribeStateMachineAlias", "DescribeStateMachineForExecution",
    "GetActivityTask", "GetExecutionHistory", "ListActivities", "ListExecutions", "ListMapRuns",
    "ListStateMachineAliases", "ListStateMachineVersions", "ListStateMachines", "ListTagsForResource",
    "PublishStateMachineVersion", "RedriveExecution", "SendTaskFailure", "SendTaskHeartbeat", "SendTaskSuccess",
    "StartExecution", "StartSyncExecution", "StopExecution", "TagResource", "TestState", "UntagResource",
    "UpdateMapRun", "UpdateStateMachine", "UpdateStateMachineAlias", "ValidateStateMachineDefinition",
]

# The members ferrule reads, by structure (botocore 1.44's model). Members a
# later botocore adds are not generated: ferrule ignores members it does not
# model, as the service ignores unknown members.
SERVED_MEMBERS = {
    "CreateActivityInput": {"name", "tags", "encryptionConfiguration"},
    "CreateStateMachineInput": {
        "name", "definition", "roleArn", "type", "loggingConfiguration", "tags", "tracingConfiguration", "publish",
        "versionDescription", "encryptionConfiguration",
    },
    "CreateStateMachineAliasInput": {"description", "name", "routingConfiguration"},
    "RoutingConfigurationListItem": {"stateMachineVersionArn", "weight"},
    "DeleteActivityInput": {"activityArn"},
    "DeleteStateMachineInput": {"stateMachineArn"},
    "DeleteStateMachineAliasInput": {"stateMachineAliasArn"},
    "DeleteStateMachineVersionInput": {"stateMachineVersionArn"},
    "DescribeActivityInput": {"activityArn"},
    "DescribeExecutionInput": {"executionArn", "includedData"},
    "DescribeMapRunInput": {"mapRunArn"},
    "DescribeStateMachineInput": {"stateMachineArn", "includedData"},
    "DescribeStateMachineAliasInput": {"stateMachineAliasArn"},
    "DescribeStateMachineForExecutionInput": {"executionArn", "includedData"},
    "GetActivityTaskInput": {"activityArn", "workerName"},
    "GetExecutionHistoryInput": {"executionArn", "maxResults", "reverseOrder", "nextToken", "includeExecutionData"},
    "ListActivitiesInput": {"maxResults", "nextToken"},
    "ListExecutionsInput": {"stateMachineArn", "statusFilter", "maxResults", "nextToken", "mapRunArn",
                            "redriveFilter"},
    "ListMapRunsInput": {"executionArn", "maxResults", "nextToken"},
    "ListStateMachineAliasesInput": {"stateMachineArn", "nextToken", "maxResults"},
    "ListStateMachineVersionsInput": {"stateMachineArn", "nextToken", "maxResults"},
    "ListStateMachinesInput": {"maxResults", "nextToken"},
    "ListTagsForResourceInput": {"resourceArn"},
    "PublishStateMachineVersionInput": {"stateMachineArn", "revisionId", "description"},
    "RedriveExecutionInput": {"executionArn", "clientToken"},
    "SendTaskFailureInput": {"taskToken", "error", "cause"},
    "SendTaskHeartbeatInput": {"taskToken"},
    "SendTaskSuccessInput": {"taskToken", "output"},
    "StartExecutionInput": {"stateMachineArn", "name", "input", "traceHeader"},
    "StartSyncExecutionInput": {"stateMachineArn", "name", "input", "traceHeader", "includedData"},
    "StopExecutionInput": {"executionArn", "error", "cause"},
    "TagResourceInput": {"resourceArn", "tags"},
    "Tag": {"key", "value"},
    "TestStateInput": {"definition", "roleArn", "input", "inspectionLevel", "revealSecrets", "variables",
                       "stateName", "mock", "context", "stateConfiguration"},
    "MockInput": {"result", "errorOutput", "fieldValidationMode"},
    "MockErrorOutput": {"error", "cause"},
    "TestStateConfiguration": {"retrierRetryCount", "errorCausedByState", "mapIterationFailureCount",
                               "mapItemReaderData"},
    "UntagResourceInput": {"resourceArn", "tagKeys"},
    "UpdateMapRunInput": {"mapRunArn", "maxConcurrency", "toleratedFailurePercentage", "toleratedFailureCount"},
    "UpdateStateMachineInput": {
        "stateMachineArn", "definition", "roleArn", "loggingConfiguration", "tracingConfiguration", "publish",
        "versionDescription", "encryptionConfiguration",
    },
    "UpdateStateMachineAliasInput": {"stateMachineAliasArn", "description", "routingConfiguration"},
    "ValidateStateMachineDefinitionInput": {"definition", "type", "severity", "maxResults"},
    "LoggingConfiguration": {"level", "includeExecutionData", "destinations"},
    "LogDestination": {"cloudWatchLogsLogGroup"},
    "CloudWatchLogsLogGroup": {"logGroupArn"},
    "TracingConfiguration": {"enabled"},
    "EncryptionConfiguration": {"kmsKeyId", "kmsDataKeyReusePeriodSeconds", "type"},
}

WRONG_SFN = dict(WRONG, long=["10", True, [], [1], {}], float=["1.5", True, [], [1.5], {}])


def model():
    return botocore.session.get_session().get_service_model("stepfunctions")


def bases() -> dict[str, dict]:
    """A valid request of each operation, aimed at the fixed state, so that a
    bad variant accepted by mistake would change it (or, for
    GetActivityTask, hold the connection)."""
    route = [{"stateMachineVersionArn": VERSION, "weight": 100}]
    return {
        "CreateActivity": {"name": "keep-act", "tags": TAGS},
        "CreateStateMachine": {"name": "made", "definition": WAIT, "roleArn": ROLE, "type": "STANDARD",
                               "loggingConfiguration": LOGGING, "tracingConfiguration": TRACING, "tags": TAGS,
                               "publish": True, "versionDescription": "d"},
        "CreateStateMachineAlias": {"name": "live2", "description": "d", "routingConfiguration": route},
        "DeleteActivity": {"activityArn": ACTIVITY},
        "DeleteStateMachine": {"stateMachineArn": MACHINE},
        "DeleteStateMachineAlias": {"stateMachineAliasArn": ALIAS},
        "DeleteStateMachineVersion": {"stateMachineVersionArn": VERSION},
        "DescribeActivity": {"activityArn": ACTIVITY},
        "DescribeExecution": {"executionArn": EXECUTION, "includedData": "ALL_DATA"},
        "DescribeMapRun": {"mapRunArn": MAP_RUN},
        "DescribeStateMachine": {"stateMachineArn": MACHINE, "includedData": "ALL_DATA"},
        "DescribeStateMachineAlias": {"stateMachineAliasArn": ALIAS},
        "DescribeStateMachineForExecution": {"executionArn": EXECUTION, "includedData": "ALL_DATA"},
        "GetActivityTask": {"activityArn": ACTIVITY, "workerName": "w"},
        "GetExecutionHistory": {"executionArn": EXECUTION, "maxResults": 10, "reverseOrder": False,
                                "nextToken": "ferrule:0", "includeExecutionData": True},
        "ListActivities": {"maxResults": 10, "nextToken": "ferrule:0"},
        "ListExecutions": {"stateMachineArn": MACHINE, "statusFilter": "RUNNING", "maxResults": 10,
                           "nextToken": "ferrule:0", "redriveFilter": "NOT_REDRIVEN"},
        "ListMapRuns": {"executionArn": EXECUTION, "maxResults": 10, "nextToken": "ferrule:0"},
        "ListStateMachineAliases": {"stateMachineArn": MACHINE, "nextToken": "ferrule:0", "maxResults": 10},
        "ListStateMachineVersions": {"stateMachineArn": MACHINE, "nextToken": "ferrule:0", "maxResults": 10},
        "ListStateMachines": {"maxResults": 10, "nextToken": "ferrule:0"},
        "ListTagsForResource": {"resourceArn": MACHINE},
        "PublishStateMachineVersion": {"stateMachineArn": MACHINE, "description": "d"},
        "RedriveExecution": {"executionArn": EXECUTION, "clientToken": "t"},
        "SendTaskFailure": {"taskToken": BOGUS_TOKEN, "error": "e", "cause": "c"},
        "SendTaskHeartbeat": {"taskToken": BOGUS_TOKEN},
        "SendTaskSuccess": {"taskToken": BOGUS_TOKEN, "output": "{}"},
        "StartExecution": {"stateMachineArn": MACHINE, "name": "keep-run", "input": '{"a": 1}',
                           "traceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793"},
        "StartSyncExecution": {"stateMachineArn": QUICK, "name": "s", "input": "{}", "traceHeader": "t",
                               "includedData": "ALL_DATA"},
        "StopExecution": {"executionArn": EXECUTION, "error": "e", "cause": "c"},
        "TagResource": {"resourceArn": MACHINE, "tags": [{"key": "k2", "value": "v"}]},
        "TestState": {"definition": ONE_STATE, "roleArn": ROLE, "input": "{}", "inspectionLevel": "INFO",
                      "revealSecrets": False, "variables": "{}", "stateName": "P", "context": "{}"},
        "UntagResource": {"resourceArn": MACHINE, "tagKeys": ["team"]},
        "UpdateMapRun": {"mapRunArn": MAP_RUN, "maxConcurrency": 1, "toleratedFailurePercentage": 1.5,
                         "toleratedFailureCount": 1},
        "UpdateStateMachine": {"stateMachineArn": MACHINE, "definition": PASS, "roleArn": ROLE,
                               "loggingConfiguration": LOGGING, "tracingConfiguration": TRACING, "publish": True,
                               "versionDescription": "d"},
        "UpdateStateMachineAlias": {"stateMachineAliasArn": ALIAS, "description": "d",
                                    "routingConfiguration": route},
        "ValidateStateMachineDefinition": {"definition": WAIT, "type": "STANDARD", "severity": "ERROR",
                                           "maxResults": 10},
    }


# ---------------------------------------------------------------------------
# Generation from the service model
# ---------------------------------------------------------------------------

def members(shape, path=(), depth=0):
    """(path, shape, required) for every served member under structure `shape`."""
    if depth > 4:
        return
    required = set(shape.required_members)
    for name, member in shape.members.items():
        if name not in SERVED_MEMBERS.get(shape.name, ()):
            continue
        p = list(path) + [name]
        yield p, member, name in required
        if member.type_name == "structure":
            yield from members(member, p, depth + 1)
        elif member.type_name == "list":
            yield p + [0], member.member, False
            if member.member.type_name == "structure":
                yield from members(member.member, p + [0], depth + 1)


def constraint(at: str, text: str) -> str:
    """The message text of one broken model constraint at top-level member `at`."""
    return f"at '{at}' failed to satisfy constraint: {text}"


def pattern_violation(meta) -> str | None:
    pattern = meta.get("pattern")
    if pattern is None:
        return None
    # Java's `\p{ASCII}` is not Python's.
    if pattern == r"\p{ASCII}*":
        return "ü"
    rx = java_pattern(pattern)
    if rx is None:
        return None
    lo, hi = meta.get("min", 0), meta.get("max", 10 ** 6)
    for s in ["a b", "ü", "123", "bad!", "a/b", "a:b", "*"]:
        if lo <= len(s) <= hi and not rx.fullmatch(s):
            return s
    return None


def model_cases() -> list[tuple]:
    m = model()
    b = bases()
    cases = []
    for op in OPS:
        base = b[op]
        shape = m.operation_model(op).input_shape
        for name in shape.required_members:
            cases.append((op, del_path(base, [name]), VAL, f"{op}: {name} missing",
                          constraint(name, "Member must not be null")))
        for path, s, required in members(shape):
            t = s.type_name
            label = f"{op}.{'.'.join(map(str, path))}"
            top = len(path) == 1
            for v in WRONG_SFN[t]:
                cases.append((op, set_path(base, path, v), SER, f"{label} = {v!r}", None))
            meta = s.metadata

            def val(value, text, why):
                message = constraint(path[0], text) if top else f"failed to satisfy constraint: {text}"
                cases.append((op, set_path(base, path, value), VAL, f"{label} {why}", message))

            if t == "string":
                if "enum" in meta:
                    val("NOT_A_VALUE", "Member must satisfy enum value set", "enum")
                    continue
                if meta.get("min", 0) >= 1:
                    val("", f"Member must have length greater than or equal to {meta['min']}", "empty")
                if "max" in meta and meta["max"] <= 300_000:
                    val("a" * (meta["max"] + 1), f"Member must have length less than or equal to {meta['max']}",
                        "too long")
                bad = pattern_violation(meta)
                if bad is not None:
                    val(bad, "Member must satisfy regular expression pattern", f"= {bad!r}")
            elif t in ("integer", "long", "float"):
                if "min" in meta:
                    val(meta["min"] - 1, f"Member must have value greater than or equal to {meta['min']}",
                        "< min")
                if "max" in meta:
                    val(meta["max"] + 1, f"Member must have value less than or equal to {meta['max']}", "> max")
            elif t == "list":
                if meta.get("min", 0) >= 1:
                    val([], f"Member must have length greater than or equal to {meta['min']}", "empty list")
                if "max" in meta:
                    val([copy.deepcopy(base[path[0]][0]) if top and base.get(path[0]) else {}] * (meta["max"] + 1),
                        f"Member must have length less than or equal to {meta['max']}", "too many")
            elif t == "structure":
                for r in s.required_members:
                    cases.append((op, set_path(base, path, {}), VAL, f"{label}.{r} missing",
                                  "Member must not be null"))
                    break
    return cases


# ---------------------------------------------------------------------------
# What the model cannot say
# ---------------------------------------------------------------------------

BAD_ARNS = ["not-an-arn", f"arn:aws:sqs:{REGION}:{ACCOUNT}:q", "arn:aws:states", f"{PREFIX}:",
            f"{PREFIX}:nonsense:x", "arn::states:r:a:stateMachine:x"]
# The ARN members, the kind of resource each names, and an ARN of another kind.
ARN_MEMBERS = {
    ("DeleteActivity", "activityArn"): MACHINE, ("DescribeActivity", "activityArn"): MACHINE,
    ("GetActivityTask", "activityArn"): MACHINE, ("DescribeExecution", "executionArn"): MACHINE,
    ("DescribeStateMachineForExecution", "executionArn"): ACTIVITY,
    ("GetExecutionHistory", "executionArn"): ACTIVITY, ("StopExecution", "executionArn"): MACHINE,
    ("DescribeStateMachine", "stateMachineArn"): ACTIVITY, ("DeleteStateMachine", "stateMachineArn"): EXECUTION,
    ("ListExecutions", "stateMachineArn"): ACTIVITY, ("ListStateMachineVersions", "stateMachineArn"): ACTIVITY,
    ("ListStateMachineAliases", "stateMachineArn"): EXECUTION,
    ("PublishStateMachineVersion", "stateMachineArn"): ACTIVITY, ("StartExecution", "stateMachineArn"): ACTIVITY,
    ("StartSyncExecution", "stateMachineArn"): EXECUTION, ("UpdateStateMachine", "stateMachineArn"): ACTIVITY,
    ("DescribeStateMachineAlias", "stateMachineAliasArn"): MACHINE,
    ("UpdateStateMachineAlias", "stateMachineAliasArn"): VERSION,
    ("DeleteStateMachineAlias", "stateMachineAliasArn"): ACTIVITY,
    ("DeleteStateMachineVersion", "stateMachineVersionArn"): ALIAS,
    ("TagResource", "resourceArn"): EXECUTION, ("UntagResource", "resourceArn"): EXECUTION,
    ("ListTagsForResource", "resourceArn"): EXECUTION,
}
# Characters a resource name may not hold (the service's InvalidName).
NAME_BREAKERS = " <>{}[]?*\"#%\\^|~`$&,;:/\t\n\u0001\u007f"


def service_cases() -> list[tuple]:
    b = bases()
    cases = []
    for (op, member), other in ARN_MEMBERS.items():
        for arn in BAD_ARNS + [other]:
            code, text = "InvalidArn", "Invalid Arn"
            well_formed = arn.startswith(f"{PREFIX}:") and arn != f"{PREFIX}:"
            if member == "resourceArn" and well_formed:
                # Only state machines and activities hold tags: another
                # resource is not found among them.
                code, text = "ResourceNotFound", "Resource Not Found"
            elif op == "DeleteStateMachineVersion" and arn == other:
                code, text = VAL, "Expected a state machine version ARN."
            cases.append((op, set_path(b[op], [member], arn), code, f"{op}.{member} = {arn!r}", text))
    for op in ("CreateStateMachine", "CreateActivity", "StartExecution", "StartSyncExecution"):
        for c in NAME_BREAKERS:
            name = f"keep{c}x"
            cases.append((op, set_path(b[op], ["name"], name), "InvalidName", f"{op}.name with {c!r}",
                          "Invalid Name"))
    # Alias names: the model's pattern (a letter, `_`, `-` or `.` somewhere;
    # nothing else) is a ValidationException.
    for op in ("CreateStateMachineAlias",):
        for name in ["123", "a b", "ü", "live!", "a:b", "a/b", "x#"]:
            cases.append((op, set_path(b[op], ["name"], name), VAL, f"alias name {name!r}",
                          constraint("name", "Member must satisfy regular expression pattern")))
    for op in ("CreateStateMachine", "UpdateStateMachine"):
        for d in ["{not json", "[]", "1", '{"StartAt": "A"}', '{"StartAt": "A", "States": {}}',
                  '{"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": true}}}']:
            cases.append((op, set_path(b[op], ["definition"], d), "InvalidDefinition", f"{op} definition {d!r}",
                          None))
    for op in ("StartExecution", "StartSyncExecution"):
        for i in ["{not json", "", "[1,", '{"a": 1} x', "\"unterminated"]:
            cases.append((op, set_path(b[op], ["input"], i), "InvalidExecutionInput", f"{op} input {i!r}", None))
    for op in ("GetExecutionHistory", "ListActivities", "ListExecutions", "ListStateMachineAliases",
               "ListStateMachineVersions", "ListStateMachines"):
        for token in ["garbage", "ferrule:", "ferrule:-1", "ferrule:99999", "ferrule:1x"]:
            cases.append((op, set_path(b[op], ["nextToken"], token), "InvalidToken", f"{op} token {token!r}", None))
    for op in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
        cases.append((op, set_path(b[op], ["taskToken"], "garbage"), "InvalidToken", f"{op} token garbage", None))
    # Routing: weights, duplicates, versions of another machine, a sum not 100.
    for op in ("CreateStateMachineAlias", "UpdateStateMachineAlias"):
        base = b[op]
        for route, why in [
            ([{"stateMachineVersionArn": VERSION, "weight": 101}], "weight 101"),
            ([{"stateMachineVersionArn": VERSION, "weight": 50}] * 2, "same version twice"),
            ([{"stateMachineVersionArn": VERSION, "weight": 50}], "weights not 100"),
            ([{"stateMachineVersionArn": f"{QUICK}:1", "weight": 100}], "another machine's version"),
            ([{"stateMachineVersionArn": f"{MACHINE}:7", "weight": 100}], "a version never published"),
            ([{"stateMachineVersionArn": MACHINE, "weight": 100}], "not a version"),
            ([{"stateMachineVersionArn": VERSION}], "no weight"),
            ([{"weight": 100}], "no version"),
        ]:
            code = VAL
            if why == "a version never published" or (why == "another machine's version"
                                                      and op == "CreateStateMachineAlias"):
                # A new alias belongs to the machine of its first version.
                code = "ResourceNotFound"
            cases.append((op, set_path(base, ["routingConfiguration"], route), code, f"{op} routing {why}", None))
    many = [{"key": f"k{i}", "value": "v"} for i in range(51)]
    cases.append(("TagResource", set_path(b["TagResource"], ["tags"], many), "TooManyTags", "51 tags", None))
    cases.append(("CreateActivity", set_path(b["CreateActivity"], ["name"], "fresh") | {"tags": many},
                  "TooManyTags", "activity with 51 tags", None))
    # Bodies that are not a JSON object, or not JSON at all.
    for op in OPS:
        for body in [[], "x", 1, None, b"{not json", b'{"name": "a"', b"\xff\xfe", b'{"name": "a"} x']:
            cases.append((op, body, SER, f"{op} body {body!r}", None))
    return cases


# ---------------------------------------------------------------------------
# Sending and the fixed state
# ---------------------------------------------------------------------------

class Raw:
    """Unsigned raw Step Functions requests over one keep-alive connection."""

    def __init__(self, url: str, timeout: float = 5.0):
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def send(self, op: str, body) -> tuple[int, dict]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AWSStepFunctions.{op}"}
        for attempt in range(2):
            try:
                self.conn.request("POST", "/", body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                return r.status, (json.loads(raw) if raw else {})
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def make_fixed_state(sfn):
    m = sfn.create_state_machine(name="keep", definition=WAIT, roleArn=ROLE, tags=TAGS, publish=True)
    assert (m["stateMachineArn"], m["stateMachineVersionArn"]) == (MACHINE, VERSION)
    assert sfn.create_state_machine_alias(name="live", routingConfiguration=[
        {"stateMachineVersionArn": VERSION, "weight": 100}])["stateMachineAliasArn"] == ALIAS
    assert sfn.create_state_machine(name="quick", type="EXPRESS", definition=PASS,
                                    roleArn=ROLE)["stateMachineArn"] == QUICK
    assert sfn.create_activity(name="keep-act", tags=TAGS)["activityArn"] == ACTIVITY
    assert sfn.start_execution(stateMachineArn=MACHINE, name="keep-run",
                               input='{"a": 1}')["executionArn"] == EXECUTION


def fixed_state(sfn) -> dict:
    """Everything the bad requests could touch, read through boto3."""
    machines = []
    for item in sfn.list_state_machines()["stateMachines"]:
        arn = item["stateMachineArn"]
        machines.append({
            "describe": sfn.describe_state_machine(stateMachineArn=arn),
            "tags": sfn.list_tags_for_resource(resourceArn=arn)["tags"],
            "versions": sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"],
            "aliases": [sfn.describe_state_machine_alias(stateMachineAliasArn=a["stateMachineAliasArn"])
                        for a in sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]],
            "executions": sfn.list_executions(stateMachineArn=arn)["executions"],
        })
    for m in machines:
        for d in [m["describe"], *m["aliases"]]:
            d.pop("ResponseMetadata", None)
    activities = sfn.list_activities()["activities"]
    run = sfn.describe_execution(executionArn=EXECUTION)
    run.pop("ResponseMetadata", None)
    history = sfn.get_execution_history(executionArn=EXECUTION)["events"]
    return {"machines": machines, "activities": activities,
            "activity_tags": sfn.list_tags_for_resource(resourceArn=ACTIVITY)["tags"],
            "run": run, "history": history}


def test_generated_bad_requests_are_refused_and_change_nothing(endpoint, server):
    began = time.monotonic()
    sfn = client("stepfunctions", endpoint)
    make_fixed_state(sfn)
    raw = Raw(endpoint)

    # Positive controls: these bases are well-formed requests the server
    # takes (a refusal below is about the bad member, not the base).
    for op in ("DescribeStateMachine", "DescribeExecution", "DescribeActivity", "DescribeStateMachineAlias",
               "DescribeStateMachineForExecution", "GetExecutionHistory", "ListActivities", "ListExecutions",
               "ListStateMachineAliases", "ListStateMachineVersions", "ListStateMachines", "ListTagsForResource",
               "ValidateStateMachineDefinition", "StartExecution", "CreateActivity"):
        status, out = raw.send(op, bases()[op])
        assert status == 200, (op, out)

    before = fixed_state(sfn)
    cases = model_cases() + service_cases()
    assert len(cases) >= 1500, len(cases)
    assert {c[0] for c in cases} == set(OPS)

    accepted, wrong, server_errors = [], [], []
    for op, body, expected, label, message in cases:
        try:
            status, out = raw.send(op, body)
        except TimeoutError as e:  # a hang
            pytest.fail(f"{label}: no answer within 5 s ({e})")
        if status >= 500:
            server_errors.append((label, status, out))
        elif status < 400:
            accepted.append((label, out))
        elif error_type(out) != expected or (message and message not in out.get("message", "")):
            wrong.append((label, expected, message, status, out))
    summary = (f"{len(cases)} cases: {len(accepted)} accepted, {len(wrong)} wrong error, "
               f"{len(server_errors)} 5xx")
    assert not server_errors, f"{summary}\n{server_errors[:10]}"
    assert not accepted, f"{summary}\n" + "\n".join(map(str, accepted[:60]))
    assert not wrong, f"{summary}\n" + "\n".join(map(str, wrong[:80]))

    assert fixed_state(sfn) == before
    assert sfn.describe_execution(executionArn=EXECUTION)["status"] == "RUNNING"
    assert server.health()["status"] == "ok"
    assert time.monotonic() - began < 60, "the suite must stay fast"


def unvalidated(endpoint: str):
    return boto3.client("stepfunctions", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(parameter_validation=False, retries={"max_attempts": 1},
                                      inject_host_prefix=False))


def test_bad_requests_through_boto3(endpoint):
    """What botocore lets through (it checks types, required members and
    minimums, not maximums or patterns; with parameter validation off,
    anything) gets the same errors as raw requests."""
    sfn = client("stepfunctions", endpoint)
    make_fixed_state(sfn)
    loose = unvalidated(endpoint)
    calls = [
        (sfn.create_state_machine, dict(name="x" * 81, definition=PASS, roleArn=ROLE), VAL,
         "1 validation error detected: Value '" + "x" * 81 + "' at 'name' failed to satisfy constraint: "
         "Member must have length less than or equal to 80"),
        (sfn.create_state_machine, dict(name="a b", definition=PASS, roleArn=ROLE), "InvalidName",
         "Invalid Name: 'a b'"),
        (sfn.create_state_machine, dict(name="m", definition="{", roleArn=ROLE), "InvalidDefinition", ""),
        (sfn.create_state_machine, dict(name="m", definition=PASS, roleArn=ROLE, type="FAST"), VAL,
         "at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"),
        (sfn.start_execution, dict(stateMachineArn=MACHINE, input="{"), "InvalidExecutionInput", ""),
        (sfn.start_execution, dict(stateMachineArn=MACHINE, traceHeader="ü"), VAL, "at 'traceHeader'"),
        (sfn.start_execution, dict(stateMachineArn="x" * 257), VAL,
         "at 'stateMachineArn' failed to satisfy constraint: Member must have length less than or equal to 256"),
        (sfn.describe_execution, dict(executionArn=MACHINE), "InvalidArn", "Invalid Arn"),
        (sfn.describe_execution, dict(executionArn=EXECUTION + "x" * 256), VAL, "at 'executionArn'"),
        (sfn.list_executions, dict(stateMachineArn=MACHINE, maxResults=1001), VAL,
         "at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"),
        (sfn.list_state_machines, dict(nextToken="nope"), "InvalidToken", ""),
        (sfn.create_state_machine_alias, dict(name="123", routingConfiguration=[
            {"stateMachineVersionArn": VERSION, "weight": 100}]), VAL, "regular expression pattern"),
        (sfn.create_state_machine_alias, dict(name="a", routingConfiguration=[
            {"stateMachineVersionArn": VERSION, "weight": 101}]), VAL, "less than or equal to 100"),
        (sfn.send_task_success, dict(taskToken="t", output="{}"), "InvalidToken", ""),
        (sfn.tag_resource, dict(resourceArn=MACHINE, tags=[{"key": "k" * 129, "value": "v"}]), VAL, "128"),
        (sfn.stop_execution, dict(executionArn=EXECUTION, error="e" * 257), VAL, "at 'error'"),
        (loose.describe_state_machine, dict(stateMachineArn=["x"]), SER, ""),
        (loose.list_state_machines, dict(maxResults="10"), SER, ""),
        (loose.create_state_machine, dict(name="m", definition=PASS, roleArn=ROLE, publish="yes"), SER, ""),
        (loose.create_state_machine, dict(name="m", definition=PASS, roleArn=ROLE, loggingConfiguration={"level": ["OFF"]}),
         SER, ""),
        (loose.create_state_machine, dict(name="m", definition=PASS, roleArn=ROLE,
                                          tracingConfiguration={"enabled": "no"}), SER, ""),
        (loose.start_sync_execution, dict(stateMachineArn=QUICK, input={"a": 1}), SER, ""),
        (loose.create_activity, dict(name="a", tags=[{"key": 1, "value": "v"}]), SER, ""),
        (loose.describe_map_run, dict(mapRunArn=1), SER, ""),
    ]
    for fn, kwargs, code, text in calls:
        with pytest.raises(ClientError) as e:
            fn(**kwargs)
        err = e.value.response["Error"]
        assert err["Code"] == code, (fn, kwargs, err)
        assert text in err["Message"], (fn, kwargs, err)
    # botocore itself refuses these before sending: nothing reaches ferrule.
    for fn, kwargs in [(sfn.create_state_machine, dict(name="", definition=PASS, roleArn=ROLE)),
                       (sfn.list_state_machines, dict(maxResults="10"))]:
        with pytest.raises(ParamValidationError):
            fn(**kwargs)
    names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    assert sorted(names) == ["keep", "quick"]
    assert sfn.describe_execution(executionArn=EXECUTION)["status"] == "RUNNING"


def test_the_model_still_has_every_member_ferrule_serves():
    """The generation covers every member ferrule reads: none was renamed
    or dropped by the installed botocore, and every operation is in it."""
    m = model()
    assert set(OPS) <= set(m.operation_names)
    found: dict[str, set] = {}
    for op in OPS:
        shape = m.operation_model(op).input_shape
        found.setdefault(shape.name, set()).update(n for n in shape.members if n in SERVED_MEMBERS[shape.name])
        for _, s, _ in members(shape):
            if s.type_name == "structure":
                found.setdefault(s.name, set()).update(n for n in s.members if n in SERVED_MEMBERS.get(s.name, ()))
    assert found == SERVED_MEMBERS
