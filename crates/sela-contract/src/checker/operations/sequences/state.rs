//! The model of a concurrent group's part of the account (S5): the fields
//! of the group's lead that its requests write, and what the group created.
//! [`linear`](super::linear) searches orders over these states.

use std::fmt;

use serde_json::Value;

use crate::checker::operations::counter;

/// The metadata key a group's PATCHes write (one key, so that merging and
/// replacing `metadata` give the same state).
pub(super) const META_KEY: &str = "seq_patch";

/// The fields of the group's lead that the model follows.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct LeadState {
    pub(super) lead_source: Value,
    pub(super) us_state: Value,
    pub(super) meta: Value,
    pub(super) call_dnc: bool,
    pub(super) sms_dnc: bool,
    /// The re-engagement counter, when the target shows one.
    pub(super) counter: Option<i64>,
}

impl LeadState {
    /// The followed fields of `lead` as read.
    pub(super) fn of(lead: &Value) -> Self {
        LeadState {
            lead_source: lead.get("lead_source").cloned().unwrap_or(Value::Null),
            // A state's code in another case is the same state.
            us_state: match lead.get("us_state") {
                Some(Value::String(s)) => Value::String(s.to_ascii_uppercase()),
                other => other.cloned().unwrap_or(Value::Null),
            },
            meta: lead
                .get("metadata")
                .and_then(|m| m.get(META_KEY))
                .cloned()
                .unwrap_or(Value::Null),
            call_dnc: lead.get("call_dnc") == Some(&Value::Bool(true)),
            sms_dnc: lead.get("sms_dnc") == Some(&Value::Bool(true)),
            counter: counter(lead),
        }
    }

    /// What `lead` shows differently from this state, if anything: only the
    /// fields it shows are compared (an answer may show part of the lead),
    /// the counter only when both know one.
    pub(super) fn differs(&self, lead: &Value) -> Option<String> {
        let got = LeadState::of(lead);
        let shown = |name: &str| {
            let key = name.split('.').next().unwrap_or(name);
            lead.get(key).is_some()
        };
        let mut out = Vec::new();
        /// Notes field `name` when it is shown and differs.
        fn field<T: PartialEq + fmt::Display>(
            out: &mut Vec<String>,
            shown: bool,
            name: &str,
            want: &T,
            got: &T,
        ) {
            if shown && want != got {
                out.push(format!("{name} {got} (expected {want})"));
            }
        }
        let meta = format!("metadata.{META_KEY}");
        field(
            &mut out,
            shown("lead_source"),
            "lead_source",
            &self.lead_source,
            &got.lead_source,
        );
        field(
            &mut out,
            shown("us_state"),
            "us_state",
            &self.us_state,
            &got.us_state,
        );
        field(&mut out, shown(&meta), &meta, &self.meta, &got.meta);
        field(
            &mut out,
            shown("call_dnc"),
            "call_dnc",
            &self.call_dnc,
            &got.call_dnc,
        );
        field(
            &mut out,
            shown("sms_dnc"),
            "sms_dnc",
            &self.sms_dnc,
            &got.sms_dnc,
        );
        if let (Some(want), Some(have)) = (self.counter, got.counter)
            && want != have
        {
            out.push(format!("reengagement_count {have} (expected {want})"));
        }
        (!out.is_empty()).then(|| out.join(", "))
    }
}

impl fmt::Display for LeadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lead_source {}, us_state {}, metadata.{META_KEY} {}, call_dnc {}, sms_dnc {}",
            self.lead_source, self.us_state, self.meta, self.call_dnc, self.sms_dnc
        )?;
        if let Some(c) = self.counter {
            write!(f, ", reengagement_count {c}")?;
        }
        Ok(())
    }
}

/// What the group's requests can change: the lead, the new identity and how
/// many leads each account gained.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct GroupState {
    pub(super) lead: LeadState,
    /// The id the group's new identity was created under, once it was.
    pub(super) fresh: Option<i64>,
    /// Leads the group created in the account (the list count's growth).
    pub(super) created: u64,
    /// Leads the other account's requests created there.
    pub(super) other_created: u64,
}

impl GroupState {
    /// Before the group: the lead as read, nothing created.
    pub(super) fn before(lead: LeadState) -> Self {
        GroupState {
            lead,
            fresh: None,
            created: 0,
            other_created: 0,
        }
    }
}
