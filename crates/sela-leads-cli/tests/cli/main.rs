//! `sela-leads import` end to end against the in-process sandbox: one outcome
//! row per input row (unparsable rows included), the exit status, the token
//! never printed.

use sela_sandbox::{Sandbox, SandboxState, random_token};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

mod answers;
mod checks;
mod exports;
mod formats;
mod lock;
mod resume;

const BIN: &str = env!("CARGO_BIN_EXE_sela-leads");

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sela-leads-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn run(args: &[&str], token: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env_remove("SELA_BASE_URL");
    match token {
        Some(token) => command.env("SELA_API_KEY", token),
        None => command.env_remove("SELA_API_KEY"),
    };
    command.output().expect("the binary runs")
}

/// The outcomes file as rows of `[row, external_id, outcome, id, message]`.
fn outcomes(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).expect("an outcomes file");
    let headers: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(headers, ["row", "external_id", "outcome", "id", "message"]);
    reader
        .records()
        .map(|r| r.expect("a record").iter().map(str::to_owned).collect())
        .collect()
}

/// A fresh scratch directory `name` holding the input file `file`; returns both paths.
fn input_file(name: &str, file: &str, contents: impl AsRef<[u8]>) -> (PathBuf, PathBuf) {
    let dir = scratch(name);
    let input = dir.join(file);
    std::fs::write(&input, contents).expect("the input file");
    (dir, input)
}

/// `sela-leads import INPUT --base-url BASE_URL EXTRA...`.
fn import(input: &Path, base_url: &str, extra: &[&str], token: Option<&str>) -> Output {
    run(
        &[&["import", path(input), "--base-url", base_url], extra].concat(),
        token,
    )
}

/// Columns `cols` of each outcome row, to compare whole outcome tables at once.
fn columns<const N: usize>(rows: &[Vec<String>], cols: [usize; N]) -> Vec<[&str; N]> {
    rows.iter().map(|r| cols.map(|c| r[c].as_str())).collect()
}

