"""Bad input gets the service's error, never a silent default.

Thousands of bad requests, generated deterministically from botocore's own
service models (`events` 2015-10-07, `sqs` 2012-11-05): for every operation
ferrule serves and every member of its request (nested members too), values
of the wrong JSON type, strings too short, too long or off the model's
pattern, numbers out of range, unknown enum values, missing required members;
then the cases the model cannot express (target ARNs, schedule expressions,
event times, SQS attribute values, batch entries). They are sent raw over
HTTP (unsigned, keep-alive), and some through boto3.

Every case must be refused with a 4xx and the expected error type (or, for
an SQS batch entry, that entry must fail alone); none may be a 5xx or take
longer than the socket timeout; and a fixed set of buses, rules, targets and
queue messages made first must be unchanged at the end, on a server that
still answers.

Expected error types follow the AWS JSON protocols: a member of the wrong
JSON type is a `SerializationException`; a model constraint broken is a
`ValidationException` (EventBridge). SQS's JSON protocol is query-compatible:
scalars are read as text (a number where a string is expected is not an
error), collections where scalars are expected are a
`SerializationException`, and values are checked as query parameters
(`MissingParameter`, `InvalidParameterValue`, `InvalidAttributeValue`, ...).
"""

from __future__ import annotations

import copy
import http.client
import json
import re
import time

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION

SER = "SerializationException"
VAL = "ValidationException"
# An SQS batch entry refused on its own (HTTP 200, the entry in `Failed`).
ENTRY = "entry-failed"


# The members ferrule models, by structure (botocore 1.44's models). Members a
# later botocore adds are not generated: ferrule ignores members it does not
# model, as the services ignore unknown members. Not modelled on purpose: the
# `Target` parameters of kinds of target ferrule does not deliver to
# (Kinesis, RunCommand, ECS, Batch, Redshift, SageMaker, AppSync), whose
# targets are refused by their ARN; a connection's `ConnectivityParameters`
# and `InvocationConnectivityParameters` (private APIs, refused: see
# `connection_cases`).
_CONNECTION_PARAMETER = {"Key", "Value", "IsValueSecret"}
SERVED_MEMBERS = {
    "ChangeMessageVisibilityBatchRequest": {"Entries", "QueueUrl"},
    "ChangeMessageVisibilityBatchRequestEntry": {"Id", "ReceiptHandle", "VisibilityTimeout"},
    "ChangeMessageVisibilityRequest": {"QueueUrl", "ReceiptHandle", "VisibilityTimeout"},
    "CreateEventBusRequest": {
        "DeadLetterConfig", "Description", "EventSourceName", "KmsKeyIdentifier", "LogConfig", "Name", "Tags",
    },
    "CreateQueueRequest": {"Attributes", "QueueName", "tags"},
    "DeadLetterConfig": {"Arn"},
    "DeleteEventBusRequest": {"Name"},
    "DeleteMessageBatchRequest": {"Entries", "QueueUrl"},
    "DeleteMessageBatchRequestEntry": {"Id", "ReceiptHandle"},
    "DeleteMessageRequest": {"QueueUrl", "ReceiptHandle"},
    "DeleteQueueRequest": {"QueueUrl"},
    "DeleteRuleRequest": {"EventBusName", "Force", "Name"},
    "DescribeEventBusRequest": {"Name"},
    "DescribeRuleRequest": {"EventBusName", "Name"},
    "DisableRuleRequest": {"EventBusName", "Name"},
    "EnableRuleRequest": {"EventBusName", "Name"},
    "GetQueueAttributesRequest": {"AttributeNames", "QueueUrl"},
    "GetQueueUrlRequest": {"QueueName", "QueueOwnerAWSAccountId"},
    "InputTransformer": {"InputPathsMap", "InputTemplate"},
    "ListEventBusesRequest": {"Limit", "NamePrefix", "NextToken"},
    "ListQueuesRequest": {"MaxResults", "NextToken", "QueueNamePrefix"},
    "ListRuleNamesByTargetRequest": {"EventBusName", "Limit", "NextToken", "TargetArn"},
    "ListRulesRequest": {"EventBusName", "Limit", "NamePrefix", "NextToken"},
    "ListTargetsByRuleRequest": {"EventBusName", "Limit", "NextToken", "Rule"},
    "LogConfig": {"IncludeDetail", "Level"},
    "MessageAttributeValue": {"BinaryListValues", "BinaryValue", "DataType", "StringListValues", "StringValue"},
    "MessageSystemAttributeValue": {"BinaryListValues", "BinaryValue", "DataType", "StringListValues", "StringValue"},
    "PurgeQueueRequest": {"QueueUrl"},
    "PutEventsRequest": {"EndpointId", "Entries"},
    "PutEventsRequestEntry": {"Detail", "DetailType", "EventBusName", "Resources", "Source", "Time", "TraceHeader"},
    "PutPermissionRequest": {"Action", "Condition", "EventBusName", "Policy", "Principal", "StatementId"},
    "Condition": {"Key", "Type", "Value"},
    "RemovePermissionRequest": {"EventBusName", "RemoveAllPermissions", "StatementId"},
    "PutRuleRequest": {
        "Description", "EventBusName", "EventPattern", "Name", "RoleArn", "ScheduleExpression", "State", "Tags",
    },
    "PutTargetsRequest": {"EventBusName", "Rule", "Targets"},
    "ReceiveMessageRequest": {
        "AttributeNames", "MaxNumberOfMessages", "MessageAttributeNames", "MessageSystemAttributeNames", "QueueUrl", "ReceiveRequestAttemptId", "VisibilityTimeout", "WaitTimeSeconds",
    },
    "RemoveTargetsRequest": {"EventBusName", "Force", "Ids", "Rule"},
    "RetryPolicy": {"MaximumEventAgeInSeconds", "MaximumRetryAttempts"},
    "SendMessageBatchRequest": {"Entries", "QueueUrl"},
    "SendMessageBatchRequestEntry": {
        "DelaySeconds", "Id", "MessageAttributes", "MessageBody", "MessageDeduplicationId", "MessageGroupId", "MessageSystemAttributes",
    },
    "SendMessageRequest": {
        "DelaySeconds", "MessageAttributes", "MessageBody", "MessageDeduplicationId", "MessageGroupId", "MessageSystemAttributes", "QueueUrl",
    },
    "SetQueueAttributesRequest": {"Attributes", "QueueUrl"},
    "Tag": {"Key", "Value"},
    "Target": {
        "Arn", "DeadLetterConfig", "HttpParameters", "Id", "Input", "InputPath", "InputTransformer", "RetryPolicy",
        "RoleArn", "SqsParameters",
    },
    "SqsParameters": {"MessageGroupId"},
    "HttpParameters": {"HeaderParameters", "PathParameterValues", "QueryStringParameters"},
    "TestEventPatternRequest": {"Event", "EventPattern"},
    "UpdateEventBusRequest": {"DeadLetterConfig", "Description", "KmsKeyIdentifier", "LogConfig", "Name"},
    "TagResourceRequest": {"ResourceARN", "Tags"},
    "UntagResourceRequest": {"ResourceARN", "TagKeys"},
    "ListTagsForResourceRequest": {"ResourceARN"},
    # Archives and replays.
    "CreateArchiveRequest": {
        "ArchiveName", "Description", "EventPattern", "EventSourceArn", "KmsKeyIdentifier", "RetentionDays",
    },
    "DescribeArchiveRequest": {"ArchiveName"},
    "UpdateArchiveRequest": {"ArchiveName", "Description", "EventPattern", "KmsKeyIdentifier", "RetentionDays"},
    "DeleteArchiveRequest": {"ArchiveName"},
    "ListArchivesRequest": {"EventSourceArn", "Limit", "NamePrefix", "NextToken", "State"},
    "StartReplayRequest": {
        "Description", "Destination", "EventEndTime", "EventSourceArn", "EventStartTime", "ReplayName",
    },
    "ReplayDestination": {"Arn", "FilterArns"},
    "DescribeReplayRequest": {"ReplayName"},
    "CancelReplayRequest": {"ReplayName"},
    "ListReplaysRequest": {"EventSourceArn", "Limit", "NamePrefix", "NextToken", "State"},
    # Connections and API destinations.
    "CreateConnectionRequest": {"AuthParameters", "AuthorizationType", "Description", "KmsKeyIdentifier", "Name"},
    "UpdateConnectionRequest": {"AuthParameters", "AuthorizationType", "Description", "KmsKeyIdentifier", "Name"},
    "CreateConnectionAuthRequestParameters": {
        "ApiKeyAuthParameters", "BasicAuthParameters", "InvocationHttpParameters", "OAuthParameters",
    },
    "UpdateConnectionAuthRequestParameters": {
        "ApiKeyAuthParameters", "BasicAuthParameters", "InvocationHttpParameters", "OAuthParameters",
    },
    "CreateConnectionApiKeyAuthRequestParameters": {"ApiKeyName", "ApiKeyValue"},
    "UpdateConnectionApiKeyAuthRequestParameters": {"ApiKeyName", "ApiKeyValue"},
    "CreateConnectionBasicAuthRequestParameters": {"Password", "Username"},
    "UpdateConnectionBasicAuthRequestParameters": {"Password", "Username"},
    "CreateConnectionOAuthRequestParameters": {
        "AuthorizationEndpoint", "ClientParameters", "HttpMethod", "OAuthHttpParameters",
    },
    "UpdateConnectionOAuthRequestParameters": {
        "AuthorizationEndpoint", "ClientParameters", "HttpMethod", "OAuthHttpParameters",
    },
    "CreateConnectionOAuthClientRequestParameters": {"ClientID", "ClientSecret"},
    "UpdateConnectionOAuthClientRequestParameters": {"ClientID", "ClientSecret"},
    "ConnectionHttpParameters": {"BodyParameters", "HeaderParameters", "QueryStringParameters"},
    "ConnectionHeaderParameter": _CONNECTION_PARAMETER,
    "ConnectionQueryStringParameter": _CONNECTION_PARAMETER,
    "ConnectionBodyParameter": _CONNECTION_PARAMETER,
    "DescribeConnectionRequest": {"Name"},
    "DeleteConnectionRequest": {"Name"},
    "DeauthorizeConnectionRequest": {"Name"},
    "ListConnectionsRequest": {"ConnectionState", "Limit", "NamePrefix", "NextToken"},
    "CreateApiDestinationRequest": {
        "ConnectionArn", "Description", "HttpMethod", "InvocationEndpoint", "InvocationRateLimitPerSecond", "Name",
    },
    "UpdateApiDestinationRequest": {
        "ConnectionArn", "Description", "HttpMethod", "InvocationEndpoint", "InvocationRateLimitPerSecond", "Name",
    },
    "DescribeApiDestinationRequest": {"Name"},
    "DeleteApiDestinationRequest": {"Name"},
    "ListApiDestinationsRequest": {"ConnectionArn", "Limit", "NamePrefix", "NextToken"},
}

