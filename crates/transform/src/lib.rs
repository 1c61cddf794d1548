//! Target input: what a rule delivers to a target for a matched event.
//!
//! A target has at most one of `Input` (a constant), `InputPath` (a part of
//! the event) and `InputTransformer` (a template filled from the event);
//! with none of them the whole event is delivered. [`InputSpec::new`]
//! validates these settings as PutTargets does and [`InputSpec::render`]
//! produces the payload for one event.
//!
//! ```
//! use ferrule_transform::{InputSpec, RenderContext};
//!
//! let paths = [("type".to_string(), "$.detail-type".to_string()),
//!              ("user".to_string(), "$.detail.user".to_string())];
//! let spec = InputSpec::new("t1", None, None,
//!     Some((&paths, r#"{"kind": <type>, "path": "users/<user>"}"#)))?;
//! let event = serde_json::json!({"detail-type": "Signup", "detail": {"user": "u-1"}});
//! let ctx = RenderContext { rule_arn: "arn:aws:events:us-east-1:123456789012:rule/r",
//!                           rule_name: "r", ingestion_time: "2024-01-01T00:00:00.123Z" };
//! assert_eq!(spec.render(&event, &ctx)?, r#"{"kind": "Signup", "path": "users/u-1"}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Rendering
//!
//! * No setting: the event's JSON text, envelope members in EventBridge's
//!   order (`version, id, detail-type, source, account, time, region,
//!   resources, detail`, then any others).
//! * `Input`: the constant, exactly as given.
//! * `InputPath`: the JSON text of the selected value, so a string is
//!   delivered quoted (`$.detail.payload.sf_id` → `"baz"`). A wildcard path
//!   delivers the list of its matches. **A path that matches nothing
//!   delivers nothing** ([`RenderError`]), as LocalStack does; AWS's
//!   behaviour is not recorded.
//! * `InputTransformer`: the template with each `<name>` replaced. The
//!   template's [`Shape`] is decided from the template alone (each
//!   placeholder replaced by `null`, or by nothing inside a JSON string, and
//!   the text parsed as JSON). Then, for a value selected by the name's path
//!   or one of the predefined variables:
//!
//! | value | JSON, unquoted `<v>` | JSON, inside a string `"…<v>…"` | text template |
//! | --- | --- | --- | --- |
//! | string | quoted JSON string | its characters, JSON-escaped | raw |
//! | number, boolean, `null` | JSON text | JSON text | JSON text |
//! | object, list | JSON | loose (`{a:1,b:x}`, `[HIGH]`), escaped, in a string template; JSON (which breaks the string) in an object or array template | loose |
//! | nothing matched | `""` | nothing | nothing |
//!
//! A JSON template whose result does not parse is not delivered
//! ([`RenderError`]); AWS drops those events silently. This is what happens
//! to `{"payload": "<payload>"}` when `payload` is an object, or to a list
//! inside quotes, in AWS-recorded tests. Text templates are delivered as
//! written, and literal template text (including `\"`) is never altered.
//!
//! Predefined variables, which need no `InputPathsMap` entry:
//! `<aws.events.rule-arn>`, `<aws.events.rule-name>`,
//! `<aws.events.event.ingestion-time>` (strings from [`RenderContext`]),
//! `<aws.events.event>` (the envelope without `detail`, members `id,
//! account, detailType, time, source, region, resources, version`, note
//! the camel-case `detailType`; `time` is the ingestion time) and
//! `<aws.events.event.json>` (the whole event).
//!
//! # Choices where AWS's behaviour is not recorded
//!
//! * An empty `Input` or `InputPath` counts as not given (the API model
//!   allows length 0).
//! * A JSON `null` value renders as `null` everywhere.
//! * A template that is a single unquoted placeholder (`<v>`) is JSON, so a
//!   string value is delivered quoted, like `InputPath`.
//! * Lengths are counted in Unicode scalar values.
//! * Repeated `InputPathsMap` keys: the last one wins.
//! * Unless `serde_json`'s `preserve_order` feature is on, members inside
//!   `detail` are written in sorted order.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

