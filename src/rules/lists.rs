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

/// Full names of the states, DC and the inhabited territories with their USPS
/// codes, the way CRMs (Salesforce, HubSpot) and the API's own example store
/// a state: the one list the importer turns `Virginia` into `VA` with.
pub const US_STATE_NAMES: &[(&str, &str)] = &[
    ("Alabama", "AL"),
    ("Alaska", "AK"),
    ("Arizona", "AZ"),
    ("Arkansas", "AR"),
    ("California", "CA"),
    ("Colorado", "CO"),
    ("Connecticut", "CT"),
    ("Delaware", "DE"),
    ("Florida", "FL"),
    ("Georgia", "GA"),
    ("Hawaii", "HI"),
    ("Idaho", "ID"),
    ("Illinois", "IL"),
    ("Indiana", "IN"),
    ("Iowa", "IA"),
    ("Kansas", "KS"),
    ("Kentucky", "KY"),
    ("Louisiana", "LA"),
    ("Maine", "ME"),
    ("Maryland", "MD"),
    ("Massachusetts", "MA"),
    ("Michigan", "MI"),
    ("Minnesota", "MN"),
    ("Mississippi", "MS"),
    ("Missouri", "MO"),
    ("Montana", "MT"),
    ("Nebraska", "NE"),
    ("Nevada", "NV"),
    ("New Hampshire", "NH"),
    ("New Jersey", "NJ"),
    ("New Mexico", "NM"),
    ("New York", "NY"),
    ("North Carolina", "NC"),
    ("North Dakota", "ND"),
    ("Ohio", "OH"),
    ("Oklahoma", "OK"),
    ("Oregon", "OR"),
    ("Pennsylvania", "PA"),
    ("Rhode Island", "RI"),
    ("South Carolina", "SC"),
    ("South Dakota", "SD"),
    ("Tennessee", "TN"),
    ("Texas", "TX"),
    ("Utah", "UT"),
    ("Vermont", "VT"),
    ("Virginia", "VA"),
    ("Washington", "WA"),
    ("West Virginia", "WV"),
    ("Wisconsin", "WI"),
    ("Wyoming", "WY"),
    ("District of Columbia", "DC"),
    ("Washington DC", "DC"),
    ("Washington D.C.", "DC"),
    ("Puerto Rico", "PR"),
    ("Guam", "GU"),
    ("U.S. Virgin Islands", "VI"),
    ("US Virgin Islands", "VI"),
    ("United States Virgin Islands", "VI"),
    ("Virgin Islands", "VI"),
    ("American Samoa", "AS"),
    ("Northern Mariana Islands", "MP"),
    ("Commonwealth of the Northern Mariana Islands", "MP"),
];

/// The USPS code of a state, DC or territory given by its code or full name,
/// in any case and spacing (`virginia`, `NEW  YORK`, `va`); `None` otherwise.
pub fn us_state_code(name: &str) -> Option<&'static str> {
    let words = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let name = words(name);
    US_STATES
        .iter()
        .chain(US_DISTRICT_AND_TERRITORIES)
        .find(|code| code.eq_ignore_ascii_case(&name))
        .copied()
        .or_else(|| {
            US_STATE_NAMES
                .iter()
                .find(|(full, _)| words(full) == name)
                .map(|(_, code)| *code)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_name_and_names_match_in_any_case() {
        for code in US_STATES.iter().chain(US_DISTRICT_AND_TERRITORIES) {
            assert!(
                US_STATE_NAMES.iter().any(|(_, c)| c == code),
                "{code} has no name"
            );
            assert_eq!(us_state_code(code), Some(*code));
        }
        assert!(US_STATE_NAMES.iter().all(|(_, c)| is_us_state_code(c)));
        for (name, code) in [
            ("Virginia", "VA"),
            ("VIRGINIA", "VA"),
            ("  west   virginia ", "WV"),
            ("va", "VA"),
            ("Puerto Rico", "PR"),
            ("district of columbia", "DC"),
        ] {
            assert_eq!(us_state_code(name), Some(code), "{name}");
        }
        for other in ["Virginiaa", "Ontario", "ZZ", "", "West"] {
            assert_eq!(us_state_code(other), None, "{other}");
        }
    }
}
