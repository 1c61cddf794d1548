//! EventBridge's archive and replay operations: CreateArchive,
//! DescribeArchive, UpdateArchive, DeleteArchive, ListArchives,
//! StartReplay, DescribeReplay, CancelReplay, ListReplays. Requests are
//! checked against botocore's model (`events` 2015-10-07) as the other
//! operations are; the work is the bus's ([`ferrule_bus::Bus`]'s archive
//! methods).

use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::request::Time;
use super::wire::{self, Int, List, Obj, Str, Text, Violations};
use super::{SERIALIZATION, owned, paginate, present, text};
use crate::states::seconds;
use crate::{ApiError, AppState, Protocol};
use ferrule_bus::{
    ArchiveInfo, CreateArchiveInput, ListReplaysFilter, ReplayInfo, ReplayState, StartReplayInput,
    UpdateArchiveInput,
};

/// The operations of this module.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateArchive",
    "DescribeArchive",
    "UpdateArchive",
    "DeleteArchive",
    "ListArchives",
    "StartReplay",
    "DescribeReplay",
    "CancelReplay",
    "ListReplays",
];

/// `ArchiveName`.
const ARCHIVE_NAME: Text = Text::pattern(1, 48, r"[\.\-_A-Za-z0-9]+");
/// `ReplayName`.
const REPLAY_NAME: Text = Text::pattern(1, 64, r"[\.\-_A-Za-z0-9]+");
/// `EventBusArn`, `ArchiveArn`.
const EVENTS_ARN: Text = Text::pattern(
    1,
    1600,
    r"^arn:aws([a-z]|\-)*:events:([a-z]|\d|\-)*:([0-9]{12})?:.+\/.+$",
);
/// `ArchiveDescription`, `ReplayDescription`.
const DESCRIPTION: Text = Text::max(512);
/// `KmsKeyIdentifier`.
const KMS_KEY: Text = Text {
    min: None,
    max: Some(2048),
    pattern: Some(r"^[a-zA-Z0-9_\-/:]*$"),
};
const ARCHIVE_STATES: &[&str] = &[
    "ENABLED",
    "DISABLED",
    "CREATING",
    "UPDATING",
    "CREATE_FAILED",
    "UPDATE_FAILED",
];
const REPLAY_STATES: &[&str] = &[
    "STARTING",
    "RUNNING",
    "CANCELLING",
    "COMPLETED",
    "CANCELLED",
    "FAILED",
];

fn limit(v: &mut Violations, limit: Option<Int>) {
    v.range(limit, "limit", Some(1), Some(100));
}

// ---- requests ----

/// CreateArchive.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateArchive {
    archive_name: Option<Str>,
    event_source_arn: Option<Str>,
    description: Option<Str>,
    event_pattern: Option<Str>,
    retention_days: Option<Int>,
    kms_key_identifier: Option<Str>,
}

/// DescribeArchive, DeleteArchive.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ArchiveRef {
    archive_name: Option<Str>,
}

/// UpdateArchive.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateArchive {
    archive_name: Option<Str>,
    description: Option<Str>,
    event_pattern: Option<Str>,
    retention_days: Option<Int>,
    kms_key_identifier: Option<Str>,
}

/// ListArchives.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListArchives {
    name_prefix: Option<Str>,
    event_source_arn: Option<Str>,
    state: Option<Str>,
    next_token: Option<Str>,
    limit: Option<Int>,
}

/// `ReplayDestination`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Destination {
    arn: Option<Str>,
    filter_arns: Option<List<Str>>,
}

/// StartReplay.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StartReplay {
    replay_name: Option<Str>,
    description: Option<Str>,
    event_source_arn: Option<Str>,
    event_start_time: Option<Time>,
    event_end_time: Option<Time>,
    destination: Option<Obj<Destination>>,
}

/// DescribeReplay, CancelReplay.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReplayRef {
    replay_name: Option<Str>,
}

/// ListReplays.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListReplays {
    name_prefix: Option<Str>,
    state: Option<Str>,
    event_source_arn: Option<Str>,
    next_token: Option<Str>,
    limit: Option<Int>,
}

impl CreateArchive {
    fn check(&self) -> Result<(), ApiError> {
        let mut v = Violations::default();
        v.required_text(self.archive_name.as_ref(), "archiveName", ARCHIVE_NAME);
        v.required_text(self.event_source_arn.as_ref(), "eventSourceArn", EVENTS_ARN);
        v.text(self.description.as_ref(), "description", DESCRIPTION);
        v.range(self.retention_days, "retentionDays", Some(0), None);
        v.text(
            self.kms_key_identifier.as_ref(),
            "kmsKeyIdentifier",
            KMS_KEY,
        );
        v.finish()
    }
}

