//! S5's oracle: a concurrent group's answers and the state read after it are
//! explained when some one-at-a-time order of the group's requests gives each
//! request the answer it got and ends in the state read (Wing & Gong's
//! search: the orders are tried one request at a time, a branch dropped at
//! the first answer its state cannot give; a group has at most 6 requests,
//! so the search is exact). Where the contract leaves a choice (a re-send
//! re-engaged or refused) each allowed outcome is followed; a request with
//! no answer may or may not have taken effect.
//!
//! The model is the part of the account a group can touch: one lead of the
//! sequence (the fields the group writes, its do-not-contact flags and its
//! re-engagement counter), one new identity the group may create, and what
//! the other account created.

use super::ops::{Answer, Context, Op, step};
use super::state::GroupState;

/// Why no order explains a group.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Unexplained {
    /// Some orders explain every answer; none ends in the state read after.
    State { ends: Vec<GroupState> },
    /// No order explains every answer: the order that went furthest, and why
    /// its next request could not be placed.
    Answers {
        placed: Vec<usize>,
        next: usize,
        why: String,
    },
}

/// The search: an order of `ops` (indices) that gives each its answer and
/// whose end state `fits`, or why there is none. `after[i]` lists the
/// requests that must come before request `i` (answered before it was sent:
/// real-time order); requests that overlapped may come in any order.
pub(super) fn explain(
    init: &GroupState,
    ops: &[(Op, Answer)],
    after: &[Vec<usize>],
    ctx: &Context,
    fits: impl Fn(&GroupState) -> bool,
) -> Result<Vec<usize>, Unexplained> {
    let mut search = Search {
        ops,
        after,
        ctx,
        ends: Vec::new(),
        best: (Vec::new(), 0, String::new()),
    };
    let mut order = Vec::with_capacity(ops.len());
    if let Some(found) = search.go(init, &mut order, &fits) {
        return Ok(found);
    }
    if search.ends.is_empty() {
        let (placed, next, mut why) = search.best;
        if why.is_empty() {
            why = "no order keeps the real-time order of the requests".to_owned();
        }
        Err(Unexplained::Answers { placed, next, why })
    } else {
        Err(Unexplained::State { ends: search.ends })
    }
}

struct Search<'a> {
    ops: &'a [(Op, Answer)],
    after: &'a [Vec<usize>],
    ctx: &'a Context,
    /// End states of the orders that explain every answer (deduplicated).
    ends: Vec<GroupState>,
    /// The longest placed prefix, the request that could not follow and why.
    best: (Vec<usize>, usize, String),
}

