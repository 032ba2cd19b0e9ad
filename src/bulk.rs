//! Typed bulk-create outcomes, checked one-to-one against the leads sent.

use crate::api::types::{BulkCreateLeadAction, BulkCreateLeadResponse, BulkCreateLeadResult};
use std::fmt;

/// What happened to one lead of a bulk create, at the same index as the lead.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BulkOutcome {
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
        /// The server's message (empty if it sent none); an error that is not
        /// a string (a map of fields to messages) as one line, see
        /// [`crate::BulkItemError::message`].
        message: String,
    },
}

impl BulkOutcome {
    /// The lead id, for created and re-engaged leads.
    pub fn id(&self) -> Option<i64> {
        match self {
            Self::Created { id } | Self::Reengaged { id } => Some(*id),
            Self::Rejected { .. } => None,
        }
    }
}

/// A bulk answer that cannot be taken as it is.
///
/// When the number of results matches the leads sent, each result is judged
/// on its own: [`BulkMismatch::results`] holds, at each lead's index, its
/// outcome or the fault of its result, so one odd result never costs the other
/// leads their ids. When the counts differ nothing can be matched, and
/// `results` is empty. The crate never guesses which result belongs to which
/// lead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkMismatch {
    /// The index of the (first) faulty result, when the fault is in one result.
    pub index: Option<usize>,
    /// What is wrong (with the first faulty result).
    pub fault: MismatchFault,
    /// The faulty result as JSON (truncated), for a fault in one result.
    pub raw: Option<String>,
    /// One entry per lead sent when the counts match: its outcome, or the
    /// fault of its own result. Empty when the counts differ.
    pub results: Vec<Result<BulkOutcome, BulkMismatch>>,
}

impl BulkMismatch {
    /// The outcomes that could be matched, by index (faulty ones left out).
    pub fn matched(&self) -> impl Iterator<Item = (usize, &BulkOutcome)> {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(index, result)| result.as_ref().ok().map(|outcome| (index, outcome)))
    }

    /// The faults of single results, by index.
    pub fn faults(&self) -> impl Iterator<Item = &BulkMismatch> {
        self.results
            .iter()
            .filter_map(|result| result.as_ref().err())
    }

    fn count_differs(sent: usize, received: usize) -> Self {
        Self {
            index: None,
            fault: MismatchFault::CountDiffers { sent, received },
            raw: None,
            results: Vec::new(),
        }
    }

    /// The fault of a `created` result at `index` whose `id` another
    /// `created` result carries too.
    pub(crate) fn duplicate_id(index: usize, id: i64) -> Self {
        let raw = serde_json::json!({ "id": id, "action": "created" });
        Self::item(index, MismatchFault::DuplicateId { id }, &raw)
    }

    /// A fault found by reading the lead of result `index` back.
    pub(crate) fn read_back(index: usize, fault: MismatchFault) -> Self {
        Self {
            index: Some(index),
            fault,
            raw: None,
            results: Vec::new(),
        }
    }

    fn item(index: usize, fault: MismatchFault, raw: &impl fmt::Display) -> Self {
        Self {
            index: Some(index),
            fault,
            raw: Some(crate::excerpt::truncate(&raw.to_string())),
            results: Vec::new(),
        }
    }
}

/// The kinds of [`BulkMismatch`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MismatchFault {
    /// The number of results differs from the number of leads sent.
    CountDiffers {
        /// Leads sent.
        sent: usize,
        /// Results received.
        received: usize,
    },
    /// An `error` result carries a lead id.
    ErrorWithId {
        /// The id it carries.
        id: i64,
    },
    /// A `created` or `reengaged` result has no id.
    MissingId {
        /// The action of that result.
        action: String,
    },
    /// A `created` or `reengaged` result also carries an error message.
    SuccessWithError {
        /// The action of that result.
        action: String,
    },
    /// An action other than `created`, `reengaged` or `error`.
    UnknownAction {
        /// The action as received.
        action: String,
    },
    /// A `created` result carries an id that another `created` result
    /// carries too: in the same answer (then every such result has this
    /// fault), or, in the importer, earlier in the same run. Two leads cannot
    /// both be new under one id: one overwrote the other, or the answer is
    /// misattributed. (A `reengaged` result carrying a `created` id is fine.)
    DuplicateId {
        /// The id carried twice.
        id: i64,
    },
    /// The importer read the lead back (`verify`) and its stored phone
    /// number or e-mail is not that of the lead sent at this place: the
    /// results are out of order, or the server stored something else.
    ReadBackDiffers {
        /// The id read back.
        id: i64,
        /// The action of the result (`created` or `reengaged`).
        action: String,
    },
    /// A result that is not an object of the documented shape.
    Malformed {
        /// Why it does not decode.
        reason: String,
    },
}

