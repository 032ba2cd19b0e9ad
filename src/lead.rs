//! Hand-written builders over the generated request bodies: setters that take
//! `&str`, `String` and numbers directly, and a `build()` that returns the
//! generated type or a [`FieldError`] naming the field. Each builder names only
//! the required properties ([`crate::api::required`]): a new optional property
//! in the spec costs nothing here, a new required one is a compile error here.
//!
//! ```
//! use sela_leads::api::types::{LeadRequest, LeadStatus, PatchedLeadRequest};
//! use sela_leads::UsState;
//!
//! let lead = LeadRequest::new("+18045550123")
//!     .email("ana@example.com")
//!     .us_state(UsState::Ca)
//!     .meta("first_name", "Ana")
//!     .build()?;
//! assert_eq!(lead.email.as_deref(), Some("ana@example.com"));
//!
//! let patch = PatchedLeadRequest::new().status(LeadStatus::Closed).call_dnc(true).build()?;
//! assert_eq!(patch.call_dnc, Some(true));
//!
//! // A PATCH can send `null` to clear a field the documentation shows as nullable.
//! let clear = PatchedLeadRequest::new().clear_status_reason().build()?;
//! assert_eq!(serde_json::to_value(&clear).unwrap(), serde_json::json!({"status_reason": null}));
//! # Ok::<(), sela_leads::lead::FieldError>(())
//! ```

use crate::api::required;
use crate::api::types::{LeadRequest, PatchedLeadRequest, UpdateLeadRequestRequest};
use crate::us_state::UsState;
use crate::{LeadStatus, Metadata, Nullable, StatusReason};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The largest `reengagement_count` the documentation's placeholder allows (2^31 - 1).
pub const MAX_REENGAGEMENT_COUNT: i64 = 2_147_483_647;

