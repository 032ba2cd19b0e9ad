//! Page-number pagination of list answers, as Django REST framework's
//! `PageNumberPagination` gives it.

use serde_json::{Value, json};

/// Page size of list answers when the caller gives none.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest page size honoured; larger requests are clamped to it.
pub const MAX_PAGE_SIZE: usize = 1000;

/// A page that is not a number of 1 or more, or is past the last page: Django
/// REST framework answers it 404 `Invalid page.`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidPage;

/// Page-number pagination as Django REST framework's `PageNumberPagination`
/// does it, over `count` items of which `slice(start, size)` gives a page.
/// `url` is the absolute list URL, possibly with a query already.
pub(super) fn paginate(
    count: usize,
    slice: impl FnOnce(usize, usize) -> Vec<Value>,
    page: Option<&str>,
    page_size: Option<&str>,
    url: &str,
) -> Result<Value, InvalidPage> {
    let size = page_size
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map_or(DEFAULT_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE));
    let number = match page {
        None => 1,
        Some("last") => usize::MAX,
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => return Err(InvalidPage),
        },
    };
    let pages = count.div_ceil(size).max(1);
    let number = if number == usize::MAX { pages } else { number };
    if number > pages {
        return Err(InvalidPage);
    }
    let start = (number - 1) * size;
    let results = slice(start, size);
    let sep = if url.contains('?') { '&' } else { '?' };
    let size_param = page_size
        .filter(|_| size != DEFAULT_PAGE_SIZE)
        .map(|_| format!("page_size={size}"));
    let link = |n: usize| -> String {
        let mut params = Vec::new();
        if n > 1 {
            params.push(format!("page={n}"));
        }
        if let Some(p) = &size_param {
            params.push(p.clone());
        }
        if params.is_empty() {
            url.to_owned()
        } else {
            format!("{url}{sep}{}", params.join("&"))
        }
    };
    let next = if number < pages {
        Value::String(link(number + 1))
    } else {
        Value::Null
    };
    let previous = if number > 1 {
        Value::String(link(number - 1))
    } else {
        Value::Null
    };
    Ok(json!({"count": count, "next": next, "previous": previous, "results": results}))
}

pub(super) fn encode_query_value(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
