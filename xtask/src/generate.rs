//! `cargo xtask generate`: not written yet.

use std::process::ExitCode;

pub fn run(_args: &[String]) -> ExitCode {
    eprintln!("cargo xtask generate: not implemented yet");
    ExitCode::from(2)
}
