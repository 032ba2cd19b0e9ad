//! The harness tasks of `cargo xtask` (matklad's cargo-xtask pattern), which
//! need the library: `xtask/run` hands them here and `generate` to `xtask/codegen`.

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
        Some("generate") => {
            eprintln!("`generate` is run by xtask/codegen: use `cargo xtask generate`");
            ExitCode::from(2)
        }
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