impl fmt::Display for BulkMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(index) = self.index {
            write!(f, "result {index}: ")?;
        }
        match &self.fault {
            MismatchFault::CountDiffers { sent, received } => {
                write!(f, "{received} results for {sent} leads sent")
            }
            MismatchFault::ErrorWithId { id } => write!(f, "`error` result carries id {id}"),
            MismatchFault::MissingId { action } => write!(f, "`{action}` result has no id"),
            MismatchFault::SuccessWithError { action } => {
                write!(f, "`{action}` result also carries an error message")
            }
            MismatchFault::UnknownAction { action } => write!(f, "unknown action `{action}`"),
            MismatchFault::DuplicateId { id } => write!(
                f,
                "`created` result carries id {id}, which another `created` result carries too"
            ),
            MismatchFault::ReadBackDiffers { id, action } => write!(
                f,
                "`{action}` lead {id}, read back, has another phone number or e-mail than the lead sent"
            ),
            MismatchFault::Malformed { reason } => write!(f, "malformed result: {reason}"),
        }?;
        if let Some(raw) = &self.raw {
            write!(f, " (received {raw})")?;
        }
        let faults = self.faults().count();
        if !self.results.is_empty() {
            write!(
                f,
                "; {faults} of {} results faulty, the others matched",
                self.results.len()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for BulkMismatch {}

/// Turns a decoded bulk answer into one outcome per lead sent. A count that
/// differs fails the whole answer; otherwise each result is judged alone, and
/// any faulty one gives a [`BulkMismatch`] carrying every outcome matched.
pub(crate) fn outcomes(
    sent: usize,
    response: BulkCreateLeadResponse,
) -> Result<Vec<BulkOutcome>, BulkMismatch> {
    let received = response.results.len();
    if received != sent {
        return Err(BulkMismatch::count_differs(sent, received));
    }
    let results = response
        .results
        .into_iter()
        .enumerate()
        .map(|(index, result)| judge(index, result))
        .collect();
    collect(results)
}

/// All outcomes, or a mismatch naming the first fault and carrying them all.
/// `created` results that share an id all become [`MismatchFault::DuplicateId`].
fn collect(
    mut results: Vec<Result<BulkOutcome, BulkMismatch>>,
) -> Result<Vec<BulkOutcome>, BulkMismatch> {
    let duplicates = duplicate_created_ids(&results);
    if !duplicates.is_empty() {
        for (index, result) in results.iter_mut().enumerate() {
            if let Ok(BulkOutcome::Created { id }) = *result
                && duplicates.binary_search(&id).is_ok()
            {
                *result = Err(BulkMismatch::duplicate_id(index, id));
            }
        }
    }
    match results.iter().find_map(|result| result.as_ref().err()) {
        None => Ok(results.into_iter().flatten().collect()),
        Some(first) => Err(BulkMismatch {
            index: first.index,
            fault: first.fault.clone(),
            raw: first.raw.clone(),
            results,
        }),
    }
}

/// The ids that more than one `created` result carries (usually none), sorted.
fn duplicate_created_ids(results: &[Result<BulkOutcome, BulkMismatch>]) -> Vec<i64> {
    let mut ids: Vec<i64> = results
        .iter()
        .filter_map(|result| match result {
            Ok(BulkOutcome::Created { id }) => Some(*id),
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    let mut duplicates: Vec<i64> = ids
        .windows(2)
        .filter(|pair| pair[0] == pair[1])
        .map(|pair| pair[0])
        .collect();
    duplicates.dedup();
    duplicates
}

/// The outcome of one decoded result, or its fault.
fn judge(index: usize, result: BulkCreateLeadResult) -> Result<BulkOutcome, BulkMismatch> {
    let action = result.action.to_string();
    let fault = |fault| {
        let raw = serde_json::to_string(&result).unwrap_or_default();
        BulkMismatch::item(index, fault, &raw)
    };
    match (&result.action, result.id, &result.error) {
        // An outcome the documentation does not list: only this lead is in doubt.
        (BulkCreateLeadAction::Other(_), _, _) => {
            Err(fault(MismatchFault::UnknownAction { action }))
        }
        (BulkCreateLeadAction::Error, Some(id), _) => Err(fault(MismatchFault::ErrorWithId { id })),
        (BulkCreateLeadAction::Error, None, error) => Ok(BulkOutcome::Rejected {
            message: error.as_ref().map(|e| e.message()).unwrap_or_default(),
        }),
        (_, None, _) => Err(fault(MismatchFault::MissingId { action })),
        (_, Some(_), Some(_)) => Err(fault(MismatchFault::SuccessWithError { action })),
        (BulkCreateLeadAction::Created, Some(id), None) => Ok(BulkOutcome::Created { id }),
        (BulkCreateLeadAction::Reengaged, Some(id), None) => Ok(BulkOutcome::Reengaged { id }),
    }
}

/// Explains why a bulk answer did not decode as a whole: when it holds one
/// result per lead sent, each result is judged alone (a string id or a
/// non-string action faults that result only) and the others keep their
/// outcomes. (An unknown action string decodes, and is judged in [`judge`].)
pub(crate) fn diagnose(sent: usize, body: &[u8]) -> Option<BulkMismatch> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let results = value.get("results")?.as_array()?;
    if results.len() != sent {
        return Some(BulkMismatch::count_differs(sent, results.len()));
    }
    let results = results
        .iter()
        .enumerate()
        .map(|(index, result)| {
            let fault = match result.get("action").and_then(|a| a.as_str()) {
                Some(_) => match serde_json::from_value::<BulkCreateLeadResult>(result.clone()) {
                    Ok(decoded) => return judge(index, decoded),
                    Err(error) => MismatchFault::Malformed {
                        reason: error.to_string(),
                    },
                },
                None => MismatchFault::Malformed {
                    reason: "no string `action`".to_owned(),
                },
            };
            Err(BulkMismatch::item(index, fault, result))
        })
        .collect();
    // Every result decoding alone while the whole did not: no diagnosis.
    collect(results).err()
}
