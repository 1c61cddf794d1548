//! Amazon EventBridge Scheduler, REST-JSON as boto3's `scheduler` client
//! speaks it (signing name `scheduler`): schedules (Create/Get/Update/
//! Delete/ListSchedules), schedule groups (Create/Get/Delete/
//! ListScheduleGroups) and their tags.
//!
//! Schedules and groups are records in the bus's store; each enabled
//! schedule is handed to the bus's scheduler ([`ferrule_bus::TimedSchedule`]),
//! which fires it on time into durable delivery. Errors are REST-JSON's
//! (`x-amzn-ErrorType` and `{"Message"}`) with the model's status codes:
//! `ValidationException` 400, `ResourceNotFoundException` 404,
//! `ConflictException` 409, `InternalServerException` 500.

pub(crate) mod model;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::events::wire::{self, Str, Violations};
use crate::layers::OperationLabel;
use crate::{ApiError, AppState, Protocol};
use ferrule_policy::Principal;
use model::{GroupRecord, ScheduleIn, ScheduleRecord};

const GROUP_KIND: &str = "scheduler-group";
const SCHEDULE_KIND: &str = "scheduler-schedule";

/// The Scheduler's state beside the bus: groups and schedules.
#[derive(Debug, Default)]
pub(crate) struct Scheduling {
    groups: Mutex<BTreeMap<String, GroupRecord>>,
    /// By (group, name).
    schedules: Mutex<BTreeMap<(String, String), ScheduleRecord>>,
}

