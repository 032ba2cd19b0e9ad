//! What the generator cannot express, each with its consequence. A mismatch
//! between the spec and the client passes `--check` only if one of these rules
//! matches it by kind and exact values (and, for replacements, by schema), so a
//! new kind of difference fails instead of being dropped.

use super::shape::{Kind, Mismatch};

/// A named limitation of the generator.
pub struct Limitation {
    /// Short stable name.
    pub id: &'static str,
    /// What it means for a user of the client.
    pub consequence: &'static str,
    matches: fn(&Mismatch) -> bool,
}

impl Limitation {
    /// Whether this limitation explains `m`.
    pub fn explains(&self, m: &Mismatch) -> bool {
        (self.matches)(m)
    }
}

/// Every limitation, in the order they are printed.
pub const LIMITATIONS: &[Limitation] = &[
    Limitation {
        id: "json-only-bodies",
        consequence: "request bodies are narrowed to application/json (progenitor panics on \
                      more than one media type); form-urlencoded and multipart bodies cannot \
                      be sent",
        matches: |m| {
            m.kind == Kind::Narrowed
                && matches!(
                    m.spec.as_str(),
                    "application/x-www-form-urlencoded" | "multipart/form-data"
                )
        },
    },
    Limitation {
        id: "no-explicit-null",
        consequence: "an optional nullable field is one Option skipped when None: the client \
                      cannot send an explicit null (PATCH cannot clear a field), and absent \
                      and null decode alike",
        matches: |m| m.kind == Kind::ExplicitNull,
    },
    Limitation {
        id: "optional-accepts-null",
        consequence: "an optional non-nullable field is an Option: a null the spec forbids \
                      decodes as absent instead of failing (never sent: None is skipped)",
        matches: |m| {
            m.kind == Kind::Nullable && m.spec == "false" && m.client == "true" && m.field.is_some()
        },
    },
    Limitation {
        id: "empty-array-elided",
        consequence: "an optional array is a Vec with a default: an absent array decodes as \
                      empty and an empty one is not sent",
        matches: |m| m.kind == Kind::EmptyArray,
    },
    Limitation {
        id: "format-not-validated",
        consequence: "format email and uri are plain String: neither side validates them",
        matches: |m| {
            m.kind == Kind::Format
                && matches!(m.spec.as_str(), "email" | "uri")
                && m.client == "none"
        },
    },
    Limitation {
        id: "integer-bounds-not-enforced",
        consequence: "minimum/maximum of a format int64 integer are dropped: i64 takes any \
                      value and out-of-range values are sent without a client-side error",
        matches: |m| m.kind == Kind::Bounds && m.client == "none..=none",
    },
    Limitation {
        id: "unknown-keys-dropped",
        consequence: "objects open in the spec (no additionalProperties) are plain structs: \
                      keys the spec does not name are ignored on decode and lost on re-send",
        matches: |m| m.kind == Kind::UnknownKeysDropped,
    },
    Limitation {
        id: "metadata-replaced",
        consequence: "LeadMetadata (any JSON, additionalProperties: true) would drop unknown \
                      keys and refuse a non-object; it is replaced by crate::Metadata, which \
                      keeps every key and any value, whose schemars output is still compared \
                      with the spec",
        matches: |m| {
            m.kind == Kind::Replaced && m.schema == "LeadMetadata" && m.client == "crate::Metadata"
        },
    },
    Limitation {
        id: "api-error-replaced",
        consequence: "ApiError (additionalProperties: true) would drop the per-field messages \
                      of a 400; it is replaced by crate::ApiErrorBody, a map that keeps them, \
                      whose schemars output is still compared with the spec",
        matches: |m| {
            m.kind == Kind::Replaced && m.schema == "ApiError" && m.client == "crate::ApiErrorBody"
        },
    },
    Limitation {
        id: "timestamp-replaced",
        consequence: "Timestamp (date-time) would fail a whole lead, and a listing's page, on \
                      one malformed time (the documentation's own sample has one); it is \
                      replaced by crate::Timestamp, the raw text with a parsed-time accessor",
        matches: |m| {
            m.kind == Kind::Replaced && m.schema == "Timestamp" && m.client == "crate::Timestamp"
        },
    },
    Limitation {
        id: "us-state-replaced",
        consequence: "UsState (an enum read, not documented, as the 50 states and DC) is \
                      replaced by crate::UsState, the same named values plus an explicit \
                      UsState::Other escape hatch for any other two-letter code (territories)",
        matches: |m| {
            m.kind == Kind::Replaced && m.schema == "UsState" && m.client == "crate::UsState"
        },
    },
    Limitation {
        id: "request-enums-replaced",
        consequence: "LeadStatus and StatusReason (documented value lists that are cut off) \
                      are replaced by crate::LeadStatus and crate::StatusReason, the same \
                      named values plus an explicit Other escape hatch for values the lists \
                      lack (LATE_CALLBACK, a newer status_reason)",
        matches: |m| {
            m.kind == Kind::Replaced
                && matches!(
                    (m.schema.as_str(), m.client.as_str()),
                    ("LeadStatus", "crate::LeadStatus") | ("StatusReason", "crate::StatusReason")
                )
        },
    },
    Limitation {
        id: "bulk-result-open",
        consequence: "BulkCreateLeadAction and BulkCreateLeadError would fail a whole bulk \
                      answer on an undocumented action or a non-string error; they are \
                      replaced by crate::BulkCreateLeadAction (the documented values plus \
                      Other) and crate::BulkItemError (any JSON value, a message on demand)",
        matches: |m| {
            m.kind == Kind::Replaced
                && matches!(
                    (m.schema.as_str(), m.client.as_str()),
                    ("BulkCreateLeadAction", "crate::BulkCreateLeadAction")
                        | ("BulkCreateLeadError", "crate::BulkItemError")
                )
        },
    },
    Limitation {
        id: "patch-null-replaced",
        consequence: "NullableLeadMetadata and NullableStatusReason (PATCH fields that may be \
                      set to null) are crate::Nullable, whose Null is sent as an explicit \
                      null inside the skipped Option: None leaves the field out, \
                      Some(Nullable::Null) clears it",
        matches: |m| {
            m.kind == Kind::Replaced
                && matches!(
                    (m.schema.as_str(), m.client.as_str()),
                    ("NullableLeadMetadata", "crate::Nullable<crate::Metadata>")
                        | (
                            "NullableStatusReason",
                            "crate::Nullable<crate::StatusReason>"
                        )
                )
        },
    },
    Limitation {
        id: "security-not-generated",
        consequence: "security schemes are ignored: the generated client sends no \
                      Authorization header; crate::Client adds `Token <key>` to every request",
        matches: |m| m.kind == Kind::Security && m.schema == "tokenAuth",
    },
];
