//! The command line of `sela-contract`, declared with clap: every flag, its
//! default and meaning, and the exit codes in `--help`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use clap::builder::RangedU64ValueParser;
use sela_contract::{Config, regressions};

/// What `--help` says after the flags: the exit codes and the environment.
const AFTER_HELP: &str = "\
environment:
  SELA_API_KEY          the token of the account under test (with --base-url);
                        read from the environment only, never printed: reports
                        and curl lines show it as $SELA_API_KEY
  SELA_SECOND_API_KEY   a second account's token on the same server: checks
                        account isolation (A3); without it A3 is not checked

exit status:
  0  every clause held (and every replayed stored failure held)
  1  a clause failed or was not checked, or a stored failure still fails
  2  usage error, the target unreachable or stopped answering, the API key
     refused (401/403 to an authorised empty batch), throttling (429) that
     did not end within --throttle-patience, a run that could check
     nothing, or a report not written";

/// [`AFTER_HELP`] and where the contract is written in full.
fn after_help() -> String {
    format!(
        "{AFTER_HELP}\n\nThe contract, clause by clause: {}",
        sela_contract::clauses::CONTRACT_URL
    )
}

/// Checks that a leads API server keeps the leads contract, clause by
/// clause; by default against the built-in sandbox.
///
/// Checks every clause of the leads contract (T1-T3, B1-B5, S1-S4,
/// R1-R2, C1, U1-U3, G1, L1, A1-A3) with proptest cases sent over
/// HTTP: mixed batches, created identities re-sent in other US
/// formats (and those of the run's start again at its end), valid
/// items alone and among invalid ones, refused requests (near-miss
/// tokens too) and items answered error, requests in flight together,
/// batches of many sizes up to the limit it probes, and walks of the
/// run's own leads through single create, PATCH, PUT, re-engagement
/// and a do-not-contact flag, the list walked page by page, and a
/// second account's leads. Every created lead is read back field by
/// field and the list count followed, where the target offers them.
#[derive(Debug, Parser)]
#[command(
    name = "sela-contract",
    version,
    verbatim_doc_comment,
    next_line_help = true,
    after_help = after_help()
)]
pub(crate) struct Cli {
    /// Run against this server, with the token from the environment
    /// variable SELA_API_KEY (it creates leads with fictional numbers);
    /// without it, an in-process sandbox (two accounts). A second
    /// account's token in SELA_SECOND_API_KEY checks account isolation
    /// (A3); without it A3 is not checked
    #[arg(long, verbatim_doc_comment, value_name = "URL")]
    base_url: Option<String>,
    /// Proptest cases per property
    #[arg(long, verbatim_doc_comment, value_name = "N", default_value_t = Config::default().cases)]
    cases: u32,
    /// Stateful sequences of operations to run (default an eighth of
    /// --cases, at least 2; 0 runs none)
    #[arg(long, verbatim_doc_comment, value_name = "N")]
    sequences: Option<u32>,
    /// Seed of the generated cases (default: random, printed)
    #[arg(long, verbatim_doc_comment, value_name = "S")]
    seed: Option<u64>,
    /// Largest mixed batch sent (1-60)
    #[arg(long, verbatim_doc_comment, value_name = "N", default_value_t = Config::default().max_batch,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=60))]
    max_batch: usize,
    /// Most leads the run may create
    #[arg(long, verbatim_doc_comment, value_name = "N", default_value_t = Config::default().max_created)]
    max_created: usize,
    /// Largest batch of the size probe (at least 250); the limit found is
    /// reported
    #[arg(long, verbatim_doc_comment, value_name = "N", default_value_t = Config::default().max_size,
          value_parser = max_size)]
    max_size: usize,
    /// Requests in flight together for S4 (2-16)
    #[arg(long, verbatim_doc_comment, value_name = "N", default_value_t = Config::default().concurrency,
          value_parser = RangedU64ValueParser::<usize>::new().range(2..=16))]
    concurrency: usize,
    /// Cases run side by side in every property but the size probe (1-16;
    /// 1: one at a time); the list count is judged over each wave of them
    #[arg(long, verbatim_doc_comment, value_name = "N", default_value_t = Config::default().lanes,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=16))]
    lanes: usize,
    /// The account has other writers: do not follow the list count (S2's
    /// count growth is not checked)
    #[arg(long, verbatim_doc_comment)]
    shared_account: bool,
    /// Longest wait in seconds for one request answered 429 before giving
    /// up
    #[arg(long, verbatim_doc_comment, value_name = "S",
          default_value_t = Config::default().throttle_patience.as_secs())]
    throttle_patience: u64,
    /// A lead type id that exists on the target
    #[arg(long, verbatim_doc_comment, value_name = "ID")]
    lead_type: Option<i64>,
    /// A representative id that exists on the target
    #[arg(long, verbatim_doc_comment, value_name = "ID")]
    representative: Option<i64>,
    /// A read (GET by id, the list, its count) that disagrees with a
    /// write is read again, with backoff, for up to SECS seconds (0 to
    /// 600) before it is reported: reads may lag writes behind a replica
    /// or a cache
    #[arg(long, verbatim_doc_comment, value_name = "SECS", value_parser = settle,
          default_value_t = Config::default().settle.as_secs_f64())]
    settle: f64,
    /// Start no new case, and no shrinking step, after SECS seconds (the
    /// run ends within SECS plus one case; cases per clause are reported)
    #[arg(long, verbatim_doc_comment, value_name = "SECS", value_parser = time_budget)]
    time_budget: Option<f64>,
    /// Stop at the first failure, unshrunk, and exit 1 (every failure is
    /// printed as soon as it is confirmed, with or without this)
    #[arg(long, verbatim_doc_comment)]
    fail_fast: bool,
    /// JUnit XML: a testcase per clause, failures with evidence
    #[arg(long, verbatim_doc_comment, value_name = "PATH", value_parser = path, help_heading = REPORTS)]
    junit: Option<PathBuf>,
    /// The whole report as JSON (format_version 1, see the README)
    #[arg(long, verbatim_doc_comment, value_name = "PATH", value_parser = path, help_heading = REPORTS)]
    json: Option<PathBuf>,
    /// Every exchange as an HTTP Archive 1.2 (token shown as
    /// $SELA_API_KEY)
    #[arg(long, verbatim_doc_comment, value_name = "PATH", value_parser = path, help_heading = REPORTS)]
    har: Option<PathBuf>,
    /// Only the exchanges of failing cases in --har
    #[arg(long, verbatim_doc_comment, requires = "har", help_heading = REPORTS)]
    har_failures_only: bool,
    /// Stored failures: replayed first, new ones appended (commit the
    /// file)
    #[arg(long, verbatim_doc_comment, value_name = "PATH", value_parser = path, help_heading = REPORTS,
          default_value = regressions::DEFAULT_PATH)]
    regressions: PathBuf,
    /// Neither replay nor store failures
    #[arg(long, verbatim_doc_comment, conflicts_with = "regressions", help_heading = REPORTS)]
    no_regressions: bool,
}

