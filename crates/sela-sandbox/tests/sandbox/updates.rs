//! U1 (PATCH is partial), U2 (PUT changes exactly the phone-and-e-mail match)
//! and U3 (the identity index follows updates).

use serde_json::{Map, Value, json};

use crate::env::*;

/// `lead` without the fields a write always changes.
fn without_times(lead: &Value) -> Map<String, Value> {
    let mut map = lead.as_object().unwrap().clone();
    map.remove("modified_time");
    map
}

/// Asserts `after` equals `before` except in `changed`, whose values it returns.
#[track_caller]
fn only_changed(before: &Value, after: &Value, changed: &[&str]) {
    let (mut b, mut a) = (without_times(before), without_times(after));
    for field in changed {
        b.remove(*field);
        a.remove(*field);
    }
    assert_eq!(a, b, "fields other than {changed:?} changed");
}

async fn create(env: &Env, body: Value) -> i64 {
    let (status, lead) = env
        .call(&env.http, "POST", "/api/leads/", Some(&body))
        .await;
    assert_eq!(status, 201, "{lead}");
    lead["id"].as_i64().unwrap()
}

#[tokio::test]
async fn patch_changes_what_it_was_sent_and_nothing_else() {
    let env = Env::new().await;
    let id = create(
        &env,
        json!({
            "phone_number": "+18045550121", "email": "u1@example.com",
            "external_id": "crm-121", "lead_source": "web", "us_state": "VA",
            "lead_type": 2, "metadata": {"first_name": "Ada", "loan_rate": 7.1},
        }),
    )
    .await;
    let before = env.get_lead(&env.http, id).await.unwrap();

    for (body, changed) in [
        (json!({"status": "CLOSED"}), &["status"][..]),
        (
            json!({"lead_source": "phone", "call_dnc": true}),
            &["lead_source", "call_dnc"],
        ),
        (json!({}), &[]),
    ] {
        let before = env.get_lead(&env.http, id).await.unwrap();
        let (status, answered, after) = env.patch_then_read(&env.http, id, &body).await;
        assert_eq!(status, 200, "{answered}");
        let after = after.unwrap();
        assert_eq!(after, answered, "the answer is the stored lead");
        for (field, value) in body.as_object().unwrap() {
            assert_eq!(&after[field], value, "{field}");
        }
        only_changed(&before, &after, changed);
    }
    let after = env.get_lead(&env.http, id).await.unwrap();
    only_changed(&before, &after, &["status", "lead_source", "call_dnc"]);

    // metadata: the sandbox replaces it with what was sent (documented in the
    // README; the contract accepts merge or replace).
    let (status, replaced) = env
        .patch(&env.http, id, &json!({"metadata": {"first_name": "Grace"}}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(replaced["metadata"], json!({"first_name": "Grace"}));
    only_changed(&after, &replaced, &["metadata"]);
    env.finish();
}

#[tokio::test]
async fn patch_of_an_unknown_id_or_with_an_invalid_value_changes_nothing() {
    let env = Env::new().await;
    let id = create(
        &env,
        json!({"phone_number": "+18045550122", "email": "u1@example.com"}),
    )
    .await;
    let before = env.get_lead(&env.http, id).await.unwrap();
    for unknown in [id + 1, 0, -1, i64::MAX] {
        let (status, _) = env
            .patch(
                &env.http,
                unknown,
                &json!({"phone_number": "+18045550123", "email": "new@example.com"}),
            )
            .await;
        assert_eq!(status, 404, "{unknown}");
    }
    assert_eq!(
        env.count(&env.http).await,
        1,
        "a PATCH of an unknown id created a lead"
    );
    let new_identity = env
        .bulk_raw(
            &env.http,
            json!([{"phone_number": "+18045550123", "email": "new@example.com"}]),
        )
        .await;
    assert_eq!(new_identity[0]["action"], "created");

    for invalid in [
        json!({"phone_number": "not a phone", "status": "CLOSED"}),
        json!({"status": "NOPE"}),
        json!({"email": "no-at-sign", "lead_source": "x"}),
        json!({"us_state": "ZZ"}),
        json!({"call_dnc": "yes"}),
        json!({"lead_type": "abc"}),
        json!({"metadata": [1, 2]}),
        json!([{"status": "CLOSED"}]),
    ] {
        let (status, body, after) = env.patch_then_read(&env.http, id, &invalid).await;
        assert_eq!(status, 400, "{invalid}: {body}");
        assert_eq!(after.unwrap(), before, "{invalid}");
    }
    env.finish();
}

#[tokio::test]
async fn put_changes_only_the_lead_whose_phone_and_email_match() {
    let env = Env::new().await;
    // A household: one line, two people.
    let alice = create(
        &env,
        json!({"phone_number": "+18045550124", "email": "alice@example.com"}),
    )
    .await;
    let bob = create(
        &env,
        json!({"phone_number": "+18045550124", "email": "bob@example.com"}),
    )
    .await;
    let solo = create(
        &env,
        json!({"phone_number": "+18045550125", "email": "alice@example.com"}),
    )
    .await;
    let before: Vec<Value> =
        futures::future::join_all([alice, bob, solo].map(|id| env.get_lead(&env.http, id)))
            .await
            .into_iter()
            .map(Option::unwrap)
            .collect();

    let (status, answered) = env
        .put_by_match(
            &env.http,
            &json!({"phone_number": "(804) 555-0124", "email": "bob@example.com", "status": "LOST", "call_dnc": true}),
        )
        .await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["id"], bob);
    let bob_after = env.get_lead(&env.http, bob).await.unwrap();
    assert_eq!(
        (&bob_after["status"], &bob_after["call_dnc"]),
        (&json!("LOST"), &json!(true))
    );
    only_changed(&before[1], &bob_after, &["status", "call_dnc"]);
    assert_eq!(env.get_lead(&env.http, alice).await.unwrap(), before[0]);
    assert_eq!(env.get_lead(&env.http, solo).await.unwrap(), before[2]);

    // No match (a known phone with an unknown e-mail, a phone-only body, an
    // unknown phone): refused, nothing created or changed.
    for miss in [
        json!({"phone_number": "+18045550124", "email": "carol@example.com", "status": "LOST"}),
        json!({"phone_number": "+18045550124", "status": "LOST"}),
        json!({"phone_number": "+18045550126", "email": "alice@example.com", "status": "LOST"}),
    ] {
        let (status, _) = env.put_by_match(&env.http, &miss).await;
        assert!((400..500).contains(&status), "{miss}: {status}");
    }
    assert_eq!(env.count(&env.http).await, 3);
    assert_eq!(env.get_lead(&env.http, alice).await.unwrap(), before[0]);
    assert_eq!(env.get_lead(&env.http, bob).await.unwrap(), bob_after);
    env.finish();
}

#[tokio::test]
async fn an_update_moves_the_identity_it_changes() {
    let env = Env::new().await;
    let id = create(
        &env,
        json!({"phone_number": "+18045550127", "email": "old@example.com"}),
    )
    .await;
    // PATCH the e-mail: the new identity is this lead, the old one is free.
    let (status, _) = env
        .patch(&env.http, id, &json!({"email": "new@example.com"}))
        .await;
    assert_eq!(status, 200);
    let results = env
        .bulk_raw(
            &env.http,
            json!([
                {"phone_number": "804-555-0127", "email": "new@example.com"},
                {"phone_number": "+18045550127", "email": "old@example.com"},
            ]),
        )
        .await;
    assert_eq!(results[0], json!({"id": id, "action": "reengaged"}));
    assert_eq!(results[1]["action"], "created");
    let old_owner = results[1]["id"].as_i64().unwrap();
    assert_ne!(old_owner, id);

    // PATCH the phone, written in another format: stored as E.164, and
    // the index follows it for single creates too.
    let (status, moved) = env
        .patch(&env.http, id, &json!({"phone_number": "(804) 555-0128"}))
        .await;
    assert_eq!(
        (status, &moved["phone_number"]),
        (200, &json!("+18045550128"))
    );
    let (status, single) = env
        .call(
            &env.http,
            "POST",
            "/api/leads/",
            Some(&json!({"phone_number": "+18045550128", "email": "new@example.com"})),
        )
        .await;
    assert_eq!((status, &single["id"]), (200, &json!(id)));
    let (status, fresh) = env
        .call(
            &env.http,
            "POST",
            "/api/leads/",
            Some(&json!({"phone_number": "+18045550127", "email": "new@example.com"})),
        )
        .await;
    assert_eq!(status, 201, "{fresh}");
    assert_ne!(fresh["id"], json!(id));

    // PUT finds the lead by its new identity; the old one no longer matches.
    let (status, _) = env
        .put_by_match(
            &env.http,
            &json!({"phone_number": "+18045550128", "email": "new@example.com", "status": "CLOSED"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        env.get_lead(&env.http, id).await.unwrap()["status"],
        "CLOSED"
    );

    // A PATCH onto another lead's identity is refused and changes nothing.
    let before = env.get_lead(&env.http, id).await.unwrap();
    let (status, _, after) = env
        .patch_then_read(
            &env.http,
            id,
            &json!({"phone_number": "+18045550127", "email": "old@example.com", "status": "LOST"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(after.unwrap(), before);
    env.finish();
}
