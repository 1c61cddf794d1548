//! The store conformance suite: the contract of every trait, as tests any
//! backend runs.
//!
//! A backend provides a [`Harness`] (opens its store; opened again, the same
//! data, as after a crash and restart) and runs everything with one line in
//! its tests:
//!
//! ```ignore
//! ferrule_store::conformance_tests!(MyHarness::new);
//! ```
//!
//! Time is passed in (`now_ms`), so leases and visibility expire without
//! sleeping. Each function panics (fails the test) on a broken promise.

use std::collections::{BTreeMap, HashSet};

use crate::{
    ArchiveMember, ArchiveStats, ArchivedEvent, Deletion, Delivery, DeliveryId, DeliveryLog,
    EventArchive, Expect, Lease, Leased, MetadataStore, NewDelivery, NewMessage, Outcome,
    QueueCounts, QueueStore, Settled, Store, StoreErrorKind, VisibilityChange,
    queue::DEDUP_WINDOW_MS,
};

/// Opens a backend's store for the suite.
pub trait Harness {
    /// The store.
    type Store: Store;

    /// Whether opening the store again ends the leases taken before: true
    /// for an embedded store that one process has open at a time (whoever
    /// held them died with the process); false for a store shared by
    /// processes or nodes, where a lease holds until its deadline.
    const REOPEN_ENDS_LEASES: bool = false;

    /// Opens the store: empty the first time; later, the data written
    /// before (the previous handle has been dropped, as by a crash).
    fn open(&mut self) -> Self::Store;
}

/// Runs every test of the suite on stores of `make()`.
pub fn run_all<H: Harness>(make: impl Fn() -> H) {
    macro_rules! each {
        ($($name:ident),*) => { $( $name(make()); )* };
    }
    each!(
        lease_order,
        leases_hold_until_deadline,
        settle_after_lease_lost_is_refused,
        retry_and_release_reschedule,
        send_outcomes_are_atomic,
        crash_between_append_and_ack,
        concurrent_consumers,
        append_is_atomic_and_ids_increase,
        queue_lifecycle,
        queue_visibility_and_receipts,
        queue_change_visibility,
        queue_delay_and_counts,
        queue_state_survives_reopen,
        fifo_deduplication_window,
        fifo_content_based_and_group_scope,
        fifo_group_order_and_blocking,
        fifo_state_survives_reopen,
        metadata_versions,
        metadata_conditional_writes,
        archive_once_per_event,
        archive_prune_keeps_referenced,
        ingest_archives_and_appends,
        named_archives
    );
}

/// Declares one `#[test]` per conformance test, each on a store of
/// `$make()` (an expression callable with no argument, giving a
/// [`Harness`]).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            lease_order,
            leases_hold_until_deadline,
            settle_after_lease_lost_is_refused,
            retry_and_release_reschedule,
            send_outcomes_are_atomic,
            crash_between_append_and_ack,
            concurrent_consumers,
            append_is_atomic_and_ids_increase,
            queue_lifecycle,
            queue_visibility_and_receipts,
            queue_change_visibility,
            queue_delay_and_counts,
            queue_state_survives_reopen,
            fifo_deduplication_window,
            fifo_content_based_and_group_scope,
            fifo_group_order_and_blocking,
            fifo_state_survives_reopen,
            metadata_versions,
            metadata_conditional_writes,
            archive_once_per_event,
            archive_prune_keeps_referenced,
            ingest_archives_and_appends,
            named_archives
        );
    };
    (@each $make:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                $crate::conformance::$name(($make)());
            }
        )*
    };
}

const MINUTE: u64 = 60_000;

fn delivery(event: &str) -> Delivery {
    let mut d = Delivery::new(event, "default", "r", "arn:aws:sqs:us-east-1:0:q", event);
    d.rule_arn = "arn:aws:events:us-east-1:0:rule/r".into();
    d.target_id = "t".into();
    d
}

fn new(due_ms: u64, event: &str) -> NewDelivery {
    NewDelivery {
        due_ms,
        delivery: delivery(event),
    }
}

fn events_of(leased: &[Leased]) -> Vec<&str> {
    leased
        .iter()
        .map(|l| l.delivery.event_id.as_str())
        .collect()
}

