//! What the lead operations keep over the run (the identities created at its
//! start, for S2 over time) and what they observed, for the report.

use std::time::Instant;

/// What the operations keep over the run.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) aging: Aging,
    pub(crate) obs: Obs,
}

/// What the operations observed (not asserted).
#[derive(Debug, Default)]
pub(crate) struct Obs {
    /// Created leads read back without a re-engagement counter.
    pub(crate) no_counter: u32,
    /// Integers beyond 2^53 read back: (kept, changed).
    pub(crate) huge: (u32, u32),
    /// PATCHes of metadata that kept (merged) or dropped (replaced) keys not sent.
    pub(crate) merged: u32,
    pub(crate) replaced: u32,
    pub(crate) listing: Option<String>,
    /// The first list `next` link to another host, walked on the base URL.
    pub(crate) foreign_next: Option<String>,
    pub(crate) listing_skipped: Option<&'static str>,
    pub(crate) accounts: Option<String>,
    pub(crate) aging: Option<String>,
    /// The walks did not run: the target offers no read-back.
    pub(crate) walks_skipped: bool,
    /// Reads of a walk or sequence that answered no lead (not 404): the
    /// operation was not judged.
    pub(crate) unreadable: u32,
    /// Concurrent groups (S5) explained, whose requests were not all in
    /// flight together (not counted for S5).
    pub(crate) groups_not_overlapped: u32,
    /// Concurrent groups not judged: throttled, or their operations already
    /// fail one at a time (their clauses say so).
    pub(crate) groups_unjudged: u32,
    /// List pages of concurrent groups judged on their count and the leads
    /// they must not show only (the page, or the list before the group, is
    /// a part of the list).
    pub(crate) pages_partly: u32,
    /// List pages of concurrent groups not judged at all: reads lag, the
    /// list before the group could not be read, no answer, or their group
    /// was not judged (or stopped before its verdict).
    pub(crate) pages_unjudged: u32,
    /// List steps of sequences and list pages of concurrent groups left
    /// out in lanes, where the list shows the other lanes' leads too.
    pub(crate) lists_in_lanes: u32,
}

impl Obs {
    /// Takes in what a lane's walks observed (cases run side by side).
    pub(crate) fn absorb(&mut self, lane: Obs) {
        // Every field named, so that a new one is merged too.
        let Obs {
            no_counter,
            huge,
            merged,
            replaced,
            listing,
            foreign_next,
            listing_skipped,
            accounts,
            aging,
            walks_skipped,
            unreadable,
            groups_not_overlapped,
            groups_unjudged,
            pages_partly,
            pages_unjudged,
            lists_in_lanes,
        } = lane;
        self.no_counter += no_counter;
        self.huge.0 += huge.0;
        self.huge.1 += huge.1;
        self.merged += merged;
        self.replaced += replaced;
        self.listing = self.listing.take().or(listing);
        self.foreign_next = self.foreign_next.take().or(foreign_next);
        self.listing_skipped = self.listing_skipped.or(listing_skipped);
        self.accounts = self.accounts.take().or(accounts);
        self.aging = self.aging.take().or(aging);
        self.walks_skipped |= walks_skipped;
        self.unreadable += unreadable;
        self.groups_not_overlapped += groups_not_overlapped;
        self.groups_unjudged += groups_unjudged;
        self.pages_partly += pages_partly;
        self.pages_unjudged += pages_unjudged;
        self.lists_in_lanes += lists_in_lanes;
    }

    /// The lines for the report.
    pub(crate) fn lines(&self, second_key: bool) -> Vec<String> {
        let mut out = Vec::new();
        out.push(format!(
            "integers beyond 2^53 (B5, observed): {} kept their value, {} changed",
            self.huge.0, self.huge.1
        ));
        out.push(format!(
            "PATCH of metadata: keys not sent kept (merge) {} time(s), dropped (replace) {}",
            self.merged, self.replaced
        ));
        if self.no_counter > 0 {
            out.push(format!(
                "{} created lead(s) read back without reengagement_count / \
                 reengagements_count (R1 not checked on them)",
                self.no_counter
            ));
        }
        if self.walks_skipped {
            out.push(
                "lead operations (C1, U1-U3, R1, R2, G1, B5): not checked, GET \
                 /api/leads/{id}/ is unavailable and every operation is judged by a read"
                    .to_owned(),
            );
        }
        if self.groups_not_overlapped > 0 {
            out.push(format!(
                "{} concurrent group(s) (S5) were explained but their requests were not all in \
                 flight together (not counted for S5)",
                self.groups_not_overlapped
            ));
        }
        if self.groups_unjudged > 0 {
            out.push(format!(
                "{} concurrent group(s) (S5) were not judged: throttled, or their operations \
                 already fail one at a time (those clauses report it)",
                self.groups_unjudged
            ));
        }
        if self.pages_unjudged > 0 {
            out.push(format!(
                "{} list page(s) of concurrent groups (S5) were not judged: reads lag, the list \
                 before the group could not be read, the page got no answer, or its group was \
                 not judged",
                self.pages_unjudged
            ));
        }
        if self.pages_partly > 0 {
            out.push(format!(
                "{} list page(s) of concurrent groups (S5) were judged only partly (their count \
                 and the leads they must not show): the page or the list before the group was a \
                 part of the list",
                self.pages_partly
            ));
        }
        if self.lists_in_lanes > 0 {
            out.push(format!(
                "{} list step(s) of sequences and list page(s) of concurrent groups were left \
                 out: they were drawn in lanes, where the list shows the other lanes' leads too \
                 (the first case of each property, run alone, judges its own)",
                self.lists_in_lanes
            ));
        }
        if self.unreadable > 0 {
            out.push(format!(
                "{} read(s) of the lead operations answered no lead (not 404): those \
                 operations were not judged",
                self.unreadable
            ));
        }
        out.extend(self.listing.clone());
        out.extend(self.foreign_next.clone());
        out.extend(self.listing_skipped.map(str::to_owned));
        out.extend(self.aging.clone());
        out.extend(self.accounts.clone());
        if !second_key {
            out.push(
                "A3: not checked: no second account (set SELA_SECOND_API_KEY to another \
                 account's token)"
                    .to_owned(),
            );
        }
        out
    }
}

/// The identities created at the start, and when.
#[derive(Debug, Default)]
pub(crate) struct Aging {
    pub(crate) items: Vec<(String, String)>,
    pub(crate) at: Option<Instant>,
}
