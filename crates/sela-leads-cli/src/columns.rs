//! Which input column (or JSON key) goes to which lead field: names compared
//! case-, space-, dash- and underscore-insensitively, common aliases, and
//! explicit `COLUMN=FIELD` mappings.

use crate::aliases::{ALIASES, METADATA_ALIASES};
use sela_leads::KNOWN_METADATA_KEYS;
use std::collections::BTreeMap;
use std::fmt;

/// Lead fields whose values are text.
pub const TEXT_FIELDS: &[&str] = &[
    "phone_number",
    "email",
    "external_id",
    "lead_source",
    "us_state",
    "status",
    "status_reason",
    "call_schedule_start_time",
    "reengagement_time",
];

/// Lead fields whose values are integers (sent as text when they do not
/// parse, so the server or the dry run names the field).
pub const INTEGER_FIELDS: &[&str] = &[
    "lead_type",
    "representative",
    "reengagement_count",
    "min_reengagement_days",
];

/// Where one column's values go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A lead field (one of [`TEXT_FIELDS`] or [`INTEGER_FIELDS`]).
    Field(&'static str),
    /// One of several columns for one lead field: per row, the first
    /// non-empty one by `choice` (0 first) fills the field, and the others'
    /// cells go to metadata under their column names.
    Choice {
        /// The field.
        field: &'static str,
        /// This column's place in the order of preference (0 first).
        choice: usize,
        /// How many columns compete for the field.
        of: usize,
    },
    /// A metadata key.
    Metadata(String),
    /// A JSON object merged into the metadata (the `metadata` column).
    MetadataObject,
    /// Ignored (an empty column name).
    Skip,
}

impl Target {
    /// True for an integer lead field.
    pub fn is_integer(&self) -> bool {
        self.field()
            .is_some_and(|name| INTEGER_FIELDS.contains(&name))
    }

    /// The lead field this column fills (or may fill, for a [`Target::Choice`]).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Field(name) | Self::Choice { field: name, .. } => Some(name),
            _ => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(name) => f.write_str(name),
            Self::Choice { field, choice, of } => {
                write!(
                    f,
                    "{field} (choice {} of {of}: first non-empty wins)",
                    choice + 1
                )
            }
            Self::Metadata(key) => write!(f, "metadata.{key}"),
            Self::MetadataObject => f.write_str("metadata (JSON object)"),
            Self::Skip => f.write_str("ignored"),
        }
    }
}

/// Lower case, with everything but letters and digits removed:
/// `Phone Number`, `phone-number` and `PHONE_NUMBER` all give `phonenumber`.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The lead field a name stands for, by its normalised form or an alias.
pub fn field(name: &str) -> Option<&'static str> {
    ranked_field(name).map(|(field, _)| field)
}

/// The lead field a name stands for and its rank among the columns that
/// may fill it (see `ALIASES`; an exact field name not listed there is rank 0).
pub fn ranked_field(name: &str) -> Option<(&'static str, u8)> {
    let key = normalise(name);
    ALIASES
        .iter()
        .find(|(alias, _, _)| *alias == key)
        .map(|(_, field, rank)| (*field, *rank))
        .or_else(|| {
            TEXT_FIELDS
                .iter()
                .chain(INTEGER_FIELDS)
                .find(|field| normalise(field) == key)
                .map(|field| (*field, 0))
        })
}

/// What a `us_state` cell is sent as: the two-letter code of a state, DC or
/// territory named by its code or full name in any case, with the full name
/// when one was given (for `metadata.state`, as the API's example stores
/// it); anything else unchanged, for the checks to judge.
pub fn state_value(text: &str) -> (String, Option<String>) {
    match sela_leads::rules::us_state_code(text) {
        Some(code) if code.eq_ignore_ascii_case(text.trim()) => (code.to_owned(), None),
        Some(code) => (code.to_owned(), Some(text.trim().to_owned())),
        None => (text.to_owned(), None),
    }
}

