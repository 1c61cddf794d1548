//! PutEvents: per-entry validation, the event envelope, and the ingest
//! thread that matches the events of concurrent calls together (on the
//! engine's parallel path) and writes all their deliveries in one commit.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::thread;

use tokio::sync::oneshot;

use super::access::denied_message;
use super::{BusError, Compiled, Inner, bus_of};
use ferrule_core::json::write_str;
use ferrule_core::time::{format_millis, format_seconds};
use ferrule_dispatch::TargetCounters;
use ferrule_dispatch::targets::{DeliveryContext, DeliveryError, QueueTarget, Target};
use ferrule_dispatch::{Delivery, NewDelivery};
use ferrule_policy::Principal;
use ferrule_store::{ArchiveMember, ArchivedEvent, NewMessage};
use ferrule_transform::{InputSpec, Needed, RenderContext};

/// One entry of a PutEvents request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutEventsEntry {
    /// The event time (ms since the epoch); now if absent.
    pub time_ms: Option<u64>,
    /// `Source` (required).
    pub source: Option<String>,
    /// `Resources`.
    pub resources: Vec<String>,
    /// `DetailType` (required).
    pub detail_type: Option<String>,
    /// `Detail`: JSON object text (required).
    pub detail: Option<String>,
    /// `EventBusName`: a name or an ARN; `default` if absent.
    pub event_bus_name: Option<String>,
    /// `TraceHeader` (accepted, not used).
    pub trace_header: Option<String>,
}

impl PutEventsEntry {
    /// An entry for the default bus.
    pub fn new(source: &str, detail_type: &str, detail: &str) -> PutEventsEntry {
        PutEventsEntry {
            source: Some(source.to_string()),
            detail_type: Some(detail_type.to_string()),
            detail: Some(detail.to_string()),
            ..Default::default()
        }
    }

    /// The entry's size by EventBridge's rule: 14 bytes for a time, plus the
    /// UTF-8 length of Source, DetailType, Detail and each resource.
    pub fn size(&self) -> usize {
        let len = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        usize::from(self.time_ms.is_some()) * 14
            + len(&self.source)
            + len(&self.detail_type)
            + len(&self.detail)
            + self.resources.iter().map(String::len).sum::<usize>()
    }
}

/// The result of one entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutEventsResultEntry {
    /// The event id (also the delivered event's `id`), if accepted.
    pub event_id: Option<String>,
    /// Why it was not accepted.
    pub error_code: Option<String>,
    /// The message for `error_code`.
    pub error_message: Option<String>,
}

/// PutEvents' answer: one result per entry, in request order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutEventsOutput {
    /// How many entries failed.
    pub failed_entry_count: usize,
    /// The results.
    pub entries: Vec<PutEventsResultEntry>,
}

/// An accepted event on its way to matching.
pub(crate) struct Accepted {
    pub bus: String,
    pub id: String,
    pub envelope: String,
    /// The event's `time` (ms since the epoch): archives keep it by this.
    pub time_ms: u64,
    pub ingested_ms: u64,
    /// The access key of the caller who put it, carried with its deliveries
    /// so that a forwarded event is authorized as that caller on the next bus.
    pub principal: Option<String>,
}

/// The ingest thread's end of a call's answer: completed once with the
/// commit's outcome; dropped uncompleted (the thread stopped), it fails
/// the call instead of leaving it waiting ([`CommitWait`]).
struct Commit(oneshot::Sender<Result<(), BusError>>);

impl Commit {
    fn complete(self, result: Result<(), BusError>) {
        // A caller that stopped waiting needs no answer.
        let _ = self.0.send(result);
    }
}

/// The caller's end: the commit's outcome, waited for on a thread that may
/// block or awaited (an async caller needs no thread of its own to wait).
struct CommitWait(oneshot::Receiver<Result<(), BusError>>);

/// The answer of a call whose [`Commit`] was dropped uncompleted.
fn shutting_down() -> BusError {
    BusError::internal("the bus is shutting down")
}

impl CommitWait {
    /// The two ends of one call's answer.
    fn new() -> (Commit, CommitWait) {
        let (commit, wait) = oneshot::channel();
        (Commit(commit), CommitWait(wait))
    }

    /// Blocks until the commit's outcome is known (not on an async task).
    fn wait(self) -> Result<(), BusError> {
        self.0
            .blocking_recv()
            .unwrap_or_else(|_| Err(shutting_down()))
    }
}

