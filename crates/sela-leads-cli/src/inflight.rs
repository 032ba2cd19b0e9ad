//! The in-flight file: the row numbers of every row handed to the importer,
//! written and fsynced before its request goes out, next to the outcomes file
//! (`NAME.outcomes.csv.inflight`). A run that ends normally deletes it. After
//! a kill, a crash or a power cut it names the rows whose request may have
//! reached the server without an outcome being journaled: a resume records
//! them `unknown` instead of sending them again (a lead created by the lost
//! request would come back `reengaged`, which can start calls again).

use crate::journal::RowSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The in-flight file of an outcomes file.
pub fn path_for(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".inflight");
    PathBuf::from(name)
}

/// An in-flight file open for appending.
#[derive(Debug)]
pub struct InFlight {
    writer: BufWriter<File>,
}

impl InFlight {
    /// Opens (creating it if needed) the in-flight file at `path` for appending.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            writer: BufWriter::new(file),
        })
    }

    /// Records that `row` is about to be sent.
    pub fn mark(&mut self, row: u64) -> io::Result<()> {
        writeln!(self.writer, "{row}")
    }

    /// Hands the rows marked so far to the operating system and waits until
    /// they are on disk (`fsync`): called before their request goes out, so
    /// not even a power cut loses the mark of a row that may be sent.
    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()?;
        self.writer.get_ref().sync_data()
    }
}

/// The rows an in-flight file names (none when there is no file). A line cut
/// short by a kill is still a row number or is skipped.
pub fn read(path: &Path) -> io::Result<RowSet> {
    let mut rows = RowSet::default();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(rows),
        Err(e) => return Err(e),
    };
    for line in BufReader::new(file).lines() {
        if let Ok(row) = line?.trim().parse::<u64>() {
            rows.set(row, true);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_rows_are_read_back() {
        let dir = std::env::temp_dir().join(format!("sela-leads-inflight-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let output = dir.join("leads.outcomes.csv");
        let path = path_for(&output);
        assert_eq!(path, dir.join("leads.outcomes.csv.inflight"));
        let _ = std::fs::remove_file(&path);
        assert!(read(&path).unwrap().is_empty());
        let mut inflight = InFlight::open(&path).unwrap();
        for row in [3, 4, 9] {
            inflight.mark(row).unwrap();
        }
        inflight.flush().unwrap();
        drop(inflight);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"1x")
            .unwrap();
        let rows = read(&path).unwrap();
        let got: Vec<u64> = (0..12).filter(|r| rows.contains(*r)).collect();
        assert_eq!(got, [3, 4, 9]);
    }
}
