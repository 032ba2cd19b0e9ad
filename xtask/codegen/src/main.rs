//! `cargo xtask generate [--check] [--root DIR]` (dispatched by `xtask/run`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((task, rest)) if task == "generate" => xtask_codegen::generate::run(rest),
        _ => xtask_codegen::generate::run(&args),
    }
}
