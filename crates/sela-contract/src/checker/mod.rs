//! The checker: sends generated batches, evaluates every clause of CONTRACT.md on
//! the answers, and keeps the run's ledger of identities sent and created.
//!
//! The run's state is split into parts that own it; `Harness` composes them
//! and passes each the others it needs:
//!
//! - `transport`: requests sent together, throttling waited out, reads
//!   answered ahead, the target gone;
//! - `quota`: `--max-created` shared out between the properties;
//! - [`ledger`]: the run's memory of identities sent, refused and created;
//! - `tally`: per clause, the cases checked and failed and the evidence;
//! - `count`: the count judge, S2's (and S3's) list count growth;
//! - `readback`: B3 by reading every stored lead back (field by field, see
//!   `stored`), and again at the end of the run;
//! - `settle`: reads that lag writes, read again within the settle window;
//! - `observations`: what is recorded but not asserted;
//! - `replay`: the report side (stored failures, the time budget, progress);
//! - `case`: one test case's outcome and one answer's parsed results;
//! - `text`: short texts for details.
//!
//! The properties and the checks, one module per property or clause:
//!
//! - `harness`: the parts composed; sending a batch, reserving its creations;
//! - `waves`: each property's cases drawn from their seeds, one at a time
//!   or side by side in lanes (`--lanes`), the count judged over each wave
//!   (`lanes`: what the lanes keep between waves);
//! - `runner`: one case run and concluded, every failing clause shrunk, and
//!   stored failures replayed first;
//! - `bulk`: the clauses evaluated on every bulk answer (T1-T3, B1-B3, S1-S3),
//!   and one plain case (a batch posted and checked);
//! - `sizes`: the size limit probed up to `max_size`, and batches of many
//!   sizes up to it (B1, B3; S3 for an oversize refusal);
//! - `mixed`: mixed batches (T1-T3, B1-B3, S1-S3), then the created
//!   identities re-sent in other US formats (S2);
//! - `independence`: valid items alone and among invalid ones (B4);
//! - `refusals`: requests refused as a whole or items answered `error`, then
//!   the same leads sent properly (A1 with near-miss tokens, A2, S3);
//! - `concurrency`: several requests in flight sharing identities (S4);
//! - `operations`: the lead operations besides bulk create (C1-L1, A3);
//! - `finish`: the notices and the final report.
//!
//! Expectations come from the lead rules the sandbox also uses
//! ([`identity`](sela_leads::rules::identity),
//! [`normalize_phone`](sela_leads::rules::normalize_phone),
//! [`NOT_AN_OBJECT`](sela_leads::rules::NOT_AN_OBJECT)), so the harness and the
//! sandbox share one reading of the documentation.

mod bulk;
mod case;
mod concurrency;
mod count;
mod finish;
mod harness;
mod independence;
mod lanes;
pub mod ledger;
mod mixed;
mod observations;
mod operations;
mod quota;
mod readback;
mod refusals;
mod replay;
mod runner;
mod settle;
mod sizes;
mod stored;
mod tally;
mod text;
mod together;
mod transport;
mod waves;

pub use harness::BULK_PATH;
pub(crate) use harness::Harness;
pub use ledger::Ledger;
