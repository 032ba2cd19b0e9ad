//! A running sandbox: an in-process httpmock server serving the router.

use std::fmt;
use std::io;
use std::net::TcpListener;
use std::sync::atomic::Ordering;

use httpmock::{HttpMockRequest, MockServer};

use super::relay::Relay;
use super::server::respond;
use super::state::SandboxState;

/// A running sandbox: an in-process httpmock server with one catch-all mock
/// whose responder is [`respond`]. Dropping it stops serving.
pub struct Sandbox {
    server: MockServer,
    state: SandboxState,
    port: u16,
    relay: Option<Relay>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url())
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Sandbox {
    /// Starts a sandbox on a free port of 127.0.0.1 serving two accounts, each
    /// with a random token ([`Sandbox::token`], [`Sandbox::second_token`]).
    pub fn start() -> Sandbox {
        Self::start_with(None, None)
    }

    /// Starts a sandbox on `port` (a free one when `None`) whose first account
    /// accepts `token` (a random one when `None`) and whose second account a
    /// random token.
    ///
    /// # Panics
    /// When the port cannot be bound; [`Sandbox::try_start_with`] returns the error.
    pub fn start_with(port: Option<u16>, token: Option<String>) -> Sandbox {
        match Self::try_start_with(port, token) {
            Ok(sandbox) => sandbox,
            Err(e) => panic!("cannot start the sandbox: {e}"),
        }
    }

    /// As [`Sandbox::start_with`], returning the bind error.
    pub fn try_start_with(port: Option<u16>, token: Option<String>) -> io::Result<Sandbox> {
        let token = token.unwrap_or_else(random_token);
        Self::try_start_from_state(two_accounts(token), port)
    }

    /// Serves an existing state (the caller keeps a clone to inspect or share it).
    ///
    /// # Panics
    /// When the port cannot be bound; [`Sandbox::try_start_from_state`] returns the error.
    pub fn start_from_state(state: SandboxState, port: Option<u16>) -> Sandbox {
        match Self::try_start_from_state(state, port) {
            Ok(sandbox) => sandbox,
            Err(e) => panic!("cannot start the sandbox: {e}"),
        }
    }

    /// As [`Sandbox::start_from_state`], returning the bind error.
    ///
    /// httpmock's in-process server always takes a free port of its own; for a
    /// chosen port the sandbox listens on `127.0.0.1:port` and relays each
    /// connection, byte for byte, to it.
    pub fn try_start_from_state(state: SandboxState, port: Option<u16>) -> io::Result<Sandbox> {
        // Bind first, so a busy port fails before anything else starts.
        let listener = match port.filter(|p| *p != 0) {
            Some(p) => Some(TcpListener::bind(("127.0.0.1", p))?),
            None => None,
        };
        let server = MockServer::start();
        let responder_state = state.clone();
        let latency = state.options().latency;
        server.mock(|_when, then| {
            let then =
                then.respond_with(move |req: &HttpMockRequest| respond(&responder_state, req));
            // httpmock waits asynchronously before responding, so answers
            // in flight together overlap as over a network.
            if let Some(latency) = latency {
                then.delay(latency);
            }
        });
        let target = *server.address();
        let (port, relay) = match listener {
            Some(listener) => {
                let port = listener.local_addr()?.port();
                (port, Some(Relay::spawn(listener, target)?))
            }
            None => (target.port(), None),
        };
        Ok(Sandbox {
            server,
            state,
            port,
            relay,
        })
    }

    /// The base URL, `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The port the sandbox listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The first account's token (`Authorization: Token <token>`).
    pub fn token(&self) -> &str {
        self.state.token()
    }

    /// The second account's token, when it serves two accounts (every sandbox
    /// started by [`Sandbox::start`] or [`Sandbox::start_with`] does).
    pub fn second_token(&self) -> Option<&str> {
        self.state.second_token()
    }

    /// The shared state.
    pub fn state(&self) -> &SandboxState {
        &self.state
    }

    /// The underlying httpmock server (its own port differs from
    /// [`Sandbox::port`] when a port was chosen).
    pub fn mock_server(&self) -> &MockServer {
        &self.server
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(relay) = self.relay.take() {
            relay.stop();
        }
        // The mock server goes back to httpmock's pool, which resets it before
        // its next use; the responder is deleted now so it stops answering.
        self.server.reset();
    }
}

/// A state with two accounts: the first accepts `token`, the second a random
/// token that differs from it.
fn two_accounts(token: String) -> SandboxState {
    let first = SandboxState::new(token.clone());
    // A random token equals the first only by a miracle; drawn again then.
    let second = std::iter::repeat_with(random_token)
        .find(|t| *t != token)
        .unwrap_or_default();
    first.clone().with_second_token(second).unwrap_or(first)
}

/// A random 40-hex-digit token (the shape of a Django REST framework token),
/// from the standard library's per-process random hash keys, the clock and a
/// counter.
pub fn random_token() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::AtomicU64;
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut out = String::with_capacity(40);
    for round in 0..3u64 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(nanos);
        hasher.write_u64(count);
        hasher.write_u64(round);
        hasher.write_u32(std::process::id());
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out.truncate(40);
    out
}

impl Sandbox {
    /// A [`sela_leads::Client`] of this sandbox, with its token.
    pub fn client(&self) -> sela_leads::Client {
        sela_leads::Client::new(&self.base_url(), self.token())
            .expect("a sandbox serves plain http on loopback with a non-empty token")
    }

    /// Starts a sandbox and a [`sela_leads::Client`] of it, for users' tests in
    /// one line: `let (_sandbox, client) = Sandbox::start_with_client();` (keep
    /// the sandbox alive as long as the client is used).
    pub fn start_with_client() -> (Self, sela_leads::Client) {
        let sandbox = Self::start();
        let client = sandbox.client();
        (sandbox, client)
    }
}
