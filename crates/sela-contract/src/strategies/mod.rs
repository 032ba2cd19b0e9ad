//! Proptest strategies for bulk-create items and batches, exported for users' own
//! tests.
//!
//! Strategies generate [`ItemSpec`]s: an item's shape and category with its
//! identity left as a [`Slot`]. [`Identities::render`] turns a batch of specs into
//! JSON, giving every `Slot::Fresh(k)` of the batch a brand-new fictional identity
//! (so a batch re-sent while shrinking is as new as the first time) and every
//! `Slot::Pooled(j)` the same run-wide identity (so identities repeat across
//! batches). Numbers are fictional (NANP `555-0100`..`555-0199` under valid area
//! codes) and e-mails are `...@example.com` with a per-run random tag.
//!
//! For concrete JSON in your own property tests, [`rendered_batch`] does both
//! steps:
//!
//! ```no_run
//! use proptest::prelude::*;
//! use sela_contract::strategies::{Category, Options, rendered_batch};
//!
//! proptest! {
//!     #[test]
//!     fn importer_keeps_one_outcome_per_lead(batch in rendered_batch(&Options::default(), "mytag")) {
//!         let leads: Vec<_> = batch.iter().map(|item| item.value.clone()).collect();
//!         let must_fail = batch.iter().filter(|i| i.category == Category::Invalid).count();
//!         // ... send `leads`, then check one result per item and `must_fail` errors.
//!         prop_assert!(leads.len() >= must_fail);
//!     }
//! }
//! ```

use std::fmt;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

mod cases;
mod identities;
mod odd;

pub use cases::*;
pub use identities::{Identities, rendered_batch};
pub use odd::*;

/// What the contract says about an item, so its expected outcome is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Certainly valid: must be `created` when its identity is new.
    Valid,
    /// Certainly invalid object: must get `error`.
    Invalid,
    /// Maybe invalid: sent to learn; only the per-item clauses apply.
    Maybe,
    /// Not a JSON object: must get `error` (documented wording observed).
    NonObject,
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Category::Valid => "valid",
            Category::Invalid => "invalid",
            Category::Maybe => "maybe",
            Category::NonObject => "non-object",
        })
    }
}

/// Where an item's identity comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// The k-th fresh identity of this batch: new at every render, shared by the
    /// items of the batch with the same k.
    Fresh(u8),
    /// The j-th identity of the run's pool: the same in every batch of a run.
    Pooled(u8),
}

/// How the slot's phone number is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PhoneForm {
    /// `+12125550123`
    E164,
    /// `212-555-0123`
    Dashed,
    /// `(212) 555-0123`
    Parens,
    /// `212.555.0123`
    Dotted,
    /// `2125550123`
    Digits,
    /// `12125550123`
    Digits11,
    /// `+1 212 555 0123`
    SpacedPlus,
    /// `1 212 555 0123`
    SpacedOne,
}

impl PhoneForm {
    /// Writes a ten-digit national number (`2125550123`) in this form.
    pub fn write(self, national: &str) -> String {
        let (a, b, c) = (&national[..3], &national[3..6], &national[6..]);
        match self {
            PhoneForm::E164 => format!("+1{national}"),
            PhoneForm::Dashed => format!("{a}-{b}-{c}"),
            PhoneForm::Parens => format!("({a}) {b}-{c}"),
            PhoneForm::Dotted => format!("{a}.{b}.{c}"),
            PhoneForm::Digits => national.to_owned(),
            PhoneForm::Digits11 => format!("1{national}"),
            PhoneForm::SpacedPlus => format!("+1 {a} {b} {c}"),
            PhoneForm::SpacedOne => format!("1 {a} {b} {c}"),
        }
    }
}

/// The `phone_number` field of an object item.
#[derive(Clone, Debug, PartialEq)]
pub enum PhoneSpec {
    /// The slot's number in the given form.
    Slot(PhoneForm),
    /// No `phone_number` key.
    Absent,
    /// This exact value.
    Literal(Value),
    /// The slot's number as `+1` and eleven national digits (one digit too
    /// many): certainly invalid; cut to ten it is the slot's number.
    Overlong,
}

/// The `email` field of an object item.
#[derive(Clone, Debug, PartialEq)]
pub enum EmailSpec {
    /// The slot's address.
    Slot,
    /// The slot's address in upper case (maybe invalid; only with a slot of
    /// its own, so the identity is never also sent in lower case).
    SlotUpper,
    /// No `email` key.
    Absent,
    /// This exact value.
    Literal(Value),
}

