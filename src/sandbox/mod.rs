//! The stateful local sandbox of the leads API: a reference model of the
//! documented semantics ([`model`]) served over HTTP by an in-process httpmock
//! server.

pub mod model;

pub use model::{Identity, Model, NOT_AN_OBJECT, identity, normalize_phone, validate_item};
