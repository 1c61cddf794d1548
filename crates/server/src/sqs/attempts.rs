//! `ReceiveRequestAttemptId` of FIFO queues: a ReceiveMessage retried with
//! the same attempt id within five minutes answers the same messages with
//! the same receipt handles (and restarts their visibility timeout), so a
//! receive whose answer was lost on the network loses nothing — as long as
//! none of those messages was deleted or had its visibility changed since;
//! then the id no longer names them and the retry receives afresh.
//!
//! Attempts are kept in memory, per partition: after a restart a retry
//! receives afresh (the messages it had claimed become visible again when
//! their visibility timeout ends, as for any lost receive).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use ferrule_store::queue::Received;

/// How long an attempt id names its messages (the service's deduplication interval).
pub(crate) const ATTEMPT_WINDOW_MS: u64 = 5 * 60 * 1000;

/// Most attempts kept per partition; the oldest go first beyond it.
const MAX_ATTEMPTS: usize = 10_000;

/// One receive, by its attempt id.
#[derive(Debug)]
struct Attempt {
    /// When the id stops naming these messages.
    until_ms: u64,
    claimed: Vec<Received>,
}

/// The receive attempts of one partition's queues, by (queue, attempt id).
#[derive(Debug, Default)]
pub(crate) struct ReceiveAttempts {
    attempts: Mutex<HashMap<(String, String), Attempt>>,
}

impl ReceiveAttempts {
    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), Attempt>> {
        match self.attempts.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The messages `attempt` received from `queue`, if it still names them at `now_ms`.
    pub(crate) fn replay(&self, queue: &str, attempt: &str, now_ms: u64) -> Option<Vec<Received>> {
        let mut map = self.lock();
        map.retain(|_, a| a.until_ms > now_ms);
        map.get(&(queue.to_string(), attempt.to_string()))
            .map(|a| a.claimed.clone())
    }

    /// Records what `attempt` received (nothing is kept for an empty receive).
    pub(crate) fn record(&self, queue: &str, attempt: &str, now_ms: u64, claimed: &[Received]) {
        if claimed.is_empty() {
            return;
        }
        let mut map = self.lock();
        if map.len() >= MAX_ATTEMPTS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, a)| a.until_ms)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(
            (queue.to_string(), attempt.to_string()),
            Attempt {
                until_ms: now_ms + ATTEMPT_WINDOW_MS,
                claimed: claimed.to_vec(),
            },
        );
    }

    /// Forgets `attempt` (its messages changed under it).
    pub(crate) fn forget(&self, queue: &str, attempt: &str) {
        self.lock()
            .remove(&(queue.to_string(), attempt.to_string()));
    }

    /// Forgets every attempt that received the message `receipt` names: it
    /// was deleted or its visibility changed.
    pub(crate) fn touched(&self, queue: &str, receipt: &str) {
        self.lock()
            .retain(|(q, _), a| q != queue || a.claimed.iter().all(|c| c.receipt != receipt));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrule_store::queue::QueueMessage;

    fn claimed(receipt: &str) -> Received {
        Received {
            message: QueueMessage {
                seq: 1,
                body: "b".into(),
                sent_ms: 0,
                attributes: Vec::new(),
                group_id: Some("g".into()),
                dedup_id: Some("d".into()),
            },
            receipt: receipt.into(),
            receive_count: 1,
            first_receive_ms: 0,
        }
    }

    #[test]
    fn an_attempt_names_its_messages_for_five_minutes_until_one_is_touched() {
        let a = ReceiveAttempts::default();
        a.record("q.fifo", "try-1", 1_000, &[claimed("r1"), claimed("r2")]);
        a.record("q.fifo", "empty", 1_000, &[]);
        assert_eq!(a.replay("q.fifo", "try-1", 2_000).map(|c| c.len()), Some(2));
        assert!(a.replay("q.fifo", "empty", 2_000).is_none());
        assert!(a.replay("other.fifo", "try-1", 2_000).is_none());
        assert!(
            a.replay("q.fifo", "try-1", 1_000 + ATTEMPT_WINDOW_MS)
                .is_none(),
            "expired"
        );
        a.record("q.fifo", "try-2", 1_000, &[claimed("r3")]);
        a.touched("other.fifo", "r3");
        assert!(a.replay("q.fifo", "try-2", 2_000).is_some());
        a.touched("q.fifo", "r3");
        assert!(a.replay("q.fifo", "try-2", 2_000).is_none());
    }
}
