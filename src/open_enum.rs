//! Enums whose documented value lists are incomplete: the documented values
//! are named variants, and any other value travels through an explicit
//! `Other` arm, so a request can send a value the list lacks on purpose and
//! an answer never fails to decode for a value the documentation does not
//! rule out.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A value refused by the escape hatch of an open enum ([`LeadStatus::other`],
/// [`StatusReason::other`], [`BulkCreateLeadAction::other`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a {kind} value ({rule})")]
pub struct InvalidEnumValue {
    /// The enum (`LeadStatus`, ...).
    pub kind: &'static str,
    /// The value refused.
    pub value: String,
    /// What a value must look like.
    pub rule: &'static str,
}

macro_rules! open_enum {
    (
        $(#[$doc:meta])*
        $name:ident, schema = $schema:literal, rule = $rule:literal, check = $check:expr,
        { $( $(#[$vdoc:meta])* $variant:ident = $value:literal ),* $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )*
            /// A value the documented list lacks, kept (or sent) as it is.
            Other(String),
        }

        impl $name {
            /// The documented values, in the order of the spec's enum.
            pub const NAMED: &[$name] = &[$($name::$variant),*];

            /// The value on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $value,)*
                    $name::Other(value) => value,
                }
            }

            /// The named variant of a documented value (exact case).
            fn named(value: &str) -> Option<Self> {
                match value {
                    $($value => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// The escape hatch: the named variant of a documented value,
            #[doc = concat!("[`", stringify!($name), "::Other`] for any other value that is ", $rule, ",")]
            /// and an error for anything else (a typo in case, an empty text).
            pub fn other(value: &str) -> Result<Self, InvalidEnumValue> {
                if let Some(named) = Self::named(value) {
                    return Ok(named);
                }
                let check: fn(&str) -> bool = $check;
                if check(value) {
                    Ok($name::Other(value.to_owned()))
                } else {
                    Err(InvalidEnumValue {
                        kind: $schema,
                        value: value.to_owned(),
                        rule: $rule,
                    })
                }
            }

            /// Any received value: named when documented, [`Self::Other`] otherwise.
            pub fn from_received(value: &str) -> Self {
                Self::named(value).unwrap_or_else(|| $name::Other(value.to_owned()))
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidEnumValue;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::other(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            /// Any string: a value the list lacks is [`Self::Other`], never an error.
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from_received(&value))
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> String {
                $schema.to_owned()
            }

            /// The spec's enum of documented values; `Other` is the escape
            /// hatch the spec's description names.
            fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
                use schemars::schema::{InstanceType, SchemaObject};
                SchemaObject {
                    instance_type: Some(InstanceType::String.into()),
                    enum_values: Some(Self::NAMED.iter().map(|v| v.as_str().into()).collect()),
                    ..Default::default()
                }
                .into()
            }
        }
    };
}

/// Upper-case letters, digits and `_`, starting with a letter (`LATE_CALLBACK`).
fn screaming_snake(value: &str) -> bool {
    value.starts_with(|c: char| c.is_ascii_uppercase())
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Lower-case letters, digits and `_`, starting with a letter (`updated`).
fn snake(value: &str) -> bool {
    value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

open_enum! {
    /// A lead's `status`, as sent in a request.
    ///
    /// The named variants are every value the documentation lists (older pages
    /// list seven, newer ones at least nine before the list is cut off, and an
    /// example sends `CANCELLED`). Others, such as `LATE_CALLBACK` or
    /// `BAD_NUMBER` (webhook triggers hint at them), are sent through the
    /// explicit escape hatch `LeadStatus::other("LATE_CALLBACK")?`.
    LeadStatus, schema = "LeadStatus", rule = "upper-case letters, digits and `_`", check = screaming_snake,
    {
        /// `UNKNOWN`
        Unknown = "UNKNOWN",
        /// `NEW`
        New = "NEW",
        /// `OPEN`
        Open = "OPEN",
        /// `CALLBACK_TO_TRANSFER`
        CallbackToTransfer = "CALLBACK_TO_TRANSFER",
        /// `CLOSED`
        Closed = "CLOSED",
        /// `CLOSED_INCOMPLETE`
        ClosedIncomplete = "CLOSED_INCOMPLETE",
        /// `LOST`
        Lost = "LOST",
        /// `SCHEDULE_COMPLETED`
        ScheduleCompleted = "SCHEDULE_COMPLETED",
        /// `OUT_OF_TERRITORY`
        OutOfTerritory = "OUT_OF_TERRITORY",
        /// `CANCELLED`
        Cancelled = "CANCELLED",
    }
}

open_enum! {
    /// A lead's `status_reason`, as sent in a request.
    ///
    /// The named variants are the values of the older pages; the current list
    /// was not readable, so any other value is sent through the explicit escape
    /// hatch `StatusReason::other("...")?`. A PATCH clears the field with
    /// [`crate::Nullable::Null`].
    StatusReason, schema = "StatusReason", rule = "upper-case letters, digits and `_`", check = screaming_snake,
    {
        /// `UNKNOWN`
        Unknown = "UNKNOWN",
        /// `WEBHOOK`
        Webhook = "WEBHOOK",
        /// `MANUAL`
        Manual = "MANUAL",
        /// `CHAT`
        Chat = "CHAT",
    }
}

open_enum! {
    /// The outcome of one bulk-create item, as received.
    ///
    /// The documentation lists `created`, `reengaged` and `error`. An outcome
    /// the server adds (`updated`, `skipped`, ...) decodes as
    /// [`BulkCreateLeadAction::Other`] instead of failing the whole answer, so
    /// the other items' results are never lost; `Client::bulk_create` faults
    /// only that item ([`crate::MismatchFault::UnknownAction`]).
    BulkCreateLeadAction, schema = "BulkCreateLeadAction", rule = "lower-case letters, digits and `_`", check = snake,
    {
        /// A new lead was stored.
        Created = "created",
        /// The item duplicated an existing lead, which was re-engaged.
        Reengaged = "reengaged",
        /// The item was refused; the others are unaffected.
        Error = "error",
    }
}

/// A value that a PATCH can also set to `null` (to clear the field), or leave
/// out altogether when the field is `None`.
///
/// The generated client skips a `None` field, so `Option<T>` alone cannot send
/// an explicit `null`; `Some(Nullable::Null)` does. Only fields the
/// documentation shows as nullable in a PATCH use it (`metadata`,
/// `status_reason`). Decoding reads `null` as `Null` and anything else as a `T`;
/// inside an `Option` field serde reads `null` as `None` first, so a decoded
/// PATCH body (a server's concern, not this client's) cannot tell the two apart.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Nullable<T> {
    /// Sent as `null`: clears the field.
    Null,
    /// Sent as the value.
    Value(T),
}

impl<T> Nullable<T> {
    /// The value, unless this is `Null`.
    pub fn value(&self) -> Option<&T> {
        match self {
            Self::Null => None,
            Self::Value(value) => Some(value),
        }
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(value: T) -> Self {
        Self::Value(value)
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_none(),
            Self::Value(value) => serializer.serialize_some(value),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Self::Null,
            Some(value) => Self::Value(value),
        })
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Nullable<T> {
    fn schema_name() -> String {
        format!("Nullable{}", T::schema_name())
    }

    /// `anyOf: [T, null]`, the JSON Schema form of the spec's
    /// `allOf: [T]` with `nullable: true`.
    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        use schemars::schema::{InstanceType, Schema, SchemaObject, SubschemaValidation};
        let null = SchemaObject {
            instance_type: Some(InstanceType::Null.into()),
            ..Default::default()
        };
        SchemaObject {
            subschemas: Some(Box::new(SubschemaValidation {
                any_of: Some(vec![generator.subschema_for::<T>(), Schema::Object(null)]),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_escape_hatch_checks_and_decoding_keeps_any_value() {
        assert_eq!(LeadStatus::other("CLOSED"), Ok(LeadStatus::Closed));
        assert_eq!(
            LeadStatus::other("LATE_CALLBACK"),
            Ok(LeadStatus::Other("LATE_CALLBACK".into()))
        );
        for bad in ["closed", "", "LATE CALLBACK", "_X"] {
            assert!(LeadStatus::other(bad).is_err(), "{bad}");
        }
        assert!(BulkCreateLeadAction::other("Updated").is_err());
        let action: BulkCreateLeadAction = serde_json::from_value(json!("Updated!")).unwrap();
        assert_eq!(action, BulkCreateLeadAction::Other("Updated!".into()));
        assert_eq!(
            serde_json::to_value(StatusReason::other("AGENT").unwrap()).unwrap(),
            json!("AGENT")
        );
    }

    #[test]
    fn nullable_sends_null_and_reads_it_back() {
        let cleared: Nullable<StatusReason> = Nullable::Null;
        assert_eq!(serde_json::to_value(&cleared).unwrap(), json!(null));
        assert_eq!(
            serde_json::from_value::<Nullable<StatusReason>>(json!(null)).unwrap(),
            Nullable::Null
        );
        assert_eq!(
            serde_json::to_value(Nullable::from(StatusReason::Chat)).unwrap(),
            json!("CHAT")
        );
    }
}