EVENTS_OPS = [
    "PutEvents", "PutRule", "DescribeRule", "DeleteRule", "ListRules", "EnableRule", "DisableRule",
    "PutTargets", "RemoveTargets", "ListTargetsByRule", "ListRuleNamesByTarget", "TestEventPattern",
    "CreateEventBus", "DescribeEventBus", "DeleteEventBus", "ListEventBuses", "PutPermission",
    "RemovePermission", "UpdateEventBus", "TagResource", "UntagResource", "ListTagsForResource",
]
ARCHIVE_OPS = [
    "CreateArchive", "DescribeArchive", "UpdateArchive", "DeleteArchive", "ListArchives", "StartReplay",
    "DescribeReplay", "CancelReplay", "ListReplays",
]
CONNECTION_OPS = [
    "CreateConnection", "DescribeConnection", "UpdateConnection", "DeleteConnection", "ListConnections",
    "DeauthorizeConnection", "CreateApiDestination", "DescribeApiDestination", "UpdateApiDestination",
    "DeleteApiDestination", "ListApiDestinations",
]
EVENTS_OPS += ARCHIVE_OPS + CONNECTION_OPS
SQS_OPS = [
    "CreateQueue", "GetQueueUrl", "ListQueues", "DeleteQueue", "GetQueueAttributes", "SetQueueAttributes",
    "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
    "ChangeMessageVisibility", "ChangeMessageVisibilityBatch", "PurgeQueue",
]

KEEP_PATTERN = json.dumps({"source": ["keep"]})
QUEUE_URL_PATH = f"/{ACCOUNT}/keep-q"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:keep-q"
DLQ_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:keep-dlq"
BOGUS_HANDLE = "0" * 72
EVENTS_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}"
ORDERS_ARN = f"{EVENTS_ARN}:event-bus/orders"
DEFAULT_BUS_ARN = f"{EVENTS_ARN}:event-bus/default"
ORDERS_RULE_ARN = f"{EVENTS_ARN}:rule/orders/keep-rule"
ORDERS_BARE_RULE_ARN = f"{EVENTS_ARN}:rule/orders/bare-rule"
ARCHIVE_ARN = f"{EVENTS_ARN}:archive/keep-archive"
# The rule CreateArchive makes on the archive's bus, managed by the service.
ARCHIVE_RULE_ARN = f"{EVENTS_ARN}:rule/orders/Events-Archive-keep-archive"
ARCHIVE_PATTERN = json.dumps({"source": ["archived"]})
# The fixed replay's window (May 2024: nothing archived then, so it completes at once).
REPLAY_WINDOW = (1714564800, 1714568400)
# Every secret sent contains this marker; no answer may contain it.
SECRET = "S3CRET"
API_KEY_AUTH = {
    "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": f"key-{SECRET}"},
    "InvocationHttpParameters": {
        "HeaderParameters": [{"Key": "x-tenant", "Value": "t1", "IsValueSecret": False}],
        "QueryStringParameters": [{"Key": "sig", "Value": f"q-{SECRET}", "IsValueSecret": True}],
        "BodyParameters": [{"Key": "origin", "Value": "ferrule", "IsValueSecret": False}],
    },
}
BASIC_AUTH = {"BasicAuthParameters": {"Username": "user", "Password": f"pw-{SECRET}"}}
OAUTH_AUTH = {"OAuthParameters": {
    "ClientParameters": {"ClientID": "client", "ClientSecret": f"cs-{SECRET}"},
    "AuthorizationEndpoint": "https://auth.example.com/token", "HttpMethod": "POST",
    "OAuthHttpParameters": {"BodyParameters": [{"Key": "scope", "Value": "events", "IsValueSecret": False}]},
}}
DEST_ENDPOINT = "https://api.example.com/orders/*"
# A connection ARN of the right form that names no connection (the fixed
# connection's ARN ends in an id the server chose).
NO_CONNECTION_ARN = f"{EVENTS_ARN}:connection/keep-conn/00000000-0000-0000-0000-000000000000"


def model(service: str):
    return botocore.session.get_session().get_service_model(service)


def events_bases(endpoint: str, conn_arn: str = NO_CONNECTION_ARN) -> dict[str, dict]:
    """A valid request of each EventBridge operation, aimed at the fixed state,
    so that a bad variant accepted by mistake would change it (or, for the
    operations that create, named as something that exists, so that it would
    get a ResourceAlreadyExistsException instead of the error expected).
    `conn_arn` is the fixed connection's ARN."""
    event = {"version": "0", "id": "1", "detail-type": "t", "source": "keep", "account": ACCOUNT,
             "time": "2024-05-01T12:00:00Z", "region": REGION, "resources": [], "detail": {}}
    target = {"Id": "q", "Arn": QUEUE_ARN, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r", "Input": '{"a": 1}',
              "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
              "DeadLetterConfig": {"Arn": DLQ_ARN}}
    return {
        "PutEvents": {"Entries": [{"Time": 1714564800, "Source": "bad.input", "Resources": ["r"], "DetailType": "t",
                                   "Detail": "{}", "EventBusName": "orders", "TraceHeader": "trace"}],
                      "EndpointId": "abc.def"},
        "PutRule": {"Name": "keep-rule", "EventBusName": "orders", "EventPattern": KEEP_PATTERN,
                    "State": "ENABLED", "Description": "kept", "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
                    "Tags": [{"Key": "k", "Value": "v"}], "ScheduleExpression": ""},
        "DescribeRule": {"Name": "keep-rule", "EventBusName": "orders"},
        "DeleteRule": {"Name": "bare-rule", "EventBusName": "orders", "Force": False},
        "ListRules": {"NamePrefix": "keep", "EventBusName": "orders", "NextToken": "ferrule-page-0", "Limit": 10},
        "EnableRule": {"Name": "keep-rule", "EventBusName": "orders"},
        "DisableRule": {"Name": "keep-rule", "EventBusName": "orders"},
        "PutTargets": {"Rule": "keep-rule", "EventBusName": "orders", "Targets": [target]},
        "RemoveTargets": {"Rule": "keep-rule", "EventBusName": "orders", "Ids": ["q"], "Force": False},
        "ListTargetsByRule": {"Rule": "keep-rule", "EventBusName": "orders", "NextToken": "ferrule-page-0",
                              "Limit": 10},
        "ListRuleNamesByTarget": {"TargetArn": QUEUE_ARN, "EventBusName": "orders",
                                  "NextToken": "ferrule-page-0", "Limit": 10},
        "TestEventPattern": {"EventPattern": KEEP_PATTERN, "Event": json.dumps(event)},
        "CreateEventBus": {"Name": "orders", "Description": "d", "Tags": [{"Key": "k", "Value": "v"}]},
        "DescribeEventBus": {"Name": "orders"},
        "DeleteEventBus": {"Name": "orders"},
        "ListEventBuses": {"NamePrefix": "ord", "NextToken": "ferrule-page-0", "Limit": 10},
        "PutPermission": {"EventBusName": "orders", "Action": "events:PutEvents", "Principal": "111122223333",
                          "StatementId": "s1",
                          "Condition": {"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1"}},
        "RemovePermission": {"EventBusName": "orders", "StatementId": "s1"},
        "UpdateEventBus": {"Name": "orders", "Description": "the orders bus", "KmsKeyIdentifier": "alias/k",
                           "DeadLetterConfig": {"Arn": DLQ_ARN},
                           "LogConfig": {"IncludeDetail": "NONE", "Level": "OFF"}},
        "TagResource": {"ResourceARN": ORDERS_RULE_ARN, "Tags": [{"Key": "k", "Value": "v"}]},
        "UntagResource": {"ResourceARN": ORDERS_RULE_ARN, "TagKeys": ["k"]},
        "ListTagsForResource": {"ResourceARN": ORDERS_RULE_ARN},
        # Archives and replays.
        "CreateArchive": {"ArchiveName": "keep-archive", "EventSourceArn": ORDERS_ARN, "Description": "kept",
                          "EventPattern": ARCHIVE_PATTERN, "RetentionDays": 7, "KmsKeyIdentifier": "alias/k"},
        "DescribeArchive": {"ArchiveName": "keep-archive"},
        "UpdateArchive": {"ArchiveName": "keep-archive", "Description": "kept", "EventPattern": ARCHIVE_PATTERN,
                          "RetentionDays": 7, "KmsKeyIdentifier": "alias/k"},
        "DeleteArchive": {"ArchiveName": "keep-archive"},
        "ListArchives": {"NamePrefix": "keep", "NextToken": "ferrule-page-0", "Limit": 10},
        "StartReplay": {"ReplayName": "keep-replay", "Description": "kept", "EventSourceArn": ARCHIVE_ARN,
                        "EventStartTime": REPLAY_WINDOW[0], "EventEndTime": REPLAY_WINDOW[1],
                        "Destination": {"Arn": ORDERS_ARN, "FilterArns": [ORDERS_BARE_RULE_ARN]}},
        "DescribeReplay": {"ReplayName": "keep-replay"},
        "CancelReplay": {"ReplayName": "keep-replay"},
        "ListReplays": {"NamePrefix": "keep", "NextToken": "ferrule-page-0", "Limit": 10},
        # Connections and API destinations.
        "CreateConnection": {"Name": "keep-conn", "Description": "kept", "AuthorizationType": "API_KEY",
                             "AuthParameters": API_KEY_AUTH, "KmsKeyIdentifier": "alias/k"},
        "DescribeConnection": {"Name": "keep-conn"},
        "UpdateConnection": {"Name": "keep-conn", "Description": "kept", "AuthorizationType": "API_KEY",
                             "AuthParameters": {"ApiKeyAuthParameters": API_KEY_AUTH["ApiKeyAuthParameters"]}},
        "DeleteConnection": {"Name": "keep-conn"},
        "ListConnections": {"NamePrefix": "keep", "ConnectionState": "AUTHORIZED", "NextToken": "ferrule-page-0",
                            "Limit": 10},
        "DeauthorizeConnection": {"Name": "keep-conn"},
        "CreateApiDestination": {"Name": "keep-dest", "Description": "kept", "ConnectionArn": conn_arn,
                                 "InvocationEndpoint": DEST_ENDPOINT, "HttpMethod": "POST",
                                 "InvocationRateLimitPerSecond": 10},
        "DescribeApiDestination": {"Name": "keep-dest"},
        "UpdateApiDestination": {"Name": "keep-dest", "Description": "kept", "ConnectionArn": conn_arn,
                                 "InvocationEndpoint": DEST_ENDPOINT, "HttpMethod": "POST",
                                 "InvocationRateLimitPerSecond": 10},
        "DeleteApiDestination": {"Name": "keep-dest"},
        "ListApiDestinations": {"NamePrefix": "keep", "ConnectionArn": conn_arn, "NextToken": "ferrule-page-0",
                                "Limit": 10},
    }


