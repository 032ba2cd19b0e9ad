//! The requests of a concurrent group (S5) as sent, each with the model's
//! view of it ([`Op`]), and the clauses that judge each one alone (a group
//! whose operations already fail alone is not judged by S5).

use serde_json::{Value, json};

use super::account::Account;
use super::model::{Field, GroupOp};
use super::ops::Op;
use super::state::META_KEY;
use crate::checker::Harness;
use crate::checker::operations::{BULK, LEADS_PATH, UPDATE_PATH, lead_path};
use crate::report::Clause;
use crate::target::Auth;

/// A group's request as sent: the model's op, and the request.
pub(super) struct Sent {
    pub(super) op: Op,
    pub(super) request: (&'static str, String, Auth, Option<String>),
}

/// The list page a group's list requests ask for: `page_size` large enough
/// for every lead of the account (one request, so one instant of the order).
pub(super) fn list_page(page_size: u64) -> String {
    format!("{LEADS_PATH}?page_size={page_size}")
}

/// What a group's PUT `n` sends besides the lead's phone and e-mail: every
/// field the model follows that the harness may send. Its values differ
/// from a PATCH's of the same field, so that a write lost to the other
/// shows. The do-not-contact flags are not sent (see [`Op::Put`]).
fn put_sets(n: u16) -> Vec<(&'static str, Value)> {
    vec![
        ("lead_source", json!(format!("seq-put-{n}"))),
        (
            "us_state",
            json!(["OR", "NV", "ID", "UT"][usize::from(n) % 4]),
        ),
        ("metadata", json!({ META_KEY: format!("put-{n}") })),
    ]
}

/// The PUT body matching `acc`'s lead `slot` with `sets`.
pub(super) fn put_body(acc: &Account, slot: usize, sets: &[(&'static str, Value)]) -> Value {
    let lead = &acc.leads[slot];
    let mut body = json!({"phone_number": lead.phone, "email": lead.email});
    for (k, v) in sets {
        body[*k] = v.clone();
    }
    body
}

impl Harness<'_> {
    /// The requests of `ops` on lead `slot`, with the model's view of each;
    /// list pages ask for `page_size` leads.
    pub(super) fn group_requests(
        &mut self,
        acc: &Account,
        slot: usize,
        ops: &[&GroupOp],
        page_size: u64,
    ) -> Vec<Sent> {
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
                    GroupOp::Put { n } => {
                        let sets = put_sets(*n);
                        let body = put_body(acc, slot, &sets);
                        let request = ("PUT", UPDATE_PATH.to_owned(), Auth::Token, Some(body));
                        (Op::Put { sets }, request)
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
                    // Judged or not is settled once its answer and the list
                    // before the group are known.
                    GroupOp::List => (
                        Op::List { judged: true },
                        ("GET", list_page(page_size), Auth::Token, None),
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
                    GroupOp::OtherList => (
                        Op::OtherList,
                        ("GET", list_page(page_size), Auth::Second, None),
                    ),
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
pub(super) fn alone(op: &Op) -> &'static [Clause] {
    match op {
        Op::Patch { .. } => &[Clause::U1, Clause::R2, Clause::G1],
        Op::Put { .. } => &[Clause::U2, Clause::R2, Clause::G1],
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
        // L1 and A3 run after the groups: a list that is wrong alone is
        // caught by the list before the group instead (see the executor).
        Op::List { .. } => &[Clause::L1, Clause::A3, Clause::S2, Clause::G1],
        Op::CreateFresh => &[Clause::C1, Clause::S2],
        Op::OtherCreate | Op::OtherGet | Op::OtherList => &[Clause::A3],
    }
}
