//! The server's clock, and the extension endpoint that drives it in tests.
//!
//! The configuration key `"clock"` chooses it: `"system"` (the default), or
//! `"manual"` / `"manual:START"` (START an RFC 3339 time or epoch
//! milliseconds; default: the system time at start) for a [`ManualClock`]
//! that only moves when told. The bus (delivery retries, ages, SQS
//! visibility), the scheduler and the states runner all read this one clock,
//! so a test moves schedules, retries and `Wait` states without sleeping:
//!
//! ```text
//! POST /_ferrule/clock   {"advance_ms": 60000}   -> {"now_ms": ..., "now": "..."}
//! POST /_ferrule/clock   {"set_ms": 1714564800000}
//! GET  /_ferrule/clock
//! ```
//!
//! With the system clock, moving it is refused (`400 ValidationException`)
//! and `GET` only reads it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::partition::Server;
use ferrule_core::{Clock, ManualClock, SystemClock};

/// The server's clock as configured.
#[derive(Clone, Debug)]
pub(crate) enum ServerClock {
    /// The system clock.
    System,
    /// A clock moved by `POST /_ferrule/clock`.
    Manual(Arc<ManualClock>),
}

impl ServerClock {
    /// Reads the configuration's `clock` value.
    pub(crate) fn parse(text: Option<&str>) -> Result<ServerClock, String> {
        let Some(text) = text else {
            return Ok(ServerClock::System);
        };
        if text == "system" {
            return Ok(ServerClock::System);
        }
        let start = match text.strip_prefix("manual") {
            Some("") => SystemClock.now_ms(),
            Some(rest) => {
                let Some(start) = rest.strip_prefix(':') else {
                    return Err(bad(text));
                };
                match start.parse::<u64>() {
                    Ok(ms) => ms,
                    Err(_) => {
                        ferrule_core::time::parse_rfc3339_ms(start).ok_or_else(|| bad(text))?
                    }
                }
            }
            None => return Err(bad(text)),
        };
        Ok(ServerClock::Manual(Arc::new(ManualClock::new(start))))
    }

    /// The clock the bus and every service share.
    pub(crate) fn shared(&self) -> Arc<dyn Clock> {
        match self {
            ServerClock::System => Arc::new(SystemClock),
            ServerClock::Manual(c) => Arc::clone(c) as Arc<dyn Clock>,
        }
    }
}

fn bad(text: &str) -> String {
    format!(
        "clock: {text:?} is not \"system\", \"manual\" or \"manual:START\" (START: RFC 3339 or epoch milliseconds)"
    )
}

fn answer(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn now_body(now_ms: u64, manual: bool) -> Value {
    json!({
        "now_ms": now_ms,
        "now": ferrule_core::time::format_millis(now_ms),
        "clock": if manual { "manual" } else { "system" },
    })
}

fn refuse(message: &str) -> Response {
    answer(
        StatusCode::BAD_REQUEST,
        json!({"__type": "ValidationException", "message": message}),
    )
}

/// `GET /_ferrule/clock`: the server's time.
pub(crate) async fn get(State(server): State<Arc<Server>>) -> Response {
    let manual = matches!(server.shared.clock, ServerClock::Manual(_));
    answer(StatusCode::OK, now_body(server.home.bus.now_ms(), manual))
}

/// `POST /_ferrule/clock`: moves a manual clock (`advance_ms` forward, or
/// `set_ms`), then wakes the scheduler so that what came due fires.
pub(crate) async fn set(State(server): State<Arc<Server>>, body: Bytes) -> Response {
    if !server.shared.is_open() {
        // Moving time is a test facility: never on a server that checks
        // signatures.
        return answer(
            StatusCode::FORBIDDEN,
            json!({"__type": "AccessDeniedException", "message": "the clock can be moved only on an open server (no credentials configured)"}),
        );
    }
    let ServerClock::Manual(clock) = &server.shared.clock else {
        return refuse(
            "the server runs on the system clock; start it with \"clock\": \"manual\" in its configuration to move time",
        );
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return refuse("the body must be a JSON object: {\"advance_ms\": N} or {\"set_ms\": N}");
    };
    let advance = request.get("advance_ms").and_then(Value::as_u64);
    let set = request.get("set_ms").and_then(Value::as_u64);
    match (advance, set) {
        (Some(ms), None) => clock.advance_ms(ms),
        (None, Some(ms)) => {
            if ms < clock.now_ms() {
                return refuse("set_ms must not move the clock backwards");
            }
            clock.set_ms(ms)
        }
        _ => {
            return refuse(
                "give one of advance_ms or set_ms, a non-negative integer of milliseconds",
            );
        }
    }
    for partition in server.every_partition() {
        partition.bus.notify_scheduler();
        // The runner's Waits, retries and timeouts are due by the same clock.
        partition.runner.clock_moved();
    }
    answer(StatusCode::OK, now_body(clock.now_ms(), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_configured_clock() {
        assert!(matches!(ServerClock::parse(None), Ok(ServerClock::System)));
        assert!(matches!(
            ServerClock::parse(Some("system")),
            Ok(ServerClock::System)
        ));
        let Ok(ServerClock::Manual(c)) = ServerClock::parse(Some("manual:1714564800000")) else {
            panic!("manual with epoch ms");
        };
        assert_eq!(c.now_ms(), 1_714_564_800_000);
        let Ok(ServerClock::Manual(c)) = ServerClock::parse(Some("manual:2024-05-01T12:00:00Z"))
        else {
            panic!("manual with RFC 3339");
        };
        assert_eq!(c.now_ms(), 1_714_564_800_000);
        let Ok(ServerClock::Manual(c)) = ServerClock::parse(Some("manual")) else {
            panic!("manual");
        };
        assert!(c.now_ms() > 1_700_000_000_000);
        for bad in ["manual:", "manual:yesterday", "manualx", "fast", ""] {
            assert!(ServerClock::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
