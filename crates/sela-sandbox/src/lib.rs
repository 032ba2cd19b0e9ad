//! The stateful local sandbox of the leads API.
//!
//! Three layers:
//!
//! - [`model`]: the reference model of one account's documented semantics,
//!   with no HTTP in it (de-duplication into `reengaged` with the re-engagement
//!   counter and time, stored leads, pagination, PATCH, PUT-by-match, an
//!   identity index that follows updates) over the validation rules of
//!   [`sela_leads::rules`] (phone normalisation, identity, field checks), which the
//!   contract harness and the CLI use too.
//! - [`server`]: one router ([`respond`]) over a [`SandboxState`]: one or two
//!   accounts (a token and an `Arc<Mutex<Model>>` each; ids from one counter, so
//!   they never collide), served by a single catch-all mock of an in-process
//!   httpmock [`httpmock::MockServer`], with Token authentication and Django
//!   REST framework style errors. The token picks the account; another
//!   account's lead is 404. One lock over the account's model per request:
//!   concurrent requests never create an identity twice and each re-engagement
//!   counts once.
//! - [`SandboxOptions`]: optional harmless real-world behaviour (a bulk size
//!   limit answered 400 or 413, a `429` with `Retry-After` every N requests,
//!   reads that lag writes).
//!
//! ```no_run
//! use sela_sandbox::Sandbox;
//!
//! let sandbox = Sandbox::start(); // two accounts
//! let base_url = sandbox.base_url(); // http://127.0.0.1:PORT/
//! let header = format!("Token {}", sandbox.token());
//! let other = sandbox.second_token(); // Some(token of the second account)
//! # let _ = (base_url, header, other);
//! ```

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
