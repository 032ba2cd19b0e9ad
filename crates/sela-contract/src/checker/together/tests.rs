//! The group sender against plain TCP servers on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use super::http1::*;
use super::*;
use crate::har::Recorder;
use crate::target::{ApiKey, Auth};

/// How long the test server waits for a group's requests before it
/// gives up (and the test fails).
const SAFETY: Duration = Duration::from_secs(20);

/// A server on 127.0.0.1 that accepts `n` connections, reads each request
/// whole and answers only once all `n` are there: each its own path and
/// arrival echoed, every other one chunked. Sends the requests it got, or
/// why it gave up.
fn holding_server(n: usize) -> (u16, mpsc::Receiver<Result<Vec<String>, String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(serve_held(&listener, n)));
    (port, rx)
}

fn serve_held(listener: &TcpListener, n: usize) -> Result<Vec<String>, String> {
    let mut held = Vec::new();
    for _ in 0..n {
        let (mut conn, _) = listener.accept().map_err(|e| e.to_string())?;
        conn.set_read_timeout(Some(SAFETY))
            .map_err(|e| e.to_string())?;
        let request = read_request(&mut conn)?;
        held.push((conn, request));
    }
    for (i, (conn, request)) in held.iter_mut().enumerate() {
        let path = request.split_whitespace().nth(1).unwrap_or_default();
        let body = format!("{{\"path\":\"{path}\",\"arrived\":{i}}}");
        let answer = if i % 2 == 1 {
            let (a, b) = body.split_at(body.len() / 2);
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n",
                a.len(),
                b.len()
            )
        } else {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        conn.write_all(answer.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    Ok(held.into_iter().map(|(_, request)| request).collect())
}

/// One request read whole: its head, then its `Content-Length` body.
fn read_request(conn: &mut std::net::TcpStream) -> Result<String, String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    let head_end = loop {
        if buf.ends_with(b"\r\n\r\n") {
            break buf.len();
        }
        match conn.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            Ok(_) => return Err(format!("a request ended early: {buf:?}")),
            Err(e) => return Err(format!("a request never came whole: {e}")),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    conn.read_exact(&mut body)
        .map_err(|e| format!("a body never came whole: {e}"))?;
    buf.extend_from_slice(&body);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn header<'r>(request: &'r str, name: &str) -> Option<&'r str> {
    request.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

#[test]
fn a_group_is_held_and_released_together_and_each_gets_its_own_answer() {
    let n = 4;
    let (port, served) = holding_server(n);
    let recorder = Recorder::new();
    let target = Target::new(
        &format!("http://127.0.0.1:{port}"),
        ApiKey::new("test-key-one"),
    )
    .unwrap()
    .with_second_key(ApiKey::new("test-key-two"))
    .with_recorder(recorder.clone());
    let mut transport = Transport::new(&target, Duration::from_secs(1)).unwrap();
    let requests: Vec<Request> = vec![
        (
            "POST",
            "api/leads/0/".into(),
            Auth::Token,
            Some("{\"n\":0}".into()),
        ),
        ("GET", "api/leads/1/".into(), Auth::Second, None),
        (
            "PATCH",
            "api/leads/2/".into(),
            Auth::Second,
            Some("{\"n\":2}".into()),
        ),
        ("GET", "api/leads/3/?page=2".into(), Auth::Missing, None),
    ];
    let together = transport.send_together(requests);
    let got = served
        .recv_timeout(SAFETY + Duration::from_secs(10))
        .expect("the server never finished")
        .expect("the server never had the whole group");

    assert!(together.synchronised);
    assert!(together.overlapped, "{:?}", together.timings);
    assert_eq!(together.exchanges.len(), n);
    for (i, ex) in together.exchanges.iter().enumerate() {
        assert_eq!(ex.transport_error, None, "{i}: {ex:?}");
        assert_eq!(ex.status, Some(200), "{i}");
        assert_eq!(ex.content_type.as_deref(), Some("application/json"));
        let value = ex.response_value().unwrap_or_else(|| panic!("{ex:?}"));
        assert!(
            value["path"]
                .as_str()
                .unwrap()
                .starts_with(&format!("/api/leads/{i}/")),
            "{i} got another's answer: {value}"
        );
    }
    assert_eq!(together.exchanges[1].method, "GET");
    assert_eq!(together.exchanges[2].body.as_deref(), Some("{\"n\":2}"));

    let request = |i: usize| {
        got.iter()
            .find(|r| r.contains(&format!(" /api/leads/{i}/")))
            .unwrap_or_else(|| panic!("request {i} never arrived: {got:?}"))
    };
    for i in 0..n {
        assert_eq!(
            header(request(i), GROUP_HEADER),
            Some(format!("{}/{n}", together.group).as_str())
        );
        assert_eq!(header(request(i), "connection"), Some("close"));
    }
    assert_eq!(
        header(request(0), "authorization"),
        Some("Token test-key-one")
    );
    assert_eq!(
        header(request(1), "authorization"),
        Some("Token test-key-two")
    );
    assert_eq!(
        header(request(2), "authorization"),
        Some("Token test-key-two")
    );
    assert_eq!(header(request(3), "authorization"), None);
    assert!(request(3).starts_with("GET /api/leads/3/?page=2 HTTP/1.1\r\n"));
    assert_eq!(
        header(request(0), "host"),
        Some(format!("127.0.0.1:{port}").as_str())
    );
    assert_eq!(header(request(2), "content-length"), Some("7"));
    assert!(request(2).ends_with("\r\n\r\n{\"n\":2}"));

    assert_eq!(transport.requests, n);
    assert_eq!(transport.transport_failures, 0);
    assert_eq!(recorder.len(), n);
    assert!(!format!("{:?}", together.exchanges).contains("test-key"));
}

#[test]
fn a_refused_connection_is_a_transport_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let target = Target::new(
        &format!("http://127.0.0.1:{port}"),
        ApiKey::new("test-key-one"),
    )
    .unwrap();
    let mut transport = Transport::new(&target, Duration::from_secs(1)).unwrap();
    let together = transport.send_together(vec![
        ("GET", "api/leads/".into(), Auth::Token, None),
        ("POST", "api/leads/".into(), Auth::Token, Some("{}".into())),
    ]);
    assert!(!together.overlapped);
    for ex in &together.exchanges {
        assert_eq!(ex.status, None);
        let err = ex.transport_error.as_deref().unwrap();
        assert!(err.contains("connecting to 127.0.0.1"), "{err}");
        assert!(!err.contains("test-key"), "{err}");
    }
    assert_eq!(transport.transport_failures, 2);
}

#[test]
fn over_https_the_group_goes_as_send_all_sends() {
    let target = Target::new("https://127.0.0.1:1", ApiKey::new("test-key-one")).unwrap();
    let mut transport = Transport::new(&target, Duration::from_secs(1)).unwrap();
    let together = transport.send_together(vec![("GET", "api/leads/".into(), Auth::Token, None)]);
    assert!(!together.synchronised);
    assert!(!together.overlapped);
    assert_eq!(together.exchanges.len(), 1);
    assert!(together.exchanges[0].transport_error.is_some());
}

#[test]
fn an_answer_already_there_before_the_release_is_seen() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let target = Target::new(&format!("http://{addr}"), ApiKey::new("k")).unwrap();
    let mut leg = Leg::new(&target, "1/2", None, ("GET", "x".into(), Auth::Token, None));
    leg.stream = Some(rt.block_on(TcpStream::connect(addr)).unwrap());
    let (mut server, _) = listener.accept().unwrap();
    leg.timing.sent = Some(Instant::now());
    leg.look_for_answer();
    assert!(leg.timing.answered.is_none(), "nothing came yet");
    server.write_all(b"HTTP/1.1 400 Bad Request\r\n").unwrap();
    rt.block_on(leg.stream.as_ref().unwrap().readable())
        .unwrap();
    leg.look_for_answer();
    let seen = leg.timing.answered.expect("the early answer was seen");
    let after = Instant::now();
    assert!(!overlapped(&[
        leg.timing,
        Timing {
            sent: Some(after),
            answered: None
        }
    ]));
    // Reading keeps the time it was first seen.
    drop(server);
    rt.block_on(leg.read_answer(tokio::time::Instant::now() + TIMEOUT));
    assert_eq!(leg.timing.answered, Some(seen));
}

