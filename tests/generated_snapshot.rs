//! The client `build.rs` compiles and the reviewable snapshot in `generated/`
//! are the same text: both come from `sela-leads-codegen` over `openapi.yaml`,
//! so a spec edit without `cargo xtask generate` (or a snapshot edited by hand)
//! fails here with the first line that differs.

fn first_difference(built: &str, snapshot: &str) -> Option<(usize, String, String)> {
    let mut built_lines = built.lines();
    let mut snapshot_lines = snapshot.lines();
    for number in 1.. {
        match (built_lines.next(), snapshot_lines.next()) {
            (None, None) => return None,
            (a, b) if a == b => continue,
            (a, b) => {
                let show = |l: Option<&str>| l.unwrap_or("<end of file>").to_owned();
                return Some((number, show(a), show(b)));
            }
        }
    }
    unreachable!()
}

fn assert_same(file: &str, built: &str, snapshot: &str) {
    if let Some((line, a, b)) = first_difference(built, snapshot) {
        panic!(
            "generated/{file} differs from what build.rs compiled, at line {line}:\n  \
             build.rs: {a}\n  generated/: {b}\nrun `cargo xtask generate` and commit generated/"
        );
    }
}

#[test]
fn the_compiled_client_is_the_snapshot() {
    assert_same(
        "sela_client.rs",
        include_str!(concat!(env!("OUT_DIR"), "/sela_client.rs")),
        include_str!("../generated/sela_client.rs"),
    );
}

#[test]
fn the_compiled_httpmock_helpers_are_the_snapshot() {
    assert_same(
        "sela_httpmock.rs",
        include_str!(concat!(env!("OUT_DIR"), "/sela_httpmock.rs")),
        include_str!("../generated/sela_httpmock.rs"),
    );
}

#[test]
fn a_changed_line_is_found() {
    assert_eq!(
        first_difference("a\nb\nc", "a\nx\nc"),
        Some((2, "b".to_owned(), "x".to_owned()))
    );
    assert_eq!(
        first_difference("a\nb", "a"),
        Some((2, "b".to_owned(), "<end of file>".to_owned()))
    );
    assert_eq!(first_difference("a\nb", "a\nb"), None);
}
