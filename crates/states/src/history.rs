//! Execution history: the events GetExecutionHistory returns.
//!
//! An execution records a few events per state it enters, so this is the interpreter's
//! hottest allocation site. The frequent details (state entered and exited, Map iterations)
//! are typed here and turned into the service's JSON only when history is read or stored;
//! the rarer ones stay JSON values.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// One entry of GetExecutionHistory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// 1-based, increasing.
    pub id: u64,
    /// The event before it in the same thread of the execution (0 for the first).
    pub previous_event_id: u64,
    /// When, in milliseconds since the epoch.
    pub timestamp_ms: u64,
    /// The service's type name (`ExecutionStarted`, `PassStateEntered`, `TaskScheduled`, ...).
    pub event_type: Cow<'static, str>,
    /// The details member (`stateEnteredEventDetails`, ...).
    pub details: HistoryDetails,
}

/// The details of a [`HistoryEvent`], as the service's `...EventDetails` member holds them.
#[derive(Clone, Debug, PartialEq)]
pub enum HistoryDetails {
    /// No details member (`MapStateSucceeded`, `ParallelStateStarted`, ...).
    None,
    /// `stateEnteredEventDetails`: the state's name and its input as JSON text.
    StateEntered {
        /// The state's name.
        name: String,
        /// The state's input, serialized.
        input: String,
    },
    /// `stateExitedEventDetails`: the state's name, its output as JSON text and the
    /// variables it assigned (each value serialized, as the service writes them).
    StateExited {
        /// The state's name.
        name: String,
        /// The state's output, serialized.
        output: String,
        /// `assignedVariables`, when the state has an `Assign`.
        assigned: Option<Map<String, Value>>,
    },
    /// `mapIteration{Started,Succeeded,Failed,Aborted}EventDetails`.
    MapIteration {
        /// The Map state's name.
        name: String,
        /// The iteration's index.
        index: usize,
    },
    /// Any other details, as the service's JSON.
    Json(Value),
}

impl HistoryDetails {
    /// The details as the service's JSON object (`Null` for [`HistoryDetails::None`]).
    pub fn to_json(&self) -> Value {
        match self {
            HistoryDetails::None => Value::Null,
            HistoryDetails::StateEntered { name, input } => {
                json!({"name": name, "input": input, "inputDetails": {"truncated": false}})
            }
            HistoryDetails::StateExited {
                name,
                output,
                assigned,
            } => {
                let mut d =
                    json!({"name": name, "output": output, "outputDetails": {"truncated": false}});
                if let (Some(a), Some(m)) = (assigned, d.as_object_mut()) {
                    let vars: Map<String, Value> = a
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
                        .collect();
                    m.insert("assignedVariables".into(), Value::Object(vars));
                    m.insert(
                        "assignedVariablesDetails".into(),
                        json!({"truncated": false}),
                    );
                }
                d
            }
            HistoryDetails::MapIteration { name, index } => json!({"name": name, "index": index}),
            HistoryDetails::Json(v) => v.clone(),
        }
    }

    /// The JSON of details kept as JSON ([`HistoryDetails::Json`]); `None` for the typed ones.
    pub fn as_json(&self) -> Option<&Value> {
        match self {
            HistoryDetails::Json(v) => Some(v),
            _ => None,
        }
    }

    /// The state's name, for the details that carry one.
    pub fn name(&self) -> Option<&str> {
        match self {
            HistoryDetails::StateEntered { name, .. }
            | HistoryDetails::StateExited { name, .. }
            | HistoryDetails::MapIteration { name, .. } => Some(name),
            HistoryDetails::Json(v) => v.get("name").and_then(Value::as_str),
            HistoryDetails::None => None,
        }
    }
}

impl From<Value> for HistoryDetails {
    fn from(v: Value) -> Self {
        if v.is_null() {
            HistoryDetails::None
        } else {
            HistoryDetails::Json(v)
        }
    }
}

/// Stored as the service's JSON, so a store written before the details were typed reads back.
impl Serialize for HistoryDetails {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            HistoryDetails::Json(v) => v.serialize(s),
            other => other.to_json().serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for HistoryDetails {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        if !(v.is_null() || v.is_object()) {
            return Err(D::Error::custom(
                "history details must be an object or null",
            ));
        }
        Ok(HistoryDetails::from(v))
    }
}