mod envelope;
mod error;
mod needed;
mod path;
mod template;
mod value;

pub use error::{PathError, RenderError, TransformError, TransformErrorKind};
pub use needed::Needed;
pub use path::{JsonPath, Selected};
pub use template::Shape;

use serde_json::Value;

use template::Template;
use value::Val;

/// Longest `Input`, and longest `InputTemplate`, in characters.
pub const MAX_INPUT_LEN: usize = 8192;
/// Longest `InputPath`, `InputPathsMap` key or `InputPathsMap` value, in
/// characters.
pub const MAX_PATH_LEN: usize = 256;
/// Most entries in an `InputPathsMap`.
pub const MAX_PATHS_MAP_ENTRIES: usize = 100;

/// The names of the predefined template variables.
pub const PREDEFINED_VARIABLES: [&str; 5] =
    [RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON];

const RULE_ARN: &str = "aws.events.rule-arn";
const RULE_NAME: &str = "aws.events.rule-name";
const INGESTION_TIME: &str = "aws.events.event.ingestion-time";
const EVENT: &str = "aws.events.event";
const EVENT_JSON: &str = "aws.events.event.json";
/// The prefix reserved for predefined variables.
const RESERVED_PREFIX: &str = "aws.events.";

/// How a target's payload is made from the event (`Input`, `InputPath` and
/// `InputTransformer` are mutually exclusive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSpec {
    /// No setting: the whole event.
    WholeEvent,
    /// `Input`: this JSON text, whatever the event.
    Constant(String),
    /// `InputPath`: the selected part of the event.
    Path(JsonPath),
    /// `InputTransformer`: a template filled from the event.
    Transformer(Transformer),
}

/// A validated `InputTransformer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transformer {
    paths: Vec<(String, JsonPath)>,
    template: Template,
}

/// What a rendering needs besides the event.
#[derive(Clone, Copy, Debug)]
pub struct RenderContext<'a> {
    /// The ARN of the rule that matched, for `<aws.events.rule-arn>`.
    pub rule_arn: &'a str,
    /// The name of the rule that matched, for `<aws.events.rule-name>`.
    pub rule_name: &'a str,
    /// When EventBridge received the event (ISO-8601), for
    /// `<aws.events.event.ingestion-time>` and the `time` of
    /// `<aws.events.event>`.
    pub ingestion_time: &'a str,
}

