//! The sandbox through the generated client, and the conformance of every
//! answer it gives with `openapi.yaml`.
//!
//! Most tests run the sandbox's router (`respond`) behind a recording httpmock
//! server ([`env::Env`]): each answer is kept, and `Env::finish` validates every
//! one against the response schema `openapi.yaml` gives for that operation and
//! status ([`conformance`]). The tests in [`running`] run `Sandbox` itself (its
//! own port, a chosen port, Debug, options), and [`contract_needs`] what the
//! bulk-create contract needs of it.

mod conformance;
mod contract_needs;
mod env;
mod operations;
mod running;
