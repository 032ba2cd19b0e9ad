//! Files as CRMs and spreadsheets really export them, made here (no
//! customer data): HubSpot and Salesforce headers with no --map, a phone and
//! a mobile column, full state names, Windows-1252 text, .xlsx workbooks,
//! and phone numbers a spreadsheet damaged.

use super::*;
use rust_xlsxwriter::{Format as CellFormat, Workbook};

/// The stored lead of an outcome row (`created` or `reengaged`, with an id).
fn stored(sandbox: &Sandbox, row: &[String]) -> serde_json::Value {
    let id = row[3]
        .parse()
        .unwrap_or_else(|_| panic!("an id in {row:?}"));
    sandbox.state().lock().get(id).expect("a stored lead")
}

#[test]
fn hubspot_export_imports_with_no_map_mobile_first_and_state_codes() {
    let sandbox = Sandbox::start();
    let (dir, input) = input_file(
        "hubspot",
        "hubspot-contacts.csv",
        "Record ID,First Name,Email,Phone Number,Mobile Phone Number,State/Region,Postal Code\n\
         101,Ana,ana@example.com,(804) 555-0101,(804) 555-0191,Virginia,23220\n\
         102,Ben,ben@example.com,804-555-0102,,NEW YORK,10001\n\
         103,Cy,cy@example.com,,+1 804 555 0193,va,\n",
    );
    let result = import(&input, &sandbox.base_url(), &[], Some(sandbox.token()));
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("`Mobile Phone Number` -> phone_number (choice 1 of 2")
            && stderr.contains("`Record ID` -> external_id")
            && stderr.contains("`Postal Code` -> metadata.zip")
            && stderr.contains("input read as UTF-8"),
        "{stderr}"
    );
    let rows = outcomes(&dir.join("hubspot-contacts.outcomes.csv"));
    assert_eq!(
        columns(&rows, [1, 2]),
        [["101", "created"], ["102", "created"], ["103", "created"]]
    );
    let (ana, ben, cy) = (
        stored(&sandbox, &rows[0]),
        stored(&sandbox, &rows[1]),
        stored(&sandbox, &rows[2]),
    );
    // Both numbers: the mobile is called; the other is kept in metadata.
    assert_eq!(ana["phone_number"], "+18045550191");
    assert_eq!(ana["metadata"]["Phone Number"], "(804) 555-0101");
    assert_eq!(
        (ana["us_state"].as_str(), ana["metadata"]["state"].as_str()),
        (Some("VA"), Some("Virginia"))
    );
    assert_eq!(
        (ana["external_id"].as_str(), ana["metadata"]["zip"].as_str()),
        (Some("101"), Some("23220"))
    );
    // Only a phone: that one.
    assert_eq!(
        (ben["phone_number"].as_str(), ben["us_state"].as_str()),
        (Some("+18045550102"), Some("NY"))
    );
    assert_eq!(cy["phone_number"], "+18045550193");
    assert_eq!(cy["us_state"], "VA");
    assert!(
        cy["metadata"].get("state").is_none(),
        "a code is not a name: {cy}"
    );
}

#[test]
fn an_excel_csv_saved_on_windows_is_read_as_windows_1252() {
    let sandbox = Sandbox::start();
    // A Salesforce report saved by Excel as "CSV (Comma delimited)": Windows-1252.
    let mut bytes =
        b"Lead ID,First Name,Last Name,Phone,Mobile,Email,State/Province,Zip/Postal Code\r\n"
            .to_vec();
    bytes.extend_from_slice(
        b"00Q1,Jos\xe9,N\xfa\xf1ez,+18045550111,,jose@example.com,Virginia,23220\r\n",
    );
    bytes.extend_from_slice(
        b"00Q2,Ren\xe9e,Fran\xe7ois,,+18045550112,renee@example.com,California,90001\r\n",
    );
    let (dir, input) = input_file("cp1252", "salesforce-report.csv", &bytes);
    let result = import(&input, &sandbox.base_url(), &[], Some(sandbox.token()));
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("input read as windows-1252 (detected"),
        "{stderr}"
    );
    let rows = outcomes(&dir.join("salesforce-report.outcomes.csv"));
    assert_eq!(
        columns(&rows, [1, 2]),
        [["00Q1", "created"], ["00Q2", "created"]]
    );
    let jose = stored(&sandbox, &rows[0]);
    assert_eq!(
        (
            jose["metadata"]["first_name"].as_str(),
            jose["metadata"]["last_name"].as_str()
        ),
        (Some("José"), Some("Núñez"))
    );
    assert_eq!(jose["us_state"], "VA");
    let renee = stored(&sandbox, &rows[1]);
    assert_eq!(
        (
            renee["metadata"]["first_name"].as_str(),
            renee["phone_number"].as_str()
        ),
        (Some("Renée"), Some("+18045550112"))
    );

    // --encoding overrides the guess (here wrongly, to show it is obeyed).
    let output = dir.join("forced.csv");
    let result = import(
        &input,
        &sandbox.base_url(),
        &[
            "--encoding",
            "utf-8",
            "--output",
            path(&output),
            "--dry-run",
        ],
        None,
    );
    assert!(
        text(&result.stderr).contains("input read as UTF-8 (--encoding)"),
        "{}",
        text(&result.stderr)
    );
    assert_eq!(
        columns(&outcomes(&output), [2]),
        [["unparsable"], ["unparsable"]]
    );
}

