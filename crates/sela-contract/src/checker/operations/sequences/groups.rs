//! The executor of a concurrent group (S5): its requests sent together, the
//! lead (and the list count) read after it, and the search of
//! [`linear`](super::linear) for an order that explains every answer and the
//! state read. A state that no order explains is read again within the
//! settle window before S5 fails.

use proptest::prelude::*;
use serde_json::json;

use super::account::Account;
use super::linear::{Answer, GroupState, LeadState, META_KEY, Op, Unexplained, explain};
use super::model::{Field, GroupOp};
use crate::checker::Harness;
use crate::checker::case::CaseOutcome;
use crate::checker::count::Listing;
use crate::checker::operations::reads::lead_of;
use crate::checker::operations::walk::Walk;
use crate::checker::operations::{BULK, LEADS_PATH, lead_path, shortened};
use crate::checker::together::Timing;
use crate::report::Clause;
use crate::target::{Auth, Exchange};

/// A group's requests as sent: the model's op, and the request.
struct Sent {
    op: Op,
    request: (&'static str, String, Auth, Option<String>),
}

/// The groups every case of the groups property runs first, one per fault
/// class of CONTRACT.md's S5 (a lost PATCH update, a lost re-engagement
/// increment, a re-engagement undoing a do-not-contact flag, one identity
/// created twice by racing creates, the other account's request acting in
/// this one), then the random ones.
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
    ]
}

/// A case of the groups property: the groups run one after another on one
/// new lead (the canonical ones, then 0 to 2 random ones).
pub fn group_cases() -> impl Strategy<Value = Vec<Vec<GroupOp>>> {
    prop::collection::vec(
        prop::collection::vec(super::model::group_op(), 2..=super::model::MAX_GROUP),
        0..=2,
    )
    .prop_map(|random| canonical().into_iter().chain(random).collect())
}

impl Harness<'_> {
    /// Property 8: concurrent groups (S5), each case on a lead of its own,
    /// `--cases`/8 cases (at least 2).
    pub(crate) fn run_groups(&mut self) {
        let n = (self.config.cases / 8).max(2);
        self.property(&group_cases(), n, |h, groups| h.run_groups_case(groups));
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
    /// go on (S5 failed, or the lead could not be read).
    pub(super) fn run_group(
        &mut self,
        w: &mut Walk,
        acc: &mut Account,
        slot: usize,
        ops: &[GroupOp],
    ) -> Option<()> {
        let second = self.target.has_second_key();
        let ops: Vec<&GroupOp> = ops
            .iter()
            .filter(|o| second || !matches!(o, GroupOp::OtherCreate | GroupOp::OtherGet))
            .collect();
        if ops.len() < 2 {
            return Some(());
        }
        let id = acc.leads[slot].id;
        // The state before: the lead as it reads now (on a target whose reads
        // lag, read until it shows what the sequence last saw), and the list
        // count.
        let path = lead_path(id);
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
        let sent = self.group_requests(acc, slot, &ops);
        let requests = sent.iter().map(|s| s.request.clone()).collect();
        let requests: Vec<_> = requests;
        let together = self.net.send_together(requests.clone());
        self.quota.created += sent
            .iter()
            .filter(|s| matches!(s.op, Op::OtherCreate))
            .count()
            + usize::from(sent.iter().any(|s| s.op == Op::CreateFresh));
        // Any write may change the count.
        self.count.stale();
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
                (s.op.clone(), answer)
            })
            .collect();
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
                return None;
            }
        }
        // The state after, read within the settle window until some order
        // explains it.
        let mut wait = self.waits.start(Clause::S5);
        // A group whose operations already fail alone is not judged: no
        // reason to wait for its state.
        let unjudged = self.fails_alone(&history);
        let (outcome, after) = loop {
            let ex = self.call(&mut w.log, "GET", &lead_path(id), Auth::Token, None);
            let Some(lead) = lead_of(&ex) else {
                self.ops.obs.unreadable += 1;
                self.waits.finish(wait, false);
                return None;
            };
            let grew = count_before.and_then(|b| {
                let (now, ex) = self.refresh_count()?;
                w.log.push(shortened(&ex));
                now.checked_sub(b)
            });
            let read = LeadState::of(&lead);
            let outcome = explain(&init, &history, &after_order, id, |s| {
                s.lead == read && grew.is_none_or(|g| g == s.created)
            });
            if outcome.is_ok() || unjudged || !wait.pause() {
                break (outcome, (lead, read, grew));
            }
        };
        self.waits.finish(wait, outcome.is_ok());
        let (lead, read, grew) = after;
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
                let detail = describe_failure(
                    (group, how),
                    id,
                    &init,
                    &history,
                    &exchanges,
                    (&read, grew),
                    &why,
                );
                w.fail(Clause::S5, "group", detail);
                None
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

    /// The requests of `ops` on lead `slot`, with the model's view of each.
    fn group_requests(&mut self, acc: &Account, slot: usize, ops: &[&GroupOp]) -> Vec<Sent> {
        let lead = &acc.leads[slot];
        let identity = json!({"phone_number": lead.phone, "email": lead.email});
        let (fresh_phone, fresh_email) = self.ids.fresh_pair();
        let fresh = json!({"phone_number": fresh_phone, "email": fresh_email});
        let path = lead_path(lead.id);
        ops.iter()
            .map(|op| {
                let (op, request) = match op {
                    GroupOp::Patch { field, n } => {
                        let (name, value, body) = match field {
                            Field::Source => {
                                let v = json!(format!("seq-group-{n}"));
                                ("lead_source", v.clone(), json!({"lead_source": v}))
                            }
                            Field::State => {
                                let v = json!(["NY", "TX", "WA", "MT"][usize::from(*n) % 4]);
                                ("us_state", v.clone(), json!({"us_state": v}))
                            }
                            Field::Metadata => {
                                let v = json!({ META_KEY: n });
                                ("metadata", v.clone(), json!({"metadata": v}))
                            }
                        };
                        let op = Op::Patch { field: name, value };
                        (op, ("PATCH", path.clone(), Auth::Token, Some(body)))
                    }
                    GroupOp::Dnc { flag } => {
                        let op = Op::Patch {
                            field: flag.field(),
                            value: json!(true),
                        };
                        let body = json!({ flag.field(): true });
                        (op, ("PATCH", path.clone(), Auth::Token, Some(body)))
                    }
                    GroupOp::Resend { single: true } => (
                        Op::Resend { single: true },
                        (
                            "POST",
                            LEADS_PATH.to_owned(),
                            Auth::Token,
                            Some(identity.clone()),
                        ),
                    ),
                    GroupOp::Resend { single: false } => (
                        Op::Resend { single: false },
                        (
                            "POST",
                            BULK.to_owned(),
                            Auth::Token,
                            Some(json!({ "leads": [identity.clone()] })),
                        ),
                    ),
                    GroupOp::Get => (
                        Op::Get {
                            judged: !self.waits.lagged(),
                        },
                        ("GET", path.clone(), Auth::Token, None),
                    ),
                    GroupOp::CreateFresh => (
                        Op::CreateFresh,
                        (
                            "POST",
                            LEADS_PATH.to_owned(),
                            Auth::Token,
                            Some(fresh.clone()),
                        ),
                    ),
                    GroupOp::OtherCreate => {
                        let (phone, email) = self.ids.fresh_pair();
                        let item = json!({"phone_number": phone, "email": email});
                        (
                            Op::OtherCreate,
                            ("POST", LEADS_PATH.to_owned(), Auth::Second, Some(item)),
                        )
                    }
                    GroupOp::OtherGet => (Op::OtherGet, ("GET", path.clone(), Auth::Second, None)),
                };
                let (method, path, auth, body) = request;
                Sent {
                    op,
                    request: (method, path, auth, body.map(|b| b.to_string())),
                }
            })
            .collect()
    }
}

