//! [`MemoryStore`]: every concern in memory, behind one lock.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::{
    ArchiveMember, ArchiveStats, ArchivedEvent, Change, DEDUP_WINDOW_MS, Deletion, Delivery,
    DeliveryId, DeliveryLog, EventArchive, Expect, Fifo, GroupGate, Lease, Leased, MetadataStore,
    NewDelivery, NewMessage, Outcome, QueueCounts, QueueInfo, QueueMessage, QueueStore, Receipt,
    Received, Record, Settled, Store, StoreError, VisibilityChange,
};

/// A store in memory: for tests, and for embedders that need no
/// durability. Clones share the same data ([`MemoryStore::reopen`] is a
/// clone, standing for a restart that kept the data), so the conformance
/// suite's crash tests run on it too.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// The last number given to a delivery, message or queue.
    seq: u64,
    /// The last lease or receive token given.
    token: u64,
    /// (due time, id) of every delivery.
    ready: BTreeSet<(u64, u64)>,
    /// id → (lease token, deadline) of leased deliveries.
    leases: HashMap<u64, (u64, u64)>,
    /// id → (its key in `ready`, the delivery).
    deliveries: HashMap<u64, ((u64, u64), Delivery)>,
    queues: BTreeMap<String, Queue>,
    /// (kind, name) → (value, version); `None`: deleted.
    records: Records,
    version: u64,
    events: HashMap<String, ArchivedEvent>,
    events_by_time: BTreeSet<(u64, String)>,
    /// Named archives: archive → (member time, event id) → body size.
    members: BTreeMap<String, BTreeMap<(u64, String), u64>>,
    /// Writes fail with this while set (fault injection).
    failure: Option<StoreError>,
}

/// (kind, name) → (value, version); a `None` value is a deletion.
type Records = BTreeMap<(String, String), (Option<Vec<u8>>, u64)>;

#[derive(Debug)]
struct Queue {
    id: u64,
    info: QueueInfo,
    messages: BTreeMap<u64, Message>,
    /// FIFO: deduplication key → (first sent, its sequence number).
    dedup: HashMap<String, (u64, u64)>,
}

#[derive(Debug)]
struct Message {
    message: QueueMessage,
    visible_at_ms: u64,
    receive_count: u32,
    first_receive_ms: u64,
    /// The token of the latest receive (0: never received).
    token: u64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Another handle on the same data, as a process restarted over a
    /// durable store would see it (leases and visibility included).
    pub fn reopen(&self) -> MemoryStore {
        self.clone()
    }

    /// While `failure` is set, every write fails with it and changes
    /// nothing (to test callers' handling of store errors).
    pub fn fail_writes(&self, failure: Option<StoreError>) {
        self.lock().failure = failure;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state, for a write.
    fn write(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        let state = self.lock();
        match &state.failure {
            Some(e) => Err(e.clone()),
            None => Ok(state),
        }
    }
}

impl State {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn next_token(&mut self) -> u64 {
        self.token += 1;
        self.token
    }

    fn queue(&self, name: &str) -> Result<&Queue, StoreError> {
        self.queues
            .get(name)
            .ok_or_else(|| StoreError::not_found(format!("queue {name}")))
    }

    fn queue_mut(&mut self, name: &str) -> Result<&mut Queue, StoreError> {
        self.queues
            .get_mut(name)
            .ok_or_else(|| StoreError::not_found(format!("queue {name}")))
    }

