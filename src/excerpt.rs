//! The start of a body or of any long text, cut short for error messages.

/// How much of an undecodable body an error keeps for diagnosis.
pub const BODY_EXCERPT_LIMIT: usize = 2048;

/// The start of a body, lossily decoded, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    truncate(&String::from_utf8_lossy(body))
}

/// Cuts text to [`BODY_EXCERPT_LIMIT`] bytes on a character boundary.
pub(crate) fn truncate(text: &str) -> String {
    if text.len() <= BODY_EXCERPT_LIMIT {
        return text.to_owned();
    }
    let mut end = BODY_EXCERPT_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all)", &text[..end], text.len())
}
