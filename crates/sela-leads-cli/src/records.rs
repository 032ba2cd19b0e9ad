//! Tabular rows (CSV, TSV, a spreadsheet's sheet) as leads: the header
//! checked and mapped once, each record mapped lazily to a lead object.

use crate::columns::{Target, state_value};
use crate::reading::{InputError, InputOptions, RowKey, Rows};
use sela_leads::import::Lead;
use serde_json::{Map, Value};
use std::io::Read;

/// Each column and where its values go.
pub type Columns = Vec<(String, Target)>;

/// Rows of a CSV/TSV file, read lazily, with the column mapping.
pub(super) fn csv_rows<R: Read + Send + 'static>(
    reader: R,
    delimiter: u8,
    options: &InputOptions,
) -> Result<(Rows, Columns), InputError> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .delimiter(delimiter)
        .has_headers(options.columns.is_none())
        .from_reader(reader);
    let headers: Vec<String> = match &options.columns {
        Some(columns) => columns.iter().map(|c| c.trim().to_owned()).collect(),
        None => csv
            .byte_headers()
            .map_err(|e| InputError::Header(e.to_string()))?
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_owned())
            .collect(),
    };
    mapped_rows(headers, csv.into_byte_records(), options)
}

/// Rows of a sheet (see [`crate::sheet`]), with the column mapping.
pub(super) fn sheet_rows(
    mut rows: Vec<Vec<String>>,
    options: &InputOptions,
) -> Result<(Rows, Columns), InputError> {
    let headers = match &options.columns {
        Some(columns) => columns.iter().map(|c| c.trim().to_owned()).collect(),
        None if rows.is_empty() => Vec::new(),
        None => rows
            .remove(0)
            .into_iter()
            .map(|h| h.trim().to_owned())
            .collect(),
    };
    let records = rows
        .into_iter()
        .map(|row| Ok::<_, csv::Error>(csv::ByteRecord::from(row)));
    mapped_rows(headers, records, options)
}

/// Checks the header and maps each record lazily. A row that cannot be
/// parsed (wrong field count, bad UTF-8, bad `metadata` JSON) is a
/// [`Lead::Invalid`] at its place; a read error ends the input after one.
fn mapped_rows<I>(
    headers: Vec<String>,
    mut records: I,
    options: &InputOptions,
) -> Result<(Rows, Columns), InputError>
where
    I: Iterator<Item = Result<csv::ByteRecord, csv::Error>> + Send + 'static,
{
    if headers.iter().all(String::is_empty) {
        return Err(InputError::Header("the file is empty".to_owned()));
    }
    if options.columns.is_none()
        && let Some(cell) = headers.iter().find(|h| looks_like_data(h))
    {
        return Err(InputError::HeaderLooksLikeData { cell: cell.clone() });
    }
    let targets = options.map.resolve(&headers)?;
    if !targets.iter().any(|t| t.field() == Some("phone_number")) {
        let found = headers
            .iter()
            .map(|h| format!("`{h}`"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(InputError::NoPhoneColumn { found });
    }
    let columns: Columns = headers.iter().cloned().zip(targets.clone()).collect();
    let mut row = 0_u64;
    let mut failed = false;
    let rows = Box::new(std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let record = records.next()?;
        row += 1;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                // An I/O error leaves the reader's position unknown: stop here.
                failed = error.is_io_error();
                let key = RowKey {
                    row,
                    external_id: None,
                };
                return Some((key, Lead::Invalid(format!("unreadable row: {error}"))));
            }
        };
        let (external_id, lead) = match map_record(&headers, &targets, &record) {
            Ok(value) => {
                let external_id = value
                    .get("external_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (external_id, Lead::Json(value))
            }
            Err(message) => {
                // The external id still names the row, if it can be read.
                let external_id = targets
                    .iter()
                    .zip(record.iter())
                    .find(|(t, cell)| t.field() == Some("external_id") && !cell.is_empty())
                    .map(|(_, cell)| String::from_utf8_lossy(cell).trim().to_owned());
                (external_id, Lead::Invalid(message))
            }
        };
        Some((RowKey { row, external_id }, lead))
    }));
    Ok((rows, columns))
}

