//! Page-number listing: [`LeadPages`] walks `GET /api/leads/` a page at a time
//! (total count, current page, start at page N), and a lead that does not
//! decode is an error at its place, never the end of its page.

use crate::Error;
use crate::api::types::PartialLead;
use crate::request::{Answer, LEADS_LIST};
use futures::stream::{self, BoxStream, StreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// One page of leads.
#[derive(Debug)]
#[non_exhaustive]
pub struct LeadPage {
    /// The page number (from 1).
    pub number: i64,
    /// The total number of leads across all pages, as the server counts them.
    pub count: i64,
    /// The page's leads in server order; a lead that does not decode is an
    /// [`Error::Decode`] at its place, and the others are unaffected.
    pub leads: Vec<Result<PartialLead, Error>>,
}

/// Walks the lead list a page at a time: from
/// [`Client::lead_pages`](crate::Client::lead_pages).
///
/// Requests always go to the client's base URL: only the page number is taken
/// from the server's `next` link, so the token never follows a link elsewhere.
#[derive(Clone, Debug)]
#[must_use = "call `next_page` or `into_stream`"]
pub struct LeadPages {
    /// The generated client of the [`Client`](crate::Client) it came from.
    api: crate::api::Client,
    page_size: Option<i64>,
    next: Option<i64>,
    current: Option<i64>,
    count: Option<i64>,
}

impl LeadPages {
    pub(crate) fn new(api: crate::api::Client) -> Self {
        Self {
            api,
            page_size: None,
            next: Some(1),
            current: None,
            count: None,
        }
    }

    /// Asks for `size` leads per page (`page_size`; the server's default otherwise).
    pub fn page_size(mut self, size: i64) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Starts at page `page` (from 1) instead of the first, to resume a listing.
    pub fn start_at(mut self, page: i64) -> Self {
        self.next = Some(page);
        self
    }

    /// The total number of leads, once a page has been fetched.
    pub fn count(&self) -> Option<i64> {
        self.count
    }

    /// The number of the last page fetched.
    pub fn current_page(&self) -> Option<i64> {
        self.current
    }

    /// The number of the page [`LeadPages::next_page`] fetches, `None` after the last.
    pub fn next_page_number(&self) -> Option<i64> {
        self.next
    }

    /// Fetches the next page; `Ok(None)` after the last. On an error nothing
    /// advances, so calling again retries the same page.
    pub async fn next_page(&mut self) -> Result<Option<LeadPage>, Error> {
        let Some(number) = self.next else {
            return Ok(None);
        };
        if number < 1 {
            return Err(Error::InvalidRequest(format!(
                "page numbers start at 1, not {number}"
            )));
        }
        let api = &self.api;
        let mut request = LEADS_LIST.request(api, None).query(&[("page", number)]);
        if let Some(size) = self.page_size {
            request = request.query(&[("page_size", size)]);
        }
        let answer = LEADS_LIST.send(api, request).await?;
        let page = decode_page::<PartialLead>(&answer, number)?;
        self.count = Some(page.count);
        self.current = Some(number);
        self.next = page.next;
        Ok(Some(LeadPage {
            number,
            count: page.count,
            leads: page.items,
        }))
    }

    /// Every lead from the next page on, as a `Send + Unpin` stream. An
    /// undecodable lead is an `Err` item and the listing goes on; a page that
    /// cannot be fetched is an `Err` item that ends the stream.
    pub fn into_stream(self) -> BoxStream<'static, Result<PartialLead, Error>> {
        let start = (self, Vec::new().into_iter(), false);
        stream::unfold(start, |(mut pages, mut buffer, mut ended)| async move {
            loop {
                if let Some(item) = buffer.next() {
                    return Some((item, (pages, buffer, ended)));
                }
                if ended {
                    return None;
                }
                match pages.next_page().await {
                    Ok(Some(page)) => buffer = page.leads.into_iter(),
                    Ok(None) => return None,
                    Err(error) => {
                        ended = true;
                        return Some((Err(error), (pages, buffer, ended)));
                    }
                }
            }
        })
        .boxed()
    }
}

/// A decoded page: the total, the next page number and each item on its own.
pub(crate) struct Page<T> {
    pub count: i64,
    pub next: Option<i64>,
    pub items: Vec<Result<T, Error>>,
}

/// Decodes page `number` of a page-number list, each item separately.
pub(crate) fn decode_page<T: DeserializeOwned>(
    answer: &Answer,
    number: i64,
) -> Result<Page<T>, Error> {
    #[derive(Deserialize)]
    struct Raw<'a> {
        count: i64,
        #[serde(default)]
        next: Option<String>,
        #[serde(borrow)]
        results: Vec<&'a RawValue>,
    }
    let raw: Raw<'_> = serde_json::from_slice(&answer.body)
        .map_err(|e| answer.undecodable(format!("page {number}: {e}"), &answer.body))?;
    let next = next_page(raw.next.as_deref(), number)
        .map_err(|why| answer.undecodable(why, &answer.body))?;
    let items = raw
        .results
        .iter()
        .enumerate()
        .map(|(index, item)| {
            serde_json::from_str(item.get()).map_err(|e| {
                let reason = format!("result {index} of page {number}: {e}");
                answer.undecodable(reason, item.get().as_bytes())
            })
        })
        .collect();
    Ok(Page {
        count: raw.count,
        next,
        items,
    })
}

/// The page number to fetch after `current`, read from a `next` link.
fn next_page(next: Option<&str>, current: i64) -> Result<Option<i64>, String> {
    let Some(next) = next else { return Ok(None) };
    let bad = |why: &str| format!("cannot follow `next` link `{next}`: {why}");
    // Absolute or relative: only the query is read.
    let url = url::Url::parse("http://base.invalid/")
        .and_then(|base| base.join(next))
        .map_err(|_| bad("not a URL"))?;
    let page = url
        .query_pairs()
        .find(|(key, _)| key == "page")
        .ok_or_else(|| bad("no `page` parameter"))?
        .1
        .parse::<i64>()
        .map_err(|_| bad("`page` is not a number"))?;
    if page <= current {
        return Err(bad("the page number does not advance"));
    }
    Ok(Some(page))
}
