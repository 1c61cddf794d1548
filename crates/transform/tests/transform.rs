//! Target input selection and InputTransformer rendering, against the
//! AWS-recorded cases of AWS-API-NOTES §3.3/§3.4 (LocalStack's
//! `test_events_inputs` snapshots) and the rules ferrule chose where AWS's
//! behaviour is not recorded.

use ferrule_transform::{
    InputSpec, RenderContext, RenderError, Shape, TransformError, TransformErrorKind,
};
use serde_json::{Value, json};

const RULE_ARN: &str = "arn:aws:events:us-east-1:111111111111:rule/test-bus/test-rule";
const INGESTION_TIME: &str = "2024-05-13T12:27:07.512Z";

const CONTEXT: RenderContext<'static> = RenderContext {
    rule_arn: RULE_ARN,
    rule_name: "test-rule",
    ingestion_time: INGESTION_TIME,
};

/// The event of the AWS-recorded tests, with `detail`.
fn event_with(detail: Value) -> Value {
    json!({
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "core.update-account-command",
        "source": "core.update-account-command",
        "account": "111111111111",
        "time": "2024-05-13T12:27:07Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    })
}

/// `TEST_EVENT_DETAIL` of the AWS-recorded tests.
fn event() -> Value {
    event_with(
        json!({"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}}),
    )
}

/// `SPECIAL_EVENT_DETAIL` of the AWS-recorded tests.
fn special_event() -> Value {
    event_with(json!({
        "command": "update-account",
        "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"},
        "listsingle": ["HIGH"],
        "listmulti": ["ACTIVE", "INACTIVE"],
        "valid": true,
    }))
}

const EVENT_TEXT: &str = r#"{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"core.update-account-command","source":"core.update-account-command","account":"111111111111","time":"2024-05-13T12:27:07Z","region":"us-east-1","resources":[],"detail":{"command":"update-account","payload":{"acc_id":"0a787ecb-4015","sf_id":"baz"}}}"#;

fn map(entries: &[(&str, &str)]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn transformer(entries: &[(&str, &str)], template: &str) -> InputSpec {
    let m = map(entries);
    InputSpec::new("target-1", None, None, Some((&m, template)))
        .unwrap_or_else(|e| panic!("{template}: {e}"))
}

fn transformer_err(entries: &[(&str, &str)], template: &str) -> TransformError {
    let m = map(entries);
    InputSpec::new("target-1", None, None, Some((&m, template))).expect_err(template)
}

fn path(p: &str) -> InputSpec {
    InputSpec::new("target-1", None, Some(p), None).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn render(spec: &InputSpec, event: &Value) -> String {
    spec.render(event, &CONTEXT)
        .unwrap_or_else(|e| panic!("{spec:?}: {e}"))
}

fn render_err(spec: &InputSpec, event: &Value) -> RenderError {
    match spec.render(event, &CONTEXT) {
        Ok(text) => panic!("{spec:?} should not be delivered, rendered {text}"),
        Err(e) => e,
    }
}

/// The paths of the AWS-recorded nested-keys tests.
const NESTED_PATHS: [(&str, &str); 6] = [
    ("userId", "$.detail.payload.acc_id"),
    ("payload", "$.detail.payload"),
    ("systemstring", "$.detail.awsAccountId"), // resolves to nothing
    ("listsingle", "$.detail.listsingle"),
    ("listmulti", "$.detail.listmulti"),
    ("valid", "$.detail.valid"),
];

/// The paths of the AWS-recorded JSON and string template tests.
const TEMPLATE_PATHS: [(&str, &str); 3] = [
    ("detail-type", "$.detail-type"),
    ("timestamp", "$.time"),
    ("command", "$.detail.command"),
];

const TEMPLATE_PATHS_MISSING: [(&str, &str); 3] = [
    ("detail-type", "$.detail-type"),
    ("timestamp", "$.time"),
    ("command", "$.detail.notinmessage"),
];

// ---------------------------------------------------------------- selection

#[test]
fn no_setting_delivers_the_whole_event_in_envelope_order() {
    let spec = InputSpec::new("t", None, None, None).unwrap();
    assert_eq!(spec, InputSpec::WholeEvent);
    assert_eq!(render(&spec, &event()), EVENT_TEXT);
}

#[test]
fn whole_event_keeps_extra_envelope_members_after_detail() {
    let mut e = event();
    e["replay-name"] = json!("my-replay");
    let text = render(&InputSpec::WholeEvent, &e);
    assert_eq!(
        text,
        format!(
            r#"{},"replay-name":"my-replay"}}"#,
            &EVENT_TEXT[..EVENT_TEXT.len() - 1]
        )
    );
}

#[test]
fn constant_input_is_delivered_as_given() {
    let input = r#"{ "a" : 1,   "b": ["x"] }"#;
    let spec = InputSpec::new("t", Some(input), None, None).unwrap();
    assert_eq!(spec, InputSpec::Constant(input.to_string()));
    assert_eq!(render(&spec, &event()), input);
    let scalar = InputSpec::new("t", Some("\"just text\""), None, None).unwrap();
    assert_eq!(render(&scalar, &event()), "\"just text\"");
}

#[test]
fn input_path_delivers_the_sub_tree() {
    // AWS-recorded: `$.detail`, `$.detail.payload`.
    assert_eq!(
        render(&path("$.detail"), &event()),
        r#"{"command":"update-account","payload":{"acc_id":"0a787ecb-4015","sf_id":"baz"}}"#
    );
    assert_eq!(
        render(&path("$.detail.payload"), &event()),
        r#"{"acc_id":"0a787ecb-4015","sf_id":"baz"}"#
    );
    let dup = event_with(json!({"command": "update-account",
        "payload": {"acc_id": "0a787ecb-4015", "payload": {"message": "baz", "id": "123"}}}));
    assert_eq!(
        render(&path("$.detail.payload"), &dup),
        // The event's own key order is kept.
        r#"{"acc_id":"0a787ecb-4015","payload":{"message":"baz","id":"123"}}"#
    );
}

#[test]
fn input_path_to_a_string_delivers_it_json_encoded() {
    // AWS-recorded: `$.detail.payload.sf_id` delivered the body `"baz"`.
    assert_eq!(
        render(&path("$.detail.payload.sf_id"), &event()),
        r#""baz""#
    );
}

#[test]
fn input_path_to_numbers_and_booleans_delivers_their_json_text() {
    let e = event_with(json!({"n": 12.5, "b": true, "z": null}));
    assert_eq!(render(&path("$.detail.n"), &e), "12.5");
    assert_eq!(render(&path("$.detail.b"), &e), "true");
    assert_eq!(render(&path("$.detail.z"), &e), "null");
}

#[test]
fn input_path_accepts_bracket_notation_and_indices() {
    assert_eq!(
        render(&path("$['detail']['payload']['sf_id']"), &event()),
        r#""baz""#
    );
    assert_eq!(
        render(&path("$[\"detail\"].payload['acc_id']"), &event()),
        r#""0a787ecb-4015""#
    );
    assert_eq!(
        render(&path("$.detail.listmulti[1]"), &special_event()),
        r#""INACTIVE""#
    );
    assert_eq!(
        render(&path("$.detail-type"), &event()),
        r#""core.update-account-command""#
    );
}

#[test]
fn input_path_wildcard_delivers_a_list_of_matches() {
    assert_eq!(
        render(&path("$.detail.listmulti[*]"), &special_event()),
        r#"["ACTIVE","INACTIVE"]"#
    );
    assert_eq!(
        render(&path("$.detail.payload.*"), &event()),
        r#"["0a787ecb-4015","baz"]"#
    );
    let e = event_with(json!({"items": [{"id": 1}, {"id": 2}, {"other": 3}]}));
    assert_eq!(render(&path("$.detail.items[*].id"), &e), "[1,2]");
    assert_eq!(render(&path("$.detail.items[*].nothing"), &e), "[]");
}

#[test]
fn input_path_root_is_the_whole_event() {
    assert_eq!(render(&path("$"), &event()), EVENT_TEXT);
}

#[test]
fn input_path_matching_nothing_is_not_delivered() {
    let e = render_err(&path("$.detail.notinmessage"), &event());
    assert!(e.reason().contains("$.detail.notinmessage"), "{e}");
    render_err(&path("$.detail.payload[0]"), &event());
}

// ---------------------------------------------------- transformer, AWS cases

#[test]
fn json_template_unquoted_string_becomes_a_quoted_json_string() {
    // AWS-recorded `test_put_events_with_input_transformer_input_template_json`.
    let template = r#"{"detailType": <detail-type>,  "time": <timestamp>, "command": <command>}"#;
    let spec = transformer(&TEMPLATE_PATHS, template);
    assert_eq!(
        render(&spec, &event()),
        r#"{"detailType": "core.update-account-command",  "time": "2024-05-13T12:27:07Z", "command": "update-account"}"#
    );
}

#[test]
fn json_template_missing_value_becomes_an_empty_string() {
    let template = r#"{"detailType": <detail-type>,  "time": <timestamp>, "command": <command>}"#;
    let spec = transformer(&TEMPLATE_PATHS_MISSING, template);
    assert_eq!(
        render(&spec, &event()),
        r#"{"detailType": "core.update-account-command",  "time": "2024-05-13T12:27:07Z", "command": ""}"#
    );
}

#[test]
fn string_template_substitutes_raw_text_and_keeps_its_quotes() {
    // AWS-recorded `test_put_events_with_input_transformer_input_template_string`.
    let template = r#""Event of <detail-type> type, at time <timestamp>, info extracted from detail <command>""#;
    assert_eq!(
        render(&transformer(&TEMPLATE_PATHS, template), &event()),
        r#""Event of core.update-account-command type, at time 2024-05-13T12:27:07Z, info extracted from detail update-account""#
    );
    // A missing value renders as nothing.
    assert_eq!(
        render(&transformer(&TEMPLATE_PATHS_MISSING, template), &event()),
        r#""Event of core.update-account-command type, at time 2024-05-13T12:27:07Z, info extracted from detail ""#
    );
}

#[test]
fn string_template_with_special_starting_characters() {
    let template = r#""{[/Check with special starting characters for event of <detail-type> type""#;
    let expected = r#""{[/Check with special starting characters for event of core.update-account-command type""#;
    assert_eq!(
        render(&transformer(&TEMPLATE_PATHS, template), &event()),
        expected
    );
    assert_eq!(
        render(&transformer(&TEMPLATE_PATHS_MISSING, template), &event()),
        expected
    );
}

#[test]
fn predefined_string_variables() {
    let template = r#""Message containing all pre defined variables <aws.events.rule-arn> <aws.events.rule-name> <aws.events.event.ingestion-time>""#;
    let spec = transformer(&[], template);
    assert_eq!(
        render(&spec, &event()),
        format!(
            r#""Message containing all pre defined variables {RULE_ARN} test-rule {INGESTION_TIME}""#
        )
    );
    // Unquoted in a JSON template they are JSON strings.
    let spec = transformer(
        &[],
        r#"{"arn": <aws.events.rule-arn>, "name": <aws.events.rule-name>}"#,
    );
    assert_eq!(
        render(&spec, &event()),
        format!(r#"{{"arn": "{RULE_ARN}", "name": "test-rule"}}"#)
    );
}

#[test]
fn predefined_event_variables() {
    // AWS-recorded: `<aws.events.event>` has no `detail`, renders
    // `detail-type` as `detailType`, in this member order.
    let template =
        r#"{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}"#;
    let text = render(&transformer(&[], template), &event());
    assert_eq!(
        text,
        format!(
            r#"{{"originalEvent": {{"id":"7bf73129-1428-4cd3-a780-95db273d1602","account":"111111111111","detailType":"core.update-account-command","time":"{INGESTION_TIME}","source":"core.update-account-command","region":"us-east-1","resources":[],"version":"0"}}, "originalEventJson": {EVENT_TEXT}}}"#
        )
    );
}

/// AWS-recorded `test_input_transformer_nested_keys_replacement`: every
/// template is delivered.
#[test]
fn nested_keys_replacement() {
    let cases: [(&str, &str); 13] = [
        (
            r#"{"method": "PUT", "path": "users-service/users/<userId>", "bod": <payload>}"#,
            r#"{"method": "PUT", "path": "users-service/users/0a787ecb-4015", "bod": {"acc_id":"0a787ecb-4015","sf_id":"baz"}}"#,
        ),
        (
            r#""Payload of <payload> with path users-service/users/<userId> and <userId>""#,
            r#""Payload of {acc_id:0a787ecb-4015,sf_id:baz} with path users-service/users/0a787ecb-4015 and 0a787ecb-4015""#,
        ),
        (r#"{"id" : <userId>}"#, r#"{"id" : "0a787ecb-4015"}"#),
        (r#"{"id" : "<userId>"}"#, r#"{"id" : "0a787ecb-4015"}"#),
        (
            r#"{"method": "PUT", "path": "users-service/users/<userId>", "id": <userId>, "body": <payload>}"#,
            r#"{"method": "PUT", "path": "users-service/users/0a787ecb-4015", "id": "0a787ecb-4015", "body": {"acc_id":"0a787ecb-4015","sf_id":"baz"}}"#,
        ),
        (
            r#"{"method": "PUT", "path": "users-service/users/<userId>", "bod": [<userId>, "hardcoded"]}"#,
            r#"{"method": "PUT", "path": "users-service/users/0a787ecb-4015", "bod": ["0a787ecb-4015", "hardcoded"]}"#,
        ),
        (
            r#"{"method": "PUT", "nested": {"level1": {"level2": {"level3": "users-service/users/<userId>"} } }, "bod": "<userId>"}"#,
            r#"{"method": "PUT", "nested": {"level1": {"level2": {"level3": "users-service/users/0a787ecb-4015"} } }, "bod": "0a787ecb-4015"}"#,
        ),
        (
            r#""<listsingle> single list item""#,
            r#""[HIGH] single list item""#,
        ),
        (
            r#""<listmulti> multiple list items""#,
            r#""[ACTIVE,INACTIVE] multiple list items""#,
        ),
        (
            r#"{"singlelistitem": <listsingle>}"#,
            r#"{"singlelistitem": ["HIGH"]}"#,
        ),
        (
            r#""<listsingle> single list item <listmulti> multiple list items <systemstring> system account id <payload> payload <userId> user id""#,
            r#""[HIGH] single list item [ACTIVE,INACTIVE] multiple list items  system account id {acc_id:0a787ecb-4015,sf_id:baz} payload 0a787ecb-4015 user id""#,
        ),
        (
            r#"{"multi_replacement": "users/<userId>/second/<userId>"}"#,
            r#"{"multi_replacement": "users/0a787ecb-4015/second/0a787ecb-4015"}"#,
        ),
        (r#""Command is <valid>!""#, r#""Command is true!""#),
    ];
    for (template, expected) in cases {
        let text = render(&transformer(&NESTED_PATHS, template), &special_event());
        assert_eq!(text, expected, "template {template}");
        serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

/// AWS-recorded `test_input_transformer_nested_keys_replacement_not_valid`:
/// an object or list inside quotes in an object template is dropped.
#[test]
fn json_template_rendering_invalid_json_is_not_delivered() {
    for template in [
        r#"{"not_valid": "users-service/users/<payload>", "bod": <payload>}"#,
        r#"{"payload": "<payload>"}"#,
        r#"{"singlelistitem": "<listsingle>"}"#,
    ] {
        let spec = transformer(&NESTED_PATHS, template);
        let e = render_err(&spec, &special_event());
        assert!(e.reason().contains("invalid JSON"), "{template}: {e}");
    }
    // `<aws.events.event>` is only usable as a JSON value.
    render_err(
        &transformer(&[], r#"{"e": "<aws.events.event>"}"#),
        &event(),
    );
}

// ------------------------------------------------ transformer, other rules

#[test]
fn quoted_placeholder_escapes_special_characters() {
    let e = event_with(json!({"msg": "say \"hi\"\\ \n\ttab"}));
    let spec = transformer(&[("msg", "$.detail.msg")], r#"{"text": "<msg> (quoted)"}"#);
    let text = render(&spec, &e);
    assert_eq!(text, r#"{"text": "say \"hi\"\\ \n\ttab (quoted)"}"#);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["text"],
        "say \"hi\"\\ \n\ttab (quoted)"
    );
    // Same inside a string template.
    let spec = transformer(&[("msg", "$.detail.msg")], r#""Got <msg>""#);
    assert_eq!(render(&spec, &e), r#""Got say \"hi\"\\ \n\ttab""#);
}

#[test]
fn unquoted_string_with_special_characters_is_a_valid_json_string() {
    let e = event_with(json!({"msg": "a\"b\\c\nd"}));
    let spec = transformer(&[("msg", "$.detail.msg")], r#"{"text": <msg>}"#);
    let text = render(&spec, &e);
    assert_eq!(text, r#"{"text": "a\"b\\c\nd"}"#);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["text"],
        "a\"b\\c\nd"
    );
}

#[test]
fn escaped_quotes_in_the_template_are_kept() {
    // The AWS API reference's examples.
    let e = event_with(json!({"instance": "i-0123", "status": "running"}));
    let paths = [
        ("instance", "$.detail.instance"),
        ("status", "$.detail.status"),
    ];
    let spec = transformer(&paths, r#""<instance> is in state \"<status>\"""#);
    assert_eq!(render(&spec, &e), r#""i-0123 is in state \"running\"""#);
    let spec = transformer(
        &paths,
        r#"{"myInstance": <instance>,"myStatus": "<instance> is in state \"<status>\""}"#,
    );
    assert_eq!(
        render(&spec, &e),
        r#"{"myInstance": "i-0123","myStatus": "i-0123 is in state \"running\""}"#
    );
}

#[test]
fn numbers_booleans_and_null_insert_as_json_text() {
    let e = event_with(json!({"n": 42, "f": -1.5e3, "t": true, "no": false, "z": null}));
    let paths = [
        ("n", "$.detail.n"),
        ("f", "$.detail.f"),
        ("t", "$.detail.t"),
        ("no", "$.detail.no"),
        ("z", "$.detail.z"),
    ];
    let spec = transformer(
        &paths,
        r#"{"n": <n>, "f": <f>, "t": <t>, "no": <no>, "z": <z>}"#,
    );
    assert_eq!(
        render(&spec, &e),
        r#"{"n": 42, "f": -1500.0, "t": true, "no": false, "z": null}"#
    );
    let spec = transformer(&paths, r#"{"s": "<n>/<t>/<no>/<z>"}"#);
    assert_eq!(render(&spec, &e), r#"{"s": "42/true/false/null"}"#);
    let spec = transformer(&paths, "n=<n> t=<t> z=<z>");
    assert_eq!(render(&spec, &e), "n=42 t=true z=null");
}

#[test]
fn missing_value_in_a_json_list_and_in_text() {
    let spec = transformer(&[("m", "$.detail.nothing")], r#"[<m>, "x"]"#);
    assert_eq!(render(&spec, &event()), r#"["", "x"]"#);
    let spec = transformer(&[("m", "$.detail.nothing")], "before<m>after");
    assert_eq!(render(&spec, &event()), "beforeafter");
}

#[test]
fn text_template_is_delivered_as_written() {
    let e = event_with(
        json!({"instance": "i-0123", "state": "say \"x\"", "tags": {"a": "b"}, "list": [1, "two"]}),
    );
    let paths = [
        ("instance", "$.detail.instance"),
        ("state", "$.detail.state"),
        ("tags", "$.detail.tags"),
        ("list", "$.detail.list"),
    ];
    let spec = transformer(
        &paths,
        "Instance <instance> is in state <state>; tags <tags>, list <list>",
    );
    assert!(matches!(&spec, InputSpec::Transformer(t) if t.shape() == Shape::Text));
    assert_eq!(
        render(&spec, &e),
        r#"Instance i-0123 is in state say "x"; tags {a:b}, list [1,two]"#
    );
}

#[test]
fn template_shapes() {
    let shape = |template: &str| match transformer(&NESTED_PATHS, template) {
        InputSpec::Transformer(t) => t.shape(),
        other => panic!("{other:?}"),
    };
    assert_eq!(shape(r#"{"a": <userId>}"#), Shape::Structured);
    assert_eq!(shape(r#"[<userId>, "x"]"#), Shape::Structured);
    assert_eq!(shape(r#""Command is <valid>!""#), Shape::String);
    assert_eq!(shape("<userId>"), Shape::Scalar);
    assert_eq!(shape("user <userId>"), Shape::Text);
}

#[test]
fn single_placeholder_template_is_json() {
    assert_eq!(
        render(&transformer(&NESTED_PATHS, "<userId>"), &special_event()),
        r#""0a787ecb-4015""#
    );
    assert_eq!(
        render(&transformer(&NESTED_PATHS, "<payload>"), &special_event()),
        r#"{"acc_id":"0a787ecb-4015","sf_id":"baz"}"#
    );
    assert_eq!(
        render(&transformer(&NESTED_PATHS, " <valid> "), &special_event()),
        " true "
    );
    assert_eq!(
        render(
            &transformer(&NESTED_PATHS, "<systemstring>"),
            &special_event()
        ),
        r#""""#
    );
}

#[test]
fn placeholder_as_object_key_makes_a_text_template() {
    let spec = transformer(&NESTED_PATHS, r#"{<userId>: 1}"#);
    assert_eq!(render(&spec, &special_event()), "{0a787ecb-4015: 1}");
}

#[test]
fn wildcard_values_in_templates() {
    let e = event_with(json!({"items": [{"id": "a"}, {"id": "b"}]}));
    let paths = [("ids", "$.detail.items[*].id")];
    assert_eq!(
        render(&transformer(&paths, r#"{"ids": <ids>}"#), &e),
        r#"{"ids": ["a","b"]}"#
    );
    assert_eq!(
        render(&transformer(&paths, r#""ids <ids>""#), &e),
        r#""ids [a,b]""#
    );
    let none = [("ids", "$.detail.items[*].zzz")];
    assert_eq!(
        render(&transformer(&none, r#"{"ids": <ids>}"#), &e),
        r#"{"ids": []}"#
    );
}

#[test]
fn paths_map_can_select_the_root_and_use_brackets() {
    let paths = [("all", "$"), ("sf", "$['detail']['payload']['sf_id']")];
    let text = render(
        &transformer(&paths, r#"{"all": <all>, "sf": <sf>}"#),
        &event(),
    );
    assert_eq!(text, format!(r#"{{"all": {EVENT_TEXT}, "sf": "baz"}}"#));
}

#[test]
fn unused_map_entries_are_fine() {
    let spec = transformer(&NESTED_PATHS, r#"{"fixed": 1}"#);
    assert_eq!(render(&spec, &special_event()), r#"{"fixed": 1}"#);
}

#[test]
fn transformer_accessors() {
    let InputSpec::Transformer(t) = transformer(&TEMPLATE_PATHS, r#"{"c": <command>}"#) else {
        panic!("not a transformer");
    };
    assert_eq!(t.input_template(), r#"{"c": <command>}"#);
    let keys: Vec<&str> = t.input_paths().map(|(k, _)| k).collect();
    assert_eq!(keys, ["detail-type", "timestamp", "command"]);
    assert_eq!(
        t.input_paths().nth(2).unwrap().1.as_str(),
        "$.detail.command"
    );
}

// --------------------------------------------------------------- validation

const ONLY_ONE: &str =
    "Only one of Input, InputPath, or InputTransformer must be provided for target target-1.";

#[test]
fn more_than_one_input_setting_is_rejected_with_the_aws_message() {
    let m = map(&TEMPLATE_PATHS);
    let tr = Some((m.as_slice(), r#"{"c": <command>}"#));
    for (input, input_path, transformer) in [
        (Some("{}"), Some("$.detail"), None),
        (Some("{}"), None, tr),
        (None, Some("$.detail"), tr),
        (Some("{}"), Some("$.detail"), tr),
    ] {
        let e = InputSpec::new("target-1", input, input_path, transformer).unwrap_err();
        assert_eq!(e.kind(), TransformErrorKind::MultipleInputs);
        assert_eq!(e.message(), ONLY_ONE);
        assert_eq!(e.to_string(), ONLY_ONE);
        assert_eq!(e.coral_message(1), ONLY_ONE);
    }
}

#[test]
fn empty_input_and_input_path_count_as_absent() {
    assert_eq!(
        InputSpec::new("t", Some(""), None, None).unwrap(),
        InputSpec::WholeEvent
    );
    assert_eq!(
        InputSpec::new("t", None, Some(""), None).unwrap(),
        InputSpec::WholeEvent
    );
    assert!(matches!(
        InputSpec::new("t", Some(""), Some("$.detail"), None).unwrap(),
        InputSpec::Path(_)
    ));
}

#[test]
fn input_must_be_valid_json_text() {
    for bad in ["not json", "{", r#"{"a": 1} x"#, "'x'"] {
        let e = InputSpec::new("target-1", Some(bad), None, None).unwrap_err();
        assert_eq!(e.kind(), TransformErrorKind::InvalidInput, "{bad}");
        assert_eq!(
            e.message(),
            "Input for target target-1 is not valid JSON text."
        );
    }
    for good in ["{}", "[1]", "\"s\"", "12", "null", " true "] {
        InputSpec::new("target-1", Some(good), None, None).unwrap();
    }
}

#[test]
fn input_is_at_most_8192_characters() {
    let ok = format!("\"{}\"", "é".repeat(8190));
    InputSpec::new("t", Some(&ok), None, None).unwrap();
    let long = format!("\"{}\"", "x".repeat(8191));
    let e = InputSpec::new("t", Some(&long), None, None).unwrap_err();
    assert_eq!(e.kind(), TransformErrorKind::Constraint);
    assert_eq!(e.member(), Some("input"));
    assert!(
        e.message()
            .ends_with("Member must have length less than or equal to 8192"),
        "{e}"
    );
    assert_eq!(
        e.coral_message(2),
        format!(
            "1 validation error detected: Value '{long}' at 'targets.2.member.input' failed to satisfy constraint: Member must have length less than or equal to 8192"
        )
    );
}

#[test]
fn input_path_is_at_most_256_characters() {
    let ok = format!("$.{}", "a".repeat(254));
    InputSpec::new("t", None, Some(&ok), None).unwrap();
    let long = format!("$.{}", "a".repeat(255));
    let e = InputSpec::new("t", None, Some(&long), None).unwrap_err();
    assert_eq!(e.kind(), TransformErrorKind::Constraint);
    assert_eq!(e.member(), Some("inputPath"));
    assert!(
        e.coral_message(1)
            .contains("at 'targets.1.member.inputPath' failed to satisfy constraint")
    );
}

#[test]
fn input_path_must_be_a_supported_path() {
    for bad in [
        "detail",
        "$..detail",
        "$.detail[?(@.a)]",
        "$.a[-1]",
        "$.a[0:1]",
        "$.a b",
        "$.",
    ] {
        let e = InputSpec::new("target-1", None, Some(bad), None).unwrap_err();
        assert_eq!(e.kind(), TransformErrorKind::InvalidPath, "{bad}");
        assert!(
            e.message()
                .starts_with("InputPath for target target-1 is not a supported JSON path"),
            "{e}"
        );
    }
}

#[test]
fn paths_map_has_at_most_100_entries() {
    let entries: Vec<(String, String)> = (0..101)
        .map(|i| (format!("k{i}"), "$.detail".to_string()))
        .collect();
    let e = InputSpec::new("t", None, None, Some((&entries, "<k0>"))).unwrap_err();
    assert_eq!(e.kind(), TransformErrorKind::Constraint);
    assert_eq!(e.member(), Some("inputTransformer.inputPathsMap"));
    assert!(
        e.message()
            .ends_with("Member must have length less than or equal to 100"),
        "{e}"
    );
    InputSpec::new("t", None, None, Some((&entries[..100], "<k0>"))).unwrap();
}

#[test]
fn paths_map_keys_are_1_to_256_word_characters() {
    for bad in ["a.b", "a b", "ключ", "a$", ""] {
        let e = transformer_err(&[(bad, "$.detail")], r#"{"x": 1}"#);
        assert_eq!(e.kind(), TransformErrorKind::Constraint, "{bad:?}");
        assert_eq!(e.member(), Some("inputTransformer.inputPathsMap"));
    }
    let pattern = transformer_err(&[("a.b", "$.detail")], r#"{"x": 1}"#);
    assert!(pattern.message().contains(r"[A-Za-z0-9\_\-]+"), "{pattern}");
    let key = "k".repeat(256);
    transformer(&[(&key, "$.detail")], r#"{"x": 1}"#);
    let key = "k".repeat(257);
    let e = transformer_err(&[(&key, "$.detail")], r#"{"x": 1}"#);
    assert!(e.message().contains("less than or equal to 256"), "{e}");
    transformer(&[("Aa0_-", "$.detail")], "<Aa0_->");
}

#[test]
fn paths_map_keys_may_not_be_reserved_variables() {
    for key in [
        "aws.events.rule-arn",
        "aws.events.event",
        "aws.events.custom",
    ] {
        let e = transformer_err(&[(key, "$.detail")], r#"{"x": 1}"#);
        assert_eq!(e.kind(), TransformErrorKind::ReservedKey, "{key}");
        assert!(e.message().contains(key), "{e}");
    }
}

#[test]
fn paths_map_values_are_supported_paths_of_at_most_256_characters() {
    let e = transformer_err(&[("k", "$..a")], "<k>");
    assert_eq!(e.kind(), TransformErrorKind::InvalidPath);
    assert!(
        e.message().starts_with(
            "InputPathsMap for target target-1 has an unsupported JSON path for key k"
        ),
        "{e}"
    );
    let e = transformer_err(&[("k", "detail")], "<k>");
    assert_eq!(e.kind(), TransformErrorKind::InvalidPath);
    let long = format!("$.{}", "a".repeat(255));
    let e = transformer_err(&[("k", &long)], "<k>");
    assert_eq!(e.kind(), TransformErrorKind::Constraint);
    assert_eq!(e.member(), Some("inputTransformer.inputPathsMap"));
    transformer(&[("k", &long[..256])], "<k>");
}

#[test]
fn input_template_is_1_to_8192_characters() {
    let e = transformer_err(&[], "");
    assert_eq!(e.kind(), TransformErrorKind::Constraint);
    assert_eq!(e.member(), Some("inputTransformer.inputTemplate"));
    assert!(
        e.message()
            .ends_with("Member must have length greater than or equal to 1"),
        "{e}"
    );
    let ok = format!("\"{}\"", "x".repeat(8190));
    transformer(&[], &ok);
    let long = format!("\"{}\"", "x".repeat(8191));
    let e = transformer_err(&[], &long);
    assert_eq!(e.kind(), TransformErrorKind::Constraint);
    assert!(
        e.message()
            .ends_with("Member must have length less than or equal to 8192"),
        "{e}"
    );
}

#[test]
fn undefined_placeholder_is_rejected_with_the_aws_message() {
    // AWS-recorded `test_put_events_with_input_transformer_missing_keys`.
    let e = transformer_err(
        &TEMPLATE_PATHS,
        r#""Event of <detail-type> type, with not defined key <notdefinedkey>""#,
    );
    assert_eq!(e.kind(), TransformErrorKind::InvalidPlaceholder);
    assert_eq!(
        e.message(),
        "InputTemplate for target target-1 contains invalid placeholder notdefinedkey."
    );
    // `<` and `>` cannot be escaped: any `<...>` is a placeholder.
    let e = transformer_err(&[], r#"{"html": "<b>bold</b>"}"#);
    assert_eq!(
        e.message(),
        "InputTemplate for target target-1 contains invalid placeholder b."
    );
    let e = transformer_err(&[], "a <> b");
    assert_eq!(
        e.message(),
        "InputTemplate for target target-1 contains invalid placeholder ."
    );
    // Near misses of predefined names are not predefined.
    let e = transformer_err(&[], "<aws.events.rule>");
    assert_eq!(e.kind(), TransformErrorKind::InvalidPlaceholder);
}

#[test]
fn predefined_placeholders_need_no_map_entry() {
    transformer(
        &[],
        "<aws.events.rule-arn> <aws.events.rule-name> <aws.events.event.ingestion-time> <aws.events.event> <aws.events.event.json>",
    );
    // A `<` without a later `>` is not a placeholder.
    transformer(&[], "2 > 1 and 1 < 2");
}
