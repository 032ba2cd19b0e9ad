//! `sela-leads`: the command-line tool of the Sela leads client.
//!
//! `sela-leads import FILE` sends the leads of a CSV or NDJSON file through the
//! importer and writes one outcome row per input row. The token comes from
//! `SELA_API_KEY` and is never printed.

use clap::{Parser, Subcommand, ValueEnum};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use sela_leads::import::{DEFAULT_CHUNK_SIZE, DEFAULT_CONCURRENCY, ImportOutcome, Importer, Lead};
use sela_leads::{Client, DEFAULT_BASE_URL};
use serde_json::{Map, Value};
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Exit status when every row was created or re-engaged.
const EXIT_OK: u8 = 0;
/// Exit status when a row was rejected, unknown, not sent or unparsable.
const EXIT_ROWS_FAILED: u8 = 1;
/// Exit status for bad arguments, configuration or files.
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
    /// Bulk-create the leads of a CSV or NDJSON file and write one outcome per row.
    ///
    /// Known columns (phone_number, email, external_id, lead_source, lead_type,
    /// representative, us_state, status, status_reason, call_schedule_start_time,
    /// reengagement_time, reengagement_count, min_reengagement_days) become lead
    /// fields; a `metadata` column holding a JSON object and `metadata.KEY`
    /// columns become metadata, and so does every other column. The token is
    /// read from SELA_API_KEY. Exits 1 when any row is rejected, unknown, not
    /// sent or unparsable, 2 on bad arguments.
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// The input file: CSV with a header row, or NDJSON (one JSON object per line).
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
    /// Where to write the outcomes CSV [default: FILE's name with `.outcomes.csv`].
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// The input format [default: from the extension, else from the first byte].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Seconds allowed for one request, answer included.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Ndjson,
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

/// Where an outcome row comes from in the input.
#[derive(Debug)]
struct RowKey {
    /// CSV: the 1-based record number after the header. NDJSON: the line number.
    row: u64,
    external_id: Option<String>,
}

type Rows = Box<dyn Iterator<Item = (RowKey, Lead)> + Send>;

