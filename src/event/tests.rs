use super::*;

/// One reader's leaves in comparable form, or its error.
fn collect(
    event: &[u8],
    trie: &PathTrie,
    paths: &[String],
    how: Option<ReadMode>,
) -> Result<Vec<Leaf>, EventError> {
    let mut scratch = FlattenScratch::default();
    match how {
        Some(mode) => scratch.read(event, trie, mode)?,
        None => scratch.flatten_tape(event, trie)?,
    }
    let view = scratch.view(event);
    Ok(scratch
        .values
        .iter()
        .map(|v| Leaf {
            path: paths[v.field as usize].clone(),
            kind: v.kind,
            text: String::from_utf8(view.text(v).to_vec()).expect("UTF-8 value text"),
            chain: view.chain(v.frame).collect(),
        })
        .collect())
}

/// Test helpers on the scratch: `flatten` reads with the on-demand reader in
/// validated mode after checking that the full-parse oracle and the trusted
/// mode agree with it.
impl FlattenScratch {
    fn flatten(&mut self, event: &[u8], trie: &PathTrie) -> Result<(), EventError> {
        let paths: Vec<String> = (0..trie.field_count()).map(|i| format!("f{i}")).collect();
        let oracle = collect(event, trie, &paths, None);
        let validated = collect(event, trie, &paths, Some(ReadMode::Validated));
        match (&oracle, &validated) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "oracle and reader differ on {event:?}"),
            (Err(_), Err(_)) => {}
            // The oracle (simd-json) rejects numbers beyond the f64 range,
            // which are valid JSON; the reader reads them as text.
            (Err(e), Ok(_)) if e.message().contains("InvalidNumber") => {}
            _ => panic!(
                "oracle {oracle:?} and reader {validated:?} disagree on {:?}",
                String::from_utf8_lossy(event)
            ),
        }
        if let Ok(v) = &validated {
            let trusted = collect(event, trie, &paths, Some(ReadMode::Trusted));
            assert_eq!(trusted.as_ref().ok(), Some(v), "trusted mode differs");
        }
        self.test_event = event.to_vec();
        self.read(event, trie, ReadMode::Validated)
    }

    fn text(&self, value: &LeafValue) -> &[u8] {
        self.view(&self.test_event).text(value)
    }

    fn chain(&self, frame: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.view(&self.test_event).chain(frame)
    }

    fn number(&self, value: &LeafValue) -> f64 {
        self.view(&self.test_event).number(value)
    }
}

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
    let numbers: Vec<f64> = scratch.values.iter().map(|v| scratch.number(v)).collect();
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

// ---------------------------------------------------------------------------
// Numbers beyond the f64 range, duplicates (issue 8)
// ---------------------------------------------------------------------------

#[test]
fn numbers_beyond_the_f64_range_are_read_as_text() {
    let event = r#"{"a": 1e400, "b": -1e400, "c": 1e-400, "d": [2E+999, 123456789e99999]}"#;
    assert_eq!(
        flatten(event, &["a", "b", "c", "d"]),
        [
            n("a", "1e400"),
            n("b", "-1e400"),
            n("c", "1e-400"),
            n("d", "2E+999"),
            n("d", "123456789e99999"),
        ]
    );
    let trie = PathTrie::new(["a", "b", "c"]);
    let mut scratch = FlattenScratch::default();
    scratch.flatten(event.as_bytes(), &trie).unwrap();
    let numbers: Vec<f64> = scratch.values.iter().map(|v| scratch.number(v)).collect();
    assert_eq!(numbers, [f64::INFINITY, f64::NEG_INFINITY, 0.0]);
    let view = scratch.view(event.as_bytes());
    assert!(scratch.values.iter().all(|v| !view.exact(v)));
    // Also when skipped, and in the trusted mode.
    let trie = PathTrie::new(["zzz"]);
    for mode in [ReadMode::Validated, ReadMode::Trusted] {
        scratch.read(event.as_bytes(), &trie, mode).unwrap();
        assert!(scratch.values.is_empty());
    }
}