fn settle_one<S: Store>(s: &S, now: u64, lease: Lease, outcome: Outcome) -> Settled {
    let answers = s.settle(now, vec![(lease, outcome)]).expect("settle");
    assert_eq!(answers.len(), 1, "one answer per outcome");
    answers[0]
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Leases come by due time, then append order; nothing before it is due;
/// `limit` is respected; the delivery comes back as appended.
pub fn lease_order<H: Harness>(mut h: H) {
    let s = h.open();
    s.append(vec![new(30, "c"), new(10, "a"), new(30, "d"), new(20, "b")])
        .expect("append");
    s.append(vec![new(10, "a2"), new(1_000, "late")])
        .expect("append");
    assert_eq!(s.pending().expect("pending"), 6);
    assert_eq!(s.next_ready().expect("next_ready"), Some(10));
    assert!(s.lease(9, 10, MINUTE).expect("lease").is_empty());
    let first = s.lease(30, 2, MINUTE).expect("lease");
    assert_eq!(events_of(&first), ["a", "a2"]);
    assert_eq!(first[0].due_ms, 10);
    assert_eq!(first[0].delivery, delivery("a"));
    assert_eq!(first[0].lease.until_ms(), MINUTE);
    let rest = s.lease(30, 10, MINUTE).expect("lease");
    assert_eq!(events_of(&rest), ["b", "c", "d"]);
    assert_eq!(s.next_ready().expect("next_ready"), Some(1_000));
    assert_eq!(s.pending().expect("pending"), 6, "leased deliveries stay");
}

/// A leased delivery is given to no one else until its deadline, then to the
/// next consumer, with a new lease.
pub fn leases_hold_until_deadline<H: Harness>(mut h: H) {
    let s = h.open();
    s.append(vec![new(0, "a")]).expect("append");
    let first = s.lease(0, 10, 100).expect("lease");
    assert_eq!(events_of(&first), ["a"]);
    assert!(s.lease(0, 10, 100).expect("lease").is_empty());
    assert!(s.lease(99, 10, 200).expect("lease").is_empty());
    assert_eq!(
        s.next_ready().expect("next_ready"),
        Some(100),
        "the deadline"
    );
    let second = s.lease(100, 10, 300).expect("lease");
    assert_eq!(events_of(&second), ["a"]);
    assert_eq!(second[0].due_ms, 0, "it keeps its place");
    assert_eq!(second[0].lease.id(), first[0].lease.id(), "same delivery");
    assert_ne!(second[0].lease.token(), first[0].lease.token());
}

/// Settling under a lease that expired and was taken again is refused and
/// changes nothing; the new holder settles; settling twice applies once; an
/// expired lease no one took again still settles.
pub fn settle_after_lease_lost_is_refused<H: Harness>(mut h: H) {
    let s = h.open();
    s.create_queue("q", BTreeMap::new(), 0).expect("create");
    s.append(vec![new(0, "a"), new(500, "b")]).expect("append");
    let old = s.lease(0, 1, 100).expect("lease");
    let new_holder = s.lease(100, 1, 200).expect("lease");
    assert_eq!(events_of(&new_holder), ["a"]);
    let send = Outcome::AckAndSend {
        queue: "q".into(),
        message: NewMessage::new("m"),
    };
    assert_eq!(
        settle_one(&s, 150, old[0].lease, send.clone()),
        Settled::LeaseLost
    );
    assert_eq!(s.messages("q", 10).expect("messages").len(), 0);
    assert_eq!(s.pending().expect("pending"), 2);
    assert_eq!(
        settle_one(&s, 150, new_holder[0].lease, send.clone()),
        Settled::Applied
    );
    assert_eq!(
        settle_one(&s, 150, new_holder[0].lease, send),
        Settled::LeaseLost,
        "a second settle of the same lease"
    );
    assert_eq!(s.messages("q", 10).expect("messages").len(), 1, "sent once");
    assert_eq!(s.pending().expect("pending"), 1);
    // Past its deadline, not leased again: the holder's outcome stands.
    let b = s.lease(500, 1, 510).expect("lease");
    assert_eq!(events_of(&b), ["b"]);
    assert_eq!(
        settle_one(&s, 600, b[0].lease, Outcome::Ack),
        Settled::Applied
    );
    assert_eq!(s.pending().expect("pending"), 0);
    assert_eq!(s.next_ready().expect("next_ready"), None);
    // A lease the store never gave.
    let forged = Lease::new(DeliveryId(u64::MAX), 1, 0);
    assert_eq!(settle_one(&s, 0, forged, Outcome::Ack), Settled::LeaseLost);
}

/// Retry makes the delivery due at the retry time with the attempt count
/// and error recorded, keeping its place among equals; Release makes it due
/// at once; both end the lease.
pub fn retry_and_release_reschedule<H: Harness>(mut h: H) {
    let s = h.open();
    s.append(vec![new(0, "a"), new(0, "b")]).expect("append");
    let leased = s.lease(0, 10, MINUTE).expect("lease");
    let (a, b) = (leased[0].lease, leased[1].lease);
    let retry = Outcome::Retry {
        retry_at_ms: 500,
        attempts: 1,
        last_error: Some("ERROR_FROM_TARGET: 500".into()),
    };
    let answers = s
        .settle(10, vec![(a, retry), (b, Outcome::Release)])
        .expect("settle");
    assert_eq!(answers, [Settled::Applied, Settled::Applied]);
    let now = s.lease(10, 10, MINUTE).expect("lease");
    assert_eq!(events_of(&now), ["b"], "released: due at once");
    assert_eq!(now[0].delivery.attempts, 0, "a release is not an attempt");
    assert_eq!(s.next_ready().expect("next_ready"), Some(500));
    assert!(s.lease(499, 10, MINUTE).expect("lease").is_empty());
    // Released again, b is due at 20: before a (500). At 500 both, a first
    // only if due first: b was released at 20.
    assert_eq!(
        settle_one(&s, 20, now[0].lease, Outcome::Release),
        Settled::Applied
    );
    let both = s.lease(500, 10, MINUTE).expect("lease");
    assert_eq!(events_of(&both), ["b", "a"]);
    assert_eq!(both[1].delivery.attempts, 1);
    assert_eq!(
        both[1].delivery.last_error.as_deref(),
        Some("ERROR_FROM_TARGET: 500")
    );
    assert_eq!(both[1].lease.id(), a.id(), "a retry keeps its id");
    // Equal retry times: append order.
    let outcomes = both
        .iter()
        .map(|l| {
            let retry = Outcome::Retry {
                retry_at_ms: 900,
                attempts: 2,
                last_error: None,
            };
            (l.lease, retry)
        })
        .rev()
        .collect();
    s.settle(500, outcomes).expect("settle");
    assert_eq!(
        events_of(&s.lease(900, 10, MINUTE).expect("lease")),
        ["a", "b"]
    );
}

/// AckAndSend and DeadLetter remove the delivery and send the message in
/// one step; to a queue that does not exist, they are refused and the
/// lease still holds.
pub fn send_outcomes_are_atomic<H: Harness>(mut h: H) {
    let s = h.open();
    s.create_queue("dlq", BTreeMap::new(), 0).expect("create");
    s.append(vec![new(0, "a"), new(0, "b"), new(0, "c")])
        .expect("append");
    let leased = s.lease(0, 10, MINUTE).expect("lease");
    let mut message = NewMessage::new("the event");
    message.attributes = vec![("ERROR_CODE".into(), "NO_RESOURCE".into())];
    let answers = s
        .settle(
            7,
            vec![
                (
                    leased[0].lease,
                    Outcome::AckAndSend {
                        queue: "missing".into(),
                        message: NewMessage::new("x"),
                    },
                ),
                (
                    leased[1].lease,
                    Outcome::DeadLetter {
                        to: Some(("dlq".into(), message.clone())),
                    },
                ),
                (leased[2].lease, Outcome::DeadLetter { to: None }),
            ],
        )
        .expect("settle");
    assert_eq!(
        answers,
        [Settled::NoQueue, Settled::Applied, Settled::Applied]
    );
    let letters = s.messages("dlq", 10).expect("messages");
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].body, "the event");
    assert_eq!(letters[0].attributes, message.attributes);
    assert_eq!(letters[0].sent_ms, 7);
    assert_eq!(s.pending().expect("pending"), 1, "a stays, still leased");
    assert!(s.lease(0, 10, MINUTE).expect("lease").is_empty());
    assert_eq!(
        settle_one(&s, 8, leased[0].lease, Outcome::Ack),
        Settled::Applied,
        "the refused outcome left the lease"
    );
    assert_eq!(s.pending().expect("pending"), 0);
}

