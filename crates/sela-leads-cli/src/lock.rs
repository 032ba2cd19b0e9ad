//! One run per outcomes file: a run holds an OS advisory lock (`fs4`,
//! `flock` on Unix, `LockFileEx` on Windows) on a lock file beside its
//! outcomes file (`NAME.outcomes.csv.lock`) for its whole life. A second run
//! on the same file is refused at once, naming the other process; the
//! operating system drops the lock when a run dies (SIGKILL, a crash), so a
//! `--resume` after a crash needs no cleanup.
//!
//! The lock file also records when each run of the outcomes file started
//! (one `started=RFC3339 pid=N` line per run, the last one the holder's):
//! `--reconcile` reads a lost request's window from it. A new import (not a
//! resume) starts the record afresh. The file is never deleted: deleting a
//! lock file lets a run that opened it just before lock a file no one else
//! sees.

use chrono::{DateTime, SecondsFormat, Utc};
use fs4::fs_std::FileExt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file of an outcomes file.
pub fn path_for(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// The lock of a run, held until it is dropped (or the process ends).
#[derive(Debug)]
pub struct RunLock {
    file: File,
    starts: Vec<DateTime<Utc>>,
}

/// Why a run could not take its lock; nothing was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another run holds the lock.
    #[error(
        "another run ({holder}) is using the outcomes file {output} (it holds {lock}); \
         nothing was sent: wait for it to end, or stop it, then --resume"
    )]
    Busy {
        /// The outcomes file.
        output: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// Who holds it, as its lock file says (`pid 1234, started ...`).
        holder: String,
    },
    /// The lock file cannot be opened, locked or written.
    #[error("cannot lock the outcomes file {output} through {lock}: {source}")]
    Io {
        /// The outcomes file.
        output: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl RunLock {
    /// Takes the lock of `output` without waiting and records this run's
    /// start (`now`). `fresh` (a new import) forgets the earlier runs' starts.
    pub fn acquire(output: &Path, fresh: bool, now: DateTime<Utc>) -> Result<Self, LockError> {
        let lock = path_for(output);
        let io = |source| LockError::Io {
            output: output.to_owned(),
            lock: lock.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock)
            .map_err(io)?;
        match file.try_lock_exclusive() {
            Ok(true) => {}
            Ok(false) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(LockError::Busy {
                    output: output.to_owned(),
                    holder: holder(&text),
                    lock,
                });
            }
            Err(e) => return Err(io(e)),
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io)?;
        let mut starts = if fresh {
            Vec::new()
        } else {
            parse_starts(&text)
        };
        starts.push(now);
        if fresh {
            file.set_len(0).map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        writeln!(
            file,
            "started={} pid={}",
            now.to_rfc3339_opts(SecondsFormat::Millis, true),
            std::process::id()
        )
        .map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(Self { file, starts })
    }

    /// The start of the earliest run recorded for this outcomes file (this
    /// one's if it is the first): before it, no run of this import sent anything.
    pub fn first_start(&self) -> DateTime<Utc> {
        self.starts.iter().min().copied().unwrap_or_else(Utc::now)
    }

    /// True when the lock file knew of an earlier run than this one.
    pub fn has_earlier_runs(&self) -> bool {
        self.starts.len() > 1
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = FileExt::unlock(&self.file);
    }
}

/// The recorded starts of the runs in a lock file's text.
fn parse_starts(text: &str) -> Vec<DateTime<Utc>> {
    text.lines()
        .filter_map(|line| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix("started="))
        })
        .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .collect()
}

/// The holder as its lock file's last line names it.
fn holder(text: &str) -> String {
    let Some(line) = text.lines().rev().find(|l| !l.trim().is_empty()) else {
        return "a process that has not yet written its pid".to_owned();
    };
    let field = |key: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .map(str::to_owned)
    };
    match (field("pid="), field("started=")) {
        (Some(pid), Some(started)) => format!("pid {pid}, started {started}"),
        (Some(pid), None) => format!("pid {pid}"),
        _ => format!("lock file line `{}`", line.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_released_on_drop() {
        let dir = std::env::temp_dir().join(format!("sela-leads-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let output = dir.join("leads.outcomes.csv");
        let _ = std::fs::remove_file(path_for(&output));
        let t0 = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let first = RunLock::acquire(&output, true, t0).unwrap();
        assert!(!first.has_earlier_runs());
        // flock locks belong to the open file description, so a second open in
        // this process is refused like another process would be.
        let err = RunLock::acquire(&output, false, Utc::now()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LockError::Busy { .. }), "{text}");
        let pid = format!("pid {}", std::process::id());
        assert!(
            text.contains(&pid) && text.contains("leads.outcomes.csv"),
            "{text}"
        );
        drop(first);
        let later = t0 + chrono::Duration::hours(1);
        let second = RunLock::acquire(&output, false, later).unwrap();
        assert!(second.has_earlier_runs());
        assert_eq!(second.first_start(), t0);
        drop(second);
        // A new import forgets the earlier runs.
        let fresh = RunLock::acquire(&output, true, later).unwrap();
        assert_eq!(fresh.first_start(), later);
    }
}
