//! Reading leads from real-world files: CSV and TSV (any delimiter, with or
//! without a header row, in UTF-8, UTF-16 or a detected legacy encoding: see
//! [`crate::encoding`]), spreadsheets (see [`crate::sheet`]), NDJSON and JSON
//! arrays; a BOM and CRLF line ends accepted. Text rows are read lazily, so
//! memory does not grow with the file.
//!
//! A header row is checked before anything is sent: one that names no phone
//! column, or that looks like data, is refused with the columns found and the
//! way out (`--map`, or `--no-header` with `--columns`).

use crate::columns::Target;
use crate::json::{json_array_rows, ndjson_rows};
use crate::records::{csv_rows, sheet_rows};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::reading::{Format, InputError, InputOptions, RowKey, Rows};
pub use crate::records::looks_like_data;

/// An opened input: its rows, and how its columns were mapped.
pub struct Input {
    /// The rows, read lazily.
    pub rows: Rows,
    /// The format read.
    pub format: Format,
    /// Each column and where its values go (CSV and TSV; JSON keys are mapped
    /// by the same rules, object by object).
    pub columns: Vec<(String, Target)>,
    /// The file's size in bytes.
    pub size: u64,
    /// How its text was read: the encoding (CSV and TSV) or the sheet
    /// (spreadsheets), and how it was chosen.
    pub encoding: Option<String>,
    consumed: Arc<AtomicU64>,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("format", &self.format)
            .field("columns", &self.columns)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Input {
    /// Opens `path` and checks its header row, reading no lead yet.
    pub fn open(path: &Path, options: &InputOptions) -> Result<Self, InputError> {
        let io = |source| InputError::Io {
            path: path.to_owned(),
            source,
        };
        let format = match options.format {
            Some(format) => format,
            None => {
                Format::from_path(path).ok_or_else(|| InputError::UnknownFormat(path.into()))?
            }
        };
        if format == Format::Xlsx {
            return Self::open_sheet(path, options);
        }
        let file = File::open(path).map_err(io)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let consumed = Arc::new(AtomicU64::new(0));
        let counting = Counting {
            inner: file,
            consumed: Arc::clone(&consumed),
        };
        let (rows, columns, encoding): (Rows, _, _) = match format {
            Format::Csv | Format::Tsv => {
                let default = if format == Format::Tsv { b'\t' } else { b',' };
                let delimiter = options.delimiter.unwrap_or(default);
                let decoded = crate::encoding::decode(counting, options.encoding).map_err(io)?;
                let (rows, columns) = csv_rows(decoded.reader, delimiter, options)?;
                (rows, columns, Some(decoded.description))
            }
            Format::Ndjson | Format::Json => {
                let mut reader = BufReader::with_capacity(64 * 1024, counting);
                skip_bom(&mut reader).map_err(io)?;
                let rows: Rows = if format == Format::Ndjson {
                    Box::new(ndjson_rows(reader, options.map.clone()))
                } else {
                    Box::new(json_array_rows(reader, options.map.clone()))
                };
                (rows, Vec::new(), None)
            }
            Format::Xlsx => return Self::open_sheet(path, options),
        };
        Ok(Self {
            rows,
            format,
            columns,
            size,
            encoding,
            consumed,
        })
    }

    /// A spreadsheet's sheet (the whole sheet is read here).
    fn open_sheet(path: &Path, options: &InputOptions) -> Result<Self, InputError> {
        let sheet = crate::sheet::read(path, options.sheet.as_deref())?;
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let encoding = Some(format!("sheet `{}`", sheet.name));
        let (rows, columns) = sheet_rows(sheet.rows, options)?;
        Ok(Self {
            rows,
            format: Format::Xlsx,
            columns,
            size,
            encoding,
            // The whole workbook is read before the first row.
            consumed: Arc::new(AtomicU64::new(size)),
        })
    }

    /// A counter of the bytes read so far, for a progress bar.
    pub fn consumed(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.consumed)
    }
}

/// Skips a UTF-8 byte order mark at the start.
fn skip_bom<R: BufRead>(reader: &mut R) -> std::io::Result<()> {
    if reader.fill_buf()?.starts_with(b"\xef\xbb\xbf") {
        reader.consume(3);
    }
    Ok(())
}

/// A reader that counts the bytes read.
struct Counting<R> {
    inner: R,
    consumed: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::Mappings;
    use sela_leads::import::Lead;
    use serde_json::{Value, json};