/// After a crash (the store dropped and opened again) appended deliveries
/// are there and due; one leased by the crashed consumer comes back at its
/// lease's deadline (or at once, for a store whose reopening ends leases);
/// settled ones stay settled.
pub fn crash_between_append_and_ack<H: Harness>(mut h: H) {
    let s = h.open();
    s.append(vec![new(0, "leased"), new(0, "acked"), new(5, "waiting")])
        .expect("append");
    let leased = s.lease(0, 2, 1_000).expect("lease");
    assert_eq!(events_of(&leased), ["leased", "acked"]);
    assert_eq!(
        settle_one(&s, 1, leased[1].lease, Outcome::Ack),
        Settled::Applied
    );
    drop(s);
    let s = h.open();
    assert_eq!(s.pending().expect("pending"), 2);
    let back = if H::REOPEN_ENDS_LEASES {
        let now = s.lease(10, 10, 2_000).expect("lease");
        assert_eq!(events_of(&now), ["leased", "waiting"], "leases ended");
        now
    } else {
        assert_eq!(
            events_of(&s.lease(10, 10, 2_000).expect("lease")),
            ["waiting"]
        );
        assert!(s.lease(999, 10, 2_000).expect("lease").is_empty());
        s.lease(1_000, 10, 2_000).expect("lease")
    };
    assert_eq!(back[0].delivery.event_id, "leased");
    assert_eq!(back[0].delivery, delivery("leased"));
    // The crashed consumer's lease is lost for good.
    assert_eq!(
        settle_one(&s, 1_001, leased[0].lease, Outcome::Ack),
        Settled::LeaseLost
    );
    drop(s);
    let s = h.open();
    assert_eq!(s.pending().expect("pending"), 2);
    // Ids keep increasing after a restart.
    let ids = s.append(vec![new(0, "after")]).expect("append");
    assert!(ids[0] > back[0].lease.id());
}

/// Threads leasing the same log at the same time never get the same
/// delivery while leases hold, and between them get every delivery.
pub fn concurrent_consumers<H: Harness>(mut h: H) {
    let s = h.open();
    let n = 400;
    let batch: Vec<NewDelivery> = (0..n).map(|i| new(i % 7, &format!("e{i}"))).collect();
    s.append(batch).expect("append");
    let got: Vec<Vec<(DeliveryId, String)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let s = &s;
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let leased = s.lease(100, 7, MINUTE).expect("lease");
                        if leased.is_empty() {
                            return mine;
                        }
                        let outcomes = leased
                            .iter()
                            .map(|l| {
                                mine.push((l.lease.id(), l.delivery.event_id.clone()));
                                (l.lease, Outcome::Ack)
                            })
                            .collect();
                        let answers = s.settle(100, outcomes).expect("settle");
                        assert!(answers.iter().all(|a| *a == Settled::Applied));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("consumer thread"))
            .collect()
    });
    let all: Vec<&(DeliveryId, String)> = got.iter().flatten().collect();
    let distinct: HashSet<DeliveryId> = all.iter().map(|(id, _)| *id).collect();
    assert_eq!(all.len(), n as usize, "every delivery, once");
    assert_eq!(distinct.len(), n as usize, "no delivery twice");
    assert_eq!(s.pending().expect("pending"), 0);
}

/// A batch is appended whole; ids increase in append order; an empty batch
/// is fine.
pub fn append_is_atomic_and_ids_increase<H: Harness>(mut h: H) {
    let s = h.open();
    assert!(s.append(Vec::new()).expect("append").is_empty());
    let a = s.append(vec![new(0, "a"), new(0, "b")]).expect("append");
    let b = s.append(vec![new(0, "c")]).expect("append");
    assert_eq!(a.len(), 2);
    assert!(a[0] < a[1] && a[1] < b[0]);
    let leased = s.lease(0, 10, 1).expect("lease");
    let ids: Vec<DeliveryId> = leased.iter().map(|l| l.lease.id()).collect();
    assert_eq!(ids, [a[0], a[1], b[0]]);
}

