use super::*;

/// One collected leaf, in a form that is easy to compare.
#[derive(Debug, PartialEq)]
struct Leaf {
    path: String,
    kind: Kind,
    text: String,
    /// (array, index) pairs, innermost first.
    chain: Vec<(u32, u32)>,
}

fn leaf(path: &str, kind: Kind, text: &str, chain: &[(u32, u32)]) -> Leaf {
    Leaf {
        path: path.to_string(),
        kind,
        text: text.to_string(),
        chain: chain.to_vec(),
    }
}

fn s(path: &str, text: &str) -> Leaf {
    leaf(path, Kind::String, text, &[])
}

fn n(path: &str, text: &str) -> Leaf {
    leaf(path, Kind::Number, text, &[])
}

/// Flattens `event` with a fresh scratch over a trie of `paths`.
fn flatten(event: &str, paths: &[&str]) -> Vec<Leaf> {
    let mut scratch = FlattenScratch::default();
    flatten_with(&mut scratch, event.as_bytes(), paths)
        .unwrap_or_else(|e| panic!("event {event} was rejected: {e}"))
}

fn flatten_with(
    scratch: &mut FlattenScratch,
    event: &[u8],
    paths: &[&str],
) -> Result<Vec<Leaf>, EventError> {
    let trie = PathTrie::new(paths.iter().copied());
    scratch.flatten(event, &trie)?;
    Ok(scratch
        .values
        .iter()
        .map(|v| Leaf {
            path: paths[v.field as usize].to_string(),
            kind: v.kind,
            text: String::from_utf8(scratch.text(v).to_vec()).expect("UTF-8 value text"),
            chain: scratch.chain(v.frame).collect(),
        })
        .collect())
}