/// A workbook with a decoy first sheet and a `Leads` sheet whose phones are number cells.
fn workbook(path: &Path) {
    let mut book = Workbook::new();
    let notes = book.add_worksheet();
    notes.set_name("Notes").expect("a sheet name");
    notes
        .write_string(0, 0, "exported from the CRM")
        .expect("a cell");
    let leads = book.add_worksheet();
    leads.set_name("Leads").expect("a sheet name");
    for (col, header) in [
        "Record ID",
        "First Name",
        "Phone",
        "Mobile",
        "State",
        "Zip Code",
    ]
    .iter()
    .enumerate()
    {
        leads
            .write_string(0, col as u16, *header)
            .expect("a header");
    }
    // Shown as 8.05E+09 by its format, stored with every digit.
    let scientific = CellFormat::new().set_num_format("0.00E+00");
    leads.write_number(1, 0, 5001.0).expect("a cell");
    leads.write_string(1, 1, "Ana").expect("a cell");
    leads
        .write_number_with_format(1, 2, 8_045_550_121.0, &scientific)
        .expect("a cell");
    leads.write_string(1, 4, "Virginia").expect("a cell");
    leads.write_number(1, 5, 23220.0).expect("a cell");
    leads.write_number(2, 0, 5002.0).expect("a cell");
    leads.write_string(2, 1, "Ben").expect("a cell");
    leads.write_number(2, 2, 18_045_550_122.0).expect("a cell");
    leads.write_string(2, 3, "(804) 555-0192").expect("a cell");
    leads.write_string(2, 4, "TX").expect("a cell");
    book.save(path).expect("the workbook");
}

#[test]
fn an_xlsx_workbook_imports_its_sheet_with_phone_digits_intact() {
    let sandbox = Sandbox::start();
    let dir = scratch("xlsx");
    let input = dir.join("export.xlsx");
    workbook(&input);
    // The first sheet has no phone column: refused, nothing sent.
    let result = import(&input, &sandbox.base_url(), &[], Some(sandbox.token()));
    assert_eq!(result.status.code(), Some(2), "{}", text(&result.stderr));
    assert!(
        text(&result.stderr).contains("no phone number column"),
        "{}",
        text(&result.stderr)
    );
    // A sheet that is not there is named with the ones that are.
    let result = import(
        &input,
        &sandbox.base_url(),
        &["--sheet", "Contacts"],
        Some(sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(2));
    assert!(
        text(&result.stderr).contains("`Notes`, `Leads`"),
        "{}",
        text(&result.stderr)
    );
    assert!(sandbox.state().lock().is_empty());

    let result = import(
        &input,
        &sandbox.base_url(),
        &["--sheet", "Leads"],
        Some(sandbox.token()),
    );
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("input read as sheet `Leads`"), "{stderr}");
    let rows = outcomes(&dir.join("export.outcomes.csv"));
    assert_eq!(
        columns(&rows, [1, 2]),
        [["5001", "created"], ["5002", "created"]]
    );
    let ana = stored(&sandbox, &rows[0]);
    assert_eq!(ana["phone_number"], "+18045550121");
    assert_eq!(
        (ana["us_state"].as_str(), ana["metadata"]["zip"].as_str()),
        (Some("VA"), Some("23220"))
    );
    let ben = stored(&sandbox, &rows[1]);
    assert_eq!(
        ben["phone_number"], "+18045550192",
        "the mobile first: {ben}"
    );
    assert_eq!(ben["metadata"]["Phone"], "18045550122");
}

#[test]
fn phones_a_spreadsheet_damaged_are_refused_with_how_to_re_export() {
    let counted = counted_sandbox();
    let (dir, input) = input_file(
        "damaged",
        "leads.csv",
        "Phone,Email\n8.05E+09,a@example.com\n447911123456,b@example.com\n8045550131.0,c@example.com\n+18045550132,d@example.com\n",
    );
    let result = import(
        &input,
        &counted.sandbox.base_url(),
        &[],
        Some(counted.sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    let rows = outcomes(&dir.join("leads.outcomes.csv"));
    assert_eq!(
        columns(&rows, [2]),
        [["invalid"], ["invalid"], ["invalid"], ["created"]]
    );
    for (row, says) in rows
        .iter()
        .zip(["scientific notation", "dropped", "decimal number"])
    {
        assert!(
            row[4].starts_with("phone_number: ")
                && row[4].contains(says)
                && row[4].contains("Text"),
            "{row:?}"
        );
    }
    // Only the good row was sent.
    assert_eq!(counted.created.load(Ordering::SeqCst), 1);
    assert_eq!(counted.sandbox.state().lock().len(), 1);
}
