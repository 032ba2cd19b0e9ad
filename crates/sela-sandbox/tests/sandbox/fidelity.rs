//! B5: what is read back is what was sent, exactly, through every write.

use chrono::DateTime;
use serde_json::{Value, json};

use crate::env::*;

/// Strings a lossy column or a careless codec changes: outside the Basic
/// Multilingual Plane, combining marks, right-to-left text, escapes.
const STRINGS: &[&str] = &[
    "Zoë 😀 𝄞",
    "e\u{301}\u{302} n\u{303}",
    "שלום עולם مرحبا",
    "tab\tquote\"backslash\\nul-free \u{7f} \u{2028}",
];

/// Doubles a float32 column or a best-effort parser changes (the last two are
/// one unit in the last place away from what a fast parser reads).
const FLOATS: &[f64] = &[
    7.1,
    0.1,
    -2.5e-8,
    1.0e300,
    1.577_777_777_777_000_1,
    117.633_311_394_000_17,
];

/// Integers within +-2^53 that a double column keeps and a 32-bit one does not.
const INTEGERS: &[i64] = &[
    9_007_199_254_740_991,
    -9_007_199_254_740_991,
    2_147_483_648,
    0,
];

fn metadata() -> Value {
    let mut meta = serde_json::Map::new();
    for (i, s) in STRINGS.iter().enumerate() {
        meta.insert(format!("text_{i}"), json!(s));
    }
    for (i, f) in FLOATS.iter().enumerate() {
        meta.insert(format!("float_{i}"), json!(f));
    }
    for (i, n) in INTEGERS.iter().enumerate() {
        meta.insert(format!("int_{i}"), json!(n));
    }
    meta.insert(
        "nested".into(),
        json!({"a": [1, [2.5, {"b": null}], {}], "c": {"d": [true, "x"]}, "e": []}),
    );
    Value::Object(meta)
}

/// Asserts every key of `sent` reads back with the same JSON value, floats
/// compared bit for bit.
#[track_caller]
fn assert_same_metadata(sent: &Value, read: &Value) {
    for (key, value) in sent.as_object().unwrap() {
        assert_eq!(read.get(key), Some(value), "metadata.{key}");
        if let Some(f) = value.as_f64().filter(|_| value.is_f64()) {
            assert_eq!(
                read[key].as_f64().map(f64::to_bits),
                Some(f.to_bits()),
                "{key}"
            );
        }
    }
}

/// The read-back time as an instant.
fn instant(lead: &Value) -> DateTime<chrono::Utc> {
    DateTime::parse_from_rfc3339(lead["call_schedule_start_time"].as_str().unwrap())
        .unwrap()
        .to_utc()
}

#[tokio::test]
async fn every_write_stores_exactly_what_was_sent() {
    let env = Env::new().await;
    let sent = json!({
        "phone_number": "+18045550131",
        "email": "b5@example.com",
        "external_id": STRINGS[0],
        "lead_source": STRINGS[2],
        "metadata": metadata(),
        "call_schedule_start_time": "2026-03-02T09:00:00-08:00",
    });
    let results = env.bulk_raw(&env.http, json!([sent])).await;
    let id = results[0]["id"].as_i64().unwrap();
    let read = env.get_lead(&env.http, id).await.unwrap();
    assert_eq!(read["external_id"], STRINGS[0]);
    assert_eq!(read["lead_source"], STRINGS[2]);
    assert_same_metadata(&sent["metadata"], &read["metadata"]);
    let expected = DateTime::parse_from_rfc3339("2026-03-02T17:00:00Z").unwrap();
    assert_eq!(instant(&read), expected, "the same instant");
    // Times the server sets carry microseconds, as the documented samples do.
    let created = read["created_time"].as_str().unwrap();
    let fraction = created
        .split_once('.')
        .map(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).count());
    assert_eq!(fraction, Some(6), "{created}");

    // Single create, PATCH and PUT keep them as exactly.
    let single = json!({
        "phone_number": "+18045550132", "email": "b5@example.com",
        "external_id": STRINGS[1], "metadata": metadata(),
        "call_schedule_start_time": "2026-03-02T17:00:00.123456789+05:30",
    });
    let (status, created) = env
        .call(&env.http, "POST", "/api/leads/", Some(&single))
        .await;
    assert_eq!(status, 201);
    let single_id = created["id"].as_i64().unwrap();
    let read = env.get_lead(&env.http, single_id).await.unwrap();
    assert_eq!(read["external_id"], STRINGS[1]);
    assert_same_metadata(&single["metadata"], &read["metadata"]);
    let expected = DateTime::parse_from_rfc3339("2026-03-02T11:30:00.123456789Z").unwrap();
    assert_eq!(instant(&read), expected, "nanoseconds kept");

    let patch = json!({"lead_source": STRINGS[3], "metadata": {"rate": 7.1, "deep": [[[1]]]},
                       "call_schedule_start_time": "2026-12-31T23:59:59+14:00"});
    let (status, _) = env
        .call(
            &env.http,
            "PATCH",
            &format!("/api/leads/{id}/"),
            Some(&patch),
        )
        .await;
    assert_eq!(status, 200);
    let read = env.get_lead(&env.http, id).await.unwrap();
    assert_eq!(read["lead_source"], STRINGS[3]);
    assert_same_metadata(&patch["metadata"], &read["metadata"]);
    let expected = DateTime::parse_from_rfc3339("2026-12-31T09:59:59Z").unwrap();
    assert_eq!(instant(&read), expected);

    let put = json!({"phone_number": "+18045550132", "email": "b5@example.com",
                     "external_id": STRINGS[2], "metadata": {"amount": 1.577_777_777_777_000_1}});
    let (status, _) = env
        .call(&env.http, "PUT", "/api/leads/update/", Some(&put))
        .await;
    assert_eq!(status, 200);
    let read = env.get_lead(&env.http, single_id).await.unwrap();
    assert_eq!(read["external_id"], STRINGS[2]);
    assert_same_metadata(&put["metadata"], &read["metadata"]);
    env.finish();
}

#[tokio::test]
async fn metadata_as_sent_wins_over_a_folded_top_level_key() {
    let env = Env::new().await;
    let sent = json!({
        "phone_number": "+18045550133", "email": "fold@example.com",
        "metadata": {"first_name": "Ada"},
        "first_name": "Top", "nickname": "Countess",
    });
    let results = env.bulk_raw(&env.http, json!([sent])).await;
    let read = env
        .get_lead(&env.http, results[0]["id"].as_i64().unwrap())
        .await
        .unwrap();
    assert_eq!(
        read["metadata"],
        json!({"first_name": "Ada", "nickname": "Countess"})
    );
    env.finish();
}
