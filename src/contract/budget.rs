//! The time budget of a run (`--time-budget SECS`), shared out: the size probe
//! and each property get an equal slice of it, counted from when they start,
//! so a slow target still gets every property (and every clause) checked.
//! Past its slice no new case starts; shrinking what already failed goes on
//! until twice the budget has passed, so the run's time stays bounded.

use std::time::{Duration, Instant};

use serde::Serialize;

/// A run's deadline, if it has one, and how many cases it kept from starting.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: Option<Duration>,
    started: Instant,
    /// The end of the current slice (the whole budget before any slice).
    deadline: Option<Instant>,
    not_started: u32,
}

impl Budget {
    /// A budget of `limit` from now (`None`: no limit).
    pub(crate) fn start(limit: Option<Duration>) -> Self {
        let started = Instant::now();
        Budget {
            limit,
            started,
            deadline: limit.map(|l| started + l),
            not_started: 0,
        }
    }

    /// Starts a slice of `1 / parts` of the budget from now: cases start until
    /// it ends.
    pub(crate) fn begin_slice(&mut self, parts: u32) {
        if let Some(limit) = self.limit {
            self.deadline = Some(Instant::now() + limit / parts.max(1));
        }
    }

    /// True once twice the budget has passed: shrinking stops there.
    pub(crate) fn overrun(&self) -> bool {
        self.limit
            .is_some_and(|l| self.started.elapsed() >= l.saturating_mul(2))
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
        let mut none = Budget::start(None);
        assert!(!none.refuse_case());
        assert_eq!(none.usage(), None);
        let mut zero = Budget::start(Some(Duration::ZERO));
        assert!(zero.refuse_case());
        assert!(zero.refuse_case());
        let usage = zero.usage().unwrap();
        assert!(usage.spent);
        assert_eq!(usage.cases_not_started, 2);
        let mut long = Budget::start(Some(Duration::from_secs(3600)));
        assert!(!long.refuse_case());
        assert!(!long.usage().unwrap().spent);
        assert!(!long.overrun());
    }

    #[test]
    fn slices_share_the_budget_out() {
        let mut b = Budget::start(Some(Duration::from_secs(3600)));
        b.begin_slice(5);
        assert!(!b.refuse_case(), "a slice of 12 minutes is not spent");
        let mut zero = Budget::start(Some(Duration::ZERO));
        zero.begin_slice(5);
        assert!(zero.refuse_case());
        assert!(zero.overrun());
        let mut none = Budget::start(None);
        none.begin_slice(5);
        assert!(!none.refuse_case() && !none.overrun());
    }
}
