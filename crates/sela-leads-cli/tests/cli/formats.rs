//! Input formats: CSV with bad rows, NDJSON, spreadsheet exports, JSON arrays, headerless files.

use super::*;

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
    // Chunk 2: two rows the local checks refuse, one with too few fields.
    csv.extend_from_slice(b"not-a-phone,bad@example.com,crm-4,Bad,,\n");
    csv.extend_from_slice(b"+18045550105,eve@example.com,crm-5,Eve,ZZ,\n");
    csv.extend_from_slice(b"only,two\n");
    // Chunk 3: a name that is not UTF-8 (read as UTF-8 by --encoding: left
    // to detection, the file would be read as Windows-1252), then a good row
    // with JSON metadata.
    csv.extend_from_slice(b"+18045550107,fay@example.com,crm-7,F\xffy,,\n");
    csv.extend_from_slice(
        b"+18045550108,gus@example.com,crm-8,Gus,CA,\"{\"\"loan_amount\"\":250000}\"\n",
    );
    std::fs::write(&input, &csv).expect("the input file");
    let output = dir.join("out.csv");

    let result = import(
        &input,
        &sandbox.base_url(),
        &[
            "--chunk-size",
            "3",
            "--concurrency",
            "2",
            "--output",
            path(&output),
            "--encoding",
            "utf-8",
        ],
        Some(sandbox.token()),
    );
    let (stdout, stderr) = (text(&result.stdout), text(&result.stderr));
    assert_eq!(result.status.code(), Some(1), "stderr: {stderr}");
    assert!(!stdout.contains(sandbox.token()) && !stderr.contains(sandbox.token()));

    let rows = outcomes(&output);
    let summary = columns(&rows, [0, 1, 2]);
    assert_eq!(
        summary,
        [
            ["1", "crm-1", "created"],
            ["2", "crm-2", "created"],
            ["3", "crm-3", "reengaged"],
            ["4", "crm-4", "invalid"],
            ["5", "crm-5", "invalid"],
            ["6", "", "unparsable"],
            ["7", "crm-7", "unparsable"],
            ["8", "crm-8", "created"],
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

    let result = import(
        &input,
        &sandbox.base_url(),
        &["--chunk-size", "4"],
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
fn spreadsheet_export_with_bom_crlf_and_spaced_headers_imports() {
    let sandbox = Sandbox::start();
    let (dir, input) = input_file("spreadsheet", "export.csv", b"\xef\xbb\xbfPhone Number,Email,First Name\r\n(804) 555-0101,ana@example.com,Ana\r\n+18045550102,ben@example.com,Ben\r\n");
    let result = import(&input, &sandbox.base_url(), &[], Some(sandbox.token()));
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    // The summary says where each column went.
    assert!(
        stderr.contains("`Phone Number` -> phone_number")
            && stderr.contains("`First Name` -> metadata.first_name"),
        "{stderr}"
    );
    let rows = outcomes(&dir.join("export.outcomes.csv"));
    assert_eq!(rows.len(), 2);
    for (row, name) in rows.iter().zip(["Ana", "Ben"]) {
        assert_eq!(row[2], "created", "{row:?}");
        let stored = sandbox
            .state()
            .lock()
            .get(row[3].parse().expect("an id"))
            .expect("a stored lead");
        assert_eq!(stored["metadata"]["first_name"], name);
        assert!(
            stored["phone_number"]
                .as_str()
                .is_some_and(|p| p.starts_with("+1804555010"))
        );
    }
}

#[test]
fn headerless_file_is_refused_and_nothing_is_sent() {
    let counted = counted_sandbox();
    let (dir, input) = input_file(
        "headerless",
        "leads.csv",
        "+18045550101,ana@example.com\n+18045550102,ben@example.com\n",
    );
    let base = counted.sandbox.base_url();
    let result = import(&input, &base, &[], Some(counted.sandbox.token()));
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--no-header") && stderr.contains("--columns"),
        "{stderr}"
    );
    // A header without a phone column is refused the same way, naming the columns.
    std::fs::write(&input, "Name,Email\nAna,ana@example.com\n").expect("input");
    let result = import(&input, &base, &[], Some(counted.sandbox.token()));
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`Name`, `Email`") && stderr.contains("--map"),
        "{stderr}"
    );
    assert_eq!(counted.requests.load(Ordering::SeqCst), 0);
    assert!(counted.sandbox.state().lock().is_empty());
    assert!(!dir.join("leads.outcomes.csv").exists());

    // The way out: name the columns.
    std::fs::write(&input, "+18045550101,ana@example.com\n").expect("input");
    let result = import(
        &input,
        &base,
        &["--no-header", "--columns", "phone,email"],
        Some(counted.sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    assert_eq!(outcomes(&dir.join("leads.outcomes.csv"))[0][2], "created");
}

#[test]
fn json_array_imports_and_an_unknown_extension_is_refused() {
    let sandbox = Sandbox::start();
    let (dir, input) = input_file(
        "json",
        "leads.json",
        "\u{feff}[\r\n {\"Phone\": \"+18045550101\", \"CRM ID\": \"j-1\", \"First Name\": \"Ana\"},\r\n \"oops\",\r\n {\"mobile\": \"+18045550103\"}\r\n]\r\n",
    );
    let result = import(&input, &sandbox.base_url(), &[], Some(sandbox.token()));
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    let rows = outcomes(&dir.join("leads.outcomes.csv"));
    let got = columns(&rows, [0, 1, 2]);
    assert_eq!(
        got,
        [
            ["1", "j-1", "created"],
            ["2", "", "unparsable"],
            ["3", "", "created"]
        ]
    );
    assert_eq!(sandbox.state().lock().len(), 2);

    let odd = dir.join("leads.dat");
    std::fs::write(&odd, "phone\n+18045550104\n").expect("input");
    let result = run(
        &["import", path(&odd), "--base-url", &sandbox.base_url()],
        Some(sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(2));
    assert!(
        text(&result.stderr).contains("--format"),
        "{}",
        text(&result.stderr)
    );
    assert_eq!(sandbox.state().lock().len(), 2);
}
