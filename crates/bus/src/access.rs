//! Who may do what on a bus: the bus's resource policy (CreateEventBus
//! `Policy`, PutPermission, RemovePermission), persisted with the bus, and
//! evaluated with the caller's identity *before* anything happens — a denied
//! PutEvents entry is never matched, stored or delivered.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Bus, BusError, BusErrorKind, Inner, bus_of, no_bus};
use ferrule_policy::{AccessRequest, Decision, Policy, PolicyKind, Principal, authorize};

/// Finds the principal of an access key (the server's credential table);
/// used when a forwarded event is put again on the caller's behalf.
pub type PrincipalResolver = dyn Fn(&str) -> Option<Principal> + Send + Sync;

/// PutPermission's parameters: either `policy` (a whole document, which
/// replaces the bus's policy) or `action`, `principal` and `statement_id`
/// (one statement, added or replacing the statement with that id), with an
/// optional `condition`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PutPermissionInput {
    /// The bus (name or ARN); `None` is `default`.
    pub event_bus_name: Option<String>,
    /// Must be `events:PutEvents`.
    pub action: Option<String>,
    /// A 12-digit account id, or `*`.
    pub principal: Option<String>,
    /// The statement's id (1-64 of `[a-zA-Z0-9-_]`).
    pub statement_id: Option<String>,
    /// Limits a `*` grant, e.g. to an organization.
    pub condition: Option<PermissionCondition>,
    /// A whole policy document (JSON text).
    pub policy: Option<String>,
}

impl PutPermissionInput {
    /// One statement granting `principal` PutEvents on `bus`.
    pub fn grant(bus: Option<&str>, principal: &str, statement_id: &str) -> PutPermissionInput {
        PutPermissionInput {
            event_bus_name: bus.map(str::to_string),
            action: Some("events:PutEvents".into()),
            principal: Some(principal.into()),
            statement_id: Some(statement_id.into()),
            ..Default::default()
        }
    }

    /// A whole policy document for `bus`.
    pub fn document(bus: Option<&str>, policy: &str) -> PutPermissionInput {
        PutPermissionInput {
            event_bus_name: bus.map(str::to_string),
            policy: Some(policy.into()),
            ..Default::default()
        }
    }

    /// Adds a condition to a one-statement grant.
    pub fn with_condition(mut self, condition: PermissionCondition) -> PutPermissionInput {
        self.condition = Some(condition);
        self
    }
}

/// PutPermission's `Condition`: `{"Type": "StringEquals", "Key":
/// "aws:PrincipalOrgID", "Value": "o-..."}` is the one the service accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionCondition {
    /// `StringEquals`.
    pub kind: String,
    /// `aws:PrincipalOrgID`.
    pub key: String,
    /// The organization id.
    pub value: String,
}

fn validation(message: impl Into<String>) -> BusError {
    BusError::validation(message)
}

/// Parses a resource policy as the service validates it.
pub(crate) fn parse_bus_policy(text: &str) -> Result<Policy, BusError> {
    Policy::parse(text, PolicyKind::Resource)
        .map_err(|e| validation(format!("Policy is not valid. Reason: {e}")))
}

