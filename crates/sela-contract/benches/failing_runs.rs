//! Issue 26: a run against a server that breaks one clause (and has no read
//! lag) takes at most 3 times as long as the same run against the server
//! without the fault, shrinking included. Each fault class below wraps the
//! sandbox; the correct and the faulty run alternate (which goes first
//! rotates), with the default settle window (2 s), `--cases 32` and one seed,
//! and the table gives the median times and their ratio.
//!
//! `cargo bench -p sela-contract --bench failing_runs` (ROUNDS=3 by default).

use std::time::{Duration, Instant};

use httpmock::{HttpMockRequest, MockServer};
use sela_contract::{ApiKey, Config, Target};
use sela_sandbox::{Reply, SandboxState, answer, answer_raw};
use serde_json::Value;

const TOKEN: &str = "benchfailingrunstoken0123456789abcdef0123";
const SECOND: &str = "benchfailingrunssecond0123456789abcdef012";

/// A fault: how it changes the sandbox's answer to a request.
type Fault = fn(&SandboxState, &HttpMockRequest) -> Reply;

fn correct(state: &SandboxState, req: &HttpMockRequest) -> Reply {
    answer(state, req)
}

fn is_bulk(req: &HttpMockRequest) -> bool {
    req.method_str() == "POST" && req.uri_str().contains("/api/leads/bulk-create/")
}

fn results_mut(reply: &mut Reply) -> Option<&mut Vec<Value>> {
    reply.body.get_mut("results").and_then(Value::as_array_mut)
}

/// B3: the bulk results in reverse order.
fn order(state: &SandboxState, req: &HttpMockRequest) -> Reply {
    let mut reply = answer(state, req);
    if is_bulk(req)
        && let Some(r) = results_mut(&mut reply)
    {
        r.reverse();
    }
    reply
}

/// B5: a lead read by id shows its `lead_source` with a trailing space.
fn fidelity(state: &SandboxState, req: &HttpMockRequest) -> Reply {
    let mut reply = answer(state, req);
    let by_id = req.method_str() == "GET"
        && req
            .uri_str()
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .is_some_and(|s| s.parse::<i64>().is_ok());
    if by_id && let Some(Value::String(s)) = reply.body.get_mut("lead_source") {
        s.push(' ');
    }
    reply
}

/// S2: a re-sent identity is answered `created` (with the existing id).
fn dedup(state: &SandboxState, req: &HttpMockRequest) -> Reply {
    let mut reply = answer(state, req);
    if is_bulk(req) {
        for r in results_mut(&mut reply).into_iter().flatten() {
            if r["action"] == "reengaged" {
                r["action"] = "created".into();
            }
        }
    }
    reply
}

/// U1: a PATCH ignores `lead_source`.
fn patch(state: &SandboxState, req: &HttpMockRequest) -> Reply {
    if req.method_str() == "PATCH"
        && let Ok(mut body) = serde_json::from_slice::<Value>(req.body_ref())
        && let Some(o) = body.as_object_mut()
        && o.remove("lead_source").is_some()
    {
        let bytes = serde_json::to_vec(&body).expect("json");
        return answer_raw(
            state,
            req.method_str(),
            req.uri_str(),
            req.headers_vec(),
            &bytes,
        );
    }
    answer(state, req)
}

/// One run against a fresh server answering through `fault`: its time and
/// the clauses that failed.
fn run(fault: Fault) -> (Duration, Vec<String>) {
    let state = SandboxState::new(TOKEN)
        .with_second_token(SECOND)
        .expect("distinct tokens");
    let server = MockServer::start();
    server.mock(|_when, then| {
        then.respond_with(move |req: &HttpMockRequest| fault(&state, req).into_response());
    });
    let target = Target::new(&server.base_url(), ApiKey::new(TOKEN))
        .expect("target")
        .with_second_key(ApiKey::new(SECOND));
    let config = Config {
        cases: 32,
        seed: Some(26),
        ..Config::default()
    };
    let clock = Instant::now();
    let report = sela_contract::run(&target, &config).expect("the run");
    let took = clock.elapsed();
    let failed = report.failed().iter().map(|c| c.id().to_owned()).collect();
    (took, failed)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let faults: [(&str, Fault); 4] = [
        ("order (B3)", order),
        ("read-back fidelity (B5)", fidelity),
        ("dedup (S2)", dedup),
        ("PATCH (U1)", patch),
    ];
    println!("| fault class | failed | correct run | faulty run | ratio |");
    println!("| --- | --- | ---: | ---: | ---: |");
    for (name, fault) in faults {
        let (mut good, mut bad, mut failed) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let mut pair = [(false, correct as Fault), (true, fault)];
            if round % 2 == 1 {
                pair.reverse();
            }
            for (faulty, f) in pair {
                let (took, fails) = run(f);
                if faulty {
                    bad.push(took);
                    failed = fails;
                } else {
                    assert!(fails.is_empty(), "the correct server failed {fails:?}");
                    good.push(took);
                }
            }
        }
        let (g, b) = (median(good), median(bad));
        println!(
            "| {name} | {} | {:.1} s | {:.1} s | {:.2} |",
            failed.join(", "),
            g.as_secs_f64(),
            b.as_secs_f64(),
            b.as_secs_f64() / g.as_secs_f64()
        );
    }
}
