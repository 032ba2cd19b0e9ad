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

use std::fmt;

use serde_json::Value;

use crate::checker::operations::counter;

/// The metadata key a group's PATCHes write (one key, so that merging and
/// replacing `metadata` give the same state).
pub(super) const META_KEY: &str = "seq_patch";

/// The fields of the group's lead that the model follows.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct LeadState {
    pub(super) lead_source: Value,
    pub(super) us_state: Value,
    pub(super) meta: Value,
    pub(super) call_dnc: bool,
    pub(super) sms_dnc: bool,
    /// The re-engagement counter, when the target shows one.
    pub(super) counter: Option<i64>,
}

impl LeadState {
    /// The followed fields of `lead` as read.
    pub(super) fn of(lead: &Value) -> Self {
        LeadState {
            lead_source: lead.get("lead_source").cloned().unwrap_or(Value::Null),
            // A state's code in another case is the same state.
            us_state: match lead.get("us_state") {
                Some(Value::String(s)) => Value::String(s.to_ascii_uppercase()),
                other => other.cloned().unwrap_or(Value::Null),
            },
            meta: lead
                .get("metadata")
                .and_then(|m| m.get(META_KEY))
                .cloned()
                .unwrap_or(Value::Null),
            call_dnc: lead.get("call_dnc") == Some(&Value::Bool(true)),
            sms_dnc: lead.get("sms_dnc") == Some(&Value::Bool(true)),
            counter: counter(lead),
        }
    }

    /// What `lead` shows differently from this state, if anything: only the
    /// fields it shows are compared (an answer may show part of the lead),
    /// the counter only when both know one.
    pub(super) fn differs(&self, lead: &Value) -> Option<String> {
        let got = LeadState::of(lead);
        let shown = |name: &str| {
            let key = name.split('.').next().unwrap_or(name);
            lead.get(key).is_some()
        };
        let mut out = Vec::new();
        let mut field =
            |name: &str, want: &dyn fmt::Display, got: &dyn fmt::Display, same: bool| {
                if !same && shown(name) {
                    out.push(format!("{name} {got} (expected {want})"));
                }
            };
        field(
            "lead_source",
            &self.lead_source,
            &got.lead_source,
            self.lead_source == got.lead_source,
        );
        field(
            "us_state",
            &self.us_state,
            &got.us_state,
            self.us_state == got.us_state,
        );
        field(
            &format!("metadata.{META_KEY}"),
            &self.meta,
            &got.meta,
            self.meta == got.meta,
        );
        field(
            "call_dnc",
            &self.call_dnc,
            &got.call_dnc,
            self.call_dnc == got.call_dnc,
        );
        field(
            "sms_dnc",
            &self.sms_dnc,
            &got.sms_dnc,
            self.sms_dnc == got.sms_dnc,
        );
        if let (Some(want), Some(have)) = (self.counter, got.counter)
            && want != have
        {
            out.push(format!("reengagement_count {have} (expected {want})"));
        }
        (!out.is_empty()).then(|| out.join(", "))
    }
}

impl fmt::Display for LeadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lead_source {}, us_state {}, metadata.{META_KEY} {}, call_dnc {}, sms_dnc {}",
            self.lead_source, self.us_state, self.meta, self.call_dnc, self.sms_dnc
        )?;
        if let Some(c) = self.counter {
            write!(f, ", reengagement_count {c}")?;
        }
        Ok(())
    }
}

/// What the group's requests can change: the lead, the new identity and how
/// many leads each account gained.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct GroupState {
    pub(super) lead: LeadState,
    /// The id the group's new identity was created under, once it was.
    pub(super) fresh: Option<i64>,
    /// Leads the group created in the account (the list count's growth).
    pub(super) created: u64,
    /// Leads the other account's requests created there.
    pub(super) other_created: u64,
}

impl GroupState {
    /// Before the group: the lead as read, nothing created.
    pub(super) fn before(lead: LeadState) -> Self {
        GroupState {
            lead,
            fresh: None,
            created: 0,
            other_created: 0,
        }
    }
}

/// One request of a group, as the model sees it.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Op {
    /// `PATCH` of the lead setting `field` to `value` (a do-not-contact flag
    /// set to true is one too).
    Patch { field: &'static str, value: Value },
    /// A re-send of the lead's identity, by single create or by bulk.
    Resend { single: bool },
    /// `GET` of the lead; `judged` false on a target whose reads lag
    /// (its answer may show an older state).
    Get { judged: bool },
    /// A single create of the group's new identity (several may race).
    CreateFresh,
    /// The other account creates a new lead of its own.
    OtherCreate,
    /// The other account reads the lead by id: never its own.
    OtherGet,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Patch { field, value } => write!(f, "PATCH {field} = {value}"),
            Op::Resend { single: true } => write!(f, "re-send by single create"),
            Op::Resend { single: false } => write!(f, "re-send by bulk"),
            Op::Get { .. } => write!(f, "GET"),
            Op::CreateFresh => write!(f, "single create of the new identity"),
            Op::OtherCreate => write!(f, "the other account's single create"),
            Op::OtherGet => write!(f, "the other account's GET of the lead"),
        }
    }
}