impl ArchiveRef {
    fn check(&self) -> Result<(), ApiError> {
        let mut v = Violations::default();
        v.required_text(self.archive_name.as_ref(), "archiveName", ARCHIVE_NAME);
        v.finish()
    }
}

impl UpdateArchive {
    fn check(&self) -> Result<(), ApiError> {
        let mut v = Violations::default();
        v.required_text(self.archive_name.as_ref(), "archiveName", ARCHIVE_NAME);
        v.text(self.description.as_ref(), "description", DESCRIPTION);
        v.range(self.retention_days, "retentionDays", Some(0), None);
        v.text(
            self.kms_key_identifier.as_ref(),
            "kmsKeyIdentifier",
            KMS_KEY,
        );
        v.finish()
    }
}

impl ListArchives {
    fn check(&self) -> Result<(), ApiError> {
        let mut v = Violations::default();
        v.text(self.name_prefix.as_ref(), "namePrefix", ARCHIVE_NAME);
        v.text(self.event_source_arn.as_ref(), "eventSourceArn", EVENTS_ARN);
        v.one_of(self.state.as_ref(), "state", ARCHIVE_STATES);
        v.text(self.next_token.as_ref(), "nextToken", Text::len(1, 2048));
        limit(&mut v, self.limit);
        v.finish()
    }
}

impl StartReplay {
    fn check(&self) -> Result<(), ApiError> {
        let mut v = Violations::default();
        v.required_text(self.replay_name.as_ref(), "replayName", REPLAY_NAME);
        v.text(self.description.as_ref(), "description", DESCRIPTION);
        v.required_text(self.event_source_arn.as_ref(), "eventSourceArn", EVENTS_ARN);
        v.required(self.event_start_time.as_ref(), "eventStartTime");
        v.required(self.event_end_time.as_ref(), "eventEndTime");
        v.required(self.destination.as_ref(), "destination");
        if let Some(Obj(d)) = &self.destination {
            v.required_text(d.arn.as_ref(), "destination.arn", Text::len(1, 1600));
            for (i, a) in d
                .filter_arns
                .as_ref()
                .map(|l| l.0.as_slice())
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                v.text(
                    Some(a),
                    &format!("destination.filterArns.{}.member", i + 1),
                    Text::len(1, 1600),
                );
            }
        }
        v.finish()
    }
}

impl ReplayRef {
    fn check(&self) -> Result<(), ApiError> {
        let mut v = Violations::default();
        v.required_text(self.replay_name.as_ref(), "replayName", REPLAY_NAME);
        v.finish()
    }
}

impl ListReplays {
    fn check(&self) -> Result<(), ApiError> {
        let mut v = Violations::default();
        v.text(self.name_prefix.as_ref(), "namePrefix", REPLAY_NAME);
        v.one_of(self.state.as_ref(), "state", REPLAY_STATES);
        v.text(self.event_source_arn.as_ref(), "eventSourceArn", EVENTS_ARN);
        v.text(self.next_token.as_ref(), "nextToken", Text::len(1, 2048));
        limit(&mut v, self.limit);
        v.finish()
    }
}

// ---- responses ----

/// CreateArchive, UpdateArchive.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ArchiveChanged {
    archive_arn: String,
    state: &'static str,
    creation_time: f64,
}

/// DescribeArchive.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct DescribeArchive {
    archive_arn: String,
    archive_name: String,
    event_source_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_pattern: Option<String>,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_identifier: Option<String>,
    retention_days: u32,
    size_bytes: u64,
    event_count: u64,
    creation_time: f64,
}

/// `Archive` (ListArchives).
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct Archive {
    archive_name: String,
    event_source_arn: String,
    state: &'static str,
    retention_days: u32,
    size_bytes: u64,
    event_count: u64,
    creation_time: f64,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ListArchivesOut {
    archives: Vec<Archive>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// StartReplay.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct StartReplayOut {
    replay_arn: String,
    state: &'static str,
    replay_start_time: f64,
}

/// CancelReplay.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct CancelReplayOut {
    replay_arn: String,
    state: &'static str,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct DestinationOut {
    arn: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    filter_arns: Vec<String>,
}

/// DescribeReplay.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct DescribeReplay {
    replay_name: String,
    replay_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
    event_source_arn: String,
    destination: DestinationOut,
    event_start_time: f64,
    event_end_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_last_replayed_time: Option<f64>,
    replay_start_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay_end_time: Option<f64>,
}

