//! G1 and the settle window: reads are fresh by default; with
//! `SandboxOptions::read_lag` they answer an older state while writes and
//! de-duplication see the current one, and they never go back in time.

use std::time::{Duration, Instant};

use sela_sandbox::SandboxOptions;
use serde_json::json;

use crate::env::*;

fn lagging(lag: Duration) -> SandboxOptions {
    SandboxOptions {
        read_lag: Some(lag),
        ..SandboxOptions::default()
    }
}

#[tokio::test]
async fn reads_are_fresh_by_default() {
    let env = Env::new().await;
    let results = env
        .bulk_raw(
            &env.http,
            json!([{"phone_number": "+18045550141", "email": "g1@example.com"}]),
        )
        .await;
    let id = results[0]["id"].as_i64().unwrap();
    assert!(env.get_lead(&env.http, id).await.is_some());
    assert_eq!(env.count(&env.http).await, 1);
    let (status, _, after) = env
        .patch_then_read(&env.http, id, &json!({"status": "CLOSED"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(after.unwrap()["status"], "CLOSED");
    env.finish();
}

#[tokio::test]
async fn a_lagging_sandbox_hides_writes_from_reads_but_not_from_dedup() {
    // A lag no test outlives: every read in this test answers the state
    // before its first write.
    let env = Env::with_options(lagging(Duration::from_secs(3600))).await;
    let item = json!({"phone_number": "+18045550142", "email": "lag@example.com"});
    let created = env.bulk_raw(&env.http, json!([item])).await;
    let id = created[0]["id"].as_i64().unwrap();
    assert_eq!(
        env.get_lead(&env.http, id).await,
        None,
        "the read did not lag"
    );
    assert_eq!(env.count(&env.http).await, 0);
    // De-duplication and writes see the current state.
    let again = env.bulk_raw(&env.http, json!([item])).await;
    assert_eq!(again[0], json!({"id": id, "action": "reengaged"}));
    let (status, patched) = env.patch(&env.http, id, &json!({"status": "CLOSED"})).await;
    assert_eq!((status, &patched["status"]), (200, &json!("CLOSED")));
    assert_eq!(env.state.lock().len(), 1);
    env.finish();
}

#[tokio::test]
async fn lagging_reads_catch_up_and_never_go_back() {
    let env = Env::with_options(lagging(Duration::from_millis(100))).await;
    let created = env
        .bulk_raw(
            &env.http,
            json!([{"phone_number": "+18045550143", "email": "lag@example.com"}]),
        )
        .await;
    let id = created[0]["id"].as_i64().unwrap();
    let (status, _) = env.patch(&env.http, id, &json!({"status": "CLOSED"})).await;
    assert_eq!(status, 200);
    // Poll until the PATCH shows (a bound against hanging, not a timing check),
    // recording what each read saw: nothing, then NEW, then CLOSED, in order.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let status = env
            .get_lead(&env.http, id)
            .await
            .map(|lead| lead["status"].as_str().unwrap().to_owned());
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status.as_deref() == Some("CLOSED") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the read never caught up: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let order = [None, Some("NEW".to_owned()), Some("CLOSED".to_owned())];
    assert!(
        seen.iter().all(|s| order.contains(s))
            && seen.windows(2).all(|w| {
                let at = |s: &Option<String>| order.iter().position(|o| o == s);
                at(&w[0]) < at(&w[1])
            }),
        "reads went back in time: {seen:?}"
    );
    for _ in 0..5 {
        assert_eq!(
            env.get_lead(&env.http, id).await.unwrap()["status"],
            "CLOSED"
        );
        assert_eq!(env.count(&env.http).await, 1);
    }
    env.finish();
}
