//! Typed bulk-create outcomes, checked one-to-one against the leads sent.

use crate::api::types::{BulkCreateLeadAction, BulkCreateLeadResponse};
use std::fmt;

/// What happened to one lead of a bulk create, at the same index as the lead.
#[derive(Clone, Debug, PartialEq, Eq)]
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
        /// The server's message (empty if it sent none).
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

/// A bulk answer that cannot be matched one-to-one with the leads sent.
///
/// The crate never guesses which result belongs to which lead: any of these
/// faults fails the whole call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkMismatch {
    /// The index of the faulty result, when the fault is in one result.
    pub index: Option<usize>,
    /// What is wrong.
    pub fault: MismatchFault,
}

/// The kinds of [`BulkMismatch`].
#[derive(Clone, Debug, PartialEq, Eq)]
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
            MismatchFault::Malformed { reason } => write!(f, "malformed result: {reason}"),
        }
    }
}

impl std::error::Error for BulkMismatch {}

/// Turns a decoded bulk answer into one outcome per lead sent, or the first fault.
pub(crate) fn outcomes(
    sent: usize,
    response: BulkCreateLeadResponse,
) -> Result<Vec<BulkOutcome>, BulkMismatch> {
    let received = response.results.len();
    if received != sent {
        return Err(BulkMismatch {
            index: None,
            fault: MismatchFault::CountDiffers { sent, received },
        });
    }
    response
        .results
        .into_iter()
        .enumerate()
        .map(|(index, result)| {
            let fault = |fault| BulkMismatch {
                index: Some(index),
                fault,
            };
            let action = result.action.to_string();
            match (result.action, result.id, result.error) {
                (BulkCreateLeadAction::Error, Some(id), _) => {
                    Err(fault(MismatchFault::ErrorWithId { id }))
                }
                (BulkCreateLeadAction::Error, None, message) => Ok(BulkOutcome::Rejected {
                    message: message.unwrap_or_default(),
                }),
                (_, None, _) => Err(fault(MismatchFault::MissingId { action })),
                (_, Some(_), Some(_)) => Err(fault(MismatchFault::SuccessWithError { action })),
                (BulkCreateLeadAction::Created, Some(id), None) => Ok(BulkOutcome::Created { id }),
                (BulkCreateLeadAction::Reengaged, Some(id), None) => {
                    Ok(BulkOutcome::Reengaged { id })
                }
            }
        })
        .collect()
}

/// Explains why a bulk answer did not decode, naming the faulty result when
/// one can be found (an unknown action, a string id, ...).
pub(crate) fn diagnose(sent: usize, body: &[u8]) -> Option<BulkMismatch> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let results = value.get("results")?.as_array()?;
    if results.len() != sent {
        return Some(BulkMismatch {
            index: None,
            fault: MismatchFault::CountDiffers {
                sent,
                received: results.len(),
            },
        });
    }
    results.iter().enumerate().find_map(|(index, result)| {
        let fault = match result.get("action").and_then(|a| a.as_str()) {
            Some("created" | "reengaged" | "error") => {
                let decoded = serde_json::from_value::<crate::api::types::BulkCreateLeadResult>(
                    result.clone(),
                );
                MismatchFault::Malformed {
                    reason: decoded.err()?.to_string(),
                }
            }
            Some(other) => MismatchFault::UnknownAction {
                action: other.to_owned(),
            },
            None => MismatchFault::Malformed {
                reason: format!(
                    "no string `action` in {}",
                    crate::error::truncate(&result.to_string())
                ),
            },
        };
        Some(BulkMismatch {
            index: Some(index),
            fault,
        })
    })
}