    fn send(&mut self, queue: &str, messages: Vec<NewMessage>, now_ms: u64) -> Vec<u64> {
        let Some(fifo) = self.queues.get(queue).map(|q| Fifo::of(&q.info.attributes)) else {
            return Vec::new();
        };
        let mut seqs = Vec::with_capacity(messages.len());
        if fifo.is_some()
            && let Some(q) = self.queues.get_mut(queue)
        {
            q.dedup
                .retain(|_, (sent, _)| sent.saturating_add(DEDUP_WINDOW_MS) > now_ms);
        }
        for m in messages {
            let dedup_id = fifo.and_then(|f| f.dedup_id(&m));
            let key = fifo
                .zip(dedup_id.as_deref())
                .map(|(f, id)| f.dedup_key(id, m.group_id.as_deref()));
            if let Some(key) = &key
                && let Some((_, seq)) = self.queues.get(queue).and_then(|q| q.dedup.get(key))
            {
                seqs.push(*seq);
                continue;
            }
            let seq = self.next_seq();
            seqs.push(seq);
            let Some(q) = self.queues.get_mut(queue) else {
                continue;
            };
            if let Some(key) = key {
                q.dedup.insert(key, (now_ms, seq));
            }
            q.messages.insert(
                seq,
                Message {
                    message: QueueMessage {
                        seq,
                        body: m.body,
                        attributes: m.attributes,
                        sent_ms: now_ms,
                        group_id: m.group_id,
                        dedup_id,
                    },
                    visible_at_ms: now_ms.saturating_add(m.delay_ms),
                    receive_count: 0,
                    first_receive_ms: 0,
                    token: 0,
                },
            );
        }
        seqs
    }

    /// The message `receipt` names, or what became of it.
    fn receipted(&mut self, queue: &str, receipt: &str) -> Result<Found<'_>, StoreError> {
        let r = Receipt::decode(receipt)?;
        let q = self.queue_mut(queue)?;
        if r.queue_id != q.id {
            return Err(StoreError::invalid(format!(
                "receipt handle {receipt:?} is not one of queue {queue}"
            )));
        }
        Ok(match q.messages.get_mut(&r.seq) {
            None => Found::Gone,
            Some(m) if m.token != r.token => Found::Superseded,
            Some(_) => Found::Current(q, r.seq),
        })
    }
}

enum Found<'a> {
    Current(&'a mut Queue, u64),
    Gone,
    Superseded,
}