impl Future for CommitWait {
    type Output = Result<(), BusError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or_else(|_| Err(shutting_down())))
    }
}

/// A PutEvents call's accepted events and where to answer it.
type Submission = (Vec<Accepted>, Commit);

pub(crate) struct Ingest {
    sender: Mutex<Option<SyncSender<Submission>>>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl Ingest {
    pub fn new(inner: Weak<Inner>) -> Ingest {
        let (sender, receiver) = mpsc::sync_channel(1024);
        let thread = thread::Builder::new()
            .name("ferrule-ingest".into())
            .spawn(move || ingest_loop(&inner, &receiver))
            .ok();
        Ingest {
            sender: Mutex::new(Some(sender)),
            thread: Mutex::new(thread),
        }
    }

    pub fn stop(&self) {
        if let Ok(mut s) = self.sender.lock() {
            s.take();
        }
        if let Ok(mut t) = self.thread.lock()
            && let Some(t) = t.take()
        {
            let _ = t.join();
        }
    }

    fn sender(&self) -> Result<SyncSender<Submission>, BusError> {
        self.sender
            .lock()
            .map_err(|_| BusError::internal("ingest lock poisoned"))?
            .clone()
            .ok_or_else(|| BusError::internal("the bus is shutting down"))
    }

    /// Hands `events` to the ingest thread: queued (the commit's outcome
    /// to wait for), or held when the queue is full and `block` is false
    /// (to be sent by a thread that may block: [`Stage::Held`]).
    fn submit(&self, events: Vec<Accepted>, block: bool) -> Result<Stage, BusError> {
        let sender = self.sender()?;
        let (commit, wait) = CommitWait::new();
        let gone = || BusError::internal("the bus is shutting down");
        if block {
            sender.send((events, commit)).map_err(|_| gone())?;
            return Ok(Stage::Queued(wait));
        }
        match sender.try_send((events, commit)) {
            Ok(()) => Ok(Stage::Queued(wait)),
            Err(TrySendError::Full(submission)) => Ok(Stage::Held {
                sender,
                submission,
                wait,
            }),
            Err(TrySendError::Disconnected(_)) => Err(gone()),
        }
    }
}

fn ingest_loop(inner: &Weak<Inner>, receiver: &Receiver<Submission>) {
    while let Ok(first) = receiver.recv() {
        let mut count = first.0.len();
        let mut batch = vec![first];
        while count < 2048 {
            match receiver.try_recv() {
                Ok(more) => {
                    count += more.0.len();
                    batch.push(more);
                }
                Err(_) => break,
            }
        }
        let (events, commits): (Vec<Vec<Accepted>>, Vec<Commit>) = batch.into_iter().unzip();
        let result = match inner.upgrade() {
            Some(inner) => deliver_batch(&inner, &events),
            None => Err(shutting_down()),
        };
        for commit in commits {
            commit.complete(result.clone());
        }
    }
}

/// What a batch writes: archived events, archive members, deliveries, and
/// messages for built-in queues with whose counter each bumps once sent.
#[derive(Default)]
struct Routed {
    archived: Vec<ArchivedEvent>,
    members: Vec<ArchiveMember>,
    deliveries: Vec<NewDelivery>,
    sends: Vec<(String, NewMessage)>,
    sent_by: Vec<SentBy>,
}

/// The target counters of a message sent to a built-in queue, and its
/// (bus, rule, target, queue) for the log should the queue be gone.
type SentBy = (Arc<TargetCounters>, [String; 4]);

/// Matches a batch of accepted events and writes what they cause, in one
/// commit (with `SyncMode::Always`, synced) before it returns.
fn deliver_batch(inner: &Inner, batch: &[Vec<Accepted>]) -> Result<(), BusError> {
    let now = inner.clock.now_ms();
    let Routed {
        archived,
        members,
        deliveries,
        sends,
        sent_by,
    } = route(inner, batch, now)?;
    if deliveries.is_empty() && members.is_empty() && sends.is_empty() {
        return Ok(());
    }
    let notify = !deliveries.is_empty();
    let (_, sent) = inner
        .store
        .ingest_sending(archived, members, deliveries, sends, now)?;
    if notify {
        inner.dispatcher.notify();
    }
    count_sent(&sent_by, &sent);
    Ok(())
}

/// Bumps the delivered counter of each message sent to a built-in queue.
fn count_sent(sent_by: &[SentBy], sent: &[bool]) {
    for ((counters, [bus, rule, target, queue]), sent) in sent_by.iter().zip(sent) {
        if *sent {
            counters
                .delivered
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        } else {
            // Deleted between the resolution and the commit, as a
            // settlement into a deleted queue is.
            tracing::error!(
                bus,
                rule,
                target,
                queue,
                "the queue was deleted; dropping the event"
            );
        }
    }
}

/// Below this many events a batch is matched on the ingest thread itself:
/// handing a small batch to rayon's pool costs more (waking its workers,
/// which then spin before sleeping again) than matching it, and on a busy
/// machine that spin takes CPU from the requests.
const PARALLEL_FROM: usize = 1024;

/// Matches a batch of accepted events and builds their writes.
/// Deliveries into built-in queues need no attempt: their messages are
/// sent in the same commit instead of going through the delivery log (one
/// write per message instead of a log entry, an event reference, a lease
/// and a settlement).
fn route(inner: &Inner, batch: &[Vec<Accepted>], now: u64) -> Result<Routed, BusError> {
    let mut by_bus: BTreeMap<&str, Vec<&Accepted>> = BTreeMap::new();
    for events in batch {
        for e in events {
            by_bus.entry(e.bus.as_str()).or_default().push(e);
        }
    }
    let mut out = Routed::default();
    let Routed {
        archived,
        members,
        deliveries,
        sends,
        sent_by,
    } = &mut out;
    // Target ARN → its built-in queue (`None`: another kind of target).
    let mut queues: HashMap<String, Option<String>> = HashMap::new();
    // The target counters of one event's deliveries.
    let mut owners = Vec::new();
    // Each event with a delivery or an archive is archived once; its
    // deliveries and archive members refer to it.
    for (bus, events) in by_bus {
        // Events for a bus that does not exist are accepted and dropped, as
        // EventBridge does.
        let Some(compiled) = inner.compiled(bus)? else {
            continue;
        };
        let texts: Vec<&[u8]> = events.iter().map(|e| e.envelope.as_bytes()).collect();
        // The envelopes were built here from validated parts: the trusted
        // reader skips the re-validation.
        let results = if texts.len() < PARALLEL_FROM {
            texts
                .iter()
                .map(|t| compiled.matcher.matches_trusted(t))
                .collect()
        } else {
            compiled.matcher.matches_batch_trusted(&texts)
        };
        for (event, result) in events.iter().zip(results) {
            let Ok(ids) = result else { continue };
            let before = (deliveries.len(), members.len());
            owners.clear();
            fan_out(
                bus,
                &compiled,
                event,
                &ids,
                None,
                now,
                deliveries,
                members,
                Some(&mut owners),
            );
            let mut kept = before.0;
            for i in before.0..deliveries.len() {
                let arn = deliveries[i].delivery.target_arn.as_str();
                let queue = match queues.get(arn) {
                    Some(q) => q.clone(),
                    None => {
                        let q = inner
                            .dispatcher
                            .resolve(arn)
                            .and_then(|t| t.built_in_queue().map(str::to_string));
                        queues.insert(arn.to_string(), q.clone());
                        q
                    }
                };
                match queue {
                    Some(queue) => {
                        let d = std::mem::replace(
                            &mut deliveries[i].delivery,
                            Delivery::new("", "", "", "", ""),
                        );
                        sent_by.push((
                            Arc::clone(&owners[i - before.0]),
                            [d.bus, d.rule, d.target_id, queue.clone()],
                        ));
                        sends.push((queue, QueueTarget::message(d.payload, d.message_group_id)));
                    }
                    None => {
                        deliveries.swap(kept, i);
                        kept += 1;
                    }
                }
            }
            deliveries.truncate(kept);
            if (deliveries.len(), members.len()) != before {
                archived.push(ArchivedEvent {
                    id: event.id.clone(),
                    bus: bus.to_string(),
                    time_ms: event.ingested_ms,
                    body: event.envelope.as_bytes().to_vec(),
                });
            }
        }
    }
    Ok(out)
}

/// The deliveries of one matched event (rules `ids` of `compiled`; only
/// those whose ARN is in `only` when given), and its members of the
/// archives whose rules matched; with `owners`, the counters of each
/// delivery's target, in the order of `deliveries`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fan_out(
    bus: &str,
    compiled: &Compiled,
    event: &Accepted,
    ids: &[ferrule::RuleId],
    only: Option<&std::collections::HashSet<String>>,
    now: u64,
    deliveries: &mut Vec<NewDelivery>,
    members: &mut Vec<ArchiveMember>,
    mut owners: Option<&mut Vec<Arc<TargetCounters>>>,
) {
    for id in ids {
        let Some(rule) = compiled.rules.get(id.index()) else {
            continue;
        };
        if only.is_some_and(|o| !o.contains(&rule.arn)) {
            continue;
        }
        if let Some(archive) = &rule.archive {
            members.push(ArchiveMember {
                archive: archive.clone(),
                event_id: event.id.clone(),
                time_ms: event.time_ms,
            });
        }
    }
    let mut parsed: Option<Result<serde_json::Value, String>> = None;
    // Formatted only for a target that transforms (most deliver the whole
    // event): the formatting was 1.4% of the server's CPU under load.
    let mut ingestion_time: Option<String> = None;
    for id in ids {
        let Some(rule) = compiled.rules.get(id.index()) else {
            continue;
        };
        if only.is_some_and(|o| !o.contains(&rule.arn)) {
            continue;
        }
        rule.matched
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for (target, spec, counters) in &rule.targets {
            let payload = match spec {
                InputSpec::WholeEvent => Ok(event.envelope.clone()),
                InputSpec::Constant(text) => Ok(text.clone()),
                _ => {
                    if parsed.is_none() {
                        // One partial parse per event, of the members
                        // the bus's targets read, shared by all of
                        // them. A selected value serde_json cannot
                        // hold (a number beyond f64) fails this
                        // target's transformation alone.
                        parsed = Some(
                            compiled
                                .needed
                                .read(&event.envelope)
                                .map_err(|e| e.to_string()),
                        );
                    }
                    let ingestion_time =
                        ingestion_time.get_or_insert_with(|| format_millis(event.ingested_ms));
                    let context = RenderContext {
                        rule_arn: &rule.arn,
                        rule_name: &rule.name,
                        ingestion_time: ingestion_time.as_str(),
                    };
                    match &parsed {
                        Some(Ok(value)) => spec
                            .render(value, &context)
                            .map_err(|e| e.reason().to_string()),
                        // Some target's member cannot be read: this
                        // target reads its own members, so that only
                        // the targets selecting it fail.
                        Some(Err(_)) => Needed::of(spec)
                            .read(&event.envelope)
                            .map_err(|e| e.to_string())
                            .and_then(|value| {
                                spec.render(&value, &context)
                                    .map_err(|e| e.reason().to_string())
                            }),
                        None => Err("unparsed".to_string()),
                    }
                }
            };
            let Ok(payload) = payload else {
                counters
                    .invalid_input
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            };
            let policy = target.retry_policy.unwrap_or_default();
            let mut d = Delivery::new(
                event.id.clone(),
                bus,
                rule.name.clone(),
                target.arn.clone(),
                payload,
            );
            d.rule_arn.clone_from(&rule.arn);
            d.target_id.clone_from(&target.id);
            d.max_retries = policy.retries();
            d.max_age_ms = policy.max_age_ms();
            d.dead_letter_arn = target.dead_letter_config.as_ref().map(|d| d.arn.clone());
            d.ingested_ms = event.ingested_ms;
            d.principal.clone_from(&event.principal);
            d.message_group_id = target.message_group_id().map(str::to_string);
            deliveries.push(NewDelivery {
                due_ms: now,
                delivery: d,
            });
            if let Some(owners) = owners.as_deref_mut() {
                owners.push(Arc::clone(counters));
            }
        }
    }
}