fn import(args: ImportArgs) -> Result<u8, String> {
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

    let file =
        File::open(&args.file).map_err(|e| format!("cannot open {}: {e}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let consumed = Arc::new(AtomicU64::new(0));
    let reader = BufReader::with_capacity(
        64 * 1024,
        Counting {
            inner: file,
            consumed: Arc::clone(&consumed),
        },
    );
    let format = match args.format {
        Some(format) => format,
        None => detect_format(&args.file)?,
    };
    let rows: Rows = match format {
        Format::Csv => Box::new(csv_rows(reader)?),
        Format::Ndjson => Box::new(ndjson_rows(reader)),
    };

    let output = args
        .output
        .clone()
        .unwrap_or_else(|| default_output(&args.file));
    if same_file(&output, &args.file) {
        return Err("the output file would overwrite the input".to_owned());
    }
    let mut writer = csv::Writer::from_path(&output)
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    writer
        .write_record(["row", "external_id", "outcome", "id", "message"])
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;

    let bar = progress_bar(size);
    let shown = bar.clone();
    let importer = Importer::new(client)
        .chunk_size(args.chunk_size as usize)
        .concurrency(args.concurrency as usize)
        .on_progress(move |p| {
            shown.set_message(format!(
                "created {} · reengaged {} · rejected {} · unknown {} · unparsable {}",
                p.created,
                p.reengaged,
                p.rejected,
                p.unknown + p.not_sent,
                p.invalid
            ));
        });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let mut import = importer.import_keyed(futures::stream::iter(rows));
    let progress = import.progress();
    let written: Result<(), String> = runtime.block_on(async {
        while let Some((key, outcome)) = import.next().await {
            bar.set_position(consumed.load(Ordering::Relaxed));
            write_outcome(&mut writer, &key, &outcome)
                .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
        }
        Ok(())
    });
    bar.finish_and_clear();
    written?;
    writer
        .flush()
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;

    let p = progress.snapshot();
    eprintln!(
        "{} rows: {} created, {} reengaged, {} rejected, {} unknown, {} not sent, {} unparsable; outcomes in {}",
        p.done(),
        p.created,
        p.reengaged,
        p.rejected,
        p.unknown,
        p.not_sent,
        p.invalid,
        output.display()
    );
    if p.unknown > 0 {
        eprintln!(
            "sela-leads: {} rows may or may not have been created (timeout or lost connection); \
             import them again to reconcile: created leads come back re-engaged",
            p.unknown
        );
    }
    Ok(if p.failed() == 0 {
        EXIT_OK
    } else {
        EXIT_ROWS_FAILED
    })
}

fn write_outcome<W: std::io::Write>(
    writer: &mut csv::Writer<W>,
    key: &RowKey,
    outcome: &ImportOutcome,
) -> csv::Result<()> {
    let id = outcome.id().map(|id| id.to_string()).unwrap_or_default();
    let kind = match outcome {
        ImportOutcome::Invalid { .. } => "unparsable",
        other => other.kind(),
    };
    writer.write_record([
        key.row.to_string().as_str(),
        key.external_id.as_deref().unwrap_or(""),
        kind,
        id.as_str(),
        outcome.message().unwrap_or_default().as_str(),
    ])
}

fn progress_bar(size: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta})\n{msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn default_output(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "leads".to_owned());
    input.with_file_name(format!("{stem}.outcomes.csv"))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// CSV unless the extension says NDJSON or the file starts with `{`.
fn detect_format(path: &Path) -> Result<Format, String> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("csv" | "tsv" | "txt") => return Ok(Format::Csv),
        Some("ndjson" | "jsonl" | "json") => return Ok(Format::Ndjson),
        _ => {}
    }
    let mut head = [0_u8; 512];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let first = head[..n].iter().find(|b| !b.is_ascii_whitespace());
    Ok(if first == Some(&b'{') {
        Format::Ndjson
    } else {
        Format::Csv
    })
}

/// A reader that counts the bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    consumed: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Lead fields whose values are text.
const TEXT_FIELDS: &[&str] = &[
    "phone_number",
    "email",
    "external_id",
    "lead_source",
    "us_state",
    "status",
    "status_reason",
    "call_schedule_start_time",
    "reengagement_time",
];
/// Lead fields whose values are integers (sent as text when they do not parse,
/// so the server names the field in its rejection).
const INTEGER_FIELDS: &[&str] = &[
    "lead_type",
    "representative",
    "reengagement_count",
    "min_reengagement_days",
];

/// Rows of a CSV file with a header row, read lazily. A row that cannot be
/// parsed (wrong field count, bad UTF-8, bad `metadata` JSON) is a
/// [`Lead::Invalid`] at its place; a read error ends the input after one.
fn csv_rows<R: Read + Send + 'static>(
    reader: R,
) -> Result<impl Iterator<Item = (RowKey, Lead)> + Send, String> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let headers: Vec<String> = csv
        .byte_headers()
        .map_err(|e| format!("cannot read the CSV header: {e}"))?
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h);
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                &h
            };
            h.trim().to_owned()
        })
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err("the CSV file has no header row".to_owned());
    }
    let external = headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case("external_id"));
    let mut records = csv.into_byte_records();
    let mut row = 0_u64;
    let mut failed = false;
    Ok(std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let record = records.next()?;
        row += 1;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                // An I/O error leaves the reader's position unknown: stop here.
                failed = error.is_io_error();
                let key = RowKey {
                    row,
                    external_id: None,
                };
                return Some((key, Lead::Invalid(format!("unreadable CSV row: {error}"))));
            }
        };
        let external_id = external
            .and_then(|i| record.get(i))
            .map(|v| String::from_utf8_lossy(v).trim().to_owned())
            .filter(|v| !v.is_empty());
        let key = RowKey { row, external_id };
        let lead = match map_csv_record(&headers, &record) {
            Ok(value) => Lead::Json(value),
            Err(message) => Lead::Invalid(message),
        };
        Some((key, lead))
    }))
}

