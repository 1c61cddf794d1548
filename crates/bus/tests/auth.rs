//! Access control in the bus, checked by its effect: what a policy denies
//! is never matched, stored or delivered (the queues are read, not only the
//! answers); policies survive a reopen; forwarding cannot route around a
//! bus's policy.

use std::sync::Arc;

use ferrule_bus::{
    Bus, BusErrorKind, PermissionCondition, PutEventsEntry, PutPermissionInput, PutRuleInput,
    TargetConfig,
};
use ferrule_policy::{Decision, Principal};

mod support;
use support::open::TestBus;
use support::temp_dir::TempDir;

const ACCOUNT: &str = "000000000000";

fn open(dir: &TempDir) -> Bus {
    TestBus::new(&dir.0).open()
}

fn user(name: &str) -> Principal {
    Principal::user(ACCOUNT, name, &format!("AKID{name}"), None, None)
}

fn partner() -> Principal {
    Principal::user("222222222222", "p", "AKIDpartner", Some("o-good"), None)
}

fn entry(bus: &str, source: &str) -> PutEventsEntry {
    let mut e = PutEventsEntry::new(source, "Order", r#"{"n": 1}"#);
    e.event_bus_name = Some(bus.to_string());
    e
}

/// A bus `name` with a rule sending everything from `shop` to queue `q-name`.
fn bus_with_queue(bus: &Bus, name: &str) -> String {
    if name != "default" {
        bus.create_event_bus(name, None).expect("bus");
    }
    let queue = format!("q-{name}");
    let arn = bus.create_queue(&queue).expect("queue");
    let mut rule = PutRuleInput::new("all", r#"{"source": ["shop"]}"#);
    rule.event_bus_name = Some(name.to_string());
    bus.put_rule(rule).expect("rule");
    bus.put_targets(
        "all",
        Some(name),
        vec![TargetConfig {
            id: "q".into(),
            arn,
            ..Default::default()
        }],
    )
    .expect("target");
    queue
}

fn delivered(bus: &Bus, queue: &str) -> usize {
    for _ in 0..10 {
        if bus.run_due() == 0 {
            break;
        }
    }
    bus.queue_messages(queue, 1000).expect("read queue").len()
}

fn deny_all_but(bus: &Bus, name: &str, key: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"only","Effect":"Deny","Principal":"*",
            "Action":"events:PutEvents","Resource":"{}",
            "Condition":{{"StringNotEquals":{{"aws:userid":"{key}"}}}}}}]}}"#,
        bus.bus_arn(name)
    )
}

#[test]
fn a_denied_entry_is_never_delivered() {
    let dir = TempDir::new("denied");
    let bus = open(&dir);
    let queue = bus_with_queue(&bus, "locked");
    bus.set_bus_policy(
        Some("locked"),
        Some(&deny_all_but(&bus, "locked", "AKIDalice")),
    )
    .expect("policy");

    let out = bus
        .put_events_as(
            &user("mallory"),
            vec![entry("locked", "shop"), entry("default", "shop")],
        )
        .expect("put");
    assert_eq!(out.failed_entry_count, 1);
    let denied = &out.entries[0];
    assert_eq!(denied.error_code.as_deref(), Some("AccessDeniedException"));
    assert!(denied.event_id.is_none());
    let message = denied.error_message.as_deref().unwrap_or("");
    assert!(
        message.contains("arn:aws:iam::000000000000:user/mallory"),
        "{message}"
    );
    assert!(message.contains("events:PutEvents"), "{message}");
    assert!(
        out.entries[1].event_id.is_some(),
        "the good entry beside it goes through"
    );
    assert_eq!(
        delivered(&bus, &queue),
        0,
        "the denied entry reached the queue"
    );
    assert_eq!(bus.pending_deliveries().expect("pending"), 0);

    let out = bus
        .put_events_as(&user("alice"), vec![entry("locked", "shop")])
        .expect("put");
    assert_eq!(out.failed_entry_count, 0);
    assert_eq!(delivered(&bus, &queue), 1);
}