fn entry_error(code: &str, message: &str) -> PutEventsResultEntry {
    PutEventsResultEntry {
        event_id: None,
        error_code: Some(code.to_string()),
        error_message: Some(message.to_string()),
    }
}

fn required(name: &str) -> PutEventsResultEntry {
    entry_error(
        "InvalidArgument",
        &format!("Parameter {name} is not valid. Reason: {name} is a required argument."),
    )
}

fn valid_bus_parameter(name: &str) -> bool {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    };
    plain(name) || ferrule_core::arn::bus_name(name).is_some_and(plain)
}

/// Validates one entry: `Ok(envelope parts)` or the entry's error.
fn check_entry(entry: &PutEventsEntry, from: Origin) -> Result<(), PutEventsResultEntry> {
    let source = entry.source.as_deref().filter(|s| !s.is_empty());
    let Some(source) = source else {
        return Err(required("Source"));
    };
    if entry.detail_type.as_deref().is_none_or(str::is_empty) {
        return Err(required("DetailType"));
    }
    let Some(detail) = entry.detail.as_deref().filter(|s| !s.is_empty()) else {
        return Err(required("Detail"));
    };
    // The engine's validating reader: numbers beyond f64 are valid JSON.
    if !detail.trim_start().starts_with('{') || ferrule::validate_event(detail.as_bytes()).is_err()
    {
        return Err(entry_error("MalformedDetail", "Detail is malformed."));
    }
    if source.starts_with("aws.") && from == Origin::Caller {
        return Err(entry_error(
            "NotAuthorizedForSourceException",
            "Not authorized for the source.",
        ));
    }
    if entry
        .event_bus_name
        .as_deref()
        .is_some_and(|b| !valid_bus_parameter(b))
    {
        return Err(entry_error(
            "InvalidArgument",
            "Parameter EventBusName is not valid.",
        ));
    }
    Ok(())
}

