//! The requests of a concurrent group as the model sees them (S5), and what
//! each may do to the group's state: [`step`] gives the states a request,
//! answered as it was, may leave; [`linear`](super::linear) searches the
//! orders over it.

use std::fmt;

use serde_json::Value;

use super::state::{GroupState, LeadState, META_KEY};

/// One request of a group, as the model sees it.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Op {
    /// `PATCH` of the lead setting `field` to `value` (a do-not-contact flag
    /// set to true is one too).
    Patch { field: &'static str, value: Value },
    /// `PUT /api/leads/update/` matching the lead's phone and e-mail, setting
    /// each of `sets` (every field the model follows that the harness may
    /// send: `lead_source`, `us_state`, the metadata key). The
    /// do-not-contact flags are not sent (the harness never sends them
    /// false, and sending them true would hide a lost flag): what a PUT does
    /// to them is the target's choice, kept or reset, followed as
    /// [`Context::put_resets`] says.
    Put { sets: Vec<(&'static str, Value)> },
    /// A re-send of the lead's identity, by single create or by bulk.
    Resend { single: bool },
    /// `GET` of the lead; `judged` false on a target whose reads lag
    /// (its answer may show an older state).
    Get { judged: bool },
    /// One page of the list, large enough for every lead of the account
    /// (one request, so one instant): its `count` and its results are the
    /// account at that point of the order. A page that is not the whole
    /// list (the target caps the page size) is judged on its `count` and on
    /// the leads it must not show only (a walk of pages is not one
    /// instant). `judged` false when reads lag or the list before the group
    /// could not be read.
    List { judged: bool },
    /// A single create of the group's new identity (several may race).
    CreateFresh,
    /// The other account creates a new lead of its own.
    OtherCreate,
    /// The other account reads the lead by id: never its own.
    OtherGet,
    /// The other account's list page: never shows a lead of this account.
    OtherList,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Patch { field, value } => write!(f, "PATCH {field} = {value}"),
            Op::Put { sets } => {
                let sets: Vec<String> = sets.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                write!(f, "PUT by phone and e-mail, {}", sets.join(", "))
            }
            Op::Resend { single: true } => write!(f, "re-send by single create"),
            Op::Resend { single: false } => write!(f, "re-send by bulk"),
            Op::Get { .. } => write!(f, "GET"),
            Op::List { .. } => write!(f, "the list, one page"),
            Op::CreateFresh => write!(f, "single create of the new identity"),
            Op::OtherCreate => write!(f, "the other account's single create"),
            Op::OtherGet => write!(f, "the other account's GET of the lead"),
            Op::OtherList => write!(f, "the other account's list, one page"),
        }
    }
}

/// The account's list as read, one page, just before the group.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Listed {
    /// The ids it listed.
    pub(super) ids: Vec<i64>,
    /// Its `count`.
    pub(super) count: u64,
    /// The page was the whole list (no `next`, as many results as `count`).
    pub(super) whole: bool,
}

/// What the model knows besides the state: fixed for one group.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Context {
    /// The group's lead.
    pub(super) lead: i64,
    /// The list before the group; `None`: no list of the group is judged.
    pub(super) listed: Option<Listed>,
    /// Leads of this account (the other account's list must show none).
    pub(super) mine: Vec<i64>,
    /// The ids the group's creates of its new identity were answered: not
    /// listed before the create is placed.
    pub(super) fresh: Vec<i64>,
    /// The ids the other account's creates were answered: never listed in
    /// this account.
    pub(super) theirs: Vec<i64>,
    /// A PUT may reset the do-not-contact flags it does not send (false:
    /// it keeps them, as a PUT alone on this target was seen to do, or as
    /// assumed until a group needs to know: see the groups executor).
    pub(super) put_resets: bool,
}

