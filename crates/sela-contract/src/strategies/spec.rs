//! The item model: what a generated item is before rendering ([`ItemSpec`]:
//! its category, identity slot and fields) and after ([`GenItem`]: the JSON
//! sent), and the options the generators take.

use std::fmt;

use serde_json::Value;

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

/// Placeholder for a value the renderer fills per item: `external_id` becomes a
/// per-run tagged id, a metadata value becomes the item's serial number. Each
/// item gets its own, so a neighbour's value stored on a lead shows.
pub const SERIAL_MARK: &str = "\u{1}serial";
