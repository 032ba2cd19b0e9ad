//! Behaviour through the generated client.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use sela_leads::api::{self, types};
use sela_sandbox::NOT_AN_OBJECT;
use serde_json::{Value, json};

use crate::env::*;

// ---------------------------------------------------------------------------
// Behaviour through the generated client
// ---------------------------------------------------------------------------

#[tokio::test]
async fn create_then_retrieve() {
    let env = Env::new().await;
    let created = env
        .client
        .leads_create()
        .body_map(|b| {
            b.phone_number("(804) 555-0142".to_owned())
                .email("ada@example.com".to_owned())
                .us_state(sela_leads::UsState::Va)
                .external_id("crm-42".to_owned())
                .metadata(sela_leads::Metadata::new().with("first_name", "Ada"))
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let created = created.into_inner();
    assert_eq!(created.phone_number.as_deref(), Some("+18045550142"));
    assert_eq!(created.status.as_deref(), Some("NEW"));
    assert!(created.created_time.is_some() && created.modified_time.is_some());

    let fetched = retrieve(&env.client, created.id).await;
    assert_eq!(fetched, created);
    assert_eq!(fetched.email.as_deref(), Some("ada@example.com"));
    assert_eq!(fetched.us_state.as_deref(), Some("VA"));
    assert_eq!(fetched.external_id.as_deref(), Some("crm-42"));
    assert_eq!(
        fetched.metadata.as_ref().and_then(|m| m.first_name()),
        Some("Ada")
    );

    let missing = env
        .client
        .leads_retrieve()
        .id(created.id + 1000)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing), Some(404));

    // The same identity again is not a second lead: it is the first, re-engaged.
    let again = env
        .client
        .leads_create()
        .body(lead("+18045550142", "ada@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 200);
    let again = again.into_inner();
    assert_eq!(again.id, created.id);
    assert_eq!(again.reengagement_count, Some(1));

    let invalid = env
        .client
        .leads_create()
        .body(lead("+19115550142", "ada@example.com"))
        .send()
        .await
        .unwrap_err();
    match invalid {
        api::Error::ErrorResponse(body) => {
            assert_eq!(body.status().as_u16(), 400);
            assert!(body.into_inner().0.contains_key("phone_number"));
        }
        other => panic!("expected a 400 answer, got {other:?}"),
    }
    env.finish();
}

#[tokio::test]
async fn list_across_pages() {
    let env = Env::new().await;
    let leads: Vec<_> = (0..5)
        .map(|i| lead(&format!("+1804555010{i}"), "page@example.com"))
        .collect();
    let results = bulk(&env, leads).await;
    let ids: Vec<i64> = results.iter().map(|r| r.id.unwrap()).collect();

    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let body = env
            .client
            .leads_list()
            .page(page)
            .page_size(2)
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(body.count, 5);
        seen.extend(body.results.iter().map(|l| l.id));
        assert_eq!(body.previous.is_some(), page > 1, "page {page}");
        match body.next {
            Some(next) => {
                assert!(
                    next.starts_with(&env.server.base_url()),
                    "{next} is not absolute"
                );
                assert!(next.contains(&format!("page={}", page + 1)), "{next}");
                page += 1;
            }
            None => break,
        }
    }
    assert_eq!(page, 3);
    assert_eq!(seen, ids);

    // Following `next` as an absolute URL works too.
    let first = env
        .client
        .leads_list()
        .page_size(2)
        .send()
        .await
        .unwrap()
        .into_inner();
    let next_url = first.next.unwrap();
    let second: types::PaginatedPartialLeadList = env
        .http
        .get(&next_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        second.results.iter().map(|l| l.id).collect::<Vec<_>>(),
        ids[2..4]
    );

    let beyond = env
        .client
        .leads_list()
        .page(4)
        .page_size(2)
        .send()
        .await
        .unwrap_err();
    // 404 is not in the spec for the list, so the client reports an unexpected answer.
    assert!(
        matches!(&beyond, api::Error::UnexpectedResponse(r) if r.status().as_u16() == 404),
        "{beyond:?}"
    );

    let types_page = env
        .client
        .lead_types_list()
        .search("solar")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(types_page.count, 1);
    assert_eq!(types_page.results[0].name, "Solar");
    env.finish();
}

#[tokio::test]
async fn patch_updates_one_lead() {
    let env = Env::new().await;
    let id = bulk(&env, vec![lead("+18045550150", "p@example.com")]).await[0]
        .id
        .unwrap();
    let patched = env
        .client
        .leads_partial_update()
        .id(id)
        .body_map(|b| {
            b.status(types::LeadStatus::Closed)
                .call_dnc(true)
                .lead_source("web".to_owned())
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(patched.status.as_deref(), Some("CLOSED"));
    assert_eq!(patched.call_dnc, Some(true));
    assert_eq!(patched.lead_source.as_deref(), Some("web"));
    assert_eq!(patched.phone_number.as_deref(), Some("+18045550150"));
    let fetched = retrieve(&env.client, id).await;
    assert_eq!(fetched, patched);

    let missing = env
        .client
        .leads_partial_update()
        .id(id + 1)
        .body_map(|b| b.status(types::LeadStatus::Closed))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing), Some(404));

    let bad = env
        .http
        .patch(env.url(&format!("/api/leads/{id}/")))
        .json(&json!({"phone_number": "not a phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let body: Value = bad.json().await.unwrap();
    assert!(body.get("phone_number").is_some(), "{body}");
    env.finish();
}

#[tokio::test]
async fn put_by_phone_and_email_match() {
    let env = Env::new().await;
    let id = bulk(&env, vec![lead("+18045550160", "m@example.com")]).await[0]
        .id
        .unwrap();
    let updated = env
        .client
        .leads_update_update()
        .body_map(|b| {
            b.phone_number("804-555-0160".to_owned())
                .email("m@example.com".to_owned())
                .status(types::LeadStatus::Lost)
                .call_dnc(true)
                .external_id("crm-160".to_owned())
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.id, id);
    assert_eq!(updated.status.as_deref(), Some("LOST"));
    assert_eq!(updated.call_dnc, Some(true));
    assert_eq!(updated.external_id.as_deref(), Some("crm-160"));

    // Same phone, another e-mail: nothing matches.
    let miss = env
        .client
        .leads_update_update()
        .body_map(|b| {
            b.phone_number("+18045550160".to_owned())
                .email("other@example.com".to_owned())
                .status(types::LeadStatus::Lost)
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&miss), Some(404));
    let unchanged = retrieve(&env.client, id).await;
    assert_eq!(unchanged.status.as_deref(), Some("LOST"));
    env.finish();
}

#[tokio::test]
async fn bulk_mixes_valid_invalid_and_non_object_items() {
    let env = Env::new().await;
    let (status, body) = env
        .post_raw(
            "/api/leads/bulk-create/",
            &json!({"leads": [
                {"phone_number": "+18045550123", "email": "a@example.com"},
                7,
                {"phone_number": "+18045550123", "email": "a@example.com"},
                null,
                {"phone_number": "804-CALL-NOW", "email": "b@example.com"},
                {"phone_number": "+18045550124", "email": "no-at-sign"},
                {"phone_number": "+18045550125", "us_state": "ZZ"},
                {"phone_number": "+18045550126", "lead_type": "abc"},
                "lead",
                [],
                {"phone_number": "(804) 555-0127", "email": "c@example.com", "favourite_colour": "teal"},
            ]}),
        )
        .await;
    assert_eq!(status, 200);
    let results: types::BulkCreateLeadResponse = serde_json::from_value(body.clone()).unwrap();
    let results = results.results;
    assert_eq!(results.len(), 11);
    let action = |i: usize| results[i].action.to_string();
    let first = results[0].id.unwrap();
    assert_eq!(action(0), "created");
    for i in [1, 3, 8, 9] {
        assert_eq!(action(i), "error", "item {i}");
        assert_eq!(results[i].id, None);
        assert_eq!(
            results[i].error.as_ref().and_then(|e| e.as_str()),
            Some(NOT_AN_OBJECT),
            "item {i}"
        );
    }
    assert_eq!(
        (action(2), results[2].id),
        ("reengaged".to_owned(), Some(first))
    );
    for (i, field) in [
        (4, "phone_number"),
        (5, "email"),
        (6, "us_state"),
        (7, "lead_type"),
    ] {
        assert_eq!(action(i), "error", "item {i}");
        assert_eq!(results[i].id, None);
        // The sandbox sends a string, the documented shape.
        let message = results[i]
            .error
            .as_ref()
            .and_then(|e| e.as_str())
            .unwrap_or_default();
        assert!(
            message.starts_with(&format!("{field}: ")),
            "item {i}: {message}"
        );
    }
    assert_eq!(action(10), "created");
    let last = results[10].id.unwrap();
    assert!(last > first);
    // Per-result shape on the wire: errors carry `id: null`, successes no error.
    assert_eq!(
        body["results"][1],
        json!({"id": null, "action": "error", "error": NOT_AN_OBJECT})
    );
    assert_eq!(body["results"][0].get("error"), None);

    let stored = retrieve(&env.client, last).await;
    assert_eq!(stored.phone_number.as_deref(), Some("+18045550127"));
    assert_eq!(stored.email.as_deref(), Some("c@example.com"));
    let metadata = stored.metadata.unwrap();
    assert_eq!(metadata.get("favourite_colour"), Some(&json!("teal")));
    assert_eq!(env.state.lock().len(), 2);
    env.finish();
}

#[tokio::test]
async fn duplicates_within_a_batch_and_across_batches() {
    let env = Env::new().await;
    let first = bulk(
        &env,
        vec![
            lead("+18045550170", "d@example.com"),
            lead("8045550170", "d@example.com"),
            lead("+18045550170", "e@example.com"),
        ],
    )
    .await;
    let id = first[0].id.unwrap();
    assert_eq!(first[0].action.to_string(), "created");
    assert_eq!(
        (first[1].action.to_string(), first[1].id),
        ("reengaged".to_owned(), Some(id))
    );
    assert_eq!(
        first[2].action.to_string(),
        "created",
        "another e-mail is another identity"
    );
    assert_ne!(first[2].id, Some(id));

    let second = bulk(
        &env,
        vec![
            lead("(804) 555-0170", "d@example.com"),
            lead("+18045550171", "d@example.com"),
        ],
    )
    .await;
    assert_eq!(
        (second[0].action.to_string(), second[0].id),
        ("reengaged".to_owned(), Some(id))
    );
    assert_eq!(second[1].action.to_string(), "created");
    let ids = [id, first[2].id.unwrap(), second[1].id.unwrap()];
    assert!(ids[0] < ids[1] && ids[1] < ids[2], "{ids:?}");

    let stored = retrieve(&env.client, id).await;
    assert_eq!(stored.reengagement_count, Some(2));
    assert_eq!(stored.reengagements_count, Some(2));
    assert!(stored.reengagement_time.is_some() && stored.last_reengagement_time.is_some());
    env.finish();
}

#[tokio::test]
async fn empty_batch_answers_no_results() {
    let env = Env::new().await;
    assert!(bulk(&env, vec![]).await.is_empty());
    assert_eq!(env.state.lock().len(), 0);
    env.finish();
}

#[tokio::test]
async fn missing_or_wrong_token_is_401_and_stores_nothing() {
    let env = Env::new().await;
    let anonymous = env.anonymous();
    let refused = anonymous
        .leads_bulk_create_create()
        .body(types::BulkCreateLeadRequestRequest {
            leads: vec![lead("+18045550180", "t@example.com")],
        })
        .send()
        .await
        .unwrap_err();
    match refused {
        api::Error::ErrorResponse(body) => {
            assert_eq!(body.status().as_u16(), 401);
            assert_eq!(
                body.into_inner().detail(),
                Some("Authentication credentials were not provided.")
            );
        }
        other => panic!("expected 401, got {other:?}"),
    }
    for header in [
        "Token wrong-token",
        "Bearer test-token-0123456789",
        "Token",
        "Token a b",
    ] {
        let response = sela_leads::http_client_builder()
            .expect("TLS setup")
            .build()
            .unwrap()
            .get(env.url("/api/leads/"))
            .header(AUTHORIZATION, header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{header}");
        let body: Value = response.json().await.unwrap();
        assert!(body["detail"].is_string(), "{body}");
    }
    let retrieve = anonymous.leads_retrieve().id(1).send().await.unwrap_err();
    assert_eq!(status_of(&retrieve), Some(401));
    assert_eq!(
        env.state.lock().len(),
        0,
        "a refused request stored something"
    );
    // The same lead, authorised, is created.
    let created = bulk(&env, vec![lead("+18045550180", "t@example.com")]).await;
    assert_eq!(created[0].action.to_string(), "created");
    env.finish();
}

#[tokio::test]
async fn malformed_bulk_bodies_are_400_with_json() {
    let env = Env::new().await;
    for (body, field) in [
        (json!({}), "leads"),
        (json!({"leads": "x"}), "leads"),
        (json!({"leads": {"phone_number": "+18045550190"}}), "leads"),
        (json!({"leads": 7}), "leads"),
        (json!({"leads": null}), "leads"),
        (
            json!([{"phone_number": "+18045550190"}]),
            "non_field_errors",
        ),
    ] {
        let (status, answer) = env.post_raw("/api/leads/bulk-create/", &body).await;
        assert_eq!(status, 400, "{body}");
        assert!(answer.get(field).is_some(), "{body} -> {answer}");
    }
    for (content_type, raw) in [
        ("application/json", "{\"leads\": ["),
        ("application/json", "not json"),
        ("application/x-www-form-urlencoded", "leads=1"),
    ] {
        let response = env
            .http
            .post(env.url("/api/leads/bulk-create/"))
            .header(CONTENT_TYPE, content_type)
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{raw}");
        let answer: Value = response.json().await.unwrap();
        assert!(answer["detail"].is_string(), "{answer}");
    }
    assert_eq!(
        env.state.lock().len(),
        0,
        "a malformed request stored something"
    );
    env.finish();
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_like_django_rest_framework() {
    let env = Env::new().await;
    let not_found = env.http.get(env.url("/api/nothing/")).send().await.unwrap();
    assert_eq!(not_found.status().as_u16(), 404);
    let body: Value = not_found.json().await.unwrap();
    assert_eq!(body, json!({"detail": "Not found."}));

    let not_allowed = env
        .http
        .delete(env.url("/api/leads/1/"))
        .send()
        .await
        .unwrap();
    assert_eq!(not_allowed.status().as_u16(), 405);
    let allow = not_allowed
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        allow.contains("GET") && allow.contains("PATCH") && !allow.contains("DELETE"),
        "{allow}"
    );
    let body: Value = not_allowed.json().await.unwrap();
    assert_eq!(body, json!({"detail": "Method \"DELETE\" not allowed."}));

    let get_bulk = env
        .http
        .get(env.url("/api/leads/bulk-create/"))
        .send()
        .await
        .unwrap();
    assert_eq!(get_bulk.status().as_u16(), 405);
    let non_integer = env
        .http
        .get(env.url("/api/leads/abc/"))
        .send()
        .await
        .unwrap();
    assert_eq!(non_integer.status().as_u16(), 404);
    env.finish();
}
