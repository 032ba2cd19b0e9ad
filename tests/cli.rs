//! `sela-leads import` end to end against the in-process sandbox: one outcome
//! row per input row (unparsable rows included), the exit status, the token
//! never printed.

use sela_leads::sandbox::Sandbox;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_sela-leads");

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sela-leads-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn run(args: &[&str], token: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env_remove("SELA_BASE_URL");
    match token {
        Some(token) => command.env("SELA_API_KEY", token),
        None => command.env_remove("SELA_API_KEY"),
    };
    command.output().expect("the binary runs")
}

/// The outcomes file as rows of `[row, external_id, outcome, id, message]`.
fn outcomes(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).expect("an outcomes file");
    let headers: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(headers, ["row", "external_id", "outcome", "id", "message"]);
    reader
        .records()
        .map(|r| r.expect("a record").iter().map(str::to_owned).collect())
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn csv_with_good_bad_and_unparsable_rows() {
    let sandbox = Sandbox::start();
    let dir = scratch("mixed");
    let input = dir.join("leads.csv");
    let mut csv = b"phone_number,email,external_id,first_name,us_state,metadata\n".to_vec();
    // Chunk 1 (three rows): two new leads, then a duplicate of the first.
    csv.extend_from_slice(b"+18045550101,ana@example.com,crm-1,Ana,VA,\n");
    csv.extend_from_slice(b"(804) 555-0102,ben@example.com,crm-2,Ben,,\n");
    csv.extend_from_slice(b"+18045550101,ana@example.com,crm-3,Ana,,\n");
    // Chunk 2: two rows the server rejects, one with too few fields.
    csv.extend_from_slice(b"not-a-phone,bad@example.com,crm-4,Bad,,\n");
    csv.extend_from_slice(b"+18045550105,eve@example.com,crm-5,Eve,ZZ,\n");
    csv.extend_from_slice(b"only,two\n");
    // Chunk 3: a name that is not UTF-8, then a good row with JSON metadata.
    csv.extend_from_slice(b"+18045550107,fay@example.com,crm-7,F\xffy,,\n");
    csv.extend_from_slice(
        b"+18045550108,gus@example.com,crm-8,Gus,CA,\"{\"\"loan_amount\"\":250000}\"\n",
    );
    std::fs::write(&input, &csv).expect("the input file");
    let output = dir.join("out.csv");

    let result = run(
        &[
            "import",
            input.to_str().expect("a UTF-8 path"),
            "--base-url",
            &sandbox.base_url(),
            "--chunk-size",
            "3",
            "--concurrency",
            "2",
            "--output",
            output.to_str().expect("a UTF-8 path"),
        ],
        Some(sandbox.token()),
    );
    let (stdout, stderr) = (text(&result.stdout), text(&result.stderr));
    assert_eq!(result.status.code(), Some(1), "stderr: {stderr}");
    assert!(!stdout.contains(sandbox.token()) && !stderr.contains(sandbox.token()));

    let rows = outcomes(&output);
    let summary: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("1", "crm-1", "created"),
            ("2", "crm-2", "created"),
            ("3", "crm-3", "reengaged"),
            ("4", "crm-4", "rejected"),
            ("5", "crm-5", "rejected"),
            ("6", "", "unparsable"),
            ("7", "crm-7", "unparsable"),
            ("8", "crm-8", "created"),
        ]
    );
    // Ids for created and re-engaged rows; the duplicate points at the first lead.
    assert!(rows[0][3].parse::<i64>().is_ok());
    assert_eq!(rows[2][3], rows[0][3]);
    assert!(rows[3][3].is_empty() && rows[3][4].contains("phone_number"));
    assert!(rows[4][4].contains("us_state"), "{:?}", rows[4]);
    assert!(rows[5][4].contains("fields"), "{:?}", rows[5]);
    assert!(rows[6][4].contains("UTF-8"), "{:?}", rows[6]);
    // Only the good rows reached the server: three stored leads.
    assert_eq!(sandbox.state().lock().len(), 3);
    assert!(
        stderr.contains("3 created") && stderr.contains("2 unparsable"),
        "{stderr}"
    );
}

#[test]
fn clean_ndjson_exits_zero_and_maps_metadata() {
    let sandbox = Sandbox::start();
    let dir = scratch("ndjson");
    let input = dir.join("leads.ndjson");
    let lines: Vec<String> = (0..25)
        .map(|i| {
            format!(
                r#"{{"phone_number":"+1804555{:04}","external_id":"n-{i}","first_name":"N{i}"}}"#,
                100 + i
            )
        })
        .collect();
    std::fs::write(&input, lines.join("\n") + "\n").expect("the input file");

    let result = run(
        &[
            "import",
            input.to_str().expect("a UTF-8 path"),
            "--base-url",
            &sandbox.base_url(),
            "--chunk-size",
            "4",
        ],
        Some(sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    // The default output sits next to the input.
    let rows = outcomes(&dir.join("leads.outcomes.csv"));
    assert_eq!(rows.len(), 25);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string());
        assert_eq!(row[1], format!("n-{i}"));
        assert_eq!(row[2], "created");
        let id: i64 = row[3].parse().expect("an id");
        let stored = sandbox.state().lock().get(id).expect("a stored lead");
        assert_eq!(stored["metadata"]["first_name"], format!("N{i}"));
    }
}

#[test]
fn wrong_token_leaves_rows_not_sent_and_is_never_printed() {
    let sandbox = Sandbox::start();
    let dir = scratch("token");
    let input = dir.join("leads.csv");
    std::fs::write(&input, "phone_number,external_id\n+18045550101,t-1\n").expect("input");
    let output = dir.join("out.csv");
    let wrong = "wrong-token-7f3a9c";
    let result = run(
        &[
            "import",
            input.to_str().expect("a UTF-8 path"),
            "--base-url",
            &sandbox.base_url(),
            "-o",
            output.to_str().expect("a UTF-8 path"),
        ],
        Some(wrong),
    );
    assert_eq!(result.status.code(), Some(1));
    let all = format!(
        "{}{}{}",
        text(&result.stdout),
        text(&result.stderr),
        std::fs::read_to_string(&output).expect("the outcomes")
    );
    assert!(!all.contains(wrong), "the token was printed");
    let rows = outcomes(&output);
    assert_eq!(rows[0][2], "not_sent");
    assert!(rows[0][4].contains("401"), "{:?}", rows[0]);
    assert!(sandbox.state().lock().is_empty());
}

#[test]
fn missing_token_or_file_is_a_usage_error() {
    let dir = scratch("usage");
    let input = dir.join("leads.csv");
    std::fs::write(&input, "phone_number\n+18045550101\n").expect("input");
    let path = input.to_str().expect("a UTF-8 path");
    let result = run(&["import", path, "--base-url", "http://127.0.0.1:9"], None);
    assert_eq!(result.status.code(), Some(2));
    assert!(text(&result.stderr).contains("SELA_API_KEY"));

    let missing = dir.join("missing.csv");
    let result = run(
        &["import", missing.to_str().expect("a UTF-8 path")],
        Some("t"),
    );
    assert_eq!(result.status.code(), Some(2));
    let result = run(&["import", path, "--chunk-size", "0"], Some("t"));
    assert_eq!(result.status.code(), Some(2));
}
