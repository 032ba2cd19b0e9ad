//! `cargo xtask contract`: checks the bulk-create contract against the built-in
//! sandbox (default) or a server given by `--base-url` (token from `SELA_API_KEY`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sela_contract::har::Recorder;
use sela_contract::{ApiKey, Config, Report, Target, regressions};
use sela_sandbox::Sandbox;

/// `println!` that ignores a closed stdout (`| head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

const USAGE: &str = "\
usage: sela-contract [options]

Checks every clause of the leads contract (T1-T3, B1-B5, S1-S4, R1-R2, C1,
U1-U3, G1, L1, A1-A3) with proptest cases sent over HTTP: mixed batches,
created identities re-sent in other US formats (and those of the run's start
again at its end), valid items alone and among invalid ones, refused requests
(near-miss tokens too) and items answered error, requests in flight together,
batches of many sizes up to the limit it probes, and walks of the run's own
leads through single create, PATCH, PUT, re-engagement and a do-not-contact
flag, the list walked page by page, and a second account's leads. Every
created lead is read back field by field and the list count followed, where
the target offers them.

options:
  --base-url URL        run against this server, with the token from the
                        environment variable SELA_API_KEY (it creates leads with
                        fictional numbers); without it, an in-process sandbox
                        (two accounts). A second account's token in
                        SELA_SECOND_API_KEY checks account isolation (A3);
                        without it A3 is not checked
  --cases N             proptest cases per property (default 64)
  --sequences N         stateful sequences of operations to run (default an
                        eighth of --cases, at least 2; 0 runs none)
  --seed S              seed of the generated cases (default: random, printed)
  --max-batch N         largest batch sent (default 8)
  --max-created N       most leads the run may create (default 2000)
  --max-size N          largest batch of the size probe (default 1000, at
                        least 250); the limit found is reported
  --concurrency N       requests in flight together for S4 (2-16, default 6)
  --shared-account      the account has other writers: do not follow the list
                        count (S2's count growth is not checked)
  --throttle-patience S longest wait in seconds for one request answered 429
                        before giving up (default 30)
  --lead-type ID        a lead type id that exists on the target
  --representative ID   a representative id that exists on the target
  --settle SECS         a read (GET by id, the list, its count) that disagrees
                        with a write is read again, with backoff, for up to
                        SECS seconds before it is reported (default 2): reads
                        may lag writes behind a replica or a cache
  --time-budget SECS    start no new case after SECS seconds (shrinking what
                        failed still finishes; cases per clause are reported)

reports (written even when clauses fail):
  --junit PATH          JUnit XML: a testcase per clause, failures with evidence
  --json PATH           the whole report as JSON (format_version 1, see README)
  --har PATH            every exchange as an HTTP Archive 1.2 (token shown as
                        $SELA_API_KEY)
  --har-failures-only   only the exchanges of failing cases in --har
  --regressions PATH    stored failures: replayed first, new ones appended
                        (default contract-regressions.jsonl; commit it)
  --no-regressions      neither replay nor store failures
  -h, --help            this help

exit status:
  0  every clause held (and every replayed stored failure held)
  1  a clause failed or was not checked, or a stored failure still fails
  2  usage error, the target unreachable or stopped answering, the API key
     refused (401/403 to an authorised empty batch), throttling (429) that
     did not end within --throttle-patience, a run that could check
     nothing, or a report not written
";

struct Args {
    base_url: Option<String>,
    config: Config,
    junit: Option<PathBuf>,
    json: Option<PathBuf>,
    har: Option<PathBuf>,
    har_failures_only: bool,
    /// `None`: `--no-regressions`.
    regressions: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let mut out = Args {
        base_url: None,
        config: Config::default(),
        junit: None,
        json: None,
        har: None,
        har_failures_only: false,
        regressions: Some(PathBuf::from(regressions::DEFAULT_PATH)),
    };
    let mut no_regressions = false;
    let mut regressions_path = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        if matches!(name, "-h" | "--help") {
            return Ok(None);
        }
        match name {
            "--har-failures-only" => {
                out.har_failures_only = true;
                continue;
            }
            "--no-regressions" => {
                no_regressions = true;
                continue;
            }
            _ => {}
        }
        let mut value = || -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match name {
            "--base-url" => out.base_url = Some(value()?),
            "--cases" => out.config.cases = number(name, &value()?)?,
            "--sequences" => out.config.sequences = Some(number(name, &value()?)?),
            "--seed" => out.config.seed = Some(number(name, &value()?)?),
            "--max-batch" => out.config.max_batch = number(name, &value()?)?,
            "--max-created" => out.config.max_created = number(name, &value()?)?,
            "--lead-type" => out.config.lead_type = Some(number(name, &value()?)?),
            "--representative" => out.config.representative = Some(number(name, &value()?)?),
            "--settle" => {
                let secs: f64 = number(name, &value()?)?;
                if !(secs.is_finite() && (0.0..=600.0).contains(&secs)) {
                    return Err(format!("{name} must be a number of seconds, 0 to 600"));
                }
                out.config.settle = Duration::from_secs_f64(secs);
            }
            "--time-budget" => {
                let secs: f64 = number(name, &value()?)?;
                if !(secs.is_finite() && secs >= 0.0) {
                    return Err(format!("{name} must be a number of seconds, 0 or more"));
                }
                out.config.time_budget = Some(Duration::from_secs_f64(secs));
            }
            "--junit" => out.junit = Some(path(name, value()?)?),
            "--json" => out.json = Some(path(name, value()?)?),
            "--har" => out.har = Some(path(name, value()?)?),
            "--regressions" => regressions_path = Some(path(name, value()?)?),
            "--max-size" => out.config.max_size = number(name, &value()?)?,
            "--concurrency" => out.config.concurrency = number(name, &value()?)?,
            "--throttle-patience" => {
                let secs: u64 = number(name, &value()?)?;
                out.config.throttle_patience = std::time::Duration::from_secs(secs);
            }
            "--shared-account" => {
                if inline.is_some() {
                    return Err("--shared-account takes no value".into());
                }
                out.config.shared_account = true;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if out.config.max_batch == 0 {
        return Err("--max-batch must be at least 1".into());
    }
    if out.config.max_batch > 60 {
        return Err("--max-batch must be at most 60".into());
    }
    if out.config.max_size < 250 {
        return Err(
            "--max-size must be at least 250 (the contract probes batches of 250 items and \
             more; a target that refuses them is found by the probe)"
                .into(),
        );
    }
    if !(2..=16).contains(&out.config.concurrency) {
        return Err("--concurrency must be between 2 and 16".into());
    }
    if out.har_failures_only && out.har.is_none() {
        return Err("--har-failures-only needs --har PATH".into());
    }
    match (no_regressions, regressions_path) {
        (true, Some(_)) => {
            return Err("--no-regressions and --regressions PATH contradict each other".into());
        }
        (true, None) => out.regressions = None,
        (false, Some(p)) => out.regressions = Some(p),
        (false, None) => {}
    }
    Ok(Some(out))
}

fn path(name: &str, raw: String) -> Result<PathBuf, String> {
    if raw.trim().is_empty() {
        return Err(format!("{name} needs a file path"));
    }
    Ok(PathBuf::from(raw))
}

fn number<T: std::str::FromStr>(name: &str, raw: &str) -> Result<T, String> {
    raw.trim()
        .parse()
        .map_err(|_| format!("{name}: {raw:?} is not a valid number"))
}

/// Runs the task; see `USAGE`.
fn run(args: &[String]) -> ExitCode {
    let args = match parse(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            say!("{}", USAGE.trim_end());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("cargo xtask contract: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut config = args.config.clone();
    config.progress = true;
    if let Some(path) = &args.regressions {
        match regressions::load(path) {
            Ok(stored) => config.replay = stored,
            Err(e) => {
                eprintln!("cargo xtask contract: cannot read the stored failures: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let recorder = args.har.as_ref().map(|_| Recorder::new());
    // `_sandbox` keeps the in-process sandbox alive for the run.
    let (target, _sandbox) = match open_target(args.base_url.as_deref(), config.max_created) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cargo xtask contract: {e}");
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
            eprintln!("cargo xtask contract: {e}");
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
            "cargo xtask contract: no clause could be checked: {}",
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
                eprintln!("cargo xtask contract: cannot store the failures: {e}");
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
                "cargo xtask contract: cannot write the {what} report to {}: {e}",
                path.display()
            );
            false
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run(&args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_the_interface() {
        let a = parse(&args(&[
            "--base-url",
            "http://127.0.0.1:9",
            "--cases=3",
            "--seed",
            "7",
            "--max-batch",
            "4",
            "--max-created",
            "10",
            "--lead-type",
            "1",
            "--representative",
            "2",
            "--max-size=300",
            "--concurrency",
            "4",
            "--shared-account",
            "--throttle-patience",
            "5",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(a.base_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(
            (
                a.config.cases,
                a.config.seed,
                a.config.max_batch,
                a.config.max_created
            ),
            (3, Some(7), 4, 10)
        );
        assert_eq!(
            (a.config.lead_type, a.config.representative),
            (Some(1), Some(2))
        );
        assert_eq!(
            (
                a.config.max_size,
                a.config.concurrency,
                a.config.shared_account,
                a.config.throttle_patience
            ),
            (300, 4, true, std::time::Duration::from_secs(5))
        );
        assert!(!parse(&args(&[])).unwrap().unwrap().config.shared_account);
        assert!(parse(&args(&["--concurrency", "1"])).is_err());
        assert!(parse(&args(&["--max-size", "100"])).is_err());
        assert!(parse(&args(&["--shared-account=yes"])).is_err());
        assert!(parse(&args(&["--help"])).unwrap().is_none());
        assert!(parse(&args(&["--cases"])).is_err());
        assert!(parse(&args(&["--sequences", "-1"])).is_err());
        let seq = parse(&args(&["--sequences", "5"])).unwrap().unwrap();
        assert_eq!(seq.config.sequences, Some(5));
        assert!(parse(&args(&["--cases", "x"])).is_err());
        assert!(parse(&args(&["--frobnicate"])).is_err());
        assert!(parse(&args(&["--max-batch", "0"])).is_err());
    }

    #[test]
    fn parses_the_report_flags() {
        let a = parse(&args(&[
            "--junit",
            "j.xml",
            "--json=r.json",
            "--har",
            "x.har",
            "--har-failures-only",
            "--regressions",
            "r.jsonl",
            "--time-budget",
            "1.5",
            "--settle",
            "0.5",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(a.config.settle, Duration::from_millis(500));
        assert!(parse(&args(&["--settle", "-1"])).is_err());
        assert!(parse(&args(&["--settle", "x"])).is_err());
        assert_eq!(
            parse(&[]).unwrap().unwrap().config.settle,
            Duration::from_secs(2)
        );
        assert_eq!(a.junit, Some(PathBuf::from("j.xml")));
        assert_eq!(a.json, Some(PathBuf::from("r.json")));
        assert_eq!(a.har, Some(PathBuf::from("x.har")));
        assert!(a.har_failures_only);
        assert_eq!(a.regressions, Some(PathBuf::from("r.jsonl")));
        assert_eq!(a.config.time_budget, Some(Duration::from_millis(1500)));
        let d = parse(&[]).unwrap().unwrap();
        assert_eq!(
            d.regressions,
            Some(PathBuf::from(regressions::DEFAULT_PATH))
        );
        let n = parse(&args(&["--no-regressions"])).unwrap().unwrap();
        assert_eq!(n.regressions, None);
        assert!(parse(&args(&["--no-regressions", "--regressions", "r"])).is_err());
        assert!(parse(&args(&["--har-failures-only"])).is_err());
        assert!(parse(&args(&["--time-budget", "-1"])).is_err());
        assert!(parse(&args(&["--junit"])).is_err());
    }
}