/// An explicit mapping was not understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// Not of the form `COLUMN=FIELD`.
    #[error("--map `{0}` is not of the form 'COLUMN=FIELD'")]
    Syntax(String),
    /// The field is neither a lead field nor `metadata.KEY`.
    #[error(
        "--map `{0}`: `{1}` is not a lead field (one of {fields}) nor `metadata.KEY`",
        fields = TEXT_FIELDS.iter().chain(INTEGER_FIELDS).copied().collect::<Vec<_>>().join(", ")
    )]
    UnknownField(String, String),
    /// A mapping names a column the input does not have.
    #[error("--map names column `{column}`, which is not among the columns found: {found}")]
    NoSuchColumn {
        /// The column named.
        column: String,
        /// The columns found, comma-separated.
        found: String,
    },
    /// Two columns would fill the same field.
    #[error("columns `{0}` and `{1}` both map to `{2}`; map one elsewhere with --map")]
    Ambiguous(String, String, String),
}

/// Explicit `COLUMN=FIELD` mappings, by normalised column name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mappings(BTreeMap<String, (String, Target)>);

impl Mappings {
    /// Parses `--map` arguments (`'Cell Phone=phone_number'`, `'Zip=metadata.zip'`).
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Self, MapError> {
        let mut map = BTreeMap::new();
        for arg in args {
            let arg = arg.as_ref();
            let (column, target) = arg
                .split_once('=')
                .map(|(c, t)| (c.trim(), t.trim()))
                .filter(|(c, t)| !c.is_empty() && !t.is_empty())
                .ok_or_else(|| MapError::Syntax(arg.to_owned()))?;
            let target = if let Some(key) = target.strip_prefix("metadata.") {
                Target::Metadata(key.to_owned())
            } else {
                let exact = TEXT_FIELDS
                    .iter()
                    .chain(INTEGER_FIELDS)
                    .find(|f| normalise(f) == normalise(target));
                Target::Field(
                    exact
                        .ok_or_else(|| MapError::UnknownField(arg.to_owned(), target.to_owned()))?,
                )
            };
            map.insert(normalise(column), (column.to_owned(), target));
        }
        Ok(Self(map))
    }

