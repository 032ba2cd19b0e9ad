//! The reference state machine that generates and shrinks sequences: an
//! abstract account (how many of the run's leads exist, how many identities
//! were moved away from a lead) and the steps that may follow it. Steps name
//! leads by slot (creation order), so a shrunk sequence still means the same.
//! The executor mirrors it with the real ids; what a step must show is judged
//! there, against the target's answers.

use proptest::prelude::*;
use proptest_state_machine::ReferenceStateMachine;

use crate::strategies::PhoneForm;

/// Most leads one sequence keeps in play (more creations are not generated).
pub(crate) const MAX_LEADS: usize = 4;

/// What the model knows of the account between steps.
#[derive(Clone, Debug, Default)]
pub struct Shape {
    /// Leads the sequence created so far (slots `0..leads`).
    pub leads: usize,
    /// Identities moved away from a lead by a PATCH (slots `0..old`), not
    /// re-sent since.
    pub old: usize,
}

/// Which do-not-contact flag a step sets (only ever to true).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// `call_dnc`
    Call,
    /// `sms_dnc`
    Sms,
}

impl Flag {
    /// The lead field.
    pub fn field(self) -> &'static str {
        match self {
            Flag::Call => "call_dnc",
            Flag::Sms => "sms_dnc",
        }
    }
}

/// A field a PATCH step changes (U1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `lead_source`
    Source,
    /// `us_state`
    State,
    /// `metadata` (one key)
    Metadata,
}

/// One step of a sequence.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A bulk create of `n` new leads (B3, S1, S2).
    BulkCreate { n: usize },
    /// A single create of a new lead (C1).
    SingleCreate,
    /// A re-send of lead `slot`'s current identity, its number in `form`:
    /// re-engages it or is refused, never creates (S2, C1, R1, R2, U3).
    Resend {
        slot: usize,
        single: bool,
        form: PhoneForm,
    },
    /// A re-send of an identity moved away from a lead: a new lead (U3).
    ResendOld { old: usize, single: bool },
    /// `PATCH` of one field (U1).
    Patch { slot: usize, field: Field, n: u16 },
    /// `PATCH` of the e-mail or the phone number: moves the identity (U1, U3).
    Move { slot: usize, email: bool },
    /// `PATCH` of a do-not-contact flag to true (U1; R2 after).
    Dnc { slot: usize, flag: Flag },
    /// `PUT /api/leads/update/` matching the lead's phone and e-mail (U2).
    Put { slot: usize, n: u16 },
    /// `GET /api/leads/{id}/`: shows the state so far (G1).
    Get { slot: usize },
    /// The lead found in the list walk with its state so far (L1).
    List { slot: usize },
    /// 2 to 6 requests sent together, on lead `slot` (S5): judged by an order
    /// of them that explains every answer and the state read after.
    Group { slot: usize, ops: Vec<GroupOp> },
}

/// One request of a concurrent group (S5).
#[derive(Clone, Debug, PartialEq)]
pub enum GroupOp {
    /// `PATCH` of one field of the group's lead.
    Patch { field: Field, n: u16 },
    /// `PATCH` of a do-not-contact flag of the lead to true.
    Dnc { flag: Flag },
    /// A re-send of the lead's identity: re-engages it (or is refused).
    Resend { single: bool },
    /// `PUT /api/leads/update/` matching the lead's phone and e-mail, with
    /// every field the model follows that the harness may send
    /// (`lead_source`, `us_state`, the metadata key; from `n`).
    Put { n: u16 },
    /// `GET` of the lead.
    Get,
    /// One list page large enough for every lead of the account (skipped
    /// where the list answers no count).
    List,
    /// A single create of the group's one new identity (several race).
    CreateFresh,
    /// The second account creates a lead of its own (skipped without one).
    OtherCreate,
    /// The second account reads the group's lead (skipped without one).
    OtherGet,
    /// The second account's list page (skipped without one).
    OtherList,
}

/// Most requests in a group.
pub(crate) const MAX_GROUP: usize = 6;

/// The operations of a group on its lead and the creates, the other
/// account's creates and reads among them; [`any_group_op`] adds the PUT and
/// the list pages.
fn group_op() -> impl Strategy<Value = GroupOp> {
    let field = prop::sample::select(vec![Field::Source, Field::State, Field::Metadata]);
    let flag = prop::sample::select(vec![Flag::Call, Flag::Sms]);
    prop_oneof![
        3 => (field, 0u16..1000).prop_map(|(field, n)| GroupOp::Patch { field, n }),
        2 => flag.prop_map(|flag| GroupOp::Dnc { flag }),
        3 => any::<bool>().prop_map(|single| GroupOp::Resend { single }),
        1 => Just(GroupOp::Get),
        2 => Just(GroupOp::CreateFresh),
        1 => Just(GroupOp::OtherCreate),
        1 => Just(GroupOp::OtherGet),
    ]
}

