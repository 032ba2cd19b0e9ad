//! `sela-contract` (and its alias `cargo xtask contract`): checks the leads
//! contract against the built-in sandbox (default) or a server given by
//! `--base-url` (token from `SELA_API_KEY`). `sela-contract --help` lists the
//! flags and the exit codes.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser as _;

use sela_contract::har::Recorder;
use sela_contract::{ApiKey, Report, Target, regressions};
use sela_sandbox::Sandbox;

mod cli;

use cli::{Args, Cli};

/// `println!` that ignores a closed stdout (`| head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Runs the task; see `--help`.
fn run(args: Args) -> ExitCode {
    let mut config = args.config.clone();
    config.progress = true;
    if let Some(path) = &args.regressions {
        match regressions::load(path) {
            Ok(stored) => config.replay = stored,
            Err(e) => {
                eprintln!("sela-contract: cannot read the stored failures: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let recorder = args.har.as_ref().map(|_| Recorder::new());
    // `_sandbox` keeps the in-process sandbox alive for the run.
    let (target, _sandbox) = match open_target(args.base_url.as_deref(), config.max_created) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sela-contract: {e}");
            return ExitCode::from(2);
        }
    };
    let target = match &recorder {
        Some(r) => target.with_recorder(r.clone()),
        None => target,
    };
    say!(
        "{} cases per property, mixed batches up to {} items, size probe up to {} items, \
         {} requests in flight for S4",
        config.cases,
        config.max_batch,
        config.max_size,
        config.concurrency
    );
    say!(
        "{}",
        if config.shared_account {
            "--shared-account: the list count is not followed (S2 checks no count growth)"
        } else {
            "S2 follows the list count: this assumes nothing else writes to the account \
             during the run (pass --shared-account otherwise)"
        }
    );
    if !config.replay.is_empty() {
        say!("{} stored failure(s) to replay first", config.replay.len());
    }
    let started = Instant::now();
    let result = sela_contract::run(&target, &config);
    // The archive is written even when the run could not finish: what was
    // exchanged until then is what whoever investigates needs.
    let mut written = true;
    if let (Some(path), Some(rec)) = (&args.har, &recorder) {
        let result = make_parent(path).and_then(|()| rec.write(path, args.har_failures_only));
        written &= write_report("HAR", path, result);
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sela-contract: {e}");
            write_error_reports(&args, target.base_url(), &e);
            return ExitCode::from(2);
        }
    };
    written &= write_reports(&args, &report);
    let secs = started.elapsed().as_secs_f64();
    say!("{report}");
    say!(
        "{} cases ({} requests, {} throttled) in {secs:.1} s: {:.0} cases/s; reproduce with \
         --seed {}",
        report.cases_run,
        report.requests,
        report.throttled,
        f64::from(report.cases_run) / secs.max(1e-9),
        report.seed
    );
    if !written {
        return ExitCode::from(2);
    }
    if report.checked_nothing() {
        eprintln!(
            "sela-contract: no clause could be checked: {}",
            report.not_checked_reason()
        );
        return ExitCode::from(2);
    }
    if report.passed() {
        say!("every clause held");
        ExitCode::SUCCESS
    } else {
        let failed: Vec<&str> = report.failed().iter().map(|c| c.id()).collect();
        let still: Vec<&str> = report
            .replayed
            .iter()
            .filter(|r| r.still_fails())
            .map(|r| r.stored.clause.as_str())
            .collect();
        if !failed.is_empty() {
            say!("FAILED: {}", failed.join(", "));
        }
        if !still.is_empty() {
            say!("stored failures that still fail: {}", still.join(", "));
        }
        if failed.is_empty() && still.is_empty() {
            say!("some clauses were never checked (see the table)");
        }
        ExitCode::from(1)
    }
}

/// The target of the run: `--base-url` with the key from `SELA_API_KEY`, or
/// else a sandbox started in-process (returned to be kept alive). Says which.
fn open_target(
    base_url: Option<&str>,
    max_created: usize,
) -> Result<(Target, Option<Sandbox>), String> {
    let Some(url) = base_url else {
        let sandbox = Sandbox::try_start_with(None, None)
            .map_err(|e| format!("cannot start the sandbox: {e}"))?;
        let mut target = Target::new(&sandbox.base_url(), ApiKey::new(sandbox.token()))
            .map_err(|e| e.to_string())?;
        if let Some(second) = sandbox.second_token() {
            target = target.with_second_key(ApiKey::new(second));
        }
        say!(
            "Running against the built-in sandbox at {} ({})",
            target.base_url(),
            if target.has_second_key() {
                "two accounts: A3 is checked"
            } else {
                "one account: A3 is not checked"
            }
        );
        return Ok((target, Some(sandbox)));
    };
    let key = match std::env::var("SELA_API_KEY") {
        Ok(k) if !k.trim().is_empty() => k,
        _ => {
            return Err("--base-url needs the API key in the environment variable \
                        SELA_API_KEY (export SELA_API_KEY=...)"
                .to_owned());
        }
    };
    let mut target = Target::new(url, ApiKey::new(key)).map_err(|e| e.to_string())?;
    match std::env::var("SELA_SECOND_API_KEY") {
        Ok(k) if !k.trim().is_empty() => {
            target = target.with_second_key(ApiKey::new(k));
            if !target.has_second_key() {
                say!("SELA_SECOND_API_KEY is the same token as SELA_API_KEY: A3 is not checked");
            } else {
                say!(
                    "A3 (account isolation) is checked with the second account of SELA_SECOND_API_KEY"
                );
            }
        }
        _ => say!(
            "A3 (account isolation) is not checked: SELA_SECOND_API_KEY is not set (a second \
             account's token)"
        ),
    }
    say!(
        "This run creates leads on {} with fictional numbers only \
         (NANP 555-0100..555-0199, e-mails @example.com): at most {} leads \
         (--max-created).",
        target.base_url(),
        max_created
    );
    Ok((target, None))
}

/// Writes the JUnit and JSON reports and stores new failures; false when one
/// could not be written (said on stderr).
fn write_reports(args: &Args, report: &Report) -> bool {
    let mut ok = true;
    if let Some(path) = &args.junit {
        let result = make_parent(path).and_then(|()| sela_contract::junit::write(report, path));
        ok &= write_report("JUnit", path, result);
    }
    if let Some(path) = &args.json {
        let result = make_parent(path).and_then(|()| sela_contract::json::write(report, path));
        ok &= write_report("JSON", path, result);
    }
    if let Some(path) = &args.regressions {
        let stored = make_parent(path)
            .map_err(|source| regressions::RegressionsError::Io {
                path: path.clone(),
                source,
            })
            .and_then(|()| regressions::store(path, report));
        match stored {
            Ok(0) => {}
            Ok(n) => say!(
                "{n} new failure(s) stored in {} (commit it: the next run replays them first)",
                path.display()
            ),
            Err(e) => {
                eprintln!("sela-contract: cannot store the failures: {e}");
                ok = false;
            }
        }
    }
    ok
}

/// A run that could not run still leaves JUnit and JSON files saying why, so
/// that a CI reporter shows the error instead of a missing file.
fn write_error_reports(args: &Args, base_url: &str, error: &sela_contract::HarnessError) {
    if let Some(path) = &args.junit {
        let result = make_parent(path).and_then(|()| {
            let xml = sela_contract::junit::error_junit(base_url, error)
                .to_string()
                .map_err(std::io::Error::other)?;
            std::fs::write(path, xml)
        });
        write_report("JUnit", path, result);
    }
    if let Some(path) = &args.json {
        let result = make_parent(path)
            .and_then(|()| std::fs::write(path, sela_contract::json::error_json(base_url, error)));
        write_report("JSON", path, result);
    }
}

/// Creates the directories a report file goes into (`target/contract/...`).
fn make_parent(path: &std::path::Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
        _ => Ok(()),
    }
}

fn write_report(what: &str, path: &std::path::Path, result: std::io::Result<()>) -> bool {
    match result {
        Ok(()) => {
            say!("{what} report written to {}", path.display());
            true
        }
        Err(e) => {
            eprintln!(
                "sela-contract: cannot write the {what} report to {}: {e}",
                path.display()
            );
            false
        }
    }
}

fn main() -> ExitCode {
    match Cli::try_parse() {
        Ok(cli) => run(cli.into()),
        // `--help` and `--version` (exit 0, on stdout) or a usage error (exit
        // 2, on stderr); a closed stdout is ignored, as by `say!`.
        Err(e) => {
            let _ = e.print();
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
        }
    }
}
