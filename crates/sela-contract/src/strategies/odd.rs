//! Items the contract calls certainly invalid (non-objects, objects with one
//! listed defect) and maybe invalid (sent to learn), and the other US phone
//! formats.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use sela_leads::rules::US_DISTRICT_AND_TERRITORIES;

use super::spec::{Category, EmailSpec, ItemSpec, Options, PhoneForm, PhoneSpec, Slot};
use super::valid::{invalid_slot, slot, valid_fields};

/// Area codes outside the certainly-valid rule or unusual (maybe invalid).
const ODD_AREA_CODES: &[&str] = &["123", "011", "411", "911", "555", "999", "370", "960"];
/// Names outside ASCII, sent in maybe invalid items.
const NON_ASCII_NAMES: &[&str] = &["Zoë", "Łukasz", "李雷", "José", "Ångström"];

/// First fresh slot of upper-case e-mail items (fresh slots below are valid,
/// maybe and invalid items' own).
const UPPER_CASE_SLOTS: u8 = 200;

/// A JSON value that is not an object.
pub fn non_object_item() -> BoxedStrategy<ItemSpec> {
    select(vec![
        json!(null),
        json!(42),
        json!(3.5),
        json!("lead"),
        json!(""),
        json!(true),
        json!(false),
        json!([]),
        json!([{"phone_number": "+12125550100"}]),
    ])
    .prop_map(|v| ItemSpec {
        category: Category::NonObject,
        kind: "not an object",
        slot: None,
        phone: PhoneSpec::Absent,
        email: EmailSpec::Absent,
        fields: Vec::new(),
        whole: Some(v),
    })
    .boxed()
}

