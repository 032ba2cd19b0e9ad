//! https works with the default TLS (rustls with `ring`, configured by this
//! crate, no process-wide provider): every client this crate builds opens a TLS
//! handshake offering HTTP/2 and HTTP/1.1, before any byte of the request (or
//! the token) is sent. No network: the "server" is a local socket that records
//! the first bytes it receives and hangs up.

#![cfg(feature = "rustls")]

use std::io::Read;
use std::net::TcpListener;
use std::sync::mpsc;

use sela_contract::{ApiKey, Target};
use sela_leads::{Client, Error};

const TOKEN: &str = "tls-test-s3cret-token";

/// A socket on 127.0.0.1 that sends back the first bytes of each connection.
fn first_bytes_server() -> (String, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = vec![0; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            buf.truncate(n);
            if tx.send(buf).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

/// A TLS ClientHello that offers `h2` and `http/1.1` and does not hold the token.
fn assert_client_hello(bytes: &[u8]) {
    assert!(bytes.len() > 6, "nothing sent: {bytes:?}");
    assert_eq!(bytes[0], 0x16, "a TLS handshake record");
    assert_eq!(bytes[5], 0x01, "a ClientHello");
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(
        has(b"\x02h2") && has(b"\x08http/1.1"),
        "ALPN h2 and http/1.1"
    );
    assert!(!has(TOKEN.as_bytes()), "the token is not sent before TLS");
}

#[tokio::test]
async fn the_client_speaks_tls_over_https() {
    let (url, first) = first_bytes_server();
    let client = Client::new(&url, TOKEN).expect("an https client builds");
    let outcome = client.lead_types(None).await;
    assert!(
        matches!(&outcome, Err(Error::Transport { .. })),
        "the handshake fails at the silent server: {outcome:?}"
    );
    assert_client_hello(&first.recv().unwrap());
}

#[test]
fn the_harness_speaks_tls_over_https() {
    let (url, first) = first_bytes_server();
    let target = Target::new(&url, ApiKey::new(TOKEN)).unwrap();
    let config = sela_contract::Config {
        cases: 1,
        max_batch: 2,
        ..sela_contract::Config::default()
    };
    // The run fails (no TLS server); what matters is what reached the socket.
    assert!(sela_contract::run(&target, &config).is_err());
    assert_client_hello(&first.recv().unwrap());
}

#[test]
fn a_reqwest_client_of_ones_own_builds_with_the_crate_tls() {
    let http = sela_leads::http_client_builder()
        .expect("the system's roots load")
        .build();
    assert!(http.is_ok(), "{http:?}");
}