impl Context {
    /// A context with only the lead known: no list judged, PUT keeps flags.
    pub(super) fn of(lead: i64) -> Self {
        Context {
            lead,
            listed: None,
            mine: vec![lead],
            fresh: Vec::new(),
            theirs: Vec::new(),
            put_resets: false,
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

    /// A list page's results (their ids, and the entries).
    fn results(&self) -> Vec<(Option<i64>, &Value)> {
        self.body
            .as_ref()
            .and_then(|b| b.get("results")?.as_array())
            .map(|r| {
                r.iter()
                    .map(|l| (l.get("id").and_then(Value::as_i64), l))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// True for a list page that names a next page.
    pub(super) fn has_next(&self) -> bool {
        self.body
            .as_ref()
            .and_then(|b| b.get("next"))
            .is_some_and(|n| !n.is_null())
    }
}

/// How far the model judges a group's list page ([`Op::List`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PageJudged {
    /// Its count, the leads it must not show, and (the list before the
    /// group and the page both whole) exactly the leads it lists.
    Whole,
    /// Its count and the leads it must not show only: the page or the list
    /// before the group is a part of the list.
    Partly,
    /// Not at all: reads lag, the list before the group could not be read,
    /// or the page got no answer.
    Not,
}

/// How far [`step`] judges `op`, a list page of this account answered
/// `answer`; `None` for any other request.
pub(super) fn page_judged(op: &Op, answer: &Answer, ctx: &Context) -> Option<PageJudged> {
    let Op::List { judged } = op else {
        return None;
    };
    Some(match &ctx.listed {
        _ if answer.status.is_none() => PageJudged::Not,
        // Anything but 2xx is no order's answer, whatever the list.
        _ if !answer.ok() => PageJudged::Whole,
        Some(before) if *judged && before.whole && !answer.has_next() => PageJudged::Whole,
        Some(_) if *judged => PageJudged::Partly,
        _ => PageJudged::Not,
    })
}

/// The states `op`, answered `answer`, may leave from `s` (none: no state
/// reached so far can answer it so).
pub(super) fn step(
    s: &GroupState,
    op: &Op,
    answer: &Answer,
    ctx: &Context,
) -> Result<Vec<GroupState>, String> {
    let lead = ctx.lead;
    if answer.status.is_none() {
        // No answer: it may or may not have taken effect.
        let mut out = vec![s.clone()];
        out.extend(effects(s, op, ctx));
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
            let next = effect(s, op).expect("a write has an effect");
            shows(&next.lead)?;
            Ok(vec![next])
        }
        Op::Put { .. } => {
            if !answer.ok() {
                return Err(format!("answered {}", status(answer)));
            }
            if let Some(other) = answer.id().filter(|id| *id != lead) {
                return Err(format!(
                    "answered lead {other}, not lead {lead} whose phone and e-mail it sent"
                ));
            }
            // Each way the target may treat the flags it was not sent, as far
            // as its answer shows them.
            let mut why = String::new();
            let nexts: Vec<GroupState> = effects(s, op, ctx)
                .into_iter()
                .filter(|next| match shows(&next.lead) {
                    Ok(()) => true,
                    Err(e) => {
                        why = e;
                        false
                    }
                })
                .collect();
            if nexts.is_empty() {
                Err(why)
            } else {
                Ok(nexts)
            }
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
                both.extend(effect(s, op));
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
            let next = effect(s, op).expect("a re-engagement has an effect");
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
        Op::List { judged } => {
            if !answer.ok() {
                return Err(format!("answered {}", status(answer)));
            }
            match &ctx.listed {
                Some(before) if *judged => {
                    listed_now(s, answer, before, ctx).map(|()| vec![s.clone()])
                }
                _ => Ok(vec![s.clone()]),
            }
        }
        Op::OtherList => {
            if !answer.ok() {
                return Err(format!("answered {}", status(answer)));
            }
            let theirs: Vec<i64> = answer.results().iter().filter_map(|(id, _)| *id).collect();
            match theirs
                .iter()
                .find(|id| ctx.mine.contains(id) || s.fresh == Some(**id))
            {
                Some(id) => Err(format!("it lists lead {id} of the first account")),
                None => Ok(vec![s.clone()]),
            }
        }
    }
}

/// Whether a list page shows the account as `s` holds it: `count` is the
/// count before the group plus what the order created so far, the results
/// show no lead created later in the order nor any of the other account's,
/// and the group's lead is listed as it stands. A whole page (and a whole
/// list before the group) also lists exactly the leads before the group and
/// those created so far (a lead created with no answer is known by no id);
/// a part of the list may hold any of the account's leads, in an order not
/// asserted.
fn listed_now(
    s: &GroupState,
    answer: &Answer,
    before: &Listed,
    ctx: &Context,
) -> Result<(), String> {
    let lead = ctx.lead;
    let want = before.count + s.created;
    let count = answer.body.as_ref().and_then(|b| b.get("count")?.as_u64());
    if count != Some(want) {
        return Err(format!(
            "its count is {}, and the account holds {want} leads at that point",
            count.map_or_else(|| "missing".to_owned(), |c| c.to_string())
        ));
    }
    let results = answer.results();
    let ids: Vec<i64> = results.iter().filter_map(|(id, _)| *id).collect();
    let later = |id: &&i64| ctx.fresh.contains(id) && s.fresh != Some(**id);
    if let Some(id) = ids.iter().find(later) {
        return Err(format!(
            "it lists lead {id}, which is created later in that order"
        ));
    }
    if let Some(id) = ids.iter().find(|id| ctx.theirs.contains(id)) {
        return Err(format!("it lists lead {id} of the other account"));
    }
    if before.whole && !answer.has_next() {
        whole_list(s, &results, &ids, before)?;
    }
    match results.iter().find(|(id, _)| *id == Some(lead)) {
        Some((_, entry)) => match s.lead.differs(entry) {
            Some(d) => Err(format!("it lists lead {lead} with {d}")),
            None => Ok(()),
        },
        None => Ok(()),
    }
}

/// A whole list page lists exactly the leads before the group and those
/// created so far in the order.
fn whole_list(
    s: &GroupState,
    results: &[(Option<i64>, &Value)],
    ids: &[i64],
    before: &Listed,
) -> Result<(), String> {
    let expected: Vec<i64> = before.ids.iter().copied().chain(s.fresh).collect();
    if let Some(missing) = expected.iter().find(|id| !ids.contains(id)) {
        return Err(format!(
            "lead {missing}, which the account holds at that point, is not in its {} results",
            results.len()
        ));
    }
    // Leads created with no answer are known by no id: as many strangers
    // (entries not expected, or without an id) may be listed.
    let unknown = s.created - u64::from(s.fresh.is_some());
    let strangers = results.len() - ids.iter().filter(|id| expected.contains(id)).count();
    if strangers as u64 > unknown {
        return Err(format!(
            "its results show {strangers} lead(s) the account does not hold at that point"
        ));
    }
    Ok(())
}

/// The states `op` may leave when it took effect (its answer unknown):
/// none for a request that changes nothing, two for a PUT on a target that
/// may reset the flags it does not send.
fn effects(s: &GroupState, op: &Op, ctx: &Context) -> Vec<GroupState> {
    match op {
        Op::Put { sets } => {
            let mut kept = s.clone();
            for (field, value) in sets {
                set(&mut kept.lead, field, value);
            }
            let mut out = vec![kept.clone()];
            if ctx.put_resets {
                let mut reset = kept;
                reset.lead.call_dnc = false;
                reset.lead.sms_dnc = false;
                if !out.contains(&reset) {
                    out.push(reset);
                }
            }
            out
        }
        _ => effect(s, op).into_iter().collect(),
    }
}

/// The state after `op` took effect (its answer unknown); `None` for a
/// request that changes nothing (a PUT: see [`effects`]).
fn effect(s: &GroupState, op: &Op) -> Option<GroupState> {
    let mut next = s.clone();
    match op {
        Op::Patch { field, value } => {
            if !set(&mut next.lead, field, value) {
                return None;
            }
        }
        Op::Resend { .. } => next.lead.counter = next.lead.counter.map(|c| c + 1),
        Op::CreateFresh if s.fresh.is_none() => next.created += 1,
        Op::OtherCreate => next.other_created += 1,
        Op::Put { .. }
        | Op::Get { .. }
        | Op::List { .. }
        | Op::OtherGet
        | Op::OtherList
        | Op::CreateFresh => return None,
    }
    Some(next)
}

/// Sets a followed field of `lead` as a write sent it (false: not followed).
fn set(lead: &mut LeadState, field: &str, value: &Value) -> bool {
    match field {
        "lead_source" => lead.lead_source = value.clone(),
        "us_state" => lead.us_state = value.clone(),
        "metadata" => lead.meta = value.get(META_KEY).cloned().unwrap_or(Value::Null),
        "call_dnc" => lead.call_dnc = true,
        "sms_dnc" => lead.sms_dnc = true,
        _ => return false,
    }
    true
}

fn status(answer: &Answer) -> String {
    answer
        .status
        .map_or_else(|| "no answer".to_owned(), |s| s.to_string())
}

fn id_text(id: Option<i64>) -> String {
    id.map_or_else(|| "none".to_owned(), |i| i.to_string())
}

#[cfg(test)]
mod tests;
