"""A bounded load test on loopback: 1,000 rules (exact matches on distinct
values of one detail field, each with one SQS-queue target), then N
PutEvents requests of 10 entries each from a few threads.

Environment:
  FERRULE_LOAD_REQUESTS  PutEvents requests (default 500)
  FERRULE_LOAD_THREADS   client threads (default 4)
  FERRULE_LOAD_CLIENT    `raw` (default: http.client with keep-alive, unsigned
                         AWS JSON 1.1, to keep client overhead low) or `boto3`
  FERRULE_LOAD_SYNC      `true` (default) or `false`: the server's "sync" setting

Prints one line:
  load: requests=… entries=… seconds=… entries_per_second=… p50_ms=… p99_ms=…
followed by a note with the client, threads, rule setup time and delivery drain.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time

from conftest import client

RULES = 1000
QUEUES = 10
ENTRIES_PER_REQUEST = 10
REQUESTS = int(os.environ.get("FERRULE_LOAD_REQUESTS", "500"))
THREADS = int(os.environ.get("FERRULE_LOAD_THREADS", "4"))
CLIENT = os.environ.get("FERRULE_LOAD_CLIENT", "raw")
SYNC = os.environ.get("FERRULE_LOAD_SYNC", "true").lower() != "false"
TIME_BUDGET_SECONDS = 60.0


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


class RawClient:
    """PutEvents over one keep-alive connection, unsigned (the server does
    not verify signatures unless keys are configured)."""

    def __init__(self, url: str):
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents.PutEvents"}

    def put_events(self, entries: list[dict]) -> dict:
        self.conn.request("POST", "/", body=json.dumps({"Entries": entries}), headers=self.headers)
        r = self.conn.getresponse()
        body = r.read()
        assert r.status == 200, (r.status, body[:500])
        return json.loads(body)

    def close(self):
        self.conn.close()


class Boto3Client:
    def __init__(self, url: str):
        self.c = client("events", url)

    def put_events(self, entries: list[dict]) -> dict:
        return self.c.put_events(Entries=entries)

    def close(self):
        pass


def test_load(server_factory):
    config = {"limits": {"rules_per_bus": RULES}, "sync": SYNC}
    server = server_factory(config=config)
    events, sqs = client("events", server.url), client("sqs", server.url)

    # --- setup: queues, 1,000 rules with one target each (through the API) ---
    setup_started = time.monotonic()
    arns = []
    for q in range(QUEUES):
        url = sqs.create_queue(QueueName=f"load-{q}")["QueueUrl"]
        arns.append(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

    def make_rules(indices):
        c = client("events", server.url)
        for i in indices:
            c.put_rule(Name=f"load-{i:04d}", EventPattern=json.dumps({"source": ["load"], "detail": {"key": [f"k{i}"]}}))
            c.put_targets(Rule=f"load-{i:04d}", Targets=[{"Id": "q", "Arn": arns[i % QUEUES]}])

    setup_threads = [threading.Thread(target=make_rules, args=(range(t, RULES, 4),)) for t in range(4)]
    for t in setup_threads:
        t.start()
    for t in setup_threads:
        t.join()
    setup_seconds = time.monotonic() - setup_started
    assert len([r for p in events.get_paginator("list_rules").paginate(NamePrefix="load-") for r in p["Rules"]]) == RULES

    # --- load ---
    rng = random.Random(7)
    latencies: list[float] = []
    failures: list[str] = []
    accepted = [0]
    lock = threading.Lock()
    next_request = [0]
    deadline = time.monotonic() + TIME_BUDGET_SECONDS

    def worker():
        c = RawClient(server.url) if CLIENT == "raw" else Boto3Client(server.url)
        mine: list[float] = []
        ok = 0
        try:
            while time.monotonic() < deadline:
                with lock:
                    n = next_request[0]
                    if n >= REQUESTS:
                        break
                    next_request[0] += 1
                    keys = [rng.randrange(RULES) for _ in range(ENTRIES_PER_REQUEST)]
                entries = [{"Source": "load", "DetailType": "LoadTest",
                            "Detail": json.dumps({"key": f"k{k}", "request": n, "payload": "x" * 64})}
                           for k in keys]
                t0 = time.perf_counter()
                out = c.put_events(entries)
                mine.append(time.perf_counter() - t0)
                if out["FailedEntryCount"]:
                    with lock:
                        failures.append(json.dumps(out)[:300])
                ok += sum(1 for e in out["Entries"] if "EventId" in e)
        finally:
            c.close()
            with lock:
                latencies.extend(mine)
                accepted[0] += ok

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - started
    done = len(latencies)
    entries = done * ENTRIES_PER_REQUEST
    lat = sorted(latencies)

    # How long the server takes to hand every matched event to its queue.
    drain_started = time.monotonic()
    pending = server.health()["pending_deliveries"]
    while pending and time.monotonic() - drain_started < 30:
        time.sleep(0.1)
        pending = server.health()["pending_deliveries"]
    drain_seconds = time.monotonic() - drain_started

    print()
    print(f"load: requests={done} entries={entries} seconds={seconds:.2f} "
          f"entries_per_second={entries / seconds:.0f} p50_ms={percentile(lat, 50) * 1000:.2f} "
          f"p99_ms={percentile(lat, 99) * 1000:.2f}")
    print(f"load-note: client={CLIENT} ({'http.client keep-alive, unsigned' if CLIENT == 'raw' else 'boto3, SigV4-signed'}) "
          f"threads={THREADS} rules={RULES} queues={QUEUES} sync={SYNC} cpus={os.cpu_count()} "
          f"rule_setup_seconds={setup_seconds:.1f} pending_after_load={pending} "
          f"drain_seconds={drain_seconds:.2f}")

    assert not failures, failures[:5]
    assert done == REQUESTS, f"only {done} of {REQUESTS} requests in the {TIME_BUDGET_SECONDS:.0f}s budget"
    assert accepted[0] == REQUESTS * ENTRIES_PER_REQUEST
    assert pending == 0, f"{pending} deliveries still pending 30 s after the load"
    # Every entry matched exactly one rule: one queue message each.
    matched = sum(int(line.rsplit(" ", 1)[1]) for line in server.metrics().splitlines()
                  if line.startswith("ferrule_rule_matches_total{") and 'rule="load-' in line)
    assert matched == entries
