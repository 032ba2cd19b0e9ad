//! L1: walking `GET /api/leads/` page by page (following `next`, at least two
//! pages) lists every lead of the account exactly once, as many as `count`.
//! A walk that disagrees is walked again within the settle window. A lead the
//! walk misses counts only when `GET /api/leads/{id}/` still answers it (a
//! lead gone altogether is B3's failure, not the listing's).

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use super::{LEADS_PATH, lead_path};
use crate::checker::Harness;
use crate::checker::case::CaseOutcome;
use crate::checker::count::Listing;
use crate::report::Clause;
use crate::target::{Auth, Exchange};

/// Most run-created leads looked for in a walk.
const LOOKED_FOR: usize = 200;

/// One walk of the listing.
struct ListWalk {
    count: u64,
    page_size: usize,
    /// Each id listed, with the pages (1-based) it was on.
    seen: BTreeMap<i64, Vec<usize>>,
    pages: usize,
    listed: usize,
    problem: Option<String>,
}

impl Harness<'_> {
    /// L1 once, on the account as the run left it.
    pub(super) fn check_listing(&mut self) {
        if self.config.shared_account
            || matches!(self.count.listing, Listing::Off | Listing::Unavailable)
        {
            self.obs_ops().listing_skipped = Some(if self.config.shared_account {
                "L1: not checked (--shared-account: others may write while the list is walked)"
            } else {
                "L1: not checked (GET /api/leads/ answers no count)"
            });
            return;
        }
        if self.net.gone() || self.reporting.budget.spent() {
            return;
        }
        let own: Vec<i64> = self
            .readback
            .read_ok
            .iter()
            .map(|(id, _)| *id)
            .collect::<HashSet<_>>()
            .into_iter()
            .take(LOOKED_FOR)
            .collect();
        let mut log = Vec::new();
        let mut wait = None;
        let (walk, why) = loop {
            log.clear();
            let walk = self.walk_list(&mut log, own.len());
            let why = match &walk {
                Some(w) => self.judge_walk(w, &own, &mut log),
                None => return,
            };
            let wait = wait.get_or_insert_with(|| self.waits.start(Clause::L1));
            if why.is_none() || !wait.pause() {
                break (walk, why);
            }
        };
        if let Some(wait) = wait {
            self.waits.finish(wait, why.is_none());
        }
        let Some(walk) = walk else { return };
        let mut out = CaseOutcome::default();
        out.check(Clause::L1);
        self.obs_ops().listing = Some(format!(
            "L1: {} leads listed on {} pages of {} (count {})",
            walk.listed, walk.pages, walk.page_size, walk.count
        ));
        if let Some(why) = why {
            out.fail_labelled(Clause::L1, "walk", why, Vec::new(), log);
        }
        self.tallies.record(out, false);
    }

    /// Walks the listing with a page size that gives three or more pages;
    /// `None` when the listing cannot be walked at all (observed). `own` is
    /// how many leads of the run read back: a count below them is walked too
    /// (one lead a page), so that a wrong count shows.
    fn walk_list(&mut self, log: &mut Vec<Exchange>, own: usize) -> Option<ListWalk> {
        let first = self.net.send(
            "GET",
            &format!("{LEADS_PATH}?page_size=1"),
            Auth::Token,
            None,
        );
        log.push(super::shortened(&first));
        let Some(count) = super::super::count::count_of(&first) else {
            self.obs_ops().listing_skipped = Some(
                "L1: not checked (the first page of GET /api/leads/ answered no count at the end)",
            );
            return None;
        };
        if count < 2 && own < 2 {
            self.obs_ops().listing_skipped =
                Some("L1: not checked (the account holds fewer than two leads: no second page)");
            return None;
        }
        let page_size = count.div_ceil(3).clamp(1, 500) as usize;
        let mut walk = ListWalk {
            count,
            page_size,
            seen: BTreeMap::new(),
            pages: 0,
            listed: 0,
            problem: None,
        };
        // Enough pages for `count` at any honoured page size of 1 or more,
        // plus slack; more means `next` never ends.
        let max_pages = count as usize + 3;
        let mut path = format!("{LEADS_PATH}?page_size={page_size}");
        loop {
            let ex = self.net.send("GET", &path, Auth::Token, None);
            log.push(super::shortened(&ex));
            walk.pages += 1;
            let Some(page) = ex.response_value().filter(|_| ex.status == Some(200)) else {
                walk.problem = Some(format!(
                    "page {} ({path}) was answered {}",
                    walk.pages,
                    ex.status.unwrap_or(0)
                ));
                return Some(walk);
            };
            for lead in page
                .get("results")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = lead.get("id").and_then(Value::as_i64) {
                    walk.seen.entry(id).or_default().push(walk.pages);
                }
                walk.listed += 1;
            }
            let Some(next) = page.get("next").and_then(Value::as_str) else {
                return Some(walk);
            };
            match self.relative(next) {
                Some(p) => path = p,
                None => {
                    walk.problem = Some(format!(
                        "page {} links `next` to {next}, which is not a URL (not followed)",
                        walk.pages
                    ));
                    return Some(walk);
                }
            }
            if walk.pages >= max_pages {
                walk.problem = Some(format!(
                    "{} pages of up to {page_size} and `next` still goes on, for a count of {count}",
                    walk.pages
                ));
                return Some(walk);
            }
        }
    }

    /// Why a walk breaks L1, if it does.
    fn judge_walk(&mut self, w: &ListWalk, own: &[i64], log: &mut Vec<Exchange>) -> Option<String> {
        if let Some(p) = &w.problem {
            return Some(p.clone());
        }
        if let Some((id, pages)) = w.seen.iter().find(|(_, p)| p.len() > 1) {
            return Some(format!(
                "lead {id} is listed {} times (pages {pages:?} of {} leads each)",
                pages.len(),
                w.page_size
            ));
        }
        if w.listed as u64 != w.count {
            return Some(format!(
                "walking every page listed {} leads, but count says {}",
                w.listed, w.count
            ));
        }
        let missing: Vec<i64> = own
            .iter()
            .copied()
            .filter(|id| !w.seen.contains_key(id))
            .collect();
        for id in missing.into_iter().take(3) {
            let ex = self.net.send("GET", &lead_path(id), Auth::Token, None);
            log.push(super::shortened(&ex));
            if ex.status == Some(200) {
                return Some(format!(
                    "lead {id}, created by this run and still answered by GET /api/leads/{id}/, \
                     is on no page"
                ));
            }
        }
        None
    }
}
