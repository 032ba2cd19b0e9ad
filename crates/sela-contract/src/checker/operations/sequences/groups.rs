//! The executor of a concurrent group (S5): its requests sent together, the
//! lead (and the list count) read after it, and the search of
//! [`linear`](super::linear) for an order that explains every answer and the
//! state read. A state that no order explains is read again within the
//! settle window before S5 fails.
//!
//! A PUT does not send the do-not-contact flags, and what it does to them is
//! the target's choice (U2 asserts only which lead it changes): the model
//! first takes it to keep them, as a PUT that is a partial update does. When
//! a group is explained only if its PUT reset a flag, the target is asked,
//! once per case: its lead's flags set, then a PUT alone ([`Harness::put_keeps_flags`]).
//! A target whose PUT alone keeps them lost the flag to the race (S5); one
//! that resets them is followed from then on.

use std::cell::Cell;

use proptest::prelude::*;
use serde_json::json;

use super::account::Account;
use super::group_report::describe_failure;
use super::group_requests::alone;
use super::linear::explain;
use super::model::{Field, GroupOp};
use super::ops::{Answer, Context, Op, PageJudged, page_judged};
use super::state::{GroupState, LeadState};
use crate::checker::Harness;
use crate::checker::case::CaseOutcome;
use crate::checker::count::Listing;
use crate::checker::operations::reads::lead_of;
use crate::checker::operations::walk::Walk;
use crate::checker::operations::{lead_path, shortened};
use crate::checker::together::Timing;
use crate::checker::waves::Sides;
use crate::report::Clause;
use crate::target::{Auth, Exchange};

/// The groups every case of the groups property runs first, one per fault
/// class of CONTRACT.md's S5 (a lost PATCH update, a lost re-engagement
/// increment, a re-engagement undoing a do-not-contact flag, one identity
/// created twice by racing creates, the other account's request acting in
/// this one; then a PUT that undoes a flag set alongside it, a list page
/// that disagrees with itself about a create alongside it), then the random
/// ones.
fn canonical() -> Vec<Vec<GroupOp>> {
    use super::model::Flag;
    vec![
        vec![
            GroupOp::Patch {
                field: Field::Source,
                n: 1,
            },
            GroupOp::Patch {
                field: Field::State,
                n: 1,
            },
            GroupOp::Patch {
                field: Field::Metadata,
                n: 1,
            },
        ],
        vec![
            GroupOp::Resend { single: false },
            GroupOp::Resend { single: true },
        ],
        vec![
            GroupOp::Dnc { flag: Flag::Call },
            GroupOp::Resend { single: false },
        ],
        vec![
            GroupOp::CreateFresh,
            GroupOp::CreateFresh,
            GroupOp::CreateFresh,
        ],
        vec![
            GroupOp::Patch {
                field: Field::Source,
                n: 2,
            },
            GroupOp::OtherCreate,
            GroupOp::OtherGet,
            GroupOp::Get,
        ],
        // A PUT alongside a flag's PATCH must not undo it (`sms_dnc`: the
        // re-engagement group above sets `call_dnc`, and a flag already set
        // shows no loss).
        vec![GroupOp::Put { n: 1 }, GroupOp::Dnc { flag: Flag::Sms }],
        vec![GroupOp::CreateFresh, GroupOp::List, GroupOp::OtherList],
    ]
}

/// A case of the groups property: the groups run one after another on one
/// new lead (the canonical ones, then 0 to 2 random ones).
pub fn group_cases() -> impl Strategy<Value = Vec<Vec<GroupOp>>> {
    prop::collection::vec(
        prop::collection::vec(super::model::any_group_op(), 2..=super::model::MAX_GROUP),
        0..=2,
    )
    .prop_map(|random| canonical().into_iter().chain(random).collect())
}

