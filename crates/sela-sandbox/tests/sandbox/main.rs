//! The sandbox through the generated client, and the conformance of every
//! answer it gives with `openapi.yaml`.
//!
//! Most tests run the sandbox's router (`respond`) behind a recording httpmock
//! server ([`env::Env`]): each answer is kept, and `Env::finish` validates every
//! one against the response schema `openapi.yaml` gives for that operation and
//! status ([`conformance`]). The tests in [`running`] run `Sandbox` itself (its
//! own port, a chosen port, Debug, options), [`contract_needs`] what the
//! bulk-create contract needs of it, and one module per group of crates/sela-contract/CONTRACT.md
//! clauses the sandbox implements: [`accounts`] (A3), [`reengagement`] (R1,
//! R2, C1), [`updates`] (U1-U3), [`fidelity`] (B5), [`listing`] (L1) and
//! [`read_lag`] (G1 and the settle window's lagging reads).

mod accounts;
mod conformance;
mod contract_needs;
mod env;
mod fidelity;
mod listing;
mod operations;
mod read_lag;
mod reengagement;
mod running;
mod updates;
