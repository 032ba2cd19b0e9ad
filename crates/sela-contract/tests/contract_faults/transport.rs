//! T1-T3: the status, content type and schema of an answer to a bulk create.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{
    assert_only, clause, is_bulk, run_fault_one_in_three, run_with, sandbox_answer,
};
use crate::server::Resp;

// Pins: checker/bulk.rs `check_bulk` (its T1 `status` failure)
#[test]
fn t1_status_202_is_caught() {
    let r = run_fault_one_in_three(|_, _, mut reply| {
        if reply.status == 200 {
            reply.status = 202;
        }
        reply
    });
    assert_only(&r, &[clause("T1")], "");
}

// Pins: checker/bulk.rs `check_bulk` (its T2 `content type` failure)
#[test]
fn t2_text_plain_is_caught() {
    // One replica of three answers text/plain.
    let counter = AtomicUsize::new(0);
    let r = run_with(8, move |state, req| {
        let reply = sandbox_answer(state, req);
        if is_bulk(req) && reply.status == 200 && counter.fetch_add(1, Ordering::Relaxed) % 3 == 1 {
            Resp::raw(200, "text/plain", reply.body.to_string())
        } else {
            reply.into()
        }
    });
    assert_only(&r, &[clause("T2")], "");
}

// Pins: checker/bulk.rs `check_bulk` (its T2 `content type` failure)
#[test]
fn t2_json_labelled_text_html_is_caught() {
    // The body is the right JSON, but one replica of three labels it as HTML
    // (as a framework's default error page type left on).
    let counter = AtomicUsize::new(0);
    let r = run_with(8, move |state, req| {
        let reply = sandbox_answer(state, req);
        if is_bulk(req) && reply.status == 200 && counter.fetch_add(1, Ordering::Relaxed) % 3 == 1 {
            Resp::raw(200, "text/html; charset=utf-8", reply.body.to_string())
        } else {
            reply.into()
        }
    });
    assert_only(&r, &[clause("T2")], "");
}

// Pins: checker/bulk.rs `check_bulk` (its T3 `schema` failure)
#[test]
fn t3_bare_results_array_is_caught() {
    let r = run_fault_one_in_three(|_, _, mut reply| {
        if reply.status == 200
            && let Some(results) = reply.body.get("results").cloned()
        {
            reply.body = results;
        }
        reply
    });
    assert_only(&r, &[clause("T3")], "");
}

// Pins: checker/bulk.rs `check_bulk` (its T1 `status` failure)
#[test]
fn t1_503_with_retry_after_is_caught() {
    // Only 429 is throttling (CONTRACT.md, T1): a 503 is no answer to an
    // authorised, well-formed request, with or without `Retry-After`.
    let r = run_fault_one_in_three(|_, _, mut reply| {
        if reply.status == 200 {
            reply.status = 503;
            reply.headers.push(("retry-after".into(), "0".into()));
            reply.body = serde_json::json!({"detail": "Service unavailable."});
        }
        reply
    });
    assert_only(&r, &[clause("T1")], "");
}
