//! R1 (re-engagement is counted and timed), R2 (it keeps do-not-contact) and C1
//! (single create dedups with bulk, in either order).

use std::sync::Arc;
use std::thread;

use chrono::DateTime;
use sela_sandbox::{SandboxState, answer_raw};
use serde_json::{Value, json};

use crate::env::*;

fn item(phone: &str, email: &str) -> Value {
    json!({"phone_number": phone, "email": email})
}

/// Both documented spellings of the counter and the time, checked to agree.
fn counter(lead: &Value) -> (i64, Option<String>) {
    assert_eq!(
        lead["reengagement_count"], lead["reengagements_count"],
        "{lead}"
    );
    assert_eq!(
        lead["reengagement_time"], lead["last_reengagement_time"],
        "{lead}"
    );
    (
        lead["reengagement_count"].as_i64().unwrap(),
        lead["reengagement_time"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn each_reengagement_adds_one_and_sets_the_time() {
    let env = Env::new().await;
    let created = env
        .bulk_raw(&env.http, json!([item("+18045550111", "r1@example.com")]))
        .await;
    let id = created[0]["id"].as_i64().unwrap();
    let lead = env.get_lead(&env.http, id).await.unwrap();
    assert_eq!(counter(&lead), (0, None), "a created lead starts at 0");

    let again = env
        .bulk_raw(&env.http, json!([item("804-555-0111", "r1@example.com")]))
        .await;
    assert_eq!(again[0], json!({"id": id, "action": "reengaged"}));
    let (count, time) = counter(&env.get_lead(&env.http, id).await.unwrap());
    assert_eq!(count, 1);
    let time = time.expect("the re-engagement time is set");
    let created_time = lead["created_time"].as_str().unwrap();
    assert!(
        DateTime::parse_from_rfc3339(&time).unwrap()
            >= DateTime::parse_from_rfc3339(created_time).unwrap()
    );

    // A single create of the identity is a re-engagement too: 200, same id.
    let (status, single) = env
        .call(
            &env.http,
            "POST",
            "/api/leads/",
            Some(&item("(804) 555-0111", "r1@example.com")),
        )
        .await;
    assert_eq!(status, 200, "{single}");
    assert_eq!(single["id"], id);
    assert_eq!(counter(&single).0, 2);
    // Twice in one batch: two re-engagements.
    env.bulk_raw(
        &env.http,
        json!([
            item("+18045550111", "r1@example.com"),
            item("8045550111", "r1@example.com")
        ]),
    )
    .await;
    assert_eq!(counter(&env.get_lead(&env.http, id).await.unwrap()).0, 4);
    // An item answered `error` re-engages nothing.
    let refused = env
        .bulk_raw(
            &env.http,
            json!([{"phone_number": "+18045550111", "email": "r1@example.com", "us_state": "ZZ"}]),
        )
        .await;
    assert_eq!(refused[0]["action"], "error");
    assert_eq!(counter(&env.get_lead(&env.http, id).await.unwrap()).0, 4);
    env.finish();
}

#[test]
fn concurrent_reengagements_add_one_each() {
    const THREADS: usize = 8;
    const EACH: usize = 5;
    let state = Arc::new(SandboxState::new("concurrent-token"));
    let headers = vec![
        (
            "Authorization".to_owned(),
            "Token concurrent-token".to_owned(),
        ),
        ("Content-Type".to_owned(), "application/json".to_owned()),
    ];
    let body =
        serde_json::to_vec(&json!({"leads": [item("+18045550112", "c@example.com")]})).unwrap();
    let post = |state: &SandboxState| {
        answer_raw(state, "POST", "/api/leads/bulk-create/", &headers, &body)
    };
    let first = post(&state);
    let id = first.body["results"][0]["id"].as_i64().unwrap();
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..EACH {
                    let reply = post(&state);
                    assert_eq!(
                        reply.body["results"][0],
                        json!({"id": id, "action": "reengaged"})
                    );
                }
            });
        }
    });
    let lead = state.lock().get(id).unwrap();
    assert_eq!(counter(&lead).0, (THREADS * EACH) as i64);
    assert_eq!(state.lock().len(), 1);
}

