//! Proptest strategies for bulk-create items and batches, exported for users' own
//! tests.
//!
//! Strategies generate [`ItemSpec`]s: an item's shape and category with its
//! identity left as a [`Slot`]. [`Identities::render`] turns a batch of specs into
//! JSON, giving every `Slot::Fresh(k)` of the batch a brand-new fictional identity
//! (so a batch re-sent while shrinking is as new as the first time) and every
//! `Slot::Pooled(j)` the same run-wide identity (so identities repeat across
//! batches). Numbers are fictional (NANP `555-0100`..`555-0199` under valid area
//! codes) and e-mails are `...@example.com` with a per-run random tag.
//!
//! For concrete JSON in your own property tests, [`rendered_batch`] does both
//! steps:
//!
//! ```no_run
//! use proptest::prelude::*;
//! use sela_contract::strategies::{Category, Options, rendered_batch};
//!
//! proptest! {
//!     #[test]
//!     fn importer_keeps_one_outcome_per_lead(batch in rendered_batch(&Options::default(), "mytag")) {
//!         let leads: Vec<_> = batch.iter().map(|item| item.value.clone()).collect();
//!         let must_fail = batch.iter().filter(|i| i.category == Category::Invalid).count();
//!         // ... send `leads`, then check one result per item and `must_fail` errors.
//!         prop_assert!(leads.len() >= must_fail);
//!     }
//! }
//! ```

mod cases;
mod identities;
mod mixed;
mod odd;
mod spec;
mod valid;

pub use cases::*;
pub use identities::Identities;
pub use mixed::{any_item, batch, rendered_batch};
pub use odd::*;
pub use spec::*;
pub use valid::{fresh_valid_batch, slot, valid_item, valid_item_in};
