#![doc = include_str!("../README.md")]

pub mod model;
mod options;
mod pagination;
mod read_lag;
mod relay;
mod running;
pub mod server;
mod state;

pub use model::{
    Action, BulkSummary, Identity, LEAD_TYPES, Model, NOT_AN_OBJECT, Rejection, identity,
    normalize_phone, validate_item,
};
pub use options::SandboxOptions;
pub use running::{Sandbox, random_token};
pub use server::{
    AccountId, Reply, RequestLog, SameTokenError, SandboxState, answer, answer_raw, respond,
};