impl Scheduling {
    /// Empty; [`load`] fills it from the store.
    pub(crate) fn new() -> Scheduling {
        Scheduling {
            groups: Mutex::new(BTreeMap::new()),
            schedules: Mutex::new(BTreeMap::new()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn schedule_key(group: &str, name: &str) -> String {
    format!("{group}\u{1f}{name}")
}

/// Loads groups and schedules from the store (creating the `default`
/// group), resumes every schedule, and deletes completed `DELETE` schedules
/// as the bus's scheduler reports them. Runs once at start.
pub(crate) fn load(state: &Arc<AppState>) -> Result<(), String> {
    let bus = &state.bus;
    let now = bus.now_ms();
    let err = |e: ferrule_bus::BusError| format!("scheduler: {e}");
    {
        let mut groups = lock(&state.scheduling.groups);
        for (_, value) in bus.service_records(GROUP_KIND).map_err(err)? {
            let g: GroupRecord =
                serde_json::from_slice(&value).map_err(|e| format!("scheduler group: {e}"))?;
            groups.insert(g.name.clone(), g);
        }
        if !groups.contains_key("default") {
            let g = GroupRecord {
                name: "default".into(),
                created_ms: now,
                modified_ms: now,
                tags: Vec::new(),
            };
            save_group(state, &g).map_err(|e| e.message)?;
            groups.insert("default".into(), g);
        }
    }
    let weak: Weak<AppState> = Arc::downgrade(state);
    bus.set_schedule_completion_hook(Arc::new(move |key: &str| {
        if let Some(state) = weak.upgrade() {
            completed(&state, key);
        }
    }));
    let mut timed = Vec::new();
    {
        let mut schedules = lock(&state.scheduling.schedules);
        for (_, value) in bus.service_records(SCHEDULE_KIND).map_err(err)? {
            let r: ScheduleRecord =
                serde_json::from_slice(&value).map_err(|e| format!("scheduler schedule: {e}"))?;
            // Validated when it was made; a target that no longer resolves (a
            // provider not registered this time) is logged and not run.
            match model::timed(bus, &r, r.modified_ms.saturating_sub(1)) {
                Ok(t) => timed.push(t),
                Err(e) => {
                    tracing::warn!(schedule = %r.name, group = %r.group, error = %e.message, "stored schedule not run")
                }
            }
            schedules.insert((r.group.clone(), r.name.clone()), r);
        }
    }
    // Outside the lock: a schedule already complete calls the completion
    // hook at once, which takes it.
    for t in timed {
        bus.resume_schedule(t);
    }
    Ok(())
}

/// A schedule with `ActionAfterCompletion: DELETE` ran its last time.
fn completed(state: &AppState, key: &str) {
    // The key is the schedule's ARN: `...:schedule/GROUP/NAME`.
    let Some((group, name)) = key
        .rsplit_once(":schedule/")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(g, n)| (g.to_string(), n.to_string()))
    else {
        return;
    };
    let mut schedules = lock(&state.scheduling.schedules);
    if schedules.contains_key(&(group.clone(), name.clone())) {
        if let Err(e) =
            state
                .bus
                .put_service_record(SCHEDULE_KIND, &schedule_key(&group, &name), None)
        {
            tracing::error!(schedule = %name, error = %e, "cannot delete a completed schedule");
            return;
        }
        schedules.remove(&(group, name));
    }
}

fn save_group(state: &AppState, g: &GroupRecord) -> Result<(), ApiError> {
    let bytes = serde_json::to_vec(g).map_err(|e| internal(e.to_string()))?;
    state
        .bus
        .put_service_record(GROUP_KIND, &g.name, Some(bytes))
        .map_err(|e| internal(e.to_string()))
}

fn save_schedule(state: &AppState, r: &ScheduleRecord) -> Result<(), ApiError> {
    let bytes = serde_json::to_vec(r).map_err(|e| internal(e.to_string()))?;
    state
        .bus
        .put_service_record(SCHEDULE_KIND, &schedule_key(&r.group, &r.name), Some(bytes))
        .map_err(|e| internal(e.to_string()))
}

fn internal(message: String) -> ApiError {
    ApiError::new(500, "InternalServerException", message)
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "ValidationException", message)
}

fn not_found(message: String) -> ApiError {
    ApiError::new(404, "ResourceNotFoundException", message)
}

fn no_group(name: &str) -> ApiError {
    not_found(format!("Schedule group {name} does not exist."))
}

fn no_schedule(name: &str) -> ApiError {
    not_found(format!("Schedule {name} does not exist."))
}

/// The Scheduler's routes (mounted beside the AWS JSON fallback).
pub(crate) fn routes() -> Router<Arc<crate::partition::Server>> {
    Router::new()
        .route("/schedules", get(list_schedules))
        .route(
            "/schedules/{name}",
            get(get_schedule)
                .post(create_schedule)
                .put(update_schedule)
                .delete(delete_schedule),
        )
        .route("/schedule-groups", get(list_groups))
        .route(
            "/schedule-groups/{name}",
            get(get_group).post(create_group).delete(delete_group),
        )
        .route(
            "/tags/{arn}",
            get(list_tags).post(tag_resource).delete(untag_resource),
        )
}

/// One request, authenticated and parsed.
struct Request {
    caller: Principal,
    body: Value,
    query: Vec<(String, String)>,
}

impl Request {
    fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Authenticates (SigV4 for `scheduler`), reads the body, and runs `f`;
/// the answer or error as REST-JSON, counted under `Scheduler.OPERATION`.
async fn serve(
    server: Arc<crate::partition::Server>,
    operation: &'static str,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    f: impl FnOnce(&AppState, Request) -> Result<Value, ApiError> + Send + 'static,
) -> Response {
    let span = tracing::Span::current();
    span.record("service", "scheduler");
    span.record("operation", operation);
    let result = async {
        let caller = crate::authenticate(&server, "scheduler", &method, &uri, &headers, &body)?;
        let state = crate::partition_of(&server, &caller, None, &headers, &uri).await?;
        let body: Value = if body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| validation(format!("The request body is not valid JSON: {e}")))?
        };
        let query = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        let request = Request {
            caller,
            body,
            query,
        };
        super::off_runtime(move || f(&state, request), internal).await
    }
    .await;
    let mut response = match result {
        Ok(value) => (
            StatusCode::OK,
            [("content-type", "application/json")],
            value.to_string(),
        )
            .into_response(),
        // REST-JSON errors: the type in `x-amzn-ErrorType` (and `__type`),
        // the text in `message`, as botocore's rest-json parser reads them.
        Err(e) => e.in_protocol(Protocol::RestJson).into_response(),
    };
    response
        .extensions_mut()
        .insert(OperationLabel(format!("Scheduler.{operation}")));
    response
}

fn authorize(
    state: &AppState,
    caller: &Principal,
    action: &str,
    arn: &str,
) -> Result<(), ApiError> {
    let decision = state
        .bus
        .authorize(caller, action, arn, "", &[])
        .map_err(ApiError::from)?;
    if decision.is_allowed() {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            "AccessDeniedException",
            ferrule_bus::denied_message(caller, action, arn, decision),
        ))
    }
}

