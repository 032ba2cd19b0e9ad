//! The time budget of a run (`--time-budget SECS`): once it is spent no new
//! test case starts, while shrinking what already failed still finishes, so
//! every failure found keeps its minimal example.

use std::time::{Duration, Instant};

use serde::Serialize;

/// A run's deadline, if it has one, and how many cases it kept from starting.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: Option<Duration>,
    deadline: Option<Instant>,
    not_started: u32,
}

impl Budget {
    /// A budget of `limit` from now (`None`: no limit).
    pub(crate) fn start(limit: Option<Duration>) -> Self {
        Budget {
            limit,
            deadline: limit.map(|l| Instant::now() + l),
            not_started: 0,
        }
    }

    /// True when the budget is spent; counts the case that will not start.
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
    }
}
