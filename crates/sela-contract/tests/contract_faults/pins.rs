//! The checks a fault test switches off so that only the check it pins can
//! catch its fault (see PINS.md): where the harness catches one fault in
//! several places, deleting the pinned check alone would leave the test
//! green. Consulted by [`crate::common::config`] for the running test (the
//! test thread's name), so the tests keep their one-line runs.

/// Test (as `cargo test` names it) and the checks its runs switch off
/// (`Config::skip_checks` names).
pub const OTHERS_OFF: &[(&str, &[&str])] = &[
    (
        "batch::b3_overlong_number_cut_to_ten_is_caught",
        &["B3 read-back"],
    ),
    (
        "batch::b3_reversed_results_are_caught",
        &["B3 expected outcome"],
    ),
    (
        "external_ids::b3_reengaging_by_external_id_is_caught",
        &["B3 read-back"],
    ),
    (
        "harmless::another_writer_on_a_shared_account_passes_only_with_the_flag",
        &["S2 list count@checker/concurrency.rs"],
    ),
    (
        "identity::b3_duplicate_rule_on_the_email_only_is_caught",
        &["B3 read-back"],
    ),
    (
        "identity::b3_duplicate_rule_on_the_phone_only_is_caught",
        &["B3 expected outcome"],
    ),
    (
        "identity::b3_new_leads_answered_reengaged_are_caught",
        &["B3 created by none"],
    ),
    (
        "identity::s2_dedup_across_requests_only_is_caught",
        &["S2 created twice in flight"],
    ),
    (
        "identity::s2_dedup_within_a_batch_only_is_caught",
        &[
            "S2 created twice in flight",
            "S2 new identity@checker/operations/sequences/resends.rs",
            "S2 reengaged id",
            "S2 list count",
        ],
    ),
    (
        "identity::s2_reengaged_with_another_leads_id_is_caught",
        &["S2 reengaged id@checker/concurrency.rs"],
    ),
    (
        "lanes::s1_one_id_given_to_creates_in_two_lanes_is_caught",
        &["S1 id reused@checker/bulk.rs"],
    ),
    (
        "operations::c1_single_create_without_deduplication_is_caught",
        &["C1 list count"],
    ),
    (
        "operations::g1_a_read_cache_never_invalidated_is_caught",
        &["G1 keeps showing"],
    ),
    (
        "operations::u1_patch_clearing_fields_not_sent_is_caught",
        &["U1 partial@checker/operations/sequences/steps.rs"],
    ),
    (
        "operations::u2_put_creating_a_lead_when_nothing_matches_is_caught",
        &["U2 list count"],
    ),
    (
        "operations::u2_put_updating_every_lead_with_the_phone_number_is_caught",
        &["U2 no match"],
    ),
    (
        "operations::u3_identity_index_not_rebuilt_after_an_update_is_caught",
        &[
            "U3 old identity",
            "U3 new identity@checker/operations/sequences/resends.rs",
        ],
    ),
    (
        "reengagement::r1_concurrent_reengagements_losing_updates_are_caught",
        &[
            "R1 counter@checker/operations/scenario.rs:167",
            "R1 counter@checker/operations/updates.rs",
            "R1 counter@checker/operations/sequences/resends.rs",
        ],
    ),
    (
        "reengagement::r1_counter_not_incremented_is_caught",
        &[
            "R1 counter@checker/operations/scenario.rs:167",
            "R1 counter@checker/operations/updates.rs",
            "R1 counter@checker/operations/sequences/resends.rs",
        ],
    ),
    (
        "reengagement::r2_reengagement_clearing_do_not_contact_is_caught",
        &[
            "R2 keeps do-not-contact@checker/operations/updates.rs",
            "R2 keeps do-not-contact@checker/operations/sequences/resends.rs",
        ],
    ),
    (
        "settle::reads_lagging_beyond_the_window_fail",
        &["S2 list count@checker/concurrency.rs"],
    ),
    (
        "sizes::b3_misordered_results_past_100_items_are_caught",
        &["B3 read-back"],
    ),
    (
        "sizes::b3_reversed_results_past_500_items_are_caught",
        &["B3 read-back"],
    ),
    (
        "state::s1_ids_shared_by_two_leads_without_read_back_is_caught",
        &["S1 id reused@checker/waves.rs"],
    ),
    (
        "state::s2_dedup_on_the_phone_text_as_sent_is_caught",
        &["S2 created twice in flight"],
    ),
    (
        "state::s2_duplicate_answered_created_is_caught",
        &["S2 list count"],
    ),
    (
        "state::s2_s3_ambiguous_count_growth_fails_both",
        &["S2 list count@checker/concurrency.rs"],
    ),
    (
        "state::s2_second_copy_stored_on_reengagement_is_caught",
        &[
            "S2 list count@checker/concurrency.rs",
            "S2 list count@checker/waves.rs",
            "S2 list count@checker/operations/scenario.rs",
        ],
    ),
    (
        "state::s3_item_answered_error_but_stored_is_caught",
        &["S3 later creation"],
    ),
    (
        "state::s3_leads_stored_then_401_is_caught",
        &["S3 later creation"],
    ),
    (
        "state::s3_malformed_body_refused_400_but_stored_is_caught",
        &["S3 later creation"],
    ),
    (
        "state::s3_oversize_batch_refused_413_but_partly_stored_is_caught",
        &["S3 later creation"],
    ),
];

/// The checks the running test switches off.
pub fn others_off() -> Vec<String> {
    let test = std::thread::current().name().unwrap_or_default().to_owned();
    OTHERS_OFF
        .iter()
        .filter(|(t, _)| *t == test)
        .flat_map(|(_, checks)| checks.iter().map(|c| (*c).to_owned()))
        .collect()
}
