//! Project tasks, run as `cargo xtask <task>` (matklad's cargo-xtask pattern).

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  generate [--check]   regenerate the client snapshot and diff it against the spec
  sandbox [--port P] [--token T] [options]
                       serve the stateful local sandbox on 127.0.0.1
                       (see `cargo xtask sandbox --help`)
  contract [options]   check the bulk-create contract (see `cargo xtask contract --help`)
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    match task.as_deref() {
        Some("generate") => generate::run(&rest),
        Some("sandbox") => sandbox::run(&rest),
        Some("contract") => contract::run(&rest),
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

mod contract;
mod sandbox;

use xtask::generate;