/// Queues are created once with their attributes, updated, listed, and
/// deleted with their messages; operations on a missing queue are NotFound.
pub fn queue_lifecycle<H: Harness>(mut h: H) {
    let s = h.open();
    let (info, created) = s
        .create_queue("b", attrs(&[("VisibilityTimeout", "30")]), 5)
        .expect("create");
    assert!(created);
    assert_eq!(info.name, "b");
    assert_eq!(info.created_ms, 5);
    let (again, created) = s
        .create_queue("b", attrs(&[("VisibilityTimeout", "60")]), 9)
        .expect("create");
    assert!(!created, "an existing queue is returned");
    assert_eq!(again, info, "unchanged");
    s.create_queue("a", BTreeMap::new(), 6).expect("create");
    let names: Vec<String> = s
        .queues()
        .expect("queues")
        .into_iter()
        .map(|q| q.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    let set = s
        .set_queue_attributes("b", attrs(&[("DelaySeconds", "2")]), 11)
        .expect("set");
    assert_eq!(
        set.attributes,
        attrs(&[("DelaySeconds", "2"), ("VisibilityTimeout", "30")])
    );
    assert_eq!(set.modified_ms, 11);
    assert_eq!(s.queue("b").expect("queue"), Some(set));
    s.send("b", vec![NewMessage::new("1"), NewMessage::new("2")], 12)
        .expect("send");
    assert_eq!(s.purge("b").expect("purge"), 2);
    assert!(s.messages("b", 10).expect("messages").is_empty());
    s.send("b", vec![NewMessage::new("3")], 13).expect("send");
    let r = s.receive("b", 13, 1, 1_000).expect("receive");
    s.delete_queue("b").expect("delete");
    assert_eq!(s.queue("b").expect("queue"), None);
    let not_found = |kind: Option<StoreErrorKind>| assert_eq!(kind, Some(StoreErrorKind::NotFound));
    not_found(
        s.send("b", vec![NewMessage::new("x")], 0)
            .err()
            .map(|e| e.kind()),
    );
    not_found(s.receive("b", 0, 1, 0).err().map(|e| e.kind()));
    not_found(s.purge("b").err().map(|e| e.kind()));
    not_found(s.counts("b", 0).err().map(|e| e.kind()));
    not_found(s.messages("b", 1).err().map(|e| e.kind()));
    not_found(s.delete_queue("b").err().map(|e| e.kind()));
    not_found(
        s.set_queue_attributes("b", BTreeMap::new(), 0)
            .err()
            .map(|e| e.kind()),
    );
    not_found(s.delete_message("b", &r[0].receipt).err().map(|e| e.kind()));
    // Re-created, the queue is a new one: old handles are not its own.
    s.create_queue("b", BTreeMap::new(), 20).expect("create");
    assert_eq!(
        s.delete_message("b", &r[0].receipt).err().map(|e| e.kind()),
        Some(StoreErrorKind::Invalid)
    );
}

/// A receive hides messages for the visibility timeout, in send order; they
/// come back after it with a new receipt handle; only the latest handle
/// deletes; handles of other queues and garbage are Invalid.
pub fn queue_visibility_and_receipts<H: Harness>(mut h: H) {
    let s = h.open();
    s.create_queue("q", BTreeMap::new(), 0).expect("create");
    s.create_queue("other", BTreeMap::new(), 0).expect("create");
    let seqs = s
        .send(
            "q",
            vec![
                NewMessage::new("1"),
                NewMessage::new("2"),
                NewMessage::new("3"),
            ],
            100,
        )
        .expect("send");
    assert!(seqs[0] < seqs[1] && seqs[1] < seqs[2]);
    let first = s.receive("q", 100, 2, 30).expect("receive");
    let bodies: Vec<&str> = first.iter().map(|r| r.message.body.as_str()).collect();
    assert_eq!(bodies, ["1", "2"]);
    assert_eq!(first[0].message.seq, seqs[0]);
    assert_eq!(first[0].message.sent_ms, 100);
    assert_eq!(first[0].receive_count, 1);
    assert_eq!(first[0].first_receive_ms, 100);
    assert_ne!(first[0].receipt, first[1].receipt);
    let counts = s.counts("q", 100).expect("counts");
    assert_eq!(
        counts,
        QueueCounts {
            visible: 1,
            in_flight: 2,
            delayed: 0
        }
    );
    let more = s.receive("q", 129, 10, 30).expect("receive");
    assert_eq!(more.len(), 1, "1 and 2 are in flight");
    assert_eq!(more[0].message.body, "3");
    // Visibility of 1 and 2 ends at 130: received again, new handles.
    let again = s.receive("q", 130, 10, 30).expect("receive");
    let bodies: Vec<&str> = again.iter().map(|r| r.message.body.as_str()).collect();
    assert_eq!(bodies, ["1", "2"]);
    assert_eq!(again[0].receive_count, 2);
    assert_eq!(again[0].first_receive_ms, 100);
    assert_ne!(again[0].receipt, first[0].receipt);
    assert_eq!(
        s.delete_message("q", &first[0].receipt).expect("delete"),
        Deletion::Superseded
    );
    assert_eq!(
        s.messages("q", 10).expect("messages").len(),
        3,
        "not deleted"
    );
    assert_eq!(
        s.delete_message("q", &again[0].receipt).expect("delete"),
        Deletion::Deleted
    );
    assert_eq!(
        s.delete_message("q", &again[0].receipt).expect("delete"),
        Deletion::Gone
    );
    let left: Vec<String> = s
        .messages("q", 10)
        .expect("messages")
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(left, ["2", "3"]);
    let invalid = |r: Result<Deletion, crate::StoreError>| {
        assert_eq!(r.err().map(|e| e.kind()), Some(StoreErrorKind::Invalid));
    };
    invalid(s.delete_message("other", &again[1].receipt));
    invalid(s.delete_message("q", "not a handle"));
    invalid(s.delete_message("q", ""));
    assert_eq!(s.messages("q", 10).expect("messages").len(), 2);
}

/// ChangeMessageVisibility moves the time a received message is visible
/// again, under its latest handle only.
pub fn queue_change_visibility<H: Harness>(mut h: H) {
    let s = h.open();
    s.create_queue("q", BTreeMap::new(), 0).expect("create");
    s.send("q", vec![NewMessage::new("1"), NewMessage::new("2")], 0)
        .expect("send");
    let r = s.receive("q", 0, 2, 30).expect("receive");
    assert_eq!(
        s.change_visibility("q", &r[0].receipt, 10, 0)
            .expect("change"),
        VisibilityChange::Changed
    );
    assert_eq!(
        s.change_visibility("q", &r[1].receipt, 10, 100)
            .expect("change"),
        VisibilityChange::Changed
    );
    let bodies =
        |v: &[crate::Received]| v.iter().map(|m| m.message.body.clone()).collect::<Vec<_>>();
    let at_10 = s.receive("q", 10, 10, 5).expect("receive");
    assert_eq!(bodies(&at_10), ["1"], "2 was hidden until 110");
    let at_109 = s.receive("q", 109, 10, 5).expect("receive");
    assert_eq!(
        bodies(&at_109),
        ["1"],
        "1 visible again at 15; 2 still hidden"
    );
    let at_110 = s.receive("q", 110, 10, 5).expect("receive");
    assert_eq!(bodies(&at_110), ["2"], "1 hidden until 114");
    assert_eq!(
        s.change_visibility("q", &r[0].receipt, 200, 10)
            .expect("change"),
        VisibilityChange::Superseded
    );
    let latest = at_110[0].receipt.clone();
    assert_eq!(
        s.delete_message("q", &latest).expect("delete"),
        Deletion::Deleted
    );
    assert_eq!(
        s.change_visibility("q", &latest, 200, 10).expect("change"),
        VisibilityChange::Gone
    );
    assert_eq!(
        s.change_visibility("q", "zz", 200, 10)
            .err()
            .map(|e| e.kind()),
        Some(StoreErrorKind::Invalid)
    );
}

/// A delayed message is counted as delayed and not received until its delay
/// has passed.
pub fn queue_delay_and_counts<H: Harness>(mut h: H) {
    let s = h.open();
    s.create_queue("q", BTreeMap::new(), 0).expect("create");
    let mut delayed = NewMessage::new("later");
    delayed.delay_ms = 50;
    s.send("q", vec![delayed, NewMessage::new("now")], 100)
        .expect("send");
    assert_eq!(
        s.counts("q", 100).expect("counts"),
        QueueCounts {
            visible: 1,
            in_flight: 0,
            delayed: 1
        }
    );
    let now = s.receive("q", 149, 10, 1_000).expect("receive");
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].message.body, "now");
    let later = s.receive("q", 150, 10, 1_000).expect("receive");
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].message.body, "later");
    assert_eq!(
        s.counts("q", 150).expect("counts"),
        QueueCounts {
            visible: 0,
            in_flight: 2,
            delayed: 0
        }
    );
    assert_eq!(
        s.counts("q", 1_150).expect("counts"),
        QueueCounts {
            visible: 2,
            in_flight: 0,
            delayed: 0
        }
    );
}

