//! `sela-leads`: the command-line tool of the Sela leads client.
//!
//! A thin `clap` layer over `sela_leads_cli::run`: it parses the
//! arguments, builds the client (the token comes from `SELA_API_KEY` and is
//! never printed) and prints the summary.

use clap::{Parser, Subcommand};
use sela_leads::import::{DEFAULT_CHUNK_SIZE, DEFAULT_CONCURRENCY};
use sela_leads::{Client, DEFAULT_BASE_URL};
use sela_leads_cli::columns::Mappings;
use sela_leads_cli::input::{Format, InputOptions};
use sela_leads_cli::run::{Mode, RunOptions, run};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Exit status for bad arguments, configuration or files (nothing was sent).
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "sela-leads",
    version,
    about = "Command-line tool for the Sela leads API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bulk-create the leads of a CSV, TSV, spreadsheet (.xlsx, .xls, .ods), NDJSON or JSON file, journaling one outcome per row.
    ///
    /// Column names match case-, space-, dash- and underscore-insensitively
    /// (`Phone Number` is phone_number), with the column names of HubSpot,
    /// Salesforce, Zoho, Pipedrive and Follow Up Boss exports as aliases
    /// (Mobile Phone Number, State/Region, Record ID, Postal Code, ...) and
    /// --map for the rest. With both a mobile and a phone column, each row
    /// takes the mobile if it has one. Full state names become their
    /// two-letter code. Known columns become lead fields; a `metadata`
    /// column holding a JSON object, `metadata.KEY` columns and every other
    /// column become metadata. A header without a phone column, or that
    /// looks like data, is refused before anything is sent. CSV/TSV in
    /// another encoding than UTF-8 (an Excel CSV saved on Windows) is
    /// detected; --encoding overrides.
    ///
    /// One run at a time per outcomes file: a second one exits 2 at once,
    /// naming the other process, and sends nothing.
    ///
    /// The outcomes file is written as chunks complete (input order, flushed
    /// after each): on Ctrl-C or SIGTERM no new request goes out, the ones in
    /// flight finish (a second Ctrl-C stops at once; those rows are `unknown`),
    /// and the run exits 130; continue it with --resume. The token is read
    /// from SELA_API_KEY.
    ///
    /// Every row is checked locally before it is sent (the checks of
    /// --dry-run): a row that fails is not sent and is journaled `invalid`
    /// with the reason (see --no-local-checks). Exits 1 when any row is
    /// rejected, unknown, not sent, unparsable or invalid, 2 on bad arguments
    /// or input (nothing sent).
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// The input file: .csv, .tsv, .xlsx/.xlsm/.xlsb/.xls/.ods, .ndjson/.jsonl (one object per line) or .json (an array of objects).
    file: PathBuf,
    /// The API base URL [default: SELA_BASE_URL, else the production URL].
    #[arg(long)]
    base_url: Option<String>,
    /// Leads per request.
    #[arg(long, default_value_t = DEFAULT_CHUNK_SIZE as u32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    chunk_size: u32,
    /// Requests in flight at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY as u32, value_parser = clap::value_parser!(u32).range(1..=256))]
    concurrency: u32,
    /// The outcomes file [default: FILE's name with `.outcomes.csv`, `.dry-run.csv` for --dry-run].
    /// An existing one is never overwritten: use --resume to continue it.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// The input format [default: from the extension; an unknown one is an error].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The text encoding of CSV/TSV (utf-8, windows-1252, latin1, utf-16le, ...)
    /// [default: detected: UTF-8 or its BOM, else a guess from the first MiB].
    #[arg(long, value_parser = parse_encoding)]
    encoding: Option<&'static encoding_rs::Encoding>,
    /// The sheet of a spreadsheet to read [default: the first].
    #[arg(long)]
    sheet: Option<String>,
    /// The field delimiter of CSV/TSV: one character, or `tab`.
    #[arg(long, value_parser = parse_delimiter)]
    delimiter: Option<u8>,
    /// Map a column (or JSON key) to a lead field: 'Cell Phone=phone_number', 'Zip=metadata.zip'. Repeatable.
    #[arg(long, value_name = "COLUMN=FIELD")]
    map: Vec<String>,
    /// The file has no header row: name its columns with --columns.
    #[arg(long, requires = "columns")]
    no_header: bool,
    /// The column names of a file without a header row, comma-separated, in order.
    #[arg(long, value_delimiter = ',', requires = "no_header")]
    columns: Option<Vec<String>>,
    /// Continue the import the outcomes file records: send only rows that have
    /// no final outcome there (never reached, or not_sent). Created,
    /// reengaged and rejected rows are never sent again, nor unknown ones
    /// unless --retry-unknown.
    #[arg(long, conflicts_with = "dry_run")]
    resume: bool,
    /// With --resume, send the `unknown` rows again too. They are unknown
    /// because their request may have reached the server (a timeout, a lost
    /// connection, an odd answer, a second Ctrl-C), so some may exist already:
    /// those come back `reengaged`, which can start the re-engagement flow
    /// (calls) for them again.
    #[arg(long, requires = "resume", conflicts_with = "reconcile")]
    retry_unknown: bool,
    /// With --resume, settle the `unknown` rows by reading the account back
    /// (GET /api/leads/, page by page) before sending anything: a lead with
    /// the row's phone and e-mail created since the import started is
    /// journaled `created` with its id, one re-engaged since then
    /// `reengaged`, and a row with no lead at all is sent as a new row.
    /// Ambiguous evidence (two such leads, a lead older than the import
    /// with no re-engagement since, missing times) leaves the row `unknown`
    /// with the reason; it is never sent again.
    #[arg(long, requires = "resume")]
    reconcile: bool,
    /// Check every row locally (phone, e-mail, US state, integers) and write
    /// `would_send` or `invalid` with the reason; sends nothing, needs no token.
    #[arg(long)]
    dry_run: bool,
    /// Send every row without the local checks: rows are then sent as they are
    /// and the server judges them. The checks refuse only what the API
    /// documentation and the bulk-create contract call invalid: no phone
    /// number; one with letters, fewer than ten digits, more than ten after
    /// `+1`, or a US area code starting with 0 or 1 or an N11 code; an e-mail
    /// without `@` or with spaces; a us_state that is not a state, DC or an
    /// inhabited territory; a non-integer lead_type or representative. They
    /// are stricter than the documentation on one point: it lists no us_state
    /// codes, so a server that takes others (military AA/AE/AP, or FM, MH,
    /// PW) needs this flag for those rows.
    #[arg(long, conflicts_with = "dry_run")]
    no_local_checks: bool,
    /// Read back every created or re-engaged lead (GET /api/leads/{id}/, one
    /// request per lead) and journal a row whose stored phone number or
    /// e-mail is not the one sent `unknown`, as one that cannot be read back.
    /// Without it, an answer whose results are in another order with the
    /// right count cannot be noticed.
    #[arg(long, conflicts_with = "dry_run")]
    verify: bool,
    /// No progress bar, progress lines or summary (errors are still printed).
    #[arg(long, short)]
    quiet: bool,
    /// Seconds between progress lines when stderr is not a terminal.
    #[arg(long, default_value_t = 5)]
    progress_every: u64,
    /// Seconds allowed for one request, answer included.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() => Ok(text.as_bytes()[0]),
        _ => Err("the delimiter is one ASCII character, or `tab`".to_owned()),
    }
}

