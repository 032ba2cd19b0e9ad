//! The aliases of `cargo xtask`: `contract` and `sandbox` run the binaries of
//! the crates that own them (`sela-contract`, `sela-sandbox`), with the same
//! flags, so the README's main command and `cargo install`'s tool are one code.

use std::process::{Command, ExitCode};

/// Runs `bin` of `package` with `args` through `cargo run` (built if needed).
pub(crate) fn alias(package: &str, bin: &str, args: &[String]) -> ExitCode {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["run", "--quiet", "--package", package, "--bin", bin, "--"])
        .args(args);
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
