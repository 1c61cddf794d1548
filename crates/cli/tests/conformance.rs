//! Runs event-ruler's own test cases (1,886 of them, ../shared/conformance)
//! through `ferrule test-pattern --jsonl`, exactly as other tools drive it.
//!
//! Set FERRULE_CONFORMANCE_CASES to the .jsonl file; without it the test
//! looks in ../shared/conformance/ and is skipped (with a notice) when the
//! file is absent. `.ci/run` sets the variable, so CI always runs it.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde::de::IgnoredAny;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Case {
    id: String,
    pattern: IgnoredAny,
    #[serde(rename = "match")]
    expected: Option<bool>,
    #[serde(default)]
    invalid: bool,
}

#[derive(Deserialize)]
struct Outcome {
    result: Option<bool>,
    error: Option<OutcomeError>,
}

#[derive(Deserialize)]
struct OutcomeError {
    code: String,
    message: String,
}

fn cases_path() -> Option<std::path::PathBuf> {
    if let Ok(path) = std::env::var("FERRULE_CONFORMANCE_CASES") {
        let path = std::path::PathBuf::from(path);
        assert!(
            path.exists(),
            "FERRULE_CONFORMANCE_CASES={} does not exist",
            path.display()
        );
        return Some(path);
    }
    let default = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/event-ruler-cases.jsonl");
    default.exists().then_some(default)
}

#[test]
fn event_ruler_cases_agree_or_are_listed_deviations() {
    let Some(path) = cases_path() else {
        eprintln!("conformance: corpus not found; set FERRULE_CONFORMANCE_CASES to run it");
        return;
    };
    let text = std::fs::read_to_string(&path).expect("read corpus");
    let deviations: BTreeMap<String, String> = include_str!("conformance/deviations.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, reason) = l
                .split_once('\t')
                .expect("deviation lines are ID<TAB>reason");
            (id.to_string(), reason.to_string())
        })
        .collect();

    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrule"))
        .args(["test-pattern", "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ferrule");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = text.clone();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("ferrule output");
    writer.join().expect("writer").expect("write cases");
    assert!(
        output.status.success(),
        "ferrule test-pattern --jsonl failed"
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");

    let cases: Vec<Case> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus line"))
        .collect();
    let outcomes: Vec<Outcome> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("output line"))
        .collect();
    assert_eq!(cases.len(), outcomes.len(), "one output line per case");

    let mut agree = 0;
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    for (case, outcome) in cases.iter().zip(&outcomes) {
        let ok = if case.invalid {
            outcome
                .error
                .as_ref()
                .is_some_and(|e| e.code == "InvalidEventPattern")
        } else {
            outcome.result == case.expected
        };
        let listed = deviations.contains_key(&case.id);
        match (ok, listed) {
            (true, false) => agree += 1,
            (true, true) => stale.push(case.id.clone()),
            (false, true) => {}
            (false, false) => unexpected.push(format!(
                "{}: expected {}, got {}",
                case.id,
                if case.invalid {
                    "InvalidEventPattern".to_string()
                } else {
                    format!("{:?}", case.expected)
                },
                match (&outcome.result, &outcome.error) {
                    (Some(r), _) => r.to_string(),
                    (_, Some(e)) => format!("{}: {}", e.code, e.message),
                    _ => "nothing".to_string(),
                }
            )),
        }
    }
    eprintln!(
        "conformance: {} cases, {agree} agree, {} listed deviations",
        cases.len(),
        deviations.len()
    );
    assert!(
        unexpected.is_empty(),
        "cases that disagree:\n{}",
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "listed deviations that now agree:\n{}",
        stale.join("\n")
    );
    assert_eq!(cases.len(), 1886, "the corpus has 1,886 cases");
}
