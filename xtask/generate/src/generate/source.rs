//! Reads the surface of a generated client from its source with `syn`: the
//! `Client` methods with their routes, and the structs and enums of `mod types`.

use std::collections::BTreeMap;

use syn::{Attribute, Expr, Fields, GenericArgument, ImplItem, Item, Lit, PathArguments, Type};

use super::shape::{Field, Shape, Ty};

/// One operation: a `Client` method, its route and its builder's inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// `GET`, `POST`, ... as the method's doc states it.
    pub method: String,
    pub path: String,
    /// Builder inputs (`page: Option<i64>`, `body: LeadRequest`).
    pub params: Vec<(String, String)>,
    /// What `send()` returns on success.
    pub response: String,
}

/// One field of a generated struct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceField {
    /// The Rust type, shortened (`Option<String>`).
    pub rust: String,
    /// `#[serde(default)]`: absent decodes as the default.
    pub default: bool,
    ty: String,
}

/// A type of `mod types`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeDef {
    /// Fields by JSON name.
    Struct(BTreeMap<String, SourceField>),
    /// A unit-only enum's serialized values, in order.
    Enum(Vec<String>),
    /// Newtypes, aliases and data-carrying enums, described in a word.
    Other(String),
}

/// The client's surface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Surface {
    /// By method name (the operationId in snake case).
    pub operations: BTreeMap<String, Operation>,
    pub types: BTreeMap<String, TypeDef>,
}

/// A builder's inputs and its `send()` success type, by builder name.
type Builders = BTreeMap<String, (Vec<(String, String)>, String)>;

/// Parses generated client source.
pub fn parse(source: &str) -> Result<Surface, String> {
    let file = syn::parse_file(source).map_err(|e| format!("client source does not parse: {e}"))?;
    let mut surface = Surface::default();
    let mut routes: Vec<(String, String, String, String)> = Vec::new();
    let mut builders = Builders::new();
    for item in &file.items {
        match item {
            Item::Mod(m) if m.ident == "types" => {
                for item in m.content.iter().flat_map(|(_, items)| items) {
                    if let Some((name, def)) = type_def(item) {
                        surface.types.insert(name, def);
                    }
                }
            }
            Item::Mod(m) if m.ident == "builder" => {
                read_builders(m.content.iter().flat_map(|(_, items)| items), &mut builders);
            }
            Item::Impl(imp) if imp.trait_.is_none() && last_ident(&imp.self_ty) == "Client" => {
                for item in &imp.items {
                    let ImplItem::Fn(f) = item else { continue };
                    let syn::ReturnType::Type(_, ret) = &f.sig.output else {
                        continue;
                    };
                    let doc = doc(&f.attrs);
                    if let Some((method, path)) = route(&doc) {
                        routes.push((f.sig.ident.to_string(), method, path, last_ident(ret)));
                    }
                }
            }
            _ => {}
        }
    }
    for (name, method, path, builder) in routes {
        let (params, response) = builders.remove(&builder).unwrap_or_default();
        surface.operations.insert(
            name,
            Operation {
                method,
                path,
                params,
                response,
            },
        );
    }
    Ok(surface)
}

