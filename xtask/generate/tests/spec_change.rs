//! The maintainer's flow on a copy of the workspace, with the real binaries:
//! a new optional property in the bulk lead item schema makes `generate --check`
//! exit 1 with a diff naming it, `generate` writes `generated/`, and the whole
//! workspace then compiles with no hand-written change; a new *required*
//! property fails to compile at the builder that must take it.
//!
//! cargo runs on the copy with its own target directory under this workspace's
//! `target/` (the outer cargo holds the lock of the main one); the first run
//! checks every dependency once, later runs reuse it.
//!
//! Each test checks a copy of the workspace from cold (minutes on 2 cores), so
//! they are `#[ignore]`d in `cargo test --workspace`; CI runs them in a step of
//! their own, and so does `cargo test -p xtask-generate --test spec_change --
//! --ignored`. They need no download: `--offline` uses the crates that
//! building this workspace fetched, and they fetch nothing else.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use xtask_generate::generate::workspace_root;

/// What a copy needs to be the workspace: everything but build output and git.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A fresh copy of the workspace under `target/spec-change/NAME`.
fn workspace_copy(name: &str) -> PathBuf {
    let root = workspace_root();
    let copy = root.join("target/spec-change").join(name);
    let _ = std::fs::remove_dir_all(&copy);
    copy_tree(&root, &copy);
    copy
}

/// Inserts `insert` before the first `before` after `anchor` in the copy's spec.
fn edit_spec(root: &Path, anchor: &str, before: &str, insert: &str) {
    let path = root.join("openapi.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find(anchor).expect("anchor in openapi.yaml");
    let at = start + text[start..].find(before).expect("text after the anchor");
    std::fs::write(&path, format!("{}{insert}{}", &text[..at], &text[at..])).unwrap();
}

/// Adds `nickname` (a string) to the properties of `LeadRequest`, the bulk item.
fn add_nickname(root: &Path) {
    edit_spec(
        root,
        "    LeadRequest:\n",
        "        min_reengagement_days:\n",
        "        nickname:\n          type: string\n",
    );
}

fn generate(root: &Path, check: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask-generate"));
    cmd.arg("generate").arg("--root").arg(root);
    if check {
        cmd.arg("--check");
    }
    cmd.output().expect("xtask runs")
}

/// `cargo check` of the copy (`args` after `check`), offline, in the shared
/// spec-change target directory.
fn cargo_check(root: &Path, args: &[&str]) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // What cargo set for this test binary is not the copy's (build scripts
    // such as ring's watch CARGO_MANIFEST_DIR).
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| {
            k.starts_with("CARGO_PKG_")
                || k.starts_with("CARGO_MANIFEST_")
                || k == "CARGO_CRATE_NAME"
        }) {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(root)
        .arg("check")
        .args(["--offline", "--quiet", "--message-format", "short"])
        .args(args)
        .env(
            "CARGO_TARGET_DIR",
            workspace_root().join("target/spec-change/target"),
        )
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
#[ignore = "a cold check of a workspace copy, minutes: cargo test -p xtask-generate --test spec_change -- --ignored (CI's step 'spec change')"]
fn a_new_optional_property_needs_only_generate() {
    let root = workspace_copy("optional");
    add_nickname(&root);

    let checked = generate(&root, true);
    let stdout = text(&checked.stdout);
    assert_eq!(checked.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("+++ b/generated/sela_client.rs (from openapi.yaml)")
            && stdout
                .contains("+        pub nickname: ::std::option::Option<::std::string::String>,"),
        "a unified diff naming the property:\n{stdout}"
    );
    assert!(
        stdout.contains("field added: LeadRequest.nickname: Option<String>"),
        "{stdout}"
    );

    let generated = generate(&root, false);
    assert_eq!(
        generated.status.code(),
        Some(0),
        "{}",
        text(&generated.stdout)
    );
    assert_eq!(generate(&root, true).status.code(), Some(0));

    let built = cargo_check(&root, &["--workspace", "--all-targets"]);
    assert!(
        built.status.success(),
        "the workspace compiles after `generate`:\n{}",
        text(&built.stderr)
    );
}

#[test]
#[ignore = "a cold check of a workspace copy, minutes: cargo test -p xtask-generate --test spec_change -- --ignored (CI's step 'spec change')"]
fn a_new_required_property_names_the_builder_to_change() {
    let root = workspace_copy("required");
    add_nickname(&root);
    // The `required` line itself (its description's `Inferred:` line quotes it too).
    edit_spec(
        &root,
        "    LeadRequest:\n",
        "phone_number]\n      properties:",
        "nickname, ",
    );
    assert_eq!(generate(&root, false).status.code(), Some(0));

    let built = cargo_check(&root, &["--package", "sela-leads", "--lib"]);
    let stderr = text(&built.stderr);
    assert!(!built.status.success(), "{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.contains("missing field `nickname`"))
        .unwrap_or_else(|| panic!("no missing-field error:\n{stderr}"));
    assert!(
        error.starts_with("src/lead.rs:") && error.contains("required::LeadRequest"),
        "the error points at LeadRequest's builder in src/lead.rs: {error}"
    );
}
