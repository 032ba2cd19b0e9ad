//! L1: listings that skip or repeat leads, or whose count disagrees with the
//! pages, fail L1 alone; newest-first order and a capped page size pass.

use crate::common::{assert_only, assert_passes, authorised, clause, run_with, sandbox_answer};
use crate::kit::{Paging, base_of, is_list, list_page};

fn run_listing(paging: Paging) -> sela_contract::Report {
    run_with(8, move |state, req| {
        if is_list(req) && authorised(req) {
            return list_page(state, req, &base_of(req), paging);
        }
        sandbox_answer(state, req).into()
    })
}

// Pins: checker/operations/listing.rs `check_listing` (its L1 `walk` failure)
#[test]
fn l1_off_by_one_page_offset_is_caught() {
    let r = run_listing(Paging {
        off_by_one: true,
        ..Paging::default()
    });
    assert_only(
        &r,
        &[clause("L1")],
        "only pages after the first start one lead early",
    );
}

// Pins: checker/operations/listing.rs `check_listing` (its L1 `walk` failure)
#[test]
fn l1_count_one_too_many_is_caught() {
    let r = run_listing(Paging {
        count_extra: 1,
        ..Paging::default()
    });
    assert_only(
        &r,
        &[clause("L1")],
        "only the count disagrees with the pages",
    );
}

// Pins: operations/listing.rs `check_listing` (a correct paginator: no false
// L1)
#[test]
fn our_paginator_with_nothing_wrong_passes() {
    // The fault tests above differ from this one in their fault only.
    assert_passes(&run_listing(Paging::default()));
}

// Pins: operations/listing.rs `check_listing` (the listing's order is not
// asserted)
#[test]
fn newest_first_listing_passes() {
    assert_passes(&run_listing(Paging {
        newest_first: true,
        ..Paging::default()
    }));
}

// Pins: operations/listing.rs `check_listing` (a page size capped below the
// one asked for is followed by its next links)
#[test]
fn a_capped_page_size_passes() {
    assert_passes(&run_listing(Paging {
        cap: Some(25),
        ..Paging::default()
    }));
}

// Pins: sequences/groups.rs `count_pages` and operations/record.rs (the list
// pages of concurrent groups judged only partly are counted and reported)
#[test]
fn group_list_pages_of_a_capped_list_are_reported_judged_partly() {
    // Pages of 2 leads at most: a group's list page (and the list read before
    // the group) is a part of the list, judged on its count and on the leads
    // it must not show only, and the report says how many were.
    let r = run_listing(Paging {
        cap: Some(2),
        ..Paging::default()
    });
    assert_passes(&r);
    let partly = r
        .observations
        .iter()
        .find(|o| o.contains("list page(s) of concurrent groups (S5) were judged only partly"))
        .unwrap_or_else(|| panic!("no partly judged list page reported:\n{r}"));
    let n: u32 = partly
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    // The groups property's canonical list group runs in each of its cases.
    assert!(n >= 2, "{partly}");
}

// Pins: checker/operations/listing.rs `check_listing` (its L1 `walk` failure)
#[test]
fn l1_a_count_of_the_page_only_is_caught() {
    // `count` is the number of leads on the page, not in the account: with
    // `page_size=1` it is 1 while `next` goes on over every lead of the run.
    // S2 and C1 read their growth from the same count, so they fail too.
    let r = run_with(8, |state, req| {
        let mut reply = sandbox_answer(state, req);
        if is_list(req)
            && let Some(n) = reply.body["results"].as_array().map(Vec::len)
        {
            reply.body["count"] = serde_json::json!(n);
        }
        reply.into()
    });
    assert_only(
        &r,
        &[clause("S2"), clause("C1"), clause("L1")],
        "S2 and C1: their count growth is read from the same broken count",
    );
}