/// One defect: label, phone, e-mail, and an extra field that overrides.
type Defect = (
    &'static str,
    PhoneSpec,
    EmailSpec,
    Option<(&'static str, Value)>,
);

/// A defect in the phone number; the e-mail is the slot's own.
fn bad_phone(kind: &'static str, phone: PhoneSpec) -> Defect {
    (kind, phone, EmailSpec::Slot, None)
}

/// A defect in the e-mail; the phone number is the slot's own.
fn bad_email(kind: &'static str, email: Value) -> Defect {
    (
        kind,
        PhoneSpec::Slot(PhoneForm::E164),
        EmailSpec::Literal(email),
        None,
    )
}

/// A valid identity with one lead field overridden by `value`.
fn bad_field(kind: &'static str, key: &'static str, value: Value) -> Defect {
    (
        kind,
        PhoneSpec::Slot(PhoneForm::E164),
        EmailSpec::Slot,
        Some((key, value)),
    )
}

/// A certainly invalid object: one defect from CONTRACT.md's list on an
/// otherwise valid lead.
pub fn invalid_object_item(opts: &Options) -> BoxedStrategy<ItemSpec> {
    let defects: Vec<Defect> = vec![
        bad_phone("phone_number missing", PhoneSpec::Absent),
        bad_phone("phone_number null", PhoneSpec::Literal(Value::Null)),
        bad_phone("phone_number empty", PhoneSpec::Literal(json!(""))),
        bad_phone(
            "phone_number with letters",
            PhoneSpec::Literal(json!("+1212555CALL")),
        ),
        bad_phone(
            "phone_number with letters",
            PhoneSpec::Literal(json!("212-555-HELP")),
        ),
        bad_phone(
            "phone_number too short",
            PhoneSpec::Literal(json!("555-0123")),
        ),
        bad_phone("phone_number too short", PhoneSpec::Literal(json!("12345"))),
        bad_phone("phone_number +1 with eleven digits", PhoneSpec::Overlong),
        bad_phone("phone_number +1 with eleven digits", PhoneSpec::Overlong),
        bad_email("email not an address", json!("not-an-email")),
        bad_email("email not an address", json!("x y@example.com")),
        bad_field("us_state not a code", "us_state", json!("ZZ")),
        bad_field("us_state not a code", "us_state", json!("California")),
        bad_field("lead_type not an id", "lead_type", json!("abc")),
        bad_field("lead_type not an id", "lead_type", json!({})),
        bad_field("lead_type not an id", "lead_type", json!([])),
        bad_field("representative not an id", "representative", json!("abc")),
        bad_field("representative not an id", "representative", json!({})),
        bad_field("representative not an id", "representative", json!([])),
    ];
    (select(defects), invalid_slot(opts), valid_fields(opts))
        .prop_map(|((kind, phone, email, extra), slot, mut fields)| {
            if let Some((key, value)) = extra {
                fields.retain(|(k, _)| k != key);
                fields.push((key.to_owned(), value));
            }
            ItemSpec {
                category: Category::Invalid,
                kind,
                slot: Some(slot),
                phone,
                email,
                fields,
                whole: None,
            }
        })
        .boxed()
}

/// A certainly invalid item: a non-object or an object with one listed defect.
pub fn invalid_item(opts: &Options) -> BoxedStrategy<ItemSpec> {
    prop_oneof![
        1 => non_object_item(),
        3 => invalid_object_item(opts),
    ]
    .boxed()
}

/// A maybe invalid lead: other phone formats, unusual area codes, blank or null
/// e-mail, long strings, non-ASCII names, unknown top-level keys.
pub fn maybe_item(opts: &Options) -> BoxedStrategy<ItemSpec> {
    let base = |kind: &'static str, phone: PhoneSpec, email: EmailSpec| ItemSpec {
        category: Category::Maybe,
        kind,
        slot: None,
        phone,
        email,
        fields: Vec::new(),
        whole: None,
    };
    let forms = maybe_phone_form().prop_map(move |form| {
        base(
            "phone in a US format",
            PhoneSpec::Slot(form),
            EmailSpec::Slot,
        )
    });
    let odd_area = (select(ODD_AREA_CODES), 100u16..200).prop_map(move |(area, line)| {
        base(
            "unusual area code",
            PhoneSpec::Literal(json!(format!("+1{area}555{line:04}"))),
            EmailSpec::Slot,
        )
    });
    let email = select(vec![
        ("email blank", EmailSpec::Literal(json!(""))),
        ("email null", EmailSpec::Literal(Value::Null)),
        ("email absent", EmailSpec::Absent),
        ("email upper case", EmailSpec::SlotUpper),
    ])
    .prop_map(move |(kind, email)| base(kind, PhoneSpec::Slot(PhoneForm::E164), email));
    let extra = select(vec![
        ("long external_id", "external_id", json!("x".repeat(300))),
        ("long lead_source", "lead_source", json!("s".repeat(256))),
        ("unknown top-level key", "favorite_color", json!("teal")),
        ("unknown top-level key", "first_name", json!("Ada")),
        ("us_state lower case", "us_state", json!("ca")),
        ("lead_type null", "lead_type", Value::Null),
        ("metadata empty", "metadata", json!({})),
    ])
    .prop_map(move |(kind, key, value)| {
        let mut item = base(kind, PhoneSpec::Slot(PhoneForm::E164), EmailSpec::Slot);
        item.fields.push((key.to_owned(), value));
        item
    });
    let territory = select(US_DISTRICT_AND_TERRITORIES).prop_map(move |code| {
        let mut item = base(
            "us_state DC or a territory",
            PhoneSpec::Slot(PhoneForm::E164),
            EmailSpec::Slot,
        );
        item.fields.push(("us_state".to_owned(), json!(code)));
        item
    });
    let names = select(NON_ASCII_NAMES).prop_map(move |name| {
        let mut item = base(
            "non-ASCII name",
            PhoneSpec::Slot(PhoneForm::E164),
            EmailSpec::Slot,
        );
        item.fields.push((
            "metadata".to_owned(),
            json!({"first_name": name, "last_name": "Ñúñez"}),
        ));
        item
    });
    (
        prop_oneof![forms, odd_area, email, extra, territory, names],
        slot(opts),
    )
        .prop_map(|(mut item, slot)| {
            item.slot = Some(slot);
            if item.email == EmailSpec::SlotUpper {
                // An identity of its own, never sent in lower case: whether the
                // target folds e-mail case is observed, not asserted.
                let (Slot::Fresh(k) | Slot::Pooled(k)) = slot;
                item.slot = Some(Slot::Fresh(UPPER_CASE_SLOTS + k % 50));
            }
            item
        })
        .boxed()
}

/// The US formats other than E.164 (one identity, however it is written).
pub fn maybe_phone_form() -> BoxedStrategy<PhoneForm> {
    select(OTHER_FORMS.to_vec()).boxed()
}

/// Every accepted US format but E.164.
pub const OTHER_FORMS: &[PhoneForm] = &[
    PhoneForm::Dashed,
    PhoneForm::Parens,
    PhoneForm::Dotted,
    PhoneForm::Digits,
    PhoneForm::Digits11,
    PhoneForm::SpacedPlus,
    PhoneForm::SpacedOne,
];