/// Queues, messages, visibility, receive counts and receipt handles survive
/// a restart.
pub fn queue_state_survives_reopen<H: Harness>(mut h: H) {
    let s = h.open();
    s.create_queue("q", attrs(&[("k", "v")]), 1)
        .expect("create");
    s.send("q", vec![NewMessage::new("1"), NewMessage::new("2")], 1)
        .expect("send");
    let r = s.receive("q", 1, 1, 100).expect("receive");
    drop(s);
    let s = h.open();
    assert_eq!(
        s.queue("q").expect("queue").map(|q| q.attributes),
        Some(attrs(&[("k", "v")]))
    );
    let got = s.receive("q", 2, 10, 100).expect("receive");
    assert_eq!(got.len(), 1, "1 is still in flight");
    assert_eq!(got[0].message.body, "2");
    let back = s.receive("q", 101, 10, 100).expect("receive");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].receive_count, 2);
    assert_eq!(
        s.delete_message("q", &r[0].receipt).expect("delete"),
        Deletion::Superseded
    );
    assert_eq!(
        s.delete_message("q", &got[0].receipt).expect("delete"),
        Deletion::Deleted
    );
    drop(s);
    let s = h.open();
    let left: Vec<String> = s
        .messages("q", 10)
        .expect("messages")
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(left, ["1"]);
    // New sequence numbers stay above the old ones.
    let seq = s.send("q", vec![NewMessage::new("3")], 3).expect("send");
    assert!(seq[0] > back[0].message.seq);
}

/// Writes take increasing versions; changes since a version show the latest
/// write of each record, deletions included; versions survive a restart.
pub fn metadata_versions<H: Harness>(mut h: H) {
    let s = h.open();
    assert_eq!(s.version().expect("version"), 0);
    let v1 = s
        .put("bus", "default", Some(b"{}".to_vec()), Expect::Any)
        .expect("put");
    let v2 = s
        .put("rule", "default\u{1f}r", Some(b"r1".to_vec()), Expect::Any)
        .expect("put");
    let v3 = s
        .put("rule", "default\u{1f}s", Some(b"s1".to_vec()), Expect::Any)
        .expect("put");
    assert!(v1 > 0 && v1 < v2 && v2 < v3);
    assert_eq!(s.version().expect("version"), v3);
    let rules = s.list("rule").expect("list");
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].name, "default\u{1f}r");
    assert_eq!(rules[0].value, b"r1");
    assert_eq!(rules[0].version, v2);
    assert_eq!(s.list("bus").expect("list").len(), 1);
    assert!(s.list("bu").expect("list").is_empty(), "kinds are exact");
    let v4 = s
        .put("rule", "default\u{1f}r", Some(b"r2".to_vec()), Expect::Any)
        .expect("put");
    let v5 = s
        .put("rule", "default\u{1f}s", None, Expect::Any)
        .expect("delete");
    assert_eq!(
        s.put("rule", "never", None, Expect::Any).expect("delete"),
        v5,
        "deleting nothing writes nothing"
    );
    let changes = s.changes_since(v3).expect("changes");
    let seen: Vec<(&str, Option<&[u8]>, u64)> = changes
        .iter()
        .map(|c| (c.name.as_str(), c.value.as_deref(), c.version))
        .collect();
    assert_eq!(
        seen,
        [
            ("default\u{1f}r", Some(&b"r2"[..]), v4),
            ("default\u{1f}s", None, v5)
        ]
    );
    assert_eq!(s.changes_since(0).expect("changes").len(), 3);
    assert!(s.changes_since(v5).expect("changes").is_empty());
    assert_eq!(s.get("rule", "default\u{1f}s").expect("get"), None);
    drop(s);
    let s = h.open();
    assert_eq!(s.version().expect("version"), v5);
    let got = s.get("rule", "default\u{1f}r").expect("get");
    assert_eq!(
        got.map(|r| (r.value, r.version)),
        Some((b"r2".to_vec(), v4))
    );
    let v6 = s
        .put("bus", "other", Some(b"o".to_vec()), Expect::Any)
        .expect("put");
    assert!(v6 > v5, "versions keep increasing after a restart");
}

