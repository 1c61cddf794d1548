//! Policy documents: parsing and validation of the IAM policy grammar
//! ferrule evaluates (a subset; everything outside it is refused, never
//! ignored).

use serde_json::{Map, Value};

use super::PolicyError;

/// Whether a document is attached to an identity or to a resource; they
/// differ in the `Principal` element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a credential: no `Principal`.
    Identity,
    /// Attached to a resource (an event bus): `Principal` required.
    Resource,
}

/// `Allow` or `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Refuses, whatever else grants.
    Deny,
}

/// A parsed, validated policy document.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub(crate) statements: Vec<Statement>,
    text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) principal: Option<Principals>,
    pub(crate) actions: Matchers,
    pub(crate) resources: Matchers,
    pub(crate) conditions: Vec<Condition>,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: patterns, and whether
/// the statement applies to what they match or to everything else.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Matchers {
    pub(crate) patterns: Vec<String>,
    pub(crate) negated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Principals {
    /// `"*"` or `{"AWS": "*"}`.
    Anyone,
    /// Account ids and IAM ARNs (`{"AWS": [...]}`), and service names
    /// (`{"Service": [...]}`, which no caller of ferrule is).
    Listed {
        aws: Vec<String>,
        services: Vec<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Bool,
    Null,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Condition {
    pub(crate) operator: Operator,
    pub(crate) if_exists: bool,
    pub(crate) key: String,
    pub(crate) values: Vec<String>,
}

impl Operator {
    fn parse(name: &str) -> Option<Operator> {
        Some(match name {
            "StringEquals" => Operator::StringEquals,
            "StringNotEquals" => Operator::StringNotEquals,
            "StringEqualsIgnoreCase" => Operator::StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => Operator::StringNotEqualsIgnoreCase,
            "StringLike" => Operator::StringLike,
            "StringNotLike" => Operator::StringNotLike,
            "ArnEquals" => Operator::ArnEquals,
            "ArnLike" => Operator::ArnLike,
            "ArnNotEquals" => Operator::ArnNotEquals,
            "ArnNotLike" => Operator::ArnNotLike,
            "Bool" => Operator::Bool,
            "Null" => Operator::Null,
            _ => return None,
        })
    }

    /// The negated operators hold when the key is absent (IAM's rule).
    pub(crate) fn is_negated(self) -> bool {
        matches!(
            self,
            Operator::StringNotEquals
                | Operator::StringNotEqualsIgnoreCase
                | Operator::StringNotLike
                | Operator::ArnNotEquals
                | Operator::ArnNotLike
        )
    }
}

/// The longest policy text accepted (EventBridge's resource policies and
/// IAM's inline policies are bounded the same way).
pub const MAX_POLICY_BYTES: usize = 10_240;

impl Policy {
    /// Parses and validates a policy document's JSON text.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::new(format!(
                "the policy is {} bytes; the limit is {MAX_POLICY_BYTES}",
                text.len()
            )));
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| PolicyError::new(format!("the policy is not JSON: {e}")))?;
        Policy::from_value(&value, kind)
    }

    /// Validates a policy document given as JSON.
    pub fn from_value(value: &Value, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let doc = value
            .as_object()
            .ok_or_else(|| PolicyError::new("the policy must be a JSON object"))?;
        for key in doc.keys() {
            if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
                return Err(PolicyError::new(format!(
                    "unknown element {key:?} in the policy"
                )));
            }
        }
        match doc.get("Version") {
            None => {}
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
            Some(v) => {
                return Err(PolicyError::new(format!(
                    "Version must be \"2012-10-17\" or \"2008-10-17\", not {v}"
                )));
            }
        }
        if let Some(id) = doc.get("Id")
            && !id.is_string()
        {
            return Err(PolicyError::new("Id must be a string"));
        }
        let statements = match doc.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
            Some(one @ Value::Object(_)) => vec![one],
            Some(_) => {
                return Err(PolicyError::new(
                    "Statement must be an object or an array of objects",
                ));
            }
            None => return Err(PolicyError::new("the policy has no Statement")),
        };
        if statements.is_empty() {
            return Err(PolicyError::new("the policy has no Statement"));
        }
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| statement(s, kind).map_err(|e| e.at(i)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            statements,
            text: value.to_string(),
        })
    }

    /// The document as JSON text (what DescribeEventBus returns).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The statements as JSON values, in order (to edit a document
    /// statement by statement and parse the result again).
    pub fn statement_values(&self) -> Vec<Value> {
        match serde_json::from_str::<Value>(&self.text) {
            Ok(Value::Object(mut doc)) => match doc.remove("Statement") {
                Some(Value::Array(items)) => items,
                Some(one) => vec![one],
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// The statement ids (`Sid`) in order.
    pub fn statement_ids(&self) -> impl Iterator<Item = Option<&str>> {
        self.statements.iter().map(|s| s.sid.as_deref())
    }

    /// Whether any statement denies.
    pub fn has_deny(&self) -> bool {
        self.statements.iter().any(|s| s.effect == Effect::Deny)
    }
}

fn strings(value: &Value, element: &str) -> Result<Vec<String>, PolicyError> {
    let list = match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| PolicyError::new(format!("{element} must hold strings")))
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(PolicyError::new(format!(
                "{element} must be a string or a non-empty array of strings"
            )));
        }
    };
    if list.iter().any(String::is_empty) {
        return Err(PolicyError::new(format!("{element} has an empty value")));
    }
    Ok(list)
}

