//! The `sela-leads` command-line tool (being written).

fn main() {}
