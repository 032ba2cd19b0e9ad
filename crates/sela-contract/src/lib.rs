#![doc = include_str!("../README.md")]

pub mod budget;
pub mod checker;
pub mod clauses;
mod config;
pub mod exchange;
pub mod failure;
pub mod har;
pub mod json;
pub mod junit;
mod progress;
pub mod regressions;
pub mod report;
mod run;
pub mod schema;
pub mod stored_failure;
pub mod strategies;
pub mod target;
pub mod throttle;

pub use clauses::Clause;
pub use config::Config;
pub use failure::Failure;
pub use report::{ClauseResult, Report};
pub use run::run;
pub use target::{ApiKey, HarnessError, Target};
