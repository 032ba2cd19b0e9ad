//! The shared state of a sandbox: the model, the token, the options, the
//! request hook.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::model::{BulkSummary, Model};
use super::options::{SandboxOptions, Throttle};

/// One line of the request log: what `on_request` hooks receive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLog {
    /// The request method, as sent.
    pub method: String,
    /// The request path, without the query.
    pub path: String,
    /// The answer's status code.
    pub status: u16,
    /// For an answered bulk create: the per-item outcome counts.
    pub bulk: Option<BulkSummary>,
}

impl fmt::Display for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.method, self.path, self.status)?;
        if let Some(b) = &self.bulk {
            write!(
                f,
                " created={} reengaged={} rejected={}",
                b.created, b.reengaged, b.rejected
            )?;
        }
        Ok(())
    }
}

pub(super) type Hook = Arc<dyn Fn(&RequestLog) + Send + Sync>;

/// The shared state of a sandbox: the model, the accepted token, the
/// [`SandboxOptions`] and an optional per-request hook. Cloning shares the state.
#[derive(Clone)]
pub struct SandboxState {
    pub(super) token: Arc<str>,
    pub(super) model: Arc<Mutex<Model>>,
    pub(super) on_request: Option<Hook>,
    pub(super) options: Arc<SandboxOptions>,
    pub(super) throttle: Arc<Throttle>,
}

impl fmt::Debug for SandboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxState")
            .field("token", &"<redacted>")
            .field("leads", &self.lock().len())
            .field("on_request", &self.on_request.is_some())
            .field("options", &self.options)
            .finish()
    }
}

impl SandboxState {
    /// A fresh state with an empty model that accepts `Authorization: Token <token>`.
    pub fn new(token: impl Into<String>) -> Self {
        Self::with_model(token, Model::new())
    }

    /// A state serving `model` (for example one filled in advance).
    pub fn with_model(token: impl Into<String>, model: Model) -> Self {
        Self {
            token: Arc::from(token.into()),
            model: Arc::new(Mutex::new(model)),
            on_request: None,
            options: Arc::new(SandboxOptions::default()),
            throttle: Arc::new(Throttle::default()),
        }
    }

    /// Serves with `options` (size limit, throttling) from now on.
    pub fn with_options(mut self, options: SandboxOptions) -> Self {
        self.options = Arc::new(options);
        self
    }

    /// The options in force.
    pub fn options(&self) -> &SandboxOptions {
        &self.options
    }

    /// Calls `hook` once per answered request (method, path, status, and bulk
    /// counts); the hook never sees the token or the bodies.
    pub fn on_request(mut self, hook: impl Fn(&RequestLog) + Send + Sync + 'static) -> Self {
        self.on_request = Some(Arc::new(hook));
        self
    }

    /// The accepted token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The shared model, for inspection or seeding.
    pub fn model(&self) -> &Arc<Mutex<Model>> {
        &self.model
    }

    /// Locks the model (a poisoned lock is taken over: the model is never left
    /// half-updated by a panic, since it changes only by whole insertions).
    pub fn lock(&self) -> MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
