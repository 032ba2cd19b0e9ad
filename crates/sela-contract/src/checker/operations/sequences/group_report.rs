//! S5's failure detail for a concurrent group: the group, the state
//! before, what each request got, the state after, why no order explains
//! them, and the curl lines that send the group together again.

use super::linear::Unexplained;
use super::ops::{Answer, Op};
use super::state::{GroupState, LeadState};
use crate::target::Exchange;

/// S5's detail: the group, the state before, each answer, the state after,
/// why no order explains them, and how to send the group together again.
pub(super) fn describe_failure(
    (group, how): (u64, &str),
    id: i64,
    init: &GroupState,
    history: &[(Op, Answer)],
    exchanges: &[Exchange],
    (read, grew): (&LeadState, Option<u64>),
    why: &Unexplained,
) -> String {
    let mut out = format!(
        "group {group}: {} requests in flight together ({how}) on lead {id}; before: {}. ",
        history.len(),
        init.lead
    );
    for (i, (op, answer)) in history.iter().enumerate() {
        let status = answer
            .status
            .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
        out.push_str(&format!("Request {i} ({op}) answered {status}. "));
    }
    out.push_str(&format!("Read after: {read}"));
    if let Some(g) = grew {
        out.push_str(&format!(", the list count grew by {g}"));
    }
    out.push_str(". ");
    match why {
        Unexplained::State { ends } => {
            let ends: Vec<String> = ends
                .iter()
                .map(|e| format!("{} (count +{})", e.lead, e.created))
                .collect();
            out.push_str(&format!(
                "Every order that explains the answers ends with {}; no order explains the \
                 state read.",
                ends.join(" or ")
            ));
        }
        Unexplained::Answers { placed, next, why } => {
            let placed: Vec<String> = placed.iter().map(|i| format!("request {i}")).collect();
            out.push_str(&format!(
                "No order explains every answer: after {}, request {next} cannot come next: {why}.",
                if placed.is_empty() {
                    "nothing".to_owned()
                } else {
                    placed.join(", ")
                }
            ));
        }
    }
    let again: Vec<String> = exchanges
        .iter()
        .map(|e| format!("{} &", e.curl()))
        .collect();
    out.push_str(&format!(
        " Send them together again: {} wait",
        again.join(" ")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failure_says_before_answers_after_and_why() {
        let init = GroupState::before(LeadState::of(&json!({"lead_source": "a"})));
        let history = vec![(
            Op::Get { judged: true },
            Answer {
                status: Some(200),
                body: None,
            },
        )];
        let read = LeadState::of(&json!({"lead_source": "b"}));
        let text = describe_failure(
            (3, "sent concurrently"),
            7,
            &init,
            &history,
            &[],
            (&read, Some(0)),
            &Unexplained::State {
                ends: vec![init.clone()],
            },
        );
        assert!(text.contains("before: lead_source \"a\""), "{text}");
        assert!(text.contains("Request 0 (GET) answered 200"), "{text}");
        assert!(text.contains("Read after: lead_source \"b\""), "{text}");
        assert!(text.contains("ends with lead_source \"a\""), "{text}");
    }
}
