//! One model of a schema's shape that the spec, schemars output and generated
//! source all map into, so a single comparison serves all three.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

/// The JSON type of a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    String,
    Integer,
    Number,
    Boolean,
    /// An object without a named schema (a map).
    Object,
    /// Any JSON value.
    Any,
    Array(Box<Ty>),
    /// A named schema (component or schemars definition).
    Ref(String),
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::String => f.write_str("string"),
            Ty::Integer => f.write_str("integer"),
            Ty::Number => f.write_str("number"),
            Ty::Boolean => f.write_str("boolean"),
            Ty::Object => f.write_str("object"),
            Ty::Any => f.write_str("any"),
            Ty::Array(items) => write!(f, "array of {items}"),
            Ty::Ref(name) => f.write_str(name),
        }
    }
}

/// One property of an object schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub ty: Ty,
    pub format: Option<String>,
    pub required: bool,
    pub nullable: bool,
    /// Inline `enum` values.
    pub values: Option<Vec<String>>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
}

impl Field {
    fn new(ty: Ty) -> Self {
        Field {
            ty,
            format: None,
            required: false,
            nullable: false,
            values: None,
            minimum: None,
            maximum: None,
        }
    }

    /// A field of type `ty` with the given format (used by the source model).
    pub fn of(ty: Ty, format: Option<&str>) -> Self {
        Field {
            format: format.map(str::to_owned),
            ..Field::new(ty)
        }
    }
}

/// The shape of a named schema.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// Properties by JSON name; `additional` is `additionalProperties` when stated.
    Object {
        fields: BTreeMap<String, Field>,
        additional: Option<bool>,
    },
    /// A string enum and its values.
    Enum(Vec<String>),
    /// Anything else, described in a word.
    Other(String),
}

/// What differs between the spec and the client at one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    MissingOperation,
    ExtraOperation,
    OperationRoute,
    Inputs,
    MissingType,
    NotCompiled,
    TypeShape,
    MissingField,
    ExtraField,
    FieldType,
    Required,
    Nullable,
    ExplicitNull,
    EmptyArray,
    EnumValues,
    Format,
    Bounds,
    AdditionalProperties,
    UnknownKeysDropped,
    Replaced,
    Narrowed,
    Security,
    SchemarsVsSource,
}

impl Kind {
    /// The word printed for this kind.
    pub fn label(self) -> &'static str {
        match self {
            Kind::MissingOperation => "operation missing from client",
            Kind::ExtraOperation => "operation not in spec",
            Kind::OperationRoute => "method/path",
            Kind::Inputs => "parameters and body",
            Kind::MissingType => "type missing from client",
            Kind::NotCompiled => "no schemars schema compiled",
            Kind::TypeShape => "shape",
            Kind::MissingField => "field missing from client",
            Kind::ExtraField => "field not in spec",
            Kind::FieldType => "type",
            Kind::Required => "required",
            Kind::Nullable => "nullable",
            Kind::ExplicitNull => "explicit null",
            Kind::EmptyArray => "empty array",
            Kind::EnumValues => "enum values",
            Kind::Format => "format",
            Kind::Bounds => "bounds",
            Kind::AdditionalProperties => "additionalProperties",
            Kind::UnknownKeysDropped => "unknown keys",
            Kind::Replaced => "replaced",
            Kind::Narrowed => "request encoding",
            Kind::Security => "security scheme",
            Kind::SchemarsVsSource => "schemars vs source",
        }
    }
}

/// One difference between the spec and the generated client.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mismatch {
    /// Schema name, `METHOD /path`, or security scheme name.
    pub schema: String,
    pub field: Option<String>,
    pub kind: Kind,
    /// What the spec says.
    pub spec: String,
    /// What the client has.
    pub client: String,
}

impl Mismatch {
    pub fn new(
        schema: &str,
        field: Option<&str>,
        kind: Kind,
        spec: impl Into<String>,
        client: impl Into<String>,
    ) -> Self {
        Mismatch {
            schema: schema.to_owned(),
            field: field.map(str::to_owned),
            kind,
            spec: spec.into(),
            client: client.into(),
        }
    }