def sqs_bases(endpoint: str) -> dict[str, dict]:
    url = endpoint + QUEUE_URL_PATH
    return {
        "CreateQueue": {"QueueName": "keep-q", "Attributes": {"VisibilityTimeout": "30"}, "tags": {"k": "v"}},
        "GetQueueUrl": {"QueueName": "keep-q", "QueueOwnerAWSAccountId": ACCOUNT},
        "ListQueues": {"QueueNamePrefix": "keep", "NextToken": "a", "MaxResults": 10},
        "DeleteQueue": {"QueueUrl": url},
        "GetQueueAttributes": {"QueueUrl": url, "AttributeNames": ["All"]},
        "SetQueueAttributes": {"QueueUrl": url, "Attributes": {"VisibilityTimeout": "30"}},
        "SendMessage": {"QueueUrl": url, "MessageBody": "bad", "DelaySeconds": 0},
        "SendMessageBatch": {"QueueUrl": url, "Entries": [{"Id": "a", "MessageBody": "bad", "DelaySeconds": 0}]},
        "ReceiveMessage": {"QueueUrl": url, "AttributeNames": ["All"], "MessageSystemAttributeNames": ["All"],
                           "MessageAttributeNames": ["All"], "MaxNumberOfMessages": 1, "VisibilityTimeout": 0,
                           "WaitTimeSeconds": 0},
        "DeleteMessage": {"QueueUrl": url, "ReceiptHandle": BOGUS_HANDLE},
        "DeleteMessageBatch": {"QueueUrl": url, "Entries": [{"Id": "a", "ReceiptHandle": BOGUS_HANDLE}]},
        "ChangeMessageVisibility": {"QueueUrl": url, "ReceiptHandle": BOGUS_HANDLE, "VisibilityTimeout": 0},
        "ChangeMessageVisibilityBatch": {"QueueUrl": url, "Entries": [{"Id": "a", "ReceiptHandle": BOGUS_HANDLE,
                                                                        "VisibilityTimeout": 0}]},
        "PurgeQueue": {"QueueUrl": url},
    }


# ---------------------------------------------------------------------------
# Generation from the service models
# ---------------------------------------------------------------------------

def set_path(body: dict, path: list, value) -> dict:
    """A copy of `body` with the member at `path` set to `value`; missing
    parents are made (with only that member in them)."""
    out = copy.deepcopy(body)
    node = out
    for i, key in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(node, list):
            while len(node) <= key:
                node.append({} if not isinstance(nxt, int) else [])
            node = node[key]
        else:
            if key not in node or node[key] is None or not isinstance(node[key], (dict, list)):
                node[key] = [] if isinstance(nxt, int) else {}
            node = node[key]
    last = path[-1]
    if isinstance(node, list):
        while len(node) <= last:
            node.append(None)
        node[last] = value
    else:
        node[last] = value
    return out


def del_path(body: dict, path: list) -> dict:
    out = copy.deepcopy(body)
    node = out
    for key in path[:-1]:
        node = node[key]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    return out


def members(shape, path=(), depth=0):
    """(path, shape, required) for every member under structure `shape`."""
    if depth > 5:  # deep enough for a connection's OAuth parameters' header list
        return
    required = set(shape.required_members)
    for name, member in shape.members.items():
        if name not in SERVED_MEMBERS.get(shape.name, ()):
            continue
        p = list(path) + [name]
        yield p, member, name in required
        yield from nested(member, p, depth)


def nested(shape, path, depth):
    if shape.type_name == "structure":
        yield from members(shape, path, depth + 1)
    elif shape.type_name == "list":
        m = shape.member
        yield path + [0], m, False
        yield from nested(m, path + [0], depth + 1)
    elif shape.type_name == "map":
        v = shape.value
        yield path + ["k"], v, False
        yield from nested(v, path + ["k"], depth + 1)


WRONG = {
    # JSON values of each kind, by the kind of member they are wrong for.
    "string": [1, 2.5, True, False, [], ["x"], {}, {"a": "b"}],
    "timestamp": [True, [], ["x"], {}, "2024-13-45T99:99:99Z", "yesterday", "2024-05-01T12:00:00", -1],
    "integer": ["10", True, [], [1], {}, 1e12],
    "boolean": ["true", 1, 0, [], {}],
    "list": ["x", 1, True, {}],
    "structure": ["x", 1, True, [], [{}]],
    "map": ["x", 1, True, [], [{"a": "b"}]],
}
PATTERN_BREAKERS = ["a b", "bad!", "*", "%41", "a\tb", "ü", "a,b", "(x)", "a:b", "a/b", "a.b", "-", "_"]


def java_pattern(p: str):
    try:
        return re.compile(p, re.ASCII)
    except re.error:
        return None


def pattern_violation(shape) -> str | None:
    meta = shape.metadata
    rx = java_pattern(meta["pattern"]) if "pattern" in meta else None
    if rx is None:
        return None
    lo, hi = meta.get("min", 0), meta.get("max", 10 ** 6)
    for s in PATTERN_BREAKERS:
        if lo <= len(s) <= hi and not rx.fullmatch(s):
            return s
    return None


# Required members the server cannot require yet: TagResource, UntagResource
# and ListTagsForResource are read into one request type (in events.rs), so
# neither list is required. Checked apart, as a known bug, by
# `test_tagging_requires_its_lists`.
# Checked on their own by test_tagging_requires_its_lists (one request type serves all three tag operations).
SHARED_REQUEST_TYPE = {("TagResource", "Tags"), ("UntagResource", "TagKeys")}