fn group_of(state: &AppState, name: Option<&str>) -> Result<String, ApiError> {
    let name = name.unwrap_or("default").to_string();
    if lock(&state.scheduling.groups).contains_key(&name) {
        Ok(name)
    } else {
        Err(no_group(&name))
    }
}

fn check_name(name: &str, at: &str) -> Result<(), ApiError> {
    let mut v = Violations::default();
    v.text(Some(&Str(name.to_string())), at, model::NAME);
    v.finish()
}

macro_rules! handler {
    ($fn_name:ident, $op:literal, |$state:ident, $req:ident, $name:ident| $body:block) => {
        async fn $fn_name(
            State(server): State<Arc<crate::partition::Server>>,
            Path($name): Path<String>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> Response {
            serve(
                server,
                $op,
                method,
                uri,
                headers,
                body,
                move |$state, $req| $body,
            )
            .await
        }
    };
    ($fn_name:ident, $op:literal, |$state:ident, $req:ident| $body:block) => {
        async fn $fn_name(
            State(server): State<Arc<crate::partition::Server>>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> Response {
            serve(
                server,
                $op,
                method,
                uri,
                headers,
                body,
                move |$state, $req| $body,
            )
            .await
        }
    };
}

handler!(create_schedule, "CreateSchedule", |state, req, name| {
    let input: ScheduleIn = wire::read(&req.body, "ValidationException")?;
    let group = input
        .group_name
        .as_ref()
        .map_or("default", |g| g.0.as_str())
        .to_string();
    let arn = model::schedule_arn(&state.bus, &group, &name);
    authorize(state, &req.caller, "scheduler:CreateSchedule", &arn)?;
    let now = state.bus.now_ms();
    let record = model::record(&name, &input, now, None)?;
    group_of(state, Some(&group))?;
    let timed = model::timed(&state.bus, &record, now.saturating_sub(1))?;
    let mut schedules = lock(&state.scheduling.schedules);
    if schedules.contains_key(&(group.clone(), name.clone())) {
        return Err(ApiError::new(
            409,
            "ConflictException",
            format!("Schedule {name} already exists."),
        ));
    }
    save_schedule(state, &record)?;
    schedules.insert((group, name), record);
    drop(schedules);
    state.bus.put_schedule(timed);
    Ok(json!({ "ScheduleArn": arn }))
});

handler!(update_schedule, "UpdateSchedule", |state, req, name| {
    let input: ScheduleIn = wire::read(&req.body, "ValidationException")?;
    let group = input
        .group_name
        .as_ref()
        .map_or("default", |g| g.0.as_str())
        .to_string();
    let arn = model::schedule_arn(&state.bus, &group, &name);
    authorize(state, &req.caller, "scheduler:UpdateSchedule", &arn)?;
    check_name(&name, "name")?;
    let now = state.bus.now_ms();
    group_of(state, Some(&group))?;
    let mut schedules = lock(&state.scheduling.schedules);
    let Some(existing) = schedules.get(&(group.clone(), name.clone())) else {
        return Err(no_schedule(&name));
    };
    let record = model::record(&name, &input, now, Some(existing.created_ms))?;
    // An update runs from now on (no run again for a time already past).
    let timed = model::timed(&state.bus, &record, now)?;
    save_schedule(state, &record)?;
    schedules.insert((group, name), record);
    drop(schedules);
    state.bus.put_schedule(timed);
    Ok(json!({ "ScheduleArn": arn }))
});

handler!(get_schedule, "GetSchedule", |state, req, name| {
    let group = req.param("groupName").unwrap_or("default").to_string();
    let arn = model::schedule_arn(&state.bus, &group, &name);
    authorize(state, &req.caller, "scheduler:GetSchedule", &arn)?;
    check_name(&name, "name")?;
    check_name(&group, "groupName")?;
    group_of(state, Some(&group))?;
    let schedules = lock(&state.scheduling.schedules);
    let r = schedules
        .get(&(group, name.clone()))
        .ok_or_else(|| no_schedule(&name))?;
    Ok(model::describe(&state.bus, r))
});

handler!(delete_schedule, "DeleteSchedule", |state, req, name| {
    let group = req.param("groupName").unwrap_or("default").to_string();
    let arn = model::schedule_arn(&state.bus, &group, &name);
    authorize(state, &req.caller, "scheduler:DeleteSchedule", &arn)?;
    check_name(&name, "name")?;
    check_name(&group, "groupName")?;
    group_of(state, Some(&group))?;
    let mut schedules = lock(&state.scheduling.schedules);
    if !schedules.contains_key(&(group.clone(), name.clone())) {
        return Err(no_schedule(&name));
    }
    state
        .bus
        .put_service_record(SCHEDULE_KIND, &schedule_key(&group, &name), None)
        .map_err(|e| internal(e.to_string()))?;
    schedules.remove(&(group, name));
    state.bus.remove_schedule(&arn);
    Ok(json!({}))
});

/// `MaxResults` (1-100) and `NextToken` (the last key of the previous page).
fn page(req: &Request) -> Result<(usize, Option<String>), ApiError> {
    let mut v = Violations::default();
    let max = match req.param("MaxResults") {
        None => 100,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => n as usize,
            Ok(n) => {
                v.range(Some(wire::Int(n)), "maxResults", Some(1), Some(100));
                0
            }
            Err(_) => return Err(validation(format!("Invalid MaxResults {text}."))),
        },
    };
    v.finish()?;
    let token = match req.param("NextToken") {
        None => None,
        Some(t) => Some(
            hex::decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| validation("Invalid NextToken provided."))?,
        ),
    };
    Ok((max, token))
}

