//! `cargo xtask <task>`: hands `generate` to `xtask/codegen` (which needs nothing
//! of the library, so it runs whatever `openapi.yaml` says) and every other task
//! to the harness in `xtask` (which needs the library). Each is built only when
//! it is run: a spec change cannot break `generate`, and `contract` does not wait
//! for the generator to compile.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let package = match args.first().map(String::as_str) {
        Some("generate") => "xtask-codegen",
        _ => "xtask",
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["run", "--quiet", "--package", package, "--"])
        .args(&args);
    // What `cargo run` set for this binary must not reach the inner build: a
    // build script that watches one (ring's watches CARGO_MANIFEST_DIR) would
    // rerun, and everything above it rebuild, on every switch between
    // `cargo xtask` and a plain `cargo build`.
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(set_by_cargo_run) {
            command.env_remove(key);
        }
    }
    run(command)
}

/// The variables `cargo run` sets for the binary it runs (besides `CARGO`).
fn set_by_cargo_run(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || key.starts_with("CARGO_MANIFEST_")
        || matches!(
            key,
            "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
        )
}

/// Replaces this process with `command` (same pid, so signals and `kill` reach
/// the task), or waits for it where `exec` does not exist.
#[cfg(unix)]
fn run(mut command: Command) -> ExitCode {
    use std::os::unix::process::CommandExt as _;
    let error = command.exec();
    eprintln!("cargo xtask: cannot run cargo: {error}");
    ExitCode::from(2)
}

#[cfg(not(unix))]
fn run(mut command: Command) -> ExitCode {
    match command.status() {
        Ok(status) => match status.code() {
            Some(0) => ExitCode::SUCCESS,
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::FAILURE,
        },
        Err(error) => {
            eprintln!("cargo xtask: cannot run cargo: {error}");
            ExitCode::from(2)
        }
    }
}
