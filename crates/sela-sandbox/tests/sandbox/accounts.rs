//! A3: two accounts, each seeing, changing and re-engaging only its own leads.

use std::collections::HashSet;

use sela_sandbox::{AccountId, SameTokenError, Sandbox, SandboxState};
use serde_json::{Value, json};

use crate::env::*;

fn item(phone: &str, email: &str) -> Value {
    json!({"phone_number": phone, "email": email, "external_id": format!("x-{phone}")})
}

#[tokio::test]
async fn neither_account_sees_changes_or_reengages_the_others_leads() {
    let env = Env::new().await;
    let (first, second) = (&env.http, &env.second_http);
    let theirs = env
        .bulk_raw(first, json!([item("+18045550101", "a3@example.com")]))
        .await;
    assert_eq!(theirs[0]["action"], "created");
    let their_id = theirs[0]["id"].as_i64().unwrap();
    let before = env.get_lead(first, their_id).await.unwrap();

    // GET and PATCH of the other account's id: 404, nothing changed.
    assert_eq!(env.get_lead(second, their_id).await, None);
    let (status, _) = env
        .call(
            second,
            "PATCH",
            &format!("/api/leads/{their_id}/"),
            Some(&json!({"status": "CLOSED", "call_dnc": true})),
        )
        .await;
    assert_eq!(status, 404);
    // PUT by match with their identity matches nothing in this account.
    let (status, _) = env
        .call(
            second,
            "PUT",
            "/api/leads/update/",
            Some(&json!({"phone_number": "+18045550101", "email": "a3@example.com", "status": "LOST"})),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(env.get_lead(first, their_id).await.unwrap(), before);

    // Their identity, sent in this account, is a new lead of this account,
    // by bulk and by single create alike; theirs is not re-engaged.
    assert_eq!(env.count(second).await, 0);
    let mine = env
        .bulk_raw(second, json!([item("(804) 555-0101", "a3@example.com")]))
        .await;
    assert_eq!(mine[0]["action"], "created");
    let my_id = mine[0]["id"].as_i64().unwrap();
    assert_ne!(my_id, their_id);
    let (status, single) = env
        .call(
            second,
            "POST",
            "/api/leads/",
            Some(&item("+18045550102", "a3@example.com")),
        )
        .await;
    assert_eq!(status, 201, "{single}");
    let single_id = single["id"].as_i64().unwrap();
    let again = env
        .bulk_raw(second, json!([item("+18045550101", "a3@example.com")]))
        .await;
    assert_eq!(again[0], json!({"id": my_id, "action": "reengaged"}));
    let after = env.get_lead(first, their_id).await.unwrap();
    assert_eq!(after, before, "the first account's lead changed");
    assert_eq!(after["reengagement_count"], 0);

    // Each list and count holds the account's own leads only.
    assert_eq!(env.count(first).await, 1);
    assert_eq!(env.count(second).await, 2);
    let (_, page) = env.call(second, "GET", "/api/leads/", None).await;
    let listed: HashSet<i64> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, HashSet::from([my_id, single_id]));
    // And the first account cannot reach the second's leads either.
    assert_eq!(env.get_lead(first, my_id).await, None);
    assert_eq!(env.get_lead(second, my_id).await.unwrap()["id"], my_id);
    env.finish();
}

#[tokio::test]
async fn ids_never_collide_across_accounts() {
    let env = Env::new().await;
    let mut ids = HashSet::new();
    for round in 0..5u8 {
        for who in [&env.http, &env.second_http] {
            let batch: Vec<Value> = (0..4u8)
                .map(|i| item(&format!("+1804555{round}1{i}0"), "ids@example.com"))
                .collect();
            for result in env.bulk_raw(who, Value::Array(batch)).await {
                assert_eq!(result["action"], "created", "{result}");
                assert!(ids.insert(result["id"].as_i64().unwrap()), "{result}");
            }
        }
    }
    assert_eq!(ids.len(), 40);
    env.finish();
}

#[test]
fn the_state_tells_the_accounts_apart_by_token() {
    let state = SandboxState::new("first-token")
        .with_second_token("second-token")
        .unwrap();
    assert_eq!(state.second_token(), Some("second-token"));
    let auth = |value: &str| vec![("Authorization".to_owned(), value.to_owned())];
    assert_eq!(
        state.account_for(&auth("Token first-token")),
        Some(AccountId::First)
    );
    assert_eq!(
        state.account_for(&auth("token second-token")),
        Some(AccountId::Second)
    );
    for wrong in [
        "Token second-tokeN",
        "Bearer second-token",
        "Token first-token2",
    ] {
        assert_eq!(state.account_for(&auth(wrong)), None, "{wrong}");
    }
    assert_eq!(state.account_for(&[]), None);

    // The models are separate; the one-account state has no second.
    state
        .lock_account(AccountId::Second)
        .unwrap()
        .create_item(&item("+18045550199", "s@example.com"))
        .unwrap();
    assert_eq!(state.lock().len(), 0);
    assert_eq!(state.lock_account(AccountId::Second).unwrap().len(), 1);
    let one = SandboxState::new("only");
    assert!(one.second_token().is_none() && one.lock_account(AccountId::Second).is_none());
    assert_eq!(
        SandboxState::new("same").with_second_token("same").err(),
        Some(SameTokenError)
    );
}

#[test]
fn a_started_sandbox_serves_two_accounts_and_redacts_both_tokens() {
    let sandbox = Sandbox::start();
    let second = sandbox.second_token().expect("two accounts").to_owned();
    assert_ne!(second, sandbox.token());
    let debug = format!("{sandbox:?} {:?}", sandbox.state());
    assert!(
        !debug.contains(&second) && !debug.contains(sandbox.token()),
        "{debug}"
    );
}