handler!(list_schedules, "ListSchedules", |state, req| {
    authorize(state, &req.caller, "scheduler:ListSchedules", "*")?;
    let mut v = Violations::default();
    let group = req.param("ScheduleGroup").map(|g| Str(g.to_string()));
    let prefix = req.param("NamePrefix").map(|g| Str(g.to_string()));
    let st = req.param("State").map(|g| Str(g.to_string()));
    v.text(group.as_ref(), "groupName", model::NAME);
    v.text(prefix.as_ref(), "namePrefix", model::NAME);
    v.one_of(st.as_ref(), "state", &["ENABLED", "DISABLED"]);
    v.finish()?;
    let (max, token) = page(&req)?;
    if let Some(Str(g)) = &group {
        group_of(state, Some(g))?;
    }
    let schedules = lock(&state.scheduling.schedules);
    let mut items = Vec::new();
    let mut next = None;
    for ((g, n), r) in schedules.iter() {
        let key = schedule_key(g, n);
        if token.as_ref().is_some_and(|t| key.as_str() <= t.as_str())
            || group.as_ref().is_some_and(|Str(x)| x != g)
            || prefix
                .as_ref()
                .is_some_and(|Str(p)| !n.starts_with(p.as_str()))
            || st.as_ref().is_some_and(|Str(s)| s != &r.state)
        {
            continue;
        }
        if items.len() == max {
            next = Some(hex::encode(last_key(&items)));
            break;
        }
        items.push(json!({
            "Arn": model::schedule_arn(&state.bus, g, n),
            "Name": n,
            "GroupName": g,
            "State": r.state,
            "CreationDate": model::seconds(r.created_ms as i64),
            "LastModificationDate": model::seconds(r.modified_ms as i64),
            "Target": {"Arn": r.target.get("Arn").cloned().unwrap_or(Value::Null)},
        }));
    }
    let mut out = json!({ "Schedules": items });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
});

