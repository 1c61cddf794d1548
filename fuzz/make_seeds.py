#!/usr/bin/env python3
"""Writes candidate seed inputs for the fuzz targets.

Usage: make_seeds.py OUT_DIR [CITYLOTS.jlines.gz]

Creates OUT_DIR/<target>/<sha1> files:
  pattern_parser       every distinct pattern of the conformance corpus
                       (valid and invalid; raw text as given, or serialized
                       JSON), plus hand-written ones
  event_flattener      every distinct event of the conformance corpus, the
                       first lines of a citylots file, plus hand-written events
                       for the paths the target's fixed rules use
  match_pattern_event  pattern + b"\\0" + event for every conformance case that
                       has both, plus citylots lines with quamina's patterns

The tracked seeds in fuzz/seeds/ were made by running this script and then
`cargo fuzz cmin` on each directory (see README.md), which keeps a subset with
the same coverage.
"""
import gzip
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = "/work/shared/conformance/event-ruler-cases.jsonl"


def ser(value, compact):
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    seps = (",", ":") if compact else (", ", ": ")
    return json.dumps(value, ensure_ascii=False, separators=seps).encode("utf-8", "surrogatepass")


def write(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


HAND_PATTERNS = [
    '{"a":[1]}',
    '{"a":[{"numeric":[">",0,"<=",5]}],"b":[{"anything-but":{"prefix":"x"}}]}',
    '{"a":[{"wildcard":"*a\\\\*b*"}],"b":[{"cidr":"10.0.0.0/8"}],"c":[{"exists":false}]}',
    '{"a":[{"prefix":{"equals-ignore-case":"Ab"}},{"suffix":{"equals-ignore-case":"Z"}}]}',
    '{"$or":[{"a":["x"]},{"b":{"$or":[{"c":[1]},{"d":[null]}]}}]}',
    '{"a":[{"anything-but":{"wildcard":["*x","y*"]}},{"anything-but":{"equals-ignore-case":"Q"}}]}',
    '{"ip":["2001:db8::1",{"cidr":"::/0"}],"n":[1e2,-0.0,12345678901234567890]}',
    '{"a.b":{"c":[{"exists":true}]},"k\\u0000":["\\ud83d\\ude00"]}',
]

HAND_EVENTS = [
    b'{"source":"aws.s3","region":"eu-west-1","detail-type":"Object Created","detail":{"size":5000,"key":"photos/x/a.png","object":{"etag":"e"},"ip":"10.0.0.5","flag":true}}',
    b'{"source":"aws.ec2","region":"US-east-1","detail":{"size":[1,2.5,100,1e2],"key":["a.tmp","b.JPG"],"ip":["2001:DB8::7","::1","192.168.001.1"]}}',
    b'{"n":3,"m":-0.0,"a":{"b":{"c":["x",1,"yz"],"d":null}},"a.b.c":"z","a.b":{"d":0}}',
    b'{"employees":[{"first":"Anna","last":"Smith"},{"first":"Peter","last":"Jones","middle":"Q"}]}',
    b'{"l1":{"l2":{"l3":{"l4":{"l5":{"l6":[[[{}]]]}}}}}}',
    b'{"\xc3\xa9t\xc3\xa9":"\\ud83d\\ude00","k\\u0000":"","detail-type":"STRASSE"}',
    b'{"source":"x","source":"aws.s3","detail":{"size":12345678901234567890}}',
    b'[1,2,3]',
    b'{"a":',
]

CITYLOTS_PATTERNS = [
    '{"properties": {"STREET": ["CRANLEIGH"]}}',
    '{"properties": {"STREET": ["17TH"], "ODD_EVEN": ["E"]}}',
    '{"geometry": {"coordinates": [37.807807921694092]}}',
    '{"properties": {"MAPBLKLOT": ["0011008"]}}',
    '{"properties": {"ST_TYPE": [{"anything-but": "ST"}]}}',
    '{"geometry": {"type": ["MultiPolygon"]}, "properties": {"BLOCK_NUM": [{"prefix": "00"}]}}',
]


def main():
    out = sys.argv[1]
    citylots = sys.argv[2] if len(sys.argv) > 2 else None
    patterns, events, pairs = set(), set(), set()
    with open(CASES, encoding="utf-8") as f:
        for i, line in enumerate(f):
            case = json.loads(line)
            compact = i % 2 == 0
            p = ser(case["pattern"], compact) if "pattern" in case else None
            e = ser(case["event"], compact) if "event" in case else None
            if p is not None:
                patterns.add(p)
            if e is not None:
                events.add(e)
            if p is not None and e is not None:
                pairs.add(p + b"\0" + e)
    patterns.update(p.encode() for p in HAND_PATTERNS)
    events.update(HAND_EVENTS)
    for p in HAND_PATTERNS:
        for e in HAND_EVENTS:
            pairs.add(p.encode() + b"\0" + e)
    if citylots:
        with gzip.open(citylots, "rb") as f:
            lines = [next(f).rstrip(b"\n") for _ in range(40)]
        events.update(lines[:20])
        for j, line in enumerate(lines):
            pairs.add(CITYLOTS_PATTERNS[j % len(CITYLOTS_PATTERNS)].encode() + b"\0" + line)
    for p in patterns:
        write(out, "pattern_parser", p)
    for e in events:
        write(out, "event_flattener", e)
    for pe in pairs:
        write(out, "match_pattern_event", pe)
    print(f"pattern_parser {len(patterns)}, event_flattener {len(events)}, "
          f"match_pattern_event {len(pairs)}")


if __name__ == "__main__":
    main()
