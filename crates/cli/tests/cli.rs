//! The `ferrule` binary's command line, run as a process: help and version,
//! usage errors, and the output contracts of `match`, `test-pattern` and
//! `bench` (README "The command line").

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The outcome of one run: exit status, standard output and error.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

fn ferrule(args: &[&str]) -> Run {
    ferrule_with_stdin(args, "")
}

fn ferrule_with_stdin(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrule"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ferrule");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.to_string();
    let writer = std::thread::spawn(move || input.write_all(text.as_bytes()));
    let output = child.wait_with_output().expect("ferrule output");
    writer.join().expect("writer").expect("write stdin");
    output.into()
}

/// A directory removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ferrule-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write file");
        path_text(&path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn path_text(path: &Path) -> String {
    path.to_str().expect("UTF-8 temp path").to_string()
}

/// Every command's flags, as documented in the README: the contract.
const FLAGS: &[(&str, &[&str])] = &[
    ("serve", &["--listen", "--data-dir", "--config"]),
    ("match", &["--rules", "--events", "--threads", "--count"]),
    ("test-pattern", &["--jsonl", "[PATTERN]", "[EVENT]"]),
    (
        "bench",
        &[
            "--events",
            "--rules",
            "--scenario",
            "--threads",
            "--seconds",
            "--lines",
            "--smoke",
            "--list",
            "--write-citylots",
        ],
    ),
];

#[test]
fn help_goes_to_stdout_with_status_0_and_names_every_command() {
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let run = ferrule(args);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        assert!(run.stderr.is_empty(), "{args:?}: {}", run.stderr);
        for (command, _) in FLAGS {
            assert!(
                run.stdout
                    .lines()
                    .any(|l| l.trim_start().starts_with(command)),
                "{args:?} does not list {command}:\n{}",
                run.stdout
            );
        }
        assert!(
            run.stdout.contains("Usage: ferrule <COMMAND>"),
            "{}",
            run.stdout
        );
    }
}

/// The help line of `flag`, and the description on it or on the next line
/// (the long help puts it below).
fn described(help: &str, flag: &str) -> bool {
    let lines: Vec<&str> = help.lines().collect();
    lines.iter().enumerate().any(|(i, line)| {
        let line = line.trim_start();
        let Some(rest) = line.strip_prefix(flag) else {
            return false;
        };
        // `--threads <N>  Threads to ...`: skip the value name.
        let rest = rest.trim_start();
        let rest = match rest.strip_prefix('<') {
            Some(r) => r.split_once('>').map_or("", |(_, after)| after),
            None => rest,
        };
        let next = lines.get(i + 1).map_or("", |l| l.trim());
        rest.trim().len() > 10 || next.len() > 10
    })
}

#[test]
fn each_command_help_documents_every_flag() {
    for (command, flags) in FLAGS {
        for help in ["--help", "-h"] {
            let run = ferrule(&[command, help]);
            assert_eq!(run.code, Some(0), "{command} {help}: {}", run.stderr);
            assert!(run.stderr.is_empty(), "{command} {help}: {}", run.stderr);
            assert!(
                run.stdout.contains(&format!("Usage: ferrule {command}")),
                "{command} {help}:\n{}",
                run.stdout
            );
            for flag in *flags {
                assert!(
                    described(&run.stdout, flag),
                    "`ferrule {command} {help}` does not document {flag}:\n{}",
                    run.stdout
                );
            }
        }
        // `ferrule help COMMAND` is the same help.
        let run = ferrule(&["help", command]);
        assert_eq!(run.code, Some(0), "help {command}: {}", run.stderr);
        assert_eq!(run.stdout, ferrule(&[command, "--help"]).stdout);
    }
}

#[test]
fn the_top_level_help_has_the_synopsis_of_every_flag() {
    let help = ferrule(&["--help"]).stdout;
    for (command, flags) in FLAGS {
        let synopsis = help
            .lines()
            .skip_while(|l| !l.trim_start().starts_with(&format!("ferrule {command} ")))
            .take_while(|l| {
                l.trim_start().starts_with(&format!("ferrule {command} "))
                    || l.starts_with("                ")
            })
            .collect::<Vec<_>>()
            .join(" ");
        for flag in flags.iter().filter(|f| f.starts_with("--")) {
            assert!(
                synopsis.contains(flag),
                "the synopsis of {command} lacks {flag}:\n{help}"
            );
        }
    }
}

