//! The client generator and `cargo xtask generate`, in a workspace member that
//! does not depend on `sela-leads`: it runs whatever `openapi.yaml` says, even
//! when the library no longer compiles against the old generated client.

pub mod generate;
pub mod generator;