fn map_csv_record(headers: &[String], record: &csv::ByteRecord) -> Result<Value, String> {
    if record.len() != headers.len() {
        let plural = if record.len() == 1 { "" } else { "s" };
        return Err(format!(
            "the row has {} field{plural}, the header {}",
            record.len(),
            headers.len()
        ));
    }
    let mut lead = Map::new();
    let mut metadata = Map::new();
    for (name, raw) in headers.iter().zip(record.iter()) {
        let text = std::str::from_utf8(raw)
            .map_err(|_| format!("column `{name}` is not valid UTF-8"))?
            .trim();
        if text.is_empty() || name.is_empty() {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if lower == "metadata" {
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => metadata.extend(map),
                _ => return Err("column `metadata` is not a JSON object".to_owned()),
            }
        } else if let Some(key) = name.strip_prefix("metadata.") {
            metadata.insert(key.to_owned(), Value::String(text.to_owned()));
        } else if TEXT_FIELDS.contains(&lower.as_str()) {
            lead.insert(lower, Value::String(text.to_owned()));
        } else if INTEGER_FIELDS.contains(&lower.as_str()) {
            let value = text
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(text.to_owned()));
            lead.insert(lower, value);
        } else {
            metadata.insert(name.clone(), Value::String(text.to_owned()));
        }
    }
    if !metadata.is_empty() {
        lead.insert("metadata".to_owned(), Value::Object(metadata));
    }
    Ok(Value::Object(lead))
}

/// Lines of an NDJSON file, read lazily; blank lines are skipped, and a line
/// that is not a JSON object is a [`Lead::Invalid`] at its place.
fn ndjson_rows<R: BufRead + Send + 'static>(
    mut reader: R,
) -> impl Iterator<Item = (RowKey, Lead)> + Send {
    let mut line_number = 0_u64;
    let mut line = Vec::new();
    let mut failed = false;
    std::iter::from_fn(move || {
        loop {
            if failed {
                return None;
            }
            line.clear();
            line_number += 1;
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(error) => {
                    failed = true;
                    let key = RowKey {
                        row: line_number,
                        external_id: None,
                    };
                    return Some((key, Lead::Invalid(format!("unreadable line: {error}"))));
                }
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let (external_id, lead) = match serde_json::from_slice::<Value>(&line) {
                Ok(Value::Object(object)) => {
                    let external_id = match object.get("external_id") {
                        Some(Value::String(s)) => Some(s.clone()),
                        Some(Value::Number(n)) => Some(n.to_string()),
                        _ => None,
                    };
                    (external_id, Lead::Json(map_json_object(object)))
                }
                Ok(_) => (
                    None,
                    Lead::Invalid("the line is not a JSON object".to_owned()),
                ),
                Err(error) => (
                    None,
                    Lead::Invalid(format!("the line is not JSON: {error}")),
                ),
            };
            let key = RowKey {
                row: line_number,
                external_id,
            };
            return Some((key, lead));
        }
    })
}

