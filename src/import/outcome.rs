//! What happened to each lead of an import ([`ImportOutcome`]), and the names
//! an outcome is journaled and counted under ([`Outcome`]): one typed list, so
//! the importer, the outcomes file, the summary and a resume agree on them.

use crate::{BulkOutcome, Error};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// What happened to one input lead.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ImportOutcome {
    /// A new lead was stored under `id`.
    Created {
        /// The new lead's id.
        id: i64,
    },
    /// The lead duplicated an existing one, which was re-engaged.
    Reengaged {
        /// The id of the existing lead.
        id: i64,
    },
    /// The server refused this lead; the others are unaffected.
    Rejected {
        /// The server's message.
        message: String,
    },
    /// The request may have reached the server and its fate is unknown: a
    /// timeout, a connection lost after sending, a 5xx (503 included), or an
    /// answer that does not match the leads sent ([`Error::BulkMismatch`],
    /// [`Error::Decode`]), a malformed result for this lead alone (a
    /// [`Error::BulkMismatch`] naming its index and raw result; the other
    /// leads keep theirs), a `created` id that another lead of the import was
    /// also `created` under ([`crate::MismatchFault::DuplicateId`]), or an
    /// aborted import ([`Error::Interrupted`]).
    /// Never retried; resend to reconcile.
    Unknown {
        /// What went wrong (shared by the leads of the chunk, unless it is
        /// this lead's own result).
        error: Arc<Error>,
    },
    /// The server certainly did not act on this lead: the request was refused
    /// as a whole (4xx), could not be built, or every attempt met a refused
    /// connection or 429. Safe to resend.
    NotSent {
        /// The last error, shared by every lead of the chunk.
        error: Arc<Error>,
    },
    /// The input could not be parsed into a lead; it was never sent.
    Invalid {
        /// Why it could not be parsed.
        message: String,
    },
}

impl ImportOutcome {
    /// A short lower-case name: `created`, `reengaged`, `rejected`, `unknown`,
    /// `not_sent` or `invalid`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid",
            other => other.outcome().name(),
        }
    }

    /// The outcome an outcomes file records for it ([`Outcome::Unparsable`]
    /// for input that could not be parsed into a lead).
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Created { .. } => Outcome::Created,
            Self::Reengaged { .. } => Outcome::Reengaged,
            Self::Rejected { .. } => Outcome::Rejected,
            Self::Unknown { .. } => Outcome::Unknown,
            Self::NotSent { .. } => Outcome::NotSent,
            Self::Invalid { .. } => Outcome::Unparsable,
        }
    }

    /// The lead id, for created and re-engaged leads.
    pub fn id(&self) -> Option<i64> {
        match self {
            Self::Created { id } | Self::Reengaged { id } => Some(*id),
            _ => None,
        }
    }

    /// The message of a rejected or invalid lead, or the error of the chunk.
    pub fn message(&self) -> Option<String> {
        match self {
            Self::Rejected { message } | Self::Invalid { message } => Some(message.clone()),
            Self::Unknown { error } | Self::NotSent { error } => Some(error.to_string()),
            Self::Created { .. } | Self::Reengaged { .. } => None,
        }
    }

    /// True for created and re-engaged leads.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Created { .. } | Self::Reengaged { .. })
    }

    /// True when the chunk's answer could not be matched to the leads sent.
    pub fn is_mismatch(&self) -> bool {
        matches!(self, Self::Unknown { error } if matches!(**error, Error::BulkMismatch(_) | Error::Decode { .. }))
    }
}

impl From<BulkOutcome> for ImportOutcome {
    fn from(outcome: BulkOutcome) -> Self {
        match outcome {
            BulkOutcome::Created { id } => Self::Created { id },
            BulkOutcome::Reengaged { id } => Self::Reengaged { id },
            BulkOutcome::Rejected { message } => Self::Rejected { message },
        }
    }
}