def events_cases(endpoint: str, conn_arn: str = NO_CONNECTION_ARN) -> list[tuple]:
    m = model("events")
    bases = events_bases(endpoint, conn_arn)
    cases = []
    for op in EVENTS_OPS:
        base = bases[op]
        shape = m.operation_model(op).input_shape
        for name in shape.required_members:
            if (op, name) in SHARED_REQUEST_TYPE:
                continue  # test_tagging_requires_its_lists
            cases.append(("events", op, del_path(base, [name]), VAL, f"{op}: {name} missing"))
        for path, s, required in members(shape):
            t = s.type_name
            label = f"{op}.{'.'.join(map(str, path))}"
            kind = "string" if t == "string" else t
            for v in WRONG.get(kind):
                if t == "timestamp" and op not in ("PutEvents", "StartReplay"):
                    continue
                cases.append(("events", op, set_path(base, path, v), SER, f"{label} = {v!r}"))
            meta = s.metadata
            if t == "string":
                if "enum" in meta:
                    cases.append(("events", op, set_path(base, path, "NOT_A_VALUE"), VAL, f"{label} enum"))
                    continue
                if meta.get("min", 0) >= 1:
                    cases.append(("events", op, set_path(base, path, ""), VAL, f"{label} empty"))
                if "max" in meta and meta["max"] <= 10_000:
                    cases.append(("events", op, set_path(base, path, "a" * (meta["max"] + 1)), VAL,
                                  f"{label} too long"))
                bad = pattern_violation(s)
                if bad is not None:
                    cases.append(("events", op, set_path(base, path, bad), VAL, f"{label} = {bad!r}"))
            elif t == "integer":
                if "min" in meta:
                    cases.append(("events", op, set_path(base, path, meta["min"] - 1), VAL, f"{label} < min"))
                if "max" in meta:
                    cases.append(("events", op, set_path(base, path, meta["max"] + 1), VAL, f"{label} > max"))
            elif t == "list":
                if meta.get("min", 0) >= 1:
                    cases.append(("events", op, set_path(base, path, []), VAL, f"{label} empty list"))
            elif t == "structure":
                for r in s.required_members:
                    parent = set_path(base, path, {})
                    cases.append(("events", op, parent, VAL, f"{label}.{r} missing"))
                    break
    # The same members in the second element of a list whose first is good:
    # one bad entry or target refuses the whole request.
    for op, list_member, second in [("PutEvents", "Entries", {}), ("PutTargets", "Targets", {"Id": "q2"})]:
        base = copy.deepcopy(bases[op])
        base[list_member].append(dict(copy.deepcopy(base[list_member][0]), **second))
        element = m.operation_model(op).input_shape.members[list_member].member
        for path, s, required in members(element):
            full = [list_member, 1] + path
            t = s.type_name
            label = f"{op}.{list_member}[1].{'.'.join(map(str, path))}"
            for v in WRONG.get(t):
                cases.append(("events", op, set_path(base, full, v), SER, f"{label} = {v!r}"))
            if required and len(path) == 1:
                cases.append(("events", op, del_path(base, full), VAL, f"{label} missing"))
            if t == "string" and s.metadata.get("max", 10 ** 6) <= 10_000:
                cases.append(("events", op, set_path(base, full, "a" * (s.metadata["max"] + 1)), VAL,
                              f"{label} too long"))
    # Every character the name patterns refuse, in every rule name.
    names = [("PutRule", "Name"), ("DescribeRule", "Name"), ("DeleteRule", "Name"), ("EnableRule", "Name"),
             ("DisableRule", "Name"), ("PutTargets", "Rule"), ("RemoveTargets", "Rule"),
             ("ListTargetsByRule", "Rule")]
    # Archive, replay, connection and API destination names have the same pattern.
    names += [(op, "ArchiveName") for op in ("CreateArchive", "DescribeArchive", "UpdateArchive", "DeleteArchive")]
    names += [(op, "ReplayName") for op in ("StartReplay", "DescribeReplay", "CancelReplay")]
    names += [(op, "Name") for op in CONNECTION_OPS if not op.startswith("List")]
    for op, member in names:
        for c in " !\"#$%&'()*+,/:;<=>?@[\\]^`{|}~":
            cases.append(("events", op, set_path(bases[op], [member], f"keep{c}rule"), VAL,
                          f"{op}.{member} with {c!r}"))
    cases += target_arn_cases(bases)
    cases += schedule_cases()
    cases += time_cases(bases)
    cases += tag_cases(bases)
    cases += archive_cases(bases)
    cases += connection_cases(bases, conn_arn)
    return cases


BAD_TARGET_ARNS = [
    "test-bucket", "file:///etc/passwd", "gopher://example.com/", "ftp://example.com/x", "http://",
    "https:///nohost", "arn:aws:s3:::bucket", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f",
    f"arn:aws:sns:{REGION}:{ACCOUNT}:topic", f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s",
    f"arn:aws:states:{REGION}:{ACCOUNT}:activity:m",
    f"arn:aws:sqs:{REGION}:{ACCOUNT}:", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r",
    f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/", "arn:aws:sqs", "arn::sqs:r:a:q", "arn:aws::r:a:q",
    "not an arn", "arn:aws:SQS:us-east-1:1:q", "javascript:alert(1)", "/local/path",
]


def target_arn_cases(bases) -> list[tuple]:
    cases = []
    for arn in BAD_TARGET_ARNS:
        for path in (["Targets", 0, "Arn"],):
            cases.append(("events", "PutTargets", set_path(bases["PutTargets"], path, arn), VAL,
                          f"target Arn {arn!r}", "is not valid"))
        dlq = set_path(bases["PutTargets"], ["Targets", 0, "DeadLetterConfig", "Arn"], arn)
        cases.append(("events", "PutTargets", dlq, VAL, f"DeadLetterConfig.Arn {arn!r}", "is not valid"))
        # A bad target after a good one refuses the whole call.
        two = copy.deepcopy(bases["PutTargets"])
        two["Targets"].append({"Id": "second", "Arn": arn})
        cases.append(("events", "PutTargets", two, VAL, f"second target Arn {arn!r}", "is not valid"))
    return cases


BAD_SCHEDULES = [
    "rate(1 minutes)", "rate(1 hours)", "rate(1 days)", "rate(2 minute)", "rate(10 hour)", "rate(10 day)",
    "rate(10 MINUTES)", "rate( 10 minutes )", " rate(10 minutes)", "rate(10 minutes) ", "rate(10  minutes)",
    "rate(0 minutes)", "rate(-10 minutes)", "rate(10 seconds)", "rate(10 years)", "rate(5 weeks)", "rate()",
    "rate(10)", "rate(foo minutes)", "rate(1.5 minutes)", "rate(+5 minutes)", "RATE(5 minutes)",
    "rate(5 minutes", "rate 5 minutes", "cron(* * * * * *)", "cron(0 12 ? * ? *)", "cron(* * *)",
    "cron(0 12 * * ? * *)", "cron(60 * * * ? *)", "cron(-1 * * * ? *)", "cron(0 24 * * ? *)",
    "cron(0 0 32 * ? *)", "cron(0 0 0 * ? *)", "cron(0 0 ? 13 * *)", "cron(0 0 ? 0 * *)", "cron(0 0 ? * 8 *)",
    "cron(0 0 ? * 0 *)", "cron(0 0 ? * MON#6 *)", "cron(0 0 ? * MON#0 *)", "cron(0 0 * * ? 1969)",
    "cron(0 0 * * ? 2200)", "cron(0/0 * * * ? *)", "cron(0  12 * * ? *)", "cron( 0 12 * * ? *)",
    "cron(a b c d e f)", "cron()", "cron(0 12 * * ?)", "cron(0 12 * FOO ? *)", "cron(0 12 ? * FUN *)",
    "cron(0 12 ? * 1W *)", "cron(0 12 40W * ? *)", "cron(0 12 * * 1L *)", "cron(0 12 L * L *)",
    "cron(1-60 * * * ? *)", "cron(5-* * * * ? *)", "cron(*/ * * * ? *)", "cron(0,, * * * ? *)",
    "cron(0 12 * * ? *", "every 5 minutes", "at(2024-05-01T12:00:00)", "5 minutes", "*/5 * * * *",
]


def schedule_cases() -> list[tuple]:
    return [("events", "PutRule", {"Name": "keep-sched", "ScheduleExpression": s, "State": "DISABLED"}, VAL,
             f"schedule {s!r}", "Parameter ScheduleExpression is not valid.") for s in BAD_SCHEDULES]


BAD_TIMES = ["2024-13-45T99:99:99Z", "2024-02-30T00:00:00Z", "2023-02-29T12:00:00Z", "2024-05-01T24:00:00Z",
             "2024-05-01T12:60:00Z", "2024-05-01 12:00", "2024-05-01", "12:00:00Z", "1714564800", "", "now",
             "2024-05-01T12:00:00+25:00", "2024-W18-3T12:00:00Z", "1969-12-31T23:59:59Z", "+002024-05-01T12:00Z"]


def time_cases(bases) -> list[tuple]:
    cases = []
    for t in BAD_TIMES:
        for i in range(2):
            body = copy.deepcopy(bases["PutEvents"])
            body["Entries"] = [copy.deepcopy(body["Entries"][0]) for _ in range(2)]
            body["Entries"][i]["Time"] = t
            cases.append(("events", "PutEvents", body, SER, f"entry {i} Time {t!r}"))
    return cases


NOT_FOUND = "ResourceNotFoundException"
BAD_PATTERN = "InvalidEventPatternException"
LIMIT = "LimitExceededException"
MANAGED = "ManagedRuleException"
# Well-formed JSON that is not a valid event pattern, and text that is not JSON.
BAD_PATTERNS = ["{", "[1]", '"x"', "null", '{"source": "keep"}', '{"source": [{"prefix": 1}]}',
                '{"source": [{"bogus": ["a"]}]}', '{"detail": {"n": [{"numeric": [">", "x"]}]}}']


def tag_cases(bases) -> list[tuple]:
    """Resources that cannot be tagged, and the service's own rules."""
    cases = []
    for op in ("TagResource", "UntagResource", "ListTagsForResource"):
        for arn in [QUEUE_ARN, ARCHIVE_ARN, f"{EVENTS_ARN}:rule/orders/nope", f"{EVENTS_ARN}:event-bus/nope",
                    f"arn:aws:events:{REGION}:111122223333:rule/orders/keep-rule", "keep-rule"]:
            cases.append(("events", op, set_path(bases[op], ["ResourceARN"], arn), NOT_FOUND,
                          f"{op} of {arn!r}"))
    # An archive's rule is the service's: its tags are not the caller's to change.
    for op in ("TagResource", "UntagResource"):
        cases.append(("events", op, set_path(bases[op], ["ResourceARN"], ARCHIVE_RULE_ARN), MANAGED,
                      f"{op} of a managed rule"))
    return cases


