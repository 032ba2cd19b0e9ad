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

Checks every clause of the bulk-create contract (T1-T3, B1-B4, S1-S3, A1-A2)
with proptest batches sent over HTTP.

options:
  --base-url URL        run against this server, with the token from the
                        environment variable SELA_API_KEY (it creates leads with
                        fictional numbers); without it, an in-process sandbox
  --cases N             proptest cases per property (default 64)
  --seed S              seed of the generated cases (default: random, printed)
  --max-batch N         largest batch sent (default 8)
  --max-created N       most leads the run may create (default 2000)
  --lead-type ID        a lead type id that exists on the target
  --representative ID   a representative id that exists on the target
  -h, --help            this help

exit status: 0 every clause held, 1 a clause failed (or was never checked),
2 usage or connection error.
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
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if out.config.max_batch == 0 {
        return Err("--max-batch must be at least 1".into());
    }
    if out.config.max_batch > 60 {
        return Err("--max-batch must be at most 60".into());
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
        "{} cases per property, batches up to {} items",
        config.cases,
        config.max_batch
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
        "{} cases ({} requests) in {secs:.1} s: {:.0} cases/s; reproduce with --seed {}",
        report.cases_run,
        report.requests,
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
        assert!(parse(&args(&["--help"])).unwrap().is_none());
        assert!(parse(&args(&["--cases"])).is_err());
        assert!(parse(&args(&["--cases", "x"])).is_err());
        assert!(parse(&args(&["--frobnicate"])).is_err());
        assert!(parse(&args(&["--max-batch", "0"])).is_err());
    }
}
