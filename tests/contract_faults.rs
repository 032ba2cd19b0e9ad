//! The harness catches broken servers: for every clause of CONTRACT.md, a server
//! that wraps the sandbox's router and breaks only that clause makes the report
//! name it; a correct server with harmless differences passes every clause.

use std::sync::Arc;
use std::time::Duration;

use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};
use sela_leads::contract::target::Auth;
use sela_leads::contract::{self, ApiKey, Clause, Config, Report, Target};
use sela_leads::sandbox::{Reply, SandboxState, answer};
use serde_json::{Value, json};

const TOKEN: &str = "fault-test-token-0123456789";

/// A responder over the sandbox state.
type Responder = dyn Fn(&SandboxState, &HttpMockRequest) -> HttpMockResponse + Send + Sync;

fn run_with(cases: u32, responder: Arc<Responder>) -> Report {
    let state = SandboxState::new(TOKEN);
    let server = MockServer::start();
    server.mock(|_when, then| {
        then.respond_with(move |req: &HttpMockRequest| responder(&state, req));
    });
    let target = Target::new(&server.base_url(), ApiKey::new(TOKEN)).expect("target");
    let config = Config {
        cases,
        seed: Some(20_261_127),
        max_shrink_steps: 16,
        ..Config::default()
    };
    let report = contract::run(&target, &config).expect("the harness runs");
    let text = report.to_string();
    assert!(!text.contains(TOKEN), "the token leaked into the report");
    assert!(
        !format!("{report:?}").contains(TOKEN),
        "the token leaked into Debug"
    );
    report
}

/// Runs the harness against the sandbox with `corrupt` applied to every answer
/// to a bulk create, and returns the report.
fn run_fault(
    corrupt: impl Fn(&SandboxState, &HttpMockRequest, Reply) -> Reply + Send + Sync + 'static,
) -> Report {
    run_with(
        12,
        Arc::new(move |state, req| {
            let reply = answer(state, req);
            if is_bulk(req) {
                corrupt(state, req, reply).into_response()
            } else {
                reply.into_response()
            }
        }),
    )
}

fn is_bulk(req: &HttpMockRequest) -> bool {
    req.method_str() == "POST" && req.uri_str().contains("/api/leads/bulk-create/")
}

fn authorised(req: &HttpMockRequest) -> bool {
    req.headers_vec()
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v == &format!("Token {TOKEN}"))
}

fn leads_of(req: &HttpMockRequest) -> Option<Vec<Value>> {
    let body: Value = serde_json::from_slice(req.body_ref()).ok()?;
    body.get("leads")?.as_array().cloned()
}

fn results_mut(reply: &mut Reply) -> Option<&mut Vec<Value>> {
    if !(200..300).contains(&reply.status) {
        return None;
    }
    reply.body.get_mut("results")?.as_array_mut()
}

#[track_caller]
fn assert_names(report: &Report, clause: Clause) {
    eprintln!("{clause}: the report names {:?}", report.failed());
    eprintln!("{report}");
    assert!(
        report.failed().contains(&clause),
        "{clause} was not reported as failed:\n{report}"
    );
    let failure = report
        .clause(clause)
        .failure
        .as_ref()
        .expect("a failed clause has evidence");
    assert!(
        !failure.exchanges.is_empty(),
        "no request/response evidence"
    );
    let text = report.to_string();
    assert!(
        text.contains(&format!("== {} FAILED", clause.id())),
        "{text}"
    );
    assert!(text.contains("curl "), "{text}");
    if failure.exchanges.iter().any(|e| e.auth == Auth::Token) {
        assert!(text.contains("Token $SELA_API_KEY"), "{text}");
    }
}

#[test]
fn t1_status_202_is_caught() {
    let r = run_fault(|_, _, mut reply| {
        if reply.status == 200 {
            reply.status = 202;
        }
        reply
    });
    assert_names(&r, Clause::T1);
}

#[test]
fn t2_text_plain_is_caught() {
    let r = run_with(
        12,
        Arc::new(|state, req| {
            let reply = answer(state, req);
            if is_bulk(req) && reply.status == 200 {
                HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "text/plain")
                    .body(reply.body.to_string())
                    .build()
            } else {
                reply.into_response()
            }
        }),
    );
    assert_names(&r, Clause::T2);
    // Everything else about the answer is right.
    assert!(r.clause(Clause::B3).held(), "{r}");
}

#[test]
fn t3_bare_results_array_is_caught() {
    let r = run_fault(|_, _, mut reply| {
        if reply.status == 200
            && let Some(results) = reply.body.get("results").cloned()
        {
            reply.body = results;
        }
        reply
    });
    assert_names(&r, Clause::T3);
}