/// Conditional writes are refused with Conflict when the record is not as
/// expected, and change nothing.
pub fn metadata_conditional_writes<H: Harness>(mut h: H) {
    let s = h.open();
    let v1 = s
        .put("bus", "b", Some(b"1".to_vec()), Expect::Absent)
        .expect("create");
    let conflict = |r: Result<u64, crate::StoreError>| {
        assert_eq!(r.err().map(|e| e.kind()), Some(StoreErrorKind::Conflict));
    };
    conflict(s.put("bus", "b", Some(b"2".to_vec()), Expect::Absent));
    conflict(s.put("bus", "b", Some(b"2".to_vec()), Expect::Version(v1 + 1)));
    conflict(s.put("bus", "missing", None, Expect::Version(v1)));
    assert_eq!(s.version().expect("version"), v1);
    let v2 = s
        .put("bus", "b", Some(b"2".to_vec()), Expect::Version(v1))
        .expect("update");
    conflict(s.put("bus", "b", None, Expect::Version(v1)));
    let v3 = s
        .put("bus", "b", None, Expect::Version(v2))
        .expect("delete");
    assert!(v3 > v2);
    s.put("bus", "b", Some(b"3".to_vec()), Expect::Absent)
        .expect("create after delete");
}

fn event(id: &str, time_ms: u64, body: &str) -> ArchivedEvent {
    ArchivedEvent {
        id: id.into(),
        bus: "default".into(),
        time_ms,
        body: body.as_bytes().to_vec(),
    }
}

/// An event is stored once (the first write wins), read by id and by time
/// range with paging, and survives a restart.
pub fn archive_once_per_event<H: Harness>(mut h: H) {
    let s = h.open();
    let n = s
        .archive(vec![
            event("b", 20, "B"),
            event("a", 20, "A"),
            event("c", 10, "C"),
        ])
        .expect("archive");
    assert_eq!(n, 3);
    assert_eq!(
        s.archive(vec![event("a", 99, "other"), event("d", 30, "D")])
            .expect("archive"),
        1
    );
    assert_eq!(s.event("a").expect("event"), Some(event("a", 20, "A")));
    assert_eq!(s.event("zz").expect("event"), None);
    let ids = |v: Vec<ArchivedEvent>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.events(0, u64::MAX, None, 10).expect("events")),
        ["c", "a", "b", "d"]
    );
    assert_eq!(ids(s.events(20, 30, None, 10).expect("events")), ["a", "b"]);
    assert_eq!(
        ids(s.events(0, u64::MAX, None, 2).expect("events")),
        ["c", "a"]
    );
    assert_eq!(
        ids(s.events(0, u64::MAX, Some((20, "a")), 2).expect("events")),
        ["b", "d"]
    );
    drop(s);
    let s = h.open();
    assert_eq!(s.event("d").expect("event"), Some(event("d", 30, "D")));
    assert_eq!(s.archive(vec![event("d", 30, "D")]).expect("archive"), 0);
}

/// Pruning removes old events no delivery refers to, and keeps the others.
pub fn archive_prune_keeps_referenced<H: Harness>(mut h: H) {
    let s = h.open();
    s.archive(vec![
        event("old", 1, "o"),
        event("kept", 2, "k"),
        event("new", 50, "n"),
    ])
    .expect("archive");
    s.append(vec![new(0, "kept")]).expect("append");
    assert_eq!(s.prune(10).expect("prune"), 1);
    assert_eq!(s.event("old").expect("event"), None);
    assert!(s.event("kept").expect("event").is_some());
    assert!(s.event("new").expect("event").is_some());
    let leased = s.lease(0, 1, MINUTE).expect("lease");
    assert_eq!(
        settle_one(&s, 0, leased[0].lease, Outcome::Ack),
        Settled::Applied
    );
    assert_eq!(s.prune(10).expect("prune"), 1);
    assert_eq!(s.event("kept").expect("event"), None);
}

/// Ingest archives the events and appends the deliveries referring to them.
pub fn ingest_archives_and_appends<H: Harness>(mut h: H) {
    let s = h.open();
    let ids = s
        .ingest(vec![event("e1", 5, "E1")], vec![new(5, "e1"), new(5, "e1")])
        .expect("ingest");
    assert_eq!(ids.len(), 2);
    assert!(s.ingest(Vec::new(), Vec::new()).expect("ingest").is_empty());
    drop(s);
    let s = h.open();
    let leased = s.lease(5, 10, MINUTE).expect("lease");
    assert_eq!(leased.len(), 2);
    let archived = s
        .event(&leased[0].delivery.event_id)
        .expect("event")
        .map(|e| e.body);
    assert_eq!(archived, Some(b"E1".to_vec()));
}

/// A FIFO message of `group` with deduplication id `dedup`.
fn fifo_message(body: &str, group: Option<&str>, dedup: Option<&str>) -> NewMessage {
    let mut m = NewMessage::new(body);
    m.group_id = group.map(str::to_string);
    m.dedup_id = dedup.map(str::to_string);
    m
}

/// The bodies of received messages, in order.
fn bodies(received: &[crate::Received]) -> Vec<String> {
    received.iter().map(|r| r.message.body.clone()).collect()
}

