//! Generates the typed client, and the httpmock helpers of feature `mock`, from
//! `openapi.yaml` into `OUT_DIR` with progenitor, through `sela-leads-codegen`
//! (the one home of the generator settings). `cargo xtask generate` writes the
//! same output to `generated/` as the reviewable snapshot, and
//! `tests/generated_snapshot.rs` fails when the two differ.

use std::path::PathBuf;

const SPEC: &str = "openapi.yaml";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={SPEC}");
    let spec = std::fs::read_to_string(SPEC)
        .unwrap_or_else(|e| panic!("sela-leads build: cannot read {SPEC}: {e}"));
    let generated = sela_leads_codegen::generate(&spec).unwrap_or_else(|e| {
        panic!("sela-leads build: cannot generate the client from {SPEC}: {e}")
    });
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (file, text) in [
        (sela_leads_codegen::CLIENT_FILE, &generated.code),
        (sela_leads_codegen::HTTPMOCK_FILE, &generated.httpmock),
    ] {
        let path = out.join(file);
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("sela-leads build: cannot write {}: {e}", path.display()));
    }
}
