//! The library behind the `sela-leads` command: reading CRM exports into leads,
//! the journal that makes a run resumable, reconciliation against the account,
//! and the run that ties them to [`sela_leads::import::Importer`].
//!
//! - [`input`]: CSV/TSV, spreadsheets ([`sheet`]), NDJSON and JSON arrays, with
//!   the column mapping of [`columns`] and the encoding guessed by [`encoding`];
//! - [`journal`]: every outcome written before the next chunk is sent, and read
//!   back by `--resume`; [`lock`]: one run per outcomes file;
//! - [`inflight`]: the chunks sent whose answer was not yet journalled;
//! - [`reconcile`]: leads whose fate is unknown, looked up in the account;
//! - [`report`]: the summary; [`run`]: the whole import.

mod aliases;
pub mod columns;
mod damage;
pub mod encoding;
pub mod inflight;
pub mod input;
pub mod journal;
mod json;
pub mod lock;
mod reading;
pub mod reconcile;
mod records;
pub mod report;
pub mod run;
pub mod sheet;
