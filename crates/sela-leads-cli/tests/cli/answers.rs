//! Server answers that cannot be matched one-to-one: the other rows keep their outcomes.

use super::*;

#[test]
fn a_malformed_result_keeps_the_other_rows_ids() {
    let server = httpmock::MockServer::start();
    answer_bulk(
        &server,
        None,
        serde_json::json!([
            {"id": 1, "action": "created", "error": null},
            {"id": 2, "action": "merged", "error": null},
            {"id": 3, "action": "reengaged", "error": null},
        ]),
    );
    let (dir, input) = input_file("malformed", "leads.csv", distinct_rows(3));
    let result = import(&input, &server.base_url(), &[], Some("t-malformed"));
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    let rows = outcomes(&dir.join("leads.outcomes.csv"));
    let got = columns(&rows, [2, 3]);
    assert_eq!(got, [["created", "1"], ["unknown", ""], ["reengaged", "3"]]);
    assert!(rows[1][4].contains("merged"), "{:?}", rows[1]);
}

#[test]
fn a_created_id_answered_twice_leaves_those_rows_unknown() {
    let server = httpmock::MockServer::start();
    let mock = answer_bulk(
        &server,
        None,
        serde_json::json!([
            {"id": 5, "action": "created", "error": null},
            {"id": 6, "action": "created", "error": null},
            {"id": 5, "action": "created", "error": null},
            {"id": 6, "action": "reengaged", "error": null},
        ]),
    );
    let (dir, input) = input_file("duplicate-id", "leads.csv", distinct_rows(4));
    let result = import(&input, &server.base_url(), &[], Some("t-duplicate"));
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    let rows = outcomes(&dir.join("leads.outcomes.csv"));
    let got = columns(&rows, [2, 3]);
    assert_eq!(
        got,
        [
            ["unknown", ""],
            ["created", "6"],
            ["unknown", ""],
            ["reengaged", "6"]
        ]
    );
    assert!(rows[0][4].contains("id 5"), "{:?}", rows[0]);
    // Unknown rows are never resent by a plain resume.
    let again = import(
        &input,
        &server.base_url(),
        &["--resume"],
        Some("t-duplicate"),
    );
    assert_eq!(again.status.code(), Some(1), "{}", text(&again.stderr));
    mock.assert_calls(1);
}