fn read_builders<'a>(items: impl Iterator<Item = &'a Item>, out: &mut Builders) {
    for item in items {
        match item {
            Item::Struct(s) => {
                let params = s
                    .fields
                    .iter()
                    .filter_map(|f| Some((f.ident.as_ref()?.to_string(), &f.ty)))
                    .filter(|(name, _)| name != "client")
                    .map(|(name, ty)| (name, render(first_arg(ty).unwrap_or(ty))))
                    .collect();
                out.entry(s.ident.to_string()).or_default().0 = params;
            }
            Item::Impl(imp) if imp.trait_.is_none() => {
                for item in &imp.items {
                    let ImplItem::Fn(f) = item else { continue };
                    if f.sig.ident != "send" {
                        continue;
                    }
                    if let syn::ReturnType::Type(_, ret) = &f.sig.output {
                        let ok = first_arg(ret).unwrap_or(ret);
                        out.entry(last_ident(&imp.self_ty)).or_default().1 = render(ok);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `Sends a `GET` request to `/api/leads/`` in a method's doc.
fn route(doc: &str) -> Option<(String, String)> {
    let rest = &doc[doc.find("Sends a `")? + "Sends a `".len()..];
    let (method, rest) = rest.split_once('`')?;
    let rest = &rest[rest.find(" to `")? + " to `".len()..];
    let (path, _) = rest.split_once('`')?;
    Some((method.to_owned(), path.to_owned()))
}

fn doc(attrs: &[Attribute]) -> String {
    let mut text = String::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(lit) = &nv.value
            && let Lit::Str(s) = &lit.lit
        {
            text.push_str(&s.value());
            text.push('\n');
        }
    }
    text
}

#[derive(Default)]
struct Serde {
    rename: Option<String>,
    default: bool,
}

fn serde(attrs: &[Attribute]) -> Serde {
    let mut out = Serde::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        // Typify writes only `key` and `key = "..."` items; others are skipped.
        let _ = attr.parse_nested_meta(|meta| {
            let value = if meta.input.peek(syn::Token![=]) {
                Some(meta.value()?.parse::<Expr>()?)
            } else {
                None
            };
            if meta.path.is_ident("rename")
                && let Some(Expr::Lit(lit)) = &value
                && let Lit::Str(s) = &lit.lit
            {
                out.rename = Some(s.value());
            }
            if meta.path.is_ident("default") {
                out.default = true;
            }
            Ok(())
        });
    }
    out
}

fn type_def(item: &Item) -> Option<(String, TypeDef)> {
    match item {
        Item::Struct(s) => {
            let def = match &s.fields {
                Fields::Named(named) => TypeDef::Struct(
                    named
                        .named
                        .iter()
                        .filter_map(|f| {
                            let ident = f.ident.as_ref()?.to_string();
                            let attrs = serde(&f.attrs);
                            let name = attrs
                                .rename
                                .unwrap_or_else(|| ident.trim_start_matches("r#").to_owned());
                            let field = SourceField {
                                rust: render(&f.ty),
                                default: attrs.default,
                                ty: canonical(&f.ty),
                            };
                            Some((name, field))
                        })
                        .collect(),
                ),
                Fields::Unnamed(u) => TypeDef::Other(format!(
                    "newtype({})",
                    u.unnamed
                        .iter()
                        .map(|f| render(&f.ty))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Fields::Unit => TypeDef::Other("unit struct".to_owned()),
            };
            Some((s.ident.to_string(), def))
        }
        Item::Enum(e) => {
            let unit = e.variants.iter().all(|v| matches!(v.fields, Fields::Unit));
            let def = if unit {
                TypeDef::Enum(
                    e.variants
                        .iter()
                        .map(|v| {
                            serde(&v.attrs)
                                .rename
                                .unwrap_or_else(|| v.ident.to_string())
                        })
                        .collect(),
                )
            } else {
                TypeDef::Other("enum with data".to_owned())
            };
            Some((e.ident.to_string(), def))
        }
        // `pub type LeadStatus = crate::LeadStatus;`: the name of a replacement
        // (see `generator::REPLACEMENTS`), not a generated type.
        Item::Type(t) if render(&t.ty).starts_with("crate::") => None,
        Item::Type(t) => Some((
            t.ident.to_string(),
            TypeDef::Other(format!("alias of {}", render(&t.ty))),
        )),
        _ => None,
    }
}

fn last_ident(ty: &Type) -> String {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn args(ty: &Type) -> Vec<&Type> {
    let Type::Path(p) = ty else { return Vec::new() };
    let Some(seg) = p.path.segments.last() else {
        return Vec::new();
    };
    let PathArguments::AngleBracketed(a) = &seg.arguments else {
        return Vec::new();
    };
    a.args
        .iter()
        .filter_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn first_arg(ty: &Type) -> Option<&Type> {
    args(ty).into_iter().next()
}

/// A type as a reader writes it: last path segments, `crate::` kept.
pub fn render(ty: &Type) -> String {
    match ty {
        Type::Path(p) => {
            let mut name = p
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            if p.path.segments.first().is_some_and(|s| s.ident == "crate") {
                name = format!("crate::{name}");
            }
            let args: Vec<String> = args(ty).into_iter().map(render).collect();
            if args.is_empty() {
                name
            } else {
                format!("{name}<{}>", args.join(", "))
            }
        }
        Type::Reference(r) => format!("&{}", render(&r.elem)),
        Type::Tuple(t) if t.elems.is_empty() => "()".to_owned(),
        _ => "?".to_owned(),
    }
}

/// The full path of a type with generics, for mapping to JSON types.
fn canonical(ty: &Type) -> String {
    match ty {
        Type::Path(p) => {
            let path: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let args: Vec<String> = args(ty).into_iter().map(canonical).collect();
            if args.is_empty() {
                path.join("::")
            } else {
                format!("{}<{}>", path.join("::"), args.join(","))
            }
        }
        _ => render(ty),
    }
}

/// JSON type and format of a Rust type, as schemars 0.8 states them.
fn json_of(ty: &str, replacements: &BTreeMap<String, String>) -> (Ty, Option<&'static str>) {
    if let Some(inner) = strip(ty, "std::vec::Vec<") {
        return (Ty::Array(Box::new(json_of(inner, replacements).0)), None);
    }
    match ty {
        "std::string::String" | "String" => (Ty::String, None),
        "i64" => (Ty::Integer, Some("int64")),
        "i32" => (Ty::Integer, Some("int32")),
        "u64" => (Ty::Integer, Some("uint64")),
        "u32" => (Ty::Integer, Some("uint32")),
        "f64" => (Ty::Number, Some("double")),
        "f32" => (Ty::Number, Some("float")),
        "bool" => (Ty::Boolean, None),
        "chrono::DateTime<chrono::offset::Utc>" => (Ty::String, Some("date-time")),
        "chrono::naive::NaiveDate" => (Ty::String, Some("date")),
        "serde_json::Value" => (Ty::Any, None),
        t if t.starts_with("serde_json::Map<") => (Ty::Object, None),
        t => match replacements.get(t) {
            Some(schema) => (Ty::Ref(schema.clone()), None),
            None => (Ty::Ref(t.rsplit("::").next().unwrap_or(t).to_owned()), None),
        },
    }
}

fn strip<'a>(ty: &'a str, prefix: &str) -> Option<&'a str> {
    ty.strip_prefix(prefix)?.strip_suffix('>')
}

/// The shape schemars would give a generated type, read from source.
///
/// `replacements` maps a replacement's Rust path (`crate::Metadata`) to the
/// schema name its `JsonSchema` impl reports (`LeadMetadata`).
pub fn shape(def: &TypeDef, replacements: &BTreeMap<String, String>) -> Shape {
    match def {
        TypeDef::Enum(values) => Shape::Enum(values.clone()),
        TypeDef::Other(what) => Shape::Other(what.clone()),
        TypeDef::Struct(fields) => Shape::Object {
            fields: fields
                .iter()
                .map(|(name, f)| {
                    let ty = f.ty.trim_start_matches("::");
                    let (inner, option) = match strip(ty, "std::option::Option<") {
                        Some(inner) => (inner, true),
                        None => (ty, false),
                    };
                    let (json, format) = json_of(inner, replacements);
                    let mut field = Field::of(json, format);
                    field.nullable = option;
                    field.required = !option && !f.default;
                    if format.is_some_and(|f| f.starts_with('u')) {
                        field.minimum = Some(0.0);
                    }
                    (name.clone(), field)
                })
                .collect(),
            additional: None,
        },
    }
}