/// A field of a request body that cannot be sent. Names the field, never its
/// value (lead data is personal data).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {reason}")]
pub struct FieldError {
    /// The JSON name of the field.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl FieldError {
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Setters every lead body has, on a builder whose body is `self.body`.
macro_rules! common_setters {
    () => {
        /// Sets `email`.
        pub fn email(mut self, email: impl Into<String>) -> Self {
            self.body.email = Some(email.into());
            self
        }

        /// Sets `metadata` as a whole (a [`Metadata`], a JSON map or value).
        pub fn metadata(mut self, metadata: impl Into<Metadata>) -> Self {
            let metadata: Metadata = metadata.into();
            self.body.metadata = Some(Holds::hold(metadata));
            self
        }

        /// Sets one `metadata` key, keeping the others.
        pub fn meta(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
            let mut metadata: Metadata = self
                .body
                .metadata
                .take()
                .and_then(Holds::into_held)
                .unwrap_or_default();
            metadata.insert(key, value);
            self.body.metadata = Some(Holds::hold(metadata));
            self
        }

        /// Sets `status`; `LeadStatus::other("LATE_CALLBACK")?` sends a value the list lacks.
        pub fn status(mut self, status: LeadStatus) -> Self {
            self.body.status = Some(status);
            self
        }

        /// Sets `status_reason`; `StatusReason::other("...")?` sends a value the list lacks.
        pub fn status_reason(mut self, reason: StatusReason) -> Self {
            self.body.status_reason = Some(Holds::hold(reason));
            self
        }

        /// Sets `lead_type`, an id from [`crate::Client::lead_types`].
        pub fn lead_type(mut self, id: i64) -> Self {
            self.body.lead_type = Some(id);
            self
        }

        /// Sets `external_id`, the lead's id in your CRM.
        pub fn external_id(mut self, id: impl Into<String>) -> Self {
            self.body.external_id = Some(id.into());
            self
        }

        /// Sets `lead_source`.
        pub fn lead_source(mut self, source: impl Into<String>) -> Self {
            self.body.lead_source = Some(source.into());
            self
        }

        /// Sets `us_state`; `UsState::other("PR")?` sends a code the list lacks.
        pub fn us_state(mut self, state: UsState) -> Self {
            self.body.us_state = Some(state);
            self
        }

        /// Sets `call_schedule_start_time` (any time zone; sent in UTC).
        pub fn call_schedule_start_time(mut self, time: impl Into<DateTime<Utc>>) -> Self {
            self.body.call_schedule_start_time = Some(time.into());
            self
        }
    };
}

/// The re-engagement setters of the create and patch bodies.
macro_rules! reengagement_setters {
    () => {
        /// Sets `reengagement_count` (0 to 2^31 - 1, checked by `build`).
        pub fn reengagement_count(mut self, count: i64) -> Self {
            self.body.reengagement_count = Some(count);
            self
        }

        /// Sets `reengagement_time`.
        pub fn reengagement_time(mut self, time: impl Into<DateTime<Utc>>) -> Self {
            self.body.reengagement_time = Some(time.into());
            self
        }
    };
}

/// The do-not-contact setters of the patch and match-update bodies.
macro_rules! dnc_setters {
    () => {
        /// Sets `call_dnc` (true bars calling).
        pub fn call_dnc(mut self, dnc: bool) -> Self {
            self.body.call_dnc = Some(dnc);
            self
        }

        /// Sets `sms_dnc` (true bars SMS contact).
        pub fn sms_dnc(mut self, dnc: bool) -> Self {
            self.body.sms_dnc = Some(dnc);
            self
        }
    };
}

/// A body field holding a `T`: the value itself, or a PATCH's [`Nullable`]
/// (which can also be `null`), so one setter serves both.
trait Holds<T>: Sized {
    fn hold(value: T) -> Self;
    fn into_held(self) -> Option<T>;
}

macro_rules! holds {
    ($($t:ty),*) => {$(
        impl Holds<$t> for $t {
            fn hold(value: $t) -> Self {
                value
            }
            fn into_held(self) -> Option<$t> {
                Some(self)
            }
        }
        impl Holds<$t> for Nullable<$t> {
            fn hold(value: $t) -> Self {
                Nullable::Value(value)
            }
            fn into_held(self) -> Option<$t> {
                match self {
                    Nullable::Value(value) => Some(value),
                    Nullable::Null => None,
                }
            }
        }
    )*};
}
holds!(Metadata, StatusReason);

/// Checks shared by every body: what the spec states and the generated type
/// cannot enforce.
fn check_common(email: Option<&str>, phone: Option<&str>) -> Result<(), FieldError> {
    if let Some(phone) = phone
        && phone.trim().is_empty()
    {
        return Err(FieldError::new("phone_number", "is empty"));
    }
    if let Some(email) = email
        && !email.contains('@')
    {
        return Err(FieldError::new(
            "email",
            "is not an e-mail address (no `@`)",
        ));
    }
    Ok(())
}

fn check_count(count: Option<i64>) -> Result<(), FieldError> {
    match count {
        Some(n) if !(0..=MAX_REENGAGEMENT_COUNT).contains(&n) => Err(FieldError::new(
            "reengagement_count",
            format!("must be within 0..={MAX_REENGAGEMENT_COUNT}"),
        )),
        _ => Ok(()),
    }
}

/// Builds a [`LeadRequest`] (create, and each item of a bulk create): start with
/// [`LeadRequest::new`].
#[derive(Clone, Debug)]
#[must_use = "call `build()` to get the request body"]
pub struct LeadBuilder {
    body: LeadRequest,
}

impl LeadRequest {
    /// A lead with this phone number (E.164 or US format); chain setters, then
    /// [`LeadBuilder::build`].
    #[allow(clippy::new_ret_no_self)] // `Type::new(..)` starts the builder of `Type`
    pub fn new(phone_number: impl Into<String>) -> LeadBuilder {
        LeadBuilder {
            // Only the required properties are named: every optional one starts
            // at its default, so a new one in the spec needs no change here.
            body: LeadRequest::from(required::LeadRequest {
                phone_number: phone_number.into(),
            }),
        }
    }
}

impl LeadBuilder {
    common_setters!();
    reengagement_setters!();

