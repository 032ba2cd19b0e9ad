//! One generated walk of a lead through the operations ([`Scenario`]) and
//! the strategy that draws it.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::fidelity;
use crate::strategies::PhoneForm;

/// One generated walk of a lead through the operations.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Fields a PATCH sends (U1), from the fields a caller may write.
    pub patch: Vec<(String, Value)>,
    /// The US format of the re-sends of the lead's number (C1, R1).
    pub resend_form: PhoneForm,
    /// Concurrent re-sends of the lead (R1: each adds one).
    pub concurrent: usize,
    /// The do-not-contact flag set true (R2).
    pub flag: &'static str,
    /// R2's re-engagement goes through single create (else bulk).
    pub reengage_single: bool,
    /// U3 moves the e-mail address (else the phone number).
    pub move_email: bool,
    /// Which of [`fidelity::challenges`] the lead carries (B5).
    pub fidelity: usize,
}

/// Scenarios: shrinking goes towards one plain PATCH field, one re-send, the
/// first fidelity values.
pub fn scenario() -> BoxedStrategy<Scenario> {
    let field = prop_oneof![
        Just(("lead_source".to_owned(), json!("patched-source"))),
        prop::sample::select(vec!["NY", "TX", "WA", "MT"])
            .prop_map(|s| ("us_state".to_owned(), json!(s))),
        Just(("external_id".to_owned(), json!("patched-ext"))),
        (0i64..1000).prop_map(|n| ("metadata".to_owned(), json!({"stage": "patched", "n": n}))),
    ];
    (
        prop::collection::vec(field, 1..4),
        prop::sample::select(vec![
            PhoneForm::E164,
            PhoneForm::Dashed,
            PhoneForm::Parens,
            PhoneForm::Digits,
            PhoneForm::SpacedOne,
        ]),
        1usize..4,
        prop::sample::select(vec!["call_dnc", "sms_dnc"]),
        any::<bool>(),
        any::<bool>(),
        0..fidelity::challenges().len(),
    )
        .prop_map(
            |(mut patch, resend_form, concurrent, flag, reengage_single, move_email, fidelity)| {
                // One value per field: the last one sent counts.
                let mut seen = std::collections::HashSet::new();
                patch.reverse();
                patch.retain(|(k, _)| seen.insert(k.clone()));
                patch.reverse();
                Scenario {
                    patch,
                    resend_form,
                    concurrent,
                    flag,
                    reengage_single,
                    move_email,
                    fidelity,
                }
            },
        )
        .boxed()
}
