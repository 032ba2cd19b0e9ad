//! The clauses of the contract, by id: the one place that holds each
//! clause's id, title and one-line meaning, and where its full text is
//! ([`CONTRACT_URL`], the crate's `CONTRACT.md`, one heading per clause). The
//! text report, JUnit and JSON all take them from here.

use std::fmt;

use serde::Serialize;

/// Where the contract is written in full: the crate's `CONTRACT.md`, where
/// each clause has a heading `### <id> <title>` (see [`Clause::link`]).
pub const CONTRACT_URL: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/blob/main/crates/sela-contract/CONTRACT.md"
);

/// A clause of the contract (`CONTRACT.md`), by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Clause {
    /// Transport: status 200 or 201.
    T1,
    /// Transport: `application/json`.
    T2,
    /// Transport: the body validates against `BulkCreateLeadResponse`.
    T3,
    /// Batch: one result per item.
    B1,
    /// Batch: per-item shape of a result.
    B2,
    /// Batch: result i describes item i.
    B3,
    /// Batch: valid items' outcomes do not depend on invalid neighbours.
    B4,
    /// Batch: what is read back is exactly what was sent (fidelity).
    B5,
    /// State: distinct ids for created leads.
    S1,
    /// State: no identity created twice.
    S2,
    /// State: a request refused as a whole, or an item answered error, stores
    /// nothing.
    S3,
    /// State: requests in flight at the same time keep the clauses (at most one
    /// creation per identity, each request's results describe its own items).
    S4,
    /// State: requests in flight together, of any operation and of either
    /// account, are explained by some one-at-a-time order (linearizable).
    S5,
    /// Re-engagement: a `reengaged` answer adds one to the lead's counter and
    /// sets its re-engagement time.
    R1,
    /// Re-engagement: a do-not-contact flag set true stays true after any
    /// re-engagement.
    R2,
    /// Single create: `POST /api/leads/` creates a new identity once, never a
    /// known one, and refuses an invalid item.
    C1,
    /// PATCH is partial: sent fields change, every other field stays.
    U1,
    /// PUT by match changes exactly the lead with that phone and e-mail.
    U2,
    /// An update of phone or e-mail moves the lead's identity.
    U3,
    /// Reads are fresh: a write shows within the settle window and keeps
    /// showing.
    G1,
    /// Listing is exact: every lead once, as many as `count`.
    L1,
    /// Access: no token or a wrong token gets 401/403.
    A1,
    /// Access: a malformed body gets 400 with a JSON body.
    A2,
    /// Access: one account never sees, changes or re-engages another's leads.
    A3,
}

impl Clause {
    /// Every clause the harness checks, in `CONTRACT.md` order.
    pub const ALL: [Clause; 24] = [
        Clause::T1,
        Clause::T2,
        Clause::T3,
        Clause::B1,
        Clause::B2,
        Clause::B3,
        Clause::B4,
        Clause::B5,
        Clause::S1,
        Clause::S2,
        Clause::S3,
        Clause::S4,
        Clause::S5,
        Clause::R1,
        Clause::R2,
        Clause::C1,
        Clause::U1,
        Clause::U2,
        Clause::U3,
        Clause::G1,
        Clause::L1,
        Clause::A1,
        Clause::A2,
        Clause::A3,
    ];

