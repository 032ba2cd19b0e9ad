//! `sela-sandbox [--port P] [--token T] [--second-token T2] [...]`:
//! serves the stateful local sandbox, two accounts, on 127.0.0.1 in the
//! foreground until interrupted (Ctrl-C / SIGTERM), logging one line per
//! request. Optional flags add harmless real-world behaviour: a bulk size
//! limit, periodic throttling, reads that lag writes.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sela_sandbox::{Sandbox, SandboxOptions, SandboxState, random_token};

const USAGE: &str = "\
usage: sela-sandbox [--port P] [--token T] [options]

Serves the stateful Sela leads sandbox on 127.0.0.1 until interrupted.
  --port P              port to listen on (default: a free port)
  --token T             the first account's API token (default: a random one)
  --second-token T2     the second account's API token (default: a random one);
                        its leads are separate from the first account's
  --max-batch N         refuse bulk batches of more than N items as a whole
                        (nothing stored; default: no limit)
  --oversize-status S   the status of that refusal: 400 (default) or 413
  --throttle-every N    answer 1 authenticated request in N with 429
  --retry-after SECS    the Retry-After of a 429 (default 1; `none`: no header)
  --read-lag-ms MS      reads (GET by id, the list) answer the state of MS
                        milliseconds ago, as a read replica does (default 0)
  --latency-ms MS       answer every request MS milliseconds after it came, as
                        a distant server does; requests in flight together
                        overlap (default 0)
The base URL and both tokens are printed at start; send them as
`Authorization: Token <token>` (the contract harness reads them from
SELA_API_KEY and SELA_SECOND_API_KEY). One line is logged per request.
";

/// Parsed options.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    port: Option<u16>,
    token: Option<String>,
    second_token: Option<String>,
    sandbox: SandboxOptions,
}

/// The flags that take a value (`--flag V` or `--flag=V`).
const VALUED_FLAGS: &[&str] = &[
    "--port",
    "--token",
    "--second-token",
    "--max-batch",
    "--oversize-status",
    "--throttle-every",
    "--retry-after",
    "--read-lag-ms",
    "--latency-ms",
];

fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut options = Options::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        if matches!(name, "-h" | "--help") {
            return Ok(None);
        }
        if !VALUED_FLAGS.contains(&name) {
            return Err(format!("unexpected argument {name:?}"));
        }
        let value = match inline {
            Some(v) => v,
            None => iter
                .next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))?,
        };
        let positive = |value: &str| -> Result<u64, String> {
            value
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name}: {value:?} is not a positive integer"))
        };
        let sandbox = &mut options.sandbox;
        match name {
            "--port" => {
                let port: u16 = value
                    .parse()
                    .map_err(|_| format!("--port: {value:?} is not a port number (0-65535)"))?;
                options.port = (port != 0).then_some(port);
            }
            "--token" | "--second-token" => {
                if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(format!("{name}: must be non-empty, without spaces"));
                }
                if name == "--token" {
                    options.token = Some(value);
                } else {
                    options.second_token = Some(value);
                }
            }
            "--max-batch" => {
                sandbox.max_batch = Some(
                    usize::try_from(positive(&value)?)
                        .map_err(|_| format!("{name}: {value:?} is too large"))?,
                );
            }
            "--oversize-status" => {
                sandbox.oversize_status = match value.as_str() {
                    "400" => 400,
                    "413" => 413,
                    _ => return Err(format!("{name}: {value:?} is neither 400 nor 413")),
                };
            }
            "--throttle-every" => sandbox.throttle_every = Some(positive(&value)?),
            "--retry-after" => {
                sandbox.retry_after =
                    match value.as_str() {
                        "none" => None,
                        secs => Some(secs.parse::<u64>().map_err(|_| {
                            format!("{name}: {secs:?} is neither seconds nor `none`")
                        })?),
                    };
            }
            "--read-lag-ms" => sandbox.read_lag = millis(name, &value)?,
            "--latency-ms" => sandbox.latency = millis(name, &value)?,
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    if options.token.is_some() && options.token == options.second_token {
        return Err("--second-token: must differ from --token".to_owned());
    }
    Ok(Some(options))
}

/// A duration in milliseconds; 0 is none.
fn millis(name: &str, value: &str) -> Result<Option<Duration>, String> {
    let ms = value
        .parse::<u64>()
        .map_err(|_| format!("{name}: {value:?} is not a number of milliseconds"))?;
    Ok((ms > 0).then(|| Duration::from_millis(ms)))
}

