//! What [`crate::input`] and its readers (CSV and TSV, spreadsheets, NDJSON
//! and JSON arrays) share: the format and options an input is read with, the
//! key of a row, the rows they give and the error that stops a read. Each
//! reader imports it; none imports [`crate::input`], the dispatcher.

use crate::columns::{MapError, Mappings};
use sela_leads::import::Lead;
use std::fmt;
use std::path::{Path, PathBuf};

/// An input file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values (or another `--delimiter`).
    Csv,
    /// Tab-separated values.
    Tsv,
    /// One JSON object per line.
    Ndjson,
    /// One JSON array of objects.
    Json,
    /// A spreadsheet workbook: `.xlsx`, `.xlsm`, `.xlsb`, `.xls` or `.ods`.
    Xlsx,
}

impl Format {
    /// The format a file name's extension stands for, if any.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Self::Csv),
            "tsv" | "tab" => Some(Self::Tsv),
            "ndjson" | "jsonl" => Some(Self::Ndjson),
            "json" => Some(Self::Json),
            "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Some(Self::Xlsx),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Csv => "CSV",
            Self::Tsv => "TSV",
            Self::Ndjson => "NDJSON",
            Self::Json => "JSON array",
            Self::Xlsx => "spreadsheet",
        })
    }
}

/// How to read an input file.
#[derive(Clone, Debug, Default)]
pub struct InputOptions {
    /// The format; from the extension when `None` (an unknown one is an error).
    pub format: Option<Format>,
    /// The field delimiter of CSV (default `,`) and TSV (default tab).
    pub delimiter: Option<u8>,
    /// For a file without a header row: the column names, in order.
    pub columns: Option<Vec<String>>,
    /// Explicit `COLUMN=FIELD` mappings.
    pub map: Mappings,
    /// The text encoding of CSV/TSV; detected when `None` (see [`crate::encoding`]).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// The sheet of a spreadsheet to read; the first when `None`.
    pub sheet: Option<String>,
}

/// Where an input row is: its number and external id, for the outcomes file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowKey {
    /// CSV/TSV: the 1-based record number after the header. NDJSON: the
    /// line number. JSON: the 1-based position in the array.
    pub row: u64,
    /// The row's external id, when it has one.
    pub external_id: Option<String>,
}

/// Rows of an input, read lazily, each a lead or the reason it is unreadable.
pub type Rows = Box<dyn Iterator<Item = (RowKey, Lead)> + Send>;

/// An input that cannot be read as leads; nothing was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file cannot be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The extension does not say the format.
    #[error(
        "cannot tell the format of {0} from its extension; pass --format csv, tsv, ndjson, json or xlsx"
    )]
    UnknownFormat(PathBuf),
    /// A spreadsheet cannot be read, or has no such sheet.
    #[error("cannot read the spreadsheet {path}: {message}")]
    Sheet {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The header row cannot be read.
    #[error("cannot read the header row: {0}")]
    Header(String),
    /// The header names no phone column.
    #[error(
        "no phone number column among the columns found: {found}; name one with --map 'COLUMN=phone_number'"
    )]
    NoPhoneColumn {
        /// The columns found, quoted and comma-separated.
        found: String,
    },
    /// The first row looks like a lead, not a header.
    #[error(
        "the first row looks like data, not a header (`{cell}` is a phone number or an e-mail); \
         for a file without a header row pass --no-header --columns phone_number,email,... (one name per column)"
    )]
    HeaderLooksLikeData {
        /// The cell that looks like data.
        cell: String,
    },
    /// A column mapping is wrong.
    #[error(transparent)]
    Map(#[from] MapError),
}