fn statement_id_ok(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Bus {
    /// CreateEventBus with a resource policy (validated first: a malformed
    /// policy is a `ValidationException` and no bus is created).
    pub fn create_event_bus_with_policy(
        &self,
        name: &str,
        description: Option<&str>,
        policy: Option<&str>,
    ) -> Result<String, BusError> {
        let parsed = policy.map(parse_bus_policy).transpose()?;
        self.create_bus(name, description, parsed)
    }

    /// The bus's resource policy, as JSON text.
    pub fn bus_policy(&self, bus: Option<&str>) -> Result<Option<String>, BusError> {
        let name = bus_of(bus);
        let state = self.inner.read_state()?;
        let b = state.bus(&name)?;
        Ok(b.policy.as_ref().map(|p| p.text().to_string()))
    }

    /// Replaces a bus's whole resource policy (`None` removes it).
    pub fn set_bus_policy(&self, bus: Option<&str>, policy: Option<&str>) -> Result<(), BusError> {
        let parsed = policy.map(parse_bus_policy).transpose()?;
        self.inner.store_policy(&bus_of(bus), parsed)
    }

    /// PutPermission.
    pub fn put_permission(&self, input: PutPermissionInput) -> Result<(), BusError> {
        let bus = bus_of(input.event_bus_name.as_deref());
        let one =
            input.action.is_some() || input.principal.is_some() || input.statement_id.is_some();
        if let Some(text) = &input.policy {
            if one || input.condition.is_some() {
                return Err(validation(
                    "Parameter Policy cannot be combined with Action, Principal, StatementId or Condition.",
                ));
            }
            let parsed = parse_bus_policy(text)?;
            return self.inner.store_policy(&bus, Some(parsed));
        }
        let (Some(action), Some(principal), Some(sid)) =
            (&input.action, &input.principal, &input.statement_id)
        else {
            return Err(validation(
                "Either Policy, or Action, Principal and StatementId must be specified.",
            ));
        };
        if action != "events:PutEvents" {
            return Err(validation(format!(
                "Provided value in parameter 'action' is not supported: {action}. The only supported action is events:PutEvents."
            )));
        }
        let account_id = principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit());
        if principal != "*" && !account_id {
            return Err(BusError::constraint(
                principal,
                "principal",
                "Member must satisfy regular expression pattern: (\\d{12}|\\*)",
            ));
        }
        if !statement_id_ok(sid) {
            return Err(BusError::constraint(
                sid,
                "statementId",
                "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and have length between 1 and 64",
            ));
        }
        let mut statement = json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": if principal == "*" { json!("*") } else { json!({"AWS": format!("arn:aws:iam::{principal}:root")}) },
            "Action": "events:PutEvents",
            "Resource": self.inner.bus_arn(&bus),
        });
        if let Some(c) = &input.condition {
            if c.kind != "StringEquals" {
                return Err(validation(format!(
                    "Provided value in parameter 'condition.type' is not supported: {}. The only supported type is StringEquals.",
                    c.kind
                )));
            }
            if c.key != "aws:PrincipalOrgID" {
                return Err(validation(format!(
                    "Provided value in parameter 'condition.key' is not supported: {}. The only supported key is aws:PrincipalOrgID.",
                    c.key
                )));
            }
            if c.value.is_empty() {
                return Err(validation("Parameter condition.value must not be empty."));
            }
            statement["Condition"] = json!({ "StringEquals": { "aws:PrincipalOrgID": c.value } });
        }
        let mut state = self.inner.write_state()?;
        let b = state.bus_mut(&bus)?;
        let mut statements = b
            .policy
            .as_ref()
            .map(|p| p.statement_values())
            .unwrap_or_default();
        statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(sid.as_str()));
        statements.push(statement);
        let doc = json!({ "Version": "2012-10-17", "Statement": statements });
        let parsed = parse_bus_policy(&doc.to_string())?;
        drop(state);
        self.inner.store_policy(&bus, Some(parsed))
    }

    /// RemovePermission: one statement by id, or all of them.
    pub fn remove_permission(
        &self,
        bus: Option<&str>,
        statement_id: Option<&str>,
        remove_all: bool,
    ) -> Result<(), BusError> {
        let bus = bus_of(bus);
        let current = {
            let state = self.inner.read_state()?;
            state.bus(&bus)?.policy.clone()
        };
        if remove_all {
            if statement_id.is_some() {
                return Err(validation(
                    "Parameters StatementId and RemoveAllPermissions cannot be combined.",
                ));
            }
            return self.inner.store_policy(&bus, None);
        }
        let Some(sid) = statement_id else {
            return Err(validation(
                "Either StatementId or RemoveAllPermissions must be specified.",
            ));
        };
        let not_found = || {
            BusError::new(
                BusErrorKind::ResourceNotFound,
                "Statement with the provided id does not exist.",
            )
        };
        let Some(policy) = current else {
            return Err(BusError::new(
                BusErrorKind::ResourceNotFound,
                "EventBus does not have a policy.",
            ));
        };
        let mut statements = policy.statement_values();
        let before = statements.len();
        statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(sid));
        if statements.len() == before {
            return Err(not_found());
        }
        if statements.is_empty() {
            return self.inner.store_policy(&bus, None);
        }
        let doc = json!({ "Version": "2012-10-17", "Statement": statements });
        let parsed = parse_bus_policy(&doc.to_string())?;
        self.inner.store_policy(&bus, Some(parsed))
    }

    /// Decides whether `caller` may perform `action` on `resource`, a bus or
    /// a rule of bus `bus` (whose resource policy applies).
    pub fn authorize(
        &self,
        caller: &Principal,
        action: &str,
        resource: &str,
        bus: &str,
        context: &[(&str, &str)],
    ) -> Result<Decision, BusError> {
        self.inner.authorize(caller, action, resource, bus, context)
    }

    /// Sets how the access key recorded with a forwarded event is turned
    /// back into a principal when the event is put on the next bus.
    pub fn set_principal_resolver(&self, resolver: Arc<PrincipalResolver>) {
        if let Ok(mut r) = self.inner.principals.write() {
            *r = Some(resolver);
        }
    }
}

impl Inner {
    pub(crate) fn store_policy(&self, bus: &str, policy: Option<Policy>) -> Result<(), BusError> {
        let mut state = self.write_state()?;
        let b = state.buses.get_mut(bus).ok_or_else(|| no_bus(bus))?;
        let mut record = b.record.clone();
        record.policy = policy.as_ref().map(|p| p.text().to_string());
        self.save(&format!("{}{bus}", super::BUS_KEY), Some(&record))?;
        b.record = record;
        b.policy = policy.map(Arc::new);
        Ok(())
    }

    pub(crate) fn authorize(
        &self,
        caller: &Principal,
        action: &str,
        resource: &str,
        bus: &str,
        context: &[(&str, &str)],
    ) -> Result<Decision, BusError> {
        let policy = {
            let state = self.read_state()?;
            state.buses.get(bus).and_then(|b| b.policy.clone())
        };
        Ok(authorize(
            &AccessRequest {
                principal: caller,
                action,
                resource,
                resource_account: &self.account,
                context,
            },
            policy.as_deref(),
        ))
    }

    /// The principal for a recorded access key (or the account itself).
    pub(crate) fn principal_of(&self, access_key: Option<&str>) -> Option<Principal> {
        match access_key {
            None => Some(Principal::account_root(&self.account)),
            Some(key) => {
                let resolver = self.principals.read().ok()?.clone()?;
                resolver(key)
            }
        }
    }
}

/// The service's message for a denied action.
pub fn denied_message(
    caller: &Principal,
    action: &str,
    resource: &str,
    decision: Decision,
) -> String {
    let why = match decision {
        Decision::ExplicitDeny => "with an explicit deny in a policy",
        _ => "because no policy allows the action",
    };
    format!(
        "User: {} is not authorized to perform: {action} on resource: {resource} {why}",
        caller.arn()
    )
}
