//! Cross-cutting behaviour of every generated call, via progenitor's `ClientHooks`:
//! one tracing span per operation.

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use std::time::Instant;
use tracing::Instrument;

impl ClientHooks<()> for crate::api::Client {
    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        traced_exec(self, request, info).await
    }
}

/// Sends `request` inside an `info` span named `sela.request` with the
/// operationId, method, path, status, duration and the server's request id.
/// Neither headers (the token) nor bodies (personal data) are recorded.
pub(crate) async fn traced_exec(
    client: &crate::api::Client,
    request: reqwest::Request,
    info: &OperationInfo,
) -> reqwest::Result<reqwest::Response> {
    let span = tracing::info_span!(
        "sela.request",
        operation_id = info.operation_id,
        method = %request.method(),
        path = request.url().path(),
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
        request_id = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = client
        .client()
        .execute(request)
        .instrument(span.clone())
        .await;
    span.record("duration_ms", started.elapsed().as_millis() as u64);
    match &result {
        Ok(response) => {
            span.record("status", response.status().as_u16());
            if let Some(id) = crate::error::request_id(response.headers()) {
                span.record("request_id", id.as_str());
            }
            span.in_scope(|| tracing::info!(status = response.status().as_u16(), "response"));
        }
        Err(error) => span.in_scope(|| tracing::warn!(error = %error, "request failed")),
    }
    result
}