/// Builds the envelope delivered to targets, in EventBridge's key order.
pub(crate) fn envelope(inner: &Inner, entry: &PutEventsEntry, id: &str, time_ms: u64) -> String {
    let mut out = String::with_capacity(256 + entry.size());
    out.push_str("{\"version\":\"0\",\"id\":");
    write_str(id, &mut out);
    out.push_str(",\"detail-type\":");
    write_str(entry.detail_type.as_deref().unwrap_or(""), &mut out);
    out.push_str(",\"source\":");
    write_str(entry.source.as_deref().unwrap_or(""), &mut out);
    out.push_str(",\"account\":");
    write_str(&inner.account, &mut out);
    out.push_str(",\"time\":");
    write_str(&format_seconds(time_ms), &mut out);
    out.push_str(",\"region\":");
    write_str(&inner.region, &mut out);
    out.push_str(",\"resources\":[");
    for (i, r) in entry.resources.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(r, &mut out);
    }
    out.push_str("],\"detail\":");
    out.push_str(entry.detail.as_deref().unwrap_or("{}"));
    out.push('}');
    out
}

/// Who puts events: a caller of PutEvents, or an AWS service inside ferrule
/// (the states runner's status-change events), which may use `aws.*` sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A PutEvents caller (an embedder, a client, a forwarding rule).
    Caller,
    /// A service of ferrule itself.
    Service,
}

