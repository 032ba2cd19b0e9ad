//! `cargo xtask <task>`: the chores of this workspace and two aliases.

use std::process::ExitCode;

mod dispatch;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  generate [--check]   regenerate the client snapshot in generated/ and diff it
                       against the spec (the chore; build.rs generates the same)
  contract [options]   alias of `sela-contract` (crates/sela-contract): check
                       the leads contract (see `cargo xtask contract --help`)
  sandbox [options]    alias of `sela-sandbox` (crates/sela-sandbox): serve the
                       stateful local sandbox on 127.0.0.1
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    match task.as_deref() {
        Some("generate") => dispatch::alias("xtask-generate", "xtask-generate", &rest),
        Some("contract") => dispatch::alias("sela-contract", "sela-contract", &rest),
        Some("sandbox") => dispatch::alias("sela-sandbox", "sela-sandbox", &rest),
        Some("-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