#[test]
fn duplicate_keys_count_in_every_mode() {
    let event = br#"{"a": "x", "a": "y", "o": {"b": 1}, "o": {"b": 2}, "o.b": 3}"#;
    let trie = PathTrie::new(["a", "o.b"]);
    for mode in [ReadMode::Validated, ReadMode::Trusted] {
        let mut scratch = FlattenScratch::default();
        scratch.read(event, &trie, mode).unwrap();
        let view = scratch.view(event);
        let a: Vec<&[u8]> = view.values_of(0).map(|v| view.text(v)).collect();
        assert_eq!(a, [&b"x"[..], b"y"]);
        let b: Vec<&[u8]> = view.values_of(1).map(|v| view.text(v)).collect();
        assert_eq!(b, [&b"1"[..], b"2", b"3"]);
    }
}

// ---------------------------------------------------------------------------
// Validated mode: invalid JSON in a skipped member (issue 10)
// ---------------------------------------------------------------------------

/// One invalid value of each kind of JSON error.
const INVALID_VALUES: &[(&str, &[u8])] = &[
    ("unterminated string", b"\"abc"),
    ("control character in a string", b"\"a\x01b\""),
    ("raw newline in a string", b"\"a\nb\""),
    ("invalid escape", b"\"a\\qb\""),
    ("short \\u escape", b"\"\\u12\""),
    ("non-hex \\u escape", b"\"\\u12g4\""),
    ("lone high surrogate", b"\"\\ud800\""),
    ("high surrogate then a letter", b"\"\\ud800x\""),
    (
        "high surrogate then a non-low escape",
        b"\"\\ud800\\u0041\"",
    ),
    ("lone low surrogate", b"\"\\udc00\""),
    ("invalid UTF-8 in a string", b"\"\xff\xfe\""),
    ("truncated UTF-8 in a string", b"\"\xe6\x97\""),
    ("overlong UTF-8 in a string", b"\"\xc0\xaf\""),
    ("UTF-16 surrogate in UTF-8", b"\"\xed\xa0\x80\""),
    ("leading zero", b"01"),
    ("point without digits", b"1."),
    ("point before exponent", b"1.e3"),
    ("exponent without digits", b"1e"),
    ("exponent sign without digits", b"1e+"),
    ("bare minus", b"-"),
    ("plus sign", b"+1"),
    ("leading point", b".5"),
    ("hex number", b"0x10"),
    ("NaN", b"NaN"),
    ("Infinity", b"Infinity"),
    ("bad true", b"tru"),
    ("bad false", b"fals"),
    ("bad null", b"nul"),
    ("capital literal", b"True"),
    ("single quotes", b"'x'"),
    ("unquoted key", b"{a: 1}"),
    ("number key", b"{1: 1}"),
    ("missing colon", b"{\"a\" 1}"),
    ("missing value", b"{\"a\":}"),
    ("missing comma in object", b"{\"a\": 1 \"b\": 2}"),
    ("trailing comma in object", b"{\"a\": 1,}"),
    ("missing comma in array", b"[1 2]"),
    ("trailing comma in array", b"[1,]"),
    ("leading comma in array", b"[,1]"),
    ("mismatched brackets", b"[1}"),
    ("mismatched braces", b"{\"a\": 1]"),
    ("unclosed array", b"[1, [2]"),
    ("unclosed object", b"{\"a\": {\"b\": 1}"),
    ("bad value in a nested array", b"[[1, [2, x]]]"),
    (
        "bad string in a nested object",
        b"{\"o\": {\"s\": \"\\x\"}}",
    ),
    ("invalid byte outside strings", b"[1, \xff]"),
    ("NUL byte", b"[\x00]"),
];

