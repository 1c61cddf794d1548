//! Access policies: the subset of the IAM policy language
//! that ferrule evaluates, as AWS evaluates it.
//!
//! ```
//! use ferrule_policy::{authorize, AccessRequest, Decision, Policy, PolicyKind, Principal};
//!
//! let bus = "arn:aws:events:us-east-1:111111111111:event-bus/orders";
//! let policy = Policy::parse(&format!(r#"{{"Version": "2012-10-17", "Statement": [{{
//!     "Sid": "partner", "Effect": "Allow", "Principal": {{"AWS": "222222222222"}},
//!     "Action": "events:PutEvents", "Resource": "{bus}"}}]}}"#), PolicyKind::Resource)?;
//! let partner = Principal::account_root("222222222222");
//! let stranger = Principal::account_root("333333333333");
//! let ask = |p| AccessRequest { principal: p, action: "events:PutEvents", resource: bus,
//!                               resource_account: "111111111111", context: &[] };
//! assert_eq!(authorize(&ask(&partner), Some(&policy)), Decision::Allow);
//! assert_eq!(authorize(&ask(&stranger), Some(&policy)), Decision::ImplicitDeny);
//! # Ok::<(), ferrule_policy::PolicyError>(())
//! ```
//!
//! What is evaluated: `Effect`, `Principal` (`*`, account ids, account root
//! and user ARNs; `Service` principals never match a caller), `Action` and
//! `NotAction`, `Resource` and `NotResource` with `*` and `?` wildcards, and
//! `Condition` with the string, ARN, `Bool` and `Null` operators (and their
//! `IfExists` forms) over the keys `aws:PrincipalAccount`,
//! `aws:PrincipalArn`, `aws:PrincipalOrgID`, `aws:PrincipalType`,
//! `aws:username`, `aws:userid` (the access key id), `aws:SecureTransport`,
//! and the request's own keys (`events:source`, `events:detail-type`).
//! Anything else in a document (`NotPrincipal`, set operators, numeric or
//! date operators, unknown elements) is refused with a [`PolicyError`]
//! rather than ignored.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

mod document;
mod eval;
mod glob;
mod principal;

use std::fmt;

pub use document::{Effect, MAX_POLICY_BYTES, Policy, PolicyKind};
pub use eval::{AccessRequest, Decision, authorize};
pub use principal::Principal;

/// Why a policy document was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    reason: String,
    statement: Option<usize>,
}

impl PolicyError {
    pub(crate) fn new(reason: impl Into<String>) -> PolicyError {
        PolicyError {
            reason: reason.into(),
            statement: None,
        }
    }

    fn at(mut self, statement: usize) -> PolicyError {
        self.statement.get_or_insert(statement);
        self
    }

    /// What is wrong.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The index of the statement at fault, if one is.
    pub fn statement(&self) -> Option<usize> {
        self.statement
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.statement {
            Some(i) => write!(f, "Statement[{i}]: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for PolicyError {}

#[cfg(test)]
mod tests;
