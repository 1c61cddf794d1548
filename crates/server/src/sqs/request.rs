//! One request model per SQS operation (botocore `sqs/2012-11-05`).
//!
//! SQS's JSON protocol is query-compatible: a scalar where a string is
//! expected is read as its text (`400` and `"400"` are the same
//! `DelaySeconds`), and the values are then checked as SQS checks its query
//! parameters (`InvalidParameterValue`, `MissingParameter`, …). A list or a
//! structure where a scalar is expected, or a scalar where a list or a map
//! is expected, is a `SerializationException`.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::events::wire::{List, Map, Obj};

/// SQS's error type for a member of the wrong JSON type.
pub(crate) const SERIALIZATION: &str = "com.amazon.coral.service#SerializationException";

/// A string member: a JSON string, or the text of a number or boolean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Text(s)),
            Value::Number(n) => Ok(Text(n.to_string())),
            Value::Bool(b) => Ok(Text(b.to_string())),
            Value::Array(_) => Err(D::Error::custom(
                "Unrecognized collection type class java.lang.String",
            )),
            _ => Err(D::Error::custom(
                "Start of structure or map found where not expected.",
            )),
        }
    }
}

/// A string list (`AttributeNames`, …).
pub(crate) type Texts = List<Text>;
/// A string map (`Attributes`, `tags`).
pub(crate) type TextMap = Map<Text>;

/// CreateQueue.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateQueue {
    pub queue_name: Option<Text>,
    pub attributes: Option<TextMap>,
    /// Type-checked; ferrule keeps no tags.
    #[serde(rename = "tags")]
    #[expect(dead_code, reason = "type-checked only: ferrule keeps no queue tags")]
    pub tags: Option<TextMap>,
}

/// GetQueueUrl.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetQueueUrl {
    pub queue_name: Option<Text>,
    /// Every queue is the server's account's.
    #[serde(rename = "QueueOwnerAWSAccountId")]
    #[expect(dead_code, reason = "type-checked only: one account")]
    pub queue_owner_aws_account_id: Option<Text>,
}

/// ListQueues.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListQueues {
    pub queue_name_prefix: Option<Text>,
    pub next_token: Option<Text>,
    pub max_results: Option<Text>,
}

/// DeleteQueue, PurgeQueue.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct QueueRef {
    pub queue_url: Option<Text>,
}

/// GetQueueAttributes.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetQueueAttributes {
    pub queue_url: Option<Text>,
    pub attribute_names: Option<Texts>,
}

/// SetQueueAttributes.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SetQueueAttributes {
    pub queue_url: Option<Text>,
    pub attributes: Option<TextMap>,
}

/// `MessageAttributeValue` / `MessageSystemAttributeValue`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
#[expect(
    dead_code,
    reason = "type-checked only: such attributes are refused or ignored"
)]
pub(crate) struct AttributeValue {
    pub string_value: Option<Text>,
    pub binary_value: Option<Text>,
    pub string_list_values: Option<Texts>,
    pub binary_list_values: Option<Texts>,
    pub data_type: Option<Text>,
}

/// SendMessage, and an entry of SendMessageBatch.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Message {
    /// SendMessage only.
    pub queue_url: Option<Text>,
    /// Batch entries only.
    pub id: Option<Text>,
    pub message_body: Option<Text>,
    pub delay_seconds: Option<Text>,
    pub message_attributes: Option<Map<Obj<AttributeValue>>>,
    /// `AWSTraceHeader` (X-Ray), accepted and not kept.
    #[expect(
        dead_code,
        reason = "type-checked only: X-Ray trace headers are not kept"
    )]
    pub message_system_attributes: Option<Map<Obj<AttributeValue>>>,
    pub message_deduplication_id: Option<Text>,
    pub message_group_id: Option<Text>,
}

/// SendMessageBatch.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SendMessageBatch {
    pub queue_url: Option<Text>,
    pub entries: Option<List<Obj<Message>>>,
}

/// ReceiveMessage.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReceiveMessage {
    pub queue_url: Option<Text>,
    pub attribute_names: Option<Texts>,
    pub message_system_attribute_names: Option<Texts>,
    pub message_attribute_names: Option<Texts>,
    pub max_number_of_messages: Option<Text>,
    pub visibility_timeout: Option<Text>,
    pub wait_time_seconds: Option<Text>,
    /// FIFO queues only.
    pub receive_request_attempt_id: Option<Text>,
}

/// DeleteMessage, ChangeMessageVisibility, and their batches' entries.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Handle {
    pub queue_url: Option<Text>,
    pub id: Option<Text>,
    pub receipt_handle: Option<Text>,
    pub visibility_timeout: Option<Text>,
}

/// DeleteMessageBatch, ChangeMessageVisibilityBatch.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HandleBatch {
    pub queue_url: Option<Text>,
    pub entries: Option<List<Obj<Handle>>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::wire::read;
    use serde_json::json;

    #[test]
    fn scalars_are_read_as_text_and_collections_refused() {
        let r: Message = read(
            &json!({"QueueUrl": "q", "MessageBody": 5, "DelaySeconds": "10"}),
            SERIALIZATION,
        )
        .unwrap();
        assert_eq!(r.message_body, Some(Text("5".into())));
        assert_eq!(r.delay_seconds, Some(Text("10".into())));
        for (body, message) in [
            (
                json!({"QueueUrl": ["q"]}),
                "Unrecognized collection type class java.lang.String",
            ),
            (
                json!({"QueueUrl": {}}),
                "Start of structure or map found where not expected.",
            ),
            (json!({"MessageAttributes": "x"}), "Expected map or null"),
        ] {
            let e = read::<Message>(&body, SERIALIZATION).unwrap_err();
            assert_eq!(e.message, message, "{body}");
            assert_eq!(e.type_name, SERIALIZATION);
        }
        let e = read::<GetQueueAttributes>(&json!({"AttributeNames": "All"}), SERIALIZATION)
            .unwrap_err();
        assert_eq!(e.message, "Expected list or null");
        let e = read::<CreateQueue>(
            &json!({"QueueName": "q", "Attributes": {"DelaySeconds": {}}}),
            SERIALIZATION,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Start of structure or map found where not expected."
        );
    }
}
