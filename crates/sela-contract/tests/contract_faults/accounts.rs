//! A3: servers that let one account see or re-engage another's leads fail A3
//! alone; without a second key A3 is "not checked", never "held".

use sela_contract::{ApiKey, Config, Target};
use sela_sandbox::{AccountId, identity};
use serde_json::json;

use crate::common::{
    TOKEN, TOKEN2, assert_only, authorised, clause, config, is_bulk, lead_id, leads_of, results,
    run_with, sandbox_answer, state,
};
use crate::server::{Req, TestServer};

/// The same request under the other account's token.
fn as_second(req: &Req) -> Req {
    let mut other = req.clone();
    for (k, v) in &mut other.headers {
        if k.eq_ignore_ascii_case("authorization") {
            *v = format!("Token {TOKEN2}");
        }
    }
    other
}

// Pins: checker/operations/accounts.rs `leaks` (its A3 `see` failure)
#[test]
fn a3_owner_check_missing_on_get_is_caught() {
    // GET by id looks the lead up in every account.
    let r = run_with(8, |state, req| {
        let reply = sandbox_answer(state, req);
        if lead_id(req).is_some() && authorised(req) && reply.status == 404 {
            return sandbox_answer(state, &as_second(req)).into();
        }
        reply.into()
    });
    assert_only(&r, &[clause("A3")], "only GET by id ignores the owner");
}

// Pins: checker/operations/accounts.rs `own_creation` (its A3 `re-engage`
// failure)
#[test]
fn a3_deduplication_across_accounts_is_caught() {
    // The identity index is global: an identity of the other account
    // re-engages its lead.
    let r = run_with(8, |state, req| {
        if is_bulk(req)
            && authorised(req)
            && let Some(items) = leads_of(req)
        {
            let other: Vec<Option<i64>> = {
                let second = state.lock_account(AccountId::Second).expect("two accounts");
                items
                    .iter()
                    .map(|i| identity(i).and_then(|w| second.find(&w)))
                    .collect()
            };
            if other.iter().any(Option::is_some) {
                let mut model = state.lock();
                let out = items
                    .iter()
                    .zip(other)
                    .map(|(item, theirs)| match theirs {
                        Some(id) => json!({"id": id, "action": "reengaged"}),
                        None => model.bulk_create(std::slice::from_ref(item)).remove(0),
                    })
                    .collect();
                return results(out).into();
            }
        }
        sandbox_answer(state, req).into()
    });
    assert_only(
        &r,
        &[clause("A3")],
        "only identities of the other account are shared",
    );
}

// Pins: operations/accounts.rs (A3 not checked without a second key, and the
// report says so; not a pass)
#[test]
fn without_a_second_key_a3_is_not_checked_and_said_up_front() {
    let s = state();
    let server = TestServer::start(std::sync::Arc::new(move |req: &Req| {
        sandbox_answer(&s, req).into()
    }));
    let target = Target::new(&server.base_url(), ApiKey::new(TOKEN)).expect("target");
    let report = sela_contract::run(&target, &Config { ..config(4) }).expect("runs");
    let a3 = report.clause(clause("A3"));
    assert_eq!((a3.cases, a3.verdict()), (0, "not checked"), "{report}");
    assert!(!report.passed(), "an unchecked A3 is not a pass");
    assert!(
        report
            .notices
            .iter()
            .any(|n| n.contains("A3") && n.contains("SELA_SECOND_API_KEY")),
        "{report}"
    );
    for c in &report.clauses {
        if c.clause != clause("A3") {
            assert!(c.held(), "{}: {}\n{report}", c.clause, c.verdict());
        }
    }
}
