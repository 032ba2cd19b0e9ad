//! The outcomes file as a journal: one CSV row per input row
//! (`row,external_id,outcome,id,message`), written in input order as chunks
//! complete and flushed and fsynced after each, so at any moment (a power cut
//! included) it holds every row whose outcome is known.
//!
//! A resumed run appends to it; the last row written for a row number wins.
//! At the end of a run the file is compacted (merged back into input order,
//! one row per input row) into a temporary file that then replaces it
//! atomically, so a kill at any point leaves a file that records every lead
//! sent.

use crate::input::RowKey;
use sela_leads::import::Outcome;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The header row of an outcomes file.
pub const HEADER: [&str; 5] = ["row", "external_id", "outcome", "id", "message"];

/// An outcomes file open for writing.
pub struct Journal {
    writer: csv::Writer<File>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").finish_non_exhaustive()
    }
}

impl Journal {
    /// A new outcomes file with its header. An existing file is never
    /// overwritten: it may be the only record of leads already sent.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        let mut journal = Self {
            writer: csv::Writer::from_writer(file),
        };
        journal.writer.write_record(HEADER)?;
        journal.flush()?;
        Ok(journal)
    }

    /// An existing outcomes file, to append to (a resume). A last line cut
    /// short by a kill is ended first, so it stays one unreadable line.
    pub fn append(path: &Path) -> io::Result<Self> {
        let mut file = OpenOptions::new().read(true).append(true).open(path)?;
        let len = file.metadata()?.len();
        if len == 0 {
            let mut journal = Self {
                writer: csv::Writer::from_writer(file),
            };
            journal.writer.write_record(HEADER)?;
            return Ok(journal);
        }
        let mut last = [0_u8];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            file.write_all(b"\n")?;
        }
        Ok(Self {
            writer: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(file),
        })
    }

    /// Writes one outcome row.
    pub fn record(
        &mut self,
        key: &RowKey,
        outcome: Outcome,
        id: Option<i64>,
        message: &str,
    ) -> io::Result<()> {
        let id = id.map(|id| id.to_string()).unwrap_or_default();
        self.writer.write_record([
            key.row.to_string().as_str(),
            key.external_id.as_deref().unwrap_or(""),
            outcome.name(),
            id.as_str(),
            message,
        ])?;
        Ok(())
    }

    /// Hands everything written so far to the operating system and waits
    /// until it is on disk (`fsync`): called at each chunk boundary, so a
    /// power cut cannot lose an outcome the run went on past.
    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()?;
        self.writer.get_ref().sync_data()
    }
}

/// A set of row numbers, one bit each: 1,000,000 rows take 125 KB.
#[derive(Clone, Debug, Default)]
pub struct RowSet(Vec<u64>);

impl RowSet {
    /// Adds or removes `row`.
    pub fn set(&mut self, row: u64, on: bool) {
        let (word, bit) = ((row / 64) as usize, row % 64);
        if word >= self.0.len() {
            if !on {
                return;
            }
            self.0.resize(word + 1, 0);
        }
        if on {
            self.0[word] |= 1 << bit;
        } else {
            self.0[word] &= !(1 << bit);
        }
    }

    /// True when `row` is in the set.
    pub fn contains(&self, row: u64) -> bool {
        self.0
            .get((row / 64) as usize)
            .is_some_and(|word| word & (1 << (row % 64)) != 0)
    }

