//! Every report names each clause with its one-line meaning and where to read
//! the rest: the text table, JUnit and JSON take them from one place
//! (`sela_contract::clauses`), and each link's anchor is a heading of the
//! crate's `CONTRACT.md`, so a renamed heading fails here.

use std::collections::BTreeSet;
use std::time::Duration;

use sela_contract::clauses::{CONTRACT_URL, anchor_of};
use sela_contract::report::Shrink;
use sela_contract::{Clause, ClauseResult, Failure, Report, json, junit};
use serde_json::Value;

const CONTRACT: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/CONTRACT.md"));

/// The anchors of `CONTRACT.md`'s clause headings (`### B3 ...`).
fn heading_anchors() -> BTreeSet<String> {
    CONTRACT
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(anchor_of)
        .collect()
}

/// A report in which every clause was checked and `failing` failed.
fn report(failing: Clause) -> Report {
    let clauses = Clause::ALL
        .iter()
        .map(|&clause| ClauseResult {
            clause,
            cases: 3,
            failed_cases: u32::from(clause == failing),
            failure: (clause == failing).then(|| Failure {
                clause,
                detail: "result 0 names the wrong lead".into(),
                batch: vec![("valid (plain)".into(), serde_json::json!({"a": 1}))],
                exchanges: Vec::new(),
                shrink: Shrink::default(),
                state_note: None,
                site: String::new(),
            }),
            time: Duration::from_millis(5),
            origin: None,
        })
        .collect();
    Report {
        base_url: "http://127.0.0.1:9/".into(),
        seed: 7,
        clauses,
        observations: Vec::new(),
        created: 0,
        requests: 0,
        cases_run: 3,
        throttled: 0,
        notices: Vec::new(),
        elapsed: Duration::from_millis(10),
        replayed: Vec::new(),
        time_budget: None,
    }
}

#[test]
fn every_clause_links_to_a_heading_of_contract_md() {
    let anchors = heading_anchors();
    for c in Clause::ALL {
        assert!(
            anchors.contains(&c.anchor()),
            "CONTRACT.md has no heading `### {} {}` (anchor #{}); headings: {anchors:?}",
            c.id(),
            c.title(),
            c.anchor()
        );
        assert_eq!(c.link(), format!("{CONTRACT_URL}#{}", c.anchor()));
    }
    // Every clause heading of CONTRACT.md is a clause the harness reports.
    for heading in CONTRACT.lines().filter_map(|l| l.strip_prefix("### ")) {
        let id = heading.split(' ').next().unwrap_or_default();
        assert!(
            Clause::from_id(id).is_some(),
            "`### {heading}` is no clause"
        );
    }
}

#[test]
fn json_gives_each_clause_its_meaning_and_link() {
    let doc: Value = serde_json::from_str(&json::to_json(&report(Clause::B3))).unwrap();
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["contract_url"], CONTRACT_URL);
    let entries = doc["clauses"].as_array().unwrap();
    assert_eq!(entries.len(), Clause::ALL.len());
    for (entry, c) in entries.iter().zip(Clause::ALL) {
        assert_eq!(entry["clause"], c.id(), "{entry}");
        assert_eq!(entry["title"], c.title(), "{entry}");
        assert_eq!(entry["meaning"], c.meaning(), "{entry}");
        assert_eq!(entry["link"], c.link(), "{entry}");
        // The fields of format_version 1 are all still there.
        for field in ["cases", "failed_cases", "time_secs", "failure", "origin"] {
            assert!(entry.get(field).is_some(), "{field} missing: {entry}");
        }
    }
    assert_eq!(doc["failed"], serde_json::json!(["B3"]));
}

#[test]
fn junit_gives_each_clause_its_meaning_and_link() {
    let xml = junit::to_junit(&report(Clause::U2)).to_string().unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit parses");
    let suite = &parsed.test_suites[0];
    assert_eq!(suite.test_cases.len(), Clause::ALL.len());
    let property = |case: &quick_junit::TestCase, name: &str| -> String {
        case.properties
            .iter()
            .find(|p| p.name.as_str() == name)
            .map(|p| p.value.as_str().to_owned())
            .unwrap_or_else(|| panic!("no property {name} in {}", case.name.as_str()))
    };
    for (case, c) in suite.test_cases.iter().zip(Clause::ALL) {
        assert_eq!(case.name.as_str(), format!("{} {}", c.id(), c.title()));
        assert_eq!(property(case, "meaning"), c.meaning());
        assert_eq!(property(case, "link"), c.link());
    }
    let u2 = &suite.test_cases[Clause::ALL.iter().position(|c| *c == Clause::U2).unwrap()];
    let quick_junit::TestCaseStatus::NonSuccess {
        message,
        description,
        ..
    } = &u2.status
    else {
        panic!("U2 failed: {xml}")
    };
    assert_eq!(
        message.as_ref().map(|m| m.as_str()),
        Some(Clause::U2.meaning())
    );
    assert!(
        description
            .as_ref()
            .is_some_and(|d| d.as_str().contains(&Clause::U2.link())),
        "{xml}"
    );
}

#[test]
fn the_text_report_gives_each_clause_its_meaning_and_the_failure_its_link() {
    let text = report(Clause::A2).to_string();
    for c in Clause::ALL {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("{} ", c.id())))
            .unwrap_or_else(|| panic!("no row for {c}:\n{text}"));
        assert!(row.ends_with(c.meaning()), "{row}");
    }
    assert!(text.contains(CONTRACT_URL), "{text}");
    assert!(
        text.contains(&format!("the clause in full: {}", Clause::A2.link())),
        "{text}"
    );
}