def archive_cases(bases) -> list[tuple]:
    """What the model cannot say about archives and replays: patterns, the
    source bus, the replay's window, destination and filters, one filter at
    a time in the List operations."""
    cases = []
    new_archive = set_path(bases["CreateArchive"], ["ArchiveName"], "new-archive")
    for p in BAD_PATTERNS:
        cases.append(("events", "CreateArchive", set_path(new_archive, ["EventPattern"], p), BAD_PATTERN,
                      f"CreateArchive pattern {p!r}", "Event pattern is not valid"))
        cases.append(("events", "UpdateArchive", set_path(bases["UpdateArchive"], ["EventPattern"], p),
                      BAD_PATTERN, f"UpdateArchive pattern {p!r}", "Event pattern is not valid"))
    for arn, code in [(f"{EVENTS_ARN}:event-bus/nope", NOT_FOUND), (ORDERS_RULE_ARN, VAL),
                      (f"{EVENTS_ARN}:archive/keep-archive", VAL), (f"arn:aws:sqs:{REGION}:{ACCOUNT}:x/y", VAL)]:
        cases.append(("events", "CreateArchive", set_path(new_archive, ["EventSourceArn"], arn), code,
                      f"CreateArchive source {arn!r}"))
    for op, state in [("ListArchives", "ENABLED"), ("ListReplays", "COMPLETED")]:
        cases.append(("events", op, set_path(bases[op], ["State"], state), VAL, f"{op} with two filters",
                      "At most one filter is allowed"))
        cases.append(("events", op, {"EventSourceArn": ORDERS_ARN if op == "ListArchives" else ARCHIVE_ARN,
                                     "State": state}, VAL, f"{op} with source and state", "At most one filter"))

    new_replay = set_path(bases["StartReplay"], ["ReplayName"], "new-replay")
    start, end = REPLAY_WINDOW
    future = int(time.time()) + 3600
    for (a, b), text in [((end, start), "EventStartTime must be before EventEndTime"),
                         ((start, start), "EventStartTime must be before EventEndTime"),
                         (("2024-05-01T13:00:00Z", "2024-05-01T12:00:00Z"), "before EventEndTime"),
                         ((start, future), "must not be in the future"),
                         ((future, future + 60), "must not be in the future")]:
        body = set_path(set_path(new_replay, ["EventStartTime"], a), ["EventEndTime"], b)
        cases.append(("events", "StartReplay", body, VAL, f"replay window {a!r}..{b!r}", text))
    for arn, code in [(DEFAULT_BUS_ARN, VAL), (f"{EVENTS_ARN}:event-bus/nope", NOT_FOUND), (QUEUE_ARN, VAL),
                      ("orders", VAL), (ARCHIVE_ARN, VAL), (ORDERS_RULE_ARN, VAL)]:
        cases.append(("events", "StartReplay", set_path(new_replay, ["Destination", "Arn"], arn), code,
                      f"replay destination {arn!r}"))
    for arn, code in [(f"{EVENTS_ARN}:rule/keep-rule", VAL), (f"{EVENTS_ARN}:rule/orders/nope", NOT_FOUND),
                      (QUEUE_ARN, VAL), (ORDERS_ARN, VAL), ("bare-rule", VAL)]:
        body = set_path(new_replay, ["Destination", "FilterArns"], [ORDERS_RULE_ARN, arn])
        cases.append(("events", "StartReplay", body, code, f"replay filter {arn!r}"))
    for arn in [f"{EVENTS_ARN}:archive/nope", ORDERS_ARN, f"arn:aws:events:{REGION}:111122223333:archive/keep-archive",
                f"arn:aws:events:eu-west-1:{ACCOUNT}:archive/keep-archive"]:
        cases.append(("events", "StartReplay", set_path(new_replay, ["EventSourceArn"], arn), VAL,
                      f"replay source {arn!r}", "Parameter EventSourceArn is not valid"))
    return cases


def connection_cases(bases, conn_arn: str) -> list[tuple]:
    """What the model cannot say about connections and API destinations:
    which auth parameters each authorization type needs (and no others),
    endpoints (https, or http on loopback), secrets never shown, private
    APIs refused, connections that do not exist, the rate quota."""
    cases = []
    new = set_path(bases["CreateConnection"], ["Name"], "new-conn")
    del new["AuthParameters"]
    both = dict(API_KEY_AUTH, **BASIC_AUTH)
    for kind, auth, text in [
            ("BASIC", API_KEY_AUTH, "BasicAuthParameters must be specified for AuthorizationType BASIC."),
            ("API_KEY", BASIC_AUTH, "ApiKeyAuthParameters must be specified for AuthorizationType API_KEY."),
            ("OAUTH_CLIENT_CREDENTIALS", API_KEY_AUTH, "OAuthParameters must be specified"),
            ("API_KEY", both, "BasicAuthParameters cannot be specified for AuthorizationType API_KEY."),
            ("BASIC", dict(BASIC_AUTH, **OAUTH_AUTH), "OAuthParameters cannot be specified"),
            ("API_KEY", {}, "ApiKeyAuthParameters must be specified"),
            ("API_KEY", {"InvocationHttpParameters": API_KEY_AUTH["InvocationHttpParameters"]},
             "ApiKeyAuthParameters must be specified")]:
        body = dict(new, AuthorizationType=kind, AuthParameters=copy.deepcopy(auth))
        cases.append(("events", "CreateConnection", body, VAL, f"{kind} with {sorted(auth)}", text))
    oauth = dict(new, AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=copy.deepcopy(OAUTH_AUTH))
    endpoint = ["AuthParameters", "OAuthParameters", "AuthorizationEndpoint"]
    bad_endpoints = ["http://example.com/token", "ftp://example.com/token", "example.com/token", "https://",
                     "https:///token", "http://169.254.169.254/latest", "file:///etc/passwd"]
    for url in bad_endpoints:
        cases.append(("events", "CreateConnection", set_path(oauth, endpoint, url), VAL, f"OAuth endpoint {url!r}"))
    # A secret that breaks its pattern is shown as *** (and the marker is
    # checked to be in no answer at all).
    for path in (["AuthParameters", "ApiKeyAuthParameters", "ApiKeyValue"],
                 ["AuthParameters", "BasicAuthParameters", "Password"],
                 ["AuthParameters", "OAuthParameters", "ClientParameters", "ClientSecret"]):
        kind = {"ApiKeyAuthParameters": "API_KEY", "BasicAuthParameters": "BASIC"}.get(path[1],
                                                                                      "OAUTH_CLIENT_CREDENTIALS")
        auth = {"API_KEY": API_KEY_AUTH, "BASIC": BASIC_AUTH}.get(kind, OAUTH_AUTH)
        body = set_path(dict(new, AuthorizationType=kind, AuthParameters=copy.deepcopy(auth)), path,
                        f"{SECRET}:\u0001")
        cases.append(("events", "CreateConnection", body, VAL, f"secret {path[-1]} off its pattern", "'***'"))
        cases.append(("events", "UpdateConnection", set_path(bases["UpdateConnection"], path, f"{SECRET}\n"), VAL,
                      f"UpdateConnection secret {path[-1]} off its pattern", "'***'"))
    # More than 100 parameters in a list.
    for member in ("HeaderParameters", "QueryStringParameters", "BodyParameters"):
        many = [{"Key": f"k{i}", "Value": "v", "IsValueSecret": False} for i in range(101)]
        body = set_path(dict(new, AuthParameters=copy.deepcopy(API_KEY_AUTH)),
                        ["AuthParameters", "InvocationHttpParameters", member], many)
        cases.append(("events", "CreateConnection", body, VAL, f"101 {member}", "less than or equal to 100"))
    # Private APIs (VPC Lattice) are not reachable from ferrule; an ARN off
    # the model's pattern is refused by the service too.
    private = {"ResourceParameters": {"ResourceConfigurationArn": "not-an-arn"}}
    cases.append(("events", "CreateConnection", dict(new, AuthParameters=copy.deepcopy(API_KEY_AUTH),
                                                    InvocationConnectivityParameters=private), VAL,
                  "InvocationConnectivityParameters"))
    cases.append(("events", "CreateConnection",
                  set_path(dict(new, AuthParameters=copy.deepcopy(API_KEY_AUTH)),
                           ["AuthParameters", "ConnectivityParameters"], private), VAL, "ConnectivityParameters"))
    # UpdateConnection: the type changed without its parameters, or with another type's.
    upd = {"Name": "keep-conn"}
    for body, text in [(dict(upd, AuthorizationType="BASIC"), "BasicAuthParameters must be specified"),
                       (dict(upd, AuthorizationType="OAUTH_CLIENT_CREDENTIALS"), "OAuthParameters must be specified"),
                       (dict(upd, AuthParameters=copy.deepcopy(BASIC_AUTH)), "BasicAuthParameters cannot be specified"),
                       (dict(upd, AuthorizationType="BASIC", AuthParameters={"BasicAuthParameters": {"Username": "u"}}),
                        "BasicAuthParameters.Password must be specified")]:
        cases.append(("events", "UpdateConnection", body, VAL, f"UpdateConnection {sorted(body)} {text}", text))
    for url in bad_endpoints:
        body = dict(upd, AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=copy.deepcopy(OAUTH_AUTH))
        cases.append(("events", "UpdateConnection", set_path(body, endpoint, url), VAL,
                      f"UpdateConnection OAuth endpoint {url!r}"))

    # API destinations.
    new_dest = set_path(bases["CreateApiDestination"], ["Name"], "new-dest")
    for op, base in [("CreateApiDestination", new_dest), ("UpdateApiDestination", bases["UpdateApiDestination"])]:
        for url in bad_endpoints + ["http://example.com/orders/*", "https://exa mple.com/"]:
            cases.append(("events", op, set_path(base, ["InvocationEndpoint"], url), VAL, f"{op} endpoint {url!r}"))
        for arn in [NO_CONNECTION_ARN, conn_arn.replace(f":{ACCOUNT}:", ":111122223333:"),
                    conn_arn.replace(f":{REGION}:", ":eu-west-1:"), conn_arn.replace("/keep-conn/", "/nope/")]:
            cases.append(("events", op, set_path(base, ["ConnectionArn"], arn), NOT_FOUND, f"{op} connection {arn!r}",
                          "does not exist"))
        for method in ["post", "CONNECT", "TRACE", " POST"]:
            cases.append(("events", op, set_path(base, ["HttpMethod"], method), VAL, f"{op} method {method!r}"))
        # Above the per-destination quota (300 invocations per second).
        cases.append(("events", op, set_path(base, ["InvocationRateLimitPerSecond"], 301), LIMIT, f"{op} rate 301"))
    return cases


