//! Running the harness against a test server, and asserting which clauses it
//! reported.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sela_contract::{ApiKey, Clause, Config, Report, Target};
use sela_sandbox::{Reply, SandboxState, answer_raw};
use serde_json::{Value, json};

use crate::server::{Req, Resp, TestServer, Transport};

/// The token every test server accepts (letters and digits, so that a case
/// flip changes it).
pub const TOKEN: &str = "faulttesttoken0123456789abcdef0123456789";

/// The second account's token (A3).
pub const TOKEN2: &str = "faultsecondaccount9876543210fedcba98765432";

/// A fresh sandbox state serving two accounts ([`TOKEN`], [`TOKEN2`]).
pub fn state() -> SandboxState {
    SandboxState::new(TOKEN)
        .with_second_token(TOKEN2)
        .expect("two different tokens")
}

/// The harness configuration of a fault test: few cases, a fixed seed and a
/// small shrinking budget, because CI runs the suite on two cores.
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        seed: Some(20_261_127),
        max_shrink_steps: 8,
        // Short, so that a fault's reads do not wait long; the read-lag tests
        // set their own.
        settle: std::time::Duration::from_millis(300),
        skip_checks: skipped_checks(),
        ..Config::default()
    }
}

/// The checks this test's runs switch off (`Config::skip_checks`): its own
/// ([`crate::pins::OTHERS_OFF`]), those `SELA_SKIP_CHECKS` names (comma-separated, for every test), and this
/// test's own line of the file `SELA_SKIP_PER_TEST` names (`test<TAB>check,
/// check`): how `remove_checks.sh` removes each test's pinned check, without
/// editing the harness, in one run of the suite.
pub fn skipped_checks() -> Vec<String> {
    let mut names = crate::pins::others_off();
    names.extend(
        std::env::var("SELA_SKIP_CHECKS")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    );
    if let Ok(file) = std::env::var("SELA_SKIP_PER_TEST") {
        let table = std::fs::read_to_string(&file).expect("SELA_SKIP_PER_TEST is readable");
        let test = std::thread::current().name().unwrap_or_default().to_owned();
        for line in table.lines() {
            if let Some((t, checks)) = line.split_once('\t')
                && t == test
            {
                names.extend(
                    checks
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
            }
        }
    }
    names
}

/// With `SELA_PINS_DUMP` set to a directory, writes there (a file per test)
/// the label and site (`CLAUSE part@file:line`) of each failure `report`
/// shows: the checks that caught the fault, for `remove_checks.sh`.
fn dump_labels(report: &Report) {
    let Ok(dir) = std::env::var("SELA_PINS_DUMP") else {
        return;
    };
    let test = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_owned();
    let labels: String = report
        .clauses
        .iter()
        .filter_map(|c| c.failure.as_ref())
        .map(|f| {
            let label = f.detail.split(':').next().unwrap_or_default();
            format!("{label}@{}\n", f.site)
        })
        .collect();
    let path = std::path::Path::new(&dir).join(test.replace("::", "."));
    let mut old = std::fs::read_to_string(&path).unwrap_or_default();
    old.push_str(&labels);
    old.push_str("--\n");
    std::fs::write(path, old).expect("SELA_PINS_DUMP is writable");
}

/// The clause with this CONTRACT.md id; panics naming it when the harness
/// does not know it yet.
pub fn clause(id: &str) -> Clause {
    Clause::from_id(id).unwrap_or_else(|| panic!("needs harness clause {id}"))
}

/// The sandbox's own answer to `req`.
pub fn sandbox_answer(state: &SandboxState, req: &Req) -> Reply {
    answer_raw(state, &req.method, &req.uri, &req.headers, &req.body)
}

/// Runs the harness against a server whose every answer is `responder`'s, over
/// a fresh sandbox state; checks that the token leaked nowhere.
pub fn run_with(
    cases: u32,
    responder: impl Fn(&SandboxState, &Req) -> Resp + Send + Sync + 'static,
) -> Report {
    run_state(cases, state(), responder)
}

/// As [`run_with`], over `state` (for example one with options).
pub fn run_state(
    cases: u32,
    state: SandboxState,
    responder: impl Fn(&SandboxState, &Req) -> Resp + Send + Sync + 'static,
) -> Report {
    let report = try_run(&config(cases), state, responder).expect("the harness runs");
    assert_no_leak(&report);
    report
}

/// Asserts that neither token shows in the report or its Debug.
#[track_caller]
pub fn assert_no_leak(report: &Report) {
    let text = report.to_string();
    assert!(!text.contains(TOKEN), "the token leaked into the report");
    assert!(
        !text.contains(TOKEN2),
        "the second token leaked into the report"
    );
    assert!(
        !format!("{report:?}").contains(TOKEN),
        "the token leaked into Debug"
    );
}

/// A test server speaking HTTP as `transport` says, answering `responder`
/// over `state`.
pub fn serve(
    state: SandboxState,
    transport: Transport,
    responder: impl Fn(&SandboxState, &Req) -> Resp + Send + Sync + 'static,
) -> TestServer {
    TestServer::start_with(Arc::new(move |req: &Req| responder(&state, req)), transport)
}

/// The harness run with `config` against `server`, with both tokens.
pub fn run_on(server: &TestServer, config: &Config) -> Result<Report, sela_contract::HarnessError> {
    let target = Target::new(&server.base_url(), ApiKey::new(TOKEN))
        .expect("target")
        .with_second_key(ApiKey::new(TOKEN2));
    let report = sela_contract::run(&target, config);
    if let Ok(report) = &report {
        dump_labels(report);
    }
    report
}

/// As [`run_with`], returning the harness's error.
pub fn try_run(
    config: &Config,
    state: SandboxState,
    responder: impl Fn(&SandboxState, &Req) -> Resp + Send + Sync + 'static,
) -> Result<Report, sela_contract::HarnessError> {
    run_on(&serve(state, Transport::default(), responder), config)
}

/// The sandbox, with `corrupt` applied to its every answer to a bulk create.
pub fn run_fault(
    corrupt: impl Fn(&SandboxState, &Req, Reply) -> Reply + Send + Sync + 'static,
) -> Report {
    run_with(8, move |state, req| {
        let reply = sandbox_answer(state, req);
        if is_bulk(req) {
            corrupt(state, req, reply).into()
        } else {
            reply.into()
        }
    })
}

/// The sandbox, with `change` applied to every result whose action is
/// `action` in its every 2xx answer to a bulk create.
pub fn run_rewriting(
    action: &'static str,
    change: impl Fn(&mut Value) + Send + Sync + 'static,
) -> Report {
    run_fault(move |_, _, mut reply| {
        for res in results_mut(&mut reply).into_iter().flatten() {
            if res["action"] == action {
                change(res);
            }
        }
        reply
    })
}

/// As [`run_fault`], but `corrupt` applies to one bulk answer in three only, as
/// from a cluster where one replica of three is broken. For faults that make an
/// answer unreadable (status, content type, schema, count): the other answers
/// let the harness check every other clause.
pub fn run_fault_one_in_three(
    corrupt: impl Fn(&SandboxState, &Req, Reply) -> Reply + Send + Sync + 'static,
) -> Report {
    let counter = AtomicUsize::new(0);
    run_fault(move |state, req, reply| {
        if counter.fetch_add(1, Ordering::Relaxed) % 3 == 1 {
            corrupt(state, req, reply)
        } else {
            reply
        }
    })
}

/// The sandbox, except that every authorised, well-formed bulk create is
/// answered by `handler` from its items (it usually calls the model itself).
pub fn run_bulk(
    handler: impl Fn(&SandboxState, &[Value]) -> Reply + Send + Sync + 'static,
) -> Report {
    run_with(8, move |state, req| {
        if is_bulk(req)
            && authorised(req)
            && let Some(leads) = leads_of(req)
        {
            return handler(state, &leads).into();
        }
        sandbox_answer(state, req).into()
    })
}

/// A 200 answer with these results.
pub fn results(results: Vec<Value>) -> Reply {
    Reply {
        status: 200,
        headers: Vec::new(),
        body: json!({ "results": results }),
        bulk: None,
    }
}

/// True for `POST /api/leads/bulk-create/`.
pub fn is_bulk(req: &Req) -> bool {
    req.method == "POST" && req.path() == "/api/leads/bulk-create/"
}

/// True when the request carries exactly the real token.
pub fn authorised(req: &Req) -> bool {
    req.header("authorization") == Some(&format!("Token {TOKEN}"))
}

/// The `leads` array of a bulk body, if it has one.
pub fn leads_of(req: &Req) -> Option<Vec<Value>> {
    req.json()?.get("leads")?.as_array().cloned()
}

/// The results of a 2xx bulk answer, to corrupt.
pub fn results_mut(reply: &mut Reply) -> Option<&mut Vec<Value>> {
    if !(200..300).contains(&reply.status) {
        return None;
    }
    reply.body.get_mut("results")?.as_array_mut()
}

/// Asserts that every clause in `failing` failed with evidence (a request, a
/// `curl` line) and that every other clause held. `why` says why the clauses
/// after the first must fail with it.
#[track_caller]
pub fn assert_only(report: &Report, failing: &[Clause], why: &str) {
    assert_only_or(report, failing, &[], why);
}

/// As [`assert_only`], except that the clauses in `may` are allowed to fail
/// too: consequences that show only when the run happens to send an identity
/// again (`why` says which and why).
#[track_caller]
pub fn assert_only_or(report: &Report, failing: &[Clause], may: &[Clause], why: &str) {
    assert_verdicts(report, failing, may, &[], why);
}

/// As [`assert_only_or`], and the clauses in `unchecked` are reported "not
/// checked" (never held, never failed): the fault takes away what they are
/// judged by (`why` says how).
#[track_caller]
pub fn assert_only_unchecked(
    report: &Report,
    failing: &[Clause],
    may: &[Clause],
    unchecked: &[Clause],
    why: &str,
) {
    assert_verdicts(report, failing, may, unchecked, why);
}

/// Every clause in `failing` failed with evidence, those in `unchecked` were
/// not checked, those in `may` did anything, and every other clause held.
#[track_caller]
fn assert_verdicts(
    report: &Report,
    failing: &[Clause],
    may: &[Clause],
    unchecked: &[Clause],
    why: &str,
) {
    eprintln!("{report}");
    for &c in failing {
        let result = report.clause(c);
        assert!(
            result.failed_cases > 0,
            "{c} was not reported as failed (expected {failing:?}: {why}):\n{report}"
        );
        let failure = result
            .failure
            .as_ref()
            .expect("a failed clause has evidence");
        assert!(
            !failure.exchanges.is_empty(),
            "{c}: no request/response evidence"
        );
        let text = report.to_string();
        assert!(text.contains(&format!("== {} FAILED", c.id())), "{text}");
        // Pins: failure.rs Failure::evidence (each exchange's `reproduce: curl` line),
        // on this clause's own evidence, not the whole report.
        let evidence = failure.evidence();
        assert!(
            evidence.contains("reproduce: curl "),
            "{c}: its evidence has no curl line:\n{evidence}"
        );
    }
    for &c in unchecked {
        assert_eq!(
            report.clause(c).verdict(),
            "not checked",
            "{c} should be not checked ({why}):\n{report}"
        );
    }
    for result in &report.clauses {
        let c = &result.clause;
        if !failing.contains(c) && !may.contains(c) && !unchecked.contains(c) {
            assert!(
                result.held(),
                "{c} did not hold ({}), but only {failing:?} should fail ({why}):\n{report}",
                result.verdict()
            );
        }
    }
}

/// Asserts that every clause held.
#[track_caller]
pub fn assert_passes(report: &Report) {
    assert!(
        report.passed(),
        "a correct server was failed on {:?}:\n{report}",
        report.failed()
    );
}

/// `GET /api/leads/{id}/`, when `req` is one.
pub fn lead_id(req: &Req) -> Option<i64> {
    if req.method != "GET" {
        return None;
    }
    req.path()
        .strip_prefix("/api/leads/")?
        .strip_suffix('/')?
        .parse()
        .ok()
}

/// The report's settle-window observation (how reads waited).
#[track_caller]
pub fn settle_line(report: &Report) -> &str {
    report
        .observations
        .iter()
        .find(|o| o.starts_with("settle window"))
        .map(String::as_str)
        .expect("the report says how reads waited")
}

/// Asserts that some read of the run waited and then agreed.
#[track_caller]
pub fn assert_reads_waited(report: &Report) {
    let line = settle_line(report);
    assert!(!line.contains(": 0 read(s) waited"), "{line}");
}