#[tokio::test]
async fn reengagement_never_clears_do_not_contact() {
    let env = Env::new().await;
    let results = env
        .bulk_raw(
            &env.http,
            json!([
                item("+18045550113", "dnc@example.com"),
                item("+18045550114", "dnc@example.com")
            ]),
        )
        .await;
    let (by_patch, by_put) = (
        results[0]["id"].as_i64().unwrap(),
        results[1]["id"].as_i64().unwrap(),
    );
    let (status, _) = env
        .call(
            &env.http,
            "PATCH",
            &format!("/api/leads/{by_patch}/"),
            Some(&json!({"call_dnc": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = env
        .call(
            &env.http,
            "PUT",
            "/api/leads/update/",
            Some(&json!({"phone_number": "+18045550114", "email": "dnc@example.com", "sms_dnc": true, "call_dnc": true})),
        )
        .await;
    assert_eq!(status, 200);

    // Re-sends by bulk and single create, without the flags and, for good
    // measure, with them false: the flags stay true.
    let resend = json!([
        item("804-555-0113", "dnc@example.com"),
        {"phone_number": "+18045550114", "email": "dnc@example.com", "call_dnc": false, "sms_dnc": false},
    ]);
    let again = env.bulk_raw(&env.http, resend).await;
    assert!(
        again.iter().all(|r| r["action"] == "reengaged"),
        "{again:?}"
    );
    for body in [
        item("+18045550113", "dnc@example.com"),
        item("+18045550114", "dnc@example.com"),
    ] {
        let (status, _) = env
            .call(&env.http, "POST", "/api/leads/", Some(&body))
            .await;
        assert_eq!(status, 200);
    }
    let patched = env.get_lead(&env.http, by_patch).await.unwrap();
    assert_eq!(
        (&patched["call_dnc"], &patched["sms_dnc"]),
        (&json!(true), &json!(false))
    );
    let put = env.get_lead(&env.http, by_put).await.unwrap();
    assert_eq!(
        (&put["call_dnc"], &put["sms_dnc"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(counter(&put).0, 2);
    env.finish();
}

#[tokio::test]
async fn single_create_and_bulk_share_one_identity_rule() {
    let env = Env::new().await;
    // Single first, then bulk.
    let (status, single) = env
        .call(
            &env.http,
            "POST",
            "/api/leads/",
            Some(&item("+18045550115", "c1@example.com")),
        )
        .await;
    assert_eq!(status, 201, "{single}");
    let single_id = single["id"].as_i64().unwrap();
    assert_eq!(single["phone_number"], "+18045550115");
    assert_eq!(single["email"], "c1@example.com");
    let bulk = env
        .bulk_raw(&env.http, json!([item("(804) 555-0115", "c1@example.com")]))
        .await;
    assert_eq!(bulk[0], json!({"id": single_id, "action": "reengaged"}));
    // Bulk first, then single.
    let bulk = env
        .bulk_raw(&env.http, json!([item("+18045550116", "c1@example.com")]))
        .await;
    let bulk_id = bulk[0]["id"].as_i64().unwrap();
    let (status, again) = env
        .call(
            &env.http,
            "POST",
            "/api/leads/",
            Some(&item("804.555.0116", "c1@example.com")),
        )
        .await;
    assert_eq!((status, &again["id"]), (200, &json!(bulk_id)));
    assert_eq!(env.count(&env.http).await, 2);

    // A certainly invalid single create: 400, nothing stored, and the identity
    // is created later as if never sent.
    let invalid = json!({"phone_number": "+18045550117", "email": "c1@example.com", "us_state": "California"});
    let (status, body) = env
        .call(&env.http, "POST", "/api/leads/", Some(&invalid))
        .await;
    assert_eq!(status, 400);
    assert!(body.get("us_state").is_some(), "{body}");
    assert_eq!(env.count(&env.http).await, 2);
    let later = env
        .bulk_raw(&env.http, json!([item("+18045550117", "c1@example.com")]))
        .await;
    assert_eq!(later[0]["action"], "created");
    env.finish();
}