impl InputSpec {
    /// Validates a target's settings exactly as PutTargets does; `target_id`
    /// is used in messages.
    ///
    /// `transformer` is the `InputPathsMap` entries and the `InputTemplate`.
    /// Rejected, in this order of checking: more than one setting; an
    /// `Input` over 8192 characters or not valid JSON text; an `InputPath`
    /// over 256 characters or outside the supported [`JsonPath`] subset; an
    /// `InputPathsMap` of more than 100 entries, a key with the reserved
    /// `aws.events.` prefix, a key not of 1..=256 characters of
    /// `[A-Za-z0-9_-]`, a path over 256 characters or unsupported; an empty
    /// `InputTemplate` or one over 8192 characters; a placeholder that is
    /// neither a key nor a predefined variable.
    pub fn new(
        target_id: &str,
        input: Option<&str>,
        input_path: Option<&str>,
        transformer: Option<(&[(String, String)], &str)>,
    ) -> Result<InputSpec, TransformError> {
        let input = input.filter(|s| !s.is_empty());
        let input_path = input_path.filter(|s| !s.is_empty());
        let given = usize::from(input.is_some())
            + usize::from(input_path.is_some())
            + usize::from(transformer.is_some());
        if given > 1 {
            return Err(TransformError::new(
                TransformErrorKind::MultipleInputs,
                format!(
                    "Only one of Input, InputPath, or InputTransformer must be provided for target {target_id}."
                ),
            ));
        }
        if let Some(input) = input {
            if input.chars().count() > MAX_INPUT_LEN {
                return Err(TransformError::constraint(
                    "input",
                    input,
                    format!("Member must have length less than or equal to {MAX_INPUT_LEN}"),
                ));
            }
            if serde_json::from_str::<Value>(input).is_err() {
                return Err(TransformError::new(
                    TransformErrorKind::InvalidInput,
                    format!("Input for target {target_id} is not valid JSON text."),
                ));
            }
            return Ok(InputSpec::Constant(input.to_string()));
        }
        if let Some(path) = input_path {
            if path.chars().count() > MAX_PATH_LEN {
                return Err(TransformError::constraint(
                    "inputPath",
                    path,
                    format!("Member must have length less than or equal to {MAX_PATH_LEN}"),
                ));
            }
            return match JsonPath::parse(path) {
                Ok(p) => Ok(InputSpec::Path(p)),
                Err(e) => Err(TransformError::new(
                    TransformErrorKind::InvalidPath,
                    format!("InputPath for target {target_id} is not a supported JSON path: {e}."),
                )),
            };
        }
        match transformer {
            Some((map, template)) => {
                Transformer::new(target_id, map, template).map(InputSpec::Transformer)
            }
            None => Ok(InputSpec::WholeEvent),
        }
    }

    /// Renders the payload delivered to the target for `event`, the full
    /// envelope as delivered (`version, id, detail-type, source, account,
    /// time, region, resources, detail`).
    ///
    /// An error means the payload must not be delivered: a JSON template
    /// that rendered invalid JSON, or an `InputPath` that matched nothing.
    pub fn render(
        &self,
        event: &Value,
        context: &RenderContext<'_>,
    ) -> Result<String, RenderError> {
        match self {
            InputSpec::WholeEvent => {
                let mut out = String::new();
                value::write_json(&envelope::whole_event(event), &mut out);
                Ok(out)
            }
            InputSpec::Constant(text) => Ok(text.clone()),
            InputSpec::Path(path) => {
                let val = select(path, event);
                if matches!(val, Val::Missing) {
                    return Err(RenderError::new(format!(
                        "InputPath {path} matched nothing in the event, so nothing is delivered"
                    )));
                }
                let mut out = String::new();
                value::write_json(&val, &mut out);
                Ok(out)
            }
            InputSpec::Transformer(t) => t.render(event, context),
        }
    }
}

