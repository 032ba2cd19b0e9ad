//! The hand-written client: Token auth, timeouts, typed outcomes over the generated API.

use crate::api::types::{
    BulkCreateLeadResponse, LeadRequest, LeadTypeRead, PartialLead, PatchedLeadRequest,
    UpdateLeadRequestRequest,
};
use crate::bulk::{self, BulkOutcome};
use crate::{ApiToken, Error};
use futures::stream::{self, Stream, TryStreamExt};
use progenitor_client::ClientInfo;
use std::future::Future;
use std::net::IpAddr;
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

/// Configures a [`Client`]: base URL, token and timeouts.
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    base_url: String,
    token: ApiToken,
    connect_timeout: Duration,
    timeout: Duration,
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

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let base = checked_base_url(&self.base_url)?;
        if self.token.is_empty() {
            return Err(Error::Config("the API token is empty".to_owned()));
        }
        let auth = self.token.header_value().ok_or_else(|| {
            Error::Config("the API token holds characters a header cannot carry".to_owned())
        })?;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        let http = reqwest::Client::builder()
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

/// Parses a base URL and refuses plain `http://` to any host but loopback.
fn checked_base_url(raw: &str) -> Result<url::Url, Error> {
    let url = url::Url::parse(raw)
        .map_err(|e| Error::Config(format!("base URL `{raw}` is not a URL: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| Error::Config(format!("base URL `{raw}` has no host")))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(host) => Ok(url),
        "http" => Err(Error::InsecureTransport {
            host: host.to_owned(),
        }),
        other => Err(Error::Config(format!(
            "base URL `{raw}` has scheme `{other}`; use https"
        ))),
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
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
        let result = self.api.leads_create().body(lead.clone()).send().await;
        into_inner(result).await
    }

    /// `GET /api/leads/{id}/`: one lead by id.
    pub async fn get_lead(&self, id: i64) -> Result<PartialLead, Error> {
        into_inner(self.api.leads_retrieve().id(id).send().await).await
    }

    /// `PATCH /api/leads/{id}/`: changes the fields that are set in `patch`.
    pub async fn update_lead(
        &self,
        id: i64,
        patch: &PatchedLeadRequest,
    ) -> Result<PartialLead, Error> {
        let result = self
            .api
            .leads_partial_update()
            .id(id)
            .body(patch.clone())
            .send()
            .await;
        into_inner(result).await
    }

    /// `PUT /api/leads/update/`: updates the lead matching the phone number and
    /// e-mail of `update`; [`Error::NotFound`] when none matches.
    pub async fn update_matching_lead(
        &self,
        update: &UpdateLeadRequestRequest,
    ) -> Result<PartialLead, Error> {
        into_inner(
            self.api
                .leads_update_update()
                .body(update.clone())
                .send()
                .await,
        )
        .await
    }

    /// `GET /api/lead-types/`: every lead type, across pages.
    pub async fn lead_types(&self) -> Result<Vec<LeadTypeRead>, Error> {
        every_page(|page| async move {
            let list = into_inner(self.api.lead_types_list().page(page).send().await).await?;
            Ok((list.results, list.next))
        })
        .try_collect()
        .await
    }

    /// `GET /api/leads/`: every lead, page after page, following `next`.
    pub fn leads(
        &self,
        page_size: Option<i64>,
    ) -> impl Stream<Item = Result<PartialLead, Error>> + '_ {
        every_page(move |page| async move {
            let mut request = self.api.leads_list().page(page);
            if let Some(size) = page_size {
                request = request.page_size(size);
            }
            let list = into_inner(request.send().await).await?;
            Ok((list.results, list.next))
        })
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
    /// copy of the batch), sent with the generated client's headers inside the
    /// same tracing span as every generated call, and the answer is checked
    /// against the count sent.
    async fn send_bulk<T: serde::Serialize>(&self, items: &[T]) -> Result<Vec<BulkOutcome>, Error> {
        #[derive(serde::Serialize)]
        struct Body<'a, T> {
            leads: &'a [T],
        }
        let info = progenitor_client::OperationInfo {
            operation_id: "leads_bulk_create_create",
        };
        let url = format!("{}/api/leads/bulk-create/", self.base_url());
        let request = self
            .api
            .client()
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .header("api-version", crate::api::Client::api_version())
            .json(&Body { leads: items })
            .build()
            .map_err(|source| Error::Transport { source })?;
        let response = crate::hooks::traced_exec(&self.api, request, &info)
            .await
            .map_err(|source| Error::Transport { source })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|source| Error::Transport { source })?;
        if !matches!(status, 200 | 201) {
            return Err(Error::from_status(status, &headers, &body));
        }
        decode_bulk(items.len(), &body)
    }
}

async fn into_inner<T>(
    result: Result<
        progenitor_client::ResponseValue<T>,
        progenitor_client::Error<crate::ApiErrorBody>,
    >,
) -> Result<T, Error> {
    match result {
        Ok(value) => Ok(value.into_inner()),
        Err(error) => Err(Error::from_api(error).await),
    }
}

/// Decodes a 200/201 bulk body, naming the faulty result if it does not decode.
pub(crate) fn decode_bulk(sent: usize, body: &[u8]) -> Result<Vec<BulkOutcome>, Error> {
    match serde_json::from_slice::<BulkCreateLeadResponse>(body) {
        Ok(response) => Ok(bulk::outcomes(sent, response)?),
        Err(error) => Err(match bulk::diagnose(sent, body) {
            Some(mismatch) => Error::BulkMismatch(mismatch),
            None => Error::Decode {
                reason: error.to_string(),
                body: crate::error::excerpt(body),
            },
        }),
    }
}

/// Every item of a page-number list, from page 1 on: `fetch(page)` gives a
/// page's results and its `next` link. Only the page number is taken from
/// `next`: requests still go to the client's base URL, so the token never
/// follows a link elsewhere.
fn every_page<'a, T, Fut>(
    fetch: impl Fn(i64) -> Fut + 'a,
) -> impl Stream<Item = Result<T, Error>> + 'a
where
    T: 'a,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), Error>> + 'a,
{
    stream::try_unfold((fetch, Some(1_i64)), |(fetch, page)| async move {
        let Some(number) = page else {
            return Ok::<_, Error>(None);
        };
        let (results, next) = fetch(number).await?;
        let next = next_page(next.as_deref(), number)?;
        Ok(Some((
            stream::iter(results.into_iter().map(Ok)),
            (fetch, next),
        )))
    })
    .try_flatten()
}

/// The page number to fetch after `current`, read from a `next` link.
fn next_page(next: Option<&str>, current: i64) -> Result<Option<i64>, Error> {
    let Some(next) = next else { return Ok(None) };
    let bad = |why: &str| Error::Decode {
        reason: format!("cannot follow `next` link: {why}"),
        body: next.to_owned(),
    };
    let url = url::Url::parse(next).map_err(|_| bad("not a URL"))?;
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

#[cfg(feature = "sandbox")]
impl crate::sandbox::Sandbox {
    /// A [`Client`] of this sandbox, with its token.
    pub fn client(&self) -> Client {
        Client::new(&self.base_url(), self.token())
            .expect("a sandbox serves plain http on loopback with a non-empty token")
    }

    /// Starts a sandbox and a [`Client`] of it, for users' tests in one line:
    /// `let (_sandbox, client) = Sandbox::start_with_client();` (keep the
    /// sandbox alive as long as the client is used).
    pub fn start_with_client() -> (Self, Client) {
        let sandbox = Self::start();
        let client = sandbox.client();
        (sandbox, client)
    }
}