#[test]
fn version() {
    let run = ferrule(&["--version"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        format!("ferrule {}", env!("CARGO_PKG_VERSION"))
    );
    let run = ferrule(&["-V"]);
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.starts_with("ferrule "), "{}", run.stdout);
}

#[test]
fn usage_errors_exit_2_with_the_message_on_stderr() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "Usage: ferrule <COMMAND>"),
        (&["--bogus"], "unexpected argument '--bogus'"),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (&["match", "--rules", "r.json"], "--events <EVENTS>"),
        (
            &["match", "--rules", "r", "--events", "e", "--bogus"],
            "unexpected argument '--bogus'",
        ),
        (
            &["match", "--rules", "r", "--events", "e", "--threads", "0"],
            "--threads <N>",
        ),
        (&["test-pattern", "{}"], "<EVENT>"),
        (&["test-pattern", "--jsonl", "{}"], "cannot be used with"),
        (&["bench", "--threads", "1,x"], "--threads"),
        (&["bench", "--seconds", "0"], "--seconds"),
        (&["bench", "--lines"], "--lines"),
        (&["serve", "--listen", "not-an-address"], "--listen"),
        (&["serve", "--port", "1"], "unexpected argument '--port'"),
    ];
    for (args, needle) in cases {
        let run = ferrule(args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains(needle),
            "{args:?}: stderr lacks {needle:?}:\n{}",
            run.stderr
        );
    }
}

const EVENTS: &str =
    "{\"source\":\"x\",\"n\":5}\n\n not json\n{\"source\":\"xy\"}\r\n{\"source\":\"q\"}\n";
const EXPECTED: &str = "{\"matches\":[\"a\",\"b\"]}\n{\"error\":\"invalid JSON: expected a JSON value at byte 1\"}\n{\"matches\":[\"b\"]}\n{\"matches\":[]}\n";

#[test]
fn match_prints_one_line_per_event_for_every_rules_form() {
    let dir = TempDir::new("match");
    let events = dir.file("events.jsonl", EVENTS);
    let forms = [
        // An object of name → pattern; the names sorted in the output.
        r#"{"b": {"source": [{"prefix": "x"}]}, "a": "{\"source\": [\"x\"]}"}"#,
        // An array of records.
        r#"[{"name": "a", "pattern": {"source": ["x"]}}, {"name": "b", "pattern": {"source": [{"prefix": "x"}]}}]"#,
        // JSON Lines of records.
        "{\"name\": \"b\", \"pattern\": {\"source\": [{\"prefix\": \"x\"}]}}\n{\"name\": \"a\", \"pattern\": {\"source\": [\"x\"]}}\n",
    ];
    for (i, form) in forms.iter().enumerate() {
        let rules = dir.file(&format!("rules-{i}.json"), form);
        let run = ferrule(&["match", "--rules", &rules, "--events", &events]);
        assert_eq!(run.code, Some(0), "form {i}: {}", run.stderr);
        assert_eq!(run.stdout, EXPECTED, "form {i}");
        // --flag=value, one thread, events on standard input.
        let run = ferrule_with_stdin(
            &[
                "match",
                &format!("--rules={rules}"),
                "--events",
                "-",
                "--threads=1",
            ],
            EVENTS,
        );
        assert_eq!(run.code, Some(0), "form {i} on stdin: {}", run.stderr);
        assert_eq!(run.stdout, EXPECTED, "form {i} on stdin");
    }
}

