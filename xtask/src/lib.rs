//! The logic of `cargo xtask` tasks that tests drive directly (the binary in
//! `main.rs` only parses arguments and dispatches).

pub mod generate;
