"""Faults on a real `ferrule serve`: the data directory on a small tmpfs that
fills up. PutEvents entries fail with InternalFailure, /health answers 503
"degraded" with the reason, the fault is logged at ERROR once, and once space
is free the server recovers by itself (no restart) and every acknowledged
event reaches its queue. Needs root (to mount the tmpfs); skipped otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import client, receive_all

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


def health(url: str) -> tuple[int, dict]:
    """(HTTP status, body) of /health, also when it answers 503."""
    try:
        with urllib.request.urlopen(url + "/health", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture
def tmpfs():
    d = Path(tempfile.mkdtemp(prefix="ferrule-e2e-tmpfs-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(d)], check=True)
    try:
        yield d
    finally:
        if subprocess.run(["umount", str(d)]).returncode != 0:
            subprocess.run(["umount", "-l", str(d)])
        d.rmdir()


def fill(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for chunk in (1 << 20, 64 << 10, 4 << 10, 512, 1):
            block = b"\xa5" * chunk
            while True:
                try:
                    if os.write(fd, block) < len(block):
                        break
                except OSError:
                    break
    finally:
        os.close(fd)


def put(events, n: int) -> tuple[list[str], list[dict]]:
    entries = [{"Source": "disk.e2e", "DetailType": "T",
                "Detail": json.dumps({"i": i, "pad": "x" * 400})} for i in range(n)]
    out = events.put_events(Entries=entries)
    acked = [e["EventId"] for e in out["Entries"] if "EventId" in e]
    failed = [e for e in out["Entries"] if "ErrorCode" in e]
    assert out["FailedEntryCount"] == len(failed)
    return acked, failed


# `tmpfs` first: it is unmounted after the server has stopped.
def test_disk_full_degrades_health_and_recovers_without_restart(tmpfs, server_factory):
    server = server_factory(data_dir=tmpfs / "data")
    events, sqs = client("events", server.url), client("sqs", server.url)
    queue = sqs.create_queue(QueueName="kept")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventPattern='{"source": ["disk.e2e"]}')
    events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": arn}])

    acked, failed = put(events, 10)
    assert not failed
    status, body = health(server.url)
    assert (status, body["status"]) == (200, "ok"), body

    filler = tmpfs / "filler"
    fill(filler)
    failures: list[dict] = []
    for _ in range(500):
        ok, failed = put(events, 10)
        acked += ok
        if failed:
            failures += failed
            break
    assert failures, "PutEvents kept succeeding on a full disk"
    assert {f["ErrorCode"] for f in failures} == {"InternalFailure"}
    assert all(f["ErrorMessage"] for f in failures)

    status, body = health(server.url)
    assert status == 503, body
    assert body["status"] == "degraded"
    assert "No space left on device" in body["reason"], body
    assert any(f["component"] == "store" for f in body["faults"]), body

    # A flood of failing requests logs the fault once, not per request.
    for _ in range(20):
        ok, _ = put(events, 10)
        acked += ok
    # (A reopen frees the failed commit's pages inside the file, so the store
    # may work again for a while and fail anew: one ERROR per transition.)
    lines = server.log().splitlines()
    errors = [line for line in lines if "ERROR" in line and "degraded: store failing" in line]
    recoveries = [line for line in lines if "recovered: store works again" in line]
    assert 1 <= len(errors) <= len(recoveries) + 1, server.log()
    assert len(errors) < 10, server.log()

    filler.unlink()
    assert wait_until(lambda: health(server.url)[0] == 200, timeout=15), health(server.url)
    assert health(server.url)[1]["status"] == "ok"
    assert "recovered: store works again" in server.log()
    ok, failed = put(events, 10)
    assert not failed
    acked += ok

    got = receive_all(sqs, queue, len(acked), timeout=30)
    ids = {json.loads(m["Body"])["id"] for m in got}
    missing = set(acked) - ids
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged events never reached the queue"