impl Harness<'_> {
    /// Property 8: concurrent groups (S5), each case on a lead of its own,
    /// `--cases`/8 cases (at least 2).
    pub(crate) fn run_groups(&mut self) {
        let n = (self.config.cases / 8).max(2);
        self.cases(&group_cases(), n, Sides::AfterFirst, |h, groups| {
            h.run_groups_case(groups)
        });
    }

    /// One case: a new lead, then each group on it until the first failure.
    fn run_groups_case(&mut self, groups: &[Vec<GroupOp>]) -> CaseOutcome {
        let mut w = Walk::default();
        let creates = 1 + groups
            .iter()
            .map(|ops| {
                super::model::Step::Group {
                    slot: 0,
                    ops: ops.clone(),
                }
                .creates()
            })
            .sum::<usize>();
        if !self.reserve(creates + 2) {
            w.out.skipped = true;
            return w.out;
        }
        let mut acc = Account::default();
        let (phone, email) = self.ids.fresh_pair();
        let item = json!({"phone_number": phone, "email": email});
        let Some((id, lead)) = self.create_new(&mut w, &item) else {
            return w.out;
        };
        acc.adopt(&item, id, lead);
        for (i, ops) in groups.iter().enumerate() {
            if self.exhausted() || self.run_group(&mut w, &mut acc, 0, ops).is_none() {
                let shown: Vec<(String, serde_json::Value)> = groups[..=i]
                    .iter()
                    .enumerate()
                    .map(|(g, ops)| (format!("group {}", g + 1), json!(format!("{ops:?}"))))
                    .collect();
                for f in &mut w.out.failures {
                    f.batch.clone_from(&shown);
                }
                break;
            }
        }
        w.out
    }

    /// Runs the group `ops` on lead `slot`; `None` when the sequence cannot
    /// go on (S5 failed, or the lead could not be read). In a lane the list
    /// count is judged over the wave: the group claims the leads created by
    /// the order that explains it; a group that no order explains, or whose
    /// creates went unanswered, leaves the wave's count unjudged.
    pub(super) fn run_group(
        &mut self,
        w: &mut Walk,
        acc: &mut Account,
        slot: usize,
        ops: &[GroupOp],
    ) -> Option<()> {
        let mut created = None;
        let go = self.group(w, acc, slot, ops, &mut created);
        match created {
            Some((n, evidence)) => {
                self.count.claim(n, &evidence);
            }
            None => self.count.stale(),
        }
        go
    }

    /// [`Harness::run_group`]'s work; `created` is set to the leads the
    /// group created and its answers, once an order explains it.
    fn group(
        &mut self,
        w: &mut Walk,
        acc: &mut Account,
        slot: usize,
        ops: &[GroupOp],
        created: &mut Option<(u64, Vec<Exchange>)>,
    ) -> Option<()> {
        let second = self.target.has_second_key();
        let listing = matches!(self.count.listing, Listing::Available(_));
        if self.count.in_lane() {
            let lists = ops.iter().filter(|o| **o == GroupOp::List).count();
            self.ops.obs.lists_in_lanes += u32::try_from(lists).unwrap_or(u32::MAX);
        }
        let ops: Vec<&GroupOp> = ops
            .iter()
            .filter(|o| match o {
                GroupOp::OtherCreate | GroupOp::OtherGet | GroupOp::OtherList => second,
                GroupOp::List => listing,
                _ => true,
            })
            .collect();
        if ops.len() < 2 {
            *created = Some((0, Vec::new()));
            return Some(());
        }
        let id = acc.leads[slot].id;
        // The state before: the lead as it reads now (on a target whose reads
        // lag, read until it shows what the sequence last saw), and the list
        // count.
        let path = lead_path(id);
        // The lead and a count to read again go together (one round trip);
        // not on a target that lags, whose count baseline waits first.
        if !self.waits.lagged()
            && self.count.known().is_none()
            && let Some(count) = self.count.to_read()
        {
            self.net.prefetch(vec![count.to_owned(), path.clone()]);
        }
        let first = self.net.send("GET", &path, Auth::Token, None);
        let seen = LeadState::of(&acc.leads[slot].last);
        let before_ex = if self.waits.lagged() {
            self.settle_read(Clause::S5, &path, Auth::Token, first, |e| {
                lead_of(e).is_some_and(|l| LeadState::of(&l) == seen)
            })
        } else {
            first
        };
        w.log.push(shortened(&before_ex));
        let before = lead_of(&before_ex)?;
        let count_before = match self.count.listing {
            Listing::Available(_) => self.baseline(),
            _ => None,
        };
        let init = GroupState::before(LeadState::of(&before));
        // Room for every lead of the account, and those the group creates.
        let page_size = count_before.unwrap_or(0) + ops.len() as u64 + 1;
        let listed = if ops.iter().any(|o| matches!(o, GroupOp::List)) {
            self.list_before(w, page_size)
        } else {
            None
        };
        let sent = self.group_requests(acc, slot, &ops, page_size);
        let requests = sent.iter().map(|s| s.request.clone()).collect();
        let requests: Vec<_> = requests;
        let together = self.net.send_together(requests.clone());
        self.quota.created += sent
            .iter()
            .filter(|s| matches!(s.op, Op::OtherCreate))
            .count()
            + usize::from(sent.iter().any(|s| s.op == Op::CreateFresh));
        // Any write may change the count: read after the group, or claimed.
        self.count.forget();
        let how = if together.synchronised {
            "their last bytes released at once"
        } else {
            "sent concurrently"
        };
        let group = together.group;
        let mut exchanges = together.exchanges;
        // A request answered 429 was not served: it is sent again (its
        // throttling waited out) once the others are answered, and comes
        // after them in every order. The group counts for S5 only when at
        // least two of it were served while in flight together.
        let throttled: Vec<usize> = (0..exchanges.len())
            .filter(|i| exchanges[*i].status == Some(429))
            .collect();
        let served_together = exchanges.len() - throttled.len() >= 2;
        let after_order = real_time_order(&together.timings, &throttled);
        w.log.extend(exchanges.iter().map(shortened));
        if !throttled.is_empty() {
            let again = throttled.iter().map(|i| requests[*i].clone()).collect();
            for (i, ex) in throttled.iter().zip(self.net.send_all(again)) {
                w.log.push(shortened(&ex));
                exchanges[*i] = ex;
            }
        }
        let history: Vec<(Op, Answer)> = sent
            .iter()
            .zip(&exchanges)
            .map(|(s, ex)| {
                let answer = Answer {
                    status: ex.status.filter(|_| ex.transport_error.is_none()),
                    body: ex.response_value(),
                };
                // A list page is judged against the list read before the
                // group, on a target whose reads do not lag.
                let op = match s.op {
                    Op::List { .. } => Op::List {
                        judged: listed.is_some() && !self.waits.lagged(),
                    },
                    ref op => op.clone(),
                };
                (op, answer)
            })
            .collect();
        let mut ctx = Context::of(id);
        ctx.mine
            .extend(listed.iter().flat_map(|l| l.ids.iter().copied()));
        let ids_of = |wanted: Op| -> Vec<i64> {
            history
                .iter()
                .filter(|(op, _)| *op == wanted)
                .filter_map(|(_, a)| a.body.as_ref()?.get("id")?.as_i64())
                .collect()
        };
        ctx.fresh = ids_of(Op::CreateFresh);
        ctx.theirs = ids_of(Op::OtherCreate);
        ctx.mine.extend(&ctx.fresh);
        ctx.listed = listed;
        ctx.put_resets = acc.put_resets == Some(true);
        let has_put = history.iter().any(|(op, _)| matches!(op, Op::Put { .. }));
        let mut resetting = ctx.clone();
        resetting.put_resets = true;
        // The other account's leads are in its account, whatever ran alongside.
        for (s, ex) in sent.iter().zip(&exchanges) {
            if s.op != Op::OtherCreate {
                continue;
            }
            let Some(theirs) = ex.response_value().and_then(|b| b.get("id")?.as_i64()) else {
                continue;
            };
            // Within the settle window: the other account's reads may lag.
            let path = lead_path(theirs);
            let first = self.net.send("GET", &path, Auth::Second, None);
            let read = self.settle_read(Clause::S5, &path, Auth::Second, first, |e| {
                e.status == Some(200)
            });
            w.log.push(shortened(&read));
            if read.status != Some(200) {
                w.fail(
                    Clause::S5,
                    "group",
                    format!(
                        "the second account's lead {theirs}, created while the first account's \
                         requests were in flight, reads {} with the second account's key: it \
                         was not created in that account",
                        read.status.unwrap_or(0)
                    ),
                );
                self.count_pages(&history, &ctx, false);
                return None;
            }
        }
        // The state after, read within the settle window until some order
        // explains it (`ended`: the leads that order created).
        let ended = Cell::new(None);
        let mut wait = self.waits.start(Clause::S5);
        // A group whose operations already fail alone is not judged: no
        // reason to wait for its state.
        let unjudged = self.fails_alone(&history);
        // The first read of the lead and of the count go together.
        if let (Some(_), Some(count)) = (count_before, self.count.to_read()) {
            self.net.prefetch(vec![lead_path(id), count.to_owned()]);
        }
        let (found, after) = loop {
            let ex = self.call(&mut w.log, "GET", &lead_path(id), Auth::Token, None);
            let Some(lead) = lead_of(&ex) else {
                self.ops.obs.unreadable += 1;
                self.waits.finish(wait, false);
                self.count_pages(&history, &ctx, false);
                return None;
            };
            let grew = count_before.and_then(|b| {
                let (now, ex) = self.refresh_count()?;
                w.log.push(shortened(&ex));
                now.checked_sub(b)
            });
            let read = LeadState::of(&lead);
            let fits = |s: &GroupState| {
                let fits = s.lead == read && grew.is_none_or(|g| g == s.created);
                if fits {
                    ended.set(Some(s.created));
                }
                fits
            };
            let outcome = explain(&init, &history, &after_order, &ctx, fits);
            if outcome.is_ok() || unjudged || !wait.pause() {
                // Explained only if a PUT reset a flag it was not sent: the
                // target's choice, not yet known. Asked only once the state
                // read has had the settle window to show a kept flag.
                let needs_reset = outcome.is_err()
                    && has_put
                    && acc.put_resets.is_none()
                    && explain(&init, &history, &after_order, &resetting, fits).is_ok();
                break ((outcome, needs_reset), (lead, read, grew));
            }
        };
        let ((mut outcome, needs_reset), (mut lead, read, grew)) = (found, after);
        self.waits.finish(wait, outcome.is_ok() || needs_reset);
        let mut asked = None;
        if needs_reset && !unjudged {
            let Some((keeps, now)) = self.put_keeps_flags(w, acc, slot) else {
                self.count_pages(&history, &ctx, false);
                return None;
            };
            acc.put_resets = Some(!keeps);
            lead = now;
            if !keeps {
                outcome = Ok(Vec::new());
            }
            asked = Some(keeps);
        }
        // A group whose operations already fail alone is judged only when some
        // order explains it.
        self.count_pages(&history, &ctx, outcome.is_ok() || !unjudged);
        // A create that got no answer may or may not have created: the
        // count's growth is then unknown.
        let answered = history
            .iter()
            .all(|(op, a)| *op != Op::CreateFresh || a.status.is_some());
        if let (Ok(_), Some(n), true) = (&outcome, ended.get(), answered) {
            *created = Some((n, exchanges.clone()));
        }
        match outcome {
            Ok(_) => {
                if together.overlapped && served_together {
                    w.out.check(Clause::S5);
                } else {
                    self.ops.obs.groups_not_overlapped += 1;
                }
                acc.leads[slot].counter = read.counter;
                acc.leads[slot].last = lead;
                Some(())
            }
            // A difference in what the group's operations already get wrong
            // one at a time is their clauses' (as S4 does for bulk): S5
            // judges concurrency only.
            Err(_) if unjudged => {
                self.ops.obs.groups_unjudged += 1;
                acc.leads[slot].counter = read.counter;
                acc.leads[slot].last = lead;
                Some(())
            }
            Err(why) => {
                // The lead alone explained, the count not: the count is off
                // (the evidence that drops a wave's count failure, see
                // `waves`).
                if grew.is_some()
                    && explain(&init, &history, &after_order, &ctx, |s| s.lead == read).is_ok()
                {
                    self.count.off += 1;
                }
                let mut detail = describe_failure(
                    (group, how),
                    id,
                    &init,
                    &history,
                    &exchanges,
                    (&read, grew),
                    &why,
                );
                if asked == Some(true) {
                    detail.push_str(
                        " (Only a PUT that resets the do-not-contact flags it is not sent \
                         would explain them, and this target's PUT, sent alone after the \
                         flags were set, kept them.)",
                    );
                }
                w.fail(Clause::S5, "group", detail);
                None
            }
        }
    }

    /// Counts the group's list pages the model judged only partly, or not at
    /// all (every one when `judged` is false: the group got no verdict).
    fn count_pages(&mut self, history: &[(Op, Answer)], ctx: &Context, judged: bool) {
        for (op, answer) in history {
            match page_judged(op, answer, ctx) {
                Some(PageJudged::Partly) if judged => self.ops.obs.pages_partly += 1,
                Some(PageJudged::Whole) if judged => {}
                Some(_) => self.ops.obs.pages_unjudged += 1,
                None => {}
            }
        }
    }

    /// True when a clause that the group's operations are judged by one at a
    /// time has failed in the run: the group cannot tell a concurrency
    /// fault from that one.
    fn fails_alone(&self, history: &[(Op, Answer)]) -> bool {
        // The state after is read by GET (G1) and the list count (S2).
        history
            .iter()
            .flat_map(|(op, _)| alone(op))
            .chain(&[Clause::G1, Clause::S2])
            .any(|c| self.tallies.get(c).is_some_and(|t| t.failed_cases > 0))
    }
}

