//! `--resume --reconcile`: settles the rows whose fate is unknown (in flight
//! when a run was killed, a timeout, a 5xx) by reading the account back
//! instead of sending them again, before anything is sent.
//!
//! The account is read through `GET /api/leads/`, page by page (one request
//! per 1,000 leads, or per page of the server's own size if it ignores
//! `page_size`); only the leads whose identity ([`sela_leads::rules::identity`]:
//! the phone number in E.164 and the e-mail as sent) is one of the unknown
//! rows' are kept, so memory grows with the unknown rows, not the account.
//! For each unknown row, with `W` the start of this import's first run (from
//! the lock file) less [`CLOCK_SKEW`]:
//!
//! - no lead with its identity, and every lead of the listing was readable:
//!   the lost request left no trace; the row is sent as a new row;
//! - exactly one lead, created at or after `W`: journaled `created` with its id;
//! - exactly one lead, created before `W` and re-engaged at or after `W`:
//!   journaled `reengaged` with its id;
//! - anything else stays `unknown`, with the reason, and is not sent: two or
//!   more leads with the identity; another unknown row with the same
//!   identity; a lead with no created time, or with no run start on record;
//!   a lead that existed before `W` and shows no re-engagement since (the
//!   lost request may or may not have reached it, and sending it again would
//!   re-engage it); a lead already journaled `created` for another row; a
//!   row with no valid phone number; or a listing with unreadable leads.

use crate::input::{Input, InputOptions};
use crate::journal::{Previous, RowSet};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sela_leads::import::Outcome;
use sela_leads::rules::{Identity, identity};
use sela_leads::{Client, Error};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// How far the server's clock may run behind ours: a lead created up to this
/// long before the first run started still counts as created by it.
pub const CLOCK_SKEW: Duration = Duration::minutes(2);

/// Leads asked for per page of the listing.
pub const PAGE_SIZE: i64 = 1000;

/// A lead of the account that has an unknown row's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Its id.
    pub id: i64,
    /// When it was created, if the server says.
    pub created: Option<DateTime<Utc>>,
    /// When it was last re-engaged, if ever and if the server says.
    pub reengaged: Option<DateTime<Utc>>,
}

/// What reconciling decided for one unknown row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settled {
    /// The row's lead is on the account: journal it with this outcome and id.
    Found {
        /// `created` or `reengaged`.
        outcome: Outcome,
        /// The lead's id.
        id: i64,
        /// What showed it.
        message: String,
    },
    /// The evidence does not tell: the row stays `unknown` and is not sent.
    Unknown(String),
    /// No trace of the row on the account: send it as a new row.
    Send,
}

/// What the account listing showed, for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Pages read.
    pub pages: u64,
    /// Leads read.
    pub leads: u64,
    /// Unknown rows found created since the import started.
    pub created: u64,
    /// Unknown rows whose lead was found re-engaged since the import started.
    pub reengaged: u64,
    /// Unknown rows the evidence could not settle: still `unknown`, not sent.
    pub unknown: u64,
    /// Unknown rows with no trace on the account: sent as new rows.
    pub send: u64,
}

/// Reconciling could not read the account; nothing was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// A page of the listing could not be read.
    #[error(
        "--reconcile could not read the account's leads (page {page}): {source}; nothing was sent"
    )]
    Listing {
        /// The page.
        page: i64,
        /// Why.
        source: Error,
    },
    /// The listing did not hold as many leads as the server counts.
    #[error(
        "--reconcile read {read} distinct leads but the server counts {count}: leads were added \
         or removed while it read (another integration?), so an unknown row's lead may have been \
         missed; nothing was sent, run it again"
    )]
    Incomplete {
        /// Distinct leads read.
        read: u64,
        /// The server's count on the last page.
        count: i64,
    },
    /// The input could not be read again.
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// The unknown rows of a resume (unknown in the outcomes file, or in flight
/// when a run died) and their identities, from a pass over the input.
fn unknown_rows(
    input: &Path,
    read: &InputOptions,
    previous: &Previous,
    lost: &RowSet,
) -> Result<Vec<(u64, Option<Identity>)>, ReconcileError> {
    let input = Input::open(input, read)?;
    Ok(input
        .rows
        .filter(|(key, _)| {
            !previous.done.contains(key.row)
                && (previous.unknown.contains(key.row) || lost.contains(key.row))
        })
        .map(|(key, lead)| {
            let identity = match &lead {
                sela_leads::import::Lead::Json(value) => identity(value),
                sela_leads::import::Lead::Typed(typed) => {
                    serde_json::to_value(typed).ok().and_then(|v| identity(&v))
                }
                sela_leads::import::Lead::Invalid(_) => None,
            };
            (key.row, identity)
        })
        .collect())
}

