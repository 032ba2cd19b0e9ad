//! `BulkItemError`: the `error` of one bulk-create result, as received.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `error` of a bulk-create result: a message in the one documented
/// sample (`Each lead must be a JSON object.`), but any JSON value is kept as
/// it came, for instance a Django REST framework map of field names to
/// messages (`{"phone_number": ["Enter a valid phone number."]}`), so an
/// error of another shape never fails the whole answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BulkItemError(Value);

impl BulkItemError {
    /// The error as one line: a string as it is, a map as `field: message`
    /// pairs joined by `; `, a list joined by spaces, anything else as JSON.
    pub fn message(&self) -> String {
        fn text(value: &Value) -> String {
            match value {
                Value::String(s) => s.clone(),
                Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(" "),
                Value::Object(map) => map
                    .iter()
                    .map(|(key, value)| format!("{key}: {}", text(value)))
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            }
        }
        text(&self.0)
    }

    /// The message, when the error is a string (the documented shape).
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_str()
    }

    /// The error as it came, whatever its JSON type.
    pub fn as_value(&self) -> &Value {
        &self.0
    }
}

impl std::fmt::Display for BulkItemError {
    /// [`BulkItemError::message`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl From<&str> for BulkItemError {
    fn from(message: &str) -> Self {
        Self(Value::String(message.to_owned()))
    }
}

impl From<String> for BulkItemError {
    fn from(message: String) -> Self {
        Self(Value::String(message))
    }
}

impl From<Value> for BulkItemError {
    fn from(value: Value) -> Self {
        Self(value)
    }
}

impl schemars::JsonSchema for BulkItemError {
    fn schema_name() -> String {
        "BulkCreateLeadError".to_owned()
    }

    /// The spec's documented type, a string; other JSON values are kept as
    /// the spec's description says.
    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        generator.subschema_for::<String>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_field_map_reads_as_one_line() {
        let error: BulkItemError =
            serde_json::from_value(json!({"phone_number": ["Invalid.", "Too short."]})).unwrap();
        assert_eq!(error.message(), "phone_number: Invalid. Too short.");
        assert_eq!(error.as_str(), None);
        let plain = BulkItemError::from("Each lead must be a JSON object.");
        assert_eq!(plain.message(), "Each lead must be a JSON object.");
    }
}