/// PutEvents, blocking until its entries are committed.
pub(crate) fn put_events(
    inner: &Inner,
    entries: Vec<PutEventsEntry>,
    caller: &Principal,
    from: Origin,
) -> Result<PutEventsOutput, BusError> {
    start(inner, entries, caller, from, true).map(PendingPutEvents::wait)
}

/// How far a [`PendingPutEvents`] has gone.
enum Stage {
    /// Nothing to wait for: no entry was accepted, or handing them over failed.
    Done,
    /// With the ingest thread: its commit's outcome.
    Queued(CommitWait),
    /// The ingest queue was full: still to be sent, by a thread that may block.
    Held {
        sender: SyncSender<Submission>,
        submission: Submission,
        wait: CommitWait,
    },
}

/// A PutEvents call whose entries are checked, authorized and handed to
/// the ingest thread: its answer once they are committed (with
/// `SyncMode::Always`, synced), waited for with [`PendingPutEvents::wait`]
/// or awaited through [`PendingPutEvents::into_future`].
pub struct PendingPutEvents {
    results: Vec<PutEventsResultEntry>,
    /// The results of the accepted entries (they fail if the commit does).
    accepted_at: Vec<usize>,
    stage: Stage,
}

impl std::fmt::Debug for PendingPutEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stage = match self.stage {
            Stage::Done => "done",
            Stage::Queued(_) => "queued",
            Stage::Held { .. } => "held",
        };
        f.debug_struct("PendingPutEvents")
            .field("entries", &self.results.len())
            .field("accepted", &self.accepted_at.len())
            .field("stage", &stage)
            .finish()
    }
}