/// The leads of the account with one of `wanted`'s identities, page by page;
/// also the number of leads that could not be read.
async fn read_account(
    client: &Client,
    wanted: &HashSet<Identity>,
    stats: &mut Stats,
) -> Result<(HashMap<Identity, Vec<Seen>>, u64), ReconcileError> {
    let mut pages = client.lead_pages().page_size(PAGE_SIZE);
    let mut found: HashMap<Identity, Vec<Seen>> = HashMap::new();
    let mut ids = HashSet::new();
    let mut unreadable = 0;
    let mut count = 0;
    loop {
        let number = pages.next_page_number().unwrap_or(0);
        let page = match pages.next_page().await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(source) => {
                return Err(ReconcileError::Listing {
                    page: number,
                    source,
                });
            }
        };
        stats.pages += 1;
        count = page.count;
        for lead in page.leads {
            stats.leads += 1;
            let Ok(lead) = lead else {
                unreadable += 1;
                continue;
            };
            if !ids.insert(lead.id) {
                continue;
            }
            let item = serde_json::json!({"phone_number": lead.phone_number, "email": lead.email});
            let Some(identity) = identity(&item).filter(|i| wanted.contains(i)) else {
                continue;
            };
            let reengaged = lead
                .last_reengagement_time
                .as_ref()
                .or(lead.reengagement_time.as_ref())
                .and_then(|t| t.time());
            found.entry(identity).or_default().push(Seen {
                id: lead.id,
                created: lead.created_time.as_ref().and_then(|t| t.time()),
                reengaged,
            });
        }
    }
    let read = ids.len() as u64 + unreadable;
    if read < u64::try_from(count).unwrap_or(0) {
        return Err(ReconcileError::Incomplete { read, count });
    }
    Ok((found, unreadable))
}

/// Settles every unknown row of a resume (the rows of the input file `input`,
/// read with `read`) against the account (see the module docs): row number to
/// decision. `window` is the start of the import's first
/// run, `None` when no start is on record; `created_ids` the ids already
/// journaled `created` for other rows.
pub fn settle_rows(
    input: &Path,
    read: &InputOptions,
    client: &Client,
    previous: &Previous,
    lost: &RowSet,
    window: Option<DateTime<Utc>>,
) -> Result<(BTreeMap<u64, Settled>, Stats), ReconcileError> {
    let rows = unknown_rows(input, read, previous, lost)?;
    let mut stats = Stats::default();
    if rows.is_empty() {
        return Ok((BTreeMap::new(), stats));
    }
    let wanted: HashSet<Identity> = rows.iter().filter_map(|(_, i)| i.clone()).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ReconcileError::Runtime)?;
    let (found, unreadable) = runtime.block_on(read_account(client, &wanted, &mut stats))?;
    let mut sharing: HashMap<&Identity, Vec<u64>> = HashMap::new();
    for (row, identity) in &rows {
        if let Some(identity) = identity {
            sharing.entry(identity).or_default().push(*row);
        }
    }
    let created: HashSet<i64> = previous.created_ids.iter().copied().collect();
    let mut settled = BTreeMap::new();
    for (row, identity) in &rows {
        let others: Vec<u64> = identity
            .as_ref()
            .and_then(|i| sharing.get(i))
            .map(|rows| rows.iter().copied().filter(|r| r != row).collect())
            .unwrap_or_default();
        let seen = identity
            .as_ref()
            .and_then(|i| found.get(i))
            .map_or(&[][..], Vec::as_slice);
        let decision = settle(
            identity.is_some(),
            seen,
            &others,
            window,
            &created,
            unreadable,
        );
        match &decision {
            Settled::Found {
                outcome: Outcome::Created,
                ..
            } => stats.created += 1,
            Settled::Found { .. } => stats.reengaged += 1,
            Settled::Unknown(_) => stats.unknown += 1,
            Settled::Send => stats.send += 1,
        }
        settled.insert(*row, decision);
    }
    Ok((settled, stats))
}

