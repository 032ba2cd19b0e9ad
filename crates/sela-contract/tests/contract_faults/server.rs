//! A test server on 127.0.0.1 that answers requests concurrently (hyper on a
//! multi-thread tokio runtime, one blocking task per request), so that a race
//! in a faulty responder really happens. httpmock's in-process server answers
//! one request at a time and could never show one. [`Transport`] varies how it
//! speaks HTTP harmlessly (idle connections closed, chunked bodies).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use sela_sandbox::Reply;
use serde_json::Value;

/// A request as the responder sees it.
#[derive(Clone, Debug)]
pub struct Req {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target (path and query).
    pub uri: String,
    /// Every header, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Req {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or("")
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// An answer: status, headers and raw body bytes.
#[derive(Clone, Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers, including `content-type`.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Resp {
    /// A body with this content type.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Resp {
        Resp {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// A JSON body, `application/json`.
    pub fn json(status: u16, body: &Value) -> Resp {
        Resp::raw(status, "application/json", body.to_string())
    }

    /// Replaces (or adds) header `name`.
    pub fn with_header(mut self, name: &str, value: &str) -> Resp {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

impl From<Reply> for Resp {
    fn from(reply: Reply) -> Resp {
        let mut resp = Resp::json(reply.status, &reply.body);
        resp.headers.extend(reply.headers);
        resp
    }
}

/// What answers each request; called on a blocking thread, so it may sleep.
pub type Responder = dyn Fn(&Req) -> Resp + Send + Sync;

/// How the server speaks HTTP: harmless variations of real servers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Transport {
    /// A keep-alive connection idle this long is closed, as gunicorn's or
    /// nginx's keep-alive timeout does (see [`crate::idle_close`]).
    pub idle_close: Option<Duration>,
    /// Every body is sent `Transfer-Encoding: chunked`, in chunks of at most
    /// this many bytes, instead of with a `Content-Length`.
    pub chunk_size: Option<usize>,
}

/// A running test server; dropping it stops the runtime and closes the port.
pub struct TestServer {
    addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TestServer {
    /// Serves `responder` on a free port of 127.0.0.1.
    pub fn start(responder: Arc<Responder>) -> TestServer {
        TestServer::start_with(responder, Transport::default())
    }

    /// As [`TestServer::start`], speaking HTTP as `transport` says.
    pub fn start_with(responder: Arc<Responder>, transport: Transport) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(32)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a free port");
        let addr = listener.local_addr().expect("a local address");
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let responder = responder.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| serve(responder.clone(), transport, req));
                    let mut http = hyper::server::conn::http1::Builder::new();
                    let Some(idle) = transport.idle_close else {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        return;
                    };
                    // hyper runs its header-read timer while it waits for the
                    // next request too, so it closes idle connections; the
                    // close reaches the client a while later (the FIN in flight).
                    http.timer(TokioTimer::new())
                        .header_read_timeout(idle + crate::idle_close::FIN_IN_FLIGHT);
                    let io = crate::idle_close::IdleClose::new(stream, idle);
                    let _ = http.serve_connection(TokioIo::new(io), service).await;
                });
            }
        });
        TestServer {
            addr,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn serve(
    responder: Arc<Responder>,
    transport: Transport,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<BoxBody<Bytes, Infallible>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let req = Req {
        method: parts.method.as_str().to_owned(),
        uri: parts
            .uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.as_str().to_owned()),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let resp = tokio::task::spawn_blocking(move || responder(&req))
        .await
        .unwrap_or_else(|_| Resp::raw(500, "text/plain", "the test responder panicked"));
    let mut builder = hyper::Response::builder().status(resp.status);
    for (name, value) in &resp.headers {
        if transport.chunk_size.is_some() && name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match transport.chunk_size {
        Some(size) => chunked(resp.body, size),
        None => Full::new(Bytes::from(resp.body)).boxed(),
    };
    Ok(builder
        .body(body)
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new()).boxed())))
}

/// `body` as a stream of chunks of at most `size` bytes: its length is not
/// known up front, so hyper sends it `Transfer-Encoding: chunked`.
fn chunked(body: Vec<u8>, size: usize) -> BoxBody<Bytes, Infallible> {
    let body = Bytes::from(body);
    let chunks: Vec<Result<Frame<Bytes>, Infallible>> = (0..body.len())
        .step_by(size.max(1))
        .map(|at| {
            Ok(Frame::data(
                body.slice(at..body.len().min(at + size.max(1))),
            ))
        })
        .collect();
    StreamBody::new(futures::stream::iter(chunks)).boxed()
}
