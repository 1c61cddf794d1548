//! The fixed rule set of the event targets: every operator on many
//! (nested, overlapping) paths. Included with `#[path]` by each target.

use std::sync::OnceLock;

use ferrule::{Matcher, RuleSet};

#[rustfmt::skip]
pub const RULES: &[(&str, &str)] = &[
    ("exact-string", r#"{"source": ["aws.s3", "aws.ec2", ""]}"#),
    ("exact-number", r#"{"detail": {"size": [0, 5000, -1.5, 1e2, 12345678901234567890]}}"#),
    ("literals", r#"{"detail": {"flag": [true, false, null]}}"#),
    ("ip-literal", r#"{"detail": {"key": ["10.0.0.1", "2001:db8::1"]}}"#),
    ("prefix", r#"{"region": [{"prefix": "eu-"}, {"prefix": ""}]}"#),
    ("prefix-ic", r#"{"region": [{"prefix": {"equals-ignore-case": "US-"}}]}"#),
    ("suffix", r#"{"detail": {"key": [{"suffix": ".png"}]}}"#),
    ("suffix-ic", r#"{"detail": {"key": [{"suffix": {"equals-ignore-case": ".JPG"}}]}}"#),
    ("equals-ic", r#"{"detail-type": [{"equals-ignore-case": "object CREATED"}, {"equals-ignore-case": "stra\u00dfe"}]}"#),
    ("wildcard", r#"{"detail": {"key": [{"wildcard": "photos/*/*.png"}, {"wildcard": "a\\*b*"}]}}"#),
    ("anything-but-string", r#"{"source": [{"anything-but": "aws.s3"}]}"#),
    ("anything-but-list", r#"{"source": [{"anything-but": ["aws.s3", "aws.ec2"]}]}"#),
    ("anything-but-number", r#"{"detail": {"size": [{"anything-but": [1, 2.5, 100]}]}}"#),
    ("anything-but-prefix", r#"{"region": [{"anything-but": {"prefix": "us-"}}]}"#),
    ("anything-but-suffix", r#"{"detail": {"key": [{"anything-but": {"suffix": [".tmp", ".bak"]}}]}}"#),
    ("anything-but-ic", r#"{"detail-type": [{"anything-but": {"equals-ignore-case": ["A", "b"]}}]}"#),
    ("anything-but-wildcard", r#"{"detail": {"key": [{"anything-but": {"wildcard": "*.tmp"}}]}}"#),
    ("numeric-gt", r#"{"detail": {"size": [{"numeric": [">", 1024]}]}}"#),
    ("numeric-range", r#"{"detail": {"size": [{"numeric": [">=", -10.5, "<", 1e6]}]}}"#),
    ("numeric-eq", r#"{"n": [{"numeric": ["=", 3.0e0]}], "m": [{"numeric": ["<=", 0]}]}"#),
    ("exists-true", r#"{"detail": {"object": {"etag": [{"exists": true}]}}}"#),
    ("exists-false", r#"{"detail": {"missing": [{"exists": false}]}}"#),
    ("exists-false-or-x", r#"{"a": {"b": [{"exists": false}, "x"]}}"#),
    ("cidr4", r#"{"detail": {"ip": [{"cidr": "10.0.0.0/24"}, "192.168.1.1"]}}"#),
    ("cidr6", r#"{"detail": {"ip": [{"cidr": "2001:db8::/32"}, "::1"]}}"#),
    ("or", r#"{"source": ["aws.s3"], "$or": [{"detail": {"size": [{"numeric": ["<", 10]}]}}, {"region": ["eu-west-1"]}, {"a": {"b": {"c": [{"exists": true}]}}}]}"#),
    ("nested", r#"{"a": {"b": {"c": ["x", 1, {"prefix": "y"}]}}}"#),
    ("dotted", r#"{"a.b.c": ["z"], "a.b": {"d": [{"exists": true}]}}"#),
    ("array-consistency", r#"{"employees": {"first": ["Anna"], "last": ["Jones"]}}"#),
    ("array-exists-false", r#"{"employees": {"first": ["Anna"], "middle": [{"exists": false}]}}"#),
    ("deep", r#"{"l1": {"l2": {"l3": {"l4": {"l5": {"l6": [{"exists": true}]}}}}}}"#),
    ("unicode-key", r#"{"\u00e9t\u00e9": ["\ud83d\ude00"], "k\u0000": [""]}"#),
    ("top-exists-false", r#"{"zz-absent": [{"exists": false}]}"#),
    // Number sieves: literals by spelling (not comparable) and by band.
    ("coordinate-text", r#"{"geometry": {"coordinates": [37.807807921694092, -122.418261722815416]}}"#),
    ("coordinate-range", r#"{"geometry": {"coordinates": [{"numeric": [">", 37.7, "<", 37.9]}]}}"#),
    // Texts only: its arrays may be passed over whole.
    ("point-text", r#"{"geometry": {"points": [37.807807921694092, "x"]}, "source": ["aws.s3"]}"#),
];

pub fn matcher() -> &'static Matcher {
    static MATCHER: OnceLock<Matcher> = OnceLock::new();
    MATCHER.get_or_init(compile)
}

/// The same rules with the trusted reader's early stop on.
#[allow(dead_code)] // used by some of the targets that include this file
pub fn early_stop_matcher() -> &'static Matcher {
    static MATCHER: OnceLock<Matcher> = OnceLock::new();
    MATCHER.get_or_init(|| compile().with_early_stop(true))
}

fn compile() -> Matcher {
    let mut rules = RuleSet::new();
    for (name, pattern) in RULES {
        rules
            .add(name, pattern)
            .unwrap_or_else(|e| panic!("fixed rule {name} does not parse: {e:?}"));
    }
    rules.compile()
}