fn at(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The decision for one unknown row (see the module docs): `has_identity`
/// false for a row with no valid phone number; `seen` the account's leads
/// with its identity; `others` the other unknown rows with that identity.
pub fn settle(
    has_identity: bool,
    seen: &[Seen],
    others: &[u64],
    window: Option<DateTime<Utc>>,
    created_ids: &HashSet<i64>,
    unreadable: u64,
) -> Settled {
    const NOT_SENT: &str = "left unknown by --reconcile and not sent";
    if !has_identity {
        return Settled::Unknown(format!(
            "{NOT_SENT}: the row has no valid phone number, so the account cannot be searched for it"
        ));
    }
    let lead = match seen {
        [] if unreadable > 0 => {
            return Settled::Unknown(format!(
                "{NOT_SENT}: no readable lead has this identity, but {unreadable} leads of the \
                 listing could not be read and one may be this row's"
            ));
        }
        [] => return Settled::Send,
        [lead] => lead,
        many => {
            let ids: Vec<String> = many.iter().map(|s| s.id.to_string()).collect();
            return Settled::Unknown(format!(
                "{NOT_SENT}: {} leads on the account have this identity (ids {}), so which one \
                 is this row's cannot be told",
                many.len(),
                ids.join(", ")
            ));
        }
    };
    let id = lead.id;
    if !others.is_empty() {
        let rows: Vec<String> = others.iter().map(u64::to_string).collect();
        return Settled::Unknown(format!(
            "{NOT_SENT}: lead {id} has this identity, and so do unknown rows {}, so which row \
             it came from cannot be told",
            rows.join(", ")
        ));
    }
    let Some(window) = window else {
        return Settled::Unknown(format!(
            "{NOT_SENT}: lead {id} has this identity, but no start of the interrupted run is on \
             record (its lock file has none), so whether this import made it cannot be told"
        ));
    };
    let Some(created) = lead.created else {
        return Settled::Unknown(format!(
            "{NOT_SENT}: lead {id} has this identity but the server gives no created time for it"
        ));
    };
    if created >= window {
        if created_ids.contains(&id) {
            return Settled::Unknown(format!(
                "{NOT_SENT}: lead {id} has this identity but is journaled `created` for another \
                 row already"
            ));
        }
        return Settled::Found {
            outcome: Outcome::Created,
            id,
            message: format!(
                "reconciled: lead {id} with this identity was created at {}, after the import \
                 started ({})",
                at(created),
                at(window + CLOCK_SKEW)
            ),
        };
    }
    match lead.reengaged {
        Some(reengaged) if reengaged >= window => Settled::Found {
            outcome: Outcome::Reengaged,
            id,
            message: format!(
                "reconciled: lead {id} with this identity was re-engaged at {}, after the import \
                 started ({})",
                at(reengaged),
                at(window + CLOCK_SKEW)
            ),
        },
        _ => Settled::Unknown(format!(
            "{NOT_SENT}: lead {id} with this identity existed before the import started (created \
             {}) and shows no re-engagement since, so whether the lost request reached it cannot \
             be told; sending it again would re-engage it",
            at(created)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::minutes(minutes)
    }

    fn seen(id: i64, created: Option<i64>, reengaged: Option<i64>) -> Seen {
        Seen {
            id,
            created: created.map(t),
            reengaged: reengaged.map(t),
        }
    }

    #[test]
    fn evidence_settles_a_row_only_when_it_is_unambiguous() {
        let window = Some(t(0));
        let none = HashSet::new();
        let created = settle(true, &[seen(7, Some(5), None)], &[], window, &none, 0);
        assert!(matches!(
            created,
            Settled::Found {
                outcome: Outcome::Created,
                id: 7,
                ..
            }
        ));
        let reengaged = settle(true, &[seen(8, Some(-60), Some(3))], &[], window, &none, 0);
        assert!(matches!(
            reengaged,
            Settled::Found {
                outcome: Outcome::Reengaged,
                id: 8,
                ..
            }
        ));
        assert_eq!(settle(true, &[], &[], window, &none, 0), Settled::Send);
        assert_eq!(settle(true, &[], &[], None, &none, 0), Settled::Send);

        let taken: HashSet<i64> = [7].into();
        for (decision, says) in [
            (settle(false, &[], &[], window, &none, 0), "no valid phone"),
            (
                settle(true, &[], &[], window, &none, 2),
                "could not be read",
            ),
            (
                settle(
                    true,
                    &[seen(1, Some(5), None), seen(2, Some(6), None)],
                    &[],
                    window,
                    &none,
                    0,
                ),
                "ids 1, 2",
            ),
            (
                settle(true, &[seen(7, Some(5), None)], &[4], window, &none, 0),
                "rows 4",
            ),
            (
                settle(true, &[seen(7, Some(5), None)], &[], None, &none, 0),
                "no start",
            ),
            (
                settle(true, &[seen(7, None, None)], &[], window, &none, 0),
                "no created time",
            ),
            (
                settle(true, &[seen(7, Some(-60), None)], &[], window, &none, 0),
                "re-engage it",
            ),
            (
                settle(
                    true,
                    &[seen(7, Some(-60), Some(-30))],
                    &[],
                    window,
                    &none,
                    0,
                ),
                "re-engage it",
            ),
            (
                settle(true, &[seen(7, Some(5), None)], &[], window, &taken, 0),
                "another row",
            ),
        ] {
            match decision {
                Settled::Unknown(reason) => {
                    assert!(
                        reason.contains(says) && reason.contains("not sent"),
                        "{reason}"
                    )
                }
                other => panic!("{says}: {other:?}"),
            }
        }
    }
}
