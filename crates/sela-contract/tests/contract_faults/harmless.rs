//! Correct servers that differ harmlessly from the sandbox pass every clause;
//! a target that cannot be tested is an error, not a clause failure.

use std::time::Duration;

use sela_contract::{ApiKey, Config, HarnessError, Target};
use sela_sandbox::{SandboxOptions, SandboxState};
use serde_json::{Value, json};

use crate::common::{
    TOKEN, assert_no_leak, assert_only_unchecked, assert_passes, authorised, clause, config,
    is_bulk, lead_id, leads_of, run_on, run_rewriting, run_state, run_with, sandbox_answer, serve,
    state, try_run,
};
use crate::server::{Req, Resp, Transport};
use crate::wire::RawConn;

// Pins: no check: every check holds on the sandbox itself (no false failure
// anywhere)
#[test]
fn the_plain_sandbox_passes() {
    let r = run_with(8, |state, req| sandbox_answer(state, req).into());
    assert_passes(&r);
}

// Pins: bulk.rs `check_bulk` (a duplicate may be answered `error`: the B3/S2
// expectations allow it)
#[test]
fn duplicates_answered_error_pass() {
    let r = run_rewriting("reengaged", |res| {
        *res = json!({"id": null, "action": "error", "error": "Duplicate lead."})
    });
    assert_passes(&r);
}

// Pins: refusals.rs `judge_refusal` (401 or 403 for a bad token, A1)
#[test]
fn status_403_for_bad_tokens_passes() {
    let r = run_with(8, |state, req| {
        let mut reply = sandbox_answer(state, req);
        if reply.status == 401 {
            reply.status = 403;
            reply.headers.clear();
            reply.body = json!({"detail": "You do not have permission to perform this action."});
        }
        reply.into()
    });
    assert_passes(&r);
}

// Pins: bulk.rs `is_json_content_type` (`application/json; charset=utf-8` is
// JSON, T2)
#[test]
fn json_with_a_charset_passes() {
    let r = run_with(8, |state, req| {
        Resp::from(sandbox_answer(state, req))
            .with_header("content-type", "application/json; charset=utf-8")
    });
    assert_passes(&r);
}

// Pins: target.rs's client (a connection closed after each answer is not
// reused)
#[test]
fn connection_close_on_every_answer_passes() {
    let r = run_with(8, |state, req| {
        Resp::from(sandbox_answer(state, req)).with_header("connection", "close")
    });
    assert_passes(&r);
}

// Pins: throttle.rs `send_patiently` (a 429 waited out as Retry-After says
// and the same request sent again)
#[test]
fn periodic_429_with_retry_after_passes() {
    let state = state().with_options(SandboxOptions {
        throttle_every: Some(9),
        retry_after: Some(0),
        ..SandboxOptions::default()
    });
    let r = run_state(8, state, |state, req| sandbox_answer(state, req).into());
    assert_passes(&r);
    // Some requests were answered 429, waited out and resent.
    assert!(r.throttled > 0, "{r}");
}

// Pins: throttle.rs `send_patiently` (a 429 without Retry-After waited out
// with backoff)
#[test]
fn periodic_429_without_retry_after_passes() {
    // The harness backs off on its own when the header is absent.
    let state = state().with_options(SandboxOptions {
        throttle_every: Some(60),
        retry_after: None,
        ..SandboxOptions::default()
    });
    let r = run_state(8, state, |state, req| sandbox_answer(state, req).into());
    assert_passes(&r);
    assert!(r.throttled > 0, "{r}");
}

// Pins: sizes.rs `probe_sizes` and `oversize_refused` (a size limit refused
// 400 is excused above it)
#[test]
fn a_100_item_limit_answered_400_passes() {
    let state = state().with_options(SandboxOptions {
        max_batch: Some(100),
        ..SandboxOptions::default()
    });
    let r = run_state(8, state, |state, req| sandbox_answer(state, req).into());
    assert_passes(&r);
    assert!(
        r.observations
            .iter()
            .any(|o| o.starts_with("size limit: 100 items accepted")),
        "the limit is not reported:\n{r}"
    );
}

