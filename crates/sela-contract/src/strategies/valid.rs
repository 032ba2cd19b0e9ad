//! Certainly valid leads and the identity slots items draw from.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use super::spec::{
    Category, EmailSpec, ItemSpec, Options, PhoneForm, PhoneSpec, SERIAL_MARK, Slot,
};

const FIRST_NAMES: &[&str] = &["Ada", "Grace", "Alan", "Edsger", "Barbara"];
const LAST_NAMES: &[&str] = &["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov"];
/// States sent in certainly valid leads (DC and the territories are maybe
/// invalid: the documentation does not say whether they are accepted).
const STATES: &[&str] = &["CA", "NY", "TX", "VA", "WA", "FL", "MT", "AK"];

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

pub(super) fn valid_fields(opts: &Options) -> BoxedStrategy<Vec<(String, Value)>> {
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
pub(super) fn invalid_slot(opts: &Options) -> BoxedStrategy<Slot> {
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

    #[test]
    fn valid_states_are_states() {
        for s in STATES {
            assert!(sela_leads::rules::US_STATES.contains(s), "{s}");
        }
    }
}