/// Keeps known lead fields at the top level and moves every other key into
/// `metadata` (merged with a `metadata` object, if any).
fn map_json_object(object: Map<String, Value>) -> Value {
    let mut lead = Map::new();
    let mut metadata = Map::new();
    let mut nested = None;
    for (key, value) in object {
        if key == "metadata" {
            nested = Some(value);
        } else if TEXT_FIELDS.contains(&key.as_str()) || INTEGER_FIELDS.contains(&key.as_str()) {
            lead.insert(key, value);
        } else {
            metadata.insert(key, value);
        }
    }
    match nested {
        Some(Value::Object(mut inner)) => {
            inner.extend(metadata);
            lead.insert("metadata".to_owned(), Value::Object(inner));
        }
        // A `metadata` that is not an object is sent as given, for the server to judge.
        Some(other) if metadata.is_empty() => {
            lead.insert("metadata".to_owned(), other);
        }
        Some(other) => {
            metadata.insert("metadata".to_owned(), other);
            lead.insert("metadata".to_owned(), Value::Object(metadata));
        }
        None if !metadata.is_empty() => {
            lead.insert("metadata".to_owned(), Value::Object(metadata));
        }
        None => {}
    }
    Value::Object(lead)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(csv: &str) -> Vec<(u64, Option<String>, Result<Value, String>)> {
        csv_rows(std::io::Cursor::new(csv.as_bytes().to_vec()))
            .expect("a header")
            .map(|(key, lead)| {
                let lead = match lead {
                    Lead::Json(v) => Ok(v),
                    Lead::Invalid(m) => Err(m),
                    Lead::Typed(_) => Err("typed".to_owned()),
                };
                (key.row, key.external_id, lead)
            })
            .collect()
    }

    #[test]
    fn csv_columns_map_to_fields_and_metadata() {
        let got = rows(
            "\u{feff}Phone_Number,email,external_id,lead_type,first_name,metadata.zip,metadata\n\
             +18045550101,a@example.com,crm-1,12,Ana,23220,\"{\"\"tier\"\":2}\"\n",
        );
        assert_eq!(
            got,
            [(
                1,
                Some("crm-1".to_owned()),
                Ok(json!({
                    "phone_number": "+18045550101",
                    "email": "a@example.com",
                    "external_id": "crm-1",
                    "lead_type": 12,
                    "metadata": {"first_name": "Ana", "zip": "23220", "tier": 2}
                }))
            )]
        );
    }

    #[test]
    fn unparsable_csv_rows_keep_their_place() {
        let mut input = b"phone_number,external_id\n+18045550101,a\n1,2,3\n".to_vec();
        input.extend_from_slice(b"\xff\xfe,b\n+18045550102,c\n");
        let got = csv_rows(std::io::Cursor::new(input))
            .expect("a header")
            .map(|(key, lead)| (key.row, key.external_id, matches!(lead, Lead::Json(_))))
            .collect::<Vec<_>>();
        assert_eq!(
            got,
            [
                (1, Some("a".to_owned()), true),
                (2, Some("2".to_owned()), false),
                (3, Some("b".to_owned()), false),
                (4, Some("c".to_owned()), true),
            ]
        );
    }

    #[test]
    fn ndjson_lines_map_unknown_keys_into_metadata() {
        let input = "{\"phone_number\":\"+18045550101\",\"external_id\":\"x\",\"first_name\":\"Ana\",\"metadata\":{\"zip\":\"1\"}}\n\
                     \n\
                     not json\n\
                     [1]\n";
        let got: Vec<_> = ndjson_rows(std::io::Cursor::new(input.as_bytes().to_vec()))
            .map(|(key, lead)| (key.row, key.external_id, lead))
            .collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, 1);
        assert_eq!(
            got[0].2,
            Lead::Json(json!({
                "phone_number": "+18045550101",
                "external_id": "x",
                "metadata": {"zip": "1", "first_name": "Ana"}
            }))
        );
        assert_eq!(got[1].0, 3);
        assert!(matches!(got[1].2, Lead::Invalid(_)));
        assert_eq!(got[2].0, 4);
        assert!(matches!(got[2].2, Lead::Invalid(_)));
    }

    #[test]
    fn format_follows_the_extension() {
        assert_eq!(
            detect_format(Path::new("x.ndjson")).ok(),
            Some(Format::Ndjson)
        );
        assert_eq!(detect_format(Path::new("x.csv")).ok(), Some(Format::Csv));
        assert_eq!(
            default_output(Path::new("dir/leads.csv")),
            PathBuf::from("dir/leads.outcomes.csv")
        );
    }
}
