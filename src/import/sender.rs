//! Sending one chunk: the leads that can go on the wire, retries only where
//! the server certainly did not act, one outcome per lead of the chunk.

use super::ids::IdSet;
use super::lead::{Lead, Payload};
use super::outcome::ImportOutcome;
use super::progress::ProgressHandle;
use super::retry::RetryPolicy;
use super::retry::{Verdict, verdict};
use super::stop::StopHandle;
use super::verify;
use crate::{BulkMismatch, BulkOutcome, Client, Error};
use backon::{Retryable, TokioSleeper};
use std::sync::{Arc, Mutex, PoisonError};

/// What one chunk needs to be sent: shared by the chunks of an import.
pub(super) struct ChunkSender {
    pub(super) client: Client,
    pub(super) retry: RetryPolicy,
    pub(super) progress: ProgressHandle,
    pub(super) stop: StopHandle,
    /// Every id answered `created` in this import so far.
    pub(super) created: Mutex<IdSet>,
    /// Read back created and re-engaged leads.
    pub(super) verify: bool,
}

impl ChunkSender {
    /// Sends the valid leads of a chunk and returns one outcome per lead of it.
    pub(super) async fn send<K>(&self, chunk: Vec<(K, Lead)>) -> Vec<(K, ImportOutcome)> {
        let all_typed = chunk
            .iter()
            .all(|(_, lead)| matches!(lead, Lead::Typed(_) | Lead::Invalid(_)));
        let mut keys = Vec::with_capacity(chunk.len());
        let mut slots: Vec<Option<ImportOutcome>> = Vec::with_capacity(chunk.len());
        let mut typed = Vec::new();
        let mut values = Vec::new();
        for (key, lead) in chunk {
            keys.push(key);
            slots.push(match lead {
                Lead::Invalid(message) => Some(ImportOutcome::Invalid { message }),
                Lead::Typed(lead) if all_typed => {
                    typed.push(lead);
                    None
                }
                Lead::Typed(lead) => match serde_json::to_value(lead) {
                    Ok(value) => {
                        values.push(value);
                        None
                    }
                    Err(error) => Some(ImportOutcome::Invalid {
                        message: format!("cannot encode the lead as JSON: {error}"),
                    }),
                },
                Lead::Json(value) => {
                    values.push(value);
                    None
                }
            });
        }
        let payload = if all_typed {
            Payload::Typed(typed)
        } else {
            Payload::Json(values)
        };
        let to_send = slots.iter().filter(|slot| slot.is_none()).count() as u64;
        self.progress.update(|p| {
            p.read += slots.len() as u64;
            p.sent += to_send;
        });

        let mut sent_outcomes = if to_send == 0 {
            Vec::new().into_iter()
        } else {
            self.send_or_abort(&payload, to_send as usize)
                .await
                .into_iter()
        };
        let outcomes: Vec<ImportOutcome> = slots
            .into_iter()
            .map(|slot| {
                slot.or_else(|| sent_outcomes.next())
                    .unwrap_or_else(|| ImportOutcome::Invalid {
                        message: "internal error: no outcome for this lead".to_owned(),
                    })
            })
            .collect();
        self.progress.update(|p| {
            for outcome in &outcomes {
                p.count(outcome);
            }
        });
        keys.into_iter().zip(outcomes).collect()
    }

    /// Sends `payload`, unless the import is aborted first: then its leads are
    /// unknown (the request may have reached the server).
    async fn send_or_abort(&self, payload: &Payload, count: usize) -> Vec<ImportOutcome> {
        let sending = std::pin::pin!(async {
            let outcomes = self.send_with_retries(payload, count).await;
            if self.verify {
                verify::verify(&self.client, payload, outcomes).await
            } else {
                outcomes
            }
        });
        let aborted = std::pin::pin!(self.stop.aborted());
        match futures::future::select(sending, aborted).await {
            futures::future::Either::Left((outcomes, _)) => outcomes,
            futures::future::Either::Right(((), _)) => {
                tracing::error!(
                    leads = count,
                    "import aborted with a chunk in flight; outcome unknown"
                );
                let error = Arc::new(Error::Interrupted);
                (0..count)
                    .map(|_| ImportOutcome::Unknown {
                        error: Arc::clone(&error),
                    })
                    .collect()
            }
        }
    }

    /// One outcome per lead of `payload`, retrying only where the server certainly did not act.
    async fn send_with_retries(&self, payload: &Payload, count: usize) -> Vec<ImportOutcome> {
        let attempt = || async {
            self.progress.update(|p| p.requests += 1);
            let result = match payload {
                Payload::Typed(leads) => self.client.bulk_create(leads).await,
                Payload::Json(values) => self.client.bulk_create_raw(values).await,
            };
            if let Err(Error::RateLimited { .. }) = &result {
                self.progress.update(|p| p.throttled += 1);
            }
            result
        };
        let cap = self.retry.max_retry_after;
        let result = attempt
            .retry(self.retry.backoff())
            .sleep(TokioSleeper)
            .when(|error| matches!(verdict(error), Verdict::Retry(_)))
            .adjust(|error, backoff| match (verdict(error), backoff) {
                // Bounded attempts: an exhausted backoff ends the retries.
                (_, None) => None,
                (Verdict::Retry(Some(retry_after)), Some(_)) => Some(retry_after.min(cap)),
                (_, backoff) => backoff,
            })
            .notify(|error, delay| {
                self.progress.update(|p| p.retries += 1);
                tracing::warn!(%error, ?delay, leads = count, "bulk chunk not acted on; retrying");
            })
            .await;
        let results = match result {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            // The counts match: each lead keeps its own outcome, and only the
            // leads whose own result is faulty are unknown.
            Err(Error::BulkMismatch(mismatch)) if mismatch.results.len() == count => {
                tracing::error!(%mismatch, leads = count, "bulk answer with faulty results");
                mismatch.results
            }
            Err(error) => {
                let unknown = verdict(&error) == Verdict::Unknown;
                if unknown {
                    tracing::error!(%error, leads = count, "bulk chunk failed after sending; outcome unknown");
                } else {
                    tracing::error!(%error, leads = count, "bulk chunk not sent");
                }
                let error = Arc::new(error);
                return (0..count)
                    .map(|_| {
                        let error = Arc::clone(&error);
                        if unknown {
                            ImportOutcome::Unknown { error }
                        } else {
                            ImportOutcome::NotSent { error }
                        }
                    })
                    .collect();
            }
        };
        self.outcomes(results)
    }

    /// One outcome per result. A `created` id this import already saw
    /// `created` for another lead makes this lead unknown
    /// ([`MismatchFault::DuplicateId`](crate::MismatchFault::DuplicateId)):
    /// two leads cannot both be new under one id.
    fn outcomes(&self, results: Vec<Result<BulkOutcome, BulkMismatch>>) -> Vec<ImportOutcome> {
        let mut created = self.created.lock().unwrap_or_else(PoisonError::into_inner);
        results
            .into_iter()
            .enumerate()
            .map(|(index, result)| {
                let fault = match result {
                    Ok(BulkOutcome::Created { id }) if !created.insert(id) => {
                        tracing::error!(
                            id,
                            "`created` again for an id already created in this import"
                        );
                        BulkMismatch::duplicate_id(index, id)
                    }
                    Ok(outcome) => return ImportOutcome::from(outcome),
                    Err(fault) => {
                        if let crate::MismatchFault::DuplicateId { id } = fault.fault {
                            created.insert(id);
                        }
                        fault
                    }
                };
                ImportOutcome::Unknown {
                    error: Arc::new(Error::BulkMismatch(fault)),
                }
            })
            .collect()
    }
}
