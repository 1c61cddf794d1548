//! Steps the tests repeat on a bus (`support::steps`; the runner's tests
//! include it by path for the connections): a target, a rule routing one
//! source to one target, one event put, an API key connection.

use ferrule_bus::{
    ApiKeyAuth, AuthParameters, Bus, ConnectionInput, PutEventsEntry, PutRuleInput, TargetConfig,
};

/// A target `id` delivering to `arn`, with nothing else set.
pub fn target(id: &str, arn: &str) -> TargetConfig {
    TargetConfig {
        id: id.into(),
        arn: arn.into(),
        ..Default::default()
    }
}

/// A rule `rule` matching the events of `source`, with `target`; both must
/// be accepted.
pub fn rule_to(bus: &Bus, rule: &str, source: &str, target: TargetConfig) {
    bus.put_rule(PutRuleInput::new(
        rule,
        &format!(r#"{{"source": ["{source}"]}}"#),
    ))
    .unwrap();
    let failed = bus.put_targets(rule, None, vec![target]).unwrap();
    assert!(failed.is_empty(), "{failed:?}");
}

/// Puts one event of `source` (detail-type `T`) that must be accepted.
pub fn put(bus: &Bus, source: &str, detail: &str) {
    let out = bus
        .put_events(vec![PutEventsEntry::new(source, "T", detail)])
        .unwrap();
    assert_eq!(out.failed_entry_count, 0);
}

/// The authorization of an `API_KEY` connection: header `name: value`.
pub fn api_key(name: &str, value: &str) -> AuthParameters {
    AuthParameters {
        api_key: Some(ApiKeyAuth {
            api_key_name: Some(name.into()),
            api_key_value: Some(value.into()),
        }),
        ..Default::default()
    }
}

/// An `API_KEY` connection `name` sending header `header: value`.
pub fn api_key_connection(name: &str, header: &str, value: &str) -> ConnectionInput {
    ConnectionInput {
        name: name.into(),
        authorization_type: Some("API_KEY".into()),
        auth: Some(api_key(header, value)),
        ..Default::default()
    }
}