// Pins: checker/operations/mod.rs run_operations (no walks nor sequences once
// read-back is ReadBack::Unavailable) and checker/finish.rs's read-back line.
#[test]
fn no_read_back_at_all_leaves_the_read_back_clauses_unchecked() {
    let r = run_with(8, |state, req| {
        if lead_id(req).is_some() && authorised(req) {
            return Resp::json(405, &json!({"detail": "Method \"GET\" not allowed."}));
        }
        sandbox_answer(state, req).into()
    });
    // The lead operations are judged by reading leads back, so without
    // read-back they are not checked (never held); every clause judged by the
    // bulk answers and the list holds.
    let by_reads = ["B5", "R1", "R2", "C1", "U1", "U2", "U3", "G1", "S5"].map(clause);
    assert_only_unchecked(
        &r,
        &[],
        &[],
        &by_reads,
        "no lead can be read back, so the lead operations are not checked",
    );
    assert!(
        r.observations
            .iter()
            .any(|o| o == "read-back by GET /api/leads/{id}/: unavailable"),
        "the report does not say read-back is unavailable:\n{r}"
    );
}

// Pins: stored.rs `same_phone` (a phone read back in another US format is the
// same phone)
#[test]
fn phones_read_back_in_national_format_pass() {
    let r = run_with(8, |state, req| {
        let mut reply = sandbox_answer(state, req);
        if lead_id(req).is_some()
            && reply.status == 200
            && let Some(e164) = reply.body["phone_number"].as_str()
            && let Some(national) = e164.strip_prefix("+1")
            && national.len() == 10
        {
            reply.body["phone_number"] = json!(format!(
                "({}) {}-{}",
                &national[..3],
                &national[3..6],
                &national[6..]
            ));
        }
        reply.into()
    });
    assert_passes(&r);
}

/// Ids the harmless server shows: the sandbox's plus an offset above 2^32.
const ID_OFFSET: i64 = 5_000_000_000;

// Pins: bulk.rs `check_bulk` (200 or 201; ids of any size; extra fields and
// other error wording allowed)
#[test]
fn status_201_big_ids_extra_fields_and_other_wording_pass() {
    let r = run_with(8, |state, req| {
        std::thread::sleep(Duration::from_millis(2));
        // GET or PATCH of a big id: the sandbox's lead; every lead answered
        // shows its big id (and a field of its own on GET).
        let small;
        let req = match req
            .path()
            .strip_prefix("/api/leads/")
            .and_then(|r| r.strip_suffix('/'))
            .and_then(|r| r.parse::<i64>().ok())
        {
            Some(id) if matches!(req.method.as_str(), "GET" | "PATCH") => {
                small = Req {
                    uri: format!("/api/leads/{}/", id - ID_OFFSET),
                    ..req.clone()
                };
                &small
            }
            _ => req,
        };
        let mut reply = sandbox_answer(state, req);
        if !is_bulk(req)
            && reply.status < 300
            && let Some(id) = reply.body["id"].as_i64()
        {
            reply.body["id"] = json!(id + ID_OFFSET);
            if req.method == "GET" {
                reply.body["extra_field"] = json!("ignored");
            }
        }
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
        if req.path() == "/api/leads/" && reply.status == 200 {
            // The list shows the same leads under the big ids.
            if let Some(leads) = reply.body.get_mut("results").and_then(Value::as_array_mut) {
                for lead in leads.iter_mut() {
                    if let Some(id) = lead["id"].as_i64() {
                        lead["id"] = json!(id + ID_OFFSET);
                    }
                }
            }
        }
        reply.into()
    });
    assert_passes(&r);
}

