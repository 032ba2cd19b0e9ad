//! The shared state of a sandbox: its accounts (a token and a model each), the
//! options, the request hook.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::model::{BulkSummary, Model};
use super::options::{SandboxOptions, Throttle};
use super::read_lag::History;

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
    /// The account whose token authorised the request, if one did.
    pub account: Option<AccountId>,
}

impl fmt::Display for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.method, self.path, self.status)?;
        if self.account == Some(AccountId::Second) {
            write!(f, " account=second")?;
        }
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

/// One of the (at most two) accounts a sandbox serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccountId {
    /// The account of [`SandboxState::token`].
    First,
    /// The account of [`SandboxState::second_token`].
    Second,
}

/// A second token equal to the first: requests could not tell the accounts apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the second account's token must differ from the first account's")]
pub struct SameTokenError;

/// One account: its token, its leads, and the states its lagged reads answer.
#[derive(Clone)]
pub(super) struct Account {
    pub(super) token: Arc<str>,
    model: Arc<Mutex<Model>>,
    history: Arc<Mutex<History>>,
}

impl Account {
    fn new(token: String, model: Model) -> Self {
        Self {
            token: Arc::from(token),
            model: Arc::new(Mutex::new(model)),
            history: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The shared state of a sandbox: one or two accounts (a token and its own
/// leads each; both take ids from one counter, so ids never collide), the
/// [`SandboxOptions`] and an optional per-request hook. Cloning shares the state.
#[derive(Clone)]
pub struct SandboxState {
    pub(super) accounts: Arc<[Account]>,
    pub(super) on_request: Option<Hook>,
    pub(super) options: Arc<SandboxOptions>,
    pub(super) throttle: Arc<Throttle>,
}

impl fmt::Debug for SandboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let leads: Vec<usize> = self.accounts.iter().map(|a| a.lock().len()).collect();
        f.debug_struct("SandboxState")
            .field("tokens", &"<redacted>")
            .field("accounts", &self.accounts.len())
            .field("leads", &leads)
            .field("on_request", &self.on_request.is_some())
            .field("options", &self.options)
            .finish()
    }
}

impl SandboxState {
    /// A fresh state with one account and an empty model that accepts
    /// `Authorization: Token <token>`.
    pub fn new(token: impl Into<String>) -> Self {
        Self::with_model(token, Model::new())
    }

    /// A state with one account serving `model` (for example one filled in advance).
    pub fn with_model(token: impl Into<String>, model: Model) -> Self {
        Self {
            accounts: Arc::from(vec![Account::new(token.into(), model)]),
            on_request: None,
            options: Arc::new(SandboxOptions::default()),
            throttle: Arc::new(Throttle::default()),
        }
    }

    /// Adds (or replaces) a second account, empty, that accepts `token`: its
    /// leads are its own, invisible to the first account and the first's to it;
    /// both take ids from one counter. `Err` when `token` is the first's.
    pub fn with_second_token(mut self, token: impl Into<String>) -> Result<Self, SameTokenError> {
        let token = token.into();
        let first = self.accounts[0].clone();
        if *first.token == *token {
            return Err(SameTokenError);
        }
        let second = Account::new(token, Model::sharing_ids_with(&first.lock()));
        self.accounts = Arc::from(vec![first, second]);
        Ok(self)
    }

    /// Serves with `options` (size limit, throttling, read lag) from now on.
    pub fn with_options(mut self, options: SandboxOptions) -> Self {
        self.options = Arc::new(options);
        self
    }

    /// The options in force.
    pub fn options(&self) -> &SandboxOptions {
        &self.options
    }

    /// Calls `hook` once per answered request (method, path, status, account,
    /// bulk counts); the hook never sees the tokens or the bodies.
    pub fn on_request(mut self, hook: impl Fn(&RequestLog) + Send + Sync + 'static) -> Self {
        self.on_request = Some(Arc::new(hook));
        self
    }

    /// The first account's token.
    pub fn token(&self) -> &str {
        &self.accounts[0].token
    }

    /// The second account's token, when the state has a second account.
    pub fn second_token(&self) -> Option<&str> {
        self.accounts.get(1).map(|a| &*a.token)
    }

    /// The first account's model, for inspection or seeding.
    pub fn model(&self) -> &Arc<Mutex<Model>> {
        &self.accounts[0].model
    }

    /// The model of `account`, when the state has it.
    pub fn model_of(&self, account: AccountId) -> Option<&Arc<Mutex<Model>>> {
        self.account(account).map(|a| &a.model)
    }

    /// Locks the first account's model (a poisoned lock is taken over: the
    /// model is never left half-updated by a panic, since it changes only by
    /// whole insertions).
    pub fn lock(&self) -> MutexGuard<'_, Model> {
        self.accounts[0].lock()
    }

    /// Locks the model of `account`, when the state has it.
    pub fn lock_account(&self, account: AccountId) -> Option<MutexGuard<'_, Model>> {
        self.account(account).map(Account::lock)
    }

