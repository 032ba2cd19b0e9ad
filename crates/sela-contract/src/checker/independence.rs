//! Property 2 (B4): the same valid items alone and with invalid ones
//! interleaved get the same outcomes.

use proptest::strategy::Strategy;

use super::Harness;
use super::case::CaseOutcome;
use super::text::status_text;
use super::waves::Sides;
use crate::report::Clause;
use crate::strategies::IndependenceCase;

impl Harness<'_> {
    /// Property 2: the same valid items alone and with invalid ones interleaved
    /// (B4, plus T1-T3, B1-B3, S1, S2 on both answers).
    pub(crate) fn run_independence(&mut self, strategy: &impl Strategy<Value = IndependenceCase>) {
        self.cases(strategy, self.config.cases, Sides::Lanes, |h, case| {
            let mut out = CaseOutcome::default();
            let alone = h.ids.render(&case.valid);
            let (specs, positions) = case.interleaved();
            let mixed = h.ids.render(&specs);
            let (na, nm) = (Self::creatable(&alone), Self::creatable(&mixed));
            if !h.reserve(na + nm) {
                out.skipped = true;
                return out;
            }
            let ex_a = h.post_batch(&alone);
            let res_a = h.check_bulk(&alone, &ex_a, &mut out, &[], na);
            let ex_m = h.post_batch(&mixed);
            let res_m = h.check_bulk(&mixed, &ex_m, &mut out, &[], nm);
            let Some(res_a) = res_a else { return out };
            out.check(Clause::B4);
            let evidence = vec![ex_a.clone(), ex_m.clone()];
            let Some(res_m) = res_m else {
                // Only a refusal of the whole batch (4xx) is B4's; an unusable
                // 2xx or a server error is already T1's, T3's or B1's.
                if !matches!(ex_m.status, Some(400..=499)) {
                    return out;
                }
                out.fail(
                    Clause::B4, "independence",
                    format!(
                        "the valid items alone were answered {} with per-item results, but \
                         with invalid items interleaved the batch was refused whole ({})",
                        ex_a.status.unwrap_or(0),
                        status_text(&ex_m)
                    ),
                    &mixed,
                    evidence,
                );
                return out;
            };
            for (k, &pos) in positions.iter().enumerate() {
                let (a, m) = (&res_a[k], &res_m[pos]);
                if a.action != m.action {
                    out.fail(
                        Clause::B4, "independence",
                        format!(
                            "valid item {k} was {} alone but {} as item {pos} among invalid items",
                            a.action.as_deref().unwrap_or("?"),
                            m.action.as_deref().unwrap_or("?")
                        ),
                        &mixed,
                        evidence.clone(),
                    );
                    return out;
                }
            }
            for k in 0..positions.len() {
                for l in 0..k {
                    let same_a = res_a[k].id.is_some() && res_a[k].id == res_a[l].id;
                    let same_m =
                        res_m[positions[k]].id.is_some() && res_m[positions[k]].id == res_m[positions[l]].id;
                    if same_a != same_m {
                        out.fail(
                            Clause::B4, "independence",
                            format!(
                                "valid items {l} and {k} {} the same id alone but {} among invalid items",
                                if same_a { "shared" } else { "did not share" },
                                if same_m { "share one" } else { "do not" }
                            ),
                            &mixed,
                            evidence.clone(),
                        );
                        return out;
                    }
                }
            }
            out
        });
    }
}