fn pair(
    s: &Map<String, Value>,
    plain: &str,
    not: &str,
    required: bool,
) -> Result<Option<Matchers>, PolicyError> {
    match (s.get(plain), s.get(not)) {
        (Some(_), Some(_)) => Err(PolicyError::new(format!(
            "a statement cannot have both {plain} and {not}"
        ))),
        (Some(v), None) => Ok(Some(Matchers {
            patterns: strings(v, plain)?,
            negated: false,
        })),
        (None, Some(v)) => Ok(Some(Matchers {
            patterns: strings(v, not)?,
            negated: true,
        })),
        (None, None) if required => Err(PolicyError::new(format!(
            "the statement has neither {plain} nor {not}"
        ))),
        (None, None) => Ok(None),
    }
}

fn statement(value: &Value, kind: PolicyKind) -> Result<Statement, PolicyError> {
    let s = value
        .as_object()
        .ok_or_else(|| PolicyError::new("a statement must be a JSON object"))?;
    for key in s.keys() {
        match key.as_str() {
            "Sid" | "Effect" | "Principal" | "Action" | "NotAction" | "Resource"
            | "NotResource" | "Condition" => {}
            "NotPrincipal" => {
                return Err(PolicyError::new("NotPrincipal is not supported by ferrule"));
            }
            other => {
                return Err(PolicyError::new(format!(
                    "unknown element {other:?} in a statement"
                )));
            }
        }
    }
    let sid = match s.get("Sid") {
        None => None,
        Some(Value::String(v)) => Some(v.clone()),
        Some(_) => return Err(PolicyError::new("Sid must be a string")),
    };
    let effect = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => {
            return Err(PolicyError::new(format!(
                "Effect must be \"Allow\" or \"Deny\", not {other:?}"
            )));
        }
        None => return Err(PolicyError::new("the statement has no Effect")),
    };
    let principal = match (kind, s.get("Principal")) {
        (PolicyKind::Identity, Some(_)) => {
            return Err(PolicyError::new(
                "an identity policy must not specify a Principal",
            ));
        }
        (PolicyKind::Identity, None) => None,
        (PolicyKind::Resource, None) => {
            return Err(PolicyError::new("the statement has no Principal"));
        }
        (PolicyKind::Resource, Some(p)) => Some(principals(p)?),
    };
    let actions = pair(s, "Action", "NotAction", true)?.unwrap_or(Matchers {
        patterns: Vec::new(),
        negated: false,
    });
    let resources = pair(s, "Resource", "NotResource", true)?.unwrap_or(Matchers {
        patterns: Vec::new(),
        negated: false,
    });
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(c) => conditions(c)?,
    };
    Ok(Statement {
        sid,
        effect,
        principal,
        actions,
        resources,
        conditions,
    })
}

fn principals(value: &Value) -> Result<Principals, PolicyError> {
    match value {
        Value::String(s) if s == "*" => Ok(Principals::Anyone),
        Value::Object(map) => {
            let mut aws = Vec::new();
            let mut services = Vec::new();
            for (key, v) in map {
                match key.as_str() {
                    "AWS" => aws = strings(v, "Principal.AWS")?,
                    "Service" => services = strings(v, "Principal.Service")?,
                    other => {
                        return Err(PolicyError::new(format!(
                            "principal type {other:?} is not supported (AWS or Service)"
                        )));
                    }
                }
            }
            if aws.iter().any(|a| a == "*") {
                return Ok(Principals::Anyone);
            }
            for a in &aws {
                let account_id = a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit());
                if !account_id && !a.starts_with("arn:aws:iam::") {
                    return Err(PolicyError::new(format!(
                        "invalid principal {a:?}: use \"*\", a 12-digit account id or an IAM ARN"
                    )));
                }
            }
            if aws.is_empty() && services.is_empty() {
                return Err(PolicyError::new("Principal names no one"));
            }
            Ok(Principals::Listed { aws, services })
        }
        _ => Err(PolicyError::new(
            "Principal must be \"*\" or an object such as {\"AWS\": \"123456789012\"}",
        )),
    }
}

fn conditions(value: &Value) -> Result<Vec<Condition>, PolicyError> {
    let map = value
        .as_object()
        .ok_or_else(|| PolicyError::new("Condition must be an object"))?;
    let mut out = Vec::new();
    for (op_name, block) in map {
        if op_name.starts_with("ForAnyValue:") || op_name.starts_with("ForAllValues:") {
            return Err(PolicyError::new(format!(
                "condition set operator {op_name} is not supported by ferrule"
            )));
        }
        let (base, if_exists) = match op_name.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (op_name.as_str(), false),
        };
        let operator = Operator::parse(base)
            .ok_or_else(|| PolicyError::new(format!("Invalid Condition type : {op_name}")))?;
        let block = block
            .as_object()
            .ok_or_else(|| PolicyError::new(format!("Condition {op_name} must be an object")))?;
        for (key, v) in block {
            let values = match v {
                Value::Bool(b) => vec![b.to_string()],
                Value::Array(items) => items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => Ok(s.clone()),
                        Value::Bool(b) => Ok(b.to_string()),
                        Value::Number(n) => Ok(n.to_string()),
                        _ => Err(PolicyError::new(format!(
                            "condition {op_name} {key} must hold strings"
                        ))),
                    })
                    .collect::<Result<_, _>>()?,
                Value::Number(n) => vec![n.to_string()],
                Value::String(s) => vec![s.clone()],
                _ => {
                    return Err(PolicyError::new(format!(
                        "condition {op_name} {key} must be a string or an array of strings"
                    )));
                }
            };
            if values.is_empty() {
                return Err(PolicyError::new(format!(
                    "condition {op_name} {key} has no value"
                )));
            }
            if matches!(operator, Operator::Bool | Operator::Null)
                && values.iter().any(|v| v != "true" && v != "false")
            {
                return Err(PolicyError::new(format!(
                    "condition {op_name} {key} must be true or false"
                )));
            }
            out.push(Condition {
                operator,
                if_exists,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}
