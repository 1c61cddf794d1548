//! The replay thread: replays run page by page, in the archive's time
//! order, through the same fan-out and durable dispatch as PutEvents.
//!
//! Each page (up to [`PAGE`] events) is matched against the destination
//! bus's rules (only the replay's `FilterArns` when it has some) with
//! `replay-name` added to the event, as the service adds it; the page's
//! deliveries are appended to the delivery log, then the replay's cursor
//! (the last event's time and id) is saved. A crash between the two
//! replays that page again after the restart (at least once, never lost);
//! a restart resumes every replay that was starting or running from its
//! cursor, as the service (which does not restart) would have gone on.

use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::archives::{Archives, REPLAY_KEY, ReplayInfo, ReplayState, filter_set};
use super::ingest::{Accepted, fan_out};
use super::{BusError, Inner};
use ferrule_core::json::write_str;

/// Events replayed per page (one store write each).
pub(crate) const PAGE: usize = 1024;
/// How often the replay thread applies the archives' retention.
const EXPIRY_EVERY: Duration = Duration::from_secs(60);

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The event as replayed: the archived envelope with `replay-name` added
/// as its last member.
pub(crate) fn replayed_envelope(body: &[u8], replay: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let open = text.trim_end().strip_suffix('}')?;
    let mut out = String::with_capacity(text.len() + replay.len() + 20);
    out.push_str(open);
    out.push_str(",\"replay-name\":");
    write_str(replay, &mut out);
    out.push('}');
    Some(out)
}

impl Archives {
    /// Starts the replay thread.
    pub(crate) fn start(&self, inner: Weak<Inner>) {
        let spawned = std::thread::Builder::new()
            .name("ferrule-replay".into())
            .spawn(move || run(&inner));
        if let Ok(handle) = spawned {
            *lock(&self.thread) = Some(handle);
        }
    }

    /// Stops the replay thread (after the page it is on).
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.notify();
        let handle = lock(&self.thread).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    /// Wakes the replay thread.
    pub(crate) fn notify(&self) {
        let _guard = lock(&self.replays);
        self.wake.notify_all();
    }

    /// One page of every active replay; returns whether any is still
    /// active, and how many events were replayed.
    pub(crate) fn pass(&self, inner: &Inner) -> (bool, u64) {
        let active: Vec<String> = lock(&self.replays)
            .values()
            .filter(|r| r.state.is_active())
            .map(|r| r.name.clone())
            .collect();
        let mut replayed = 0;
        let mut more = false;
        for name in active {
            match self.step(inner, &name) {
                Ok((n, still)) => {
                    replayed += n;
                    more |= still;
                }
                Err(e) => {
                    // A store failure: the replay stays where it was and
                    // the page is tried again.
                    tracing::warn!(replay = %name, error = %e, "replay page failed; retrying");
                    more = true;
                }
            }
        }
        (more, replayed)
    }

    /// Saves `replay` unless a cancel came in meanwhile, which then wins.
    fn finish_step(&self, inner: &Inner, mut replay: ReplayInfo) -> Result<bool, BusError> {
        let mut replays = lock(&self.replays);
        let current = replays.get(&replay.name).map(|r| r.state);
        if current == Some(ReplayState::Cancelling) && replay.state != ReplayState::Failed {
            replay.state = ReplayState::Cancelled;
            replay.replay_end_ms = Some(inner.clock.now_ms());
        }
        inner.save(&format!("{REPLAY_KEY}{}", replay.name), Some(&replay))?;
        let active = replay.state.is_active();
        replays.insert(replay.name.clone(), replay);
        Ok(active)
    }

    fn fail(&self, inner: &Inner, mut replay: ReplayInfo, reason: String) -> Result<(), BusError> {
        replay.state = ReplayState::Failed;
        replay.state_reason = Some(reason);
        replay.replay_end_ms = Some(inner.clock.now_ms());
        self.finish_step(inner, replay).map(|_| ())
    }

