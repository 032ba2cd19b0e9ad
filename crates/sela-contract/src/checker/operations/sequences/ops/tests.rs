//! The model's steps for PUT and the list page (S5): a PUT that undoes a
//! flag set alongside, a list page of one point of the order, a part of the
//! list, the other account's page.

use super::*;
use crate::checker::operations::sequences::linear::{Unexplained, explain};
use serde_json::json;

fn lead(source: &str, dnc: bool) -> Value {
    json!({"id": 7, "lead_source": source, "us_state": "NY", "metadata": {},
           "call_dnc": dnc, "sms_dnc": false, "reengagement_count": 0})
}

fn ok(body: Value) -> Answer {
    Answer {
        status: Some(200),
        body: Some(body),
    }
}

fn init() -> GroupState {
    GroupState::before(LeadState::of(&lead("a", false)))
}

fn put() -> Op {
    Op::Put {
        sets: vec![("lead_source", json!("p"))],
    }
}

fn dnc() -> Op {
    Op::Patch {
        field: "call_dnc",
        value: json!(true),
    }
}

#[test]
fn a_put_that_undoes_a_flag_set_alongside_is_no_order_unless_puts_reset_flags() {
    // The PUT answers the flag unset, the PATCH answers it set without
    // the PUT's source, and the flag reads unset after: the PUT saved
    // the lead as it read it before the PATCH.
    let ops = vec![(put(), ok(lead("p", false))), (dnc(), ok(lead("a", true)))];
    let after = LeadState::of(&lead("p", false));
    let keep = Context::of(7);
    let got = explain(&init(), &ops, &[], &keep, |s| s.lead == after);
    assert!(matches!(got, Err(Unexplained::Answers { .. })), "{got:?}");
    // On a target whose PUT resets the flags it is not sent: the flag's
    // PATCH, then the PUT.
    let resets = Context {
        put_resets: true,
        ..keep
    };
    assert_eq!(
        explain(&init(), &ops, &[], &resets, |s| s.lead == after),
        Ok(vec![1, 0])
    );
}

#[test]
fn a_put_and_a_flag_that_both_take_effect_are_explained() {
    let ops = vec![(put(), ok(lead("p", true))), (dnc(), ok(lead("a", true)))];
    let after = LeadState::of(&lead("p", true));
    let got = explain(&init(), &ops, &[], &Context::of(7), |s| s.lead == after);
    assert_eq!(got, Ok(vec![1, 0]));
    // The PUT's answer names another lead.
    let mut other = lead("p", true);
    other["id"] = json!(8);
    let ops = vec![(put(), ok(other))];
    assert!(explain(&init(), &ops, &[], &Context::of(7), |_| true).is_err());
}

fn page(count: u64, ids: &[i64]) -> Answer {
    let results: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
    ok(json!({"count": count, "next": null, "results": results}))
}

fn listing() -> Context {
    Context {
        listed: Some(Listed {
            ids: vec![3, 7],
            count: 2,
            whole: true,
        }),
        fresh: vec![10],
        ..Context::of(7)
    }
}

#[test]
fn a_list_page_is_the_account_at_one_point_of_the_order() {
    let created = ok(json!({"id": 10, "phone_number": "+12125550100"}));
    let list = Op::List { judged: true };
    let ctx = listing();
    let one = |answer: Answer| {
        let ops = vec![(Op::CreateFresh, created.clone()), (list.clone(), answer)];
        explain(&init(), &ops, &[], &ctx, |s| s.created == 1)
    };
    // Before the create, or after it.
    assert_eq!(one(page(2, &[3, 7])), Ok(vec![1, 0]));
    assert_eq!(one(page(3, &[3, 7, 10])), Ok(vec![0, 1]));
    // Counted after the create, its results from before it: no point.
    assert!(one(page(3, &[3, 7])).is_err());
    // A lead the account does not hold, or one of its leads missing.
    assert!(one(page(3, &[3, 7, 11])).is_err());
    assert!(one(page(2, &[7, 10])).is_err());
    // Not judged (not one whole page): any answer of 200.
    let ops = vec![
        (Op::CreateFresh, created.clone()),
        (Op::List { judged: false }, page(3, &[3])),
    ];
    assert!(explain(&init(), &ops, &[], &ctx, |_| true).is_ok());
}

