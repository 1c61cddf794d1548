use std::sync::Arc;

use super::*;

const BUS: &str = "arn:aws:events:us-east-1:111111111111:event-bus/orders";
const OWNER: &str = "111111111111";

fn resource(text: &str) -> Policy {
    match Policy::parse(text, PolicyKind::Resource) {
        Ok(p) => p,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn identity(text: &str) -> Policy {
    match Policy::parse(text, PolicyKind::Identity) {
        Ok(p) => p,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn user(account: &str, name: &str, policies: Option<Vec<Policy>>) -> Principal {
    Principal::user(
        account,
        name,
        &format!("AKID{name}"),
        Some("o-org1"),
        policies.map(Arc::new),
    )
}

fn decide(p: &Principal, action: &str, resource_arn: &str, policy: Option<&Policy>) -> Decision {
    authorize(
        &AccessRequest {
            principal: p,
            action,
            resource: resource_arn,
            resource_account: OWNER,
            context: &[("events:source", "shop")],
        },
        policy,
    )
}

#[test]
fn same_account_without_identity_policies_is_allowed() {
    let admin = user(OWNER, "admin", None);
    assert_eq!(decide(&admin, "events:PutRule", BUS, None), Decision::Allow);
}

#[test]
fn identity_policy_limits_actions_and_resources() {
    let p = identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":["events:Describe*","events:List?ules"],"Resource":"{BUS}"}}}}"#
    ));
    let u = user(OWNER, "reader", Some(vec![p]));
    assert_eq!(
        decide(&u, "events:DescribeEventBus", BUS, None),
        Decision::Allow
    );
    assert_eq!(decide(&u, "events:ListRules", BUS, None), Decision::Allow);
    assert_eq!(
        decide(&u, "EVENTS:describeeventbus", BUS, None),
        Decision::Allow
    );
    assert_eq!(
        decide(&u, "events:DeleteEventBus", BUS, None),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(
            &u,
            "events:DescribeEventBus",
            "arn:aws:events:us-east-1:111111111111:event-bus/other",
            None
        ),
        Decision::ImplicitDeny
    );
}

#[test]
fn explicit_deny_wins_over_allow() {
    let p = identity(
        r#"{"Statement":[{"Effect":"Allow","Action":"events:*","Resource":"*"},
                         {"Effect":"Deny","Action":"events:DeleteEventBus","Resource":"*"}]}"#,
    );
    let u = user(OWNER, "ops", Some(vec![p]));
    assert_eq!(decide(&u, "events:PutRule", BUS, None), Decision::Allow);
    assert_eq!(
        decide(&u, "events:DeleteEventBus", BUS, None),
        Decision::ExplicitDeny
    );
    // A resource policy's deny beats an unrestricted identity too.
    let bus = resource(&format!(
        r#"{{"Statement":[{{"Effect":"Deny","Principal":"*","Action":"events:PutEvents","Resource":"{BUS}"}}]}}"#
    ));
    let admin = user(OWNER, "admin", None);
    assert_eq!(
        decide(&admin, "events:PutEvents", BUS, Some(&bus)),
        Decision::ExplicitDeny
    );
    assert_eq!(
        decide(&admin, "events:PutRule", BUS, Some(&bus)),
        Decision::Allow
    );
}

#[test]
fn not_action_and_not_resource() {
    let p = identity(
        r#"{"Statement":[{"Effect":"Allow","NotAction":"events:Delete*","NotResource":"arn:aws:events:*:*:event-bus/secret"}]}"#,
    );
    let u = user(OWNER, "u", Some(vec![p]));
    assert_eq!(decide(&u, "events:PutRule", BUS, None), Decision::Allow);
    assert_eq!(
        decide(&u, "events:DeleteRule", BUS, None),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(
            &u,
            "events:PutRule",
            "arn:aws:events:us-east-1:111111111111:event-bus/secret",
            None
        ),
        Decision::ImplicitDeny
    );
}

#[test]
fn cross_account_needs_the_resource_policy() {
    let partner = user("222222222222", "p", None);
    assert_eq!(
        decide(&partner, "events:PutEvents", BUS, None),
        Decision::ImplicitDeny
    );
    for principal in [
        r#""*""#,
        r#"{"AWS":"222222222222"}"#,
        r#"{"AWS":["arn:aws:iam::222222222222:root"]}"#,
        r#"{"AWS":"arn:aws:iam::222222222222:user/p"}"#,
    ] {
        let bus = resource(&format!(
            r#"{{"Statement":[{{"Sid":"s","Effect":"Allow","Principal":{principal},"Action":"events:PutEvents","Resource":"{BUS}"}}]}}"#
        ));
        assert_eq!(
            decide(&partner, "events:PutEvents", BUS, Some(&bus)),
            Decision::Allow,
            "{principal}"
        );
        assert_eq!(
            decide(&partner, "events:PutRule", BUS, Some(&bus)),
            Decision::ImplicitDeny
        );
    }
    let other_user = resource(&format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::222222222222:user/q"}},"Action":"events:PutEvents","Resource":"{BUS}"}}]}}"#
    ));
    assert_eq!(
        decide(&partner, "events:PutEvents", BUS, Some(&other_user)),
        Decision::ImplicitDeny
    );
    // Both sides must allow: a restrictive identity policy still applies.
    let p = identity(r#"{"Statement":{"Effect":"Allow","Action":"events:List*","Resource":"*"}}"#);
    let limited = user("222222222222", "p", Some(vec![p]));
    let bus = resource(&format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"events:PutEvents","Resource":"{BUS}"}}]}}"#
    ));
    assert_eq!(
        decide(&limited, "events:PutEvents", BUS, Some(&bus)),
        Decision::ImplicitDeny
    );
}