    /// One page of replay `name`: (events replayed, whether it goes on).
    fn step(&self, inner: &Inner, name: &str) -> Result<(u64, bool), BusError> {
        let Some(mut replay) = lock(&self.replays).get(name).cloned() else {
            return Ok((0, false));
        };
        let now = inner.clock.now_ms();
        match replay.state {
            ReplayState::Cancelling => {
                replay.state = ReplayState::Cancelled;
                replay.replay_end_ms = Some(now);
                return self.finish_step(inner, replay).map(|more| (0, more));
            }
            ReplayState::Starting => replay.state = ReplayState::Running,
            ReplayState::Running => {}
            _ => return Ok((0, false)),
        }
        let archive_exists = self
            .records
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(&replay.archive);
        if !archive_exists {
            let reason = format!("Archive {} does not exist.", replay.archive);
            return self.fail(inner, replay, reason).map(|()| (0, false));
        }
        let bus = super::bus_of(Some(&replay.destination_arn));
        let Some(compiled) = inner.compiled(&bus)? else {
            let reason = format!("Event bus {bus} does not exist.");
            return self.fail(inner, replay, reason).map(|()| (0, false));
        };
        self.expire(inner, &replay.archive, now)?;
        let after = replay.cursor.as_ref().map(|(t, id)| (*t, id.as_str()));
        let page = inner.store.members(
            &replay.archive,
            replay.event_start_ms,
            replay.event_end_ms,
            after,
            PAGE,
        )?;
        let only = filter_set(&replay);
        let mut events = Vec::with_capacity(page.len());
        for (time_ms, e) in &page {
            // Archived envelopes were built by the bus: one that does not
            // end as an object is skipped rather than replayed mangled.
            let Some(envelope) = replayed_envelope(&e.body, &replay.name) else {
                tracing::warn!(event = %e.id, "archived event is not an object; not replayed");
                continue;
            };
            events.push(Accepted {
                bus: bus.clone(),
                id: e.id.clone(),
                envelope,
                time_ms: *time_ms,
                ingested_ms: now,
                principal: None,
            });
        }
        let texts: Vec<&[u8]> = events.iter().map(|e| e.envelope.as_bytes()).collect();
        let results = compiled.matcher.matches_batch_trusted(&texts);
        let mut deliveries = Vec::new();
        let mut members = Vec::new();
        for (event, result) in events.iter().zip(results) {
            let Ok(ids) = result else { continue };
            fan_out(
                &bus,
                &compiled,
                event,
                &ids,
                only.as_ref(),
                now,
                &mut deliveries,
                &mut members,
                None,
            );
        }
        // Archive rules exclude replayed events: `members` stays empty.
        if !deliveries.is_empty() {
            inner.store.append(deliveries)?;
            inner.dispatcher.notify();
        }
        if let Some((t, e)) = page.last() {
            replay.cursor = Some((*t, e.id.clone()));
            replay.last_replayed_ms = Some(*t);
        }
        replay.replayed += page.len() as u64;
        if page.len() < PAGE {
            replay.state = ReplayState::Completed;
            replay.replay_end_ms = Some(now);
        }
        let n = page.len() as u64;
        self.finish_step(inner, replay).map(|more| (n, more))
    }
}

/// The replay thread's loop: pages of the active replays while there are
/// some, the archives' retention once a minute, asleep otherwise.
fn run(inner: &Weak<Inner>) {
    let mut expired_at: Option<Instant> = None;
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let archives = &strong.archives;
        if archives.stopping.load(Ordering::SeqCst) {
            return;
        }
        if expired_at.is_none_or(|t| t.elapsed() >= EXPIRY_EVERY) {
            if let Err(e) = archives.expire_all(&strong) {
                tracing::warn!(error = %e, "applying archive retention failed");
            }
            expired_at = Some(Instant::now());
        }
        let (more, _) = archives.pass(&strong);
        if more {
            continue;
        }
        {
            let guard = lock(&archives.replays);
            let idle = !guard.values().any(|r| r.state.is_active());
            if idle && !archives.stopping.load(Ordering::SeqCst) {
                let _ = archives.wake.wait_timeout(guard, Duration::from_secs(1));
            }
        }
        drop(strong);
    }
}

#[cfg(test)]
mod tests {
    use super::replayed_envelope;

    #[test]
    fn replay_name_is_the_last_member() {
        let e = replayed_envelope(br#"{"id":"1","detail":{"a":1}}"#, "r1").unwrap();
        assert_eq!(e, r#"{"id":"1","detail":{"a":1},"replay-name":"r1"}"#);
        assert!(ferrule::validate_event(e.as_bytes()).is_ok());
        assert_eq!(replayed_envelope(b"[1]", "r"), None);
        assert_eq!(replayed_envelope(&[0xff, b'}'], "r"), None);
    }
}
