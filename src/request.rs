//! The one path every hand-written call takes: the operation's route, the
//! generated client's headers, one tracing span, and an answer kept whole
//! (status, headers, body) so that errors carry all three.

use crate::Error;
use bytes::Bytes;
use progenitor_client::{ClientInfo, OperationInfo};
use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderMap};
use serde::de::DeserializeOwned;

/// An operation of `openapi.yaml`: its operationId, method, path and the
/// success statuses it documents, as the spec's response keys (`"200"`, or
/// `"2XX"` for any 2xx; checked against the spec in a test).
pub(crate) struct Route {
    pub operation_id: &'static str,
    pub method: Method,
    pub path: &'static str,
    pub ok: &'static [&'static str],
}

pub(crate) const LEADS_LIST: Route = Route {
    operation_id: "leads_list",
    method: Method::GET,
    path: "/api/leads/",
    ok: &["200"],
};
pub(crate) const LEADS_CREATE: Route = Route {
    operation_id: "leads_create",
    method: Method::POST,
    path: "/api/leads/",
    ok: &["200", "201", "2XX"],
};
pub(crate) const LEADS_RETRIEVE: Route = Route {
    operation_id: "leads_retrieve",
    method: Method::GET,
    path: "/api/leads/{id}/",
    ok: &["200"],
};
pub(crate) const LEADS_PARTIAL_UPDATE: Route = Route {
    operation_id: "leads_partial_update",
    method: Method::PATCH,
    path: "/api/leads/{id}/",
    ok: &["200"],
};
pub(crate) const LEADS_UPDATE_UPDATE: Route = Route {
    operation_id: "leads_update_update",
    method: Method::PUT,
    path: "/api/leads/update/",
    ok: &["200"],
};
pub(crate) const LEADS_BULK_CREATE: Route = Route {
    operation_id: "leads_bulk_create_create",
    method: Method::POST,
    path: "/api/leads/bulk-create/",
    ok: &["200", "201", "2XX"],
};
pub(crate) const LEAD_TYPES_LIST: Route = Route {
    operation_id: "lead_types_list",
    method: Method::GET,
    path: "/api/lead-types/",
    ok: &["200"],
};

impl Route {
    /// A request to this route under the client's base URL; `id` fills `{id}`.
    pub(crate) fn request(
        &self,
        api: &crate::api::Client,
        id: Option<i64>,
    ) -> reqwest::RequestBuilder {
        let path = match id {
            Some(id) => self.path.replace("{id}", &id.to_string()),
            None => self.path.to_owned(),
        };
        api.client()
            .request(self.method.clone(), format!("{}{path}", api.baseurl()))
            .header(ACCEPT, "application/json")
            .header("api-version", crate::api::Client::api_version())
    }

    /// Whether `status` is one of this route's documented successes.
    pub(crate) fn is_success(&self, status: u16) -> bool {
        self.ok.iter().any(|key| match *key {
            "2XX" => (200..300).contains(&status),
            code => code.parse() == Ok(status),
        })
    }

    /// Sends `request` in the `sela.request` span; an answer whose status is
    /// not one of [`Route::ok`] becomes the matching [`Error`].
    pub(crate) async fn send(
        &self,
        api: &crate::api::Client,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, Error> {
        let transport = |source| Error::Transport { source };
        let request = request.build().map_err(transport)?;
        let info = OperationInfo {
            operation_id: self.operation_id,
        };
        let response = crate::hooks::traced_exec(api, request, &info)
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?;
        if !self.is_success(status) {
            return Err(Error::from_status(status, &headers, &body));
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// A success answer, whole.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body decoded as `T`, or [`Error::Decode`] with the status and request id.
    pub(crate) fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| self.undecodable(e.to_string(), &self.body))
    }

    /// An [`Error::Decode`] about `part` of this answer.
    pub(crate) fn undecodable(&self, reason: String, part: &[u8]) -> Error {
        Error::decode(reason, part, self.status, &self.headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_2xx_range_takes_every_success_and_nothing_else() {
        assert!(LEADS_BULK_CREATE.is_success(207) && LEADS_BULK_CREATE.is_success(202));
        assert!(!LEADS_BULK_CREATE.is_success(300) && !LEADS_BULK_CREATE.is_success(199));
        assert!(LEADS_RETRIEVE.is_success(200) && !LEADS_RETRIEVE.is_success(201));
    }

    /// Every route is the spec's: same operationId, method, path and success statuses.
    #[test]
    fn routes_match_openapi_yaml() {
        let spec: serde_json::Value =
            serde_norway::from_str(include_str!("../openapi.yaml")).expect("openapi.yaml parses");
        for route in [
            LEADS_LIST,
            LEADS_CREATE,
            LEADS_RETRIEVE,
            LEADS_PARTIAL_UPDATE,
            LEADS_UPDATE_UPDATE,
            LEADS_BULK_CREATE,
            LEAD_TYPES_LIST,
        ] {
            let pointer = format!(
                "/paths/{}/{}",
                route.path.replace('~', "~0").replace('/', "~1"),
                route.method.as_str().to_lowercase()
            );
            let op = spec
                .pointer(&pointer)
                .unwrap_or_else(|| panic!("{pointer} missing from openapi.yaml"));
            assert_eq!(op["operationId"], route.operation_id, "{pointer}");
            let documented: Vec<&str> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .filter(|k| k.starts_with('2'))
                .collect();
            assert_eq!(documented, route.ok, "{pointer}");
        }
    }
}
