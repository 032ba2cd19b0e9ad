//! The hand-written client: Token auth, timeouts, typed outcomes over the generated API.

use crate::api::types::{
    BulkCreateLeadResponse, LeadRequest, LeadTypeRead, PartialLead, PatchedLeadRequest,
    UpdateLeadRequestRequest,
};
use crate::bulk::{self, BulkOutcome};
use crate::pages::{LeadPages, decode_page};
use crate::request::{
    Answer, LEAD_TYPES_LIST, LEADS_BULK_CREATE, LEADS_CREATE, LEADS_PARTIAL_UPDATE, LEADS_RETRIEVE,
    LEADS_UPDATE_UPDATE,
};
use crate::{ApiToken, Error};
use futures::stream::BoxStream;
use progenitor_client::ClientInfo;
use reqwest::header::CONTENT_TYPE;
use std::time::Duration;

/// The production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.trysela.com/";
/// Default time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed for a whole request, answer included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The `User-Agent` every request carries.
pub const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// A client of the Sela leads API.
///
/// Cheap to clone (the connection pool is shared). For operations or options
/// this layer does not wrap, [`Client::api`] gives the generated client, which
/// sends the same headers.
#[derive(Clone, Debug)]
pub struct Client {
    api: crate::api::Client,
}

/// Configures a [`Client`]: base URL, token and timeouts. Its `Debug` hides
/// the token and any user-info of the base URL.
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: String,
    token: ApiToken,
    connect_timeout: Duration,
    timeout: Duration,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &crate::transport::redacted(&self.base_url))
            .field("token", &self.token)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ClientBuilder {
    /// Starts from the production base URL and the default timeouts.
    pub fn new(token: impl Into<ApiToken>) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token: token.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Sets the base URL, for example a sandbox's.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Sets the time allowed to open a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the time allowed for a whole request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the settings and builds the client. A base URL with user-info,
    /// a query or a fragment is refused ([`Error::Config`], without echoing
    /// it); plain `http://` only to a loopback host, and then never through a
    /// proxy ([`Error::InsecureTransport`] otherwise); `https://` follows the
    /// environment's proxies (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`).
    pub fn build(self) -> Result<Client, Error> {
        let base = crate::transport::checked_base_url(&self.base_url)?;
        if self.token.is_empty() {
            return Err(Error::Config("the API token is empty".to_owned()));
        }
        let auth = self.token.header_value().ok_or_else(|| {
            Error::Config("the API token holds characters a header cannot carry".to_owned())
        })?;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        let http = crate::transport::builder_for(&base)?
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .build()
            .map_err(|source| Error::Config(format!("cannot build the HTTP client: {source}")))?;
        // The generated client appends paths that start with `/`.
        let base = base.as_str().trim_end_matches('/');
        Ok(Client {
            api: crate::api::Client::new_with_client(base, http),
        })
    }
}

impl Client {
    /// A client of `base_url` with `token` and the default timeouts.
    pub fn new(base_url: &str, token: impl Into<ApiToken>) -> Result<Self, Error> {
        ClientBuilder::new(token).base_url(base_url).build()
    }

    /// A client configured from `SELA_API_KEY` and, if set, `SELA_BASE_URL`
    /// (default [`DEFAULT_BASE_URL`]).
    pub fn from_env() -> Result<Self, Error> {
        let token = std::env::var("SELA_API_KEY")
            .map_err(|_| Error::Config("SELA_API_KEY is not set".to_owned()))?;
        let base_url =
            std::env::var("SELA_BASE_URL").unwrap_or_else(|_| DEFAULT_BASE_URL.to_owned());
        Self::new(&base_url, token)
    }

    /// A builder, to change the timeouts.
    pub fn builder(token: impl Into<ApiToken>) -> ClientBuilder {
        ClientBuilder::new(token)
    }

    /// The generated client, for every operation and option of the spec.
    pub fn api(&self) -> &crate::api::Client {
        &self.api
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.api.baseurl()
    }

    /// `POST /api/leads/`: creates one lead.
    pub async fn create_lead(&self, lead: &LeadRequest) -> Result<PartialLead, Error> {
        let request = LEADS_CREATE.request(&self.api, None).json(lead);
        LEADS_CREATE.send(&self.api, request).await?.decode()
    }

    /// `GET /api/leads/{id}/`: one lead by id.
    pub async fn get_lead(&self, id: i64) -> Result<PartialLead, Error> {
        let request = LEADS_RETRIEVE.request(&self.api, Some(id));
        LEADS_RETRIEVE.send(&self.api, request).await?.decode()
    }

    /// `PATCH /api/leads/{id}/`: changes the fields that are set in `patch`
    /// (build one with [`PatchedLeadRequest::new`]).
    pub async fn update_lead(
        &self,
        id: i64,
        patch: &PatchedLeadRequest,
    ) -> Result<PartialLead, Error> {
        let request = LEADS_PARTIAL_UPDATE
            .request(&self.api, Some(id))
            .json(patch);
        LEADS_PARTIAL_UPDATE
            .send(&self.api, request)
            .await?
            .decode()
    }