/// A bulk-create mock answering 201 `{"results": results}` to the requests
/// whose body includes `body` (every request if `None`).
fn answer_bulk<'a>(
    server: &'a httpmock::MockServer,
    body: Option<&str>,
    results: serde_json::Value,
) -> httpmock::Mock<'a> {
    server.mock(|when, then| {
        let when = when
            .method(httpmock::Method::POST)
            .path("/api/leads/bulk-create/");
        if let Some(body) = body {
            when.body_includes(body);
        }
        then.status(201)
            .header("content-type", "application/json")
            .json_body(serde_json::json!({ "results": results }));
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A sandbox that counts bulk requests and their created / re-engaged items,
/// and passes each bulk create through [`Gate`] once its leads are stored
/// (open unless a test closes it).
struct Counted {
    sandbox: Sandbox,
    requests: Arc<AtomicUsize>,
    created: Arc<AtomicUsize>,
    reengaged: Arc<AtomicUsize>,
    rejected: Arc<AtomicUsize>,
    gate: Arc<Gate>,
}

fn counted_sandbox() -> Counted {
    let requests = Arc::new(AtomicUsize::new(0));
    let created = Arc::new(AtomicUsize::new(0));
    let reengaged = Arc::new(AtomicUsize::new(0));
    let rejected = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Gate::default());
    let (r, c, e, x, g) = (
        requests.clone(),
        created.clone(),
        reengaged.clone(),
        rejected.clone(),
        gate.clone(),
    );
    let state = SandboxState::new(random_token()).on_request(move |log| {
        r.fetch_add(1, Ordering::SeqCst);
        if let Some(bulk) = log.bulk {
            c.fetch_add(bulk.created, Ordering::SeqCst);
            e.fetch_add(bulk.reengaged, Ordering::SeqCst);
            x.fetch_add(bulk.rejected, Ordering::SeqCst);
        }
        if log.method == "POST" && log.path == "/api/leads/bulk-create/" {
            g.pass();
        }
    });
    Counted {
        sandbox: Sandbox::start_from_state(state, None),
        requests,
        created,
        reengaged,
        rejected,
        gate,
    }
}

/// How long a test waits for an event before it fails (a bound on a hang,
/// never a timing the test depends on).
const PATIENCE: Duration = Duration::from_secs(120);

/// Holds the counted sandbox's bulk creates, their leads stored and their
/// answers not yet sent, until the test lets them go: a run is stopped while
/// a request is certainly in flight, not after a sleep that hopes so.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    /// Requests beyond the passes are held.
    closed: bool,
    /// Requests still let through while closed.
    passes: usize,
    /// Requests waiting at the gate now.
    held: usize,
    /// Requests that went through (their answers on the way).
    answered: usize,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The sandbox's side: waits while the gate holds this request.
    fn pass(&self) {
        let mut s = self.lock();
        s.held += 1;
        self.changed.notify_all();
        while s.closed && s.passes == 0 {
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        if s.closed {
            s.passes -= 1;
        }
        s.held -= 1;
        s.answered += 1;
        self.changed.notify_all();
    }

    /// Lets the next `passes` bulk creates through and holds the one after.
    fn hold_after(&self, passes: usize) {
        let mut s = self.lock();
        s.closed = true;
        s.passes = passes;
        self.changed.notify_all();
    }

    /// Lets every request through, those held now too.
    fn open(&self) {
        self.lock().closed = false;
        self.changed.notify_all();
    }

    /// How many bulk creates went through so far.
    fn answered(&self) -> usize {
        self.lock().answered
    }

    /// Waits until `done` holds of the gate's state.
    fn wait_until(&self, what: &str, done: impl Fn(&GateState) -> bool) {
        let deadline = std::time::Instant::now() + PATIENCE;
        let mut s = self.lock();
        while !done(&s) {
            let left = deadline
                .checked_duration_since(std::time::Instant::now())
                .unwrap_or_else(|| panic!("the sandbox never {what}"));
            s = self
                .changed
                .wait_timeout(s, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until a bulk create is held at the gate (stored, not answered).
    fn wait_held(&self) {
        self.wait_until("held a request", |s| s.held > 0);
    }

    /// Waits until `n` bulk creates in all went through.
    fn wait_answered(&self, n: usize) {
        self.wait_until("answered the requests", |s| s.answered >= n);
    }
}

/// The lines a child writes to its standard error, read as they come, so
/// that a test can wait for one (an event) before it acts.
#[cfg(unix)]
struct StderrWatch {
    lines: Arc<(Mutex<Vec<String>>, Condvar)>,
    reader: std::thread::JoinHandle<()>,
}

#[cfg(unix)]
impl StderrWatch {
    /// Takes `child`'s piped standard error.
    fn new(child: &mut std::process::Child) -> Self {
        use std::io::BufRead;
        let stderr = child.stderr.take().expect("a piped stderr");
        let lines: Arc<(Mutex<Vec<String>>, Condvar)> = Arc::default();
        let shared = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                shared.0.lock().unwrap().push(line);
                shared.1.notify_all();
            }
        });
        Self { lines, reader }
    }

    /// Waits until a line starting with `prefix` was written.
    fn wait_for(&self, prefix: &str) {
        let deadline = std::time::Instant::now() + PATIENCE;
        let (lines, changed) = &*self.lines;
        let mut seen = lines.lock().unwrap();
        while !seen.iter().any(|l| l.starts_with(prefix)) {
            let left = deadline
                .checked_duration_since(std::time::Instant::now())
                .unwrap_or_else(|| panic!("no line {prefix:?} in: {seen:?}"));
            seen = changed.wait_timeout(seen, left).unwrap().0;
        }
    }

    /// Everything written, once the child closed its standard error.
    fn finish(self) -> String {
        self.reader.join().expect("the reader ends");
        let lines = self.lines.0.lock().unwrap();
        lines.join("\n")
    }
}

/// `n` rows with distinct identities, as CSV.
fn distinct_rows(n: usize) -> String {
    let mut csv = String::from("phone_number,email,external_id\n");
    for i in 0..n {
        csv.push_str(&format!(
            "+1804{:03}{:04},r{i}@example.com,x-{i}\n",
            200 + i / 10_000,
            i % 10_000
        ));
    }
    csv
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Starts `sela-leads ARGS` with `token`, its stdout and stderr made by `stdio`.
#[cfg(unix)]
fn spawn(args: &[&str], token: &str, stdio: fn() -> Stdio) -> std::process::Child {
    Command::new(BIN)
        .args(args)
        .env("SELA_API_KEY", token)
        .env_remove("SELA_BASE_URL")
        .stdout(stdio())
        .stderr(stdio())
        .spawn()
        .expect("the binary runs")
}

/// What the tests that stop a run midway share: a counted sandbox (its gate
/// open), `rows` distinct rows in the scratch directory `name`'s
/// `leads.csv`, and the arguments that import them against the sandbox,
/// `chunk_size` rows a request, `concurrency` requests at a time.
#[cfg(unix)]
struct ChunkedRun {
    counted: Counted,
    dir: PathBuf,
    output: PathBuf,
    args: Vec<String>,
}

#[cfg(unix)]
impl ChunkedRun {
    fn new(name: &str, rows: usize, chunk_size: usize, concurrency: usize) -> Self {
        let counted = counted_sandbox();
        let (dir, input) = input_file(name, "leads.csv", distinct_rows(rows));
        let output = dir.join("leads.outcomes.csv");
        let args = vec![
            "import".to_owned(),
            path(&input).to_owned(),
            "--base-url".to_owned(),
            counted.sandbox.base_url(),
            "--chunk-size".to_owned(),
            chunk_size.to_string(),
            "--concurrency".to_owned(),
            concurrency.to_string(),
        ];
        Self {
            counted,
            dir,
            output,
            args,
        }
    }

    /// The import's arguments followed by `extra`.
    fn args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        self.args
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
            .collect()
    }

    /// Runs the import with `extra` arguments and the sandbox's token to its end.
    fn run(&self, extra: &[&str]) -> Output {
        run(&self.args(extra), Some(self.counted.sandbox.token()))
    }

    /// Starts the import with `extra` arguments and the sandbox's token.
    fn spawn(&self, extra: &[&str], stdio: fn() -> Stdio) -> std::process::Child {
        spawn(&self.args(extra), self.counted.sandbox.token(), stdio)
    }
}

#[cfg(unix)]
fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits until the outcomes file has at least `rows` outcome rows.
fn wait_for_rows(output: &Path, rows: usize) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let lines = std::fs::read_to_string(output).map_or(0, |t| t.lines().count());
        if lines > rows {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the outcomes file never reached {rows} rows"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
