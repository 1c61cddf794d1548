//! Views of the event envelope with their members in EventBridge's order.
//!
//! `serde_json` maps are sorted by key unless its `preserve_order` feature is
//! on, so the envelope's own order (`version, id, detail-type, source,
//! account, time, region, resources, detail`) is restored here when the whole
//! event is written. Members beyond those (such as `replay-name`) follow in
//! map order. The order inside `detail` is the map's.

use serde_json::Value;

use super::value::Val;

/// The envelope members in delivery order.
const ENVELOPE_ORDER: [&str; 9] = [
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
];

/// The members of `<aws.events.event>` in the order AWS renders them, with
/// the envelope member each one comes from (`time` is special, see
/// [`event_without_detail`]).
const EVENT_VARIABLE_ORDER: [(&str, &str); 8] = [
    ("id", "id"),
    ("account", "account"),
    ("detailType", "detail-type"),
    ("time", "time"),
    ("source", "source"),
    ("region", "region"),
    ("resources", "resources"),
    ("version", "version"),
];

/// The whole event, members in envelope order. A non-object is returned as
/// it is.
pub(crate) fn whole_event(event: &Value) -> Val<'_> {
    let Value::Object(map) = event else {
        return Val::Json(event);
    };
    let mut members: Vec<(&str, Val<'_>)> = ENVELOPE_ORDER
        .iter()
        .filter_map(|&key| map.get_key_value(key))
        .map(|(k, v)| (k.as_str(), Val::Json(v)))
        .collect();
    members.extend(
        map.iter()
            .filter(|(k, _)| !ENVELOPE_ORDER.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), Val::Json(v))),
    );
    Val::Obj(members)
}

/// The value of `<aws.events.event>`: the envelope without `detail`, with
/// `detail-type` renamed `detailType`, members in the order AWS renders them
/// (`id, account, detailType, time, source, region, resources, version`),
/// then any other envelope members in map order.
///
/// `time` is the ingestion time rather than the event's `time`: in the
/// AWS-recorded snapshot this member needed its own normalisation, unlike
/// the second-precision `time` of `<aws.events.event.json>` beside it.
pub(crate) fn event_without_detail<'a>(event: &'a Value, ingestion_time: &'a str) -> Val<'a> {
    let Value::Object(map) = event else {
        return Val::Json(event);
    };
    let mut members = Vec::with_capacity(map.len());
    for (name, source) in EVENT_VARIABLE_ORDER {
        if name == "time" {
            members.push((name, Val::Str(ingestion_time)));
        } else if let Some(v) = map.get(source) {
            members.push((name, Val::Json(v)));
        }
    }
    members.extend(
        map.iter()
            .filter(|(k, _)| !ENVELOPE_ORDER.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), Val::Json(v))),
    );
    Val::Obj(members)
}
