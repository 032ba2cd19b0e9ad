#![doc = include_str!("../README.md")]

mod aliases;
pub mod columns;
mod damage;
pub mod encoding;
pub mod inflight;
pub mod input;
pub mod journal;
mod json;
pub mod lock;
mod reading;
pub mod reconcile;
mod records;
pub mod report;
pub mod run;
pub mod sheet;