#[test]
fn cross_account_callers_need_a_grant_and_it_can_be_revoked() {
    let dir = TempDir::new("grant");
    let bus = open(&dir);
    let queue = bus_with_queue(&bus, "shared");
    let put = |b: &Bus| {
        b.put_events_as(&partner(), vec![entry("shared", "shop")])
            .expect("put")
            .failed_entry_count
    };
    assert_eq!(put(&bus), 1, "no grant yet");
    bus.put_permission(
        PutPermissionInput::grant(Some("shared"), "*", "org").with_condition(PermissionCondition {
            kind: "StringEquals".into(),
            key: "aws:PrincipalOrgID".into(),
            value: "o-good".into(),
        }),
    )
    .expect("grant");
    assert_eq!(put(&bus), 0);
    let outsider = Principal::user("333333333333", "x", "AKIDx", Some("o-bad"), None);
    let out = bus
        .put_events_as(&outsider, vec![entry("shared", "shop")])
        .expect("put");
    assert_eq!(out.failed_entry_count, 1, "another organization");
    bus.remove_permission(Some("shared"), Some("org"), false)
        .expect("revoke");
    assert_eq!(put(&bus), 1);
    assert_eq!(delivered(&bus, &queue), 1, "only the granted entry");
    let e = bus.remove_permission(Some("shared"), Some("org"), false);
    assert!(e.is_err_and(|e| e.kind() == BusErrorKind::ResourceNotFound));
}

#[test]
fn policies_survive_a_reopen() {
    let dir = TempDir::new("persist");
    let policy;
    {
        let bus = open(&dir);
        bus_with_queue(&bus, "locked");
        policy = deny_all_but(&bus, "locked", "AKIDalice");
        bus.set_bus_policy(Some("locked"), Some(&policy))
            .expect("set");
        bus.create_event_bus_with_policy(
            "created",
            None,
            Some(&policy.replace("locked", "created")),
        )
        .expect("create with policy");
        bus.put_permission(PutPermissionInput::grant(None, "222222222222", "partner"))
            .expect("grant on default");
    }
    let bus = open(&dir);
    let stored = bus.describe_event_bus(Some("locked")).expect("describe");
    let stored: serde_json::Value =
        serde_json::from_str(stored.policy.as_deref().expect("policy")).expect("json");
    let given: serde_json::Value = serde_json::from_str(&policy).expect("json");
    assert_eq!(stored, given);
    assert!(
        bus.describe_event_bus(Some("created"))
            .expect("d")
            .policy
            .is_some()
    );
    let out = bus
        .put_events_as(
            &user("mallory"),
            vec![entry("locked", "shop"), entry("created", "shop")],
        )
        .expect("put");
    assert_eq!(
        out.failed_entry_count, 2,
        "the restored policies still deny"
    );
    let out = bus
        .put_events_as(&partner(), vec![entry("default", "shop")])
        .expect("put");
    assert_eq!(out.failed_entry_count, 0, "the restored grant still allows");
}

#[test]
fn malformed_policies_are_refused_not_ignored() {
    let dir = TempDir::new("malformed");
    let bus = open(&dir);
    for bad in [
        r#"{"AllowedAccessKeys": ["AKID"]}"#,
        "not json",
        r#"{"Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": "*"}]}"#,
    ] {
        let e = bus.create_event_bus_with_policy("b", None, Some(bad));
        assert!(
            e.as_ref()
                .is_err_and(|e| e.kind() == BusErrorKind::Validation
                    && e.message().starts_with("Policy is not valid. Reason:")),
            "{bad}: {e:?}"
        );
        assert!(
            bus.describe_event_bus(Some("b")).is_err(),
            "no bus is created"
        );
        let e = bus.put_permission(PutPermissionInput::document(None, bad));
        assert!(e.is_err_and(|e| e.kind() == BusErrorKind::Validation));
    }
    assert!(
        bus.describe_event_bus(None)
            .expect("default")
            .policy
            .is_none()
    );
    let mut wrong_action = PutPermissionInput::grant(None, "*", "s");
    wrong_action.action = Some("events:PutRule".into());
    assert!(
        bus.put_permission(wrong_action)
            .is_err_and(|e| e.kind() == BusErrorKind::Validation)
    );
    for bad_principal in ["12345", "arn:aws:iam::123456789012:root", ""] {
        let e = bus.put_permission(PutPermissionInput::grant(None, bad_principal, "s"));
        assert!(
            e.is_err_and(|e| e.kind() == BusErrorKind::Validation),
            "{bad_principal}"
        );
    }
    let e = bus.put_permission(PutPermissionInput::grant(None, "*", "bad id!"));
    assert!(e.is_err_and(|e| e.kind() == BusErrorKind::Validation));
    let bad_condition =
        PutPermissionInput::grant(None, "*", "s").with_condition(PermissionCondition {
            kind: "StringLike".into(),
            key: "aws:PrincipalOrgID".into(),
            value: "o-x".into(),
        });
    assert!(
        bus.put_permission(bad_condition)
            .is_err_and(|e| e.kind() == BusErrorKind::Validation)
    );
    assert!(
        bus.describe_event_bus(None)
            .expect("default")
            .policy
            .is_none(),
        "nothing was half-applied"
    );
}