#[test]
fn match_reads_gzipped_events() {
    let dir = TempDir::new("match-gz");
    let rules = dir.file("rules.json", r#"{"a": {"source": ["x"]}}"#);
    let path = dir.0.join("events.jsonl.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"{\"source\":\"x\"}\n{\"source\":\"y\"}\n")
        .expect("gzip");
    std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
    let run = ferrule(&["match", "--rules", &rules, "--events", &path_text(&path)]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "{\"matches\":[\"a\"]}\n{\"matches\":[]}\n");
}

#[test]
fn match_count_prints_the_summary_line() {
    let dir = TempDir::new("match-count");
    let events = dir.file("events.jsonl", EVENTS);
    let rules = dir.file(
        "rules.json",
        r#"{"a": {"source": ["x"]}, "b": {"source": [{"prefix": "x"}]}}"#,
    );
    let run = ferrule(&[
        "match",
        "--rules",
        &rules,
        "--events",
        &events,
        "--count",
        "--threads",
        "2",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let line = run.stdout.trim_end();
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let fields: Vec<(&str, &str)> = line
        .split(' ')
        .map(|f| f.split_once('=').expect("key=value"))
        .collect();
    let keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        keys,
        [
            "events",
            "matched_events",
            "matches",
            "seconds",
            "events_per_second"
        ]
    );
    // 4 events (the invalid one counts, matching nothing), 2 matched, 3 matches.
    assert_eq!(
        &fields[..3],
        &[("events", "4"), ("matched_events", "2"), ("matches", "3")]
    );
    assert!(fields[3].1.parse::<f64>().is_ok(), "{line}");
    assert!(fields[4].1.parse::<f64>().is_ok(), "{line}");
}

#[test]
fn match_stops_on_an_invalid_rule_naming_it() {
    let dir = TempDir::new("match-bad");
    let events = dir.file("events.jsonl", EVENTS);
    let rules = dir.file(
        "rules.json",
        r#"{"good": {"source": ["x"]}, "broken": {"source": "x"}}"#,
    );
    let run = ferrule(&["match", "--rules", &rules, "--events", &events]);
    assert_eq!(run.code, Some(2));
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.starts_with("rule broken: "), "{}", run.stderr);
    let run = ferrule(&[
        "match",
        "--rules",
        "/nonexistent/rules.json",
        "--events",
        &events,
    ]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("cannot open"), "{}", run.stderr);
}

#[test]
fn test_pattern_prints_true_or_false() {
    let dir = TempDir::new("test-pattern");
    let pattern = r#"{"source": ["x"], "detail": {"n": [{"numeric": [">", 3]}]}}"#;
    let yes = r#"{"source": "x", "detail": {"n": 5}}"#;
    let no = r#"{"source": "x", "detail": {"n": 2}}"#;
    for (event, expected) in [(yes, "true\n"), (no, "false\n")] {
        let run = ferrule(&["test-pattern", pattern, event]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_eq!(run.stdout, expected);
    }
    // @file for either argument.
    let p = dir.file("pattern.json", pattern);
    let e = dir.file("event.json", yes);
    let run = ferrule(&["test-pattern", &format!("@{p}"), &format!("@{e}")]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "true\n"),
        "{}",
        run.stderr
    );

    let run = ferrule(&["test-pattern", r#"{"source": "x"}"#, yes]);
    assert_eq!(run.code, Some(2));
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.starts_with("invalid pattern: "),
        "{}",
        run.stderr
    );
    // A negative number is an argument (an invalid event), not a flag.
    let run = ferrule(&["test-pattern", pattern, "-1"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.starts_with("invalid event: "), "{}", run.stderr);
}

#[test]
fn test_pattern_jsonl_writes_one_line_per_case() {
    let input = concat!(
        r#"{"pattern": {"a": [1]}, "event": {"a": 1}, "id": "ignored"}"#,
        "\n",
        r#"{"pattern": "{\"a\": [2]}", "event": "{\"a\": 1}"}"#,
        "\n\n",
        r#"{"pattern": {"a": 1}, "event": {"a": 1}}"#,
        "\n",
        r#"{"pattern": {"a": [1]}, "event": [1]}"#,
        "\n",
    );
    let run = ferrule_with_stdin(&["test-pattern", "--jsonl"], input);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert_eq!(lines[0], serde_json::json!({"result": true}));
    assert_eq!(lines[1], serde_json::json!({"result": false}));
    assert_eq!(lines[2]["error"]["code"], "InvalidEventPattern");
    assert!(lines[2]["error"]["message"].is_string());
    assert_eq!(lines[3]["error"]["code"], "InvalidEvent");
}

#[test]
fn bench_list_names_the_scenarios() {
    let run = ferrule(&["bench", "--list", "--lines", "100"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let names: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for name in [
        "exact-1",
        "citylots-4",
        "rules-1k",
        "rules-10k",
        "op-numeric",
        "op-cidr",
    ] {
        assert!(names.contains(&name), "{name} not in:\n{}", run.stdout);
    }
    assert!(!names.contains(&"rules-file"), "{}", run.stdout);

    let dir = TempDir::new("bench-list");
    let rules = dir.file("rules.json", r#"{"a": {"source": ["x"]}}"#);
    let run = ferrule(&["bench", "--list", "--lines", "100", "--rules", &rules]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("rules-file "))
        .unwrap_or_else(|| panic!("no rules-file in:\n{}", run.stdout));
    assert!(line.contains(&rules), "{line}");
}

#[test]
fn bench_smoke_runs_every_scenario_with_no_progress_off_a_terminal() {
    let list = ferrule(&["bench", "--list"]);
    let run = ferrule(&["bench", "--smoke"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("smoke run: every scenario once"),
        "{}",
        run.stdout
    );
    let table: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for scenario in list
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
    {
        assert!(
            table.contains(&scenario),
            "{scenario} not measured:\n{}",
            run.stdout
        );
    }
    // Standard error is a pipe here: no progress display, no escape codes.
    assert!(!run.stderr.contains("measurements"), "{}", run.stderr);
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
    assert!(!run.stdout.contains('\x1b'), "{:?}", run.stdout);
}

#[test]
fn bench_rules_file_says_which_scenarios_measure_it() {
    let dir = TempDir::new("bench-rules");
    let rules = dir.file(
        "rules.json",
        r#"{"cranleigh": {"properties": {"STREET": ["CRANLEIGH"]}}, "any": {"type": ["Feature"]}}"#,
    );
    let run = ferrule(&[
        "bench",
        "--smoke",
        "--lines",
        "200",
        "--threads",
        "1",
        "--rules",
        &rules,
        "--scenario",
        "exact-1,rules-file",
        "--scenario",
        "op-pre*",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let expected = format!(
        "--rules {rules} (2 rules): measured by scenario rules-file over the citylots events; \
         not measured by exact-1, op-prefix (they keep their own rules)"
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == expected)
        .unwrap_or_else(|| panic!("no line {expected:?} in:\n{}", run.stdout));
    // It comes before the timing (the table).
    let table = lines
        .iter()
        .position(|l| l.starts_with("scenario "))
        .expect("the table");
    assert!(at < table);
    // The rules-file row: 2 rules, every generated event matches "any".
    let row: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with("rules-file "))
        .expect("a rules-file row")
        .split_whitespace()
        .collect();
    assert_eq!(row[1], "2", "{row:?}");
    assert_eq!(row[row.len() - 2], "200/200", "{row:?}");

    // Scenarios selected without rules-file: said too, and no row.
    let run = ferrule(&[
        "bench",
        "--smoke",
        "--lines",
        "100",
        "--threads",
        "1",
        "--rules",
        &rules,
        "--scenario",
        "exact-1",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "--rules {rules}: measured by no selected scenario (select rules-file with \
             --scenario); not measured by exact-1 (they keep their own rules)"
        )),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.lines().any(|l| l.starts_with("rules-file ")));
}

#[test]
fn bench_unknown_scenario_is_a_usage_error() {
    let run = ferrule(&["bench", "--smoke", "--lines", "100", "--scenario", "nope"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("unknown scenario \"nope\"; the scenarios are: exact-1"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Usage: ferrule bench"),
        "{}",
        run.stderr
    );
}

#[test]
fn bench_write_citylots_writes_lines() {
    let run = ferrule(&["bench", "--write-citylots", "-", "--lines", "7"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 7);
    for line in run.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        assert_eq!(v["type"], "Feature");
    }
    assert!(
        run.stderr.starts_with("7 lines; CRANLEIGH "),
        "{}",
        run.stderr
    );
}

#[test]
fn described_needs_the_flag_and_its_text() {
    let help = "Options:\n      --rules <RULES>  Rules file: a JSON object\n      --count\n          \
                Print one summary line instead\n      --bare\n\n  -h, --help  Print help";
    assert!(described(help, "--rules"));
    assert!(described(help, "--count"));
    assert!(!described(help, "--bare"));
    assert!(!described(help, "--events"));
}
