//! The evidence of one clause failure: the detail, how shrinking went, the
//! (shrunk) batch or sequence, and every exchange with its `curl` line.

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use serde_json::{Value, json};

use crate::clauses::Clause;
use crate::exchange::Exchange;

/// The evidence of one clause failure.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// The clause that failed.
    pub clause: Clause,
    /// What went wrong, in one line.
    pub detail: String,
    /// The (shrunk) batch, as sent, with each item's category.
    #[serde(serialize_with = "items_json")]
    pub batch: Vec<(String, Value)>,
    /// The requests and answers involved, in order.
    #[serde(serialize_with = "exchanges_json")]
    pub exchanges: Vec<Exchange>,
    /// How shrinking went for this clause.
    pub shrink: Shrink,
    /// Why the example may not reproduce on its own, when the target's state
    /// (leads created earlier in the run) matters to it.
    pub state_note: Option<String>,
    /// Where the failure was recorded (`checker/bulk.rs:72`), for the fault
    /// tests that pin each check (`tests/contract_faults/PINS.md`).
    #[doc(hidden)]
    #[serde(skip)]
    pub site: String,
}

/// How shrinking went for one failing clause.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Shrink {
    /// True for a generated case (shrinkable); false for a fixed probe of the
    /// run (the size probe, the formats re-send, the final read-back check).
    pub generated: bool,
    /// Re-executions spent shrinking.
    pub steps: u32,
    /// Steps that still broke the clause (the example is smaller than the
    /// first failing case when this is above zero).
    pub accepted: u32,
    /// True when shrinking stopped because it used its whole budget
    /// (`max_shrink_steps`), not because no smaller case failed.
    pub stopped_on_budget: bool,
    /// Milliseconds spent shrinking (`--time-budget` covers it).
    pub millis: u64,
}

impl Failure {
    /// The evidence as text (the text report and JUnit's `<failure>` use it):
    /// the detail, how shrinking went, the batch, and each request, response
    /// and `curl` line (the key shown as `$SELA_API_KEY`).
    pub fn evidence(&self) -> String {
        let mut out = format!("{}\n", self.detail);
        let s = &self.shrink;
        let how = match (s.accepted, s.stopped_on_budget) {
            _ if !s.generated => "not shrunk: a fixed probe of the run".to_owned(),
            (0, false) if s.steps == 0 => "already minimal".to_owned(),
            (0, false) => format!("no smaller case failed the same way ({} tried)", s.steps),
            (0, true) => format!("not shrunk: the budget of {} steps ran out", s.steps),
            (n, false) => format!("shrunk in {n} of {} steps to a minimal case", s.steps),
            (n, true) => format!(
                "shrunk in {n} of {} steps; shrinking stopped on its budget, a smaller \
                 case may exist",
                s.steps
            ),
        };
        if s.steps > 0 {
            out.push_str(&format!(
                "shrinking: {how}, in {:.1} s\n",
                s.millis as f64 / 1000.0
            ));
        } else {
            out.push_str(&format!("shrinking: {how}\n"));
        }
        if let Some(note) = &self.state_note {
            out.push_str(&format!("reproducing: {note}\n"));
        }
        if !self.batch.is_empty() {
            // A stateful sequence's evidence is its steps (`sequence step 1: ...`).
            let steps = self
                .batch
                .iter()
                .all(|(l, _)| l.starts_with("sequence step "));
            let (what, unit) = if steps {
                ("sequence", "steps")
            } else {
                ("batch", "items")
            };
            let label = if s.accepted > 0 {
                format!("shrunk {what}")
            } else {
                what.to_owned()
            };
            out.push_str(&format!("{label} ({} {unit}):\n", self.batch.len()));
            for (i, (category, item)) in self.batch.iter().enumerate() {
                out.push_str(&format!("  [{i}] {category}: {item}\n"));
            }
        }
        for ex in &self.exchanges {
            out.push_str(&format!("request:  {}\n", ex.request_json()));
            out.push_str(&format!("response: {}\n", ex.response_json()));
            out.push_str(&format!("reproduce: {}\n", ex.curl()));
        }
        out
    }
}

/// A batch as `[{"category": .., "item": ..}]`.
fn items_json<S: Serializer>(items: &[(String, Value)], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(items.len()))?;
    for (category, item) in items {
        seq.serialize_element(&json!({"category": category, "item": item}))?;
    }
    seq.end()
}

/// Exchanges as `[{"request": .., "response": .., "curl": ..}]`, the key shown
/// as `$SELA_API_KEY`.
fn exchanges_json<S: Serializer>(exchanges: &[Exchange], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(exchanges.len()))?;
    for ex in exchanges {
        seq.serialize_element(&json!({
            "request": ex.request_json(),
            "response": ex.response_json(),
            "curl": ex.curl(),
        }))?;
    }
    seq.end()
}