#[test]
fn invalid_json_in_a_skipped_member_is_an_error() {
    let deep = format!(
        "{}1{}",
        "[".repeat(MAX_EVENT_DEPTH),
        "]".repeat(MAX_EVENT_DEPTH)
    );
    let mut cases: Vec<(&str, Vec<u8>)> = INVALID_VALUES
        .iter()
        .map(|(what, v)| (*what, v.to_vec()))
        .collect();
    cases.push(("nesting beyond the limit", deep.into_bytes()));
    for (what, value) in &cases {
        // A skipped member at the top, inside an entered object, inside an
        // entered array, and as a skipped key.
        let mut events: Vec<Vec<u8>> = Vec::new();
        for (head, tail) in [
            (&b"{\"skip\": "[..], &b", \"keep\": 1}"[..]),
            (b"{\"keep\": 1, \"skip\": ", b"}"),
            (b"{\"o\": {\"skip\": ", b", \"keep\": 2}, \"keep\": 1}"),
            (b"{\"o\": [{\"skip\": ", b"}], \"keep\": 1}"),
        ] {
            events.push([head, value.as_slice(), tail].concat());
        }
        if value.first() == Some(&b'"') {
            events.push([b"{".as_slice(), value, b": 1, \"keep\": 1}"].concat());
        }
        for event in &events {
            let mut scratch = FlattenScratch::default();
            let trie = PathTrie::new(["keep", "o.keep"]);
            let e = scratch
                .read(event, &trie, ReadMode::Validated)
                .expect_err(&format!(
                    "{what}: {:?} accepted",
                    String::from_utf8_lossy(event)
                ));
            assert!(e.message().starts_with("invalid JSON"), "{what}: {e}");
            // The oracle (a full parse) rejects it too...
            assert!(
                scratch.flatten_tape(event, &trie).is_err(),
                "{what}: oracle"
            );
            // ...and the trusted mode, which does not check, returns.
            let _ = scratch.read(event, &trie, ReadMode::Trusted);
            // The scratch is still usable.
            scratch
                .read(br#"{"keep": 5}"#, &trie, ReadMode::Validated)
                .unwrap();
            assert_eq!(scratch.values.len(), 1);
        }
    }
}

#[test]
fn validated_mode_checks_the_text_after_the_root() {
    let trie = PathTrie::new(["a"]);
    let mut scratch = FlattenScratch::default();
    for event in [
        &b"{\"a\": 1} x"[..],
        b"{\"a\": 1}}",
        b"{\"a\": 1} {}",
        b"{} \x00",
    ] {
        assert!(scratch.read(event, &trie, ReadMode::Validated).is_err());
        assert!(scratch.flatten_tape(event, &trie).is_err());
    }
    scratch
        .read(b" \t\r\n{\"a\": 1} \n", &trie, ReadMode::Validated)
        .unwrap();
    assert_eq!(scratch.values.len(), 1);
}

#[test]
fn valid_tricky_json_is_accepted_by_every_reader() {
    for event in [
        &br#"{"s": "\u0000\u001f\ud83d\ude00\/\b\f", "k": 1}"#[..],
        br#"{"s": "\"", "t": "\\", "u": "\\\"", "k": [0, -0, 0.0e-0, 1E+5, -12.5e-3]}"#,
        "{\"é\": \"日本\u{1F600}\", \"k\": true}".as_bytes(),
        br#"{"n": [[[[]]], {}, [{}], "]", "}", "[", "{"], "k": null}"#,
        br#"{"skip": {"a": {"b": {"c": [1, {"d": "}}]]"}]}}}, "k": false}"#,
        b"{\"k\":1,\"skip\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18]}",
    ] {
        let trie = PathTrie::new(["k"]);
        let mut scratch = FlattenScratch::default();
        // `flatten` also checks that the oracle and both modes agree.
        scratch
            .flatten(event, &trie)
            .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(event)));
        assert!(!scratch.values.is_empty());
    }
}

// ---------------------------------------------------------------------------
// Trusted mode: the early stop
// ---------------------------------------------------------------------------

/// The leaves of `event` read in trusted mode, by text per path.
fn trusted_texts(event: &[u8], trie: &PathTrie, paths: &[&str]) -> Result<Vec<String>, EventError> {
    let mut scratch = FlattenScratch::default();
    scratch.read(event, trie, ReadMode::Trusted)?;
    let view = scratch.view(event);
    Ok(scratch
        .values
        .iter()
        .map(|v| {
            format!(
                "{}={}",
                paths[v.field as usize],
                String::from_utf8_lossy(view.text(v))
            )
        })
        .collect())
}

