//! The text encoding of a CSV/TSV file: UTF-8 (with or without a BOM),
//! UTF-16 (by its BOM, as Excel's "Unicode Text" writes it), or else
//! whatever `chardetng` (Firefox's detector) guesses from the first MiB,
//! typically Windows-1252 for an Excel "CSV (Comma delimited)" file saved
//! on Windows. `--encoding` overrides the guess; the decoding itself is
//! `encoding_rs`'s, streamed by `encoding_rs_io`.
//!
//! A file whose first MiB is valid UTF-8 is read as UTF-8 bytes, undecoded:
//! a row further on that is not UTF-8 is then `unparsable` at its place,
//! never silently changed.

use encoding_rs::{Encoding, UTF_8};
use encoding_rs_io::DecodeReaderBytesBuilder;
use std::io::{self, BufRead, BufReader, Cursor, Read};

/// How much of the file the detector reads.
const SAMPLE: u64 = 1 << 20;

/// The encoding a `--encoding` label names (`windows-1252`, `latin1`,
/// `cp1252`, `utf-8`, `utf-16le`, ... as the WHATWG Encoding Standard
/// labels them; `latin1` and `iso-8859-1` are read as Windows-1252, their
/// superset there).
pub fn for_label(label: &str) -> Result<&'static Encoding, String> {
    Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        format!(
            "`{label}` is not an encoding name (try utf-8, windows-1252, latin1, utf-16le, \
             macintosh, shift_jis)"
        )
    })
}

/// A reader of the file's text as UTF-8 bytes (BOM removed), and how its
/// encoding was chosen, for the summary.
pub struct Decoded {
    /// The text, as UTF-8 bytes.
    pub reader: Box<dyn BufRead + Send>,
    /// `UTF-8`, `windows-1252 (detected; --encoding overrides)`, ...
    pub description: String,
}

/// Reads `reader` as text: in `forced` when given, else as its BOM says,
/// else UTF-8 if the first MiB is, else as `chardetng` guesses.
pub fn decode<R: Read + Send + 'static>(
    mut reader: R,
    forced: Option<&'static Encoding>,
) -> io::Result<Decoded> {
    let mut sample = Vec::new();
    (&mut reader).take(SAMPLE).read_to_end(&mut sample)?;
    let complete = (sample.len() as u64) < SAMPLE;
    let bom = Encoding::for_bom(&sample).map(|(encoding, _)| encoding);
    let (encoding, how) = match (forced, bom) {
        (Some(encoding), _) => (encoding, "--encoding"),
        (None, Some(encoding)) => (encoding, "byte order mark"),
        (None, None) if is_utf8(&sample, complete) => (UTF_8, "detected"),
        (None, None) => {
            let mut detector =
                chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            detector.feed(&sample, complete);
            (
                detector.guess(None, chardetng::Utf8Detection::Deny),
                "detected; --encoding overrides",
            )
        }
    };
    let whole = Cursor::new(sample).chain(reader);
    let description = format!("{} ({how})", encoding.name());
    let reader: Box<dyn BufRead + Send> = if encoding == UTF_8 {
        // Undecoded, so a bad byte further on is an unparsable row, not U+FFFD.
        let mut reader = BufReader::with_capacity(64 * 1024, whole);
        if reader.fill_buf()?.starts_with(b"\xef\xbb\xbf") {
            reader.consume(3);
        }
        Box::new(reader)
    } else {
        let decoder = DecodeReaderBytesBuilder::new()
            .encoding(Some(encoding))
            .strip_bom(true)
            .build(whole);
        Box::new(BufReader::with_capacity(64 * 1024, decoder))
    };
    Ok(Decoded {
        reader,
        description,
    })
}

/// True when `sample` is UTF-8, allowing a character cut at its end when
/// the sample is not the whole file.
fn is_utf8(sample: &[u8], complete: bool) -> bool {
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8], forced: Option<&'static Encoding>) -> (String, String) {
        let mut decoded = decode(Cursor::new(bytes.to_vec()), forced).unwrap();
        let mut out = String::new();
        decoded.reader.read_to_string(&mut out).unwrap();
        (out, decoded.description)
    }

    #[test]
    fn windows_1252_utf16_and_utf8_are_told_apart() {
        let cp1252 = b"first_name,phone\nJos\xe9,+18045550101\nFran\xe7oise,+18045550102\n";
        let (got, how) = text(cp1252, None);
        assert!(got.contains("José") && got.contains("Françoise"), "{got}");
        assert_eq!(how, "windows-1252 (detected; --encoding overrides)");
        let latin1 = for_label("latin1").unwrap();
        assert_eq!(text(cp1252, Some(latin1)).1, "windows-1252 (--encoding)");

        let (got, how) = text("\u{feff}first_name\nJosé\n".as_bytes(), None);
        assert_eq!(
            (got.as_str(), how.as_str()),
            ("first_name\nJosé\n", "UTF-8 (byte order mark)")
        );
        assert_eq!(text("José\n".as_bytes(), None).1, "UTF-8 (detected)");

        let mut utf16 = vec![0xff, 0xfe];
        for unit in "phone\tname\r\n+18045550101\tJosé\r\n".encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        let (got, how) = text(&utf16, None);
        assert_eq!(got, "phone\tname\r\n+18045550101\tJosé\r\n");
        assert_eq!(how, "UTF-16LE (byte order mark)");
        assert!(for_label("klingon").is_err());
    }
}
