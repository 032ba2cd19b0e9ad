//! `cargo xtask contract`: not written yet.

use std::process::ExitCode;

pub fn run(_args: &[String]) -> ExitCode {
    eprintln!("cargo xtask contract: not implemented yet");
    ExitCode::from(2)
}
