//! L1: walking the list page by page lists every lead of the account once, and
//! as many as `count` says, at every page size.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::env::*;

/// Walks `who`'s list from `first`, following `next`; the ids listed (in
/// order) and every page's `count`.
async fn walk(env: &Env, who: &reqwest::Client, first: &str) -> (Vec<i64>, Vec<u64>) {
    let (mut ids, mut counts) = (Vec::new(), Vec::new());
    let mut url = env.url(first);
    for _ in 0..1000 {
        let page: Value = who.get(&url).send().await.unwrap().json().await.unwrap();
        counts.push(page["count"].as_u64().unwrap());
        ids.extend(
            page["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_i64().unwrap()),
        );
        match page["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => return (ids, counts),
        }
    }
    panic!("the list never ended");
}

#[tokio::test]
async fn every_lead_is_listed_exactly_once_at_every_page_size() {
    let env = Env::new().await;
    let mut mine = HashSet::new();
    let mut theirs = HashSet::new();
    // Interleaved creates of both accounts, so each one's ids have gaps.
    for round in 0..6u8 {
        let batch: Vec<Value> = (0..4u8)
            .map(|i| json!({"phone_number": format!("+1804555{round}2{i}0"), "email": "l1@example.com"}))
            .collect();
        for result in env.bulk_raw(&env.http, Value::Array(batch.clone())).await {
            mine.insert(result["id"].as_i64().unwrap());
        }
        for result in env
            .bulk_raw(&env.second_http, Value::Array(batch[..1].to_vec()))
            .await
        {
            theirs.insert(result["id"].as_i64().unwrap());
        }
    }
    // A re-engagement adds no row.
    env.bulk_raw(
        &env.http,
        json!([{"phone_number": "+18045550200", "email": "l1@example.com"}]),
    )
    .await;
    assert_eq!(mine.len(), 24);
    for size in [1usize, 2, 5, 7, 23, 24, 25, 1000] {
        let (ids, counts) = walk(&env, &env.http, &format!("/api/leads/?page_size={size}")).await;
        let unique: HashSet<i64> = ids.iter().copied().collect();
        assert_eq!(
            ids.len(),
            unique.len(),
            "page_size {size}: a lead listed twice"
        );
        assert_eq!(unique, mine, "page_size {size}");
        assert!(
            counts.iter().all(|c| *c == 24),
            "page_size {size}: {counts:?}"
        );
        assert_eq!(
            counts.len(),
            24usize.div_ceil(size.min(1000)),
            "pages at {size}"
        );
    }
    let (ids, counts) = walk(&env, &env.second_http, "/api/leads/?page_size=4").await;
    assert_eq!(ids.iter().copied().collect::<HashSet<_>>(), theirs);
    assert_eq!((ids.len(), counts[0]), (6, 6));
    env.finish();
}