/// What the outcomes file says happened to one input row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// A new lead was stored; the row carries its id.
    Created,
    /// The row duplicated an existing lead, which was re-engaged; the row carries its id.
    Reengaged,
    /// The server refused the row.
    Rejected,
    /// The request may have reached the server: the row may exist.
    Unknown,
    /// The server certainly did not act on the row: safe to send again.
    NotSent,
    /// The input row could not be read as a lead; never sent.
    Unparsable,
    /// A dry run's verdict: the row passes the local checks.
    WouldSend,
    /// The local checks refused the row; never sent.
    Invalid,
}

impl Outcome {
    /// Every outcome, in the order the summary gives them: first the ones a
    /// sending run always reports ([`Outcome::SENDING`]), then a dry run's
    /// verdict and the local checks' refusal.
    pub const ALL: [Outcome; 8] = [
        Self::Created,
        Self::Reengaged,
        Self::Rejected,
        Self::Unknown,
        Self::NotSent,
        Self::Unparsable,
        Self::WouldSend,
        Self::Invalid,
    ];

    /// The outcomes a sending run always reports, even at zero: the first six
    /// of [`Outcome::ALL`], taken from it so that the two cannot drift apart.
    pub const SENDING: [Outcome; 6] = *Self::ALL
        .first_chunk::<6>()
        .expect("ALL holds at least six outcomes");

    /// The name written in the outcomes file (`not_sent`, `would_send`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Reengaged => "reengaged",
            Self::Rejected => "rejected",
            Self::Unknown => "unknown",
            Self::NotSent => "not_sent",
            Self::Unparsable => "unparsable",
            Self::WouldSend => "would_send",
            Self::Invalid => "invalid",
        }
    }

    /// True when the server holds the row's lead (created or re-engaged).
    pub fn is_success(self) -> bool {
        matches!(self, Self::Created | Self::Reengaged)
    }

    /// True for an outcome that a resume never sends again: the server acted
    /// on the row, or the local checks refused it; `unknown` is final unless
    /// `retry_unknown` (it may exist already). `not_sent` and `unparsable`
    /// (and a dry run's verdicts) are not final: a resume tries them again.
    pub fn is_final(self, retry_unknown: bool) -> bool {
        match self {
            Self::Created | Self::Reengaged | Self::Rejected | Self::Invalid => true,
            Self::Unknown => !retry_unknown,
            Self::NotSent | Self::Unparsable | Self::WouldSend => false,
        }
    }

    /// True when an exit status of 0 allows this outcome.
    pub fn is_ok(self) -> bool {
        matches!(self, Self::Created | Self::Reengaged | Self::WouldSend)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not an outcome's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an outcome name")]
pub struct UnknownOutcome(pub String);

impl FromStr for Outcome {
    type Err = UnknownOutcome;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|o| o.name() == name)
            .ok_or_else(|| UnknownOutcome(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_finality_follows_the_server() {
        for outcome in Outcome::ALL {
            assert_eq!(outcome.name().parse::<Outcome>(), Ok(outcome));
        }
        assert!("crea".parse::<Outcome>().is_err());
        let finals: Vec<_> = Outcome::ALL
            .into_iter()
            .filter(|o| o.is_final(false))
            .collect();
        assert_eq!(
            finals,
            [
                Outcome::Created,
                Outcome::Reengaged,
                Outcome::Rejected,
                Outcome::Unknown,
                Outcome::Invalid
            ]
        );
        assert!(!Outcome::Unknown.is_final(true));
    }

    /// Pins which outcomes a sending run reports at zero. `SENDING` is a prefix
    /// of `ALL`, so an outcome added to or moved within its first six places
    /// changes it: this fails until the change is meant and written here.
    #[test]
    fn a_sending_run_reports_what_the_server_did_and_no_dry_run_verdict() {
        assert_eq!(
            Outcome::SENDING,
            [
                Outcome::Created,
                Outcome::Reengaged,
                Outcome::Rejected,
                Outcome::Unknown,
                Outcome::NotSent,
                Outcome::Unparsable,
            ]
        );
        assert!(!Outcome::SENDING.contains(&Outcome::WouldSend));
        assert!(!Outcome::SENDING.contains(&Outcome::Invalid));
    }
}