    /// `Schema.field` or `Schema`.
    pub fn location(&self) -> String {
        match &self.field {
            Some(field) => format!("{}.{field}", self.schema),
            None => self.schema.clone(),
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = match self.kind {
            Kind::SchemarsVsSource => ("source", "schemars"),
            _ => ("spec", "client"),
        };
        write!(
            f,
            "{}: {}: {a} {}, {b} {}",
            self.location(),
            self.kind.label(),
            self.spec,
            self.client
        )
    }
}

fn ref_name(reference: &str) -> String {
    reference.rsplit('/').next().unwrap_or(reference).to_owned()
}

fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    let values = value?.as_array()?;
    Some(
        values
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
    )
}

/// Reads a property schema of the spec (OpenAPI 3.0) or of schemars (draft 7).
///
/// Both dialects reduce to the same field: `nullable: true` (spec), a `null` in
/// `type` or an `anyOf` member `{type: null}` (schemars); a one-member `allOf`
/// around a `$ref` is the same `$ref` (how both attach a description or nullable).
pub fn field_of(schema: &Value) -> Field {
    let mut nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let mut field = Field::new(Ty::Ref(ref_name(reference)));
        field.nullable = nullable;
        return field;
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        let Some(members) = schema.get(key).and_then(Value::as_array) else {
            continue;
        };
        let (nulls, rest): (Vec<&Value>, Vec<&Value>) = members
            .iter()
            .partition(|m| m.get("type").and_then(Value::as_str) == Some("null"));
        if rest.len() == 1 {
            let mut field = field_of(rest[0]);
            field.nullable |= nullable || !nulls.is_empty();
            return field;
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    nullable |= types.contains(&"null");
    let ty = match types.iter().find(|t| **t != "null").copied() {
        Some("string") => Ty::String,
        Some("integer") => Ty::Integer,
        Some("number") => Ty::Number,
        Some("boolean") => Ty::Boolean,
        Some("object") => Ty::Object,
        Some("array") => Ty::Array(Box::new(
            schema.get("items").map_or(Ty::Any, |i| field_of(i).ty),
        )),
        _ => Ty::Any,
    };
    Field {
        ty,
        format: schema
            .get("format")
            .and_then(Value::as_str)
            .map(str::to_owned),
        required: false,
        nullable,
        values: strings(schema.get("enum")),
        minimum: schema.get("minimum").and_then(Value::as_f64),
        maximum: schema.get("maximum").and_then(Value::as_f64),
    }
}

/// Reads a named schema of the spec or a schemars definition.
pub fn shape_of(schema: &Value) -> Shape {
    if let Some(values) = strings(schema.get("enum")) {
        return Shape::Enum(values);
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    let is_object = schema.get("type").and_then(Value::as_str) == Some("object");
    if properties.is_none() && !is_object {
        let field = field_of(schema);
        return Shape::Other(match &field.format {
            Some(format) => format!("{} ({format})", field.ty),
            None => field.ty.to_string(),
        });
    }
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let fields = properties
        .into_iter()
        .flatten()
        .map(|(name, property)| {
            let mut field = field_of(property);
            field.required = required.contains(name.as_str());
            (name.clone(), field)
        })
        .collect();
    let additional = match schema.get("additionalProperties") {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Object(_)) => Some(true),
        _ => None,
    };
    Shape::Object { fields, additional }
}

fn show<T: fmt::Display>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| "none".to_owned(), ToString::to_string)
}

/// `+A, -B` for values added to and removed from `spec` by `client`.
pub fn value_delta(spec: &[String], client: &[String]) -> String {
    let added = client
        .iter()
        .filter(|v| !spec.contains(v))
        .map(|v| format!("+{v}"));
    let removed = spec
        .iter()
        .filter(|v| !client.contains(v))
        .map(|v| format!("-{v}"));
    let delta: Vec<String> = removed.chain(added).collect();
    if delta.is_empty() {
        "same values, other order".to_owned()
    } else {
        delta.join(", ")
    }
}

