//! `metadata`: an open JSON object whose unknown keys survive a round trip.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A lead's `metadata`: free JSON that the voice agent's script can read.
///
/// Every key is kept as sent, so unknown keys survive a round trip unchanged.
/// The keys the documentation names have typed accessors; a known key holding a
/// value of another type is kept too, and its accessor returns `None`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Metadata(pub Map<String, Value>);

macro_rules! known_keys {
    ($( $(#[$doc:meta])* $key:ident: $kind:ident ),* $(,)?) => {
        impl Metadata {
            $(
                $(#[$doc])*
                pub fn $key(&self) -> Option<known_keys!(@ret $kind)> {
                    known_keys!(@get self.0.get(stringify!($key)), $kind)
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
        Self::default()
    }

    /// Sets `key` to `value`, returning `self` for chaining.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }

    /// The raw value under `key`, known or not.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }
}

impl From<Map<String, Value>> for Metadata {
    fn from(map: Map<String, Value>) -> Self {
        Self(map)
    }
}

impl schemars::JsonSchema for Metadata {
    fn schema_name() -> String {
        "LeadMetadata".to_owned()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        open_object_schema(generator, KNOWN_KEYS)
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
