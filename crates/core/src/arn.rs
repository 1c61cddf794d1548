//! The ARNs ferrule routes to: names read out of SQS queue and event bus ARNs.

/// The queue name in an SQS queue ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
pub fn queue_name(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:sqs:")?;
    let mut parts = rest.splitn(3, ':');
    let (_region, _account, name) = (parts.next()?, parts.next()?, parts.next()?);
    (!name.is_empty() && !name.contains(':')).then_some(name)
}

/// The bus name in an event bus ARN (`arn:aws:events:REGION:ACCOUNT:event-bus/NAME`).
pub fn bus_name(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:events:")?;
    let mut parts = rest.splitn(3, ':');
    let (_region, _account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    resource
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
    }
}
