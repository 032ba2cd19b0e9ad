//! The documented value lists and field names of a lead, and the message for
//! a bulk item that is not an object.

/// The documented per-item error for a bulk item that is not a JSON object.
pub const NOT_AN_OBJECT: &str = "Each lead must be a JSON object.";

/// Two-letter USPS codes of the 50 states: the `us_state` values that are
/// certainly valid.
pub const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY",
];

/// USPS codes of the District of Columbia and the inhabited territories (all in
/// the NANP). The documentation does not say whether the API accepts them, so
/// they are maybe invalid for the contract; the sandbox accepts them.
pub const US_DISTRICT_AND_TERRITORIES: &[&str] = &["DC", "PR", "GU", "VI", "AS", "MP"];

/// True when `code` is accepted in `us_state`: a state, DC or a territory.
pub fn is_us_state_code(code: &str) -> bool {
    US_STATES.contains(&code) || US_DISTRICT_AND_TERRITORIES.contains(&code)
}

/// Every documented `status` value (the union of the old and new lists).
pub const LEAD_STATUSES: &[&str] = &[
    "UNKNOWN",
    "NEW",
    "OPEN",
    "CALLBACK_TO_TRANSFER",
    "CLOSED",
    "CLOSED_INCOMPLETE",
    "LOST",
    "SCHEDULE_COMPLETED",
    "OUT_OF_TERRITORY",
    "CANCELLED",
];

/// Every documented `status_reason` value.
pub const STATUS_REASONS: &[&str] = &["UNKNOWN", "WEBHOOK", "MANUAL", "CHAT"];

/// Top-level keys that are lead fields a caller may write.
pub const WRITABLE_FIELDS: &[&str] = &[
    "phone_number",
    "email",
    "metadata",
    "status",
    "status_reason",
    "lead_type",
    "representative",
    "external_id",
    "lead_source",
    "us_state",
    "reengagement_count",
    "reengagement_time",
    "call_schedule_start_time",
    "min_reengagement_days",
    "call_dnc",
    "sms_dnc",
];

/// Top-level keys that are read-only lead fields: ignored when sent, as Django
/// REST framework ignores read-only fields, and never folded into metadata.
pub const READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "created_time",
    "modified_time",
    "received_time",
    "next_call_time",
    "next_call_time_reason",
    "reengagements_count",
    "last_reengagement_time",
];

/// Longest string accepted in `external_id` and `lead_source`.
pub const MAX_STRING_LEN: usize = 255;