/// `Replay` (ListReplays).
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct Replay {
    replay_name: String,
    event_source_arn: String,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
    event_start_time: f64,
    event_end_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_last_replayed_time: Option<f64>,
    replay_start_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay_end_time: Option<f64>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ListReplaysOut {
    replays: Vec<Replay>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn describe_archive_out(a: ArchiveInfo) -> DescribeArchive {
    DescribeArchive {
        archive_arn: a.arn,
        archive_name: a.name,
        event_source_arn: a.event_source_arn,
        description: a.description,
        event_pattern: a.event_pattern,
        state: a.state,
        kms_key_identifier: a.kms_key_identifier,
        retention_days: a.retention_days,
        size_bytes: a.size_bytes,
        event_count: a.event_count,
        creation_time: seconds(a.created_ms),
    }
}

fn replay_out(r: &ReplayInfo) -> Replay {
    Replay {
        replay_name: r.name.clone(),
        event_source_arn: r.event_source_arn.clone(),
        state: r.state.as_str(),
        state_reason: r.state_reason.clone(),
        event_start_time: seconds(r.event_start_ms),
        event_end_time: seconds(r.event_end_ms),
        event_last_replayed_time: r.last_replayed_ms.map(seconds),
        replay_start_time: seconds(r.replay_start_ms),
        replay_end_time: r.replay_end_ms.map(seconds),
    }
}

fn retention(days: Option<Int>) -> Option<u32> {
    // Checked to be at least 0; beyond u32 is more days than time has.
    days.map(|Int(n)| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Reads `body` as `Req`, checks it, runs `operation`, writes its response.
fn run<Req: serde::de::DeserializeOwned, Resp: Serialize>(
    body: &serde_json::Value,
    check: impl FnOnce(&Req) -> Result<(), ApiError>,
    operation: impl FnOnce(Req) -> Result<Resp, ApiError>,
) -> Result<Response, ApiError> {
    let request: Req = wire::read(body, SERIALIZATION)?;
    check(&request)?;
    Protocol::AwsJson11.reply(&operation(request)?)
}

/// Runs archive or replay operation `operation` (one of [`OPERATIONS`]).
pub(crate) fn dispatch(
    state: &AppState,
    operation: &str,
    body: &serde_json::Value,
) -> Result<Response, ApiError> {
    let bus = &state.bus;
    match operation {
        "CreateArchive" => run(body, CreateArchive::check, |r: CreateArchive| {
            let mut input =
                CreateArchiveInput::new(present(&r.archive_name), present(&r.event_source_arn));
            input.description = owned(&r.description);
            input.event_pattern = owned(&r.event_pattern);
            input.retention_days = retention(r.retention_days);
            input.kms_key_identifier = owned(&r.kms_key_identifier);
            let a = bus.create_archive(input)?;
            Ok(ArchiveChanged {
                archive_arn: a.arn,
                state: a.state,
                creation_time: seconds(a.created_ms),
            })
        }),
        "DescribeArchive" => run(body, ArchiveRef::check, |r: ArchiveRef| {
            Ok(describe_archive_out(
                bus.describe_archive(present(&r.archive_name))?,
            ))
        }),
        "UpdateArchive" => run(body, UpdateArchive::check, |r: UpdateArchive| {
            let mut input = UpdateArchiveInput::new(present(&r.archive_name));
            input.description = owned(&r.description);
            input.event_pattern = owned(&r.event_pattern);
            input.retention_days = retention(r.retention_days);
            input.kms_key_identifier = owned(&r.kms_key_identifier);
            let a = bus.update_archive(input)?;
            Ok(ArchiveChanged {
                archive_arn: a.arn,
                state: a.state,
                creation_time: seconds(a.created_ms),
            })
        }),
        "DeleteArchive" => run(body, ArchiveRef::check, |r: ArchiveRef| {
            bus.delete_archive(present(&r.archive_name))?;
            Ok(super::rs::Empty {})
        }),
        "ListArchives" => run(body, ListArchives::check, |r: ListArchives| {
            let archives = bus.list_archives(
                text(&r.name_prefix),
                text(&r.event_source_arn),
                text(&r.state),
            )?;
            let (page, next_token) = paginate(archives, r.limit, text(&r.next_token))?;
            Ok(ListArchivesOut {
                archives: page
                    .into_iter()
                    .map(|a| Archive {
                        archive_name: a.name,
                        event_source_arn: a.event_source_arn,
                        state: a.state,
                        retention_days: a.retention_days,
                        size_bytes: a.size_bytes,
                        event_count: a.event_count,
                        creation_time: seconds(a.created_ms),
                    })
                    .collect(),
                next_token,
            })
        }),
        "StartReplay" => run(body, StartReplay::check, |r: StartReplay| {
            let (dest_arn, filters) = match &r.destination {
                Some(Obj(d)) => (
                    present(&d.arn).to_string(),
                    d.filter_arns
                        .as_ref()
                        .map(|l| l.0.iter().map(|s| s.0.clone()).collect())
                        .unwrap_or_default(),
                ),
                None => (String::new(), Vec::new()),
            };
            let mut input = StartReplayInput::new(
                present(&r.replay_name),
                present(&r.event_source_arn),
                r.event_start_time.map_or(0, |t| t.0),
                r.event_end_time.map_or(0, |t| t.0),
                &dest_arn,
            );
            input.description = owned(&r.description);
            input.filter_arns = filters;
            let replay = bus.start_replay(input)?;
            Ok(StartReplayOut {
                replay_arn: replay.arn,
                state: replay.state.as_str(),
                replay_start_time: seconds(replay.replay_start_ms),
            })
        }),
        "DescribeReplay" => run(body, ReplayRef::check, |r: ReplayRef| {
            let replay = bus.describe_replay(present(&r.replay_name))?;
            Ok(DescribeReplay {
                replay_name: replay.name.clone(),
                replay_arn: replay.arn.clone(),
                description: replay.description.clone(),
                state: replay.state.as_str(),
                state_reason: replay.state_reason.clone(),
                event_source_arn: replay.event_source_arn.clone(),
                destination: DestinationOut {
                    arn: replay.destination_arn.clone(),
                    filter_arns: replay.filter_arns.clone(),
                },
                event_start_time: seconds(replay.event_start_ms),
                event_end_time: seconds(replay.event_end_ms),
                event_last_replayed_time: replay.last_replayed_ms.map(seconds),
                replay_start_time: seconds(replay.replay_start_ms),
                replay_end_time: replay.replay_end_ms.map(seconds),
            })
        }),
        "CancelReplay" => run(body, ReplayRef::check, |r: ReplayRef| {
            let replay = bus.cancel_replay(present(&r.replay_name))?;
            Ok(CancelReplayOut {
                replay_arn: replay.arn,
                state: replay.state.as_str(),
            })
        }),
        "ListReplays" => run(body, ListReplays::check, |r: ListReplays| {
            let mut filter = ListReplaysFilter::default();
            filter.name_prefix = owned(&r.name_prefix);
            filter.state = text(&r.state).and_then(ReplayState::parse);
            filter.event_source_arn = owned(&r.event_source_arn);
            let replays = bus.list_replays(&filter)?;
            let (page, next_token) = paginate(replays, r.limit, text(&r.next_token))?;
            Ok(ListReplaysOut {
                replays: page.iter().map(replay_out).collect(),
                next_token,
            })
        }),
        other => Err((<super::Events as crate::Service>::INFO.unknown_operation)(
            other,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(
        body: serde_json::Value,
        check: impl Fn(&StartReplay) -> Result<(), ApiError>,
    ) -> String {
        let r: Result<StartReplay, ApiError> = wire::read(&body, SERIALIZATION);
        match r.and_then(|r| check(&r).map(|()| r)) {
            Ok(_) => String::new(),
            Err(e) => format!("{}: {}", e.type_name, e.message),
        }
    }

    #[test]
    fn requests_are_checked_against_the_model() {
        let ok = json!({"ReplayName": "r", "EventSourceArn": "arn:aws:events:us-east-1:000000000000:archive/a",
            "EventStartTime": 1_714_564_800, "EventEndTime": "2024-05-01T13:00:00Z",
            "Destination": {"Arn": "arn:aws:events:us-east-1:000000000000:event-bus/default",
                            "FilterArns": ["arn:aws:events:us-east-1:000000000000:rule/x"]}});
        assert_eq!(refused(ok, StartReplay::check), "");
        let e = refused(
            json!({"ReplayName": "bad name", "EventSourceArn": "archive"}),
            StartReplay::check,
        );
        assert!(
            e.starts_with("ValidationException: 5 validation errors detected: "),
            "{e}"
        );
        assert!(
            e.contains("at 'replayName'") && e.contains("at 'eventSourceArn'"),
            "{e}"
        );
        assert!(e.contains("Value null at 'destination'"), "{e}");
        let e = refused(json!({"EventStartTime": [1]}), StartReplay::check);
        assert!(e.starts_with("SerializationException"), "{e}");
        let create: CreateArchive = wire::read(
            &json!({"ArchiveName": "a".repeat(49), "EventSourceArn": "arn:aws:events:us-east-1:000000000000:event-bus/default", "RetentionDays": -1}),
            SERIALIZATION,
        )
        .unwrap();
        let e = create.check().unwrap_err();
        assert!(
            e.message.starts_with("2 validation errors detected"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("Member must have length less than or equal to 48")
        );
        assert!(e.message.contains("at 'retentionDays'"));
        let list: ListReplays =
            wire::read(&json!({"State": "DONE", "Limit": 0}), SERIALIZATION).unwrap();
        assert!(
            list.check()
                .unwrap_err()
                .message
                .starts_with("2 validation errors")
        );
    }
}
