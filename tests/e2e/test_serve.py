"""The `ferrule serve` process itself: start-up failures, the configuration
file, SIGTERM/SIGINT shutdown (also with requests in progress)."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time

import boto3
import pytest

from conftest import FERRULE_BIN, client, free_port


def run_serve(*args: str, timeout: float = 10) -> subprocess.CompletedProcess:
    return subprocess.run([str(FERRULE_BIN), "serve", *args], capture_output=True, text=True, timeout=timeout)


def test_startup_errors(server, workdir):
    # The store is locked by the running server.
    p = run_serve("--listen", f"127.0.0.1:{free_port()}", "--data-dir", str(server.data_dir))
    assert p.returncode == 2 and "cannot open the store" in p.stderr, p.stderr
    # The port is taken.
    p = run_serve("--listen", f"127.0.0.1:{server.port}", "--data-dir", str(workdir / "other"))
    assert p.returncode == 2 and "cannot listen" in p.stderr, p.stderr
    # A configuration file with an unknown member.
    bad = workdir / "bad.json"
    bad.write_text(json.dumps({"limits": {"rules_per_bus": 10}, "bogus": 1}))
    p = run_serve("--listen", f"127.0.0.1:{free_port()}", "--data-dir", str(workdir / "o2"), "--config", str(bad))
    assert p.returncode == 2 and "bogus" in p.stderr, p.stderr
    p = run_serve("--listen", "not-an-address", "--data-dir", str(workdir / "o3"))
    assert p.returncode == 2 and "--listen" in p.stderr, p.stderr


def regional(service: str, url: str, region: str):
    return boto3.client(service, endpoint_url=url, region_name=region, aws_access_key_id="test",
                        aws_secret_access_key="test")


def test_config_file_declares_buses_rules_targets_and_queues(server_factory, http_sink):
    sink = http_sink()
    config = {
        "account": "123456789012",
        "region": "eu-west-1",
        "queues": ["orders-dlq", "orders-copy"],
        "buses": [{"name": "orders", "description": "from the file"}],
        "limits": {"targets_per_rule": 2},
        "rules": [{
            "name": "big-orders", "bus": "orders",
            "event_pattern": {"detail": {"total": [{"numeric": [">", 100]}]}},
            "targets": [
                {"id": "hook", "arn": f"{sink.url}/orders",
                 "input_transformer": {"input_paths_map": {"t": "$.detail.total"}, "input_template": '{"total": <t>}'},
                 "dead_letter_config": {"arn": "arn:aws:sqs:eu-west-1:123456789012:orders-dlq"}},
                {"id": "copy", "arn": "arn:aws:sqs:eu-west-1:123456789012:orders-copy"},
            ],
        }],
    }
    server = server_factory(config=config)
    # The file's resources are its account's and Region's: a client of another
    # Region does not see them.
    assert client("events", server.url).list_event_buses()["EventBuses"][0]["Arn"].startswith(
        "arn:aws:events:us-east-1:123456789012:")
    assert all(b["Name"] != "orders" for b in client("events", server.url).list_event_buses()["EventBuses"])
    events = regional("events", server.url, "eu-west-1")
    sqs = regional("sqs", server.url, "eu-west-1")
    rule = events.describe_rule(Name="big-orders", EventBusName="orders")
    assert rule["Arn"] == "arn:aws:events:eu-west-1:123456789012:rule/orders/big-orders"
    assert events.describe_event_bus(Name="orders")["Description"] == "from the file"
    assert {t["Id"] for t in events.list_targets_by_rule(Rule="big-orders", EventBusName="orders")["Targets"]} == {"hook", "copy"}
    with pytest.raises(events.exceptions.LimitExceededException):
        events.put_targets(Rule="big-orders", EventBusName="orders", Targets=[{"Id": "third", "Arn": sink.url}])

    out = events.put_events(Entries=[
        {"Source": "shop", "DetailType": "Order", "EventBusName": "orders", "Detail": json.dumps({"total": t})}
        for t in (50, 500)])
    big_id = out["Entries"][1]["EventId"]
    assert sink.wait_for(lambda rs: len(rs) >= 1, timeout=10)
    assert json.loads(sink.requests[0]["body"]) == {"total": 500}
    url = sqs.get_queue_url(QueueName="orders-copy")["QueueUrl"]
    msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MaxNumberOfMessages=10)["Messages"]
    assert len(msgs) == 1
    event = json.loads(msgs[0]["Body"])
    assert event["id"] == big_id and event["account"] == "123456789012" and event["region"] == "eu-west-1"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signals_shut_down_cleanly(server, sig):
    events = client("events", server.url)
    events.put_rule(Name="r", EventPattern='{"source": ["x"]}')  # an open keep-alive connection
    began = time.monotonic()
    assert server.stop(sig=sig) == 0  # asserts exit status 0 within 10 s
    assert time.monotonic() - began < 5
    assert "shutting down" in server.log()


def test_sigterm_ends_pending_long_polls(server):
    sqs = client("sqs", server.url)
    url = sqs.create_queue(QueueName="long-poll")["QueueUrl"]
    result = {}

    def poll():
        try:
            result["response"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        except Exception as e:  # noqa: BLE001
            result["error"] = e

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    time.sleep(1.0)
    began = time.monotonic()
    code = server.stop(check=False)  # SIGTERM; SIGKILL after 10 s (then None)
    assert code is not None, "ferrule serve did not exit within 10 s of SIGTERM while a 20 s long poll was pending"
    assert code == 0
    assert time.monotonic() - began < 10
    t.join(timeout=5)
    assert "Messages" not in result.get("response", {})
