//! Once its buffers have grown, `Matcher::matches_with` allocates nothing per
//! event: checked with a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use ferrule::{FieldReader, MatchScratch, ReadMode, RuleSet, validate_event};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations are counted: only the test's own
    /// thread (the test harness's main thread allocates at its own times).
    static COUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn count() {
    if COUNTED.try_with(|c| c.get()).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` unchanged, which upholds the
// `GlobalAlloc` contract; the counter has no effect on the memory returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: `ptr` came from `System` with `layout`; forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn matching_allocates_nothing_per_event_once_warm() {
    COUNTED.with(|c| c.set(true));
    let probe = ALLOCATIONS.load(Ordering::Relaxed);
    drop(std::hint::black_box(vec![0u8; 16]));
    assert!(
        ALLOCATIONS.load(Ordering::Relaxed) > probe,
        "this thread's allocations are counted"
    );
    let mut rules = RuleSet::new();
    let patterns = [
        r#"{"source": ["aws.s3"], "detail": {"size": [{"numeric": [">", 10]}]}}"#,
        r#"{"detail": {"key": [{"wildcard": "*/img-*.png"}]}}"#,
        r#"{"detail": {"key": [{"prefix": {"equals-ignore-case": "UPLOADS/"}}]}}"#,
        r#"{"detail": {"tags": {"k": ["env"], "v": ["prod"]}}}"#,
        r#"{"detail": {"ip": [{"cidr": "10.0.0.0/8"}]}, "source": [{"anything-but": "x"}]}"#,
        r#"{"detail": {"missing": [{"exists": false}]}, "$or": [{"a": [1]}, {"source": [{"suffix": "s3"}]}]}"#,
    ];
    for (i, p) in patterns.iter().enumerate() {
        rules.add(&format!("r{i}"), p).unwrap();
    }
    let matcher = rules.compile();
    let events: Vec<String> = (0..200)
        .map(|i| {
            format!(
                r#"{{"source": "aws.s3", "detail": {{"size": {i}, "key": "uploads/{i}/img-{i}.png", "ip": "10.0.{}.1",
                   "tags": [{{"k": "env", "v": "prod"}}, {{"k": "team", "v": "x\u00e9{i}"}}], "noise": [1, 2, {{"deep": [3, "\"]"]}}],
                   "big": 1e400, "dup": "a", "dup": "b"}}}}"#,
                i % 256
            )
        })
        .collect();
    let mut scratch = MatchScratch::default();
    let mut out = Vec::new();
    // Warm up: buffers grow to the largest event.
    for e in &events {
        matcher
            .matches_with(e.as_bytes(), &mut scratch, &mut out)
            .unwrap();
        matcher
            .matches_with_mode(e.as_bytes(), ReadMode::Trusted, &mut scratch, &mut out)
            .unwrap();
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut total = 0;
    let mut trusted = 0;
    for e in &events {
        matcher
            .matches_with(e.as_bytes(), &mut scratch, &mut out)
            .unwrap();
        total += out.len();
        matcher
            .matches_with_mode(e.as_bytes(), ReadMode::Trusted, &mut scratch, &mut out)
            .unwrap();
        trusted += out.len();
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(trusted, total, "the trusted mode gives the same matches");
    assert!(total >= 5 * events.len(), "the rules do match ({total})");
    assert_eq!(
        after - before,
        0,
        "allocations while matching {} events",
        events.len()
    );
    reading_and_unordered_matching_allocate_nothing_once_warm();
}

/// The same for the other per-event entry points: the unordered ids, the
/// reader alone (`FieldReader`, both modes) and `validate_event`. Run from
/// the one test above: the counter is global, and the test harness
/// allocates when another test finishes.
fn reading_and_unordered_matching_allocate_nothing_once_warm() {
    let mut rules = RuleSet::new();
    for i in 0..100 {
        rules
            .add(
                &format!("r{i}"),
                &format!(r#"{{"n": [{{"numeric": [">=", {i}]}}]}}"#),
            )
            .unwrap();
    }
    let matcher = rules.compile();
    let mut reader = matcher.field_reader();
    let mut by_path = FieldReader::new(["n", "s.t"]);
    let events: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"n": {i}, "s": {{"t": ["a\u00e9", 2]}}, "x": [{{"y": 1e400}}]}}"#))
        .collect();
    let mut scratch = MatchScratch::default();
    let mut out = Vec::new();
    let mut pass = |count: &mut usize| {
        for e in &events {
            let e = e.as_bytes();
            matcher
                .matches_unordered_with(e, ReadMode::Validated, &mut scratch, &mut out)
                .unwrap();
            *count += out.len();
            for mode in [ReadMode::Validated, ReadMode::Trusted] {
                *count += reader.read(e, mode).unwrap();
                *count += by_path.read(e, mode).unwrap();
            }
            validate_event(e).unwrap();
        }
    };
    let mut warm = 0;
    pass(&mut warm);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut count = 0;
    pass(&mut count);
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(count, warm);
    // 5050 ids, 2 * 100 leaves read by `reader`, 2 * 300 by `by_path`.
    assert_eq!(count, 5050 + 200 + 600);
    assert_eq!(after - before, 0, "allocations while reading");
}
