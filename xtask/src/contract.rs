//! `cargo xtask contract`: checks the bulk-create contract against the built-in
//! sandbox (default) or a server given by `--base-url` (token from `SELA_API_KEY`).

use std::process::ExitCode;
use std::time::Instant;

use sela_leads::contract::{self, ApiKey, Config, Target};
use sela_leads::sandbox::Sandbox;

/// `println!` that ignores a closed stdout (`| head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

const USAGE: &str = "\
usage: cargo xtask contract [options]

Checks every clause of the bulk-create contract (T1-T3, B1-B4, S1-S4, A1-A2)
with proptest batches sent over HTTP: mixed batches, created identities re-sent
in other US formats, valid items alone and among invalid ones, refused requests
(near-miss tokens too) and items answered error, requests in flight together,
and batches of many sizes up to the limit it probes. Every created lead is read
back field by field and the list count followed, where the target offers them.

options:
  --base-url URL        run against this server, with the token from the
                        environment variable SELA_API_KEY (it creates leads with
                        fictional numbers); without it, an in-process sandbox
  --cases N             proptest cases per property (default 64)
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
  -h, --help            this help

exit status:
  0  every clause held
  1  a clause failed, or was never checked
  2  usage error, the target unreachable or stopped answering, the API key
     refused (401/403 to an authorised empty batch), or throttling (429) that
     did not end within --throttle-patience
";

struct Args {
    base_url: Option<String>,
    config: Config,
}

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let mut out = Args {
        base_url: None,
        config: Config::default(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        if matches!(name, "-h" | "--help") {
            return Ok(None);
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
            "--seed" => out.config.seed = Some(number(name, &value()?)?),
            "--max-batch" => out.config.max_batch = number(name, &value()?)?,
            "--max-created" => out.config.max_created = number(name, &value()?)?,
            "--lead-type" => out.config.lead_type = Some(number(name, &value()?)?),
            "--representative" => out.config.representative = Some(number(name, &value()?)?),
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
    Ok(Some(out))
}

fn number<T: std::str::FromStr>(name: &str, raw: &str) -> Result<T, String> {
    raw.trim()
        .parse()
        .map_err(|_| format!("{name}: {raw:?} is not a valid number"))
}

/// Runs the task; see `USAGE`.
pub fn run(args: &[String]) -> ExitCode {
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
    let config = args.config;
    // Keeps the in-process sandbox alive for the run.
    let mut _sandbox = None;
    let target = match &args.base_url {
        Some(url) => {
            let key = match std::env::var("SELA_API_KEY") {
                Ok(k) if !k.trim().is_empty() => k,
                _ => {
                    eprintln!(
                        "cargo xtask contract: --base-url needs the API key in the environment \
                         variable SELA_API_KEY (export SELA_API_KEY=...)"
                    );
                    return ExitCode::from(2);
                }
            };
            let target = match Target::new(url, ApiKey::new(key)) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("cargo xtask contract: {e}");
                    return ExitCode::from(2);
                }
            };
            say!(
                "This run creates leads on {} with fictional numbers only \
                 (NANP 555-0100..555-0199, e-mails @example.com): at most {} leads \
                 (--max-created).",
                target.base_url(),
                config.max_created
            );
            target
        }
        None => {
            let sandbox = match Sandbox::try_start_with(None, None) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("cargo xtask contract: cannot start the sandbox: {e}");
                    return ExitCode::from(2);
                }
            };
            let target = match Target::new(&sandbox.base_url(), ApiKey::new(sandbox.token())) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("cargo xtask contract: {e}");
                    return ExitCode::from(2);
                }
            };
            say!(
                "Running against the built-in sandbox at {}",
                target.base_url()
            );
            _sandbox = Some(sandbox);
            target
        }
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
    let started = Instant::now();
    let report = match contract::run(&target, &config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cargo xtask contract: {e}");
            return ExitCode::from(2);
        }
    };
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
    if report.passed() {
        say!("every clause held");
        ExitCode::SUCCESS
    } else {
        let failed: Vec<&str> = report.failed().iter().map(|c| c.id()).collect();
        if failed.is_empty() {
            say!("some clauses were never checked (see the table)");
        } else {
            say!("FAILED: {}", failed.join(", "));
        }
        ExitCode::from(1)
    }
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
        assert!(parse(&args(&["--cases", "x"])).is_err());
        assert!(parse(&args(&["--frobnicate"])).is_err());
        assert!(parse(&args(&["--max-batch", "0"])).is_err());
    }
}
