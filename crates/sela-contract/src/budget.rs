//! The time budget of a run (`--time-budget SECS`), shared out: each part of
//! the run (the size probe, every property, the formats re-send) gets an
//! equal share of what is left of the budget when it starts, so the slices add
//! up to the budget and a slow target still gets every property (and every
//! clause) checked. Past its slice no new case starts; shrinking what already
//! failed stops once the whole budget has passed, so a run ends within the
//! budget plus one case.

use std::time::{Duration, Instant};

use serde::Serialize;

/// A run's deadline, if it has one, and how many cases it kept from starting.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: Option<Duration>,
    started: Instant,
    /// Slices not begun yet.
    parts_left: u32,
    /// The end of the current slice (the whole budget before any slice).
    deadline: Option<Instant>,
    not_started: u32,
}

impl Budget {
    /// A budget of `limit` from now (`None`: no limit), shared out in `parts`
    /// slices.
    pub(crate) fn start(limit: Option<Duration>, parts: u32) -> Self {
        let started = Instant::now();
        Budget {
            limit,
            started,
            parts_left: parts.max(1),
            deadline: limit.map(|l| started + l),
            not_started: 0,
        }
    }

    /// Starts the next slice: an equal share of what is left of the budget
    /// among the slices not begun yet (the last one gets all that is left), so
    /// no slice ends after the budget does. Cases start until it ends.
    pub(crate) fn begin_slice(&mut self) {
        let Some(limit) = self.limit else { return };
        let end = self.started + limit;
        let now = Instant::now();
        let left = end.saturating_duration_since(now);
        let parts = self.parts_left.max(1);
        self.parts_left = parts.saturating_sub(1);
        self.deadline = Some(now + left / parts);
    }

    /// The end of the current slice, if the run has a budget.
    #[cfg(test)]
    pub(crate) fn slice_end(&self) -> Option<Instant> {
        self.deadline
    }

    /// True once the whole budget has passed.
    pub(crate) fn spent(&self) -> bool {
        self.limit.is_some_and(|l| self.started.elapsed() >= l)
    }

    /// True when the current slice is spent; counts the case that will not start.
    pub(crate) fn refuse_case(&mut self) -> bool {
        let spent = self.deadline.is_some_and(|d| Instant::now() >= d);
        if spent {
            self.not_started += 1;
        }
        spent
    }

    /// What the report says about the budget.
    pub(crate) fn usage(&self) -> Option<BudgetUse> {
        self.limit.map(|limit| BudgetUse {
            limit_secs: limit.as_secs_f64(),
            spent: self.not_started > 0,
            cases_not_started: self.not_started,
        })
    }
}

/// How a run used its time budget.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BudgetUse {
    /// The budget, in seconds.
    pub limit_secs: f64,
    /// True when the budget ran out before every planned case started.
    pub spent: bool,
    /// Planned cases that did not start because the budget was spent.
    pub cases_not_started: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_budget_refuses_cases_and_counts_them() {
        let mut none = Budget::start(None, 1);
        assert!(!none.refuse_case());
        assert_eq!(none.usage(), None);
        let mut zero = Budget::start(Some(Duration::ZERO), 1);
        assert!(zero.refuse_case());
        assert!(zero.refuse_case());
        let usage = zero.usage().unwrap();
        assert!(usage.spent);
        assert_eq!(usage.cases_not_started, 2);
        let mut long = Budget::start(Some(Duration::from_secs(3600)), 1);
        assert!(!long.refuse_case());
        assert!(!long.usage().unwrap().spent);
        assert!(!long.spent());
    }

    #[test]
    fn slices_share_the_budget_out_and_end_with_it() {
        let limit = Duration::from_secs(3600);
        let mut b = Budget::start(Some(limit), 7);
        let end = b.started + limit;
        for part in 0..7 {
            b.begin_slice();
            let slice_end = b.slice_end().expect("a budget has slices");
            assert!(slice_end <= end, "slice {part} ends after the budget");
            assert!(!b.refuse_case(), "slice {part} of about 8 minutes is spent");
        }
        // The last slice takes what is left: it ends with the budget (up to
        // the rounding of one division).
        let last = b.slice_end().unwrap();
        assert!(end - last < Duration::from_millis(1), "{:?}", end - last);
        // More slices than planned get nothing beyond the budget either.
        b.begin_slice();
        assert!(b.slice_end().unwrap() <= end);
        let mut zero = Budget::start(Some(Duration::ZERO), 7);
        zero.begin_slice();
        assert!(zero.refuse_case());
        assert!(zero.spent());
        let mut none = Budget::start(None, 7);
        none.begin_slice();
        assert!(!none.refuse_case() && !none.spent());
    }
}