    /// Sets `representative`.
    pub fn representative(mut self, id: i64) -> Self {
        self.body.representative = Some(id);
        self
    }

    /// Sets `min_reengagement_days`.
    pub fn min_reengagement_days(mut self, days: i64) -> Self {
        self.body.min_reengagement_days = Some(days);
        self
    }

    /// The request body, or the first field that cannot be sent.
    pub fn build(self) -> Result<LeadRequest, FieldError> {
        let b = &self.body;
        check_common(b.email.as_deref(), Some(&b.phone_number))?;
        check_count(b.reengagement_count)?;
        Ok(self.body)
    }
}

/// Builds a [`PatchedLeadRequest`] (`PATCH /api/leads/{id}/`, only the fields
/// set are sent): start with [`PatchedLeadRequest::new`].
#[derive(Clone, Debug, Default)]
#[must_use = "call `build()` to get the request body"]
pub struct LeadPatchBuilder {
    body: PatchedLeadRequest,
}

impl PatchedLeadRequest {
    /// A patch that changes nothing yet; chain setters, then [`LeadPatchBuilder::build`].
    #[allow(clippy::new_ret_no_self)] // `Type::new(..)` starts the builder of `Type`
    pub fn new() -> LeadPatchBuilder {
        LeadPatchBuilder::default()
    }
}

impl LeadPatchBuilder {
    common_setters!();
    reengagement_setters!();
    dnc_setters!();

    /// Sets `phone_number`.
    pub fn phone_number(mut self, phone: impl Into<String>) -> Self {
        self.body.phone_number = Some(phone.into());
        self
    }

    /// Sends `metadata: null`, which clears the lead's metadata.
    pub fn clear_metadata(mut self) -> Self {
        self.body.metadata = Some(Nullable::Null);
        self
    }

    /// Sends `status_reason: null`, which clears the lead's status reason.
    pub fn clear_status_reason(mut self) -> Self {
        self.body.status_reason = Some(Nullable::Null);
        self
    }

    /// The request body, or the first field that cannot be sent.
    pub fn build(self) -> Result<PatchedLeadRequest, FieldError> {
        let b = &self.body;
        check_common(b.email.as_deref(), b.phone_number.as_deref())?;
        check_count(b.reengagement_count)?;
        Ok(self.body)
    }
}

/// Builds an [`UpdateLeadRequestRequest`] (`PUT /api/leads/update/`, the lead
/// found by phone number and e-mail): start with [`UpdateLeadRequestRequest::new`].
#[derive(Clone, Debug)]
#[must_use = "call `build()` to get the request body"]
pub struct MatchUpdateBuilder {
    body: UpdateLeadRequestRequest,
}

impl UpdateLeadRequestRequest {
    /// An update of the lead with this phone number; add `.email(..)` to match
    /// on both, chain setters, then [`MatchUpdateBuilder::build`].
    #[allow(clippy::new_ret_no_self)] // `Type::new(..)` starts the builder of `Type`
    pub fn new(phone_number: impl Into<String>) -> MatchUpdateBuilder {
        MatchUpdateBuilder {
            body: UpdateLeadRequestRequest::from(required::UpdateLeadRequestRequest {
                phone_number: phone_number.into(),
            }),
        }
    }
}

impl MatchUpdateBuilder {
    common_setters!();
    dnc_setters!();

    /// The request body, or the first field that cannot be sent.
    pub fn build(self) -> Result<UpdateLeadRequestRequest, FieldError> {
        let b = &self.body;
        check_common(b.email.as_deref(), Some(&b.phone_number))?;
        Ok(self.body)
    }
}