/// Compares one spec schema with the client's shape of it.
pub fn compare(name: &str, spec: &Shape, client: &Shape, out: &mut Vec<Mismatch>) {
    match (spec, client) {
        (Shape::Enum(s), Shape::Enum(c)) => {
            let (ss, cs): (BTreeSet<_>, BTreeSet<_>) = (s.iter().collect(), c.iter().collect());
            if ss != cs {
                out.push(Mismatch::new(
                    name,
                    None,
                    Kind::EnumValues,
                    s.join("|"),
                    format!("{} ({})", c.join("|"), value_delta(s, c)),
                ));
            }
        }
        (
            Shape::Object {
                fields: sf,
                additional: sa,
            },
            Shape::Object {
                fields: cf,
                additional: ca,
            },
        ) => {
            if *sa == Some(true) && *ca != Some(true) {
                out.push(Mismatch::new(
                    name,
                    None,
                    Kind::AdditionalProperties,
                    "true",
                    show(ca),
                ));
            } else if *sa == Some(false) && *ca != Some(false) {
                out.push(Mismatch::new(
                    name,
                    None,
                    Kind::AdditionalProperties,
                    "false",
                    show(ca),
                ));
            } else if sa.is_none() && ca.is_none() {
                // Open in the spec (the OpenAPI default), a plain struct in Rust.
                out.push(Mismatch::new(
                    name,
                    None,
                    Kind::UnknownKeysDropped,
                    "open object",
                    "struct",
                ));
            }
            for (field, s) in sf {
                match cf.get(field) {
                    None => out.push(Mismatch::new(
                        name,
                        Some(field),
                        Kind::MissingField,
                        describe(s),
                        "absent",
                    )),
                    Some(c) => compare_field(name, field, s, c, out),
                }
            }
            for (field, c) in cf {
                if !sf.contains_key(field) {
                    out.push(Mismatch::new(
                        name,
                        Some(field),
                        Kind::ExtraField,
                        "absent",
                        describe(c),
                    ));
                }
            }
        }
        // A scalar schema (`type: string, format: date-time`): same type, same format.
        (Shape::Other(s), Shape::Other(c)) if s == c => {}
        _ => out.push(Mismatch::new(
            name,
            None,
            Kind::TypeShape,
            word(spec),
            word(client),
        )),
    }
}

fn word(shape: &Shape) -> String {
    match shape {
        Shape::Object { .. } => "object".to_owned(),
        Shape::Enum(values) => format!("enum {}", values.join("|")),
        Shape::Other(what) => what.clone(),
    }
}

/// A field in a few words: `optional nullable string (email)`.
pub fn describe(f: &Field) -> String {
    let mut s = String::new();
    s.push_str(if f.required { "required " } else { "optional " });
    if f.nullable {
        s.push_str("nullable ");
    }
    s.push_str(&f.ty.to_string());
    if let Some(format) = &f.format {
        s.push_str(&format!(" ({format})"));
    }
    if let Some(values) = &f.values {
        s.push_str(&format!(" [{}]", values.join("|")));
    }
    s
}

fn compare_field(name: &str, field: &str, s: &Field, c: &Field, out: &mut Vec<Mismatch>) {
    let mut push = |kind, spec: String, client: String| {
        out.push(Mismatch::new(name, Some(field), kind, spec, client));
    };
    if s.ty != c.ty {
        push(Kind::FieldType, s.ty.to_string(), c.ty.to_string());
    }
    if s.required != c.required {
        push(
            Kind::Required,
            s.required.to_string(),
            c.required.to_string(),
        );
    }
    if s.nullable != c.nullable {
        push(
            Kind::Nullable,
            s.nullable.to_string(),
            c.nullable.to_string(),
        );
    }
    if !s.required && s.nullable && !c.required && c.nullable {
        // Absent and null are one `None`, and `None` is skipped when sending.
        push(
            Kind::ExplicitNull,
            "absent | null | value".to_owned(),
            "Option (None skipped)".to_owned(),
        );
    }
    if !s.required && matches!(s.ty, Ty::Array(_)) && !c.required && !c.nullable {
        push(
            Kind::EmptyArray,
            "absent | [] | items".to_owned(),
            "Vec (empty skipped, absent decodes as [])".to_owned(),
        );
    }
    if s.values != c.values {
        let sv = s.values.clone().unwrap_or_default();
        let cv = c.values.clone().unwrap_or_default();
        push(Kind::EnumValues, sv.join("|"), value_delta(&sv, &cv));
    }
    if s.format.is_some() && s.format != c.format {
        push(Kind::Format, show(&s.format), show(&c.format));
    }
    if (s.minimum.is_some() && s.minimum != c.minimum)
        || (s.maximum.is_some() && s.maximum != c.maximum)
    {
        push(
            Kind::Bounds,
            format!("{}..={}", show(&s.minimum), show(&s.maximum)),
            format!("{}..={}", show(&c.minimum), show(&c.maximum)),
        );
    }
}
