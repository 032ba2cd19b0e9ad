//! The crate compiles the client `build.rs` writes to `OUT_DIR`; this proves that
//! output is byte-identical to the reviewed snapshot in `generated/`.

/// What the crate was built from.
const BUILT: &str = include_str!(concat!(env!("OUT_DIR"), "/sela_client.rs"));
/// What review saw, written by `cargo xtask generate`.
const SNAPSHOT: &str = include_str!("../generated/sela_client.rs");

#[test]
fn build_output_is_the_snapshot() {
    if BUILT != SNAPSHOT {
        let line = BUILT
            .lines()
            .zip(SNAPSHOT.lines())
            .position(|(built, snapshot)| built != snapshot)
            .unwrap_or_else(|| BUILT.lines().count().min(SNAPSHOT.lines().count()))
            + 1;
        panic!(
            "the client built from openapi.yaml differs from generated/sela_client.rs \
             (first at line {line}); run `cargo xtask generate` and commit the snapshot"
        );
    }
}