#[test]
fn forwarding_cannot_route_around_a_policy() {
    let dir = TempDir::new("forward");
    let bus = open(&dir);
    let locked_queue = bus_with_queue(&bus, "locked");
    bus.set_bus_policy(
        Some("locked"),
        Some(&deny_all_but(&bus, "locked", "AKIDalice")),
    )
    .expect("policy");
    let dlq = bus.create_queue("forward-dlq").expect("dlq");
    // A rule on the open default bus forwards everything to the locked bus
    // (through an intermediate bus: two hops).
    bus.create_event_bus("middle", None).expect("middle");
    let forward = |rule_bus: &str, to: &str| {
        let mut rule = PutRuleInput::new("fwd", r#"{"source": ["shop"]}"#);
        rule.event_bus_name = Some(rule_bus.to_string());
        bus.put_rule(rule).expect("rule");
        bus.put_targets(
            "fwd",
            Some(rule_bus),
            vec![TargetConfig {
                id: "to".into(),
                arn: bus.bus_arn(to),
                dead_letter_config: Some(ferrule_bus::DeadLetterConfig { arn: dlq.clone() }),
                ..Default::default()
            }],
        )
        .expect("targets");
    };
    forward("default", "middle");
    forward("middle", "locked");

    let out = bus
        .put_events_as(&user("mallory"), vec![entry("default", "shop")])
        .expect("put");
    assert_eq!(
        out.failed_entry_count, 0,
        "the default bus is open to mallory"
    );
    assert_eq!(
        delivered(&bus, &locked_queue),
        0,
        "mallory's event reached the locked bus"
    );
    let letters = bus.queue_messages("forward-dlq", 10).expect("dlq");
    assert_eq!(letters.len(), 1, "the refused forward is dead-lettered");
    assert!(
        letters[0]
            .attributes
            .iter()
            .any(|(k, v)| k == "ERROR_CODE" && v == "NO_PERMISSIONS"),
        "{:?}",
        letters[0].attributes
    );

    // The same path works for a caller the locked bus allows, once the
    // resolver knows the key (as the server sets it).
    bus.set_principal_resolver(Arc::new(|key: &str| {
        (key == "AKIDalice").then(|| user("alice"))
    }));
    bus.put_events_as(&user("alice"), vec![entry("default", "shop")])
        .expect("put");
    assert_eq!(delivered(&bus, &locked_queue), 1);
}

#[test]
fn control_plane_decisions_use_the_bus_policy() {
    let dir = TempDir::new("control");
    let bus = open(&dir);
    bus.create_event_bus("locked", None).expect("bus");
    let policy = format!(
        r#"{{"Statement":[{{"Effect":"Deny","Principal":"*","NotAction":["events:Describe*"],
            "Resource":["{}","{}"],"Condition":{{"StringNotEquals":{{"aws:userid":"AKIDalice"}}}}}}]}}"#,
        bus.bus_arn("locked"),
        bus.rule_arn("*", Some("locked"))
    );
    bus.set_bus_policy(Some("locked"), Some(&policy))
        .expect("policy");
    let rule = bus.rule_arn("steal", Some("locked"));
    let decide = |p: &Principal, action: &str, resource: &str| {
        bus.authorize(p, action, resource, "locked", &[])
            .expect("authorize")
    };
    assert_eq!(
        decide(&user("mallory"), "events:PutRule", &rule),
        Decision::ExplicitDeny
    );
    assert_eq!(
        decide(
            &user("mallory"),
            "events:DeleteEventBus",
            &bus.bus_arn("locked")
        ),
        Decision::ExplicitDeny
    );
    assert_eq!(
        decide(
            &user("mallory"),
            "events:DescribeEventBus",
            &bus.bus_arn("locked")
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(&user("alice"), "events:PutRule", &rule),
        Decision::Allow
    );
}
