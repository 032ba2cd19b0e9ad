//! Short texts for details and observations: an answer's status, a string
//! cut to a length, a list or a word for none.

use crate::target::Exchange;

pub(super) fn status_text(ex: &Exchange) -> String {
    match (ex.status, &ex.transport_error) {
        (_, Some(e)) => format!("no answer ({})", short(e, 80)),
        (Some(s), None) => s.to_string(),
        (None, None) => "no status".to_owned(),
    }
}

pub(super) fn short(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}...")
    }
}

pub(super) fn join_or(items: &[String], empty: &str) -> String {
    if items.is_empty() {
        empty.to_owned()
    } else {
        items.join(", ")
    }
}