SQS_REQUIRED = {
    ("CreateQueue", "QueueName"): "MissingParameter", ("GetQueueUrl", "QueueName"): "MissingParameter",
    ("SetQueueAttributes", "Attributes"): "MissingParameter", ("SendMessage", "MessageBody"): "MissingParameter",
    ("SendMessageBatch", "Entries"): "MissingParameter", ("DeleteMessage", "ReceiptHandle"): "MissingParameter",
    ("DeleteMessageBatch", "Entries"): "MissingParameter",
    ("ChangeMessageVisibility", "ReceiptHandle"): "MissingParameter",
    ("ChangeMessageVisibility", "VisibilityTimeout"): "MissingParameter",
    ("ChangeMessageVisibilityBatch", "Entries"): "MissingParameter",
}
SQS_INTS = {
    ("ListQueues", "MaxResults"): (1, 1000), ("SendMessage", "DelaySeconds"): (0, 900),
    ("ReceiveMessage", "MaxNumberOfMessages"): (1, 10), ("ReceiveMessage", "VisibilityTimeout"): (0, 43200),
    ("ReceiveMessage", "WaitTimeSeconds"): (0, 20), ("ChangeMessageVisibility", "VisibilityTimeout"): (0, 43200),
}
QUEUE_ATTRS = {"DelaySeconds": (0, 900), "MaximumMessageSize": (1024, 1048576),
               "MessageRetentionPeriod": (60, 1209600), "ReceiveMessageWaitTimeSeconds": (0, 20),
               "VisibilityTimeout": (0, 43200)}


def sqs_cases(endpoint: str) -> list[tuple]:
    m = model("sqs")
    bases = sqs_bases(endpoint)
    cases = []
    for op in SQS_OPS:
        base = bases[op]
        shape = m.operation_model(op).input_shape
        for name in shape.required_members:
            code = SQS_REQUIRED.get((op, name), "MissingParameter")
            cases.append(("sqs", op, del_path(base, [name]), code, f"{op}: {name} missing"))
            if shape.members[name].type_name == "string":
                cases.append(("sqs", op, set_path(base, [name], ""), code, f"{op}: {name} empty"))
        for path, s, _ in members(shape):
            label = f"{op}.{'.'.join(map(str, path))}"
            t = s.type_name
            if t in ("string", "integer", "blob"):
                wrong = [[], ["x"], {}, {"a": "b"}, [1, 2]]
            elif t == "list":
                wrong = ["x", 1, True, {}]
            elif t == "map":
                wrong = ["x", 1, True, [], ["a"]]
            elif t == "structure":
                wrong = ["x", 1, True, []]
            else:
                wrong = []
            for v in wrong:
                cases.append(("sqs", op, set_path(base, path, v), SER, f"{label} = {v!r}"))
        for (o, name), (lo, hi) in SQS_INTS.items():
            if o != op:
                continue
            for v in [lo - 1, hi + 1, "abc", "1.5", 1.5, " 5", True, "", -(2 ** 40), 2 ** 40]:
                cases.append(("sqs", op, set_path(base, [name], v), "InvalidParameterValue",
                              f"{op}.{name} = {v!r}"))
    for op in ("CreateQueue", "SetQueueAttributes"):
        for attr, (lo, hi) in QUEUE_ATTRS.items():
            for v in ["", "-1", str(lo - 1), str(hi + 1), "abc", "1.5", " 6", "true", True, -5, hi + 1]:
                if str(v) in (str(lo - 1),) and lo == 0 and v == "-1":
                    continue
                body = set_path(bases[op], ["Attributes", attr], v)
                cases.append(("sqs", op, body, "InvalidAttributeValue", f"{op} {attr} = {v!r}"))
        for attr in ["Bogus", "visibilitytimeout", "ApproximateNumberOfMessages", "QueueArn", ""]:
            cases.append(("sqs", op, set_path(bases[op], ["Attributes", attr], "1"), "InvalidAttributeName",
                          f"{op} attribute {attr!r}"))
        # FifoQueue on a standard name is a name error; FIFO attributes on a
        # standard queue (and FifoQueue after creation) are unknown there.
        for attr, code in [("FifoQueue", "InvalidParameterValue" if op == "CreateQueue" else "InvalidAttributeName"),
                           ("ContentBasedDeduplication", "InvalidAttributeName"),
                           ("RedrivePolicy", "InvalidParameterValue")]:
            cases.append(("sqs", op, set_path(bases[op], ["Attributes", attr], "true"),
                          code, f"{op} attribute {attr}"))
    for name in ["bad name", "bad!", "a" * 81, "q.fifo", "ü", "a/b"]:
        cases.append(("sqs", "CreateQueue", {"QueueName": name}, "InvalidParameterValue", f"queue name {name!r}"))
    # Batches: whole-batch errors and entries that fail alone.
    for op in ("SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"):
        base = bases[op]
        entry = base["Entries"][0]
        cases.append(("sqs", op, set_path(base, ["Entries"], []), "EmptyBatchRequest", f"{op} empty"))
        eleven = [dict(entry, Id=f"e{i}") for i in range(11)]
        cases.append(("sqs", op, set_path(base, ["Entries"], eleven), "TooManyEntriesInBatchRequest",
                      f"{op} eleven"))
        cases.append(("sqs", op, set_path(base, ["Entries"], [entry, entry]), "BatchEntryIdsNotDistinct",
                      f"{op} same ids"))
        for bad_id in ["", "bad id", "a" * 81, "ü", "a.b"]:
            cases.append(("sqs", op, set_path(base, ["Entries", 0, "Id"], bad_id), "InvalidBatchEntryId",
                          f"{op} id {bad_id!r}"))
        cases.append(("sqs", op, del_path(base, ["Entries", 0, "Id"]), "InvalidBatchEntryId", f"{op} no id"))
    sb = bases["SendMessageBatch"]
    for v in [-1, 901, "abc", 1.5]:
        cases.append(("sqs", "SendMessageBatch", set_path(sb, ["Entries", 0, "DelaySeconds"], v), ENTRY,
                      f"batch DelaySeconds {v!r}"))
    cases.append(("sqs", "SendMessageBatch", del_path(sb, ["Entries", 0, "MessageBody"]), ENTRY, "batch no body"))
    cases.append(("sqs", "SendMessageBatch", set_path(sb, ["Entries", 0, "MessageBody"], "a\u0000b"), ENTRY,
                  "batch body with NUL"))
    cases.append(("sqs", "SendMessageBatch", set_path(sb, ["Entries", 0, "MessageDeduplicationId"], "d"), ENTRY,
                  "batch deduplication id on a standard queue"))
    for op in ("DeleteMessageBatch", "ChangeMessageVisibilityBatch"):
        cases.append(("sqs", op, del_path(bases[op], ["Entries", 0, "ReceiptHandle"]), ENTRY, f"{op} no handle"))
        cases.append(("sqs", op, set_path(bases[op], ["Entries", 0, "ReceiptHandle"], "nope"), ENTRY,
                      f"{op} bad handle"))
    for v in [-1, 43201, "abc"]:
        cases.append(("sqs", "ChangeMessageVisibilityBatch",
                      set_path(bases["ChangeMessageVisibilityBatch"], ["Entries", 0, "VisibilityTimeout"], v),
                      ENTRY, f"batch VisibilityTimeout {v!r}"))
    send = bases["SendMessage"]
    for body, code in [("a\u0000b", "InvalidMessageContents"), ("\ufffe", "InvalidMessageContents"),
                       ("x" * 262145, "InvalidParameterValue")]:
        cases.append(("sqs", "SendMessage", set_path(send, ["MessageBody"], body), code, f"body {body[:8]!r}"))
    # A standard queue takes a MessageGroupId (fair queues), not a deduplication id.
    for member in ["MessageDeduplicationId"]:
        cases.append(("sqs", "SendMessage", set_path(send, [member], "g"), "InvalidParameterValue", member))
    cases.append(("sqs", "SendMessage", set_path(send, ["MessageAttributes"],
                                                 {"a": {"DataType": "String", "StringValue": "v"}}),
                  "InvalidParameterValue", "message attributes"))
    for url in ["", "http://h/1/x.fifo", "http://h/1/nope", "http://h/1/bad name"]:
        cases.append(("sqs", "SendMessage", set_path(send, ["QueueUrl"], url),
                      "MissingParameter" if url == "" else "QueueDoesNotExist", f"queue url {url!r}"))
    return cases


# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------

class Raw:
    """Unsigned raw requests over one keep-alive connection."""

    def __init__(self, url: str, timeout: float = 5.0):
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def send(self, service: str, op: str, body) -> tuple[int, dict]:
        target, ctype = (("AWSEvents", "application/x-amz-json-1.1") if service == "events"
                         else ("AmazonSQS", "application/x-amz-json-1.0"))
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": ctype, "X-Amz-Target": f"{target}.{op}"}
        for attempt in range(2):
            try:
                self.conn.request("POST", "/", body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                return r.status, (json.loads(raw) if raw else {})
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A closed keep-alive connection: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def error_type(out: dict) -> str:
    return str(out.get("__type", "")).rsplit("#", 1)[-1]


def _answer(out: dict) -> dict:
    return {k: v for k, v in out.items() if k != "ResponseMetadata"}


def fixed_state(events, sqs) -> dict:
    """Everything the bad requests could touch, read through boto3: buses
    (described in full, with their tags), rules with their targets and tags,
    archives, replays, connections and API destinations (described), queues."""
    state = {"buses": [], "queues": {}}
    for b in events.list_event_buses()["EventBuses"]:
        rules = events.list_rules(EventBusName=b["Name"])["Rules"]
        state["buses"].append({
            "name": b["Name"], "description": b.get("Description"),
            "described": _answer(events.describe_event_bus(Name=b["Name"])),
            "tags": events.list_tags_for_resource(ResourceARN=b["Arn"])["Tags"],
            "rules": [dict(r, Targets=events.list_targets_by_rule(Rule=r["Name"], EventBusName=b["Name"])["Targets"],
                           Tags=events.list_tags_for_resource(ResourceARN=r["Arn"])["Tags"])
                      for r in rules],
        })
    state["archives"] = [_answer(events.describe_archive(ArchiveName=a["ArchiveName"]))
                         for a in events.list_archives()["Archives"]]
    state["replays"] = [_answer(events.describe_replay(ReplayName=r["ReplayName"]))
                        for r in events.list_replays()["Replays"]]
    state["connections"] = [_answer(events.describe_connection(Name=c["Name"]))
                            for c in events.list_connections()["Connections"]]
    state["api_destinations"] = [_answer(events.describe_api_destination(Name=d["Name"]))
                                 for d in events.list_api_destinations()["ApiDestinations"]]
    for url in sqs.list_queues().get("QueueUrls"):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        state["queues"][url.rsplit("/", 1)[-1]] = attrs
    return state


def make_fixed_state(events, sqs, endpoint) -> tuple[str, str]:
    """The state the bad requests aim at; returns the queue's URL and the
    connection's ARN."""
    events.create_event_bus(Name="orders", Description="the orders bus")
    for bus in ("default", "orders"):
        events.put_rule(Name="keep-rule", EventBusName=bus, EventPattern=KEEP_PATTERN, State="ENABLED",
                        Description="kept")
        events.put_rule(Name="bare-rule", EventBusName=bus, EventPattern=KEEP_PATTERN, Description="bare")
    events.put_rule(Name="keep-sched", ScheduleExpression="rate(5 minutes)", State="DISABLED")
    q = sqs.create_queue(QueueName="keep-q")["QueueUrl"]
    sqs.create_queue(QueueName="keep-dlq")
    for bus in ("default", "orders"):
        events.put_targets(Rule="keep-rule", EventBusName=bus, Targets=[
            {"Id": "q", "Arn": QUEUE_ARN, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r", "Input": '{"a": 1}',
             "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
             "DeadLetterConfig": {"Arn": DLQ_ARN}}])
    # A tag an UntagResource accepted by mistake would remove.
    events.tag_resource(ResourceARN=ORDERS_RULE_ARN, Tags=[{"Key": "k", "Value": "v"}])
    events.create_archive(ArchiveName="keep-archive", EventSourceArn=ORDERS_ARN, Description="kept",
                          EventPattern=ARCHIVE_PATTERN, RetentionDays=7)
    events.start_replay(ReplayName="keep-replay", EventSourceArn=ARCHIVE_ARN, EventStartTime=REPLAY_WINDOW[0],
                        EventEndTime=REPLAY_WINDOW[1],
                        Destination={"Arn": ORDERS_ARN, "FilterArns": [ORDERS_BARE_RULE_ARN]})
    deadline = time.monotonic() + 10
    while events.describe_replay(ReplayName="keep-replay")["State"] != "COMPLETED":
        assert time.monotonic() < deadline, events.describe_replay(ReplayName="keep-replay")
        time.sleep(0.05)
    conn_arn = events.create_connection(Name="keep-conn", Description="kept", AuthorizationType="API_KEY",
                                        AuthParameters=API_KEY_AUTH)["ConnectionArn"]
    events.create_api_destination(Name="keep-dest", Description="kept", ConnectionArn=conn_arn,
                                  InvocationEndpoint=DEST_ENDPOINT, HttpMethod="POST",
                                  InvocationRateLimitPerSecond=10)
    for i in range(3):
        sqs.send_message(QueueUrl=q, MessageBody=f"kept {i}")
    return q, conn_arn


def test_generated_bad_requests_are_refused_and_change_nothing(endpoint, server, events, sqs):
    began = time.monotonic()
    queue_url, conn_arn = make_fixed_state(events, sqs, endpoint)
    raw = Raw(endpoint)
    bases = events_bases(endpoint, conn_arn)

    # Positive controls: the bases themselves are well-formed requests the
    # server accepts (a refusal below is about the bad member, not the base);
    # those that create are refused only because what they name exists.
    for op in ("DescribeRule", "ListRules", "ListTargetsByRule", "TestEventPattern", "PutEvents",
               "ListTagsForResource", "DescribeArchive", "ListArchives", "DescribeReplay", "ListReplays",
               "DescribeConnection", "ListConnections", "DescribeApiDestination", "ListApiDestinations"):
        status, out = raw.send("events", op, bases[op])
        assert status == 200, (op, out)
    listed = {op: raw.send("events", op, bases[op])[1]
              for op in ("ListArchives", "ListReplays", "ListConnections", "ListApiDestinations")}
    assert [a["ArchiveName"] for a in listed["ListArchives"]["Archives"]] == ["keep-archive"], listed
    assert [r["ReplayName"] for r in listed["ListReplays"]["Replays"]] == ["keep-replay"], listed
    assert [c["Name"] for c in listed["ListConnections"]["Connections"]] == ["keep-conn"], listed
    assert [d["Name"] for d in listed["ListApiDestinations"]["ApiDestinations"]] == ["keep-dest"], listed
    exists = "ResourceAlreadyExistsException"
    for op, body, expected in [
            ("CreateArchive", bases["CreateArchive"], exists), ("StartReplay", bases["StartReplay"], exists),
            ("CreateConnection", bases["CreateConnection"], exists),
            ("CreateConnection", dict(bases["CreateConnection"], AuthorizationType="BASIC",
                                      AuthParameters=BASIC_AUTH), exists),
            ("CreateConnection", dict(bases["CreateConnection"], AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                                      AuthParameters=OAUTH_AUTH), exists),
            ("CreateApiDestination", bases["CreateApiDestination"], exists),
            ("CancelReplay", bases["CancelReplay"], "IllegalStatusException")]:
        status, out = raw.send("events", op, body)
        assert (status, error_type(out)) == (400, expected), (op, out)
    for op in ("GetQueueUrl", "ListQueues", "GetQueueAttributes"):
        status, out = raw.send("sqs", op, sqs_bases(endpoint)[op])
        assert status == 200, (op, out)

    before = fixed_state(events, sqs)
    assert SECRET not in repr(before), "a Describe answer shows a secret"
    cases = events_cases(endpoint, conn_arn) + sqs_cases(endpoint)
    assert len(cases) >= 2000, len(cases)
    ops = {(c[0], c[1]) for c in cases}
    assert ops == {("events", o) for o in EVENTS_OPS} | {("sqs", o) for o in SQS_OPS}

    accepted, wrong, server_errors = [], [], []
    for case in cases:
        service, op, body, expected, label = case[:5]
        message = case[5] if len(case) > 5 else None
        try:
            status, out = raw.send(service, op, body)
        except TimeoutError as e:  # a hang
            pytest.fail(f"{service} {label}: no answer within 5 s ({e})")
        if SECRET in json.dumps(out):
            wrong.append((label, "no secret in the answer", status, out))
        if status >= 500:
            server_errors.append((label, status, out))
        elif expected == ENTRY:
            if status != 200 or len(out.get("Failed")) != 1 or out.get("Successful"):
                wrong.append((label, expected, status, out))
        elif status < 400:
            accepted.append((label, out))
        elif error_type(out) != expected or (message and message not in out.get("message", "")):
            wrong.append((label, expected, status, out))
    summary = (f"{len(cases)} cases: {len(accepted)} accepted, {len(wrong)} wrong error, "
               f"{len(server_errors)} 5xx")
    assert not server_errors, f"{summary}\n{server_errors[:10]}"
    assert not accepted, f"{summary}\n" + "\n".join(map(str, accepted[:60]))
    assert not wrong, f"{summary}\n" + "\n".join(map(str, wrong[:80]))

    after = fixed_state(events, sqs)
    assert after == before
    # The queue's messages are exactly those sent before the bad requests.
    got = []
    deadline = time.monotonic() + 10
    while len(got) < 3 and time.monotonic() < deadline:
        got += sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages")
    assert sorted(m["Body"] for m in got) == ["kept 0", "kept 1", "kept 2"]
    assert server.health()["status"] == "ok"
    assert time.monotonic() - began < 60, "the suite must stay fast"


def test_tagging_requires_its_lists(endpoint, events):
    """TagResource without Tags and UntagResource without TagKeys are
    refused as the model requires (`Value null at 'tags'`), and change nothing."""
    events.put_rule(Name="r", EventPattern=KEEP_PATTERN)
    arn = f"{EVENTS_ARN}:rule/r"
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}])
    raw = Raw(endpoint)
    answers = [raw.send("events", op, {"ResourceARN": arn})
               for op, _ in sorted(SHARED_REQUEST_TYPE)]
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    assert [(status, error_type(out)) for status, out in answers] == [(400, VAL)] * 2, answers
    assert "at 'tags'" in answers[0][1]["message"] and "at 'tagKeys'" in answers[1][1]["message"], answers


