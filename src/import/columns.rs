//! Which input column (or JSON key) goes to which lead field: names compared
//! case-, space-, dash- and underscore-insensitively, common aliases, and
//! explicit `COLUMN=FIELD` mappings.

use crate::KNOWN_METADATA_KEYS;
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

/// Other names people give the lead fields, as [`normalise`]d keys.
const ALIASES: &[(&str, &str)] = &[
    ("phone", "phone_number"),
    ("phoneno", "phone_number"),
    ("mobile", "phone_number"),
    ("mobilephone", "phone_number"),
    ("mobilenumber", "phone_number"),
    ("cell", "phone_number"),
    ("cellphone", "phone_number"),
    ("telephone", "phone_number"),
    ("tel", "phone_number"),
    ("emailaddress", "email"),
    ("mail", "email"),
    ("state", "us_state"),
    ("crmid", "external_id"),
    ("source", "lead_source"),
];

/// Where one column's values go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A lead field (one of [`TEXT_FIELDS`] or [`INTEGER_FIELDS`]).
    Field(&'static str),
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
        matches!(self, Self::Field(name) if INTEGER_FIELDS.contains(name))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(name) => f.write_str(name),
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
    let key = normalise(name);
    TEXT_FIELDS
        .iter()
        .chain(INTEGER_FIELDS)
        .find(|field| normalise(field) == key)
        .copied()
        .or_else(|| {
            ALIASES
                .iter()
                .find(|(alias, _)| *alias == key)
                .map(|(_, field)| *field)
        })
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
        let key = KNOWN_METADATA_KEYS
            .iter()
            .find(|(key, _)| normalise(key) == normalise(name))
            .map_or(name, |(key, _)| key);
        Target::Metadata(key.to_owned())
    }

    /// The targets of a header row. An explicit mapping wins over a column
    /// that would fill the same field by its name (that one goes to metadata);
    /// two columns filling one field otherwise is an error, never a guess.
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
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for header in headers {
            let header = header.as_ref().trim();
            let mut target = self.target(header);
            if self.get(header).is_none() && explicit.contains(&&target) {
                target = Target::Metadata(header.to_owned());
            }
            if let Target::Field(_) | Target::Metadata(_) = &target {
                let key = target.to_string();
                if let Some(other) = seen.insert(key.clone(), header.to_owned()) {
                    return Err(MapError::Ambiguous(other, header.to_owned(), key));
                }
            }
            targets.push(target);
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
            none.resolve(&["Phone", "Mobile"]),
            Err(MapError::Ambiguous(..))
        ));
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