    /// How many rows are in the set.
    pub fn len(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// True when the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}

/// What an existing outcomes file says, for a resume.
#[derive(Clone, Debug, Default)]
pub struct Previous {
    /// Rows with a final outcome: never sent again.
    pub done: RowSet,
    /// Rows whose last outcome is `unknown` (resent only with `--retry-unknown`).
    pub unknown: RowSet,
    /// Rows whose last outcome is final but not a success (`rejected`, or
    /// `unknown` when not retried).
    pub failed: RowSet,
    /// Lines that could not be read (a line cut short by a kill).
    pub unreadable: u64,
    /// The ids of the rows recorded `created`.
    pub created_ids: Vec<i64>,
}

/// A journal that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The file cannot be read.
    #[error("cannot read the outcomes file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not an outcomes file.
    #[error("{path} is not an outcomes file (its header is not `{}`)", HEADER.join(","))]
    NotAJournal {
        /// The file.
        path: PathBuf,
    },
}

/// One row of an outcomes file: its row number and its fields.
type Line = (u64, csv::StringRecord);

fn parse(record: csv::StringRecord) -> Option<Line> {
    if record.len() != HEADER.len() {
        return None;
    }
    let row = record.get(0)?.parse().ok()?;
    Some((row, record))
}

fn reader(path: &Path) -> Result<csv::Reader<File>, JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_owned(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(File::open(path).map_err(io)?);
    let header = reader.headers().map_err(|e| io(e.into()))?;
    if header.iter().ne(HEADER) {
        return Err(JournalError::NotAJournal {
            path: path.to_owned(),
        });
    }
    Ok(reader)
}

/// Reads an outcomes file: the last row written for a row number wins.
pub fn read_previous(path: &Path, retry_unknown: bool) -> Result<Previous, JournalError> {
    let mut previous = Previous::default();
    for record in reader(path)?.into_records() {
        let Some((row, record)) = record.ok().and_then(parse) else {
            previous.unreadable += 1;
            continue;
        };
        let Ok(outcome) = record.get(2).unwrap_or("").parse::<Outcome>() else {
            previous.unreadable += 1;
            continue;
        };
        let done = outcome.is_final(retry_unknown);
        previous.done.set(row, done);
        previous.unknown.set(row, outcome == Outcome::Unknown);
        previous.failed.set(row, done && !outcome.is_success());
        if outcome == Outcome::Created
            && let Some(id) = record.get(3).and_then(|id| id.parse().ok())
        {
            previous.created_ids.push(id);
        }
    }
    Ok(previous)
}

/// Rewrites an outcomes file in input order with one row per row number (the
/// last one written), if it is not already so. The file is appended to in
/// runs of rising row numbers (one per run of the importer), so this is a
/// merge of those runs, reading each from its place: memory does not grow
/// with the file. Unreadable lines are dropped.
pub fn compact(path: &Path) -> Result<(), JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_owned(),
        source,
    };
    // The byte offset at which each run of rising row numbers starts.
    let mut starts = Vec::new();
    let mut last = None;
    let mut clean = true;
    let mut records = reader(path)?;
    let mut record = csv::StringRecord::new();
    loop {
        let offset = records.position().byte();
        match records.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(_) => {
                clean = false;
                continue;
            }
        }
        let Some((row, _)) = parse(record.clone()) else {
            clean = false;
            continue;
        };
        if last.is_none_or(|last| row <= last) {
            starts.push(offset);
        }
        last = Some(row);
    }
    let end = records.position().byte();
    if starts.len() <= 1 && clean {
        return Ok(());
    }
    let mut runs = Vec::with_capacity(starts.len());
    for (i, start) in starts.iter().enumerate() {
        let stop = starts.get(i + 1).copied().unwrap_or(end);
        let mut file = File::open(path).map_err(io)?;
        file.seek(SeekFrom::Start(*start)).map_err(io)?;
        let mut run = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(file.take(stop - start))
            .into_records()
            .filter_map(|r| r.ok().and_then(parse))
            .peekable();
        run.peek();
        runs.push(run);
    }

    let temporary = path.with_extension("csv.compacting");
    let mut writer = csv::Writer::from_path(&temporary).map_err(|e| io(e.into()))?;
    writer.write_record(HEADER).map_err(|e| io(e.into()))?;
    while let Some(row) = runs
        .iter_mut()
        .filter_map(|run| run.peek().map(|(row, _)| *row))
        .min()
    {
        // Every run's line for this row is consumed; the latest run's is kept.
        let mut kept = None;
        for run in &mut runs {
            if run.peek().is_some_and(|(r, _)| *r == row) {
                kept = run.next();
            }
        }
        if let Some((_, record)) = kept {
            writer.write_record(&record).map_err(|e| io(e.into()))?;
        }
    }
    writer.flush().map_err(io)?;
    let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(row: u64) -> RowKey {
        RowKey {
            row,
            external_id: Some(format!("e{row}")),
        }
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn resumed_journal_is_compacted_to_one_row_per_input_row() {
        let dir = std::env::temp_dir().join(format!("sela-leads-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.csv");
        let _ = std::fs::remove_file(&path);

        let mut journal = Journal::create(&path).unwrap();
        journal
            .record(&key(1), Outcome::Created, Some(11), "")
            .unwrap();
        journal
            .record(&key(2), Outcome::NotSent, None, "429")
            .unwrap();
        journal
            .record(&key(3), Outcome::Unknown, None, "timeout")
            .unwrap();
        journal
            .record(&key(4), Outcome::Rejected, None, "phone_number: bad")
            .unwrap();
        journal.flush().unwrap();
        drop(journal);
        assert!(Journal::create(&path).is_err(), "never overwritten");
        // A line cut short by a kill.
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"5,e5,crea")
            .unwrap();

        let previous = read_previous(&path, false).unwrap();
        let done: Vec<u64> = (1..=6).filter(|r| previous.done.contains(*r)).collect();
        assert_eq!(done, [1, 3, 4]);
        assert_eq!(previous.unreadable, 1);
        let retrying = read_previous(&path, true).unwrap();
        assert!(!retrying.done.contains(3) && retrying.unknown.contains(3));
        let failed: Vec<u64> = (1..=6).filter(|r| previous.failed.contains(*r)).collect();
        assert_eq!(failed, [3, 4]);
        assert!(!retrying.failed.contains(3));

        // The resumed run: rows 2, 5 and 6 (and 3, retried).
        let mut journal = Journal::append(&path).unwrap();
        for (row, outcome, id) in [
            (2, Outcome::Created, 12),
            (3, Outcome::Reengaged, 13),
            (5, Outcome::Created, 15),
        ] {
            journal.record(&key(row), outcome, Some(id), "").unwrap();
        }
        journal
            .record(&key(6), Outcome::Created, Some(16), "")
            .unwrap();
        journal.flush().unwrap();
        drop(journal);
        assert_eq!(read_previous(&path, false).unwrap().done.len(), 6);

        compact(&path).unwrap();
        assert_eq!(
            lines(&path),
            [
                "row,external_id,outcome,id,message",
                "1,e1,created,11,",
                "2,e2,created,12,",
                "3,e3,reengaged,13,",
                "4,e4,rejected,,phone_number: bad",
                "5,e5,created,15,",
                "6,e6,created,16,",
            ]
        );
        // Compacting a clean file changes nothing.
        let before = std::fs::read(&path).unwrap();
        compact(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn row_sets_grow_on_demand() {
        let mut set = RowSet::default();
        set.set(1_000_000, true);
        set.set(3, true);
        set.set(3, false);
        set.set(5_000_000, false);
        assert!(set.contains(1_000_000) && !set.contains(3) && !set.contains(5_000_000));
        assert_eq!(set.len(), 1);
    }
}