impl DeliveryLog for MemoryStore {
    fn append(&self, deliveries: Vec<NewDelivery>) -> Result<Vec<DeliveryId>, StoreError> {
        let mut s = self.write()?;
        let mut ids = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            let id = s.next_seq();
            let key = (d.due_ms, id);
            s.ready.insert(key);
            s.deliveries.insert(id, (key, d.delivery));
            ids.push(DeliveryId(id));
        }
        Ok(ids)
    }

    fn lease(&self, now_ms: u64, limit: usize, until_ms: u64) -> Result<Vec<Leased>, StoreError> {
        let mut s = self.write()?;
        let keys: Vec<(u64, u64)> = s
            .ready
            .range(..=(now_ms, u64::MAX))
            .filter(|(_, id)| s.leases.get(id).is_none_or(|(_, until)| *until <= now_ms))
            .take(limit)
            .copied()
            .collect();
        let mut out = Vec::with_capacity(keys.len());
        for (due_ms, id) in keys {
            let token = s.next_token();
            s.leases.insert(id, (token, until_ms));
            let Some((_, delivery)) = s.deliveries.get(&id) else {
                return Err(StoreError::fatal(format!("delivery {id} has no record")));
            };
            out.push(Leased {
                lease: Lease::new(DeliveryId(id), token, until_ms),
                due_ms,
                delivery: delivery.clone(),
            });
        }
        Ok(out)
    }

    fn settle(
        &self,
        now_ms: u64,
        outcomes: Vec<(Lease, Outcome)>,
    ) -> Result<Vec<Settled>, StoreError> {
        let mut s = self.write()?;
        let mut answers = Vec::with_capacity(outcomes.len());
        for (lease, outcome) in outcomes {
            let id = lease.id().0;
            if s.leases.get(&id).map(|(token, _)| *token) != Some(lease.token()) {
                answers.push(Settled::LeaseLost);
                continue;
            }
            let send = match &outcome {
                Outcome::AckAndSend { queue, message } => Some((queue, message)),
                Outcome::DeadLetter {
                    to: Some((queue, message)),
                } => Some((queue, message)),
                _ => None,
            };
            if let Some((queue, _)) = send
                && !s.queues.contains_key(queue)
            {
                answers.push(Settled::NoQueue);
                continue;
            }
            s.leases.remove(&id);
            let Some((key, _)) = s.deliveries.get(&id).map(|(k, _)| (*k, ())) else {
                answers.push(Settled::LeaseLost);
                continue;
            };
            s.ready.remove(&key);
            match outcome {
                Outcome::Ack | Outcome::DeadLetter { to: None } => {
                    s.deliveries.remove(&id);
                }
                Outcome::AckAndSend { queue, message }
                | Outcome::DeadLetter {
                    to: Some((queue, message)),
                } => {
                    s.deliveries.remove(&id);
                    s.send(&queue, vec![message], now_ms);
                }
                Outcome::Retry {
                    retry_at_ms,
                    attempts,
                    last_error,
                } => {
                    let new_key = (retry_at_ms, id);
                    s.ready.insert(new_key);
                    if let Some((slot, d)) = s.deliveries.get_mut(&id) {
                        *slot = new_key;
                        d.attempts = attempts;
                        d.last_error = last_error;
                    }
                }
                Outcome::Release => {
                    let new_key = (now_ms, id);
                    s.ready.insert(new_key);
                    if let Some((slot, _)) = s.deliveries.get_mut(&id) {
                        *slot = new_key;
                    }
                }
            }
            answers.push(Settled::Applied);
        }
        Ok(answers)
    }

    fn next_ready(&self) -> Result<Option<u64>, StoreError> {
        let s = self.lock();
        let unleased = s
            .ready
            .iter()
            .find(|(_, id)| !s.leases.contains_key(id))
            .map(|k| k.0);
        let deadline = s.leases.values().map(|(_, until)| *until).min();
        Ok(match (unleased, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    fn pending(&self) -> Result<u64, StoreError> {
        Ok(self.lock().deliveries.len() as u64)
    }
}

impl QueueStore for MemoryStore {
    fn create_queue(
        &self,
        name: &str,
        attributes: BTreeMap<String, String>,
        now_ms: u64,
    ) -> Result<(QueueInfo, bool), StoreError> {
        let mut s = self.write()?;
        if let Some(q) = s.queues.get(name) {
            return Ok((q.info.clone(), false));
        }
        let id = s.next_seq();
        let info = QueueInfo {
            name: name.to_string(),
            attributes,
            created_ms: now_ms,
            modified_ms: now_ms,
        };
        s.queues.insert(
            name.to_string(),
            Queue {
                id,
                info: info.clone(),
                messages: BTreeMap::new(),
                dedup: HashMap::new(),
            },
        );
        Ok((info, true))
    }

    fn set_queue_attributes(
        &self,
        name: &str,
        attributes: BTreeMap<String, String>,
        now_ms: u64,
    ) -> Result<QueueInfo, StoreError> {
        let mut s = self.write()?;
        let q = s.queue_mut(name)?;
        q.info.attributes.extend(attributes);
        q.info.modified_ms = now_ms;
        Ok(q.info.clone())
    }

    fn delete_queue(&self, name: &str) -> Result<(), StoreError> {
        let mut s = self.write()?;
        s.queues
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| StoreError::not_found(format!("queue {name}")))
    }

    fn queue(&self, name: &str) -> Result<Option<QueueInfo>, StoreError> {
        Ok(self.lock().queues.get(name).map(|q| q.info.clone()))
    }

    fn queues(&self) -> Result<Vec<QueueInfo>, StoreError> {
        Ok(self
            .lock()
            .queues
            .values()
            .map(|q| q.info.clone())
            .collect())
    }

    fn send(
        &self,
        queue: &str,
        messages: Vec<NewMessage>,
        now_ms: u64,
    ) -> Result<Vec<u64>, StoreError> {
        let mut s = self.write()?;
        s.queue(queue)?;
        Ok(s.send(queue, messages, now_ms))
    }

    fn receive(
        &self,
        queue: &str,
        now_ms: u64,
        max: usize,
        visibility_ms: u64,
    ) -> Result<Vec<Received>, StoreError> {
        let mut s = self.write()?;
        let q = s.queue(queue)?;
        let fifo = Fifo::of(&q.info.attributes).is_some();
        let mut gate = GroupGate::default();
        let seqs: Vec<u64> = q
            .messages
            .iter()
            .filter(|(_, m)| {
                let visible = m.visible_at_ms <= now_ms;
                if fifo {
                    gate.admit(m.message.group_id.as_deref(), visible)
                } else {
                    visible
                }
            })
            .take(max)
            .map(|(seq, _)| *seq)
            .collect();
        let tokens: Vec<u64> = seqs.iter().map(|_| s.next_token()).collect();
        let q = s.queue_mut(queue)?;
        let mut out = Vec::with_capacity(seqs.len());
        for (seq, token) in seqs.into_iter().zip(tokens) {
            let Some(m) = q.messages.get_mut(&seq) else {
                continue;
            };
            m.token = token;
            m.visible_at_ms = now_ms.saturating_add(visibility_ms);
            m.receive_count += 1;
            if m.first_receive_ms == 0 {
                m.first_receive_ms = now_ms;
            }
            out.push(Received {
                message: m.message.clone(),
                receipt: Receipt {
                    queue_id: q.id,
                    seq,
                    token,
                }
                .encode(),
                receive_count: m.receive_count,
                first_receive_ms: m.first_receive_ms,
            });
        }
        Ok(out)
    }

    fn delete_message(&self, queue: &str, receipt: &str) -> Result<Deletion, StoreError> {
        let mut s = self.write()?;
        Ok(match s.receipted(queue, receipt)? {
            Found::Current(q, seq) => {
                q.messages.remove(&seq);
                Deletion::Deleted
            }
            Found::Gone => Deletion::Gone,
            Found::Superseded => Deletion::Superseded,
        })
    }

    fn change_visibility(
        &self,
        queue: &str,
        receipt: &str,
        now_ms: u64,
        visibility_ms: u64,
    ) -> Result<VisibilityChange, StoreError> {
        let mut s = self.write()?;
        Ok(match s.receipted(queue, receipt)? {
            Found::Current(q, seq) => {
                if let Some(m) = q.messages.get_mut(&seq) {
                    m.visible_at_ms = now_ms.saturating_add(visibility_ms);
                }
                VisibilityChange::Changed
            }
            Found::Gone => VisibilityChange::Gone,
            Found::Superseded => VisibilityChange::Superseded,
        })
    }

    fn purge(&self, queue: &str) -> Result<u64, StoreError> {
        let mut s = self.write()?;
        let q = s.queue_mut(queue)?;
        let n = q.messages.len() as u64;
        q.messages.clear();
        Ok(n)
    }

    fn counts(&self, queue: &str, now_ms: u64) -> Result<QueueCounts, StoreError> {
        let s = self.lock();
        let mut counts = QueueCounts::default();
        for m in s.queue(queue)?.messages.values() {
            if m.visible_at_ms <= now_ms {
                counts.visible += 1;
            } else if m.receive_count > 0 {
                counts.in_flight += 1;
            } else {
                counts.delayed += 1;
            }
        }
        Ok(counts)
    }

    fn messages(&self, queue: &str, limit: usize) -> Result<Vec<QueueMessage>, StoreError> {
        let s = self.lock();
        Ok(s.queue(queue)?
            .messages
            .values()
            .take(limit)
            .map(|m| m.message.clone())
            .collect())
    }
}

impl MetadataStore for MemoryStore {
    fn put(
        &self,
        kind: &str,
        name: &str,
        value: Option<Vec<u8>>,
        expect: Expect,
    ) -> Result<u64, StoreError> {
        let mut s = self.write()?;
        let key = (kind.to_string(), name.to_string());
        let current = s
            .records
            .get(&key)
            .and_then(|(v, version)| v.as_ref().map(|_| *version));
        let ok = match expect {
            Expect::Any => true,
            Expect::Absent => current.is_none(),
            Expect::Version(v) => current == Some(v),
        };
        if !ok {
            return Err(StoreError::conflict(format!(
                "{kind} {name}: expected {expect:?}, found version {current:?}"
            )));
        }
        if value.is_none() && current.is_none() {
            return Ok(s.version);
        }
        s.version += 1;
        let version = s.version;
        s.records.insert(key, (value, version));
        Ok(version)
    }

    fn get(&self, kind: &str, name: &str) -> Result<Option<Record>, StoreError> {
        let s = self.lock();
        let key = (kind.to_string(), name.to_string());
        Ok(s.records.get(&key).and_then(|(v, version)| {
            v.as_ref().map(|v| Record {
                kind: kind.to_string(),
                name: name.to_string(),
                value: v.clone(),
                version: *version,
            })
        }))
    }

    fn list(&self, kind: &str) -> Result<Vec<Record>, StoreError> {
        let s = self.lock();
        Ok(s.records
            .range((kind.to_string(), String::new())..)
            .take_while(|((k, _), _)| k == kind)
            .filter_map(|((k, n), (v, version))| {
                v.as_ref().map(|v| Record {
                    kind: k.clone(),
                    name: n.clone(),
                    value: v.clone(),
                    version: *version,
                })
            })
            .collect())
    }

    fn version(&self) -> Result<u64, StoreError> {
        Ok(self.lock().version)
    }

    fn changes_since(&self, since: u64) -> Result<Vec<Change>, StoreError> {
        let s = self.lock();
        let mut out: Vec<Change> = s
            .records
            .iter()
            .filter(|(_, (_, version))| *version > since)
            .map(|((kind, name), (value, version))| Change {
                kind: kind.clone(),
                name: name.clone(),
                value: value.clone(),
                version: *version,
            })
            .collect();
        out.sort_by_key(|c| c.version);
        Ok(out)
    }
}

impl EventArchive for MemoryStore {
    fn archive(&self, events: Vec<ArchivedEvent>) -> Result<u64, StoreError> {
        let mut s = self.write()?;
        let mut new = 0;
        for e in events {
            if s.events.contains_key(&e.id) {
                continue;
            }
            s.events_by_time.insert((e.time_ms, e.id.clone()));
            s.events.insert(e.id.clone(), e);
            new += 1;
        }
        Ok(new)
    }

    fn event(&self, id: &str) -> Result<Option<ArchivedEvent>, StoreError> {
        Ok(self.lock().events.get(id).cloned())
    }

    fn events(
        &self,
        from_ms: u64,
        to_ms: u64,
        after: Option<(u64, &str)>,
        limit: usize,
    ) -> Result<Vec<ArchivedEvent>, StoreError> {
        let s = self.lock();
        let start = (from_ms, String::new());
        Ok(s.events_by_time
            .range(start..)
            .take_while(|(t, _)| *t < to_ms)
            .filter(|(t, id)| after.is_none_or(|(at, aid)| (*t, id.as_str()) > (at, aid)))
            .take(limit)
            .filter_map(|(_, id)| s.events.get(id).cloned())
            .collect())
    }

    fn prune(&self, before_ms: u64) -> Result<u64, StoreError> {
        let mut s = self.write()?;
        let referenced: HashSet<String> = s
            .deliveries
            .values()
            .map(|(_, d)| d.event_id.clone())
            .chain(
                s.members
                    .values()
                    .flat_map(|m| m.keys().map(|(_, id)| id.clone())),
            )
            .collect();
        let old: Vec<(u64, String)> = s
            .events_by_time
            .range(..(before_ms, String::new()))
            .filter(|(_, id)| !referenced.contains(id))
            .cloned()
            .collect();
        for key in &old {
            s.events_by_time.remove(key);
            s.events.remove(&key.1);
        }
        Ok(old.len() as u64)
    }

    fn add_members(&self, members: Vec<ArchiveMember>) -> Result<u64, StoreError> {
        let mut s = self.write()?;
        let mut new = 0;
        for m in members {
            let Some(size) = s.events.get(&m.event_id).map(|e| e.body.len() as u64) else {
                continue;
            };
            let archive = s.members.entry(m.archive).or_default();
            if archive.insert((m.time_ms, m.event_id), size).is_none() {
                new += 1;
            }
        }
        Ok(new)
    }

    fn members(
        &self,
        archive: &str,
        from_ms: u64,
        to_ms: u64,
        after: Option<(u64, &str)>,
        limit: usize,
    ) -> Result<Vec<(u64, ArchivedEvent)>, StoreError> {
        let s = self.lock();
        let Some(members) = s.members.get(archive) else {
            return Ok(Vec::new());
        };
        Ok(members
            .range((from_ms, String::new())..)
            .take_while(|((t, _), _)| *t < to_ms)
            .filter(|((t, id), _)| after.is_none_or(|(at, aid)| (*t, id.as_str()) > (at, aid)))
            .take(limit)
            .filter_map(|((t, id), _)| s.events.get(id).map(|e| (*t, e.clone())))
            .collect())
    }

    fn archive_stats(&self, archive: &str) -> Result<ArchiveStats, StoreError> {
        let s = self.lock();
        Ok(s.members
            .get(archive)
            .map_or_else(ArchiveStats::default, |m| ArchiveStats {
                events: m.len() as u64,
                bytes: m.values().sum(),
            }))
    }

    fn expire_members(&self, archive: &str, before_ms: u64) -> Result<u64, StoreError> {
        let mut s = self.write()?;
        let Some(members) = s.members.get_mut(archive) else {
            return Ok(0);
        };
        let kept = if before_ms == u64::MAX {
            BTreeMap::new()
        } else {
            members.split_off(&(before_ms, String::new()))
        };
        let n = std::mem::replace(members, kept).len() as u64;
        if members.is_empty() {
            s.members.remove(archive);
        }
        Ok(n)
    }
}

impl Store for MemoryStore {
    fn faults(&self) -> Vec<ferrule_core::Fault> {
        self.lock()
            .failure
            .iter()
            .map(|e| ferrule_core::Fault {
                component: "store",
                reason: e.message(),
                since_ms: 0,
                failures: 1,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryStore;
    use crate::conformance::Harness;

    /// The conformance harness of [`MemoryStore`]: reopening shares the data.
    #[derive(Default)]
    struct Memory(Option<MemoryStore>);

    impl Harness for Memory {
        type Store = MemoryStore;

        fn open(&mut self) -> MemoryStore {
            self.0.get_or_insert_with(MemoryStore::new).reopen()
        }
    }

    crate::conformance_tests!(Memory::default);

    #[test]
    fn injected_failures_refuse_writes_and_change_nothing() {
        use crate::{DeliveryLog, NewDelivery, Store, StoreError, StoreErrorKind};
        let s = MemoryStore::new();
        s.fail_writes(Some(StoreError::transient("disk full")));
        let d = NewDelivery {
            due_ms: 0,
            delivery: crate::Delivery::new("e", "b", "r", "arn", "{}"),
        };
        let e = s.append(vec![d.clone()]).err();
        assert_eq!(e.map(|e| e.kind()), Some(StoreErrorKind::Transient));
        assert_eq!(s.faults().len(), 1);
        assert_eq!(s.faults()[0].reason, "disk full");
        assert_eq!(s.pending().ok(), Some(0));
        s.fail_writes(None);
        assert!(s.faults().is_empty());
        assert_eq!(s.append(vec![d]).map(|ids| ids.len()).ok(), Some(1));
    }
}