    /// The id as written in `CONTRACT.md` (`T1`, ..., `A3`).
    pub fn id(self) -> &'static str {
        match self {
            Clause::T1 => "T1",
            Clause::T2 => "T2",
            Clause::T3 => "T3",
            Clause::B1 => "B1",
            Clause::B2 => "B2",
            Clause::B3 => "B3",
            Clause::B4 => "B4",
            Clause::B5 => "B5",
            Clause::S1 => "S1",
            Clause::S2 => "S2",
            Clause::S3 => "S3",
            Clause::S4 => "S4",
            Clause::S5 => "S5",
            Clause::R1 => "R1",
            Clause::R2 => "R2",
            Clause::C1 => "C1",
            Clause::U1 => "U1",
            Clause::U2 => "U2",
            Clause::U3 => "U3",
            Clause::G1 => "G1",
            Clause::L1 => "L1",
            Clause::A1 => "A1",
            Clause::A2 => "A2",
            Clause::A3 => "A3",
        }
    }

    /// One line on what the clause means.
    pub fn meaning(self) -> &'static str {
        match self {
            Clause::T1 => "an authorised, well-formed bulk request is answered 200 or 201",
            Clause::T2 => "that answer is application/json",
            Clause::T3 => "its body validates against BulkCreateLeadResponse in openapi.yaml",
            Clause::B1 => "len(results) == len(leads)",
            Clause::B2 => {
                "action is created/reengaged/error; error => id null and a message; \
                 created/reengaged => integer id and no error"
            }
            Clause::B3 => {
                "result i describes item i (invalid items get error, new valid ones are \
                 created, the lead stored under the id holds item i's fields)"
            }
            Clause::B4 => "a valid item's outcome does not depend on invalid items around it",
            Clause::B5 => {
                "what is read back is exactly what was sent: every character (outside the BMP \
                 too), doubles and integers within 2^53 by value, nested shapes, the same instant"
            }
            Clause::S1 => "two created results never carry the same id",
            Clause::S2 => {
                "an identity once created (in any US format) is never created again; \
                 reengaged carries the existing lead's id; the list count grows by the \
                 number created"
            }
            Clause::S3 => {
                "a request refused as a whole (401/403/400/413) or an item answered error \
                 stores nothing"
            }
            Clause::S4 => {
                "requests in flight together create an identity at most once and each \
                 request's results describe its own items"
            }
            Clause::S5 => {
                "requests in flight together, of any operation and of either account, get \
                 answers and leave a state that some one-at-a-time order of them explains"
            }
            Clause::R1 => {
                "a reengaged answer adds exactly one to the lead's re-engagement counter and \
                 sets its re-engagement time; a created lead starts at 0"
            }
            Clause::R2 => {
                "a lead whose call_dnc or sms_dnc was set true keeps it true after any later \
                 re-engagement"
            }
            Clause::C1 => {
                "POST /api/leads/ creates a new identity once (the count grows by one), answers \
                 or refuses a known one without creating, and refuses an invalid item with 400"
            }
            Clause::U1 => {
                "PATCH changes each sent field to the sent value and nothing else; 404 for an \
                 unknown id, 400 and no change for an invalid value"
            }
            Clause::U2 => {
                "PUT /api/leads/update/ changes exactly the lead whose phone and e-mail both \
                 match (not a household neighbour); no match is refused and changes nothing"
            }
            Clause::U3 => {
                "after an update of phone or e-mail the new identity re-engages that lead (or is \
                 refused) and the old identity is created as a new lead"
            }
            Clause::G1 => {
                "GET /api/leads/{id}/ shows an answered write within the settle window and keeps \
                 showing it"
            }
            Clause::L1 => {
                "walking GET /api/leads/ page by page lists every lead of the account exactly \
                 once, as many as count"
            }
            Clause::A1 => {
                "no Authorization, or a wrong token (near misses too), is answered 401 or 403"
            }
            Clause::A2 => {
                "a body that is not JSON, lacks leads, or whose leads is not an array is \
                 answered 400 with a JSON body"
            }
            Clause::A3 => {
                "neither account sees, changes, lists, counts or re-engages the other's leads"
            }
        }
    }

    /// The clause's title in `CONTRACT.md` (`count`, `per-item shape`, ...):
    /// its heading there is `### <id> <title>`.
    pub fn title(self) -> &'static str {
        match self {
            Clause::T1 => "status",
            Clause::T2 => "content type",
            Clause::T3 => "schema",
            Clause::B1 => "count",
            Clause::B2 => "per-item shape",
            Clause::B3 => "correspondence (order)",
            Clause::B4 => "independence",
            Clause::B5 => "fidelity",
            Clause::S1 => "distinct ids",
            Clause::S2 => "no double creation",
            Clause::S3 => "rejected requests and rejected items leave no trace",
            Clause::S4 => "concurrent requests",
            Clause::S5 => "every operation is linearizable",
            Clause::R1 => "re-engagement is recorded",
            Clause::R2 => "re-engagement keeps do-not-contact",
            Clause::C1 => "single create",
            Clause::U1 => "PATCH is partial",
            Clause::U2 => "PUT matches phone and e-mail",
            Clause::U3 => "an update moves the identity",
            Clause::G1 => "reads are fresh",
            Clause::L1 => "listing is exact",
            Clause::A1 => "auth",
            Clause::A2 => "malformed",
            Clause::A3 => "account isolation",
        }
    }

    /// The heading's anchor in `CONTRACT.md` as GitHub and crates.io make it
    /// (`b3-correspondence-order`).
    pub fn anchor(self) -> String {
        anchor_of(&format!("{} {}", self.id(), self.title()))
    }

    /// Where the clause is written in full: [`CONTRACT_URL`] and its anchor.
    pub fn link(self) -> String {
        format!("{CONTRACT_URL}#{}", self.anchor())
    }

    /// The clause with this id (`"B3"`), if any.
    pub fn from_id(id: &str) -> Option<Clause> {
        Clause::ALL
            .into_iter()
            .find(|c| c.id().eq_ignore_ascii_case(id))
    }
}

/// A Markdown heading's anchor as GitHub makes it: lower case, letters,
/// digits, `-` and `_` kept, each space a `-`, everything else dropped.
pub fn anchor_of(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

impl Serialize for Clause {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_githubs() {
        assert_eq!(Clause::B3.anchor(), "b3-correspondence-order");
        assert_eq!(Clause::U2.anchor(), "u2-put-matches-phone-and-e-mail");
        assert_eq!(anchor_of("A3 account isolation"), "a3-account-isolation");
        assert!(
            Clause::B3
                .link()
                .ends_with("/CONTRACT.md#b3-correspondence-order")
        );
        let anchors: std::collections::BTreeSet<String> =
            Clause::ALL.iter().map(|c| c.anchor()).collect();
        assert_eq!(anchors.len(), Clause::ALL.len(), "one anchor per clause");
    }
}
