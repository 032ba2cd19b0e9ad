//! `metadata`: free JSON, an open object in every documented case, whose
//! unknown keys (and any non-object value) survive a round trip.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A lead's `metadata`: free JSON that the voice agent's script can read.
///
/// The documentation types it "any": it is an object in every documented case,
/// and any other JSON value the server sends (a string, a list, a number) is
/// kept as it came ([`Metadata::as_value`]) instead of failing the lead. Every
/// key of an object is kept as sent, so unknown keys survive a round trip. The
/// keys the documentation names have typed accessors; a known key holding a
/// value of another type is kept too, and its accessor returns `None`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Metadata(Value);

macro_rules! known_keys {
    ($( $(#[$doc:meta])* $key:ident: $kind:ident ),* $(,)?) => {
        impl Metadata {
            $(
                $(#[$doc])*
                pub fn $key(&self) -> Option<known_keys!(@ret $kind)> {
                    known_keys!(@get self.get(stringify!($key)), $kind)
                }
            )*
        }
        /// The documented metadata keys with their JSON types.
        pub const KNOWN_KEYS: &[(&str, &str)] = &[$((stringify!($key), stringify!($kind))),*];
    };
    (@ret string) => { &str };
    (@ret number) => { f64 };
    (@ret boolean) => { bool };
    (@get $v:expr, string) => { $v.and_then(Value::as_str) };
    (@get $v:expr, number) => { $v.and_then(Value::as_f64) };
    (@get $v:expr, boolean) => { $v.and_then(Value::as_bool) };
}

known_keys! {
    /// The lead's first name, the usual greeting in the voice script.
    first_name: string,
    /// The lead's last name.
    last_name: string,
    /// IANA time zone name, for example `America/Los_Angeles`.
    timezone: string,
    /// Street address of the property.
    property_address: string,
    /// City of the property.
    property_city: string,
    /// State of the property.
    property_state: string,
    /// ZIP code of the property.
    property_zip: string,
    /// The lead's street address.
    address: string,
    /// The lead's city.
    city: string,
    /// State name, as stored by list, retrieve and bulk samples.
    state: string,
    /// State name, as stored by the create sample.
    us_state: string,
    /// The lead's ZIP code.
    zip: string,
    /// Echoed by the server from the top level.
    phone_number: string,
    /// Echoed by the server from the top level.
    email: string,
    /// Echoed by the server from the top level.
    lead_source: string,
    /// Echoed by the server from the top level.
    external_id: string,
    /// Stored by the server as `MM/DD/YYYY HH:MM`.
    created_at: string,
    /// Mortgage: property value.
    property_value: number,
    /// Mortgage: property type.
    property_type: string,
    /// Mortgage: occupancy type.
    occupancy_type: string,
    /// Mortgage: funded date.
    funded_date: string,
    /// Mortgage: loan type.
    loan_type: string,
    /// Mortgage: loan program.
    loan_program: string,
    /// Mortgage: loan rate.
    loan_rate: number,
    /// Mortgage: loan-to-value ratio.
    ltv: number,
    /// Mortgage: VA loan indicator.
    va_indicator: boolean,
    /// Mortgage: FHA loan indicator.
    fha_indicator: boolean,
    /// Mortgage: loan amount.
    loan_amount: number,
    /// Mortgage: loan purpose.
    loan_purpose: string,
    /// Mortgage: time frame to close.
    loan_close_timeframe: string,
    /// Mortgage: preferred loan product.
    preferred_loan_product: string,
}

impl Metadata {
    /// An empty metadata object.
    pub fn new() -> Self {
        Self(Value::Object(Map::new()))
    }

    /// Sets `key` to `value`, returning `self` for chaining. On metadata that
    /// is not an object (only a server answer can hold one), the value becomes
    /// an object holding just this key.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets `key` to `value`, returning the value it replaces. On metadata that
    /// is not an object, the value becomes an object holding just this key.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        if !self.0.is_object() {
            self.0 = Value::Object(Map::new());
        }
        match &mut self.0 {
            Value::Object(map) => map.insert(key.into(), value.into()),
            _ => None,
        }
    }

    /// The raw value under `key`, known or not (`None` if this is not an object).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The keys and values, when the metadata is an object (every documented case).
    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        self.0.as_object()
    }

    /// The metadata as it came, whatever its JSON type.
    pub fn as_value(&self) -> &Value {
        &self.0
    }

    /// The metadata as it came, by value.
    pub fn into_value(self) -> Value {
        self.0
    }
}

impl Default for Metadata {
    /// An empty object.
    fn default() -> Self {
        Self::new()
    }
}

impl From<Map<String, Value>> for Metadata {
    fn from(map: Map<String, Value>) -> Self {
        Self(Value::Object(map))
    }
}

impl From<Value> for Metadata {
    /// Any JSON value; the server folds top-level keys into an object.
    fn from(value: Value) -> Self {
        Self(value)
    }
}

impl schemars::JsonSchema for Metadata {
    fn schema_name() -> String {
        "LeadMetadata".to_owned()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        let mut schema = open_object_schema(generator, KNOWN_KEYS);
        // Any JSON value: the documented keys are typed when it is an object.
        if let schemars::schema::Schema::Object(object) = &mut schema {
            object.instance_type = None;
        }
        schema
    }
}

/// The JSON Schema of an object that names `properties` (key and JSON type:
/// `string`, `number` or `boolean`) and allows every other key, as the spec's
/// open objects (`additionalProperties: true`) say.
pub(crate) fn open_object_schema(
    generator: &mut schemars::r#gen::SchemaGenerator,
    properties: &[(&str, &str)],
) -> schemars::schema::Schema {
    use schemars::schema::{InstanceType, ObjectValidation, Schema, SchemaObject};
    let mut object = ObjectValidation {
        additional_properties: Some(Box::new(Schema::Bool(true))),
        ..Default::default()
    };
    for (key, kind) in properties {
        let schema = match *kind {
            "number" => generator.subschema_for::<f64>(),
            "boolean" => generator.subschema_for::<bool>(),
            _ => generator.subschema_for::<String>(),
        };
        object.properties.insert((*key).to_owned(), schema);
    }
    SchemaObject {
        instance_type: Some(InstanceType::Object.into()),
        object: Some(Box::new(object)),
        ..Default::default()
    }
    .into()
}