impl Transformer {
    /// Validates an `InputTransformer` (see [`InputSpec::new`]).
    pub fn new(
        target_id: &str,
        paths_map: &[(String, String)],
        template: &str,
    ) -> Result<Transformer, TransformError> {
        const MAP: &str = "inputTransformer.inputPathsMap";
        const TEMPLATE: &str = "inputTransformer.inputTemplate";
        if paths_map.len() > MAX_PATHS_MAP_ENTRIES {
            return Err(TransformError::constraint(
                MAP,
                &java_map_text(paths_map),
                format!("Member must have length less than or equal to {MAX_PATHS_MAP_ENTRIES}"),
            ));
        }
        let mut paths: Vec<(String, JsonPath)> = Vec::with_capacity(paths_map.len());
        for (key, path) in paths_map {
            if key.starts_with(RESERVED_PREFIX) {
                return Err(TransformError::new(
                    TransformErrorKind::ReservedKey,
                    format!(
                        "InputPathsMap for target {target_id} contains the reserved key {key}: \
                         names starting with {RESERVED_PREFIX} are predefined variables."
                    ),
                ));
            }
            let key_len = key.chars().count();
            if key_len == 0 {
                return Err(TransformError::constraint(
                    MAP,
                    key,
                    "Map keys must satisfy constraint: Member must have length greater than or equal to 1",
                ));
            }
            if key_len > MAX_PATH_LEN {
                return Err(TransformError::constraint(
                    MAP,
                    key,
                    format!(
                        "Map keys must satisfy constraint: Member must have length less than or equal to {MAX_PATH_LEN}"
                    ),
                ));
            }
            if !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(TransformError::constraint(
                    MAP,
                    key,
                    r"Map keys must satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9\_\-]+",
                ));
            }
            if path.chars().count() > MAX_PATH_LEN {
                return Err(TransformError::constraint(
                    MAP,
                    path,
                    format!(
                        "Map values must satisfy constraint: Member must have length less than or equal to {MAX_PATH_LEN}"
                    ),
                ));
            }
            let parsed = JsonPath::parse(path).map_err(|e| {
                TransformError::new(
                    TransformErrorKind::InvalidPath,
                    format!("InputPathsMap for target {target_id} has an unsupported JSON path for key {key}: {e}."),
                )
            })?;
            match paths.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = parsed,
                None => paths.push((key.clone(), parsed)),
            }
        }
        let template_len = template.chars().count();
        if template_len == 0 {
            return Err(TransformError::constraint(
                TEMPLATE,
                template,
                "Member must have length greater than or equal to 1",
            ));
        }
        if template_len > MAX_INPUT_LEN {
            return Err(TransformError::constraint(
                TEMPLATE,
                template,
                format!("Member must have length less than or equal to {MAX_INPUT_LEN}"),
            ));
        }
        let template = Template::parse(template);
        if let Some(name) = template.placeholders().find(|name| {
            !PREDEFINED_VARIABLES.contains(name) && !paths.iter().any(|(k, _)| k == name)
        }) {
            return Err(TransformError::new(
                TransformErrorKind::InvalidPlaceholder,
                format!(
                    "InputTemplate for target {target_id} contains invalid placeholder {name}."
                ),
            ));
        }
        Ok(Transformer { paths, template })
    }

    /// The `InputTemplate` as written.
    pub fn input_template(&self) -> &str {
        self.template.text()
    }

    /// The `InputPathsMap` entries, parsed.
    pub fn input_paths(&self) -> impl Iterator<Item = (&str, &JsonPath)> {
        self.paths.iter().map(|(k, p)| (k.as_str(), p))
    }

    /// Whether the template is JSON, and of what kind; decides how values
    /// are written (see the module documentation).
    pub fn shape(&self) -> Shape {
        self.template.shape()
    }

    /// Fills the template from `event`.
    pub fn render(
        &self,
        event: &Value,
        context: &RenderContext<'_>,
    ) -> Result<String, RenderError> {
        self.template.render(|name| match name {
            RULE_ARN => Val::Str(context.rule_arn),
            RULE_NAME => Val::Str(context.rule_name),
            INGESTION_TIME => Val::Str(context.ingestion_time),
            EVENT => envelope::event_without_detail(event, context.ingestion_time),
            EVENT_JSON => envelope::whole_event(event),
            _ => match self.paths.iter().find(|(k, _)| k == name) {
                Some((_, path)) => select(path, event),
                None => Val::Missing,
            },
        })
    }
}

/// A map as Java's `Map.toString` writes it (`{k=v, k2=v2}`), as Coral
/// quotes it in constraint messages.
fn java_map_text(entries: &[(String, String)]) -> String {
    let items: Vec<String> = entries.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", items.join(", "))
}

/// The value `path` selects from `event`, the root being the ordered
/// envelope.
fn select<'a>(path: &JsonPath, event: &'a Value) -> Val<'a> {
    if path.is_root() {
        return envelope::whole_event(event);
    }
    match path.select(event) {
        Selected::Missing => Val::Missing,
        Selected::One(v) => Val::Json(v),
        Selected::Many(vs) => Val::List(vs.into_iter().map(Val::Json).collect()),
    }
}
