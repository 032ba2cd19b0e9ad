//! Harmless: list pages whose `next` links name another host (a proxy that
//! writes its upstream's address, `http://internal-lb:8000/...`). The harness
//! walks them as the SDK does, the link's page on the base URL, and never
//! sends the key elsewhere (issue 25's false alarm).

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{assert_passes, authorised, run_with, sandbox_answer};
use crate::kit::{Paging, is_list, list_page};

// Pins: checker/operations/reads.rs `relative` (a foreign `next` link's query
// on the base URL).
#[test]
fn next_links_naming_another_host_are_walked_on_the_base_url() {
    let later_pages = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = later_pages.clone();
    let report = run_with(8, move |state, req| {
        if is_list(req) && authorised(req) {
            if req.uri.contains("page=") {
                seen.fetch_add(1, Ordering::SeqCst);
            }
            return list_page(state, req, "http://internal-lb:8000/", Paging::default());
        }
        sandbox_answer(state, req).into()
    });
    assert_passes(&report);
    assert!(
        later_pages.load(Ordering::SeqCst) > 0,
        "no page after the first was asked for:\n{report}"
    );
    assert!(
        report
            .observations
            .iter()
            .any(|o| o.contains("http://internal-lb:8000/api/leads/?page=")),
        "the foreign link is not reported:\n{report}"
    );
}