/// For each request of a group, the requests every order puts before it
/// (real-time order): those answered before it was sent. A request answered
/// 429 (`throttled`) was served only when sent again after the others were
/// answered: it comes after every served one, and nothing comes after it for
/// having been sent after its 429 (that would close a cycle with its
/// re-send, and the 429 served nothing).
fn real_time_order(timings: &[Timing], throttled: &[usize]) -> Vec<Vec<usize>> {
    let served = |j: &usize| !throttled.contains(j);
    (0..timings.len())
        .map(|i| {
            if throttled.contains(&i) {
                return (0..timings.len()).filter(served).collect();
            }
            (0..timings.len())
                .filter(served)
                .filter(|j| {
                    matches!((timings[*j].answered, timings[i].sent), (Some(a), Some(s)) if a < s)
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn a_request_throttled_comes_after_the_served_ones_and_closes_no_cycle() {
        use std::time::{Duration, Instant};
        let t0 = Instant::now();
        let at = |ms| Some(t0 + Duration::from_millis(ms));
        // Request 0 was answered 429 at 1 ms, before request 2 left at 2 ms;
        // request 1 was answered at 5 ms, before request 3 left at 6 ms.
        let timings = [(0, 1), (0, 5), (2, 7), (6, 8)]
            .map(|(sent, answered)| Timing {
                sent: at(sent),
                answered: at(answered),
            })
            .to_vec();
        let order = real_time_order(&timings, &[0]);
        assert_eq!(
            order[0],
            vec![1, 2, 3],
            "the re-send follows every served one"
        );
        assert_eq!(order[2], Vec::<usize>::new(), "the 429 served nothing");
        assert_eq!(order[3], vec![1]);
        assert_eq!(real_time_order(&timings, &[])[2], vec![0]);
    }

    /// Cases hold PUTs and list pages among the random groups, and shrinking
    /// a case keeps every group concurrent (two requests or more).
    #[test]
    fn groups_with_puts_and_lists_shrink_to_groups() {
        let mut runner = TestRunner::deterministic();
        let (mut puts, mut lists) = (0, 0);
        for _ in 0..100 {
            let mut tree = group_cases().new_tree(&mut runner).unwrap();
            for ops in tree.current().iter().skip(canonical().len()) {
                puts += ops
                    .iter()
                    .filter(|o| matches!(o, GroupOp::Put { .. }))
                    .count();
                lists += ops.iter().filter(|o| **o == GroupOp::List).count();
            }
            let mut shrinks = 0;
            while shrinks < 50 && tree.simplify() {
                shrinks += 1;
                for ops in tree.current() {
                    assert!(ops.len() >= 2, "{ops:?}");
                }
            }
        }
        assert!(puts > 0 && lists > 0, "{puts} PUTs, {lists} lists");
    }
}
