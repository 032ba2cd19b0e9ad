//! The harness's machine-readable reports against a faulty server: JUnit names
//! exactly the failing clauses as `<failure>`, the JSON names them, the HAR
//! holds the exchanges, and the stored failure is replayed first by the next
//! run, failing while the fault is there and passing once it is fixed.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use httpmock::{HttpMockRequest, MockServer};
use quick_junit::{NonSuccessKind, TestCaseStatus};
use sela_contract::har::Recorder;
use sela_contract::regressions::{self, ReplayOutcome};
use sela_contract::{ApiKey, Clause, Config, Report, Target, json, junit};
use sela_sandbox::{SandboxState, answer};
use serde_json::Value;

const TOKEN: &str = "reports-test-token-0123456789";
/// The second account's token (A3).
const SECOND_TOKEN: &str = "reports-test-second-token-9876543210";

/// A sandbox behind httpmock whose bulk answers swap the ids of the first two
/// `created` results while `faulty` is set (B3: only read-back shows it).
struct SwappingServer {
    server: MockServer,
    faulty: Arc<AtomicBool>,
}

impl SwappingServer {
    fn start() -> Self {
        Self::start_slow(Duration::ZERO)
    }

    /// Each bulk answer is held back by `delay`.
    fn start_slow(delay: Duration) -> Self {
        let state = SandboxState::new(TOKEN)
            .with_second_token(SECOND_TOKEN)
            .expect("two tokens");
        let faulty = Arc::new(AtomicBool::new(true));
        let server = MockServer::start();
        let on = faulty.clone();
        server.mock(|_when, then| {
            then.respond_with(move |req: &HttpMockRequest| {
                let mut reply = answer(&state, req);
                let bulk = req.method_str() == "POST" && req.uri_str().contains("bulk-create");
                if bulk {
                    std::thread::sleep(delay);
                }
                if bulk
                    && on.load(Ordering::SeqCst)
                    && (200..300).contains(&reply.status)
                    && let Some(results) =
                        reply.body.get_mut("results").and_then(Value::as_array_mut)
                {
                    let created: Vec<usize> = (0..results.len())
                        .filter(|i| results[*i]["action"] == "created")
                        .collect();
                    if let [a, b, ..] = created[..] {
                        let id_a = results[a]["id"].clone();
                        results[a]["id"] = results[b]["id"].clone();
                        results[b]["id"] = id_a;
                    }
                }
                reply.into_response()
            });
        });
        SwappingServer { server, faulty }
    }

    fn target(&self, recorder: &Recorder) -> Target {
        Target::new(&self.server.base_url(), ApiKey::new(TOKEN))
            .expect("target")
            .with_second_key(ApiKey::new(SECOND_TOKEN))
            .with_recorder(recorder.clone())
    }
}

fn config(seed: u64, replay: Vec<regressions::Regression>) -> Config {
    Config {
        cases: 8,
        seed: Some(seed),
        max_shrink_steps: 12,
        max_size: 100,
        replay,
        ..Config::default()
    }
}

/// A fresh scratch directory under the system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sela-reports-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn ids(clauses: &[Clause]) -> BTreeSet<String> {
    clauses.iter().map(|c| c.id().to_owned()).collect()
}

/// The clause ids of the `<failure>` test cases of the first suite, parsed
/// back from the XML by quick-junit's deserializer (quick-xml underneath).
fn junit_failures(xml: &str) -> (BTreeSet<String>, usize) {
    let parsed = quick_junit::Report::deserialize_from_str(xml).expect("JUnit XML parses");
    let suite = &parsed.test_suites[0];
    let failed = suite
        .test_cases
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                TestCaseStatus::NonSuccess {
                    kind: NonSuccessKind::Failure,
                    ..
                }
            )
        })
        .map(|c| c.name.as_str().split(' ').next().unwrap_or("").to_owned())
        .collect();
    (failed, suite.test_cases.len())
}

fn no_token(text: &str, what: &str) {
    assert!(!text.contains(TOKEN), "the token leaked into the {what}");
}