/// The key of the last item of a page (group and name).
fn last_key(items: &[Value]) -> String {
    items
        .last()
        .map(|i| {
            let g = i.get("GroupName").and_then(Value::as_str);
            let n = i.get("Name").and_then(Value::as_str).unwrap_or("");
            match g {
                Some(g) => schedule_key(g, n),
                None => n.to_string(),
            }
        })
        .unwrap_or_default()
}

fn tags_in(body: &Value, v: &mut Violations) -> Result<Vec<(String, String)>, ApiError> {
    let Some(tags) = body.get("Tags") else {
        return Ok(Vec::new());
    };
    let Some(list) = tags.as_array() else {
        return Err(validation("Tags must be a list."));
    };
    let mut out = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let k = t.get("Key").and_then(Value::as_str).map(|s| Str(s.into()));
        let val = t
            .get("Value")
            .and_then(Value::as_str)
            .map(|s| Str(s.into()));
        v.required_text(
            k.as_ref(),
            &format!("tags.{}.member.key", i + 1),
            wire::Text::len(1, 128),
        );
        v.required_text(
            val.as_ref(),
            &format!("tags.{}.member.value", i + 1),
            wire::Text::len(1, 256),
        );
        if let (Some(Str(k)), Some(Str(val))) = (k, val) {
            out.push((k, val));
        }
    }
    v.count(Some(list.len()), "[...]", "tags", 0, 200);
    Ok(out)
}

fn group_json(state: &AppState, g: &GroupRecord) -> Value {
    json!({
        "Arn": model::group_arn(&state.bus, &g.name),
        "Name": g.name,
        "State": "ACTIVE",
        "CreationDate": model::seconds(g.created_ms as i64),
        "LastModificationDate": model::seconds(g.modified_ms as i64),
    })
}

handler!(create_group, "CreateScheduleGroup", |state, req, name| {
    let arn = model::group_arn(&state.bus, &name);
    authorize(state, &req.caller, "scheduler:CreateScheduleGroup", &arn)?;
    let mut v = Violations::default();
    v.text(Some(&Str(name.clone())), "name", model::NAME);
    let tags = tags_in(&req.body, &mut v)?;
    v.finish()?;
    let now = state.bus.now_ms();
    let mut groups = lock(&state.scheduling.groups);
    if groups.contains_key(&name) {
        return Err(ApiError::new(
            409,
            "ConflictException",
            format!("Schedule group {name} already exists."),
        ));
    }
    let g = GroupRecord {
        name: name.clone(),
        created_ms: now,
        modified_ms: now,
        tags,
    };
    save_group(state, &g)?;
    groups.insert(name, g);
    Ok(json!({ "ScheduleGroupArn": arn }))
});

handler!(get_group, "GetScheduleGroup", |state, req, name| {
    let arn = model::group_arn(&state.bus, &name);
    authorize(state, &req.caller, "scheduler:GetScheduleGroup", &arn)?;
    check_name(&name, "name")?;
    let groups = lock(&state.scheduling.groups);
    let g = groups.get(&name).ok_or_else(|| no_group(&name))?;
    Ok(group_json(state, g))
});

handler!(delete_group, "DeleteScheduleGroup", |state, req, name| {
    let arn = model::group_arn(&state.bus, &name);
    authorize(state, &req.caller, "scheduler:DeleteScheduleGroup", &arn)?;
    check_name(&name, "name")?;
    if name == "default" {
        return Err(validation("The default schedule group cannot be deleted."));
    }
    let mut groups = lock(&state.scheduling.groups);
    if !groups.contains_key(&name) {
        return Err(no_group(&name));
    }
    // Deleting a group deletes its schedules.
    let mut schedules = lock(&state.scheduling.schedules);
    let in_group: Vec<(String, String)> = schedules
        .keys()
        .filter(|(g, _)| *g == name)
        .cloned()
        .collect();
    for (g, n) in in_group {
        state
            .bus
            .put_service_record(SCHEDULE_KIND, &schedule_key(&g, &n), None)
            .map_err(|e| internal(e.to_string()))?;
        state
            .bus
            .remove_schedule(&model::schedule_arn(&state.bus, &g, &n));
        schedules.remove(&(g, n));
    }
    state
        .bus
        .put_service_record(GROUP_KIND, &name, None)
        .map_err(|e| internal(e.to_string()))?;
    groups.remove(&name);
    Ok(json!({}))
});

