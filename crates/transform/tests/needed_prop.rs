//! Rendering from the partial parse of [`Needed::read`] gives exactly what
//! rendering from a full parse gives, for any event and any input settings.

use ferrule_transform::{InputSpec, Needed, RenderContext};
use proptest::prelude::*;
use serde_json::Value;

const NAMES: [&str; 5] = ["a", "b", "detail", "x-y", "n"];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(Value::from),
        "[a-z]{0,3}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(&NAMES[..]), inner), 0..5).prop_map(
                |members| {
                    Value::Object(
                        members
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect(),
                    )
                }
            ),
        ]
    })
}

fn path() -> impl Strategy<Value = String> {
    let step = prop_oneof![
        4 => prop::sample::select(&NAMES[..]).prop_map(|n| format!(".{n}")),
        1 => (0usize..3).prop_map(|i| format!("[{i}]")),
        1 => Just("[*]".to_string()),
    ];
    prop::collection::vec(step, 0..4).prop_map(|steps| format!("${}", steps.concat()))
}

fn spec() -> impl Strategy<Value = InputSpec> {
    prop_oneof![
        path().prop_map(|p| InputSpec::new("t", None, Some(&p), None).unwrap()),
        prop::collection::vec(path(), 1..4).prop_map(|paths| {
            let map: Vec<(String, String)> = paths
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("v{i}"), p.clone()))
                .collect();
            let template: String = (0..paths.len()).map(|i| format!("<v{i}> ")).collect();
            InputSpec::new("t", None, None, Some((&map, &template))).unwrap()
        }),
    ]
}

proptest! {
    #[test]
    fn partial_parse_renders_as_a_full_parse(
        event in json_value(),
        specs in prop::collection::vec(spec(), 1..4),
        duplicate in any::<bool>(),
    ) {
        let mut text = event.to_string();
        // A duplicate key at the top: the last one wins in both parses.
        if duplicate && text.starts_with('{') && text.len() > 2 {
            text = format!("{{\"a\":{{\"b\":[1]}},{}", &text[1..]);
        }
        let full: Value = serde_json::from_str(&text).unwrap();
        let mut needed = Needed::nothing();
        for s in &specs {
            needed.add(s);
        }
        let partial = needed.read(&text).unwrap();
        let context = RenderContext {
            rule_arn: "arn:aws:events:us-east-1:123456789012:rule/r",
            rule_name: "r",
            ingestion_time: "2024-01-01T00:00:00.000Z",
        };
        for s in &specs {
            let want = s.render(&full, &context).map_err(|e| e.reason().to_string());
            let got = s.render(&partial, &context).map_err(|e| e.reason().to_string());
            prop_assert_eq!(got, want, "spec {:?} on {}", s, text);
        }
    }
}