    /// The account whose token the `Authorization` header among `headers`
    /// carries (`Token <token>`), as the router decides it: for test servers
    /// that answer from the right account's model.
    pub fn account_for(&self, headers: &[(String, String)]) -> Option<AccountId> {
        self.authenticate(headers).ok()
    }

    /// Token authentication as Django REST framework's `TokenAuthentication`
    /// does it: the account whose token the `Authorization` header among
    /// `headers` carries; `Err` is the `detail` of the 401 answer.
    pub(super) fn authenticate(
        &self,
        headers: &[(String, String)],
    ) -> Result<AccountId, &'static str> {
        const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
        let Some((_, value)) = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        else {
            return Err(NOT_PROVIDED);
        };
        let mut parts = value.split_whitespace();
        match parts.next() {
            Some(keyword) if keyword.eq_ignore_ascii_case("token") => {}
            _ => return Err(NOT_PROVIDED),
        }
        let Some(token) = parts.next() else {
            return Err("Invalid token header. No credentials provided.");
        };
        if parts.next().is_some() {
            return Err("Invalid token header. Token string should not contain spaces.");
        }
        self.account_with_token(token).ok_or("Invalid token.")
    }

    pub(super) fn account(&self, account: AccountId) -> Option<&Account> {
        self.accounts.get(match account {
            AccountId::First => 0,
            AccountId::Second => 1,
        })
    }

    /// The account whose token is `token`, compared in constant time.
    fn account_with_token(&self, token: &str) -> Option<AccountId> {
        let mut found = None;
        for (i, account) in self.accounts.iter().enumerate() {
            if constant_time_eq(token.as_bytes(), account.token.as_bytes()) {
                found = Some(if i == 0 {
                    AccountId::First
                } else {
                    AccountId::Second
                });
            }
        }
        found
    }

    /// Runs a write on `account`'s model, under its lock, and records the
    /// state it leaves for lagged reads.
    pub(super) fn write<T>(&self, account: AccountId, f: impl FnOnce(&mut Model) -> T) -> T {
        let account = self.account(account).unwrap_or(&self.accounts[0]);
        let mut model = account.lock();
        let Some(lag) = self.options.read_lag else {
            return f(&mut model);
        };
        let mut history = account
            .history
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        history.before_write(&model);
        let out = f(&mut model);
        history.after_write(&model, lag);
        out
    }

    /// Runs a read on `account`'s model as the options say reads see it: the
    /// current state, or the state of [`SandboxOptions::read_lag`] ago.
    pub(super) fn read<T>(&self, account: AccountId, f: impl FnOnce(&Model) -> T) -> T {
        let account = self.account(account).unwrap_or(&self.accounts[0]);
        // Always the model's lock first, then the history's, as in `write`.
        let model = account.lock();
        let Some(lag) = self.options.read_lag else {
            return f(&model);
        };
        let mut history = account
            .history
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match history.as_of(Instant::now(), lag) {
            Some(past) => f(past),
            None => f(&model),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