    /// `PUT /api/leads/update/`: updates the lead matching the phone number and
    /// e-mail of `update` (build one with [`UpdateLeadRequestRequest::new`]);
    /// [`Error::NotFound`] when none matches.
    pub async fn update_matching_lead(
        &self,
        update: &UpdateLeadRequestRequest,
    ) -> Result<PartialLead, Error> {
        let request = LEADS_UPDATE_UPDATE.request(&self.api, None).json(update);
        LEADS_UPDATE_UPDATE.send(&self.api, request).await?.decode()
    }

    /// `GET /api/lead-types/`: every lead type across pages, optionally only
    /// those whose name contains `search` (case-insensitive, done by the server).
    pub async fn lead_types(&self, search: Option<&str>) -> Result<Vec<LeadTypeRead>, Error> {
        let mut types = Vec::new();
        let mut page = Some(1_i64);
        while let Some(number) = page {
            let mut request = LEAD_TYPES_LIST
                .request(&self.api, None)
                .query(&[("page", number)]);
            if let Some(search) = search {
                request = request.query(&[("search", search)]);
            }
            let answer = LEAD_TYPES_LIST.send(&self.api, request).await?;
            let decoded = decode_page::<LeadTypeRead>(&answer, number)?;
            for item in decoded.items {
                types.push(item?);
            }
            page = decoded.next;
        }
        Ok(types)
    }

    /// `GET /api/leads/`: every lead, page after page, as a `Send + Unpin`
    /// stream. A lead that does not decode is an `Err` item and the listing
    /// goes on; a page that cannot be fetched is an `Err` item that ends it.
    /// For the total count, the page size or a start page, use [`Client::lead_pages`].
    pub fn leads(&self) -> BoxStream<'static, Result<PartialLead, Error>> {
        self.lead_pages().into_stream()
    }

    /// `GET /api/leads/` a page at a time, with the total count and the page
    /// number; `.page_size(n)`, `.start_at(page)` to resume.
    pub fn lead_pages(&self) -> LeadPages {
        LeadPages::new(self.api.clone())
    }

    /// `POST /api/leads/bulk-create/`: one outcome per lead, in input order.
    ///
    /// The answer is checked against the leads sent: a different count, an
    /// `error` with an id, a success without one or an unknown action is an
    /// [`Error::BulkMismatch`] naming the index; results are never guessed at.
    pub async fn bulk_create(&self, leads: &[LeadRequest]) -> Result<Vec<BulkOutcome>, Error> {
        self.send_bulk(leads).await
    }

    /// Like [`Client::bulk_create`], with each item sent as the JSON value given,
    /// for callers forwarding untrusted JSON: items the server refuses come
    /// back as [`BulkOutcome::Rejected`] at their index.
    pub async fn bulk_create_raw(
        &self,
        items: &[serde_json::Value],
    ) -> Result<Vec<BulkOutcome>, Error> {
        self.send_bulk(items).await
    }

    /// The one bulk path: the items are serialised from the caller's slice (no
    /// copy of the batch) into one buffer sized up front, sent like every other
    /// call, and the answer is checked against the count sent.
    async fn send_bulk<T: serde::Serialize>(&self, items: &[T]) -> Result<Vec<BulkOutcome>, Error> {
        #[derive(serde::Serialize)]
        struct Body<'a, T> {
            leads: &'a [T],
        }
        let mut body = Vec::with_capacity(16 + items.len() * BULK_BYTES_PER_ITEM);
        serde_json::to_writer(&mut body, &Body { leads: items })
            .map_err(|e| Error::InvalidRequest(format!("cannot encode the leads: {e}")))?;
        let request = LEADS_BULK_CREATE
            .request(&self.api, None)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let answer = LEADS_BULK_CREATE.send(&self.api, request).await?;
        decode_bulk(items.len(), &answer)
    }
}

/// A typical encoded lead's size, to size the bulk body's buffer once.
const BULK_BYTES_PER_ITEM: usize = 384;

/// Decodes a 2xx bulk answer (200 and 201 are the usual ones; any 2xx with the
/// results is read the same way, so per-item results are never dropped for
/// their status), naming the faulty result if it does not decode.
fn decode_bulk(sent: usize, answer: &Answer) -> Result<Vec<BulkOutcome>, Error> {
    match serde_json::from_slice::<BulkCreateLeadResponse>(&answer.body) {
        Ok(response) => Ok(bulk::outcomes(sent, response)?),
        Err(error) => Err(match bulk::diagnose(sent, &answer.body) {
            Some(mismatch) => Error::BulkMismatch(mismatch),
            None => answer.undecodable(error.to_string(), &answer.body),
        }),
    }
}