const REPORTS: &str = "Reports (written even when clauses fail)";

/// What a run is given, from [`Cli`].
pub(crate) struct Args {
    pub(crate) base_url: Option<String>,
    pub(crate) config: Config,
    pub(crate) junit: Option<PathBuf>,
    pub(crate) json: Option<PathBuf>,
    pub(crate) har: Option<PathBuf>,
    pub(crate) har_failures_only: bool,
    /// `None`: `--no-regressions`.
    pub(crate) regressions: Option<PathBuf>,
}

impl From<Cli> for Args {
    fn from(cli: Cli) -> Self {
        let config = Config {
            cases: cli.cases,
            sequences: cli.sequences,
            seed: cli.seed,
            max_batch: cli.max_batch,
            max_created: cli.max_created,
            max_size: cli.max_size,
            concurrency: cli.concurrency,
            lanes: cli.lanes,
            shared_account: cli.shared_account,
            throttle_patience: Duration::from_secs(cli.throttle_patience),
            lead_type: cli.lead_type,
            representative: cli.representative,
            settle: Duration::from_secs_f64(cli.settle),
            time_budget: cli.time_budget.map(Duration::from_secs_f64),
            fail_fast: cli.fail_fast,
            ..Config::default()
        };
        Args {
            base_url: cli.base_url,
            config,
            junit: cli.junit,
            json: cli.json,
            har: cli.har,
            har_failures_only: cli.har_failures_only,
            regressions: (!cli.no_regressions).then_some(cli.regressions),
        }
    }
}

/// `--max-size`: at least 250.
fn max_size(raw: &str) -> Result<usize, String> {
    let n: usize = raw
        .trim()
        .parse()
        .map_err(|_| format!("{raw:?} is not a valid number"))?;
    if n < 250 {
        return Err(
            "must be at least 250 (the contract probes batches of 250 items and \
                    more; a target that refuses them is found by the probe)"
                .into(),
        );
    }
    Ok(n)
}

fn seconds(raw: &str) -> Result<f64, String> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite())
        .ok_or_else(|| format!("{raw:?} is not a number of seconds"))
}

/// `--settle`: 0 to 600 seconds.
fn settle(raw: &str) -> Result<f64, String> {
    Some(seconds(raw)?)
        .filter(|s| (0.0..=600.0).contains(s))
        .ok_or_else(|| "must be a number of seconds, 0 to 600".into())
}

/// `--time-budget`: 0 seconds or more.
fn time_budget(raw: &str) -> Result<f64, String> {
    Some(seconds(raw)?)
        .filter(|s| *s >= 0.0)
        .ok_or_else(|| "must be a number of seconds, 0 or more".into())
}