#[test]
fn b1_dropped_result_is_caught() {
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            results.pop();
        }
        reply
    });
    assert_names(&r, Clause::B1);
}

#[test]
fn b1_extra_result_is_caught() {
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply)
            && !results.is_empty()
        {
            results.push(json!({"id": null, "action": "error", "error": "spurious"}));
        }
        reply
    });
    assert_names(&r, Clause::B1);
}

#[test]
fn b2_error_with_an_id_is_caught() {
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            for res in results.iter_mut() {
                if res["action"] == "error" {
                    res["id"] = json!(4242);
                }
            }
        }
        reply
    });
    assert_names(&r, Clause::B2);
}

#[test]
fn b3_reversed_results_are_caught() {
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            results.reverse();
        }
        reply
    });
    assert_names(&r, Clause::B3);
}

#[test]
fn b3_swapped_ids_of_two_valid_items_are_caught() {
    // Count and actions stay right; only read-back shows the swap.
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            let created: Vec<usize> = (0..results.len())
                .filter(|i| results[*i]["action"] == "created")
                .collect();
            if let [a, b, ..] = created[..] {
                let id_a = results[a]["id"].clone();
                results[a]["id"] = results[b]["id"].clone();
                results[b]["id"] = id_a;
            }
        }
        reply
    });
    assert_names(&r, Clause::B3);
}

#[test]
fn b4_outcome_changed_by_invalid_neighbours_is_caught() {
    // With an invalid item in the batch, duplicates are refused instead of
    // re-engaged: allowed by S2 on its own, but not independent of neighbours.
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply)
            && results.iter().any(|r| r["action"] == "error")
        {
            for res in results.iter_mut() {
                if res["action"] == "reengaged" {
                    *res = json!({"id": null, "action": "error", "error": "Duplicate lead."});
                }
            }
        }
        reply
    });
    assert_names(&r, Clause::B4);
}

#[test]
fn b4_whole_batch_rejected_for_one_bad_item_is_caught() {
    let r = run_with(
        12,
        Arc::new(|state, req| {
            let bad = is_bulk(req)
                && authorised(req)
                && leads_of(req).is_some_and(|leads| {
                    leads
                        .iter()
                        .any(|l| sela_leads::sandbox::model::validate_item(l).is_err())
                });
            if bad {
                // Nothing stored, the whole batch refused for one bad item.
                json_response(400, &json!({"leads": ["One or more leads are invalid."]}))
            } else {
                answer(state, req).into_response()
            }
        }),
    );
    assert_names(&r, Clause::B4);
}

#[test]
fn s1_reused_id_is_caught() {
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            let mut first = None;
            for res in results.iter_mut() {
                if res["action"] == "created" {
                    match &first {
                        None => first = Some(res["id"].clone()),
                        Some(id) => res["id"] = id.clone(),
                    }
                }
            }
        }
        reply
    });
    assert_names(&r, Clause::S1);
}

#[test]
fn s2_duplicate_created_anew_is_caught() {
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            for res in results.iter_mut() {
                if res["action"] == "reengaged" {
                    res["action"] = json!("created");
                }
            }
        }
        reply
    });
    assert_names(&r, Clause::S2);
}

#[test]
fn s3_leads_stored_then_401_is_caught() {
    let r = run_fault(|state, req, reply| {
        if !authorised(req)
            && let Some(leads) = leads_of(req)
        {
            state.lock().bulk_create(&leads);
        }
        reply
    });
    assert_names(&r, Clause::S3);
    assert!(r.clause(Clause::A1).held(), "{r}");
}

#[test]
fn a1_missing_token_accepted_is_caught() {
    let r = run_fault(|state, req, reply| {
        let no_header = !req
            .headers_vec()
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
        match leads_of(req) {
            Some(leads) if no_header => Reply {
                status: 200,
                headers: Vec::new(),
                body: json!({"results": state.lock().bulk_create(&leads)}),
                bulk: None,
            },
            _ => reply,
        }
    });
    assert_names(&r, Clause::A1);
}

#[test]
fn a2_malformed_body_answered_422_is_caught() {
    let r = run_fault(|_, _, mut reply| {
        if reply.status == 400 {
            reply.status = 422;
        }
        reply
    });
    assert_names(&r, Clause::A2);
}