/// A generated item before rendering: category, a short label of its kind, its
/// identity slot and its fields.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemSpec {
    /// What the contract says about the item.
    pub category: Category,
    /// A short label (`valid`, `us_state not a code`, `phone in (AAA) form`, ...).
    pub kind: &'static str,
    /// Where the identity comes from (`None` for non-objects).
    pub slot: Option<Slot>,
    /// The `phone_number` field.
    pub phone: PhoneSpec,
    /// The `email` field.
    pub email: EmailSpec,
    /// Other top-level fields, in order.
    pub fields: Vec<(String, Value)>,
    /// For non-objects: the whole item.
    pub whole: Option<Value>,
}

/// A rendered item: the JSON sent and what the contract says about it.
#[derive(Clone, Debug, PartialEq)]
pub struct GenItem {
    /// What the contract says about the item.
    pub category: Category,
    /// A short label of the item's kind.
    pub kind: &'static str,
    /// The JSON value sent as one element of `leads`.
    pub value: Value,
}

/// What the strategies may generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// Largest batch generated (sizes are `0..=max_batch`).
    pub max_batch: usize,
    /// How many run-wide identities batches share.
    pub pool_size: u8,
    /// A lead type id known to exist on the target; `lead_type` is sent only then.
    pub lead_type: Option<i64>,
    /// A representative id known to exist on the target; sent only then.
    pub representative: Option<i64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_batch: 8,
            pool_size: 6,
            lead_type: None,
            representative: None,
        }
    }
}

/// Area codes used for fictional numbers: real US codes (first digit 2-9, not N11).
pub const AREA_CODES: &[&str] = &[
    "212", "213", "303", "312", "404", "415", "503", "512", "602", "617", "702", "713", "804",
    "916", "206", "305",
];

/// Area codes outside the certainly-valid rule or unusual (maybe invalid).
const ODD_AREA_CODES: &[&str] = &["123", "011", "411", "911", "555", "999", "370", "960"];

const FIRST_NAMES: &[&str] = &["Ada", "Grace", "Alan", "Edsger", "Barbara"];
const NON_ASCII_NAMES: &[&str] = &["Zoë", "Łukasz", "李雷", "José", "Ångström"];
const LAST_NAMES: &[&str] = &["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov"];
/// States sent in certainly valid leads (DC and the territories are maybe
/// invalid: the documentation does not say whether they are accepted).
const STATES: &[&str] = &["CA", "NY", "TX", "VA", "WA", "FL", "MT", "AK"];

/// Placeholder for a value the renderer fills per item: `external_id` becomes a
/// per-run tagged id, a metadata value becomes the item's serial number. Each
/// item gets its own, so a neighbour's value stored on a lead shows.
pub const SERIAL_MARK: &str = "\u{1}serial";

/// The metadata values of a valid lead: names, and values of every JSON type
/// (a number must stay a number).
fn metadata() -> BoxedStrategy<Value> {
    (
        proptest::option::of((select(FIRST_NAMES), select(LAST_NAMES))),
        any::<bool>(),
        any::<bool>(),
        select(vec![json!(0.5), json!(-3), json!(1e3)]),
    )
        .prop_map(|(names, vip, nested, number)| {
            let mut m = serde_json::Map::new();
            if let Some((first, last)) = names {
                m.insert("first_name".into(), json!(first));
                m.insert("last_name".into(), json!(last));
            }
            m.insert("score".into(), json!(SERIAL_MARK));
            m.insert("vip".into(), json!(vip));
            m.insert("ratio".into(), number);
            if nested {
                m.insert("tags".into(), json!(["a", 1, null]));
                m.insert("crm".into(), json!({"stage": "new", "owner": 7}));
            }
            Value::Object(m)
        })
        .boxed()
}