/// A report path: not blank.
fn path(raw: &str) -> Result<PathBuf, String> {
    if raw.trim().is_empty() {
        return Err("needs a file path".into());
    }
    Ok(PathBuf::from(raw))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    /// The command line `sela-contract LIST...` as the run gets it.
    fn parse(list: &[&str]) -> Result<Args, clap::Error> {
        Cli::try_parse_from(std::iter::once("sela-contract").chain(list.iter().copied()))
            .map(Args::from)
    }

    /// A usage error, exiting 2 as every usage error must.
    fn refused(list: &[&str]) -> bool {
        match parse(list) {
            Ok(_) => false,
            Err(e) => {
                assert_eq!(e.exit_code(), 2, "{list:?}: {e}");
                true
            }
        }
    }

    #[test]
    fn parses_the_interface() {
        let a = parse(&[
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
        ])
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
        assert!(!parse(&[]).unwrap().config.shared_account);
        assert!(refused(&["--concurrency", "1"]));
        assert_eq!(parse(&["--lanes", "1"]).unwrap().config.lanes, 1);
        assert!(refused(&["--lanes", "0"]));
        assert!(refused(&["--lanes", "17"]));
        assert!(refused(&["--max-size", "100"]));
        assert!(refused(&["--shared-account=yes"]));
        let help = parse(&["--help"]).err().expect("--help is not a run");
        assert_eq!(
            (help.kind(), help.exit_code()),
            (clap::error::ErrorKind::DisplayHelp, 0)
        );
        assert!(refused(&["--cases"]));
        assert!(refused(&["--sequences", "-1"]));
        let seq = parse(&["--sequences", "5"]).unwrap();
        assert_eq!(seq.config.sequences, Some(5));
        assert!(refused(&["--cases", "x"]));
        assert!(refused(&["--frobnicate"]));
        assert!(refused(&["--max-batch", "0"]));
    }

    #[test]
    fn parses_the_report_flags() {
        let a = parse(&[
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
        ])
        .unwrap();
        assert_eq!(a.config.settle, Duration::from_millis(500));
        assert!(refused(&["--settle", "-1"]));
        assert!(refused(&["--settle", "x"]));
        assert_eq!(parse(&[]).unwrap().config.settle, Duration::from_secs(2));
        assert_eq!(a.junit, Some(PathBuf::from("j.xml")));
        assert_eq!(a.json, Some(PathBuf::from("r.json")));
        assert_eq!(a.har, Some(PathBuf::from("x.har")));
        assert!(a.har_failures_only);
        assert_eq!(a.regressions, Some(PathBuf::from("r.jsonl")));
        assert_eq!(a.config.time_budget, Some(Duration::from_millis(1500)));
        assert!(parse(&["--fail-fast"]).unwrap().config.fail_fast);
        let d = parse(&[]).unwrap();
        assert!(!d.config.fail_fast);
        assert_eq!(
            d.regressions,
            Some(PathBuf::from(regressions::DEFAULT_PATH))
        );
        let n = parse(&["--no-regressions"]).unwrap();
        assert_eq!(n.regressions, None);
        assert!(refused(&["--no-regressions", "--regressions", "r"]));
        assert!(refused(&["--har-failures-only"]));
        assert!(refused(&["--time-budget", "-1"]));
        assert!(refused(&["--junit"]));
        assert!(refused(&["--junit", " "]));
    }

    /// Every flag of `sela-contract` before clap (issue 23: the same names).
    const FLAGS_BEFORE_CLAP: [&str; 22] = [
        "base-url",
        "cases",
        "sequences",
        "seed",
        "max-batch",
        "max-created",
        "max-size",
        "concurrency",
        "shared-account",
        "throttle-patience",
        "lead-type",
        "representative",
        "settle",
        "time-budget",
        "junit",
        "json",
        "har",
        "har-failures-only",
        "regressions",
        "no-regressions",
        "help",
        "version",
    ];

    #[test]
    fn help_names_every_flag() {
        let mut cmd = Cli::command();
        // Adds --help and --version, as a run of the binary does.
        cmd.build();
        let help = cmd.clone().render_long_help().to_string();
        let declared: Vec<&str> = cmd.get_arguments().filter_map(|a| a.get_long()).collect();
        for long in &declared {
            assert!(
                help.contains(&format!("--{long}")),
                "--{long} is missing from --help:\n{help}"
            );
        }
        for old in FLAGS_BEFORE_CLAP {
            assert!(declared.contains(&old), "--{old} is gone");
        }
        let short = cmd.clone().render_help().to_string();
        for needle in ["exit status:", "SELA_API_KEY", "SELA_SECOND_API_KEY"] {
            assert!(
                short.contains(needle),
                "{needle:?} missing from -h:\n{short}"
            );
            assert!(
                help.contains(needle),
                "{needle:?} missing from --help:\n{help}"
            );
        }
        cmd.debug_assert();
    }
}