#[test]
fn conditions() {
    let bus = resource(&format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"events:PutEvents","Resource":"{BUS}",
            "Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"o-org1"}},"StringLike":{{"events:source":["sh*"]}}}}}}]}}"#
    ));
    assert_eq!(
        decide(
            &user("222222222222", "p", None),
            "events:PutEvents",
            BUS,
            Some(&bus)
        ),
        Decision::Allow
    );
    let outsider = Principal::user("333333333333", "x", "AKIDX", Some("o-other"), None);
    assert_eq!(
        decide(&outsider, "events:PutEvents", BUS, Some(&bus)),
        Decision::ImplicitDeny
    );
    let no_org = Principal::account_root("444444444444");
    assert_eq!(
        decide(&no_org, "events:PutEvents", BUS, Some(&bus)),
        Decision::ImplicitDeny
    );

    // Negated operators hold when the key is absent; IfExists too.
    let deny_others = resource(&format!(
        r#"{{"Statement":[{{"Effect":"Deny","Principal":"*","Action":"events:*","Resource":"{BUS}",
            "Condition":{{"StringNotEquals":{{"aws:userid":["AKIDalice"]}}}}}}]}}"#
    ));
    assert_eq!(
        decide(
            &user(OWNER, "alice", None),
            "events:PutEvents",
            BUS,
            Some(&deny_others)
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(
            &user(OWNER, "bob", None),
            "events:PutEvents",
            BUS,
            Some(&deny_others)
        ),
        Decision::ExplicitDeny
    );
    assert_eq!(
        decide(
            &Principal::account_root(OWNER),
            "events:PutEvents",
            BUS,
            Some(&deny_others)
        ),
        Decision::ExplicitDeny
    );

    let null = identity(
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"aws:PrincipalOrgID":"true"}}}}"#,
    );
    assert_eq!(
        decide(
            &user(OWNER, "a", Some(vec![null.clone()])),
            "events:PutRule",
            BUS,
            None
        ),
        Decision::ImplicitDeny
    );
    let root_like = Principal::user(OWNER, "b", "AKIDb", None, Some(Arc::new(vec![null])));
    assert_eq!(
        decide(&root_like, "events:PutRule", BUS, None),
        Decision::Allow
    );
}

#[test]
fn malformed_documents_are_refused_with_a_reason() {
    let cases = [
        ("not json", "not JSON"),
        ("[]", "JSON object"),
        (r#"{"Statement":[]}"#, "no Statement"),
        (r#"{"Version":"2020-01-01","Statement":[]}"#, "Version"),
        (
            r#"{"Statement":[{"Effect":"Permit","Principal":"*","Action":"a","Resource":"*"}]}"#,
            "Effect",
        ),
        (
            r#"{"Statement":[{"Principal":"*","Action":"a","Resource":"*"}]}"#,
            "no Effect",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"a","Resource":"*"}]}"#,
            "no Principal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}"#,
            "neither Action",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"a"}]}"#,
            "neither Resource",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"a","NotAction":"b","Resource":"*"}]}"#,
            "both",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}]}"#,
            "non-empty",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":[1],"Resource":"*"}]}"#,
            "strings",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"12"},"Action":"a","Resource":"*"}]}"#,
            "invalid principal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Federated":"x"},"Action":"a","Resource":"*"}]}"#,
            "not supported",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","NotPrincipal":"*","Action":"a","Resource":"*"}]}"#,
            "NotPrincipal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"a","Resource":"*","Condition":{"NumericLessThan":{"k":"1"}}}]}"#,
            "Invalid Condition type",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"a","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"k":"1"}}}]}"#,
            "not supported",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"a","Resource":"*","Extra":1}]}"#,
            "unknown element",
        ),
        (r#"{"AllowedAccessKeys":["AKID"]}"#, "unknown element"),
    ];
    for (text, needle) in cases {
        match Policy::parse(text, PolicyKind::Resource) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => assert!(e.to_string().contains(needle), "{text}: {e}"),
        }
    }
    let e = Policy::parse(
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"a","Resource":"*"}]}"#,
        PolicyKind::Identity,
    );
    assert!(e.is_err_and(
        |e| e.reason().contains("must not specify a Principal") && e.statement() == Some(0)
    ));
    let big = format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"a","Resource":"{}"}}]}}"#,
        "x".repeat(MAX_POLICY_BYTES)
    );
    assert!(Policy::parse(&big, PolicyKind::Resource).is_err());
}
