//! ARNs: [`Arn`], parsed into its parts, and the names read out of the
//! SQS queue and event bus ARNs that ferrule routes to.

use std::fmt;

/// An Amazon Resource Name, `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`,
/// borrowed from its text.
///
/// ```
/// use ferrule_core::arn::Arn;
///
/// let arn = Arn::parse("arn:aws:events:eu-west-1:123456789012:rule/orders/big").unwrap();
/// assert_eq!((arn.service(), arn.region(), arn.account()), ("events", "eu-west-1", "123456789012"));
/// assert_eq!(arn.resource(), "rule/orders/big");
/// assert_eq!(arn.to_string(), "arn:aws:events:eu-west-1:123456789012:rule/orders/big");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Arn<'a> {
    partition: &'a str,
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `text` into its six parts; `None` unless it starts with `arn:`
    /// and has a non-empty partition, service and resource (region and
    /// account may be empty, as in `arn:aws:states:::events:putEvents`).
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let rest = text.strip_prefix("arn:")?;
        let mut parts = rest.splitn(5, ':');
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        (!arn.partition.is_empty() && !arn.service.is_empty() && !arn.resource.is_empty())
            .then_some(arn)
    }

    /// The partition (`aws`).
    pub fn partition(&self) -> &'a str {
        self.partition
    }

    /// The service (`events`, `sqs`, `states`, ...).
    pub fn service(&self) -> &'a str {
        self.service
    }

    /// The region; empty for global resources.
    pub fn region(&self) -> &'a str {
        self.region
    }

    /// The account id; empty for some resources.
    pub fn account(&self) -> &'a str {
        self.account
    }

    /// Everything after the account: `event-bus/NAME`, a queue name, ...
    pub fn resource(&self) -> &'a str {
        self.resource
    }
}

impl fmt::Display for Arn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// The queue name in an SQS queue ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
pub fn queue_name(arn: &str) -> Option<&str> {
    let arn = Arn::parse(arn).filter(|a| a.partition == "aws" && a.service == "sqs")?;
    (!arn.resource.contains(':')).then_some(arn.resource)
}

/// The bus name in an event bus ARN (`arn:aws:events:REGION:ACCOUNT:event-bus/NAME`).
pub fn bus_name(arn: &str) -> Option<&str> {
    let arn = Arn::parse(arn).filter(|a| a.partition == "aws" && a.service == "events")?;
    arn.resource
        .strip_prefix("event-bus/")
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arns() {
        assert_eq!(
            queue_name("arn:aws:sqs:us-east-1:000000000000:dlq"),
            Some("dlq")
        );
        assert_eq!(queue_name("arn:aws:sqs:us-east-1:000000000000:"), None);
        assert_eq!(queue_name("arn:aws:sns:us-east-1:000000000000:x"), None);
        assert_eq!(
            bus_name("arn:aws:events:eu-west-1:123456789012:event-bus/orders"),
            Some("orders")
        );
        assert_eq!(
            bus_name("arn:aws:events:eu-west-1:123456789012:rule/x"),
            None
        );
        assert_eq!(bus_name("arn:aws:events:eu-west-1:1:event-bus/"), None);
    }

    #[test]
    fn arns_split_into_six_parts() {
        let arn = Arn::parse("arn:aws:states:::events:putEvents.waitForTaskToken").unwrap();
        assert_eq!(
            (arn.service(), arn.region(), arn.account()),
            ("states", "", "")
        );
        assert_eq!(arn.resource(), "events:putEvents.waitForTaskToken");
        assert_eq!(
            arn.to_string(),
            "arn:aws:states:::events:putEvents.waitForTaskToken"
        );
        for bad in [
            "",
            "arn:",
            "arn:aws",
            "arn:aws:sqs:r:a",
            "arn::sqs:r:a:q",
            "arn:aws::r:a:q",
            "arn:aws:sqs:r:a:",
            "urn:aws:sqs:r:a:q",
        ] {
            assert_eq!(Arn::parse(bad), None, "{bad}");
        }
    }
}