fn valid_fields(opts: &Options) -> BoxedStrategy<Vec<(String, Value)>> {
    let lead_type = opts.lead_type;
    let representative = opts.representative;
    (
        prop::bool::weighted(0.8),
        proptest::option::of(select(vec!["contract-harness", "USDALoans.com"])),
        proptest::option::of(select(STATES)),
        proptest::option::weighted(0.8, metadata()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(ext, source, state, meta, with_type, with_rep)| {
            let mut fields = Vec::new();
            if ext {
                fields.push(("external_id".to_owned(), json!(SERIAL_MARK)));
            }
            if let Some(s) = source {
                fields.push(("lead_source".to_owned(), json!(s)));
            }
            if let Some(s) = state {
                fields.push(("us_state".to_owned(), json!(s)));
            }
            if let Some(m) = meta {
                fields.push(("metadata".to_owned(), m));
            }
            if let (Some(id), true) = (lead_type, with_type) {
                fields.push(("lead_type".to_owned(), json!(id)));
            }
            if let (Some(id), true) = (representative, with_rep) {
                fields.push(("representative".to_owned(), json!(id)));
            }
            fields
        })
        .boxed()
}

/// Slots for valid and maybe items: fresh (repeating within a batch) or pooled.
pub fn slot(opts: &Options) -> BoxedStrategy<Slot> {
    let fresh = opts.max_batch.clamp(1, 60) as u8;
    let pool = opts.pool_size.max(1);
    prop_oneof![
        3 => (0..fresh).prop_map(Slot::Fresh),
        1 => (0..pool).prop_map(Slot::Pooled),
    ]
    .boxed()
}

/// Slots for invalid items: mostly fresh identities of their own (shared only
/// among invalid items), sometimes a pooled one, so that an identity first sent
/// in an item answered `error` is later sent validly (S3).
fn invalid_slot(opts: &Options) -> BoxedStrategy<Slot> {
    let fresh = opts.max_batch.clamp(1, 60) as u8;
    let pool = opts.pool_size.max(1);
    prop_oneof![
        3 => (0..fresh).prop_map(|k| Slot::Fresh(64 + k)),
        1 => (0..pool).prop_map(Slot::Pooled),
    ]
    .boxed()
}

/// A certainly valid lead from the given slot strategy.
pub fn valid_item_in(opts: &Options, slots: BoxedStrategy<Slot>) -> BoxedStrategy<ItemSpec> {
    (slots, valid_fields(opts))
        .prop_map(|(slot, fields)| ItemSpec {
            category: Category::Valid,
            kind: "valid",
            slot: Some(slot),
            phone: PhoneSpec::Slot(PhoneForm::E164),
            email: EmailSpec::Slot,
            fields,
            whole: None,
        })
        .boxed()
}

/// A certainly valid lead: E.164 number, plain lower-case e-mail, short strings,
/// a USPS state code, object metadata (and the configured ids, when any).
pub fn valid_item(opts: &Options) -> BoxedStrategy<ItemSpec> {
    valid_item_in(opts, slot(opts))
}

/// Any item, weighted towards valid leads.
pub fn any_item(opts: &Options) -> BoxedStrategy<ItemSpec> {
    prop_oneof![
        5 => valid_item(opts),
        1 => non_object_item(),
        2 => invalid_object_item(opts),
        2 => maybe_item(opts),
    ]
    .boxed()
}

/// A batch of 0..=`max_batch` mixed items, with identities repeated inside the
/// batch (fresh slots) and across batches (pooled slots).
pub fn batch(opts: &Options) -> BoxedStrategy<Vec<ItemSpec>> {
    proptest::collection::vec(any_item(opts), 0..=opts.max_batch).boxed()
}

/// A batch of 1..=`max` certainly valid leads with distinct fresh identities.
pub fn fresh_valid_batch(opts: &Options, max: usize) -> BoxedStrategy<Vec<ItemSpec>> {
    proptest::collection::vec(
        valid_item_in(opts, Just(Slot::Fresh(0)).boxed()),
        1..=max.max(1),
    )
    .prop_map(|mut items| {
        for (k, item) in items.iter_mut().enumerate() {
            item.slot = Some(Slot::Fresh(k as u8));
        }
        items
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn valid_states_are_states() {
        for s in STATES {
            assert!(sela_leads::rules::US_STATES.contains(s), "{s}");
        }
    }

    #[test]
    fn numbers_are_fictional_and_emails_tagged() {
        let opts = Options::default();
        let mut runner = TestRunner::deterministic();
        let mut ids = Identities::new("tag", 5, 4);
        for _ in 0..200 {
            let specs = batch(&opts).new_tree(&mut runner).unwrap().current();
            for item in ids.render(&specs) {
                if let Some(phone) = item.value.get("phone_number").and_then(Value::as_str) {
                    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
                    // `+1` and eleven digits: its first ten are the slot's number.
                    let overlong = digits.len() == 12 && phone.starts_with("+1");
                    if digits.len() >= 10 {
                        let national = if overlong {
                            &digits[1..11]
                        } else {
                            &digits[digits.len() - 10..]
                        };
                        assert_eq!(&national[3..6], "555", "{phone}");
                        let line: u32 = national[6..].parse().unwrap();
                        assert!((100..=199).contains(&line), "{phone}");
                    }
                }
                if let Some(email) = item.value.get("email").and_then(Value::as_str)
                    && email.contains('@')
                    && !email.contains(' ')
                {
                    assert!(
                        email.to_ascii_lowercase().ends_with(".tag@example.com"),
                        "{email}"
                    );
                }
            }
        }
    }
}
