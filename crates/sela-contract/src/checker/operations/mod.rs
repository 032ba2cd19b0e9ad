//! The lead operations besides bulk create, on leads the run created itself:
//! single create (C1), PATCH (U1), PUT by match (U2), identity moves (U3),
//! re-engagement (R1, R2), fresh reads (G1), fidelity (B5), the list walk (L1),
//! account isolation (A3) and S2 over time.
//!
//! - `scenario`: one generated case walks a lead through every operation and
//!   checks each answer and each read (C1, U1-U3, R1, R2, G1, B5);
//! - `updates`: the walk's PUT, PATCH, do-not-contact and identity-move steps;
//! - `sequences`: stateful sequences (a reference state machine);
//! - `reads`: reads of a lead within the settle window, a stale read told
//!   apart from a lost write by the listing (G1 versus the operation's clause);
//! - `fidelity`: B5's exact comparison and the values that test it;
//! - `listing`: L1's walk of `GET /api/leads/`;
//! - `accounts`: A3 with the second account's key;
//! - `aging`: S2 over time (identities of the run's start re-sent at its end).
//!
//! Safety against a real account: PATCH and PUT only ever touch leads this run
//! created, `call_dnc` / `sms_dnc` are only ever set to true, every single
//! create is counted against `--max-created`.
//!
//! Besides them: `plan` draws the walks, `wire` holds the paths and what an
//! answer says, `record` what the operations keep over the run.

mod accounts;
mod aging;
pub(crate) mod fidelity;
mod listing;
mod plan;
mod reads;
pub(super) mod record;
mod scenario;
mod sequences;
mod updates;
mod walk;
mod wire;

pub use plan::{Scenario, scenario};
pub(crate) use wire::{
    BULK, LEADS_PATH, UPDATE_PATH, counter, lead_path, ok_body, reengaged_at, refused, shortened,
};

use super::Harness;
use super::readback::ReadBack;
use super::waves::Sides;

impl Harness<'_> {
    /// Property 6: lead operations (C1, U1-U3, R1, R2, G1, B5), then the list
    /// walk (L1), account isolation (A3).
    pub(crate) fn run_operations(&mut self) {
        let cases = (self.config.cases / 4).max(4);
        if self.readback.state == ReadBack::Unavailable {
            // Every operation is judged by reading the lead back.
            self.ops.obs.walks_skipped = true;
            self.quota.skip_property();
        } else {
            self.cases(&scenario(), cases, Sides::Lanes, |h, sc| h.walk(sc));
        }
        if self.readback.state != ReadBack::Unavailable {
            self.run_sequences();
            self.run_groups();
        } else {
            self.quota.skip_property();
            self.quota.skip_property();
        }
        self.check_listing();
        self.check_accounts();
    }
}