/// One record as a lead object; empty cells are left out. Of several columns
/// for one field ([`Target::Choice`]), the first non-empty by preference
/// fills it and the others' cells go to metadata under their column names.
/// A `us_state` given as a full name is sent as its code, and the name goes
/// to `metadata.state` (unless that is set), as the API's example stores it.
fn map_record(
    headers: &[String],
    targets: &[Target],
    record: &csv::ByteRecord,
) -> Result<Value, String> {
    if record.len() != headers.len() {
        let plural = if record.len() == 1 { "" } else { "s" };
        return Err(format!(
            "the row has {} field{plural}, the header {}",
            record.len(),
            headers.len()
        ));
    }
    let mut cells = Vec::with_capacity(headers.len());
    for (name, raw) in headers.iter().zip(record.iter()) {
        let text = std::str::from_utf8(raw).map_err(|_| {
            format!(
                "column `{name}` is not valid UTF-8 (the start of the file was; if the file was \
                 saved by Excel on Windows, pass --encoding windows-1252)"
            )
        })?;
        cells.push(text.trim());
    }
    // For each field with several columns: the column chosen for this row.
    let chosen = |field: &str| {
        targets
            .iter()
            .zip(&cells)
            .enumerate()
            .filter_map(|(i, (t, cell))| match t {
                Target::Choice {
                    field: f, choice, ..
                } if *f == field && !cell.is_empty() => Some((*choice, i)),
                _ => None,
            })
            .min()
            .map(|(_, i)| i)
    };
    let mut lead = Map::new();
    let mut metadata = Map::new();
    let mut state_name = None;
    for (i, ((name, target), text)) in headers.iter().zip(targets).zip(&cells).enumerate() {
        let text = *text;
        if text.is_empty() {
            continue;
        }
        let field = match target {
            Target::Skip => continue,
            Target::MetadataObject => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => {
                    metadata.extend(map);
                    continue;
                }
                _ => return Err(format!("column `{name}` is not a JSON object")),
            },
            Target::Metadata(key) => {
                metadata.insert(key.clone(), Value::String(text.to_owned()));
                continue;
            }
            Target::Choice { field, .. } if chosen(field) != Some(i) => {
                metadata.insert(name.clone(), Value::String(text.to_owned()));
                continue;
            }
            Target::Field(field) | Target::Choice { field, .. } => *field,
        };
        let value = if target.is_integer() {
            text.parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(text.to_owned()))
        } else if field == "us_state" {
            let (code, name) = state_value(text);
            state_name = name;
            Value::String(code)
        } else {
            Value::String(text.to_owned())
        };
        lead.insert(field.to_owned(), value);
    }
    if let Some(name) = state_name {
        metadata.entry("state").or_insert(Value::String(name));
    }
    if !metadata.is_empty() {
        lead.insert("metadata".to_owned(), Value::Object(metadata));
    }
    Ok(Value::Object(lead))
}

/// True for a cell that is a phone number or an e-mail address, not a name.
pub fn looks_like_data(cell: &str) -> bool {
    let cell = cell.trim();
    let digits = cell.chars().filter(char::is_ascii_digit).count();
    let phone_like = cell
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let email_like = cell
        .split_once('@')
        .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
    (phone_like && digits >= 7) || email_like
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::Mappings;
    use serde_json::json;

    fn map(headers: &[&str], cells: &[&str]) -> Value {
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        let targets = Mappings::default().resolve(&headers).unwrap();
        map_record(&headers, &targets, &csv::ByteRecord::from(cells.to_vec())).unwrap()
    }

    #[test]
    fn phone_or_mobile_per_row_and_state_names_become_codes() {
        let headers = ["Phone", "Mobile", "State", "Postal Code", "Lead ID"];
        assert_eq!(
            map(
                &headers,
                &["+18045550101", "+18045550199", "Virginia", "23220", "00Q1"]
            ),
            json!({
                "phone_number": "+18045550199",
                "us_state": "VA",
                "external_id": "00Q1",
                "metadata": {"Phone": "+18045550101", "state": "Virginia", "zip": "23220"}
            })
        );
        assert_eq!(
            map(&headers, &["+18045550101", "", "va", "", ""]),
            json!({"phone_number": "+18045550101", "us_state": "VA"})
        );
        // A state that is not one is sent as given, for the checks to refuse.
        assert_eq!(
            map(&headers, &["", "+18045550101", "Ontario", "", ""])["us_state"],
            "Ontario"
        );
    }
}
