//! Every call is one `sela.request` span with its operationId, method, path,
//! status, duration and request id, and neither the token nor lead data at info.

use httpmock::prelude::*;
use sela_leads::Client;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "tracing-test-secret";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_bulk_create_is_one_span_with_its_fields_and_no_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();

    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path("/api/leads/bulk-create/");
        then.status(200)
            .header("x-request-id", "req-4711")
            .json_body(json!({"results": [{"id": 1, "action": "created"}]}));
    });
    let items = [json!({"phone_number": "+18045550123", "email": "private.person@example.com"})];

    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let client = Client::new(&server.base_url(), TOKEN).unwrap();
            client.bulk_create_raw(&items).await.unwrap();
            let leads = [serde_json::from_value(items[0].clone()).unwrap()];
            client.bulk_create(&leads).await.unwrap();
        });
    });

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let spans: Vec<&str> = output.lines().filter(|l| l.contains("close")).collect();
    assert_eq!(
        spans.len(),
        2,
        "one span per call (typed and raw):\n{output}"
    );
    for line in &spans {
        for field in [
            "sela.request",
            "operation_id=\"leads_bulk_create_create\"",
            "method=POST",
            "path=\"/api/leads/bulk-create/\"",
            "status=200",
            "duration_ms=",
            "request_id=\"req-4711\"",
        ] {
            assert!(line.contains(field), "missing {field} in {line}");
        }
    }
    for secret in [
        TOKEN,
        "+18045550123",
        "8045550123",
        "private.person",
        "example.com",
    ] {
        assert!(!output.contains(secret), "{secret} leaked into:\n{output}");
    }
}