    /// True when no mapping was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn get(&self, name: &str) -> Option<&Target> {
        self.0.get(&normalise(name)).map(|(_, target)| target)
    }

    /// Where a column or JSON key goes: an explicit mapping, else a lead field
    /// (by name or alias), else `metadata` or `metadata.KEY`, else metadata
    /// under a known metadata key (`First Name` is `first_name`) or its own name.
    pub fn target(&self, name: &str) -> Target {
        let name = name.trim();
        if name.is_empty() {
            return Target::Skip;
        }
        if let Some(target) = self.get(name) {
            return target.clone();
        }
        if normalise(name) == "metadata" {
            return Target::MetadataObject;
        }
        if let Some(key) = name.strip_prefix("metadata.") {
            return Target::Metadata(key.to_owned());
        }
        if let Some(field) = field(name) {
            return Target::Field(field);
        }
        let normalised = normalise(name);
        let key = KNOWN_METADATA_KEYS
            .iter()
            .map(|(key, _)| *key)
            .find(|key| normalise(key) == normalised)
            .or_else(|| {
                METADATA_ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == normalised)
                    .map(|(_, key)| *key)
            })
            .unwrap_or(name);
        Target::Metadata(key.to_owned())
    }

    /// The rank of a column among those filling its field by name or alias
    /// (0 for an explicit mapping, which is never ranked against another).
    pub(super) fn rank(&self, name: &str) -> u8 {
        if self.get(name).is_some() {
            return 0;
        }
        ranked_field(name).map_or(0, |(_, rank)| rank)
    }

    /// The targets of a header row. An explicit mapping wins over a column
    /// that would fill the same field by its name (that one goes to
    /// metadata); columns of different ranks for one field become
    /// [`Target::Choice`]s in rank order; two columns of one rank filling one
    /// field or metadata key is an error, never a guess.
    pub fn resolve<S: AsRef<str>>(&self, headers: &[S]) -> Result<Vec<Target>, MapError> {
        let found = || {
            headers
                .iter()
                .map(|h| format!("`{}`", h.as_ref()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (column, _) in self.0.values() {
            if !headers
                .iter()
                .any(|h| normalise(h.as_ref()) == normalise(column))
            {
                return Err(MapError::NoSuchColumn {
                    column: column.clone(),
                    found: found(),
                });
            }
        }
        let explicit: Vec<&Target> = self.0.values().map(|(_, t)| t).collect();
        let mut targets: Vec<Target> = Vec::with_capacity(headers.len());
        // Each field or metadata key: the columns filling it, with their ranks.
        let mut seen: BTreeMap<String, Vec<(u8, usize)>> = BTreeMap::new();
        for (index, header) in headers.iter().enumerate() {
            let header = header.as_ref().trim();
            let mut target = self.target(header);
            if self.get(header).is_none() && explicit.contains(&&target) {
                target = Target::Metadata(header.to_owned());
            }
            if let Target::Field(_) | Target::Metadata(_) = &target {
                let rank = match target {
                    Target::Field(_) => self.rank(header),
                    _ => 0,
                };
                let key = target.to_string();
                let columns = seen.entry(key.clone()).or_default();
                if let Some((_, other)) = columns.iter().find(|(r, _)| *r == rank) {
                    let other = headers[*other].as_ref().trim().to_owned();
                    return Err(MapError::Ambiguous(other, header.to_owned(), key));
                }
                columns.push((rank, index));
            }
            targets.push(target);
        }
        for columns in seen.values_mut().filter(|c| c.len() > 1) {
            columns.sort();
            let of = columns.len();
            for (choice, (_, index)) in columns.iter().enumerate() {
                if let Target::Field(field) = targets[*index] {
                    targets[*index] = Target::Choice { field, choice, of };
                }
            }
        }
        Ok(targets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_loosely_and_by_alias() {
        for name in [
            "Phone Number",
            "phone-number",
            "PHONE_NUMBER",
            "phone",
            "Mobile",
        ] {
            assert_eq!(field(name), Some("phone_number"), "{name}");
        }
        assert_eq!(field("E-mail"), Some("email"));
        assert_eq!(field("State"), Some("us_state"));
        assert_eq!(field("CRM ID"), Some("external_id"));
        assert_eq!(field("Lead Type"), Some("lead_type"));
        assert_eq!(field("First Name"), None);
        let none = Mappings::default();
        assert_eq!(
            none.target("First Name"),
            Target::Metadata("first_name".into())
        );
        assert_eq!(
            none.target("Favourite colour"),
            Target::Metadata("Favourite colour".into())
        );
        assert_eq!(none.target("metadata.zip"), Target::Metadata("zip".into()));
        assert_eq!(none.target("Metadata"), Target::MetadataObject);
        assert_eq!(
            state_value("virginia"),
            ("VA".into(), Some("virginia".into()))
        );
        assert_eq!(state_value("va"), ("VA".into(), None));
        assert_eq!(state_value("Ontario"), ("Ontario".into(), None));
    }

    #[test]
    fn crm_export_headers_map_with_no_map() {
        let none = Mappings::default();
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "HubSpot",
                &[
                    "Record ID",
                    "First Name",
                    "Email",
                    "Phone Number",
                    "Mobile Phone Number",
                    "State/Region",
                    "Postal Code",
                ],
                &[
                    "external_id",
                    "metadata.first_name",
                    "email",
                    "phone_number (choice 2 of 2: first non-empty wins)",
                    "phone_number (choice 1 of 2: first non-empty wins)",
                    "us_state",
                    "metadata.zip",
                ],
            ),
            (
                "Salesforce report",
                &[
                    "Lead ID",
                    "First Name",
                    "Last Name",
                    "Phone",
                    "Mobile",
                    "Email",
                    "State/Province",
                    "Zip/Postal Code",
                    "Lead Source",
                ],
                &[
                    "external_id",
                    "metadata.first_name",
                    "metadata.last_name",
                    "phone_number (choice 2 of 2: first non-empty wins)",
                    "phone_number (choice 1 of 2: first non-empty wins)",
                    "email",
                    "us_state",
                    "metadata.zip",
                    "lead_source",
                ],
            ),
            (
                "Salesforce Data Loader",
                &[
                    "Id",
                    "FirstName",
                    "LastName",
                    "Phone",
                    "MobilePhone",
                    "Email",
                    "State",
                    "PostalCode",
                    "LeadSource",
                ],
                &[
                    "external_id",
                    "metadata.first_name",
                    "metadata.last_name",
                    "phone_number (choice 2 of 2: first non-empty wins)",
                    "phone_number (choice 1 of 2: first non-empty wins)",
                    "email",
                    "us_state",
                    "metadata.zip",
                    "lead_source",
                ],
            ),
            (
                "Zoho",
                &[
                    "Record Id",
                    "First Name",
                    "Phone",
                    "Mobile",
                    "Email",
                    "Secondary Email",
                    "State",
                    "Zip Code",
                ],
                &[
                    "external_id",
                    "metadata.first_name",
                    "phone_number (choice 2 of 2: first non-empty wins)",
                    "phone_number (choice 1 of 2: first non-empty wins)",
                    "email (choice 1 of 2: first non-empty wins)",
                    "email (choice 2 of 2: first non-empty wins)",
                    "us_state",
                    "metadata.zip",
                ],
            ),
            (
                "Pipedrive",
                &[
                    "Person - ID",
                    "Person - First name",
                    "Person - Phone",
                    "Person - Email",
                ],
                &[
                    "external_id",
                    "metadata.first_name",
                    "phone_number",
                    "email",
                ],
            ),
            (
                "Follow Up Boss",
                &[
                    "ID",
                    "First Name",
                    "Phone 1",
                    "Phone 2",
                    "Email 1",
                    "Address 1 - State",
                    "Address 1 - Zip",
                ],
                &[
                    "external_id",
                    "metadata.first_name",
                    "phone_number (choice 1 of 2: first non-empty wins)",
                    "phone_number (choice 2 of 2: first non-empty wins)",
                    "email",
                    "us_state",
                    "metadata.zip",
                ],
            ),
        ];
        for (crm, headers, expected) in cases {
            let got: Vec<String> = none
                .resolve(headers)
                .unwrap_or_else(|e| panic!("{crm}: {e}"))
                .iter()
                .map(Target::to_string)
                .collect();
            assert_eq!(got, *expected, "{crm}");
        }
    }

    #[test]
    fn explicit_mappings_win_and_ambiguity_is_refused() {
        let map = Mappings::parse(&["Cell Phone=phone_number", "Zip = metadata.zip"]).unwrap();
        let targets = map.resolve(&["Cell Phone", "Phone", "ZIP"]).unwrap();
        assert_eq!(
            targets,
            [
                Target::Field("phone_number"),
                Target::Metadata("Phone".into()),
                Target::Metadata("zip".into())
            ]
        );
        let none = Mappings::default();
        assert!(matches!(
            none.resolve(&["Phone", "Phone Number"]),
            Err(MapError::Ambiguous(..))
        ));
        assert!(matches!(
            none.resolve(&["Lead ID", "Contact ID"]),
            Err(MapError::Ambiguous(..))
        ));
        // A phone and a mobile column: the mobile first, per row.
        assert_eq!(
            none.resolve(&["Phone", "Mobile", "Home Phone"]).unwrap(),
            [
                Target::Choice {
                    field: "phone_number",
                    choice: 1,
                    of: 3
                },
                Target::Choice {
                    field: "phone_number",
                    choice: 0,
                    of: 3
                },
                Target::Choice {
                    field: "phone_number",
                    choice: 2,
                    of: 3
                },
            ]
        );
        // --map still wins: the other phone columns go to metadata.
        let mapped = Mappings::parse(&["Phone=phone_number"]).unwrap();
        assert_eq!(
            mapped.resolve(&["Phone", "Mobile"]).unwrap(),
            [
                Target::Field("phone_number"),
                Target::Metadata("Mobile".into())
            ]
        );
        assert!(matches!(
            map.resolve(&["Phone"]),
            Err(MapError::NoSuchColumn { .. })
        ));
        assert!(matches!(Mappings::parse(&["x"]), Err(MapError::Syntax(_))));
        assert!(matches!(
            Mappings::parse(&["x=phone_nr"]),
            Err(MapError::UnknownField(..))
        ));
    }
}