// Pins: bulk.rs `check_bulk` and the read paths (garbage answers recorded as
// failures, no panic)
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
    let r = run_with(6, move |state, req| {
        if !is_bulk(req) || req.body == b"{\"leads\":[]}" {
            // Let the opening probe and the read-backs through so that the run starts.
            return sandbox_answer(state, req).into();
        }
        let (status, ct, body) = &bodies[n.fetch_add(1, Ordering::Relaxed) % bodies.len()];
        Resp::raw(*status, ct, body.clone())
    });
    assert!(!r.passed());
    assert!(r.failed().contains(&clause("T3")), "{r}");
}

// Pins: throttle.rs `send_patiently` (gives up within the patience:
// HarnessError::Throttled, not a clause failure)
#[test]
fn unending_throttling_is_an_error_not_a_clause_failure() {
    let state = state().with_options(SandboxOptions {
        throttle_every: Some(1),
        retry_after: Some(0),
        ..SandboxOptions::default()
    });
    let config = Config {
        throttle_patience: Duration::from_secs(1),
        ..config(4)
    };
    let err = try_run(&config, state, |state, req| {
        sandbox_answer(state, req).into()
    })
    .expect_err("a target that always answers 429 cannot be tested");
    let text = err.to_string();
    assert!(
        matches!(err, HarnessError::Throttled(_)) && text.contains("429"),
        "the error does not say it was throttled: {text}"
    );
    assert!(!text.contains(TOKEN));
}

// Pins: run.rs / checker/harness.rs `probe` (no answer at all:
// HarnessError::Connection)
#[test]
fn an_unreachable_target_is_a_connection_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let target = Target::new(&format!("http://127.0.0.1:{port}"), ApiKey::new(TOKEN)).unwrap();
    let err = sela_contract::run(&target, &config(4)).expect_err("nothing listens there");
    assert!(matches!(err, HarnessError::Connection(_)), "{err}");
    assert!(!err.to_string().contains(TOKEN));
}

// Pins: bulk.rs / refusals.rs (an empty batch may be refused 400: not a T1
// failure)
#[test]
fn an_empty_batch_refused_400_passes() {
    // As a framework whose list field does not allow an empty list.
    let r = run_with(8, |state, req| {
        if is_bulk(req) && authorised(req) && req.json() == Some(json!({"leads": []})) {
            return Resp::json(400, &json!({"leads": ["This list may not be empty."]}));
        }
        sandbox_answer(state, req).into()
    });
    assert_passes(&r);
}

/// The sandbox, answering `429` with `retry_after` (if any) to every
/// `every`-th request, run with `config`.
fn run_throttled(
    config: &Config,
    every: usize,
    retry_after: fn() -> Option<String>,
) -> sela_contract::Report {
    let n = std::sync::atomic::AtomicUsize::new(0);
    let state = state();
    try_run(config, state, move |state, req| {
        if n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % every == every - 1 {
            let resp = Resp::json(429, &json!({"detail": "Request was throttled."}));
            return match retry_after() {
                Some(v) => resp.with_header("retry-after", &v),
                None => resp,
            };
        }
        sandbox_answer(state, req).into()
    })
    .expect("the harness runs")
}