impl PendingPutEvents {
    /// Whether answering needs a thread that may block: the ingest queue
    /// was full, so the entries still have to be sent (backpressure).
    pub fn must_block(&self) -> bool {
        matches!(self.stage, Stage::Held { .. })
    }

    /// Blocks until the entries are committed; the answer.
    pub fn wait(self) -> PutEventsOutput {
        let PendingPutEvents {
            results,
            accepted_at,
            stage,
        } = self;
        let outcome = match stage {
            Stage::Done => Ok(()),
            Stage::Queued(wait) => wait.wait(),
            Stage::Held {
                sender,
                submission,
                wait,
            } => match sender.send(submission) {
                Ok(()) => wait.wait(),
                Err(_) => Err(shutting_down()),
            },
        };
        finish(results, &accepted_at, outcome)
    }

    /// The answer as a future that never blocks its thread, unless
    /// [`PendingPutEvents::must_block`]: then `Err(self)`, for
    /// [`PendingPutEvents::wait`] on a thread that may block.
    pub fn into_future(
        self,
    ) -> Result<impl Future<Output = PutEventsOutput> + Send + 'static, PendingPutEvents> {
        if self.must_block() {
            return Err(self);
        }
        let PendingPutEvents {
            results,
            accepted_at,
            stage,
        } = self;
        Ok(async move {
            let outcome = match stage {
                Stage::Queued(wait) => wait.await,
                Stage::Done => Ok(()),
                // Refused above; never acknowledged uncommitted.
                Stage::Held { .. } => Err(BusError::internal("the entries were not sent")),
            };
            finish(results, &accepted_at, outcome)
        })
    }
}

/// The answer: the accepted entries fail with the commit's error, if any.
fn finish(
    mut results: Vec<PutEventsResultEntry>,
    accepted_at: &[usize],
    outcome: Result<(), BusError>,
) -> PutEventsOutput {
    if let Err(e) = outcome {
        for &i in accepted_at {
            results[i] = entry_error("InternalFailure", e.message());
        }
    }
    let failed_entry_count = results.iter().filter(|r| r.error_code.is_some()).count();
    PutEventsOutput {
        failed_entry_count,
        entries: results,
    }
}