impl HistoryEvent {
    /// The name of the details member for this event type (`stateEnteredEventDetails`, ...).
    pub fn details_key(&self) -> Option<String> {
        let t: &str = &self.event_type;
        if matches!(self.details, HistoryDetails::None) {
            return None;
        }
        let stem = if t.ends_with("StateEntered") {
            "stateEntered".to_string()
        } else if t.ends_with("StateExited") {
            "stateExited".to_string()
        } else {
            let mut s = t.to_string();
            if let Some(first) = s.get(0..1) {
                let lower = first.to_lowercase();
                s.replace_range(0..1, &lower);
            }
            s
        };
        Some(format!("{stem}EventDetails"))
    }

    /// The event as GetExecutionHistory returns it (camelCase, `timestamp` in epoch seconds).
    pub fn to_api_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("timestamp".into(), json!(self.timestamp_ms as f64 / 1000.0));
        m.insert("type".into(), json!(self.event_type));
        m.insert("id".into(), json!(self.id));
        m.insert("previousEventId".into(), json!(self.previous_event_id));
        if let Some(k) = self.details_key() {
            m.insert(k, self.details.to_json());
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(event_type: &'static str, details: HistoryDetails) -> HistoryEvent {
        HistoryEvent {
            id: 2,
            previous_event_id: 1,
            timestamp_ms: 1_500,
            event_type: Cow::Borrowed(event_type),
            details,
        }
    }

    #[test]
    fn typed_details_render_as_the_service_writes_them() {
        let e = event(
            "PassStateEntered",
            HistoryDetails::StateEntered {
                name: "P".into(),
                input: r#"{"a":1}"#.into(),
            },
        );
        assert_eq!(
            e.to_api_json(),
            json!({"timestamp": 1.5, "type": "PassStateEntered", "id": 2, "previousEventId": 1,
                "stateEnteredEventDetails": {"name": "P", "input": "{\"a\":1}", "inputDetails": {"truncated": false}}})
        );
        let mut vars = Map::new();
        vars.insert("x".into(), json!([1]));
        let e = event(
            "PassStateExited",
            HistoryDetails::StateExited {
                name: "P".into(),
                output: "2".into(),
                assigned: Some(vars),
            },
        );
        assert_eq!(
            e.to_api_json()["stateExitedEventDetails"],
            json!({"name": "P", "output": "2", "outputDetails": {"truncated": false},
                "assignedVariables": {"x": "[1]"}, "assignedVariablesDetails": {"truncated": false}})
        );
        let e = event(
            "MapIterationStarted",
            HistoryDetails::MapIteration {
                name: "M".into(),
                index: 7,
            },
        );
        assert_eq!(
            e.to_api_json()["mapIterationStartedEventDetails"],
            json!({"name": "M", "index": 7})
        );
        let e = event("MapStateSucceeded", HistoryDetails::None);
        assert!(
            e.to_api_json()
                .get("mapStateSucceededEventDetails")
                .is_none()
        );
    }

    #[test]
    fn stored_form_is_the_json_form_and_reads_back() {
        let typed = event(
            "PassStateEntered",
            HistoryDetails::StateEntered {
                name: "P".into(),
                input: "{}".into(),
            },
        );
        let text = serde_json::to_string(&typed).expect("serialize");
        let back: HistoryEvent = serde_json::from_str(&text).expect("deserialize");
        // Read back as JSON details: the same API answer, the same stored text.
        assert_eq!(back.to_api_json(), typed.to_api_json());
        assert_eq!(serde_json::to_string(&back).expect("serialize"), text);
        assert_eq!(back.details.name(), Some("P"));
        let none = event("MapStateSucceeded", HistoryDetails::None);
        let back: HistoryEvent =
            serde_json::from_str(&serde_json::to_string(&none).expect("serialize"))
                .expect("deserialize");
        assert_eq!(back.details, HistoryDetails::None);
        assert!(serde_json::from_str::<HistoryDetails>("[1]").is_err());
    }
}
