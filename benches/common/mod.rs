//! Shared by the bench binaries: a trivial local bulk-create server, lead
//! generators, and a small timing harness that measures two variants in one
//! run, interleaved, and reports the ratio of their medians.

#![allow(dead_code)]

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "bench-token";

/// A bulk-create server that answers fast: one `created` result per lead
/// sent, ids counting up across all connections (as a real server's do: the
/// importer takes a repeated `created` id for a fault). HTTP/1.1 keep-alive, one thread per connection; it
/// stores nothing, so it adds no memory per lead.
pub struct FastServer {
    pub base_url: String,
}

impl FastServer {
    pub fn start() -> Self {
        Self {
            base_url: listen(Duration::ZERO),
        }
    }
}

/// Like [`FastServer`], answering each request only after a fixed `latency`
/// (like a real API over the internet); connections are served in parallel,
/// so concurrent requests overlap as they would on a network.
pub struct LatencyServer {
    pub base_url: String,
    pub latency: Duration,
}

impl LatencyServer {
    pub fn start(latency: Duration) -> Self {
        Self {
            base_url: listen(latency),
            latency,
        }
    }
}

/// Serves bulk creates on a free loopback port; returns the base URL.
fn listen(latency: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = serve(stream, latency);
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[derive(Deserialize)]
struct Leads {
    leads: Vec<IgnoredAny>,
}

/// The next lead id, shared by every connection of every server.
static NEXT_ID: AtomicI64 = AtomicI64::new(1);

fn serve(stream: TcpStream, latency: Duration) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let mut body = Vec::new();
    loop {
        let mut content_length = 0_usize;
        let mut line = String::new();
        // Request line, then headers up to the blank line.
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
        body.resize(content_length, 0);
        reader.read_exact(&mut body)?;
        let count = serde_json::from_slice::<Leads>(&body).map_or(0, |l| l.leads.len());
        let mut answer = String::with_capacity(count * 48 + 16);
        answer.push_str("{\"results\":[");
        for i in 0..count {
            if i > 0 {
                answer.push(',');
            }
            let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
            answer.push_str(&format!(
                "{{\"id\":{id},\"action\":\"created\",\"error\":null}}"
            ));
        }
        answer.push_str("]}");
        if !latency.is_zero() {
            std::thread::sleep(latency);
        }
        write!(
            writer,
            "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            answer.len()
        )?;
        writer.write_all(answer.as_bytes())?;
        writer.flush()?;
    }
}

/// The runtime every bench drives the client on: two workers, one per core.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Lead `i` as JSON, distinct per `(run, i)`, valid for the sandbox.
pub fn lead_json(run: u32, i: u64) -> Value {
    json!({
        "phone_number": format!("+1804{:03}{:04}", 200 + (i / 10_000) % 800, i % 10_000),
        "email": format!("r{run}-{i}@example.com"),
        "external_id": format!("crm-{run}-{i}"),
        "lead_source": "bench",
        "us_state": "VA",
        "metadata": {"first_name": "Ana", "last_name": "Lima", "timezone": "America/New_York", "zip": "23220"}
    })
}

/// Timing of one variant: every sample, in order.
pub struct Samples(pub Vec<Duration>);

impl Samples {
    pub fn median(&self) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    }

    pub fn mean(&self) -> Duration {
        self.0.iter().sum::<Duration>() / self.0.len() as u32
    }
}

/// Runs `a` and `b` alternately (`warmup` rounds unmeasured, then `rounds`
/// measured), so both see the same machine state; returns their samples.
pub fn interleaved(
    warmup: usize,
    rounds: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (Samples, Samples) {
    let mut samples = interleaved_n(warmup, rounds, &mut [&mut a, &mut b]).into_iter();
    match (samples.next(), samples.next()) {
        (Some(a), Some(b)) => (a, b),
        _ => unreachable!("two variants give two samples"),
    }
}

/// Like [`interleaved`] for any number of variants; the variant that goes
/// first rotates each round, so none always runs on a warm or cold cache.
pub fn interleaved_n(
    warmup: usize,
    rounds: usize,
    variants: &mut [&mut dyn FnMut()],
) -> Vec<Samples> {
    let n = variants.len();
    for _ in 0..warmup {
        for variant in variants.iter_mut() {
            variant();
        }
    }
    let mut samples: Vec<Vec<Duration>> = (0..n).map(|_| Vec::with_capacity(rounds)).collect();
    for round in 0..rounds {
        for k in 0..n {
            let i = (round + k) % n;
            samples[i].push(time(&mut *variants[i]));
        }
    }
    samples.into_iter().map(Samples).collect()
}

fn time(f: &mut dyn FnMut()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// Prints one comparison: both medians and means, and the ratio of medians.
pub fn report(name: &str, a_name: &str, a: &Samples, b_name: &str, b: &Samples) {
    let ratio = a.median().as_secs_f64() / b.median().as_secs_f64();
    println!("{name}");
    println!(
        "  {a_name:<40} median {:>10.3?}  mean {:>10.3?}  ({} samples)",
        a.median(),
        a.mean(),
        a.0.len()
    );
    println!(
        "  {b_name:<40} median {:>10.3?}  mean {:>10.3?}  ({} samples)",
        b.median(),
        b.mean(),
        b.0.len()
    );
    println!("  ratio {a_name} / {b_name} = {ratio:.3}x (medians)");
}

/// `VmHWM` (peak resident set) and `VmRSS` of this process, in KiB, on Linux.
pub fn memory_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

/// Times `import(1)` against `import(8)` over `rounds` rounds, alternating
/// which goes first, and prints both medians, leads/s and the speed-up 8 / 1.
pub fn concurrency_speedup(
    title: &str,
    leads: u64,
    rounds: usize,
    goal: &str,
    mut import: impl FnMut(usize),
) {
    let (mut one, mut eight) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut measure = |concurrency: usize, into: &mut Vec<Duration>| {
            into.push(time(&mut || import(concurrency)));
        };
        if round % 2 == 0 {
            measure(1, &mut one);
            measure(8, &mut eight);
        } else {
            measure(8, &mut eight);
            measure(1, &mut one);
        }
    }
    let (one, eight) = (Samples(one), Samples(eight));
    println!("{title}");
    for (name, samples) in [("concurrency 1", &one), ("concurrency 8", &eight)] {
        println!(
            "  {name:<14} median {:>9.3?}  ({:>7.0} leads/s)  samples {:?}",
            samples.median(),
            leads as f64 / samples.median().as_secs_f64(),
            samples.0
        );
    }
    println!(
        "  speed-up concurrency 8 / concurrency 1 = {:.2}x (ratio of median times; {goal})",
        one.median().as_secs_f64() / eight.median().as_secs_f64()
    );
}