#[test]
fn reports_name_the_failing_clauses_and_the_stored_failure_replays_until_fixed() {
    let dir = scratch("faulty");
    let server = SwappingServer::start();

    // Run 1: the fault is found.
    let rec = Recorder::new();
    let first: Report =
        sela_contract::run(&server.target(&rec), &config(11, vec![])).expect("run 1");
    let failed = ids(&first.failed());
    assert!(failed.contains("B3"), "the swap is a B3 failure:\n{first}");
    assert!(!first.passed());

    // JUnit: exactly the failing clauses are <failure>, one testcase per clause.
    let junit_path = dir.join("junit.xml");
    junit::write(&first, &junit_path).expect("write JUnit");
    let xml = std::fs::read_to_string(&junit_path).unwrap();
    no_token(&xml, "JUnit file");
    let (junit_failed, cases) = junit_failures(&xml);
    assert_eq!(junit_failed, failed, "{xml}");
    assert_eq!(cases, Clause::ALL.len());
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let b3 = parsed.test_suites[0]
        .test_cases
        .iter()
        .find(|c| c.name.as_str().starts_with("B3 "))
        .expect("a B3 testcase");
    let TestCaseStatus::NonSuccess {
        message,
        description,
        ..
    } = &b3.status
    else {
        panic!("B3 is not a failure: {xml}")
    };
    assert_eq!(
        message.as_ref().map(|m| m.as_str()),
        Some(Clause::B3.meaning())
    );
    let text = description.as_ref().expect("evidence").as_str();
    assert!(
        text.contains("curl ") && text.contains("$SELA_API_KEY"),
        "{text}"
    );
    assert!(text.contains("batch ("), "{text}");
    assert!(
        parsed.test_suites[0]
            .properties
            .iter()
            .any(|p| p.name.as_str() == "seed" && p.value.as_str() == first.seed.to_string())
    );

    // JSON: names the same clauses, with evidence and a format version.
    let json_path = dir.join("report.json");
    json::write(&first, &json_path).expect("write JSON");
    let text = std::fs::read_to_string(&json_path).unwrap();
    no_token(&text, "JSON report");
    let doc: Value = serde_json::from_str(&text).expect("JSON parses");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["passed"], false);
    let named: BTreeSet<String> = doc["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(named, failed);
    let b3 = doc["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clause"] == "B3")
        .unwrap();
    assert!(b3["failure"]["exchanges"][0]["curl"].is_string(), "{b3}");
    assert!(b3["origin"]["case_seed"].is_u64(), "{b3}");

    // HAR: every exchange, and the failing cases' alone.
    let har_path = dir.join("run.har");
    rec.write(&har_path, false).expect("write HAR");
    let text = std::fs::read_to_string(&har_path).unwrap();
    no_token(&text, "HAR file");
    let all = har::from_str(&text).expect("HAR parses");
    let har::Spec::V1_2(log) = &all.log else {
        panic!("not HAR 1.2")
    };
    assert_eq!(log.entries.len(), rec.len());
    assert!(log.entries.len() >= first.requests.min(1));
    let failing = rec.to_har(true);
    let har::Spec::V1_2(flog) = &failing.log else {
        panic!("not HAR 1.2")
    };
    assert!(!flog.entries.is_empty() && flog.entries.len() < log.entries.len());

    // The failures are stored; storing again adds nothing.
    let store = dir.join("contract-regressions.jsonl");
    let added = regressions::store(&store, &first).expect("store");
    assert_eq!(added, failed.len());
    assert_eq!(regressions::store(&store, &first).expect("store again"), 0);
    let stored = regressions::load(&store).expect("load");
    let stored_b3 = stored.iter().find(|r| r.clause == "B3").unwrap().clone();

    // Run 2, fault still there: the stored failure is replayed and fails again,
    // with fresh identities.
    let rec2 = Recorder::new();
    let second =
        sela_contract::run(&server.target(&rec2), &config(12, stored.clone())).expect("run 2");
    assert!(!second.passed());
    assert_eq!(second.replayed.len(), stored.len());
    let replay_b3 = second
        .replayed
        .iter()
        .find(|r| r.stored.clause == "B3")
        .unwrap();
    assert_eq!(replay_b3.outcome, ReplayOutcome::StillFails, "{second}");
    let fresh = replay_b3.failure.as_ref().expect("evidence of the replay");
    let emails = |items: Vec<&Value>| -> BTreeSet<String> {
        items
            .iter()
            .filter_map(|v| v.get("email").and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    let old = emails(stored_b3.batch.iter().map(|i| &i.item).collect());
    let new = emails(fresh.batch.iter().map(|(_, v)| v).collect());
    assert!(
        !new.is_empty() && old.is_disjoint(&new),
        "{old:?} / {new:?}"
    );
    let text = second.to_string();
    assert!(
        text.contains(&regressions::summary(&second.replayed)),
        "{text}"
    );
    assert!(text.contains("still fail"), "{text}");
    let xml = junit::to_junit(&second).to_string().unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(parsed.test_suites.len(), 2, "a suite for the replays");
    assert!(parsed.test_suites[1].failures >= 1, "{xml}");

    // Run 3, the fault fixed (same server, its leads kept): the replay passes.
    server.faulty.store(false, Ordering::SeqCst);
    let rec3 = Recorder::new();
    let third = sela_contract::run(&server.target(&rec3), &config(13, stored)).expect("run 3");
    for r in &third.replayed {
        assert_eq!(r.outcome, ReplayOutcome::Passed, "{third}");
    }
    assert!(third.passed(), "{third}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_spent_time_budget_checks_nothing_and_junit_skips_every_clause() {
    let server = SwappingServer::start();
    server.faulty.store(false, Ordering::SeqCst);
    let mut cfg = config(21, vec![]);
    cfg.time_budget = Some(Duration::ZERO);
    let report = sela_contract::run(&server.target(&Recorder::new()), &cfg).expect("run");
    assert!(report.checked_nothing(), "{report}");
    assert!(!report.passed());
    let budget = report.time_budget.as_ref().unwrap();
    assert!(budget.spent && budget.cases_not_started > 0);
    let xml = junit::to_junit(&report).to_string().unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let suite = &parsed.test_suites[0];
    assert_eq!(suite.skipped, Clause::ALL.len(), "{xml}");
    assert!(xml.contains("time budget"), "{xml}");
}

#[test]
fn a_time_budget_stops_new_cases_but_reports_cases_per_clause() {
    // 20 ms per bulk answer: the 5,000 cases per property would take well over
    // ten minutes, the size probe's few requests well under the budget.
    let server = SwappingServer::start_slow(Duration::from_millis(20));
    server.faulty.store(false, Ordering::SeqCst);
    let mut cfg = config(31, vec![]);
    cfg.cases = 5000;
    cfg.time_budget = Some(Duration::from_secs(3));
    let report = sela_contract::run(&server.target(&Recorder::new()), &cfg).expect("run");
    let budget = report.time_budget.as_ref().unwrap();
    assert!(budget.spent, "{report}");
    assert!(report.cases_run > 0);
    assert!(report.clause(Clause::T1).cases > 0, "{report}");
    assert!(report.to_string().contains("time budget"), "{report}");
}