/// Every operation of a group, as the groups property and the sequences'
/// groups draw them.
pub(super) fn any_group_op() -> impl Strategy<Value = GroupOp> {
    prop_oneof![
        13 => group_op(),
        2 => (0u16..1000).prop_map(|n| GroupOp::Put { n }),
        1 => Just(GroupOp::List),
        1 => Just(GroupOp::OtherList),
    ]
}

impl Step {
    /// Leads this step may create on a correct target.
    pub fn creates(&self) -> usize {
        match self {
            Step::BulkCreate { n } => *n,
            Step::SingleCreate | Step::ResendOld { .. } => 1,
            Step::Group { ops, .. } => {
                let fresh = ops.contains(&GroupOp::CreateFresh);
                let other = ops.iter().filter(|o| **o == GroupOp::OtherCreate).count();
                usize::from(fresh) + other
            }
            _ => 0,
        }
    }
}

/// The reference state machine of [`Step`]s over a [`Shape`].
pub struct Sequences;

impl ReferenceStateMachine for Sequences {
    type State = Shape;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Shape> {
        Just(Shape::default()).boxed()
    }

    fn transitions(state: &Shape) -> BoxedStrategy<Step> {
        let create = prop_oneof![
            3 => Just(Step::SingleCreate),
            1 => (1usize..=2).prop_map(|n| Step::BulkCreate { n }),
        ];
        if state.leads == 0 {
            return create.boxed();
        }
        // Steps favour the newest lead and the newest moved-away identity, so
        // that a few steps already pile several operations on one lead.
        let newest = |n: usize| prop_oneof![2 => Just(n - 1), 1 => 0..n];
        let slot = newest(state.leads);
        let form = prop::sample::select(vec![
            PhoneForm::E164,
            PhoneForm::Dashed,
            PhoneForm::Parens,
            PhoneForm::Digits,
            PhoneForm::SpacedOne,
        ]);
        let field = prop::sample::select(vec![Field::Source, Field::State, Field::Metadata]);
        let flag = prop::sample::select(vec![Flag::Call, Flag::Sms]);
        let room = if state.leads < MAX_LEADS { 1 } else { 0 };
        let old = if state.old > 0 { 3 } else { 0 };
        prop_oneof![
            room => create,
            5 => (slot.clone(), any::<bool>(), form)
                .prop_map(|(slot, single, form)| Step::Resend { slot, single, form }),
            old => (newest(state.old.max(1)), any::<bool>())
                .prop_map(|(old, single)| Step::ResendOld { old, single }),
            2 => (slot.clone(), field, 0u16..1000)
                .prop_map(|(slot, field, n)| Step::Patch { slot, field, n }),
            2 => (slot.clone(), any::<bool>()).prop_map(|(slot, email)| Step::Move { slot, email }),
            3 => (slot.clone(), flag).prop_map(|(slot, flag)| Step::Dnc { slot, flag }),
            1 => (slot.clone(), 0u16..1000).prop_map(|(slot, n)| Step::Put { slot, n }),
            1 => slot.clone().prop_map(|slot| Step::Get { slot }),
            1 => slot.clone().prop_map(|slot| Step::List { slot }),
            1 => (slot, prop::collection::vec(any_group_op(), 2..=MAX_GROUP))
                .prop_map(|(slot, ops)| Step::Group { slot, ops }),
        ]
        .boxed()
    }

    fn apply(mut state: Shape, step: &Step) -> Shape {
        match step {
            Step::BulkCreate { n } => state.leads += n,
            Step::SingleCreate => state.leads += 1,
            Step::ResendOld { .. } => {
                state.old -= 1;
                state.leads += 1;
            }
            Step::Move { .. } => state.old += 1,
            _ => {}
        }
        state
    }

    /// Every slot a step names exists (shrinking deletes steps, so a later
    /// step may lose the lead it names: then the shrink is not taken).
    fn preconditions(state: &Shape, step: &Step) -> bool {
        match step {
            Step::BulkCreate { n } => state.leads + n <= MAX_LEADS + 1,
            Step::SingleCreate => state.leads <= MAX_LEADS,
            Step::ResendOld { old, .. } => *old < state.old,
            Step::Resend { slot, .. }
            | Step::Patch { slot, .. }
            | Step::Move { slot, .. }
            | Step::Dnc { slot, .. }
            | Step::Put { slot, .. }
            | Step::Get { slot }
            | Step::List { slot } => *slot < state.leads,
            Step::Group { slot, ops } => *slot < state.leads && ops.len() >= 2,
        }
    }
}