def test_bad_requests_through_boto3(endpoint, events, sqs):
    """What botocore lets through (it checks types, required members and
    minimums, not maximums or patterns; with parameter validation off,
    anything) gets the same errors as raw requests."""
    events.create_event_bus(Name="orders")
    events.put_rule(Name="r", EventPattern=KEEP_PATTERN)
    events.create_archive(ArchiveName="a", EventSourceArn=ORDERS_ARN)
    loose = {
        "events": boto3_client_unvalidated(endpoint, "events"),
        "sqs": boto3_client_unvalidated(endpoint, "sqs"),
    }
    checked = 0
    calls = [
        (events.put_rule, dict(Name="x" * 65, EventPattern=KEEP_PATTERN), VAL, "at 'name'"),
        (events.put_rule, dict(Name="a b", EventPattern=KEEP_PATTERN), VAL, "regular expression pattern"),
        (events.put_rule, dict(Name="s", ScheduleExpression="cron(* * * * * *)"), VAL,
         "Parameter ScheduleExpression is not valid."),
        (events.put_rule, dict(Name="s", ScheduleExpression="rate(1 minutes)"), VAL,
         "Parameter ScheduleExpression is not valid."),
        (events.put_rule, dict(Name="s", EventPattern=KEEP_PATTERN, State="ON"), VAL, "enum value set"),
        (events.list_rules, dict(Limit=101), VAL, "at 'limit'"),
        (events.put_targets, dict(Rule="r", Targets=[{"Id": "t", "Arn": "test-bucket"}]), VAL,
         "Parameter test-bucket is not valid. Reason: Provided Arn is not in correct format."),
        (events.put_targets, dict(Rule="r", Targets=[{"Id": "t", "Arn": "file:///etc/passwd"}]), VAL,
         "http:// and https://"),
        (events.put_targets, dict(Rule="r", Targets=[
            {"Id": "t", "Arn": f"arn:aws:states:{REGION}:{ACCOUNT}:activity:m"}]), VAL,
         "A Step Functions target is a state machine"),
        (events.put_targets, dict(Rule="r", Targets=[
            {"Id": "t", "Arn": QUEUE_ARN, "RetryPolicy": {"MaximumRetryAttempts": 186}}]), VAL,
         "maximumRetryAttempts"),
        (events.put_events, dict(Entries=[{"Source": "a", "DetailType": "b", "Detail": "{}",
                                           "TraceHeader": "t" * 501}]), VAL, "traceHeader"),
        (loose["events"].delete_rule, dict(Name="r", EventBusName=["orders"]), SER,
         "Start of list found where not expected"),
        (loose["events"].list_rules, dict(Limit="10"), SER, "STRING_VALUE can not be converted to an Integer"),
        (loose["events"].put_targets, dict(Rule="r", Targets=[
            {"Id": "t", "Arn": QUEUE_ARN, "DeadLetterConfig": {"Arn": 0}}]), SER, "NUMBER_VALUE"),
        (loose["events"].put_events, dict(Entries=[{"Source": "a", "DetailType": "b", "Detail": "{}",
                                                    "Resources": [1, {}]}]), SER, "NUMBER_VALUE"),
        (loose["events"].put_events, dict(Entries=[{"Source": "a", "DetailType": "b", "Detail": "{}",
                                                    "TraceHeader": {}}]), SER, "Start of structure"),
        (loose["sqs"].receive_message, dict(QueueUrl=["x"]), SER, "Unrecognized collection type"),
        (events.create_archive, dict(ArchiveName="a b", EventSourceArn=ORDERS_ARN), VAL,
         "at 'archiveName' failed to satisfy constraint: Member must satisfy regular expression pattern"),
        (events.create_archive, dict(ArchiveName="b", EventSourceArn=ORDERS_ARN, EventPattern="[1]"),
         BAD_PATTERN, "Event pattern is not valid"),
        (events.start_replay, dict(ReplayName="r", EventSourceArn=f"{EVENTS_ARN}:archive/a",
                                   EventStartTime=REPLAY_WINDOW[1], EventEndTime=REPLAY_WINDOW[0],
                                   Destination={"Arn": ORDERS_ARN}), VAL,
         "EventStartTime must be before EventEndTime"),
        (events.create_connection, dict(Name="c", AuthorizationType="BASIC", AuthParameters=API_KEY_AUTH), VAL,
         "BasicAuthParameters must be specified for AuthorizationType BASIC."),
        (events.create_connection, dict(Name="c", AuthorizationType="API_KEY", AuthParameters={
            "ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": f"{SECRET}\u0001"}}), VAL,
         "Value '***' at 'authParameters.apiKeyAuthParameters.apiKeyValue'"),
        (events.create_api_destination, dict(Name="d", ConnectionArn=NO_CONNECTION_ARN,
                                             InvocationEndpoint="http://example.com/", HttpMethod="POST"), VAL,
         "InvocationEndpoint"),
        (events.tag_resource, dict(ResourceARN=QUEUE_ARN, Tags=[{"Key": "k", "Value": "v"}]), NOT_FOUND,
         "does not exist"),
        (loose["events"].list_archives, dict(Limit="10"), SER, "STRING_VALUE can not be converted to an Integer"),
        (loose["events"].start_replay, dict(ReplayName=5, EventSourceArn=f"{EVENTS_ARN}:archive/a",
                                            EventStartTime=REPLAY_WINDOW[0], EventEndTime=REPLAY_WINDOW[1],
                                            Destination={"Arn": ORDERS_ARN}), SER,
         "NUMBER_VALUE can not be converted to a String"),
    ]
    for fn, kwargs, code, text in calls:
        with pytest.raises(ClientError) as e:
            fn(**kwargs)
        err = e.value.response["Error"]
        assert err["Code"] == code, (fn, kwargs, err)
        assert text in err["Message"], (fn, kwargs, err)
        checked += 1
    assert checked == len(calls)
    # The rule that DeleteRule with a bad EventBusName would have hit is there,
    # and the refused creations made nothing.
    assert [r["Name"] for r in events.list_rules()["Rules"]] == ["r"]
    assert [a["ArchiveName"] for a in events.list_archives()["Archives"]] == ["a"]
    assert events.list_replays()["Replays"] == []
    assert events.list_connections()["Connections"] == []
    assert events.list_api_destinations()["ApiDestinations"] == []


def boto3_client_unvalidated(endpoint: str, service: str):
    import boto3
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(parameter_validation=False, retries={"max_attempts": 1}))


def test_good_times_are_honoured_and_bad_ones_deliver_nothing(events, sqs):
    """The strict reading of `Time` still takes every form the service
    takes: epoch seconds (botocore's), RFC 3339 with offsets and fractions."""
    q = sqs.create_queue(QueueName="times")["QueueUrl"]
    events.put_rule(Name="times", EventPattern=json.dumps({"source": ["times"]}))
    events.put_targets(Rule="times", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:times"}])
    raw = Raw(events.meta.endpoint_url)
    status, out = raw.send("events", "PutEvents", {"Entries": [
        {"Source": "times", "DetailType": "bad", "Detail": "{}", "Time": "2024-13-45T99:99:99Z"}]})
    assert (status, error_type(out)) == (400, SER), out
    good = [1714564800, 1714564800.9, "2024-05-01T12:00:00Z", "2024-05-01T14:00:00.5+02:00",
            "2024-05-01T07:30:00-04:30"]
    status, out = raw.send("events", "PutEvents", {"Entries": [
        {"Source": "times", "DetailType": f"t{i}", "Detail": "{}", "Time": t} for i, t in enumerate(good)]})
    assert status == 200 and out["FailedEntryCount"] == 0, out
    got = []
    deadline = time.monotonic() + 15
    while len(got) < len(good) and time.monotonic() < deadline:
        got += sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages")
    bodies = sorted((json.loads(m["Body"]) for m in got), key=lambda b: b["detail-type"])
    assert [b["detail-type"] for b in bodies] == [f"t{i}" for i in range(len(good))]
    assert {b["time"] for b in bodies} == {"2024-05-01T12:00:00Z"}, bodies


def test_the_models_still_have_every_member_ferrule_serves():
    """The generation covers every member ferrule models: none was renamed
    or dropped by the installed botocore."""
    found: dict[str, set] = {}
    for service, ops in (("events", EVENTS_OPS), ("sqs", SQS_OPS)):
        m = model(service)
        for op in ops:
            shape = m.operation_model(op).input_shape
            found.setdefault(shape.name, set()).update(n for n in shape.members if n in SERVED_MEMBERS[shape.name])
            for path, s, _ in members(shape):
                if s.type_name == "structure":
                    found.setdefault(s.name, set()).update(
                        n for n in s.members if n in SERVED_MEMBERS.get(s.name, ()))
    assert found == SERVED_MEMBERS
