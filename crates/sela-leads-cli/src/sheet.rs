//! Spreadsheets (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`) read with
//! `calamine`: the first sheet, or the one `--sheet` names, as rows of text.
//!
//! A number cell is written as the digits it holds: `8045550101` stored as
//! the float 8045550101.0 is the text `8045550101`, never `8.05E+09`. A
//! fraction or a magnitude past 2^53 (where a float no longer holds every
//! digit) is written as the float's text (`1.8E16`, `804.5`), so the local
//! checks refuse it as a damaged phone number instead of guessing digits. The
//! whole sheet is read into memory (calamine reads a sheet at once).

use crate::reading::{Format, InputError};
use calamine::{Data, Reader, Sheets, open_workbook_auto, open_workbook_auto_from_rs};
use std::io::{Cursor, Read, Seek};
use std::path::Path;

/// The header row and the data rows of a sheet, each as text cells, and the
/// name of the sheet read.
pub struct Sheet {
    /// The sheet's name.
    pub name: String,
    /// Every row, the header (if any) first.
    pub rows: Vec<Vec<String>>,
}

/// Reads sheet `wanted` (the first when `None`) of the workbook at `path`:
/// of the kind its extension says, or (`--format xlsx` on another name) of
/// the kind its content shows.
pub fn read(path: &Path, wanted: Option<&str>) -> Result<Sheet, InputError> {
    let fail = |message: String| InputError::Sheet {
        path: path.to_owned(),
        message,
    };
    if Format::from_path(path) == Some(Format::Xlsx) {
        let workbook = open_workbook_auto(path).map_err(|e| fail(e.to_string()))?;
        return read_sheet(workbook, path, wanted);
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
        .map_err(|e| fail(e.to_string()))?;
    let workbook =
        open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| fail(e.to_string()))?;
    read_sheet(workbook, path, wanted)
}

fn read_sheet<RS: Read + Seek>(
    mut workbook: Sheets<RS>,
    path: &Path,
    wanted: Option<&str>,
) -> Result<Sheet, InputError> {
    let fail = |message: String| InputError::Sheet {
        path: path.to_owned(),
        message,
    };
    let names = workbook.sheet_names();
    let name = match wanted {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(wanted)))
            .cloned()
            .ok_or_else(|| {
                fail(format!(
                    "there is no sheet `{wanted}`; the sheets are: {}",
                    quoted(&names)
                ))
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| fail("the workbook has no sheet".to_owned()))?,
    };
    let range = workbook
        .worksheet_range(&name)
        .map_err(|e| fail(format!("sheet `{name}`: {e}")))?;
    let rows = range
        .rows()
        .map(|row| row.iter().map(cell_text).collect::<Vec<_>>())
        .collect::<Vec<_>>();
    // Trailing rows with nothing in them are formatting, not leads.
    let last = rows
        .iter()
        .rposition(|row| row.iter().any(|c| !c.is_empty()))
        .map_or(0, |i| i + 1);
    let mut rows = rows;
    rows.truncate(last);
    Ok(Sheet { name, rows })
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The largest integer below which every integer is a float exactly.
const EXACT: f64 = 9_007_199_254_740_992.0;

/// A cell as the text it holds; a whole number below 2^53 as its digits.
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < EXACT => format!("{f:.0}"),
        // Past 2^53 the float's digits are not the ones typed: say so in its notation.
        Data::Float(f) if f.fract() == 0.0 => format!("{f:E}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.to_string(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_cells_keep_their_digits() {
        assert_eq!(cell_text(&Data::Float(8_045_550_101.0)), "8045550101");
        assert_eq!(cell_text(&Data::Float(18_045_550_101.0)), "18045550101");
        assert_eq!(cell_text(&Data::Int(8_045_550_101)), "8045550101");
        assert_eq!(cell_text(&Data::Float(8.05e9)), "8050000000");
        assert_eq!(cell_text(&Data::Float(804.5)), "804.5");
        assert_eq!(cell_text(&Data::Float(1.8e16)), "1.8E16");
        assert_eq!(cell_text(&Data::Empty), "");
    }
}