    fn read(path_name: &str, bytes: &[u8], options: &InputOptions) -> Result<Input, InputError> {
        let dir = std::env::temp_dir().join(format!(
            "sela-leads-input-{}-{path_name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(path_name);
        std::fs::write(&path, bytes).unwrap();
        Input::open(&path, options)
    }

    fn leads(input: Input) -> Vec<(u64, Option<String>, Result<Value, String>)> {
        input
            .rows
            .map(|(key, lead)| {
                let lead = match lead {
                    Lead::Json(v) => Ok(v),
                    Lead::Invalid(m) => Err(m),
                    Lead::Typed(_) => Err("typed".to_owned()),
                };
                (key.row, key.external_id, lead)
            })
            .collect()
    }

    #[test]
    fn spreadsheet_export_with_bom_and_crlf_maps_its_columns() {
        let input = read(
            "export.csv",
            b"\xef\xbb\xbfPhone Number,E-mail,First Name,CRM ID,Lead Type\r\n+18045550101,a@example.com,Ana,c-1,12\r\n",
            &InputOptions::default(),
        )
        .unwrap();
        let targets: Vec<String> = input.columns.iter().map(|(_, t)| t.to_string()).collect();
        assert_eq!(
            targets,
            [
                "phone_number",
                "email",
                "metadata.first_name",
                "external_id",
                "lead_type"
            ]
        );
        assert_eq!(
            leads(input),
            [(
                1,
                Some("c-1".to_owned()),
                Ok(json!({
                    "phone_number": "+18045550101",
                    "email": "a@example.com",
                    "external_id": "c-1",
                    "lead_type": 12,
                    "metadata": {"first_name": "Ana"}
                }))
            )]
        );
    }

    #[test]
    fn unparsable_rows_keep_their_place() {
        let mut bytes = b"phone_number,external_id,metadata\n+18045550101,a,\n1,2\n".to_vec();
        bytes.extend_from_slice(b"\xff\xfe,b,\n+18045550102,c,[1]\n+18045550103,d,\n");
        // Read as UTF-8 (undetected, the file would be Windows-1252): each
        // bad row is unparsable at its place.
        let utf8 = InputOptions {
            encoding: Some(encoding_rs::UTF_8),
            ..InputOptions::default()
        };
        let got: Vec<_> = leads(read("bad.csv", &bytes, &utf8).unwrap())
            .into_iter()
            .map(|(row, ext, lead)| (row, ext, lead.is_ok()))
            .collect();
        assert_eq!(
            got,
            [
                (1, Some("a".into()), true),
                (2, Some("2".into()), false),
                (3, Some("b".into()), false),
                (4, Some("c".into()), false),
                (5, Some("d".into()), true),
            ]
        );
    }

    #[test]
    fn headers_without_a_phone_or_looking_like_data_are_refused() {
        let none = InputOptions::default();
        let err = read("nophone.csv", b"Name,Email\nAna,a@example.com\n", &none).unwrap_err();
        assert!(matches!(err, InputError::NoPhoneColumn { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("`Name`, `Email`") && text.contains("--map"),
            "{text}"
        );
        let err = read("data.csv", b"+18045550101,Ana\n+18045550102,Ben\n", &none).unwrap_err();
        assert!(
            matches!(err, InputError::HeaderLooksLikeData { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("--no-header"));
        // The way out: name the columns.
        let named = InputOptions {
            columns: Some(vec!["phone".into(), "first_name".into()]),
            ..InputOptions::default()
        };
        let rows =
            leads(read("data2.csv", b"+18045550101,Ana\n+18045550102,Ben\n", &named).unwrap());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].2.as_ref().unwrap()["phone_number"], "+18045550101");
        // Or map a column.
        let mapped = InputOptions {
            map: Mappings::parse(&["Cell=phone_number"]).unwrap(),
            ..InputOptions::default()
        };
        let rows = leads(read("cell.csv", b"Cell,Name\n+18045550101,Ana\n", &mapped).unwrap());
        assert_eq!(rows[0].2.as_ref().unwrap()["phone_number"], "+18045550101");
    }

    #[test]
    fn formats_follow_the_extension_or_are_an_error() {
        let tsv = read(
            "x.tsv",
            b"phone\temail\n+18045550101\ta@example.com\n",
            &InputOptions::default(),
        )
        .unwrap();
        assert_eq!(tsv.format, Format::Tsv);
        assert_eq!(leads(tsv)[0].2.as_ref().unwrap()["email"], "a@example.com");
        let semi = InputOptions {
            delimiter: Some(b';'),
            ..InputOptions::default()
        };
        let rows = leads(
            read(
                "semi.csv",
                b"phone;email\n+18045550101;a@example.com\n",
                &semi,
            )
            .unwrap(),
        );
        assert_eq!(rows[0].2.as_ref().unwrap()["email"], "a@example.com");
        let err = read("x.dat", b"phone\n", &InputOptions::default()).unwrap_err();
        assert!(matches!(err, InputError::UnknownFormat(_)), "{err}");
        let forced = InputOptions {
            format: Some(Format::Csv),
            ..InputOptions::default()
        };
        assert!(read("y.dat", b"phone\n+18045550101\n", &forced).is_ok());
    }

    #[test]
    fn json_arrays_and_ndjson_with_bom_map_their_keys() {
        let array = b"\xef\xbb\xbf[{\"Phone\":\"+18045550101\",\"CRM ID\":\"x\",\"First Name\":\"Ana\"}, 7,\r\n {\"phone_number\":\"+18045550102\"}]";
        let rows = leads(read("a.json", array, &InputOptions::default()).unwrap());
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            (
                1,
                Some("x".into()),
                Ok(
                    json!({"phone_number": "+18045550101", "external_id": "x", "metadata": {"first_name": "Ana"}})
                )
            )
        );
        assert!(rows[1].2.is_err());
        assert_eq!(rows[2].0, 3);
        let broken =
            leads(read("b.json", b"[{\"phone\":\"1\"}, {", &InputOptions::default()).unwrap());
        assert_eq!(broken.len(), 2);
        assert!(broken[1].2.as_ref().unwrap_err().contains("malformed"));
        let not_array =
            leads(read("c.json", b"{\"phone\":\"1\"}", &InputOptions::default()).unwrap());
        assert!(not_array[0].2.is_err());

        let ndjson = b"\xef\xbb\xbf{\"phone\":\"+18045550101\",\"metadata\":{\"zip\":\"1\"},\"x\":2}\r\n\r\nnot json\r\n[1]\r\n{\"phone\":\"1\",\"Phone Number\":\"2\"}\n";
        let rows = leads(read("l.ndjson", ndjson, &InputOptions::default()).unwrap());
        assert_eq!(rows.len(), 4);
        assert!(
            rows[3]
                .2
                .as_ref()
                .unwrap_err()
                .contains("both map to `phone_number`")
        );
        assert_eq!(
            rows[0].2,
            Ok(json!({"phone_number": "+18045550101", "metadata": {"zip": "1", "x": 2}}))
        );
        assert_eq!((rows[1].0, rows[2].0), (3, 4));
        assert!(rows[1].2.is_err() && rows[2].2.is_err());
    }

    #[test]
    fn json_keys_rank_phone_and_mobile_and_name_states_like_csv_columns() {
        let ndjson = concat!(
            r#"{"Phone":"+18045550101","Mobile":"+18045550102","State":"Virginia"}"#,
            "\n",
            r#"{"Mobile":"","Phone":"+18045550103","State":"tx"}"#,
            "\n",
            r#"{"Phone":"+18045550104","Telephone":"+18045550105"}"#,
            "\n",
        );
        let rows =
            leads(read("ranked.ndjson", ndjson.as_bytes(), &InputOptions::default()).unwrap());
        assert_eq!(
            rows[0].2,
            Ok(json!({
                "phone_number": "+18045550102",
                "us_state": "VA",
                "metadata": {"Phone": "+18045550101", "state": "Virginia"}
            }))
        );
        assert_eq!(
            rows[1].2,
            Ok(json!({"phone_number": "+18045550103", "us_state": "TX"}))
        );
        // One rank, two keys: refused, never a guess.
        assert!(
            rows[2]
                .2
                .as_ref()
                .unwrap_err()
                .contains("both map to `phone_number`")
        );
    }

    #[test]
    fn data_cells_are_told_from_names() {
        for cell in ["+18045550101", "(804) 555-0101", "ana@example.com"] {
            assert!(looks_like_data(cell), "{cell}");
        }
        for cell in ["Phone Number", "phone", "2024", "zip", "e-mail"] {
            assert!(!looks_like_data(cell), "{cell}");
        }
    }
}
