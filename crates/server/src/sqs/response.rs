//! One response model per SQS operation (botocore `sqs/2012-11-05`'s
//! output shapes); absent optional members are left out, as SQS leaves
//! them out (a receive that finds nothing answers `{}`).

use std::collections::BTreeMap;

use serde::Serialize;

/// The empty output of DeleteQueue, SetQueueAttributes, DeleteMessage,
/// ChangeMessageVisibility, PurgeQueue.
#[derive(Serialize, Debug, Default)]
pub(crate) struct Empty {}

/// CreateQueue, GetQueueUrl.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct QueueUrl {
    pub queue_url: String,
}

/// ListQueues.
#[derive(Serialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListQueues {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queue_urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// GetQueueAttributes.
#[derive(Serialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetQueueAttributes {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// SendMessage.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SendMessage {
    pub message_id: String,
    #[serde(rename = "MD5OfMessageBody")]
    pub md5_of_message_body: String,
    /// FIFO queues only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
}

/// `SendMessageBatchResultEntry`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SentEntry {
    pub id: String,
    pub message_id: String,
    #[serde(rename = "MD5OfMessageBody")]
    pub md5_of_message_body: String,
    /// FIFO queues only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
}

/// `BatchResultErrorEntry`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BatchFailure {
    pub id: String,
    pub sender_fault: bool,
    pub code: String,
    pub message: String,
}

/// SendMessageBatch.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SendMessageBatch {
    pub successful: Vec<SentEntry>,
    pub failed: Vec<BatchFailure>,
}

/// The entry of a batch that succeeded by id alone
/// (`DeleteMessageBatchResultEntry`, `ChangeMessageVisibilityBatchResultEntry`).
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BatchId {
    pub id: String,
}

/// DeleteMessageBatch, ChangeMessageVisibilityBatch.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Batch {
    pub successful: Vec<BatchId>,
    pub failed: Vec<BatchFailure>,
}

/// ReceiveMessage.
#[derive(Serialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReceiveMessage {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
}

/// A received `Message`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Message {
    pub message_id: String,
    pub receipt_handle: String,
    #[serde(rename = "MD5OfBody")]
    pub md5_of_body: String,
    pub body: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub message_attributes: BTreeMap<String, MessageAttributeValue>,
    #[serde(
        rename = "MD5OfMessageAttributes",
        skip_serializing_if = "Option::is_none"
    )]
    pub md5_of_message_attributes: Option<String>,
}

/// `MessageAttributeValue` (string-valued: all ferrule's queues hold).
#[derive(Serialize, Debug, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MessageAttributeValue {
    pub data_type: String,
    pub string_value: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, to_value};

    #[test]
    fn members_have_the_services_names_and_absent_ones_are_left_out() {
        assert_eq!(
            to_value(SendMessage {
                message_id: "m".into(),
                md5_of_message_body: "d".into(),
                sequence_number: None,
            })
            .unwrap(),
            json!({"MessageId": "m", "MD5OfMessageBody": "d"})
        );
        let message = Message {
            message_id: "m".into(),
            receipt_handle: "h".into(),
            md5_of_body: "b".into(),
            body: "{}".into(),
            attributes: BTreeMap::new(),
            message_attributes: BTreeMap::from([(
                "A".to_string(),
                MessageAttributeValue {
                    data_type: "String".into(),
                    string_value: "v".into(),
                },
            )]),
            md5_of_message_attributes: Some("a".into()),
        };
        assert_eq!(
            to_value(&message).unwrap(),
            json!({"MessageId": "m", "ReceiptHandle": "h", "MD5OfBody": "b", "Body": "{}",
                   "MessageAttributes": {"A": {"DataType": "String", "StringValue": "v"}},
                   "MD5OfMessageAttributes": "a"})
        );
        // Nothing received, no queues, no attributes: `{}`, as SQS answers.
        for empty in [
            to_value(ReceiveMessage::default()).unwrap(),
            to_value(ListQueues::default()).unwrap(),
            to_value(GetQueueAttributes::default()).unwrap(),
            to_value(Empty {}).unwrap(),
        ] {
            assert_eq!(empty, json!({}));
        }
        assert_eq!(
            to_value(Batch {
                successful: vec![BatchId { id: "1".into() }],
                failed: vec![BatchFailure {
                    id: "2".into(),
                    sender_fault: true,
                    code: "ReceiptHandleIsInvalid".into(),
                    message: "m".into()
                }]
            })
            .unwrap(),
            json!({"Successful": [{"Id": "1"}], "Failed": [{"Id": "2", "SenderFault": true,
                   "Code": "ReceiptHandleIsInvalid", "Message": "m"}]})
        );
    }
}
