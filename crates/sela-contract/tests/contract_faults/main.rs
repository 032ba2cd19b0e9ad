//! The harness catches broken servers: for every clause of CONTRACT.md, and
//! for each part of a clause, a server that wraps the sandbox's router and
//! breaks only that part makes the report name that clause, and every other
//! clause holds (or the test names the others that must fail with it, and
//! why). A correct server with harmless differences passes every clause.
//!
//! The servers run on [`server::TestServer`], which answers requests
//! concurrently, so that races (S4) really happen.

mod common;
mod idle_close;
mod kit;
mod pins;
mod server;

mod access;
mod accounts;
mod batch;
mod external_ids;
mod fidelity;
mod harmless;
mod identity;
mod lanes;
mod linear;
mod links;
mod listing;
mod operations;
mod readback;
mod reengagement;
mod sequences;
mod settle;
mod sizes;
mod speed;
mod state;
mod transport;
mod verdicts;
mod wire;