#[test]
fn a2_malformed_body_answered_without_json_is_caught() {
    let r = run_with(
        12,
        Arc::new(|state, req| {
            let reply = answer(state, req);
            if is_bulk(req) && reply.status == 400 {
                HttpMockResponse::builder()
                    .status(400)
                    .header("content-type", "text/html")
                    .body("<h1>Bad Request</h1>")
                    .build()
            } else {
                reply.into_response()
            }
        }),
    );
    assert_names(&r, Clause::A2);
}

/// Ids the harmless server shows: the sandbox's plus an offset above 2^32.
const ID_OFFSET: i64 = 5_000_000_000;

#[test]
fn a_correct_server_with_harmless_differences_passes() {
    let r = run_with(
        8,
        Arc::new(|state, req| {
            std::thread::sleep(Duration::from_millis(30));
            let path = req.uri_str().split('?').next().unwrap_or("").to_owned();
            // GET /api/leads/{big id}/: read the sandbox's lead and show the big id.
            if req.method_str() == "GET"
                && let Some(id) = path
                    .strip_prefix("/api/leads/")
                    .and_then(|rest| rest.strip_suffix('/'))
                    .and_then(|id| id.parse::<i64>().ok())
            {
                if !authorised(req) {
                    return answer(state, req).into_response();
                }
                let lead = state.lock().get(id - ID_OFFSET);
                return match lead {
                    Some(mut lead) => {
                        lead["id"] = json!(id);
                        lead["extra_field"] = json!("ignored");
                        json_response(200, &lead)
                    }
                    None => json_response(404, &json!({"detail": "Not found."})),
                };
            }
            let mut reply = answer(state, req);
            if is_bulk(req) && reply.status == 200 {
                reply.status = 201;
                if let Some(results) = reply.body.get_mut("results").and_then(Value::as_array_mut) {
                    for res in results.iter_mut() {
                        if let Some(id) = res["id"].as_i64() {
                            res["id"] = json!(id + ID_OFFSET);
                        }
                        if let Some(msg) = res.get("error").and_then(Value::as_str) {
                            res["error"] = json!(format!("Rejected: {}", msg.to_uppercase()));
                        }
                        res["trace"] = json!({"took_ms": 1});
                    }
                }
                reply.body["request_id"] = json!("abc");
            }
            reply.into_response()
        }),
    );
    assert!(r.passed(), "a correct server was failed:\n{r}");
}

fn json_response(status: u16, body: &Value) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_string())
        .build()
}

#[test]
fn garbage_answers_are_failures_not_panics() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let n = AtomicUsize::new(0);
    let bodies: Vec<(u16, &str, String)> = vec![
        (200, "application/json", "{\"results\": \"nope\"}".into()),
        (
            200,
            "application/json",
            "{\"results\": [1, null, \"x\", []]}".into(),
        ),
        (
            200,
            "application/json",
            json!({"results": [{"action": 7, "id": -1}]}).to_string(),
        ),
        (
            201,
            "application/json",
            json!({"results": [{"action": "created", "id": 18446744073709551615_u64}]}).to_string(),
        ),
        (
            200,
            "application/json",
            json!({"results": [{"action": "created", "id": 1.5, "error": {}}]}).to_string(),
        ),
        (200, "text/html", "<html>oops</html>".into()),
        (500, "text/plain", "Internal Server Error".into()),
        (200, "application/json", "".into()),
        (200, "application/json", "[".repeat(10_000)),
        (302, "application/json", "null".into()),
    ];
    let r = run_with(
        6,
        Arc::new(move |state, req| {
            if req.method_str() == "POST" && req.body_ref() == b"{\"leads\":[]}" {
                // Let the opening probe through so that the run starts.
                return answer(state, req).into_response();
            }
            let (status, ct, body) = &bodies[n.fetch_add(1, Ordering::Relaxed) % bodies.len()];
            HttpMockResponse::builder()
                .status(*status)
                .header("content-type", *ct)
                .body(body.clone())
                .build()
        }),
    );
    assert!(!r.passed());
    assert!(r.failed().contains(&Clause::T3), "{r}");
}

#[test]
fn an_unreachable_target_is_a_connection_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let target = Target::new(&format!("http://127.0.0.1:{port}"), ApiKey::new(TOKEN)).unwrap();
    let err = contract::run(&target, &Config::default()).expect_err("nothing listens there");
    assert!(
        matches!(err, contract::HarnessError::Connection(_)),
        "{err}"
    );
    assert!(!err.to_string().contains(TOKEN));
}

#[test]
fn the_plain_sandbox_passes() {
    let r = run_with(
        16,
        Arc::new(|state, req| answer(state, req).into_response()),
    );
    assert!(r.passed(), "the sandbox was failed:\n{r}");
}
