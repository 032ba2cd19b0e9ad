//! Where the token may travel: never through a proxy over plain http, through
//! the environment's proxy (as a TLS tunnel) over https, never to a base URL
//! with user-info. The proxy variables are set only in a child process (this
//! test binary run again on one ignored test), so no other test sees them.

use httpmock::prelude::*;
use sela_contract::{ApiKey, HarnessError, Target};
use sela_leads::{Client, Error};
use sela_sandbox::Sandbox;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TOKEN: &str = "proxy-test-s3cret";
/// Set in the child: which probe to run.
const MODE: &str = "SELA_TRANSPORT_PROBE";
const PROXY_VARS: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
];

/// A proxy on 127.0.0.1 that records every byte sent to it and answers 502.
struct FakeProxy {
    url: String,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl FakeProxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let record = record.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                    let mut buf = [0u8; 4096];
                    if let Ok(n) = stream.read(&mut buf) {
                        record.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    let _ = stream.write_all(
                        b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                });
            }
        });
        Self { url, seen }
    }

    fn seen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }
}

/// Runs the ignored `child_probe` test of this binary with every proxy variable
/// pointing at `proxy`, and returns its output; panics if it failed.
fn run_child(mode: &str, proxy: &FakeProxy) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args(["child_probe", "--exact", "--ignored", "--nocapture"]);
    for var in PROXY_VARS {
        command.env(var, &proxy.url);
    }
    for var in ["NO_PROXY", "no_proxy", "REQUEST_METHOD"] {
        command.env_remove(var);
    }
    let output = command.env(MODE, mode).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "child failed:\n{text}");
    assert!(
        text.contains("probe done"),
        "the probe did not run:\n{text}"
    );
    text
}

#[test]
fn plain_http_with_the_token_never_reaches_the_proxy() {
    let proxy = FakeProxy::start();
    run_child("http", &proxy);
    let seen = proxy.seen();
    // The control request (no token, a plain reqwest client) proves the proxy
    // variables reached the child and the proxy records what it gets.
    assert!(seen.contains("x-control: proxied"), "proxy saw: {seen:?}");
    assert!(
        !seen.contains(TOKEN),
        "the token reached the proxy: {seen:?}"
    );
    assert!(
        !seen.contains("/api/"),
        "an API request reached the proxy: {seen:?}"
    );
}

#[test]
fn https_goes_through_the_proxy_as_a_tunnel_the_token_inside() {
    let proxy = FakeProxy::start();
    run_child("https", &proxy);
    let seen = proxy.seen();
    assert!(
        seen.starts_with("CONNECT api.trysela.com:443"),
        "proxy saw: {seen:?}"
    );
    assert!(
        !seen.contains(TOKEN),
        "the token reached the proxy: {seen:?}"
    );
}

/// Not a test of its own: the child side of the two tests above.
#[test]
#[ignore = "run by the proxy tests in a child process with the proxy variables set"]
fn child_probe() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    match mode.as_str() {
        "http" => runtime.block_on(async {
            let server = MockServer::start_async().await;
            let mock = server
                .mock_async(|when, then| {
                    when.method(GET)
                        .path("/api/leads/1/")
                        .header("authorization", format!("Token {TOKEN}"));
                    then.status(200).json_body(serde_json::json!({"id": 1}));
                })
                .await;
            let control = sela_leads::http_client_builder()
                .expect("TLS setup")
                .build()
                .unwrap()
                .get(server.url("/control"))
                .header("x-control", "proxied")
                .send()
                .await
                .unwrap();
            assert_eq!(control.status(), 502, "the control request went direct");
            let port = server.address().port();
            for base in [
                server.base_url(),
                format!("http://localhost:{port}/"),
                format!("http://[::1]:{port}/"),
            ] {
                let client = Client::new(&base, TOKEN).unwrap();
                if base.contains("[::1]") {
                    // httpmock listens on IPv4 only: refused, but not proxied.
                    let e = client.get_lead(1).await.unwrap_err();
                    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
                } else {
                    assert_eq!(client.get_lead(1).await.unwrap().id, 1, "{base}");
                }
            }
            mock.assert_calls_async(2).await;
        }),
        "https" => runtime.block_on(async {
            let client = Client::new("https://api.trysela.com/", TOKEN).unwrap();
            let e = client.get_lead(1).await.unwrap_err();
            assert!(matches!(e, Error::Transport { .. }), "{e:?}");
        }),
        other => panic!("unknown probe {other}"),
    }
    if mode == "http" {
        // The contract harness's client, against a sandbox on loopback.
        let sandbox = Sandbox::start();
        let target = Target::new(&sandbox.base_url(), ApiKey::new(sandbox.token())).unwrap();
        let config = sela_contract::Config {
            cases: 1,
            max_batch: 2,
            ..sela_contract::Config::default()
        };
        sela_contract::run(&target, &config).expect("the harness reached the sandbox directly");
    }
    println!("probe done");
}

#[test]
fn user_info_is_refused_without_being_echoed() {
    for url in [
        "http://user:hunter2@127.0.0.1:8787/",
        "https://user:hunter2@api.trysela.com/",
        "https://:hunter2@api.trysela.com/",
        "https://hunter2@api.trysela.com/",
    ] {
        let e = Client::new(url, TOKEN).unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{url}: {e:?}");
        let text = format!("{e} {e:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("user-info"), "{text}");
    }
    let builder = Client::builder(TOKEN).base_url("https://ana:hunter2@api.trysela.com/");
    let debug = format!("{builder:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains(TOKEN),
        "{debug}"
    );
    // The harness refuses it too.
    let target = Target::new("http://user:hunter2@127.0.0.1:1/", ApiKey::new(TOKEN)).unwrap();
    let e = sela_contract::run(&target, &sela_contract::Config::default()).unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(matches!(e, HarnessError::BadUrl(_)), "{text}");
    assert!(
        text.contains("user-info") && !text.contains("hunter2"),
        "{text}"
    );
}

#[test]
fn lookalike_loopback_hosts_are_refused_over_http() {
    for url in [
        "http://127.0.0.1.example.com/",
        "http://localhost.example.com/",
        "http://127.0.0.1@example.com/",
        "http://localhost./",
        "http://10.0.0.8:8000/",
    ] {
        let e = Client::new(url, TOKEN).unwrap_err();
        assert!(
            matches!(e, Error::InsecureTransport { .. } | Error::Config(_)),
            "{url}: {e:?}"
        );
        let target = Target::new(url, ApiKey::new(TOKEN)).unwrap();
        let e = sela_contract::run(&target, &sela_contract::Config::default()).unwrap_err();
        assert!(matches!(e, HarnessError::BadUrl(_)), "{url}: {e:?}");
    }
    // Over https they are ordinary names.
    assert!(Client::new("https://127.0.0.1.example.com/", TOKEN).is_ok());
    assert!(matches!(
        Client::new("http://127.0.0.1@example.com/", TOKEN),
        Err(Error::Config(_))
    ));
    for url in [
        "https://api.trysela.com/?key=1",
        "https://api.trysela.com/#x",
    ] {
        assert!(
            matches!(Client::new(url, TOKEN), Err(Error::Config(_))),
            "{url}"
        );
    }
}