/// Checks and authorizes each entry, builds the accepted ones' envelopes
/// and hands them to the ingest thread; `block`: whether sending may wait
/// for room in its queue (else the entries are held, [`Stage::Held`]).
pub(crate) fn start(
    inner: &Inner,
    entries: Vec<PutEventsEntry>,
    caller: &Principal,
    from: Origin,
    block: bool,
) -> Result<PendingPutEvents, BusError> {
    let max = inner.limits.entries_per_request;
    if entries.is_empty() {
        return Err(BusError::constraint(
            "[]",
            "entries",
            "Member must have length greater than or equal to 1",
        ));
    }
    if entries.len() > max {
        return Err(BusError::constraint(
            "[...]",
            "entries",
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    let total: usize = entries.iter().map(PutEventsEntry::size).sum();
    if total > inner.limits.request_bytes {
        return Err(BusError::validation(
            "Total size of the entries in the request is over the limit.",
        ));
    }
    let now = inner.clock.now_ms();
    let mut results = Vec::with_capacity(entries.len());
    let mut accepted = Vec::new();
    let mut accepted_at = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        match check_entry(entry, from).and_then(|()| check_access(inner, entry, caller)) {
            Err(e) => results.push(e),
            Ok(bus) => {
                let id = uuid::Uuid::new_v4().to_string();
                let time = entry.time_ms.unwrap_or(now);
                accepted.push(Accepted {
                    bus,
                    envelope: envelope(inner, entry, &id, time),
                    time_ms: time,
                    id: id.clone(),
                    ingested_ms: now,
                    principal: caller.access_key().map(str::to_string),
                });
                accepted_at.push(i);
                results.push(PutEventsResultEntry {
                    event_id: Some(id),
                    ..Default::default()
                });
            }
        }
    }
    let stage = if accepted.is_empty() {
        Stage::Done
    } else {
        match inner.ingest.submit(accepted, block) {
            Ok(stage) => stage,
            Err(e) => {
                for &i in &accepted_at {
                    results[i] = entry_error("InternalFailure", e.message());
                }
                Stage::Done
            }
        }
    };
    Ok(PendingPutEvents {
        results,
        accepted_at,
        stage,
    })
}

/// Authorizes `events:PutEvents` of one (valid) entry on its bus before it
/// is accepted; returns the bus name.
fn check_access(
    inner: &Inner,
    entry: &PutEventsEntry,
    caller: &Principal,
) -> Result<String, PutEventsResultEntry> {
    let bus = bus_of(entry.event_bus_name.as_deref());
    let arn = inner.bus_arn(&bus);
    let context = [
        ("events:source", entry.source.as_deref().unwrap_or("")),
        (
            "events:detail-type",
            entry.detail_type.as_deref().unwrap_or(""),
        ),
    ];
    match inner.authorize(caller, "events:PutEvents", &arn, &bus, &context) {
        Ok(d) if d.is_allowed() => Ok(bus),
        Ok(d) => Err(entry_error(
            "AccessDeniedException",
            &denied_message(caller, "events:PutEvents", &arn, d),
        )),
        Err(e) => Err(entry_error("InternalFailure", e.message())),
    }
}

/// Another bus as a target: the event is put on it again.
pub(crate) struct BusTarget {
    pub inner: Weak<Inner>,
    pub bus: String,
}

impl Target for BusTarget {
    fn deliver(&self, payload: &str, context: &DeliveryContext<'_>) -> Result<(), DeliveryError> {
        let inner = self.inner.upgrade().ok_or_else(|| {
            DeliveryError::retryable("INTERNAL_ERROR", "the bus is shutting down")
        })?;
        // Forwarding acts for the caller who put the event: the next bus's
        // policies apply to them, so a rule cannot route around a policy.
        let caller = inner.principal_of(context.principal).ok_or_else(|| {
            DeliveryError::permanent(
                "NO_PERMISSIONS",
                "the credential that put the event is no longer configured",
            )
        })?;
        let event: serde_json::Value = serde_json::from_str(payload)
            .map_err(|_| DeliveryError::permanent("INVALID_JSON", "the payload is not an event"))?;
        let text = |k: &str| event.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let entry = PutEventsEntry {
            time_ms: None,
            source: text("source"),
            detail_type: text("detail-type"),
            detail: event.get("detail").map(|d| d.to_string()),
            resources: event
                .get("resources")
                .and_then(|r| r.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            event_bus_name: Some(self.bus.clone()),
            trace_header: None,
        };
        let out = put_events(&inner, vec![entry], &caller, Origin::Caller)
            .map_err(|e| DeliveryError::retryable("INTERNAL_ERROR", e.message()))?;
        match out.entries.first() {
            Some(PutEventsResultEntry {
                error_code: Some(code),
                error_message,
                ..
            }) if code == "AccessDeniedException" => Err(DeliveryError::permanent(
                "NO_PERMISSIONS",
                error_message.as_deref().unwrap_or(code),
            )),
            Some(PutEventsResultEntry {
                error_code: Some(code),
                error_message,
                ..
            }) => Err(DeliveryError::permanent(
                "INVALID_PARAMETER",
                format!("{code}: {}", error_message.as_deref().unwrap_or("")),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    /// Counts its wake-ups.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(wait: &mut CommitWait, waker: &Waker) -> Poll<Result<(), BusError>> {
        Pin::new(wait).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn a_commit_is_waited_for_or_awaited() {
        let (commit, wait) = CommitWait::new();
        let t = thread::spawn(move || wait.wait());
        commit.complete(Err(BusError::internal("disk full")));
        let e = t.join().unwrap().unwrap_err();
        assert_eq!(e.message(), "disk full");

        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let (commit, mut wait) = CommitWait::new();
        assert!(poll(&mut wait, &waker).is_pending());
        assert!(poll(&mut wait, &waker).is_pending());
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        thread::spawn(move || commit.complete(Ok(())))
            .join()
            .unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(matches!(poll(&mut wait, &waker), Poll::Ready(Ok(()))));
    }

    #[test]
    fn a_commit_dropped_uncompleted_fails_its_call() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let (commit, mut wait) = CommitWait::new();
        assert!(poll(&mut wait, &waker).is_pending());
        drop(commit);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        match poll(&mut wait, &waker) {
            Poll::Ready(Err(e)) => assert_eq!(e.message(), "the bus is shutting down"),
            other => panic!("{other:?}"),
        }
        let (commit, wait) = CommitWait::new();
        drop(commit);
        assert!(wait.wait().is_err());
    }

    /// Wakes the thread that polls.
    struct Unpark(thread::Thread);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            thread::park();
        }
    }

    #[test]
    fn an_awaited_put_answers_once_its_events_are_delivered_durably() {
        use crate::{Bus, BusOptions, PutEventsStart, PutRuleInput, TargetConfig};
        use ferrule_dispatch::targets::ChannelTarget;
        let dir = std::env::temp_dir().join(format!("ferrule-ingest-{}", uuid::Uuid::new_v4()));
        let bus = Bus::open(BusOptions::new(&dir)).unwrap();
        let (tx, rx) = mpsc::sync_channel(16);
        bus.register_target("arn:ferrule:channel:t", Arc::new(ChannelTarget(tx)));
        bus.put_rule(PutRuleInput::new("r", r#"{"source": ["shop"]}"#))
            .unwrap();
        bus.put_targets(
            "r",
            None,
            vec![TargetConfig {
                id: "t".into(),
                arn: "arn:ferrule:channel:t".into(),
                ..Default::default()
            }],
        )
        .unwrap();
        let me = Principal::account_root(&bus.inner.account);
        let entries = vec![
            PutEventsEntry::new("shop", "Order", r#"{"n": 1}"#),
            PutEventsEntry::new("shop", "Order", "not json"),
        ];
        let Ok(PutEventsStart::Pending(pending)) = bus.start_put_events_as(&me, entries, false)
        else {
            panic!("not pending");
        };
        let out = block_on(pending.into_future().expect("room in the queue"));
        assert_eq!(out.failed_entry_count, 1);
        assert_eq!(
            out.entries[1].error_code.as_deref(),
            Some("MalformedDetail")
        );
        let delivered = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        assert!(delivered.contains(out.entries[0].event_id.as_deref().unwrap()));
        // A service's source is refused to a caller, as by `put_events_as`.
        let Ok(PutEventsStart::Pending(pending)) =
            bus.start_put_events_as(&me, vec![PutEventsEntry::new("aws.s3", "x", "{}")], false)
        else {
            panic!("not pending");
        };
        assert_eq!(pending.wait().failed_entry_count, 1);
        // Another account's bus goes through the blocking path.
        let foreign = PutEventsEntry {
            event_bus_name: Some("arn:aws:events:us-east-1:999999999999:event-bus/x".into()),
            ..PutEventsEntry::new("shop", "Order", "{}")
        };
        assert!(matches!(
            bus.start_put_events_as(&me, vec![foreign], false),
            Ok(PutEventsStart::Routed(e)) if e.len() == 1
        ));
        assert!(bus.start_put_events_as(&me, Vec::new(), false).is_err());
        drop(bus);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_full_queue_holds_the_entries_for_a_blocking_send() {
        let (sender, receiver) = mpsc::sync_channel::<Submission>(1);
        let ingest = Ingest {
            sender: Mutex::new(Some(sender)),
            thread: Mutex::new(None),
        };
        assert!(matches!(
            ingest.submit(Vec::new(), false),
            Ok(Stage::Queued(_))
        ));
        let Ok(held @ Stage::Held { .. }) = ingest.submit(Vec::new(), false) else {
            panic!("not held");
        };
        let pending = PendingPutEvents {
            results: vec![PutEventsResultEntry {
                event_id: Some("e".into()),
                ..Default::default()
            }],
            accepted_at: vec![0],
            stage: held,
        };
        assert!(pending.must_block());
        let pending = pending.into_future().err().expect("must block");
        // The ingest side: take the first, then answer the second once sent.
        let t = thread::spawn(move || {
            let (_, first) = receiver.recv().unwrap();
            first.complete(Ok(()));
            let (_, second) = receiver.recv().unwrap();
            second.complete(Err(BusError::internal("disk full")));
        });
        let out = pending.wait();
        t.join().unwrap();
        assert_eq!(out.failed_entry_count, 1);
        assert_eq!(
            out.entries[0].error_code.as_deref(),
            Some("InternalFailure")
        );
        assert_eq!(out.entries[0].error_message.as_deref(), Some("disk full"));
    }
}
