//! The leads of an import: each as the caller gives it ([`Lead`]), and those
//! of a chunk as they go on the wire ([`Payload`]).

use crate::api::types::LeadRequest;
use serde_json::Value;

/// One lead to import: typed, raw JSON, or input that could not be parsed.
// `Typed` is the common case and the largest (its open enums hold a `String`
// for values the documented lists lack): boxing it would cost an allocation
// per lead to shrink the rarer variants.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Lead {
    /// A typed lead.
    Typed(LeadRequest),
    /// A lead as a JSON value, sent as given (the server judges it).
    Json(Value),
    /// Input that could not be parsed into a lead: never sent, reported in
    /// place as [`ImportOutcome::Invalid`](super::ImportOutcome::Invalid) so
    /// no input row is lost.
    Invalid(String),
}

impl From<LeadRequest> for Lead {
    fn from(lead: LeadRequest) -> Self {
        Self::Typed(lead)
    }
}

impl From<Value> for Lead {
    fn from(value: Value) -> Self {
        Self::Json(value)
    }
}

/// The leads of a chunk as they go on the wire.
pub(super) enum Payload {
    Typed(Vec<LeadRequest>),
    Json(Vec<Value>),
}
