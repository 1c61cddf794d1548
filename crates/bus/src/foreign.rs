//! Resources of other accounts and Regions.
//!
//! A [`Bus`](crate::Bus) is one (account, Region): its ARNs, its events'
//! `account` and `region`, its buses, rules and queues. An ARN that names
//! another (account, Region) is never resolved against this bus's own
//! resources of the same name — that would deliver a rule's events to the
//! wrong account's queue. It goes to the [`ForeignBuses`] the embedder set
//! ([`Bus::set_foreign_buses`](crate::Bus::set_foreign_buses)), which knows
//! the other buses (the server has one bus per (account, Region)), or is
//! refused when there is none:
//!
//! - a rule target in another (account, Region) must be an event bus, as
//!   the service allows cross-account and cross-Region delivery for event
//!   bus targets; queues, state machines and API destinations elsewhere are
//!   refused at PutTargets;
//! - a dead-letter queue elsewhere is refused;
//! - a PutEvents entry whose `EventBusName` is the ARN of another account's
//!   bus is put there (authorized by that bus's policy); one of another
//!   Region fails alone.

use std::sync::Arc;

use ferrule_dispatch::targets::Target;
use ferrule_policy::Principal;

use crate::ingest::{PutEventsEntry, PutEventsResultEntry};

/// The buses of other (account, Region)s, as seen from one bus.
pub trait ForeignBuses: Send + Sync {
    /// Whether `arn`, a target of another (account, Region), can be one
    /// (PutTargets refuses it with `Parameter ARN is not valid. Reason:
    /// {reason}` otherwise).
    fn check_target(&self, arn: &str) -> Result<(), String>;

    /// The target that delivers to `arn`; `None` when it does not exist
    /// (the delivery is then dead-lettered with `NO_RESOURCE`).
    fn resolve_target(&self, arn: &str) -> Option<Arc<dyn Target>>;

    /// PutEvents of `entries`, each naming another account's bus by ARN, on
    /// behalf of `caller` (`as_service`: may use `aws.*` sources): one
    /// result per entry, in order.
    fn put_events(
        &self,
        caller: &Principal,
        as_service: bool,
        entries: Vec<PutEventsEntry>,
    ) -> Vec<PutEventsResultEntry>;
}

/// The (Region, account) an ARN names, when it names both
/// (`arn:aws:SERVICE:REGION:ACCOUNT:...`); service integrations such as
/// `arn:aws:states:::events:putEvents` name neither.
pub fn arn_scope(arn: &str) -> Option<(&str, &str)> {
    let a = ferrule_core::arn::Arn::parse(arn)?;
    (!a.region().is_empty() && !a.account().is_empty()).then_some((a.region(), a.account()))
}

/// Whether `arn` names an (account, Region) other than `(region, account)`.
pub(crate) fn is_foreign(arn: &str, region: &str, account: &str) -> bool {
    arn_scope(arn).is_some_and(|(r, a)| r != region || a != account)
}

/// A refused foreign target: why, in PutTargets' words.
pub(crate) fn target_refusal(arn: &str) -> String {
    format!(
        "Parameter {arn} is not valid. Reason: a target in another account or Region must be \
         an event bus (arn:aws:events:REGION:ACCOUNT:event-bus/NAME); ferrule delivers to \
         queues, state machines and API destinations of the rule's own account and Region."
    )
}

/// The result of an entry put nowhere: no other account's bus is known.
pub(crate) fn unroutable(arn: &str) -> PutEventsResultEntry {
    PutEventsResultEntry {
        event_id: None,
        error_code: Some("AccessDeniedException".to_string()),
        error_message: Some(format!(
            "Not authorized to put events to {arn}: no resource-based policy allows the \
             events:PutEvents action"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_of_arns() {
        assert_eq!(
            arn_scope("arn:aws:sqs:eu-central-1:111111111111:q"),
            Some(("eu-central-1", "111111111111"))
        );
        assert_eq!(arn_scope("arn:aws:states:::events:putEvents"), None);
        assert_eq!(arn_scope("http://127.0.0.1/x"), None);
        let own = ("us-east-1", "000000000000");
        assert!(!is_foreign(
            "arn:aws:events:us-east-1:000000000000:event-bus/b",
            own.0,
            own.1
        ));
        assert!(is_foreign(
            "arn:aws:events:eu-central-1:000000000000:event-bus/b",
            own.0,
            own.1
        ));
        assert!(is_foreign(
            "arn:aws:sqs:us-east-1:111111111111:q",
            own.0,
            own.1
        ));
        assert!(!is_foreign(
            "arn:aws:scheduler:::aws-sdk:sqs:sendMessage",
            own.0,
            own.1
        ));
    }
}
