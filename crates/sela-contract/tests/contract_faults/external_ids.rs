//! B3: a server that takes `external_id` for the person. CRMs reuse their ids
//! across pipelines, so the run sends new identities with an `external_id`
//! already used (issue 25's missed fault); a server that re-engages the lead
//! stored with that id, whatever the item's phone and e-mail, answers a new
//! person `reengaged` and fails B3.

use serde_json::Value;

use crate::common::{
    assert_only_or, authorised, clause, is_bulk, leads_of, run_with, sandbox_answer,
};
use crate::kit::{all_leads, with_body};

// Pins: strategies/identities.rs `fill_serial` (every fourth item reuses an
// external id sent three items earlier) and checker/bulk.rs's expected
// outcome (a certainly new identity must be `created`).
#[test]
fn b3_reengaging_by_external_id_is_caught() {
    let report = run_with(8, |state, req| {
        if is_bulk(req)
            && authorised(req)
            && let Some(mut leads) = leads_of(req)
        {
            let stored = all_leads(state);
            for item in leads.iter_mut() {
                let Some(ext) = item.get("external_id").filter(|e| e.is_string()).cloned() else {
                    continue;
                };
                // The stored lead with this id becomes the item's identity.
                if let Some(lead) = stored.iter().find(|l| l.get("external_id") == Some(&ext))
                    && let Some(obj) = item.as_object_mut()
                {
                    for key in ["phone_number", "email"] {
                        obj.insert(key.into(), lead.get(key).cloned().unwrap_or(Value::Null));
                    }
                }
            }
            let body = serde_json::json!({ "leads": leads });
            return sandbox_answer(state, &with_body(req, &body)).into();
        }
        sandbox_answer(state, req).into()
    });
    // The new person's lead is never created: the count, the read-back of
    // the re-engaged lead (it now holds the other person's fields), the
    // identity sent later, a valid item's outcome next to others (B4) and the
    // count after an item answered error (S3) may show it too.
    assert_only_or(
        &report,
        &[clause("B3")],
        &[
            clause("S2"),
            clause("S3"),
            clause("B4"),
            clause("B5"),
            clause("S4"),
            clause("R1"),
            clause("U3"),
        ],
        "an item with a reused external_id is answered for the lead stored with it",
    );
}