/// The clauses that judge `op` when it is sent alone.
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

fn alone(op: &Op) -> &'static [Clause] {
    match op {
        Op::Patch { .. } => &[Clause::U1, Clause::R2, Clause::G1],
        // R1 is not here: its walks re-send concurrently too, so its failure
        // may be a concurrency fault that S5 should name.
        Op::Resend { single: true } => &[Clause::C1, Clause::R2, Clause::S2],
        Op::Resend { single: false } => &[
            Clause::T1,
            Clause::T2,
            Clause::T3,
            Clause::B1,
            Clause::B2,
            Clause::B3,
            Clause::R2,
            Clause::S2,
        ],
        Op::Get { .. } => &[Clause::G1],
        Op::CreateFresh => &[Clause::C1, Clause::S2],
        Op::OtherCreate | Op::OtherGet => &[Clause::A3],
    }
}

/// S5's detail: the group, the state before, each answer, the state after,
/// why no order explains them, and how to send the group together again.
fn describe_failure(
    (group, how): (u64, &str),
    id: i64,
    init: &GroupState,
    history: &[(Op, Answer)],
    exchanges: &[Exchange],
    (read, grew): (&LeadState, Option<u64>),
    why: &Unexplained,
) -> String {
    let mut out = format!(
        "group {group}: {} requests in flight together ({how}) on lead {id}; before: {}. ",
        history.len(),
        init.lead
    );
    for (i, (op, answer)) in history.iter().enumerate() {
        let status = answer
            .status
            .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
        out.push_str(&format!("Request {i} ({op}) answered {status}. "));
    }
    out.push_str(&format!("Read after: {read}"));
    if let Some(g) = grew {
        out.push_str(&format!(", the list count grew by {g}"));
    }
    out.push_str(". ");
    match why {
        Unexplained::State { ends } => {
            let ends: Vec<String> = ends
                .iter()
                .map(|e| format!("{} (count +{})", e.lead, e.created))
                .collect();
            out.push_str(&format!(
                "Every order that explains the answers ends with {}; no order explains the \
                 state read.",
                ends.join(" or ")
            ));
        }
        Unexplained::Answers { placed, next, why } => {
            let placed: Vec<String> = placed.iter().map(|i| format!("request {i}")).collect();
            out.push_str(&format!(
                "No order explains every answer: after {}, request {next} cannot come next: {why}.",
                if placed.is_empty() {
                    "nothing".to_owned()
                } else {
                    placed.join(", ")
                }
            ));
        }
    }
    let again: Vec<String> = exchanges
        .iter()
        .map(|e| format!("{} &", e.curl()))
        .collect();
    out.push_str(&format!(
        " Send them together again: {} wait",
        again.join(" ")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_failure_says_before_answers_after_and_why() {
        let init = GroupState::before(LeadState::of(&json!({"lead_source": "a"})));
        let history = vec![(
            Op::Get { judged: true },
            Answer {
                status: Some(200),
                body: None,
            },
        )];
        let read = LeadState::of(&json!({"lead_source": "b"}));
        let text = describe_failure(
            (3, "sent concurrently"),
            7,
            &init,
            &history,
            &[],
            (&read, Some(0)),
            &Unexplained::State {
                ends: vec![init.clone()],
            },
        );
        assert!(text.contains("before: lead_source \"a\""), "{text}");
        assert!(text.contains("Request 0 (GET) answered 200"), "{text}");
        assert!(text.contains("Read after: lead_source \"b\""), "{text}");
        assert!(text.contains("ends with lead_source \"a\""), "{text}");
    }
}