/// The trusted reader stops once no later key can lead anywhere: what
/// follows is not even jumped over (so a truncated tail is no error).
#[test]
fn trusted_reader_stops_when_no_later_key_can_matter() {
    let paths = ["p.s", "t"];
    let trie = PathTrie::new(paths).with_early_stop(true);
    assert!(trie.stops_early(), "few enough segments to search for");
    for event in [
        // At the top, after the last member some rule reads.
        &br#"{"t": "x", "p": {"s": "v"}, "g": [1, 2, [3, 4"#[..],
        // Inside an entered object: the rest of `p` and of the event.
        br#"{"t": "x", "p": {"s": "v", "u": [1, 2"#,
    ] {
        assert_eq!(
            trusted_texts(event, &trie, &paths).unwrap(),
            ["t=x", "p.s=v"],
            "{}",
            String::from_utf8_lossy(event)
        );
        // Validated mode reads to the end, and so does a reader with the
        // early stop turned off.
        let mut scratch = FlattenScratch::default();
        assert!(scratch.read(event, &trie, ReadMode::Validated).is_err());
        let whole = trie.clone().with_early_stop(false);
        assert!(scratch.read(event, &whole, ReadMode::Trusted).is_err());
    }
    // Nothing to read at all: the reader stops at the first member.
    let none = PathTrie::new([]).with_early_stop(true);
    assert_eq!(
        trusted_texts(br#"{"a": [1, 2"#, &none, &[]).unwrap(),
        Vec::<String>::new()
    );
}

/// Whatever a later member could add still counts: a duplicate key, a
/// dotted key, a key with escapes (at any of its characters), a value of an
/// array's own path after an object element.
#[test]
fn early_stop_keeps_every_later_value() {
    let paths = ["a", "o.b", "x", "x.y"];
    let trie = PathTrie::new(paths).with_early_stop(true);
    let cases: &[(&[u8], &[&str])] = &[
        (br#"{"a": 1, "g": [1, 2], "a": 2}"#, &["a=1", "a=2"]),
        (
            br#"{"o": {"b": 1}, "g": {"h": 3}, "o.b": 2}"#,
            &["o.b=1", "o.b=2"],
        ),
        (
            br#"{"o": {"b": 1, "c": 0}, "o": {"b": 2}}"#,
            &["o.b=1", "o.b=2"],
        ),
        (br#"{"a": 1, "g": 0, "\u0061": 3}"#, &["a=1", "a=3"]),
        (
            br#"{"o": {"b": 1}, "g": 0, "\u006f": {"\u0062": 2}}"#,
            &["o.b=1", "o.b=2"],
        ),
        (
            br#"{"o": {"b": 1}, "g": 0, "o\u002eb": 4}"#,
            &["o.b=1", "o.b=4"],
        ),
        (
            br#"{"x": [{"y": 1, "z": 0}, 4], "g": 0}"#,
            &["x.y=1", "x=4"],
        ),
        (
            br#"{"x": [{"y": 1, "z": 0}, [5, {"q": 0}, 6]]}"#,
            &["x.y=1", "x=5", "x=6"],
        ),
        // A candidate that is not a key (inside a string) only delays the stop.
        (br#"{"a": 1, "g": "\"a", "h": 2}"#, &["a=1"]),
        // Passing over members to the next candidate: one nested in a
        // skipped member or inside a string value is no key of this object
        // (the members are read on); one past the object's end makes the
        // reader leave it; brackets and quotes inside skipped strings do
        // not count.
        (br#"{"g": {"a": 5}, "h": "{\"a\":", "a": 1}"#, &["a=1"]),
        (
            br#"{"o": {"c": 0, "d": [1, "]}\""], "b": 2}, "z": 0}"#,
            &["o.b=2"],
        ),
        (br#"{"o": {"c": 0, "d": {"b": 9}}, "a": 3}"#, &["a=3"]),
        (br#"{"o": {"c": 0, "d": 1}, "a": 4}"#, &["a=4"]),
        (
            br#"{"o": {"c": {"e": "}"}, "d": 1}, "q": [{"a": 0}], "a": 5}"#,
            &["a=5"],
        ),
    ];
    for (event, want) in cases {
        let shown = String::from_utf8_lossy(event);
        assert_eq!(
            trusted_texts(event, &trie, &paths).unwrap(),
            *want,
            "{shown}"
        );
        // The same as a full read (and as the oracle).
        let mut scratch = FlattenScratch::default();
        scratch
            .flatten(event, &trie)
            .unwrap_or_else(|e| panic!("{shown}: {e}"));
    }
}

/// A key's raw text may begin with any escape; the search covers each.
#[test]
fn key_starts_cover_every_escaped_spelling() {
    let trie = PathTrie::new(["props.street"]).with_early_stop(true);
    for (key, value) in [
        (r"\u0070rops", r#"{"street": 2}"#),
        (r"p\u0072ops", r#"{"street": 2}"#),
        (r"pr\u006fps", r#"{"street": 2}"#),
        (r"pro\u0070s", r#"{"street": 2}"#),
        (r"prop\u0073", r#"{"street": 2}"#),
        (r"props", r#"{"\u0073treet": 2}"#),
        (r"props", r#"{"stree\u0074": 2}"#),
        (r"props\u002estreet", "2"),
        (r"props.\u0073treet", "2"),
    ] {
        let event = format!(r#"{{"props": {{"street": 1}}, "g": 0, "{key}": {value}}}"#);
        let mut scratch = FlattenScratch::default();
        scratch
            .read(event.as_bytes(), &trie, ReadMode::Trusted)
            .unwrap();
        assert_eq!(scratch.values.len(), 2, "{event}");
        assert!(
            trie.next_key(event.as_bytes(), 20, &mut Default::default())
                .is_some(),
            "{event}"
        );
    }
    assert_eq!(
        trie.next_key(br#"{"g": "p", "h": "a\n"}"#, 1, &mut Default::default()),
        None
    );
    assert_eq!(
        trie.next_key(br#"{"g": "\u0070"}"#, 1, &mut Default::default()),
        Some(6)
    );
}

/// A run of numbers in an array is read in one loop: runs that end at the
/// close, at a non-number element, at whitespace or exponents, agree with
/// the oracle (leaves, order, frames), and each way a run goes wrong is an
/// error at the same offset as the element-by-element path gave, whether
/// the array is read or skipped (validated skipping checks runs the same
/// way).
#[test]
fn number_runs_in_arrays_match_the_oracle_and_fail_alike() {
    let leaves = flatten(
        r#"{"c": [1, -2.5 , 3e2,"x", 4,[5,6], 7.0,true,8 ], "d": [[9],[10,11]]}"#,
        &["c", "d"],
    );
    // (A literal's leaf has its kind and no text.)
    let texts: Vec<&str> = leaves.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(leaves[8].kind, Kind::True);
    assert_eq!(
        texts,
        [
            "1", "-2.5", "3e2", "x", "4", "5", "6", "7.0", "", "8", "9", "10", "11"
        ]
    );
    // The nested array's numbers are under its own frame, the rest under none.
    assert_eq!(leaves[5].chain, leaves[6].chain);
    assert_ne!(leaves[5].chain, leaves[4].chain);
    assert_eq!(leaves[0].chain, leaves[9].chain);
    for (event, at) in [
        (&br#"{"c": [1,2 3]}"#[..], 11),
        (br#"{"c": [1,2,]}"#, 11),
        (br#"{"c": [1,02]}"#, 10),
        (br#"{"c": [1,-]}"#, 10),
        (br#"{"c": [1,2."#, 11),
        (br#"{"c": [1,2"#, 10),
        (br#"{"c": [1,2}"#, 10),
    ] {
        let read = assert_rejected(event, &["c"]);
        let skipped = assert_rejected(event, &["other"]);
        assert_eq!(
            read.offset(),
            Some(at),
            "{:?}",
            String::from_utf8_lossy(event)
        );
        assert_eq!(
            skipped.kind(),
            read.kind(),
            "{:?}",
            String::from_utf8_lossy(event)
        );
    }
}