impl Search<'_> {
    fn go(
        &mut self,
        s: &GroupState,
        order: &mut Vec<usize>,
        fits: &impl Fn(&GroupState) -> bool,
    ) -> Option<Vec<usize>> {
        if order.len() == self.ops.len() {
            if fits(s) {
                return Some(order.clone());
            }
            if !self.ends.contains(s) {
                self.ends.push(s.clone());
            }
            return None;
        }
        for i in 0..self.ops.len() {
            let waits = self
                .after
                .get(i)
                .is_some_and(|a| a.iter().any(|j| !order.contains(j)));
            if order.contains(&i) || waits {
                continue;
            }
            let (op, answer) = &self.ops[i];
            match step(s, op, answer, self.ctx) {
                Ok(nexts) => {
                    order.push(i);
                    for next in nexts {
                        if let Some(found) = self.go(&next, order, fits) {
                            return Some(found);
                        }
                    }
                    order.pop();
                }
                Err(why) => {
                    if self.best.2.is_empty() || order.len() > self.best.0.len() {
                        self.best = (order.clone(), i, why);
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::operations::sequences::state::LeadState;
    use serde_json::{Value, json};

    fn lead(source: &str, state: &str, dnc: bool, count: i64) -> Value {
        json!({"id": 7, "lead_source": source, "us_state": state, "metadata": {},
               "call_dnc": dnc, "sms_dnc": false, "reengagement_count": count})
    }

    fn ok(body: Value) -> Answer {
        Answer {
            status: Some(200),
            body: Some(body),
        }
    }

    fn init() -> GroupState {
        GroupState::before(LeadState::of(&lead("a", "NY", false, 0)))
    }

    fn patch(field: &'static str, value: &str) -> Op {
        Op::Patch {
            field,
            value: json!(value),
        }
    }

    #[test]
    fn two_patches_of_different_fields_must_both_take_effect() {
        // Each answer shows its own change only: PATCH source first, then
        // PATCH state on top of it cannot answer "source a"; the other way
        // round neither. A lost update.
        let ops = vec![
            (patch("lead_source", "b"), ok(lead("b", "NY", false, 0))),
            (patch("us_state", "TX"), ok(lead("a", "TX", false, 0))),
        ];
        let got = explain(&init(), &ops, &[], &Context::of(7), |_| true);
        assert!(matches!(got, Err(Unexplained::Answers { .. })), "{got:?}");
        // A correct server: the second answer shows both changes.
        let ops = vec![
            (patch("lead_source", "b"), ok(lead("b", "NY", false, 0))),
            (patch("us_state", "TX"), ok(lead("b", "TX", false, 0))),
        ];
        let end = LeadState::of(&lead("b", "TX", false, 0));
        assert_eq!(
            explain(&init(), &ops, &[], &Context::of(7), |s| s.lead == end),
            Ok(vec![0, 1])
        );
    }

    #[test]
    fn concurrent_re_engagements_each_count() {
        let bulk = |id| ok(json!({"results": [{"action": "reengaged", "id": id, "error": null}]}));
        let ops = vec![
            (Op::Resend { single: false }, bulk(7)),
            (Op::Resend { single: false }, bulk(7)),
        ];
        let read_after = LeadState::of(&lead("a", "NY", false, 1));
        let got = explain(&init(), &ops, &[], &Context::of(7), |s| {
            s.lead == read_after
        });
        let Err(Unexplained::State { ends }) = got else {
            panic!("{got:?}")
        };
        assert_eq!(ends.len(), 1);
        assert_eq!(ends[0].lead.counter, Some(2));
        let two = LeadState::of(&lead("a", "NY", false, 2));
        assert!(explain(&init(), &ops, &[], &Context::of(7), |s| s.lead == two).is_ok());
    }

    #[test]
    fn a_flag_set_during_a_re_engagement_stays_set() {
        let ops = vec![
            (patch("call_dnc", "true"), ok(lead("a", "NY", true, 1))),
            (Op::Resend { single: true }, ok(lead("a", "NY", false, 1))),
        ];
        // The re-send answered before the flag (its body has no flag, count
        // 1), then the flag: the end state has both.
        let lost = LeadState::of(&lead("a", "NY", false, 1));
        assert!(explain(&init(), &ops, &[], &Context::of(7), |s| s.lead == lost).is_err());
        let kept = LeadState::of(&lead("a", "NY", true, 1));
        assert_eq!(
            explain(&init(), &ops, &[], &Context::of(7), |s| s.lead == kept),
            Ok(vec![1, 0])
        );
    }

    #[test]
    fn one_identity_created_twice_by_racing_creates_is_no_order() {
        let created = |id| ok(json!({"id": id, "phone_number": "+12125550100"}));
        let ops = vec![
            (Op::CreateFresh, created(10)),
            (Op::CreateFresh, created(11)),
        ];
        assert!(explain(&init(), &ops, &[], &Context::of(7), |_| true).is_err());
        let ops = vec![
            (Op::CreateFresh, created(10)),
            (Op::CreateFresh, created(10)),
        ];
        let once = explain(&init(), &ops, &[], &Context::of(7), |s| s.created == 1);
        assert!(once.is_ok(), "{once:?}");
    }

    #[test]
    fn a_request_answered_before_another_was_sent_comes_first() {
        // PATCH b answered before PATCH c was sent: only the order 0, 1.
        let ops = vec![
            (patch("lead_source", "b"), ok(lead("b", "NY", false, 0))),
            (patch("lead_source", "c"), ok(lead("c", "NY", false, 0))),
        ];
        let b = LeadState::of(&lead("b", "NY", false, 0));
        assert!(explain(&init(), &ops, &[], &Context::of(7), |s| s.lead == b).is_ok());
        assert!(
            explain(&init(), &ops, &[vec![], vec![0]], &Context::of(7), |s| s
                .lead
                == b)
            .is_err()
        );
    }

    #[test]
    fn the_other_account_never_reads_the_lead_and_an_unanswered_request_may_count() {
        let ops = vec![(Op::OtherGet, ok(lead("a", "NY", false, 0)))];
        assert!(explain(&init(), &ops, &[], &Context::of(7), |_| true).is_err());
        let lost = Answer {
            status: None,
            body: None,
        };
        let ops = vec![(patch("lead_source", "z"), lost)];
        let z = LeadState::of(&lead("z", "NY", false, 0));
        assert!(explain(&init(), &ops, &[], &Context::of(7), |s| s.lead == z).is_ok());
        assert!(
            explain(&init(), &ops, &[], &Context::of(7), |s| s.lead
                == init().lead)
            .is_ok()
        );
    }
}
