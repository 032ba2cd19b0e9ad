//! The chore `cargo xtask generate` (matklad's cargo-xtask pattern): [`generate`]
//! writes the reviewable snapshot of the generated client to `generated/` and
//! checks it against the spec. The generator itself, and its settings, are the
//! crate `sela-leads-codegen` ([`generator`]), which `build.rs` also uses.

pub use sela_leads_codegen as generator;

pub mod generate;