#[test]
fn overlap_needs_every_request_sent_before_any_answer() {
    let t0 = Instant::now();
    let at = |ms: u64| Some(t0 + Duration::from_millis(ms));
    let timing = |sent, answered| Timing { sent, answered };
    assert!(overlapped(&[timing(at(1), at(5)), timing(at(2), at(3))]));
    assert!(overlapped(&[timing(at(1), None), timing(at(2), at(3))]));
    assert!(!overlapped(&[timing(at(1), at(2)), timing(at(3), at(4))]));
    assert!(!overlapped(&[timing(None, None), timing(at(3), at(4))]));
    assert!(!overlapped(&[]));
}

fn answer(text: &str, eof: bool) -> Parsed {
    parse_answer(text.as_bytes(), eof)
}

#[test]
fn answers_are_read_by_length_chunks_or_the_end() {
    let Parsed::Answer(a) = answer(
        "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nokEXTRA",
        false,
    ) else {
        panic!()
    };
    assert_eq!(
        (a.status, a.body.as_slice(), a.broken),
        (201, &b"ok"[..], None)
    );
    assert!(matches!(
        answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", false),
        Parsed::More
    ));
    let Parsed::Answer(a) = answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", true) else {
        panic!()
    };
    assert_eq!(
        a.broken.as_deref(),
        Some("the body was cut off after 2 of 5 bytes")
    );

    let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n";
    let Parsed::Answer(a) = answer(chunked, false) else {
        panic!()
    };
    assert_eq!(a.body, b"abcde");
    assert!(matches!(
        answer(&chunked[..chunked.len() - 2], false),
        Parsed::More
    ));
    let Parsed::Answer(a) = answer(&chunked[..60], true) else {
        panic!()
    };
    assert_eq!(a.broken.as_deref(), Some("the chunked body was cut off"));
    let Parsed::Answer(a) = answer(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        true,
    ) else {
        panic!()
    };
    assert!(a.broken.unwrap().contains("chunk size"));

    assert!(matches!(
        answer("HTTP/1.0 200 OK\r\n\r\n{}", false),
        Parsed::More
    ));
    let Parsed::Answer(a) = answer("HTTP/1.0 200 OK\r\n\r\n{}", true) else {
        panic!()
    };
    assert_eq!((a.version, a.body.as_slice()), (0, &b"{}"[..]));

    let Parsed::Answer(a) = answer(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
        false,
    ) else {
        panic!()
    };
    assert_eq!(a.status, 429);
    assert_eq!(a.header("retry-after"), Some(&b"1"[..]));
    let Parsed::Answer(a) = answer("HTTP/1.1 204 No Content\r\n\r\n", false) else {
        panic!()
    };
    assert!(a.body.is_empty());

    assert!(matches!(answer("", true), Parsed::Invalid(_)));
    assert!(matches!(
        answer("HTTP/1.1 200 OK\r\nA: b", true),
        Parsed::Invalid(_)
    ));
    assert!(matches!(
        answer("SSH-2.0-OpenSSH\r\n\r\n", true),
        Parsed::Invalid(_)
    ));
    assert!(matches!(
        answer(
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            true
        ),
        Parsed::Invalid(_)
    ));
}

#[test]
fn requests_are_written_as_the_client_writes_them() {
    let url = Url::parse("http://localhost:8000/api/leads/?q=a%20b").unwrap();
    let text = String::from_utf8(request_bytes(
        "DELETE",
        &url,
        Some("Token t"),
        None,
        ("3/2", None),
    ))
    .unwrap();
    assert_eq!(
        text,
        "POST /api/leads/?q=a%20b HTTP/1.1\r\nHost: localhost:8000\r\n\
         Authorization: Token t\r\nAccept: application/json\r\nContent-Length: 0\r\n\
         x-sela-group: 3/2\r\nConnection: close\r\n\r\n"
    );
    let url = Url::parse("http://127.0.0.1/").unwrap();
    let text = String::from_utf8(request_bytes("GET", &url, None, None, ("1/1", Some(4)))).unwrap();
    assert!(
        text.starts_with("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept"),
        "{text}"
    );
    assert!(!text.contains("Content-"), "{text}");
    assert!(text.contains("\r\nx-sela-lane: 4\r\n"), "{text}");
}