/// In a FIFO queue a deduplication id seen within the window is accepted
/// and not enqueued (the first message's seq is answered), even after that
/// message was deleted; after the window it is a new message. Standard
/// queues keep every message.
pub fn fifo_deduplication_window<H: Harness>(mut h: H) {
    let s = h.open();
    s.create_queue("f.fifo", attrs(&[("FifoQueue", "true")]), 0)
        .expect("create");
    let t0 = 1_000_000;
    let first = s
        .send("f.fifo", vec![fifo_message("a", Some("g"), Some("d1"))], t0)
        .expect("send");
    let again = s
        .send(
            "f.fifo",
            vec![
                fifo_message("a again", Some("g"), Some("d1")),
                fifo_message("b", Some("g"), Some("d2")),
                fifo_message("b twice", Some("g"), Some("d2")),
            ],
            t0 + 1_000,
        )
        .expect("send");
    assert_eq!(again[0], first[0], "a duplicate answers the first's seq");
    assert_ne!(again[1], first[0]);
    assert_eq!(again[2], again[1], "duplicates within one batch too");
    let stored = s.messages("f.fifo", 10).expect("messages");
    assert_eq!(
        stored.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(stored[0].group_id.as_deref(), Some("g"));
    assert_eq!(stored[0].dedup_id.as_deref(), Some("d1"));
    // Deleted, its id is still remembered for the window.
    let got = s.receive("f.fifo", t0 + 2_000, 1, 1_000).expect("receive");
    assert_eq!(bodies(&got), ["a"]);
    s.delete_message("f.fifo", &got[0].receipt).expect("delete");
    let dup = s
        .send(
            "f.fifo",
            vec![fifo_message("a3", Some("g"), Some("d1"))],
            t0 + DEDUP_WINDOW_MS - 1,
        )
        .expect("send");
    assert_eq!(dup, first);
    assert_eq!(s.messages("f.fifo", 10).expect("messages").len(), 1);
    // The window has passed: a new message.
    let new = s
        .send(
            "f.fifo",
            vec![fifo_message("a4", Some("g"), Some("d1"))],
            t0 + DEDUP_WINDOW_MS,
        )
        .expect("send");
    assert!(new[0] > again[1]);
    assert_eq!(s.messages("f.fifo", 10).expect("messages").len(), 2);
    // A standard queue does not deduplicate.
    s.create_queue("std", BTreeMap::new(), 0).expect("create");
    let seqs = s
        .send(
            "std",
            vec![
                fifo_message("x", Some("g"), Some("d")),
                fifo_message("x", Some("g"), Some("d")),
            ],
            t0,
        )
        .expect("send");
    assert_ne!(seqs[0], seqs[1]);
    assert_eq!(s.messages("std", 10).expect("messages").len(), 2);
}

/// Content-based deduplication uses the SHA-256 of the body (an explicit
/// id overrides it); with scope `messageGroup` ids count per group.
pub fn fifo_content_based_and_group_scope<H: Harness>(mut h: H) {
    let s = h.open();
    s.create_queue(
        "c.fifo",
        attrs(&[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]),
        0,
    )
    .expect("create");
    let a = s
        .send("c.fifo", vec![fifo_message("same", Some("g"), None)], 10)
        .expect("send");
    let b = s
        .send(
            "c.fifo",
            vec![
                fifo_message("same", Some("other"), None),
                fifo_message("same", Some("g"), Some("explicit")),
            ],
            20,
        )
        .expect("send");
    assert_eq!(b[0], a[0], "same body, same hash, whatever the group");
    assert_ne!(b[1], a[0], "an explicit id overrides the hash");
    let stored = s.messages("c.fifo", 10).expect("messages");
    assert_eq!(stored.len(), 2);
    // sha256("same")
    assert_eq!(
        stored[0].dedup_id.as_deref(),
        Some("0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5")
    );
    assert_eq!(stored[1].dedup_id.as_deref(), Some("explicit"));

    s.create_queue(
        "g.fifo",
        attrs(&[
            ("FifoQueue", "true"),
            ("DeduplicationScope", "messageGroup"),
        ]),
        0,
    )
    .expect("create");
    let seqs = s
        .send(
            "g.fifo",
            vec![
                fifo_message("1", Some("a"), Some("d")),
                fifo_message("2", Some("b"), Some("d")),
                fifo_message("3", Some("a"), Some("d")),
            ],
            10,
        )
        .expect("send");
    assert_ne!(seqs[0], seqs[1], "another group: not a duplicate");
    assert_eq!(seqs[2], seqs[0], "the same group: a duplicate");
    assert_eq!(s.messages("g.fifo", 10).expect("messages").len(), 2);
}

/// Messages of a group are received in order, several at once when
/// visible; a group with a message in flight gives out nothing more until
/// it is deleted or visible again, while other groups (and messages
/// without a group) go on.
pub fn fifo_group_order_and_blocking<H: Harness>(mut h: H) {
    let s = h.open();
    s.create_queue("o.fifo", attrs(&[("FifoQueue", "true")]), 0)
        .expect("create");
    let sends = [
        ("a1", Some("a")),
        ("b1", Some("b")),
        ("a2", Some("a")),
        ("a3", Some("a")),
        ("b2", Some("b")),
        ("free", None),
    ];
    for (i, (body, group)) in sends.iter().enumerate() {
        let dedup = format!("d{i}");
        s.send("o.fifo", vec![fifo_message(body, *group, Some(&dedup))], 0)
            .expect("send");
    }
    let first = s.receive("o.fifo", 1, 1, 100).expect("receive");
    assert_eq!(bodies(&first), ["a1"]);
    let next = s.receive("o.fifo", 2, 10, 1_000).expect("receive");
    assert_eq!(bodies(&next), ["b1", "b2", "free"], "group a is blocked");
    assert!(s.receive("o.fifo", 3, 10, 100).expect("receive").is_empty());
    // a1 deleted: a2 and a3 follow, in order.
    s.delete_message("o.fifo", &first[0].receipt)
        .expect("delete");
    let a = s.receive("o.fifo", 4, 1, 100).expect("receive");
    assert_eq!(bodies(&a), ["a2"]);
    assert!(
        s.receive("o.fifo", 5, 10, 100).expect("receive").is_empty(),
        "a3 waits behind a2 in flight"
    );
    // a2's visibility times out: it comes back first, then a3 with it.
    let back = s.receive("o.fifo", 104, 10, 100).expect("receive");
    assert_eq!(bodies(&back), ["a2", "a3"]);
    assert_eq!(back[0].receive_count, 2);
    // b1 and b2 are visible again at 1002: b1 first.
    let b = s.receive("o.fifo", 1_002, 1, 100).expect("receive");
    assert_eq!(bodies(&b), ["b1"]);
    // A standard queue does not block on groups.
    s.create_queue("std", BTreeMap::new(), 0).expect("create");
    s.send(
        "std",
        vec![
            fifo_message("x1", Some("x"), None),
            fifo_message("x2", Some("x"), None),
        ],
        0,
    )
    .expect("send");
    assert_eq!(
        bodies(&s.receive("std", 1, 1, 100).expect("receive")),
        ["x1"]
    );
    assert_eq!(
        bodies(&s.receive("std", 1, 1, 100).expect("receive")),
        ["x2"]
    );
}

/// The deduplication window and the group locks survive a restart.
pub fn fifo_state_survives_reopen<H: Harness>(mut h: H) {
    let s = h.open();
    s.create_queue("r.fifo", attrs(&[("FifoQueue", "true")]), 0)
        .expect("create");
    let first = s
        .send(
            "r.fifo",
            vec![
                fifo_message("1", Some("g"), Some("d1")),
                fifo_message("2", Some("g"), Some("d2")),
            ],
            10,
        )
        .expect("send");
    let got = s.receive("r.fifo", 20, 1, 1_000).expect("receive");
    assert_eq!(bodies(&got), ["1"]);
    drop(s);
    let s = h.open();
    assert_eq!(
        s.send("r.fifo", vec![fifo_message("1", Some("g"), Some("d1"))], 30)
            .expect("send"),
        first[..1]
    );
    assert!(
        s.receive("r.fifo", 40, 10, 1_000)
            .expect("receive")
            .is_empty(),
        "the group is still locked by 1 in flight"
    );
    s.delete_message("r.fifo", &got[0].receipt).expect("delete");
    assert_eq!(
        bodies(&s.receive("r.fifo", 50, 10, 1_000).expect("receive")),
        ["2"]
    );
    // Deleted and re-created, the queue forgets its ids.
    s.delete_queue("r.fifo").expect("delete");
    s.create_queue("r.fifo", attrs(&[("FifoQueue", "true")]), 60)
        .expect("create");
    s.send("r.fifo", vec![fifo_message("1", Some("g"), Some("d1"))], 70)
        .expect("send");
    assert_eq!(s.messages("r.fifo", 10).expect("messages").len(), 1);
}

fn member(archive: &str, id: &str, time_ms: u64) -> ArchiveMember {
    ArchiveMember {
        archive: archive.into(),
        event_id: id.into(),
        time_ms,
    }
}

/// Named archives hold archived events by member time: idempotent, read
/// by window with paging, counted, expired, kept across a restart; an
/// event in two archives is stored once and outlives pruning while a
/// member holds it.
pub fn named_archives<H: Harness>(mut h: H) {
    let s = h.open();
    let ids = s
        .ingest_archived(
            vec![
                event("a", 1, "AAAA"),
                event("b", 2, "BB"),
                event("c", 3, "C"),
            ],
            vec![
                member("x", "a", 30),
                member("x", "b", 10),
                member("y", "a", 30),
                member("x", "missing", 5),
            ],
            vec![new(0, "c")],
        )
        .expect("ingest");
    assert_eq!(ids.len(), 1);
    assert_eq!(
        s.add_members(vec![member("x", "a", 30), member("x", "c", 20)])
            .expect("members"),
        1
    );
    let read = |archive: &str, from: u64, to: u64, after: Option<(u64, &str)>, limit: usize| {
        s.members(archive, from, to, after, limit)
            .expect("members")
            .into_iter()
            .map(|(t, e)| (t, e.id))
            .collect::<Vec<_>>()
    };
    let all = [(10, "b".to_string()), (20, "c".into()), (30, "a".into())];
    assert_eq!(read("x", 0, u64::MAX, None, 10), all);
    assert_eq!(read("x", 10, 30, None, 10), all[..2]);
    assert_eq!(read("x", 0, u64::MAX, Some((10, "b")), 1), all[1..2]);
    assert_eq!(read("y", 0, u64::MAX, None, 10), [(30, "a".to_string())]);
    assert!(read("none", 0, u64::MAX, None, 10).is_empty());
    let body = s.members("x", 30, 31, None, 1).expect("members");
    assert_eq!(body[0].1.body, b"AAAA".to_vec());
    assert_eq!(
        s.archive_stats("x").expect("stats"),
        ArchiveStats {
            events: 3,
            bytes: 7
        }
    );
    assert_eq!(
        s.archive_stats("none").expect("stats"),
        ArchiveStats::default()
    );
    // Members hold their events: pruning leaves them.
    assert_eq!(s.prune(u64::MAX).expect("prune"), 0);
    drop(s);
    let s = h.open();
    assert_eq!(s.archive_stats("x").expect("stats").events, 3);
    assert_eq!(s.expire_members("x", 20).expect("expire"), 1);
    assert_eq!(
        s.archive_stats("x").expect("stats"),
        ArchiveStats {
            events: 2,
            bytes: 5
        }
    );
    // "b" is held by nothing now; "a" still by both archives.
    assert!(s.prune(u64::MAX).expect("prune") <= 1);
    assert_eq!(s.event("b").expect("event"), None);
    assert!(s.event("a").expect("event").is_some());
    assert_eq!(s.expire_members("x", u64::MAX).expect("expire"), 2);
    assert_eq!(
        s.archive_stats("x").expect("stats"),
        ArchiveStats::default()
    );
    assert!(s.event("a").expect("event").is_some(), "still in y");
    assert_eq!(s.expire_members("y", u64::MAX).expect("expire"), 1);
    s.prune(u64::MAX).expect("prune");
    assert_eq!(s.event("a").expect("event"), None);
}
