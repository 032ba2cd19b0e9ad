//! `cargo xtask generate [--check] [--root DIR]` (handed here by `xtask`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((task, rest)) if task == "generate" => xtask_generate::generate::run(rest),
        _ => xtask_generate::generate::run(&args),
    }
}