fn parse_encoding(label: &str) -> Result<&'static encoding_rs::Encoding, String> {
    sela_leads_cli::encoding::for_label(label)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Import(args) => match import(args) {
            Ok(code) => ExitCode::from(code),
            Err(message) => {
                eprintln!("sela-leads: {message}");
                ExitCode::from(EXIT_USAGE)
            }
        },
    }
}

fn import(args: ImportArgs) -> Result<u8, String> {
    let mode = if args.dry_run {
        Mode::DryRun
    } else {
        let token = std::env::var("SELA_API_KEY")
            .map_err(|_| "SELA_API_KEY is not set (the API token)".to_owned())?;
        let base_url = args
            .base_url
            .clone()
            .or_else(|| std::env::var("SELA_BASE_URL").ok())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let client = Client::builder(token)
            .base_url(base_url)
            .timeout(Duration::from_secs(args.timeout.max(1)))
            .build()
            .map_err(|e| e.to_string())?;
        Mode::Send(client)
    };
    let options = RunOptions {
        input: args.file,
        read: InputOptions {
            format: args.format,
            delimiter: args.delimiter,
            columns: args.columns.filter(|_| args.no_header),
            map: Mappings::parse(&args.map).map_err(|e| e.to_string())?,
            encoding: args.encoding,
            sheet: args.sheet,
        },
        output: args.output,
        resume: args.resume,
        retry_unknown: args.retry_unknown,
        reconcile: args.reconcile,
        local_checks: !args.no_local_checks,
        verify: args.verify,
        chunk_size: args.chunk_size as usize,
        concurrency: args.concurrency as usize,
        quiet: args.quiet,
        progress_every: Duration::from_secs(args.progress_every),
    };
    let summary = run(&options, mode).map_err(|e| e.to_string())?;
    if !args.quiet {
        eprintln!("{summary}");
    }
    Ok(summary.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn arguments_are_consistent() {
        Cli::command().debug_assert();
        assert_eq!(parse_delimiter("tab"), Ok(b'\t'));
        assert_eq!(parse_delimiter(";"), Ok(b';'));
        assert!(parse_delimiter(";;").is_err());
        // --retry-unknown only with --resume; --columns only with --no-header.
        for args in [
            &["sela-leads", "import", "x.csv", "--retry-unknown"][..],
            &["sela-leads", "import", "x.csv", "--columns", "phone"],
            &["sela-leads", "import", "x.csv", "--resume", "--dry-run"],
            &["sela-leads", "import", "x.csv", "--reconcile"],
            &[
                "sela-leads",
                "import",
                "x.csv",
                "--resume",
                "--reconcile",
                "--retry-unknown",
            ],
            &["sela-leads", "import", "x.csv", "--encoding", "klingon"],
            &[
                "sela-leads",
                "import",
                "x.csv",
                "--no-local-checks",
                "--dry-run",
            ],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