/// Runs the task; exit 2 on usage errors, 1 when the port cannot be bound.
fn run(args: &[String]) -> ExitCode {
    let options = match parse(args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("sela-sandbox: {message}");
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let token = options.token.unwrap_or_else(random_token);
    let second = options.second_token.unwrap_or_else(|| {
        std::iter::repeat_with(random_token)
            .find(|t| *t != token)
            .unwrap_or_default()
    });
    let limits = describe(&options.sandbox);
    let state = match SandboxState::new(token).with_second_token(second) {
        Ok(state) => state,
        Err(e) => {
            eprintln!("sela-sandbox: {e}");
            return ExitCode::from(2);
        }
    };
    let state = state
        .with_options(options.sandbox)
        .on_request(|log| println!("{} {log}", clock()));
    let sandbox = match Sandbox::try_start_from_state(state, options.port) {
        Ok(sandbox) => sandbox,
        Err(e) => {
            let port = options
                .port
                .map_or("a free port".to_owned(), |p| format!("port {p}"));
            eprintln!("sela-sandbox: cannot listen on 127.0.0.1 ({port}): {e}");
            return ExitCode::FAILURE;
        }
    };
    // The developer asked for the tokens: this banner is the one place they are printed.
    println!("Sela leads sandbox (in-memory; state is lost when it stops)");
    println!("base URL: {}", sandbox.base_url());
    println!("token:    {}", sandbox.token());
    if let Some(second) = sandbox.second_token() {
        println!("second:   {second} (a second account with its own leads)");
    }
    println!(
        "try:      curl -H 'Authorization: Token {}' {}api/leads/",
        sandbox.token(),
        sandbox.base_url()
    );
    for line in limits {
        println!("{line}");
    }
    println!("Serving until interrupted (Ctrl-C).");
    // The server runs on its own threads; SIGINT / SIGTERM end the process with
    // their default action, which is all the shutdown an in-memory server needs.
    loop {
        std::thread::park();
    }
}

/// One banner line per deviation from the plain model.
fn describe(options: &SandboxOptions) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(max) = options.max_batch {
        lines.push(format!(
            "limit:    bulk batches over {max} items refused with {} (nothing stored)",
            options.oversize_status
        ));
    }
    if let Some(every) = options.throttle_every {
        let after = options
            .retry_after
            .map_or("no Retry-After".to_owned(), |s| format!("Retry-After: {s}"));
        lines.push(format!(
            "throttle: 1 authenticated request in {every} answered 429 ({after})"
        ));
    }
    if let Some(lag) = options.read_lag {
        lines.push(format!(
            "lag:      reads answer the state of {} ms ago",
            lag.as_millis()
        ));
    }
    if let Some(latency) = options.latency {
        lines.push(format!(
            "latency:  every answer sent {} ms after its request",
            latency.as_millis()
        ));
    }
    lines
}

/// `HH:MM:SS` UTC for the log lines.
fn clock() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run(&args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_options() {
        assert_eq!(parse(&args(&[])), Ok(Some(Options::default())));
        assert_eq!(
            parse(&args(&["--port", "8787", "--token=abc"])),
            Ok(Some(Options {
                port: Some(8787),
                token: Some("abc".into()),
                second_token: None,
                sandbox: SandboxOptions::default(),
            }))
        );
        assert_eq!(
            parse(&args(&["--token=abc", "--second-token", "def"]))
                .unwrap()
                .unwrap()
                .second_token
                .as_deref(),
            Some("def")
        );
        let parsed = parse(&args(&[
            "--max-batch=100",
            "--oversize-status",
            "413",
            "--throttle-every",
            "7",
            "--retry-after=none",
            "--read-lag-ms",
            "300",
            "--latency-ms=30",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            parsed.sandbox,
            SandboxOptions {
                max_batch: Some(100),
                oversize_status: 413,
                throttle_every: Some(7),
                retry_after: None,
                read_lag: Some(Duration::from_millis(300)),
                latency: Some(Duration::from_millis(30)),
            }
        );
        assert_eq!(describe(&parsed.sandbox).len(), 4);
        assert!(describe(&SandboxOptions::default()).is_empty());
        assert_eq!(parse(&args(&["--port=0"])), Ok(Some(Options::default())));
        assert_eq!(parse(&args(&["--help"])), Ok(None));
    }

    #[test]
    fn rejects_usage_errors() {
        for bad in [
            &["--port"][..],
            &["--port", "70000"],
            &["--port", "x"],
            &["--token", ""],
            &["--token", "a b"],
            &["--verbose"],
            &["--max-batch", "0"],
            &["--max-batch", "-1"],
            &["--oversize-status", "500"],
            &["--throttle-every", "0"],
            &["--retry-after", "soon"],
            &["--second-token", ""],
            &["--token", "same", "--second-token", "same"],
            &["--read-lag-ms", "-5"],
            &["--read-lag-ms", "soon"],
            &["--latency-ms", "1.5"],
            &["serve"],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
