//! What the run says before its results (its notices) and the report built
//! at its end from every part: tallies, observations, read-back, count,
//! settle waits, the operations and the transport.

use super::Harness;
use super::count::Listing;
use super::readback::ReadBack;
use super::text::join_or;
use crate::report::Report;
use sela_leads::rules::NOT_AN_OBJECT;

impl Harness<'_> {
    /// What the run assumes and does to the target, said before the results.
    pub(crate) fn notices(&self) -> Vec<String> {
        let mut out = vec![format!(
            "creates at most {} leads (--max-created), with fictional numbers only \
             (NANP 555-0100..555-0199) and e-mails @example.com tagged {:?}",
            self.config.max_created,
            self.ids.tag()
        )];
        out.push(if self.target.has_second_key() {
            "A3 is checked with a second account (SELA_SECOND_API_KEY): the run creates 2 leads \
             in it"
                .to_owned()
        } else {
            "A3 (account isolation) is not checked: no second account's key \
             (SELA_SECOND_API_KEY)"
                .to_owned()
        });
        out.push(if self.config.shared_account {
            "--shared-account: the list count is not followed, so S2 checks no count growth"
                .to_owned()
        } else {
            "S2 follows the list count (GET /api/leads/): this assumes nothing else writes to \
             the account during the run (pass --shared-account otherwise)"
                .to_owned()
        });
        out
    }

    /// The report of the run.
    pub(crate) fn finish(self, seed: u64) -> Report {
        let mut observations = Vec::new();
        let o = &self.obs;
        observations.push(format!(
            "empty batch ({{\"leads\": []}}): {}",
            o.empty_batch.as_deref().unwrap_or("not sent")
        ));
        let statuses: Vec<String> = o
            .success_statuses
            .iter()
            .map(|(s, n)| format!("{s} x{n}"))
            .collect();
        observations.push(format!("success statuses: {}", join_or(&statuses, "none")));
        observations.push(format!(
            "largest batch accepted: {} items (largest sent: {})",
            o.largest_accepted, o.largest_sent
        ));
        observations.extend(o.sizes.iter().cloned());
        observations.push(if o.non_object_other_wording == 0 {
            format!("non-object items: the documented wording {NOT_AN_OBJECT:?} (or no such item)")
        } else {
            format!(
                "non-object items: {} error(s) worded other than {NOT_AN_OBJECT:?}",
                o.non_object_other_wording
            )
        });
        for (kind, msgs) in &o.wordings {
            let list: Vec<String> = msgs.iter().map(|m| format!("{m:?}")).collect();
            observations.push(format!("error wording, {kind}: {}", list.join(" | ")));
        }
        observations.push(match self.readback.folded {
            (0, 0) => "unknown top-level keys: none read back".to_owned(),
            (y, 0) => format!("unknown top-level keys folded into metadata: yes ({y} read back)"),
            (0, n) => format!("unknown top-level keys folded into metadata: no ({n} read back)"),
            (y, n) => format!("unknown top-level keys folded into metadata: {y} yes, {n} no"),
        });
        for (kind, [c, r, e]) in &o.maybe {
            observations.push(format!(
                "maybe invalid, {kind}: created {c}, reengaged {r}, error {e}"
            ));
        }
        for (kind, statuses) in &o.refusals {
            let list: Vec<&str> = statuses.iter().map(String::as_str).collect();
            observations.push(format!("refused request, {kind}: {}", list.join(", ")));
        }
        observations.push(match self.readback.state {
            ReadBack::Available => {
                "read-back by GET /api/leads/{id}/: available (used for B3)".to_owned()
            }
            ReadBack::Unknown => "read-back by GET /api/leads/{id}/: not tried".to_owned(),
            ReadBack::Unavailable => "read-back by GET /api/leads/{id}/: unavailable".to_owned(),
        });
        observations.extend(self.readback.notes.iter().take(5).cloned());
        observations.push(match self.count.listing {
            Listing::Off => "list count (S2): not followed (--shared-account)".to_owned(),
            Listing::Available(_) => {
                "list count by GET /api/leads/: available (used for S2 and S3)".to_owned()
            }
            Listing::Unknown => "list count by GET /api/leads/: not tried".to_owned(),
            Listing::Unavailable => self
                .count
                .note
                .clone()
                .unwrap_or_else(|| "list count by GET /api/leads/: unavailable".to_owned()),
        });
        observations.extend(self.lanes.summary());
        observations.extend(self.readback.recheck.iter().cloned());
        observations.push(self.waits.summary());
        if self.count.unsure > 0 {
            observations.push(format!(
                "{} list-count checks were left unjudged: the count grew by more than expected \
                 over a baseline read within the settle window after a write, which a lagging \
                 read explains",
                self.count.unsure
            ));
        }
        observations.extend(self.ops.obs.lines(self.target.has_second_key()));
        observations.push(format!(
            "throttling: {} answer(s) 429 waited out ({:.1} s of waiting) and the same request \
             resent",
            self.net.throttled,
            self.net.throttle_wait.as_secs_f64()
        ));
        if let Some(b) = &self.quota.note {
            observations.push(format!("{b} ({} cases skipped)", o.skipped));
        }
        observations.push(format!(
            "identities sent: {} (e-mails tagged {:?})",
            self.ledger.sent_count(),
            self.ids.tag()
        ));
        let notices = self.notices();
        let (replayed, time_budget, elapsed) = self.reporting.finish();
        let clauses = self.tallies.into_results();
        Report {
            base_url: self.target.base_url().to_owned(),
            seed,
            clauses,
            observations: observations.iter().map(|o| self.target.redact(o)).collect(),
            created: self.quota.created,
            requests: self.net.requests,
            cases_run: self.cases_run,
            throttled: self.net.throttled,
            notices,
            elapsed,
            replayed,
            time_budget,
        }
    }
}