// Pins: throttle.rs `send_patiently` (Retry-After as an HTTP date)
#[test]
fn retry_after_as_an_http_date_passes() {
    // A date just past (as from a server whose clock is a little behind): no
    // wait, the same request again.
    let r = run_throttled(&config(8), 7, || {
        let at = chrono::Utc::now() - chrono::Duration::seconds(1);
        Some(at.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
    });
    assert_passes(&r);
    assert!(r.throttled > 0, "{r}");
}

// Pins: throttle.rs `send_patiently` (throttling waited out on every third
// request, concurrent groups included)
#[test]
fn every_fifth_request_429_without_retry_after_passes() {
    // Each 429 costs the harness a backoff of at least 50 ms, and a fifth of
    // the requests get one (a resend too, then twice as long): few cases and
    // batches of up to 100 keep it short.
    let config = Config {
        max_size: 100,
        ..config(2)
    };
    let r = run_throttled(&config, 5, || None);
    assert_passes(&r);
    assert!(r.throttled > 0, "{r}");
}

// Pins: sizes.rs `oversize_refused` (a 413 with an HTML body is an excused
// refusal)
#[test]
fn an_oversize_batch_refused_413_with_html_passes() {
    // A proxy in front refuses large bodies with its own HTML page.
    let state = state().with_options(SandboxOptions {
        max_batch: Some(250),
        oversize_status: 413,
        ..SandboxOptions::default()
    });
    let r = run_state(8, state, |state, req| {
        let reply = sandbox_answer(state, req);
        if reply.status == 413 {
            return Resp::raw(
                413,
                "text/html",
                "<html><body><h1>413 Request Entity Too Large</h1></body></html>",
            );
        }
        reply.into()
    });
    assert_passes(&r);
}

// Pins: stored.rs `stored_mismatch` / `loose_eq` (another JSON representation
// of the same values is the same lead)
#[test]
fn leads_read_back_in_another_representation_pass() {
    // E-mail and state read back in upper and lower case, keys the server adds
    // to metadata, `lead_type` and `representative` read back as nested
    // objects (`{"id": 2, ..}`), and a list that ignores `page_size`. The run
    // sends both ids (the config names ones that exist), and the test checks
    // that nested ids were really read back.
    let nested = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = nested.clone();
    let config = Config {
        lead_type: Some(2),
        representative: Some(7),
        ..config(8)
    };
    let r = try_run(&config, crate::common::state(), move |state, req| {
        let mut reply = sandbox_answer(state, req);
        if lead_id(req).is_some() && reply.status == 200 {
            let lead = &mut reply.body;
            if let Some(e) = lead["email"].as_str() {
                lead["email"] = json!(e.to_uppercase());
            }
            if let Some(s) = lead["us_state"].as_str() {
                lead["us_state"] = json!(s.to_lowercase());
            }
            if let Some(m) = lead["metadata"].as_object_mut() {
                m.insert("received_via".into(), json!("api"));
                m.insert("created_at".into(), json!("11/29/2026 10:00"));
            }
            for key in ["lead_type", "representative"] {
                if let Some(id) = lead[key].as_i64() {
                    lead[key] = json!({"id": id, "name": format!("{key} {id}")});
                    seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        if req.path() == "/api/leads/" && req.method == "GET" {
            // `page_size` ignored (the default page size), `page` honoured.
            let page_no = req
                .uri
                .split(['?', '&'])
                .find_map(|kv| kv.strip_prefix("page="))
                .unwrap_or("1");
            let page = Req {
                uri: format!("/api/leads/?page={page_no}"),
                ..req.clone()
            };
            return sandbox_answer(state, &page).into();
        }
        reply.into()
    })
    .expect("the harness runs");
    assert_passes(&r);
    assert!(
        nested.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "no lead was read back with a nested id"
    );
}

// Pins: budget.rs `refuse_case` (no new case after the slice; S4 still
// reached)
#[test]
fn a_slow_server_ends_within_the_time_budget() {
    // Every request takes 20 ms: with a three-second budget, shared out in
    // slices that add up to it, the run stops starting cases, reports the
    // budget spent, and fails nothing.
    let config = Config {
        time_budget: Some(Duration::from_secs(3)),
        ..config(8)
    };
    let report = try_run(&config, state(), |state, req| {
        std::thread::sleep(Duration::from_millis(20));
        sandbox_answer(state, req).into()
    })
    .expect("the harness runs");
    // Which cases start depends on timing: no clause may fail, and the
    // property run last but one still gets a case (each has its slice).
    assert!(report.failed().is_empty(), "{report}");
    let budget = report.time_budget.clone().expect("the budget is reported");
    assert!(budget.spent && budget.cases_not_started > 0, "{report}");
    assert!(report.clause(clause("S4")).cases > 0, "{report}");
}

// Pins: target.rs's client and together/http1.rs `decoded` (gzip bodies
// decoded)
#[test]
fn gzip_compressed_answers_pass() {
    // Every answer gzip-compressed (`Content-Encoding: gzip`), as behind a
    // compressing proxy.
    use std::io::Write;
    let r = run_with(4, |state, req| {
        let mut resp = Resp::from(sandbox_answer(state, req));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&resp.body).expect("in memory");
        resp.body = gz.finish().expect("in memory");
        resp.with_header("content-encoding", "gzip")
    });
    assert_passes(&r);
}

// Pins: checker/count.rs `check` (its S2 `list count` failure); the other
// checks that catch this fault are off for it (pins.rs)
#[test]
fn another_writer_on_a_shared_account_passes_only_with_the_flag() {
    // Someone else creates a lead on the account now and then: the list count
    // grows by more than the run created. Not a fault of the server, so the
    // run passes with `shared_account`; without it S2 names the growth.
    let writer = |state: &SandboxState, req: &crate::server::Req| -> Resp {
        // Only while a well-formed request is being served, so that the growth
        // is never blamed on a request refused as a whole (S3).
        if is_bulk(req) && authorised(req) && leads_of(req).is_some() {
            let mut model = state.lock();
            let n = model.len();
            if n % 5 == 4 {
                let other = json!({
                    "phone_number": format!("+1312555{:04}", 100 + n % 100),
                    "email": format!("other-writer-{n}@example.org"),
                });
                let _ = model.insert_unchecked(&other);
            }
        }
        sandbox_answer(state, req).into()
    };
    let shared = Config {
        shared_account: true,
        ..config(8)
    };
    let r = try_run(&shared, state(), writer).expect("the harness runs");
    // L1 (an exact listing) cannot be judged while others write: not checked.
    assert!(r.failed().is_empty(), "{r}");
    for c in &r.clauses {
        if c.clause != clause("L1") {
            assert!(c.held(), "{}: {}\n{r}", c.clause, c.verdict());
        }
    }
    assert_eq!(r.clause(clause("L1")).verdict(), "not checked", "{r}");
    let r = run_with(8, writer);
    crate::common::assert_only(
        &r,
        &[clause("S2"), clause("S3")],
        "the list count grows by leads the run did not create: S2 where the \
         request's items were all created or re-engaged, S3 where some were \
         answered `error` (as if one of them had been stored)",
    );
}

// Pins: target.rs `pool_idle_timeout` (idle connections dropped before a
// server's 0.5 s keep-alive timeout closes them)
#[test]
fn idle_keep_alive_connections_closed_after_half_a_second_pass() {
    // The server closes a keep-alive connection idle for 0.5 s, as nginx's
    // `keepalive_timeout` or a Python server's socket timeout does, and a
    // request sent on it after that is lost, as when it meets the close on the
    // wire (crate::idle_close). The harness must not reuse such a connection.
    let idle = Transport {
        idle_close: Some(Duration::from_millis(500)),
        ..Transport::default()
    };
    let server = serve(state(), idle, |state, req| {
        sandbox_answer(state, req).into()
    });
    let r = run_on(&server, &config(8)).expect("the harness runs");
    assert_no_leak(&r);
    assert_passes(&r);
    // The server really keeps connections alive and then closes them: two
    // requests in a row are answered on one connection, which the server
    // then ends once idle (the test waits for that event, not for a time),
    // and a request after that is not answered on it.
    let mut conn = RawConn::open(&server);
    for n in 1..=2 {
        let answer = conn.get("/api/leads/?page_size=1").expect("read");
        assert!(
            answer.is_some(),
            "request {n} not answered on a kept-alive connection"
        );
    }
    assert!(
        conn.wait_for_close(),
        "the server did not close the idle connection"
    );
    let late = conn.get("/api/leads/?page_size=1").expect("read");
    assert!(late.is_none(), "answered on a connection the server closed");
}