handler!(list_groups, "ListScheduleGroups", |state, req| {
    authorize(state, &req.caller, "scheduler:ListScheduleGroups", "*")?;
    let prefix = req.param("NamePrefix").map(|g| Str(g.to_string()));
    let mut v = Violations::default();
    v.text(prefix.as_ref(), "namePrefix", model::NAME);
    v.finish()?;
    let (max, token) = page(&req)?;
    let groups = lock(&state.scheduling.groups);
    let mut items = Vec::new();
    let mut next = None;
    for (name, g) in groups.iter() {
        if token.as_ref().is_some_and(|t| name.as_str() <= t.as_str())
            || prefix
                .as_ref()
                .is_some_and(|Str(p)| !name.starts_with(p.as_str()))
        {
            continue;
        }
        if items.len() == max {
            next = Some(hex::encode(last_key(&items)));
            break;
        }
        items.push(group_json(state, g));
    }
    let mut out = json!({ "ScheduleGroups": items });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
});

/// The group a tag request names (tags are on schedule groups only).
fn tagged_group(state: &AppState, arn: &str) -> Result<String, ApiError> {
    let mut v = Violations::default();
    v.text(
        Some(&Str(arn.to_string())),
        "resourceArn",
        wire::Text::pattern(
            1,
            1011,
            r"arn:aws[a-z-]*:scheduler:[a-z0-9\-]+:\d{12}:schedule-group\/[0-9a-zA-Z-_.]+",
        ),
    );
    v.finish()?;
    let name = arn.rsplit('/').next().unwrap_or("");
    if model::group_arn(&state.bus, name) != arn
        || !lock(&state.scheduling.groups).contains_key(name)
    {
        return Err(no_group(name));
    }
    Ok(name.to_string())
}

handler!(list_tags, "ListTagsForResource", |state, req, arn| {
    authorize(state, &req.caller, "scheduler:ListTagsForResource", &arn)?;
    let name = tagged_group(state, &arn)?;
    let groups = lock(&state.scheduling.groups);
    let tags: Vec<Value> = groups
        .get(&name)
        .map(|g| {
            g.tags
                .iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({ "Tags": tags }))
});

handler!(tag_resource, "TagResource", |state, req, arn| {
    authorize(state, &req.caller, "scheduler:TagResource", &arn)?;
    let mut v = Violations::default();
    if req.body.get("Tags").is_none() {
        v.required::<()>(None, "tags");
    }
    let tags = tags_in(&req.body, &mut v)?;
    v.finish()?;
    let name = tagged_group(state, &arn)?;
    let mut groups = lock(&state.scheduling.groups);
    let Some(g) = groups.get_mut(&name) else {
        return Err(no_group(&name));
    };
    let mut updated = g.clone();
    for (k, val) in tags {
        match updated.tags.iter_mut().find(|(tk, _)| *tk == k) {
            Some(existing) => existing.1 = val,
            None => updated.tags.push((k, val)),
        }
    }
    save_group(state, &updated)?;
    *g = updated;
    Ok(json!({}))
});

handler!(untag_resource, "UntagResource", |state, req, arn| {
    authorize(state, &req.caller, "scheduler:UntagResource", &arn)?;
    let keys: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| k == "TagKeys")
        .map(|(_, v)| v.clone())
        .collect();
    let name = tagged_group(state, &arn)?;
    let mut groups = lock(&state.scheduling.groups);
    let Some(g) = groups.get_mut(&name) else {
        return Err(no_group(&name));
    };
    let mut updated = g.clone();
    updated.tags.retain(|(k, _)| !keys.contains(k));
    save_group(state, &updated)?;
    *g = updated;
    Ok(json!({}))
});
