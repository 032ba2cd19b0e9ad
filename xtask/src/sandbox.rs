//! `cargo xtask sandbox`: not written yet.

use std::process::ExitCode;

pub fn run(_args: &[String]) -> ExitCode {
    eprintln!("cargo xtask sandbox: not implemented yet");
    ExitCode::from(2)
}