#[test]
fn a_part_of_the_list_is_judged_on_its_count_and_what_it_must_not_show() {
    let part = |count: u64, ids: &[i64]| {
        let results: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
        ok(json!({"count": count, "next": "http://x/api/leads/?page=2", "results": results}))
    };
    let ctx = Context {
        listed: Some(Listed {
            ids: vec![7, 3],
            count: 900,
            whole: false,
        }),
        fresh: vec![10],
        theirs: vec![20],
        ..Context::of(7)
    };
    let created = ok(json!({"id": 10, "phone_number": "+12125550100"}));
    let one = |answer: Answer| {
        let ops = vec![
            (Op::CreateFresh, created.clone()),
            (Op::List { judged: true }, answer),
        ];
        explain(&init(), &ops, &[], &ctx, |s| s.created == 1)
    };
    // Which leads a part shows is not asserted; its count is.
    assert!(one(part(901, &[5, 6])).is_ok());
    assert!(one(part(902, &[5, 6])).is_err());
    // The new lead listed: the create came first, and the count says so.
    assert!(one(part(901, &[10, 7])).is_ok());
    assert!(one(part(900, &[10, 7])).is_err());
    // The other account's lead: never.
    assert!(one(part(901, &[20, 7])).is_err());
}

#[test]
fn a_list_shows_the_lead_as_it_stands_and_the_other_account_never_lists_it() {
    let list = Op::List { judged: true };
    let stale = ok(json!({"count": 2, "next": null,
        "results": [{"id": 3}, {"id": 7, "lead_source": "a"}]}));
    let ops = vec![(put(), ok(lead("p", false))), (list, stale)];
    // The list shows the source before the PUT: it is ordered first.
    assert_eq!(
        explain(&init(), &ops, &[], &listing(), |_| true),
        Ok(vec![1, 0])
    );
    // After the PUT in real time, it cannot show the old source.
    let got = explain(&init(), &ops, &[vec![], vec![0]], &listing(), |_| true);
    assert!(got.is_err(), "{got:?}");
    let ops = vec![(Op::OtherList, page(1, &[5]))];
    assert!(explain(&init(), &ops, &[], &listing(), |_| true).is_ok());
    let ops = vec![(Op::OtherList, page(2, &[5, 7]))];
    assert!(explain(&init(), &ops, &[], &listing(), |_| true).is_err());
}

#[test]
fn a_list_page_is_judged_whole_only_when_it_and_the_list_before_are_whole() {
    let list = Op::List { judged: true };
    let next = |count: u64| ok(json!({"count": count, "next": "http://x/?page=2", "results": []}));
    let whole = listing();
    let part = Context {
        listed: Some(Listed {
            ids: vec![7],
            count: 2,
            whole: false,
        }),
        ..listing()
    };
    let judged = |op: &Op, answer: &Answer, ctx: &Context| page_judged(op, answer, ctx);
    assert_eq!(
        judged(&list, &page(2, &[3, 7]), &whole),
        Some(PageJudged::Whole)
    );
    // A refusal is no order's answer, whatever the list.
    let refused = Answer {
        status: Some(503),
        body: None,
    };
    assert_eq!(judged(&list, &refused, &part), Some(PageJudged::Whole));
    assert_eq!(
        judged(&Op::List { judged: false }, &refused, &Context::of(7)),
        Some(PageJudged::Whole)
    );
    // The page, or the list before, a part of the list.
    assert_eq!(judged(&list, &next(2), &whole), Some(PageJudged::Partly));
    assert_eq!(
        judged(&list, &page(2, &[3, 7]), &part),
        Some(PageJudged::Partly)
    );
    // Reads lag, no list before, or no answer.
    let lagging = Op::List { judged: false };
    assert_eq!(
        judged(&lagging, &page(2, &[3, 7]), &whole),
        Some(PageJudged::Not)
    );
    assert_eq!(
        judged(&list, &page(2, &[3, 7]), &Context::of(7)),
        Some(PageJudged::Not)
    );
    let unanswered = Answer {
        status: None,
        body: None,
    };
    assert_eq!(judged(&list, &unanswered, &whole), Some(PageJudged::Not));
    // Not a page of this account.
    assert_eq!(judged(&Op::OtherList, &page(1, &[5]), &whole), None);
}
