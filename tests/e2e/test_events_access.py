"""Identity policies on EventBridge's archives, replays, connections and API
destinations, checked by effect: a denied call changes nothing (the archive
is still there, no replay ran, no connection was made), and the same calls
on resources the policy does not name go through."""

from __future__ import annotations

import datetime as dt
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION

KEYS = {"AKIDADMIN": "secret-admin", "AKIDLIMITED": "secret-limited"}
ARN = f"arn:aws:events:{REGION}:{ACCOUNT}"
LIMITED_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "events:*", "Resource": "*"},
    {"Effect": "Deny", "Action": ["events:DeleteArchive", "events:UpdateArchive",
                                  "events:StartReplay"], "Resource": f"{ARN}:archive/kept"},
    {"Effect": "Deny", "Action": "events:*", "Resource": [f"{ARN}:connection/secret*",
                                                          f"{ARN}:api-destination/fixed"]},
]}
CONFIG = {"credentials": [
    {"access_key_id": "AKIDADMIN", "secret_access_key": KEYS["AKIDADMIN"]},
    {"access_key_id": "AKIDLIMITED", "secret_access_key": KEYS["AKIDLIMITED"], "user": "limited",
     "policies": [LIMITED_POLICY]},
]}


def signed(url: str, key: str):
    return boto3.client("events", endpoint_url=url, region_name=REGION, aws_access_key_id=key,
                        aws_secret_access_key=KEYS[key], config=Config(retries={"max_attempts": 1}))


def denied(call, **kw) -> str:
    with pytest.raises(ClientError) as e:
        call(**kw)
    err = e.value.response["Error"]
    assert err["Code"] == "AccessDeniedException", err
    return err["Message"]


@pytest.fixture
def clients(server_factory):
    url = server_factory(config=CONFIG).url
    return signed(url, "AKIDADMIN"), signed(url, "AKIDLIMITED")


def test_denied_archive_and_replay_calls_change_nothing(clients):
    admin, limited = clients
    bus = f"{ARN}:event-bus/default"
    kept = admin.create_archive(ArchiveName="kept", EventSourceArn=bus)["ArchiveArn"]
    other = limited.create_archive(ArchiveName="other", EventSourceArn=bus)["ArchiveArn"]
    msg = denied(limited.delete_archive, ArchiveName="kept")
    assert "events:DeleteArchive" in msg and f"{ARN}:archive/kept" in msg
    denied(limited.update_archive, ArchiveName="kept", Description="changed")
    # A window after both archives were made, ended before the replays start.
    start = dt.datetime.now(dt.timezone.utc)
    time.sleep(1.5)
    window = {"EventStartTime": start, "EventEndTime": start + dt.timedelta(seconds=1),
              "Destination": {"Arn": bus}}
    denied(limited.start_replay, ReplayName="r1", EventSourceArn=kept, **window)

    d = admin.describe_archive(ArchiveName="kept")
    assert d["State"] == "ENABLED" and d.get("Description", "") == ""
    assert admin.list_replays()["Replays"] == []
    # The name was never taken, and the other archive is the limited caller's to use.
    limited.start_replay(ReplayName="r1", EventSourceArn=other, **window)
    assert [r["ReplayName"] for r in admin.list_replays()["Replays"]] == ["r1"]
    limited.delete_archive(ArchiveName="other")
    assert [a["ArchiveName"] for a in admin.list_archives()["Archives"]] == ["kept"]


def test_denied_connection_and_api_destination_calls_change_nothing(clients):
    admin, limited = clients
    auth = {"AuthorizationType": "API_KEY",
            "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyName": "x-key", "ApiKeyValue": "v"}}}
    denied(limited.create_connection, Name="secret-1", **auth)
    assert admin.list_connections()["Connections"] == []
    conn = admin.create_connection(Name="secret-2", **auth)["ConnectionArn"]
    denied(limited.delete_connection, Name="secret-2")
    denied(limited.deauthorize_connection, Name="secret-2")
    assert admin.describe_connection(Name="secret-2")["ConnectionState"] == "AUTHORIZED"

    admin.create_api_destination(Name="fixed", ConnectionArn=conn, HttpMethod="POST",
                                 InvocationEndpoint="http://127.0.0.1:9/hook")
    denied(limited.update_api_destination, Name="fixed", HttpMethod="PUT")
    denied(limited.delete_api_destination, Name="fixed")
    d = admin.describe_api_destination(Name="fixed")
    assert d["HttpMethod"] == "POST"
    # A destination the policy does not name is the limited caller's to change.
    limited.create_api_destination(Name="free", ConnectionArn=conn, HttpMethod="POST",
                                   InvocationEndpoint="http://127.0.0.1:9/hook")
    limited.delete_api_destination(Name="free")
    assert [a["Name"] for a in admin.list_api_destinations()["ApiDestinations"]] == ["fixed"]