/// What a request got: its status (none when no answer came) and body.
#[derive(Clone, Debug)]
pub(super) struct Answer {
    pub(super) status: Option<u16>,
    pub(super) body: Option<Value>,
}

impl Answer {
    fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    fn refused(&self) -> bool {
        self.status
            .is_some_and(|s| (400..500).contains(&s) && s != 429)
    }

    fn id(&self) -> Option<i64> {
        self.body.as_ref()?.get("id")?.as_i64()
    }

    /// The first bulk result's action and id.
    fn bulk_result(&self) -> Option<(&str, Option<i64>)> {
        let r = self.body.as_ref()?.get("results")?.get(0)?;
        Some((
            r.get("action")?.as_str()?,
            r.get("id").and_then(Value::as_i64),
        ))
    }
}

/// The states `op`, answered `answer`, may leave from `s` (none: no state
/// reached so far can answer it so). `lead` is the group's lead's id.
fn step(s: &GroupState, op: &Op, answer: &Answer, lead: i64) -> Result<Vec<GroupState>, String> {
    if answer.status.is_none() {
        // No answer: it may or may not have taken effect.
        let mut out = vec![s.clone()];
        out.extend(effect(s, op, lead));
        return Ok(out);
    }
    let shows = |state: &LeadState| -> Result<(), String> {
        match &answer.body {
            Some(body) if body.get("id").is_some() => match state.differs(body) {
                Some(d) => Err(format!("its answer shows {d}")),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    };
    match op {
        Op::Patch { .. } => {
            if !answer.ok() {
                return Err(format!("answered {}", status(answer)));
            }
            let next = effect(s, op, lead).expect("a write has an effect");
            shows(&next.lead)?;
            Ok(vec![next])
        }
        Op::Get { judged } => {
            if !answer.ok() {
                return Err(format!("answered {}", status(answer)));
            }
            if *judged {
                shows(&s.lead)?;
            }
            Ok(vec![s.clone()])
        }
        Op::Resend { single } => {
            // A refusal (or an `error` result) re-engages nothing, or, as some
            // servers answer a duplicate, re-engages it all the same: both
            // are followed, as the sequences follow what the target shows.
            let refused = || {
                let mut both = vec![s.clone()];
                both.extend(effect(s, op, lead));
                Ok(both)
            };
            let reengaged = if *single {
                if answer.refused() {
                    return refused();
                }
                if !answer.ok() {
                    return Err(format!("answered {}", status(answer)));
                }
                if answer.id() != Some(lead) {
                    return Err(format!(
                        "answered lead {} for the identity of lead {lead}",
                        id_text(answer.id())
                    ));
                }
                true
            } else {
                match answer.bulk_result() {
                    Some(("reengaged", Some(id))) if id == lead => true,
                    Some(("error", _)) => return refused(),
                    Some((action, id)) => {
                        return Err(format!(
                            "answered {action} (id {}) for the identity of lead {lead}",
                            id_text(id)
                        ));
                    }
                    None => return Err(format!("answered {}", status(answer))),
                }
            };
            if !reengaged {
                return Ok(vec![s.clone()]);
            }
            let next = effect(s, op, lead).expect("a re-engagement has an effect");
            if *single {
                shows(&next.lead)?;
            }
            Ok(vec![next])
        }
        Op::CreateFresh => {
            if answer.refused() && s.fresh.is_some() {
                return Ok(vec![s.clone()]);
            }
            if !answer.ok() {
                return Err(format!("answered {}", status(answer)));
            }
            let Some(id) = answer.id() else {
                return Err("answered no lead id".to_owned());
            };
            match s.fresh {
                None => {
                    let mut next = s.clone();
                    next.fresh = Some(id);
                    next.created += 1;
                    Ok(vec![next])
                }
                Some(first) if first == id => Ok(vec![s.clone()]),
                Some(first) => Err(format!(
                    "answered lead {id}, but the identity was created as lead {first} already"
                )),
            }
        }
        Op::OtherCreate => {
            if !answer.ok() || answer.id().is_none() {
                return Err(format!("answered {}", status(answer)));
            }
            let mut next = s.clone();
            next.other_created += 1;
            Ok(vec![next])
        }
        Op::OtherGet => {
            if answer.ok() {
                return Err(format!(
                    "answered {} with the lead of the first account",
                    status(answer)
                ));
            }
            Ok(vec![s.clone()])
        }
    }
}

/// The state after `op` took effect (its answer unknown); `None` for a
/// request that changes nothing.
fn effect(s: &GroupState, op: &Op, _lead: i64) -> Option<GroupState> {
    let mut next = s.clone();
    match op {
        Op::Patch { field, value } => match *field {
            "lead_source" => next.lead.lead_source = value.clone(),
            "us_state" => next.lead.us_state = value.clone(),
            "metadata" => next.lead.meta = value.get(META_KEY).cloned().unwrap_or(Value::Null),
            "call_dnc" => next.lead.call_dnc = true,
            "sms_dnc" => next.lead.sms_dnc = true,
            _ => return None,
        },
        Op::Resend { .. } => next.lead.counter = next.lead.counter.map(|c| c + 1),
        Op::CreateFresh if s.fresh.is_none() => next.created += 1,
        Op::OtherCreate => next.other_created += 1,
        Op::Get { .. } | Op::OtherGet | Op::CreateFresh => return None,
    }
    Some(next)
}

fn status(answer: &Answer) -> String {
    answer
        .status
        .map_or_else(|| "no answer".to_owned(), |s| s.to_string())
}

fn id_text(id: Option<i64>) -> String {
    id.map_or_else(|| "none".to_owned(), |i| i.to_string())
}

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
    lead: i64,
    fits: impl Fn(&GroupState) -> bool,
) -> Result<Vec<usize>, Unexplained> {
    let mut search = Search {
        ops,
        after,
        lead,
        ends: Vec::new(),
        best: (Vec::new(), 0, String::new()),
    };
    let mut order = Vec::with_capacity(ops.len());
    if let Some(found) = search.go(init, &mut order, &fits) {
        return Ok(found);
    }
    if search.ends.is_empty() {
        let (placed, next, why) = search.best;
        Err(Unexplained::Answers { placed, next, why })
    } else {
        Err(Unexplained::State { ends: search.ends })
    }
}

struct Search<'a> {
    ops: &'a [(Op, Answer)],
    after: &'a [Vec<usize>],
    lead: i64,
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
            match step(s, op, answer, self.lead) {
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
    use serde_json::json;

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
        let got = explain(&init(), &ops, &[], 7, |_| true);
        assert!(matches!(got, Err(Unexplained::Answers { .. })), "{got:?}");
        // A correct server: the second answer shows both changes.
        let ops = vec![
            (patch("lead_source", "b"), ok(lead("b", "NY", false, 0))),
            (patch("us_state", "TX"), ok(lead("b", "TX", false, 0))),
        ];
        let end = LeadState::of(&lead("b", "TX", false, 0));
        assert_eq!(
            explain(&init(), &ops, &[], 7, |s| s.lead == end),
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
        let got = explain(&init(), &ops, &[], 7, |s| s.lead == read_after);
        let Err(Unexplained::State { ends }) = got else {
            panic!("{got:?}")
        };
        assert_eq!(ends.len(), 1);
        assert_eq!(ends[0].lead.counter, Some(2));
        let two = LeadState::of(&lead("a", "NY", false, 2));
        assert!(explain(&init(), &ops, &[], 7, |s| s.lead == two).is_ok());
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
        assert!(explain(&init(), &ops, &[], 7, |s| s.lead == lost).is_err());
        let kept = LeadState::of(&lead("a", "NY", true, 1));
        assert_eq!(
            explain(&init(), &ops, &[], 7, |s| s.lead == kept),
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
        assert!(explain(&init(), &ops, &[], 7, |_| true).is_err());
        let ops = vec![
            (Op::CreateFresh, created(10)),
            (Op::CreateFresh, created(10)),
        ];
        let once = explain(&init(), &ops, &[], 7, |s| s.created == 1);
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
        assert!(explain(&init(), &ops, &[], 7, |s| s.lead == b).is_ok());
        assert!(explain(&init(), &ops, &[vec![], vec![0]], 7, |s| s.lead == b).is_err());
    }

    #[test]
    fn the_other_account_never_reads_the_lead_and_an_unanswered_request_may_count() {
        let ops = vec![(Op::OtherGet, ok(lead("a", "NY", false, 0)))];
        assert!(explain(&init(), &ops, &[], 7, |_| true).is_err());
        let lost = Answer {
            status: None,
            body: None,
        };
        let ops = vec![(patch("lead_source", "z"), lost)];
        let z = LeadState::of(&lead("z", "NY", false, 0));
        assert!(explain(&init(), &ops, &[], 7, |s| s.lead == z).is_ok());
        assert!(explain(&init(), &ops, &[], 7, |s| s.lead == init().lead).is_ok());
    }
}
