//! The bulk-create contract harness (in progress).
