//! Evaluation, as AWS evaluates the policies that apply to one request: an
//! explicit `Deny` anywhere wins; within one account an `Allow` from either
//! the identity or the resource policy suffices; across accounts both must
//! allow.

use super::document::{Condition, Effect, Operator, Principals, Statement};
use super::glob::matches;
use super::{Policy, Principal};

/// One request to authorize.
#[derive(Clone, Copy, Debug)]
pub struct AccessRequest<'a> {
    /// Who asks.
    pub principal: &'a Principal,
    /// The action, `service:Operation` (`events:PutEvents`).
    pub action: &'a str,
    /// The resource's ARN (or `*` for operations without one).
    pub resource: &'a str,
    /// The account that owns the resource.
    pub resource_account: &'a str,
    /// Request-specific condition keys (`events:source`, ...).
    pub context: &'a [(&'a str, &'a str)],
}

/// The outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// No policy allows it.
    ImplicitDeny,
    /// A statement denies it.
    ExplicitDeny,
}

impl Decision {
    /// Whether the request may proceed.
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// Decides `request` given the resource's policy (if it has one).
pub fn authorize(request: &AccessRequest<'_>, resource_policy: Option<&Policy>) -> Decision {
    let identity = request.principal.identity_policies();
    let mut identity_allows = identity.is_none();
    for policy in identity.unwrap_or_default() {
        match verdict(policy, request, false) {
            Some(Effect::Deny) => return Decision::ExplicitDeny,
            Some(Effect::Allow) => identity_allows = true,
            None => {}
        }
    }
    let resource_allows = match resource_policy.map(|p| verdict(p, request, true)) {
        Some(Some(Effect::Deny)) => return Decision::ExplicitDeny,
        Some(Some(Effect::Allow)) => true,
        _ => false,
    };
    let same_account = request.principal.account() == request.resource_account;
    let allowed = if same_account {
        identity_allows || resource_allows
    } else {
        identity_allows && resource_allows
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// `Deny` if a statement of `policy` denies, else `Allow` if one allows.
fn verdict(policy: &Policy, request: &AccessRequest<'_>, resource: bool) -> Option<Effect> {
    let mut out = None;
    for s in &policy.statements {
        if applies(s, request, resource) {
            if s.effect == Effect::Deny {
                return Some(Effect::Deny);
            }
            out = Some(Effect::Allow);
        }
    }
    out
}

fn applies(s: &Statement, request: &AccessRequest<'_>, resource: bool) -> bool {
    if resource {
        let principal_ok = match &s.principal {
            Some(Principals::Anyone) => true,
            Some(Principals::Listed { aws, .. }) => {
                aws.iter().any(|a| principal_matches(a, request.principal))
            }
            None => false,
        };
        if !principal_ok {
            return false;
        }
    }
    let action_hit = s
        .actions
        .patterns
        .iter()
        .any(|p| matches(p, request.action, true));
    if action_hit == s.actions.negated {
        return false;
    }
    let resource_hit = s
        .resources
        .patterns
        .iter()
        .any(|p| matches(p, request.resource, false));
    if resource_hit == s.resources.negated {
        return false;
    }
    s.conditions.iter().all(|c| condition_holds(c, request))
}

fn principal_matches(listed: &str, principal: &Principal) -> bool {
    if listed.len() == 12 && listed.bytes().all(|b| b.is_ascii_digit()) {
        return listed == principal.account();
    }
    if let Some(account) = listed
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.strip_suffix(":root"))
    {
        return account == principal.account();
    }
    listed == principal.arn()
}

fn value_of<'a>(request: &'a AccessRequest<'_>, key: &str) -> Option<&'a str> {
    if let Some(v) = request.principal.condition_value(key) {
        return Some(v);
    }
    if key.eq_ignore_ascii_case("aws:SecureTransport") {
        return Some("false");
    }
    request
        .context
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| *v)
}

fn condition_holds(c: &Condition, request: &AccessRequest<'_>) -> bool {
    let value = value_of(request, &c.key);
    if c.operator == Operator::Null {
        // `Null: true` holds when the key is absent.
        let absent = value.is_none();
        return c.values.iter().any(|v| (v == "true") == absent);
    }
    let Some(value) = value else {
        return c.if_exists || c.operator.is_negated();
    };
    let any = |f: &dyn Fn(&str) -> bool| c.values.iter().any(|v| f(v));
    match c.operator {
        Operator::StringEquals | Operator::ArnEquals => any(&|v| v == value),
        Operator::StringNotEquals | Operator::ArnNotEquals => !any(&|v| v == value),
        Operator::StringEqualsIgnoreCase => any(&|v| v.eq_ignore_ascii_case(value)),
        Operator::StringNotEqualsIgnoreCase => !any(&|v| v.eq_ignore_ascii_case(value)),
        Operator::StringLike | Operator::ArnLike => any(&|v| matches(v, value, false)),
        Operator::StringNotLike | Operator::ArnNotLike => !any(&|v| matches(v, value, false)),
        Operator::Bool => any(&|v| v.eq_ignore_ascii_case(value)),
        Operator::Null => false,
    }
}
