//! The report as JUnit XML (`--junit`), written by the `quick-junit` crate (the
//! serializer cargo-nextest uses), so that CI test reporters show which clause
//! failed. One `<testsuite>` per run, named for the target's host, with the
//! seed and the contract's address as properties; one `<testcase>` per
//! clause, named by id and title, with its one-line meaning and link as
//! properties; a second suite for the
//! stored failures replayed first, when there were any.

use std::path::Path;

use quick_junit::{NonSuccessKind, Property, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use url::Url;

use crate::clauses::{CONTRACT_URL, Clause};
use crate::report::Report;
use crate::stored_failure::{ReplayOutcome, also_text, summary};
use crate::target::HarnessError;

/// `host[:port]` of a base URL, naming the suite.
fn host(base_url: &str) -> String {
    Url::parse(base_url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                u.port()
                    .map_or_else(|| h.to_owned(), |p| format!("{h}:{p}"))
            })
        })
        .unwrap_or_else(|| base_url.to_owned())
}

/// The JUnit document of a run that could not run at all (exit 2): one
/// `<error>` test case saying why, so that a CI reporter shows it.
pub fn error_junit(base_url: &str, error: &HarnessError) -> Junit {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status
        .set_message(error.to_string())
        .set_type("harness error");
    let mut case = TestCase::new("the harness could not run", status);
    case.set_classname("contract");
    let mut suite = TestSuite::new(format!("contract {}", host(base_url)));
    suite.add_property(Property::new("base_url", base_url.to_owned()));
    suite.add_test_case(case);
    let mut junit = Junit::new("sela-leads contract");
    junit.add_test_suite(suite);
    junit
}

/// The JUnit document of a run.
pub fn to_junit(report: &Report) -> Junit {
    let host = host(&report.base_url);
    let mut suite = TestSuite::new(format!("contract {host}"));
    suite.set_time(report.elapsed);
    suite.add_property(Property::new("seed", report.seed.to_string()));
    suite.add_property(Property::new("base_url", report.base_url.clone()));
    suite.add_property(Property::new("requests", report.requests.to_string()));
    suite.add_property(Property::new("cases_run", report.cases_run.to_string()));
    suite.add_property(Property::new("contract", CONTRACT_URL));
    for c in &report.clauses {
        let status = if let Some(fail) = &c.failure {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message(c.clause.meaning())
                .set_type(c.clause.id())
                .set_description(format!(
                    "the clause in full: {}\n{}",
                    c.clause.link(),
                    fail.evidence()
                ));
            st
        } else if c.failed_cases > 0 {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message(c.clause.meaning()).set_type(c.clause.id());
            st
        } else if c.cases == 0 {
            let mut st = TestCaseStatus::skipped();
            st.set_message(format!("not checked: {}", report.not_checked_reason()));
            st
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(format!("{} {}", c.clause.id(), c.clause.title()), status);
        case.set_classname("contract")
            .set_time(c.time)
            .set_assertions(c.cases as usize);
        case.add_property(Property::new("meaning", c.clause.meaning()));
        case.add_property(Property::new("link", c.clause.link()));
        case.add_property(Property::new("cases", c.cases.to_string()));
        case.add_property(Property::new("failed_cases", c.failed_cases.to_string()));
        suite.add_test_case(case);
    }
    let mut junit = Junit::new("sela-leads contract");
    junit.set_time(report.elapsed);
    junit.add_test_suite(suite);
    if !report.replayed.is_empty() {
        let mut replays = TestSuite::new(format!("contract {host}: {}", summary(&report.replayed)));
        for r in &report.replayed {
            let also = also_text(&r.also_failed);
            let status = match &r.outcome {
                ReplayOutcome::Passed if r.also_failed.is_empty() => TestCaseStatus::success(),
                ReplayOutcome::Passed => {
                    // The stored clause held, but the case broke others: a
                    // failure of the replay all the same.
                    let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    st.set_message(format!("stored clause held now{also}"))
                        .set_type(r.stored.clause.clone());
                    st
                }
                ReplayOutcome::StillFails => {
                    let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    st.set_message(format!(
                        "stored failure still fails: {}{also}",
                        r.stored.detail
                    ))
                    .set_type(r.stored.clause.clone());
                    if let Some(fail) = &r.failure {
                        st.set_description(fail.evidence());
                    }
                    st
                }
                ReplayOutcome::NotReplayed(why) => {
                    let mut st = TestCaseStatus::skipped();
                    st.set_message(why.clone());
                    st
                }
            };
            let mut case = TestCase::new(
                format!(
                    "replay {} {} case {}",
                    r.stored.clause, r.stored.origin.property, r.stored.origin.case_seed
                ),
                status,
            );
            case.set_classname("contract.replay");
            if let Some(clause) = Clause::from_id(&r.stored.clause) {
                case.add_property(Property::new("meaning", clause.meaning()));
                case.add_property(Property::new("link", clause.link()));
            }
            replays.add_test_case(case);
        }
        junit.add_test_suite(replays);
    }
    junit
}

/// Writes [`to_junit`] to `path`.
pub fn write(report: &Report, path: &Path) -> std::io::Result<()> {
    let text = to_junit(report)
        .to_string()
        .map_err(std::io::Error::other)?;
    std::fs::write(path, text)
}