/// Asserts that flattening `event` fails with an `EventError` (and does not panic).
#[track_caller]
fn assert_rejected(event: &[u8], paths: &[&str]) -> EventError {
    let mut scratch = FlattenScratch::default();
    let e = match flatten_with(&mut scratch, event, paths) {
        Ok(values) => panic!(
            "event {:?} was accepted: {values:?}",
            String::from_utf8_lossy(event)
        ),
        Err(e) => e,
    };
    assert!(!e.message().is_empty());
    assert_eq!(e.to_string(), e.message());
    // The scratch is still usable afterwards.
    assert_eq!(
        flatten_with(&mut scratch, br#"{"a": 1}"#, &["a"]).unwrap(),
        [n("a", "1")]
    );
    e
}

// ---------------------------------------------------------------------------
// Which fields are collected
// ---------------------------------------------------------------------------

#[test]
fn only_fields_in_the_trie_are_collected() {
    let event = r#"{"a": "x", "b": 1, "c": {"d": "y", "e": 2}, "f": [3, 4], "g": true}"#;
    assert_eq!(flatten(event, &["a"]), [s("a", "x")]);
    assert_eq!(flatten(event, &["c.e"]), [n("c.e", "2")]);
    assert_eq!(
        flatten(event, &["c.d", "f"]),
        [s("c.d", "y"), n("f", "3"), n("f", "4")]
    );
    assert_eq!(flatten(event, &["zzz", "c.zzz", "a.b"]), Vec::<Leaf>::new());
    // An empty trie collects nothing.
    assert_eq!(flatten(event, &[]), Vec::<Leaf>::new());
}

#[test]
fn values_come_in_document_order_with_their_field_ids() {
    let paths = ["b", "a", "c.d"];
    let trie = PathTrie::new(paths);
    let mut scratch = FlattenScratch::default();
    scratch
        .flatten(br#"{"a": 1, "c": {"d": 2}, "b": 3, "a": 4}"#, &trie)
        .unwrap();
    let got: Vec<(u32, &[u8])> = scratch
        .values
        .iter()
        .map(|v| (v.field, scratch.text(v)))
        .collect();
    assert_eq!(
        got,
        [
            (1, &b"1"[..]),
            (2, &b"2"[..]),
            (0, &b"3"[..]),
            (1, &b"4"[..]),
        ]
    );
}

#[test]
fn a_path_prefix_is_not_a_field() {
    // `ab` is not `a.b`, and `a` is not `ab`.
    assert_eq!(
        flatten(r#"{"a": {"b": 1}, "ab": 2}"#, &["ab"]),
        [n("ab", "2")]
    );
    assert_eq!(flatten(r#"{"ab": 1}"#, &["a"]), Vec::<Leaf>::new());
    assert_eq!(flatten(r#"{"a": {"bc": 1}}"#, &["a.b"]), Vec::<Leaf>::new());
    assert_eq!(
        flatten(r#"{"a": {"b": {"c": 1}}}"#, &["a.b"]),
        Vec::<Leaf>::new()
    );
}

#[test]
fn a_field_and_a_longer_path_through_it() {
    let paths = ["a", "a.b"];
    assert_eq!(flatten(r#"{"a": 1}"#, &paths), [n("a", "1")]);
    assert_eq!(flatten(r#"{"a": {"b": 2}}"#, &paths), [n("a.b", "2")]);
    assert_eq!(
        flatten(r#"{"a": [1, {"b": 2}]}"#, &paths),
        [n("a", "1"), leaf("a.b", Kind::Number, "2", &[(1, 1)])]
    );
}

#[test]
fn object_at_a_leaf_path_is_skipped() {
    assert_eq!(
        flatten(r#"{"a": {"x": 1, "y": [2]}, "b": 3}"#, &["a", "b"]),
        [n("b", "3")]
    );
}

#[test]
fn dotted_keys_reach_dotted_paths() {
    let paths = ["a.b", "a.b.c"];
    assert_eq!(flatten(r#"{"a.b": 1}"#, &paths), [n("a.b", "1")]);
    assert_eq!(flatten(r#"{"a": {"b": 1}}"#, &paths), [n("a.b", "1")]);
    assert_eq!(flatten(r#"{"a": {"b.c": 1}}"#, &paths), [n("a.b.c", "1")]);
    assert_eq!(flatten(r#"{"a.b": {"c": 1}}"#, &paths), [n("a.b.c", "1")]);
    assert_eq!(flatten(r#"{"a.b.c": "x"}"#, &paths), [s("a.b.c", "x")]);
    assert_eq!(
        flatten(r#"{"a.b": 1, "a": {"b": 2}}"#, &paths),
        [n("a.b", "1"), n("a.b", "2")]
    );
}

#[test]
fn keys_are_decoded_and_may_be_unicode() {
    assert_eq!(flatten(r#"{"\u0061": 1}"#, &["a"]), [n("a", "1")]);
    assert_eq!(flatten(r#"{"é": {"ü": "x"}}"#, &["é.ü"]), [s("é.ü", "x")]);
    assert_eq!(flatten(r#"{"q\"k": 1}"#, &["q\"k"]), [n("q\"k", "1")]);
}

// ---------------------------------------------------------------------------
// Skipping
// ---------------------------------------------------------------------------

#[test]
fn skipped_members_do_not_disturb_later_fields() {
    let event = r#"{
        "s1": "\"{[",
        "s2": "]}\\",
        "o": {"x": "\"}]", "y": [1, {"z": "{{"}], "w": {"v": {}}},
        "arr": [[], [[]], {"k": "]"}, "\\\"", null],
        "e1": {},
        "e2": [],
        "a": "found",
        "tail": {"q": "\"]"},
        "b": 42
    }"#;
    assert_eq!(flatten(event, &["a", "b"]), [s("a", "found"), n("b", "42")]);
}

#[test]
fn skipped_siblings_inside_an_entered_object() {
    let event = r#"{"d": {"skip": [{"q": "}"}, "]"], "k": "v", "skip2": {"\"": "{"}, "m": [1]}}"#;
    assert_eq!(
        flatten(event, &["d.k", "d.m"]),
        [s("d.k", "v"), n("d.m", "1")]
    );
}

#[test]
fn skipping_works_in_long_events() {
    // Long enough to span many of simd-json's 64-byte blocks.
    let mut event = String::from("{");
    for i in 0..300 {
        event.push_str(&format!(
            r#""skip{i}": {{"s": "\"{{[\\", "n": [{i}, {{"x": "]}}"}}], "t": true}}, "#
        ));
        if i % 50 == 0 {
            event.push_str(&format!(r#""keep": {i}, "#));
        }
    }
    event.push_str(r#""last": "end"}"#);
    let got = flatten(&event, &["keep", "last"]);
    let expected: Vec<Leaf> = (0..300)
        .step_by(50)
        .map(|i| n("keep", &i.to_string()))
        .chain([s("last", "end")])
        .collect();
    assert_eq!(got, expected);
}

// ---------------------------------------------------------------------------
// Values: numbers, strings, kinds
// ---------------------------------------------------------------------------

#[test]
fn number_text_is_preserved_exactly() {
    let event = r#"{"a": 3.0e2, "b": -0, "c": 1E+2, "d": 12345678901234567890, "e": -1.50, "f":7}"#;
    assert_eq!(
        flatten(event, &["a", "b", "c", "d", "e", "f"]),
        [
            n("a", "3.0e2"),
            n("b", "-0"),
            n("c", "1E+2"),
            n("d", "12345678901234567890"),
            n("e", "-1.50"),
            n("f", "7"),
        ]
    );
    // Number text ends where the literal does, whatever follows.
    assert_eq!(
        flatten("{\"a\":[1,2.5 ,\n3e-2\t]}", &["a"]),
        [n("a", "1"), n("a", "2.5"), n("a", "3e-2")]
    );
}

#[test]
fn numbers_carry_their_parsed_value() {
    let trie = PathTrie::new(["a"]);
    let mut scratch = FlattenScratch::default();
    scratch
        .flatten(br#"{"a": [3.0e2, -7, 18446744073709551615, 0.5]}"#, &trie)
        .unwrap();
    let numbers: Vec<f64> = scratch.values.iter().map(|v| v.number).collect();
    assert_eq!(numbers, [300.0, -7.0, 18446744073709551615.0, 0.5]);
    assert!(scratch.values.iter().all(|v| v.kind == Kind::Number));
    assert_eq!(scratch.text(&scratch.values[0]), b"3.0e2");
}

#[test]
fn string_escapes_are_decoded() {
    let event =
        r#"{"a": "\u00e9", "b": "q\"b\\s\/n\nt\t", "c": "\ud83d\ude00", "d": "", "e": "日本"}"#;
    assert_eq!(
        flatten(event, &["a", "b", "c", "d", "e"]),
        [
            s("a", "é"),
            s("b", "q\"b\\s/n\nt\t"),
            s("c", "😀"),
            s("d", ""),
            s("e", "日本"),
        ]
    );
}

#[test]
fn every_kind_is_reported() {
    let event = r#"{"s": "x", "n": 1, "t": true, "f": false, "z": null}"#;
    let got = flatten(event, &["s", "n", "t", "f", "z"]);
    let kinds: Vec<Kind> = got.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::String,
            Kind::Number,
            Kind::True,
            Kind::False,
            Kind::Null
        ]
    );
    // Literals carry no text.
    assert_eq!(got[2].text, "");
    assert_eq!(got[3].text, "");
    assert_eq!(got[4].text, "");
    // A string that spells a literal is still a string.
    assert_eq!(
        flatten(r#"{"a": ["null", "true", "1"]}"#, &["a"]),
        [s("a", "null"), s("a", "true"), s("a", "1")]
    );
}

#[test]
fn empty_arrays_and_objects_contribute_nothing() {
    let paths = ["a", "b", "b.c", "d"];
    assert_eq!(
        flatten(r#"{"a": [], "b": {}, "d": [[], {}, [[]]]}"#, &paths),
        Vec::<Leaf>::new()
    );
    assert_eq!(flatten(r#"{}"#, &paths), Vec::<Leaf>::new());
    assert_eq!(flatten(" { } ", &paths), Vec::<Leaf>::new());
}

#[test]
fn duplicate_keys_yield_every_value() {
    assert_eq!(
        flatten(
            r#"{"a": "x", "a": "y", "b": {"c": 1}, "b": {"c": 2}}"#,
            &["a", "b.c"]
        ),
        [s("a", "x"), s("a", "y"), n("b.c", "1"), n("b.c", "2")]
    );
}

#[test]
fn scratch_is_reused_cleanly() {
    let mut scratch = FlattenScratch::default();
    let first = flatten_with(
        &mut scratch,
        br#"{"a": [{"b": "long string value"}, {"b": 2}]}"#,
        &["a.b"],
    )
    .unwrap();
    assert_eq!(first.len(), 2);
    let second = flatten_with(&mut scratch, br#"{"a": {"b": "x"}}"#, &["a.b"]).unwrap();
    assert_eq!(second, [s("a.b", "x")]);
    let third = flatten_with(&mut scratch, br#"{"z": 1}"#, &["a.b"]).unwrap();
    assert_eq!(third, Vec::<Leaf>::new());
    assert_eq!(scratch.frames.len(), 1);
}

// ---------------------------------------------------------------------------
// Arrays and frames
// ---------------------------------------------------------------------------

#[test]
fn scalars_in_arrays_share_the_parent_frame() {
    assert_eq!(
        flatten(r#"{"a": [1, "x", null]}"#, &["a"]),
        [n("a", "1"), s("a", "x"), leaf("a", Kind::Null, "", &[])]
    );
    let got = flatten(r#"{"a": [{"b": [1, 2]}, {"b": [3]}]}"#, &["a.b"]);
    assert_eq!(
        got,
        [
            leaf("a.b", Kind::Number, "1", &[(1, 0)]),
            leaf("a.b", Kind::Number, "2", &[(1, 0)]),
            leaf("a.b", Kind::Number, "3", &[(1, 1)]),
        ]
    );
}

#[test]
fn object_elements_get_array_index_frames() {
    let event =
        r#"{"e": [{"first": "Anna", "last": "Smith"}, {"first": "Peter", "last": "Jones"}]}"#;
    assert_eq!(
        flatten(event, &["e.first", "e.last"]),
        [
            leaf("e.first", Kind::String, "Anna", &[(1, 0)]),
            leaf("e.last", Kind::String, "Smith", &[(1, 0)]),
            leaf("e.first", Kind::String, "Peter", &[(1, 1)]),
            leaf("e.last", Kind::String, "Jones", &[(1, 1)]),
        ]
    );
}

#[test]
fn nested_arrays_chain_innermost_first() {
    let event = r#"{"x": 0, "a": [{"b": [{"c": 1}, {"c": 2}]}, {"b": [{"c": 3}]}]}"#;
    assert_eq!(
        flatten(event, &["x", "a.b.c"]),
        [
            n("x", "0"),
            leaf("a.b.c", Kind::Number, "1", &[(2, 0), (1, 0)]),
            leaf("a.b.c", Kind::Number, "2", &[(2, 1), (1, 0)]),
            leaf("a.b.c", Kind::Number, "3", &[(3, 0), (1, 1)]),
        ]
    );
}

#[test]
fn arrays_of_arrays_are_flattened_with_frames() {
    assert_eq!(
        flatten(r#"{"a": [[1, 2], [3], 4]}"#, &["a"]),
        [
            leaf("a", Kind::Number, "1", &[(1, 0)]),
            leaf("a", Kind::Number, "2", &[(1, 0)]),
            leaf("a", Kind::Number, "3", &[(1, 1)]),
            leaf("a", Kind::Number, "4", &[]),
        ]
    );
    assert_eq!(
        flatten(r#"{"a": [[{"b": "x"}]]}"#, &["a.b"]),
        [leaf("a.b", Kind::String, "x", &[(2, 0), (1, 0)])]
    );
}

#[test]
fn sibling_arrays_get_distinct_ids() {
    let event = r#"{"p": [{"v": 1}], "q": [{"v": 2}, {"v": 3}]}"#;
    assert_eq!(
        flatten(event, &["p.v", "q.v"]),
        [
            leaf("p.v", Kind::Number, "1", &[(1, 0)]),
            leaf("q.v", Kind::Number, "2", &[(2, 0)]),
            leaf("q.v", Kind::Number, "3", &[(2, 1)]),
        ]
    );
    // Frames' parents point at earlier frames.
    let trie = PathTrie::new(["a.b.c"]);
    let mut scratch = FlattenScratch::default();
    scratch
        .flatten(br#"{"a": [{"b": [{"c": 1}]}]}"#, &trie)
        .unwrap();
    for (i, frame) in scratch.frames.iter().enumerate().skip(1) {
        assert!((frame.parent as usize) < i);
    }
}

#[test]
fn values_outside_arrays_have_no_frame() {
    let trie = PathTrie::new(["a", "b.c"]);
    let mut scratch = FlattenScratch::default();
    scratch
        .flatten(br#"{"a": 1, "b": {"c": "x"}}"#, &trie)
        .unwrap();
    assert!(scratch.values.iter().all(|v| v.frame == 0));
    assert_eq!(scratch.chain(0).count(), 0);
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

#[test]
fn invalid_json_is_an_error() {
    for event in [
        &br#"{"a": "#[..],
        br#"{"a": 1,}"#,
        br#"{a: 1}"#,
        br#"{"a": 1} x"#,
        br#"{"a": 1}}"#,
        br#"{"a": "unterminated}"#,
        br#"{"a": 01}"#,
        br#"{"a": 1.}"#,
        br#"{"a": tru}"#,
        br#"{"a": "\q"}"#,
        br#"{"a" 1}"#,
        b"",
        b"   ",
        b"{",
        b"}",
        b"{\"a\": \"\xff\xfe\"}",
        b"\0",
    ] {
        assert_rejected(event, &["a"]);
        // Also when no rule uses the field.
        assert_rejected(event, &["zzz"]);
    }
}

#[test]
fn non_object_root_is_an_error() {
    for event in [
        &b"[1]"[..],
        b"[]",
        br#""x""#,
        b"1",
        b"null",
        b"true",
        b"false",
        br#"[{"a": 1}]"#,
    ] {
        let e = assert_rejected(event, &["a"]);
        assert!(e.message().contains("object"), "{e}");
    }
}

#[test]
fn too_deep_nesting_is_an_error() {
    let deep = |depth: usize| {
        let mut event = String::from(r#"{"a":"#);
        event.push_str(&"[".repeat(depth));
        event.push('1');
        event.push_str(&"]".repeat(depth));
        event.push('}');
        event
    };
    let objects = |depth: usize| {
        let mut event = String::new();
        event.push_str(&r#"{"a":"#.repeat(depth));
        event.push('1');
        event.push_str(&"}".repeat(depth));
        event
    };
    // Moderate nesting is fine...
    assert_eq!(flatten(&deep(100), &["a"]).len(), 1);
    let path = vec!["a"; 100].join(".");
    assert_eq!(flatten(&objects(100), &[path.as_str()]).len(), 1);
    // The root object counts as a level: 512 levels are fine, 513 are not.
    assert_eq!(flatten(&deep(MAX_EVENT_DEPTH - 1), &["a"]).len(), 1);
    assert_rejected(deep(MAX_EVENT_DEPTH).as_bytes(), &["a"]);
    // ...far beyond the limit is rejected, never a stack overflow or panic.
    for event in [
        deep(MAX_EVENT_DEPTH + 10),
        deep(100_000),
        objects(MAX_EVENT_DEPTH + 10),
        objects(100_000),
    ] {
        assert_rejected(event.as_bytes(), &["a"]);
    }
}

#[test]
fn hostile_inputs_never_panic() {
    let trie = PathTrie::new(["a", "a.b", "b"]);
    let mut scratch = FlattenScratch::default();
    let inputs: Vec<Vec<u8>> = vec![
        b"{\"a\":[".to_vec(),
        b"{\"a\":{\"b\":".to_vec(),
        b"{\"a\":\"\\u12\"}".to_vec(),
        b"{\"a\":\"\\ud800\"}".to_vec(),
        b"{\"a\":1e999999}".to_vec(),
        b"{\"a\":-}".to_vec(),
        b"{\"a\":[1,[2,{\"b\":]}]}".to_vec(),
        vec![b'{'; 10_000],
        vec![b'['; 10_000],
        b"{\"a\":\"\x00\"}".to_vec(),
    ];
    for input in &inputs {
        // Either outcome is fine; it must return.
        let _ = scratch.flatten(input, &trie);
    }
    scratch.flatten(br#"{"b": true}"#, &trie).unwrap();
    assert_eq!(scratch.values.len(), 1);
    assert_eq!(scratch.values[0].kind, Kind::True);
}
