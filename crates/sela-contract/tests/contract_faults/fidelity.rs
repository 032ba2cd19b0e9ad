//! B5 fidelity: servers that store what they were sent with less fidelity,
//! as real ones do, fail B5 alone; a server that rounds integers beyond 2^53
//! (RFC 8259 allows it) passes.

use serde_json::{Number, Value};

use crate::common::{assert_only, assert_passes, clause, run_with, sandbox_answer};
use crate::kit::{is_write, map_leaves, with_body};

/// The sandbox, with every write's body passed through `store` first: what
/// the database column keeps of what was sent.
fn run_storing(store: impl Fn(&mut Value) + Send + Sync + 'static) -> sela_contract::Report {
    run_with(8, move |state, req| {
        if is_write(req)
            && let Some(mut body) = req.json()
        {
            map_leaves(&mut body, &store);
            return sandbox_answer(state, &with_body(req, &body)).into();
        }
        sandbox_answer(state, req).into()
    })
}

// Pins: checker/operations/scenario.rs `check_fidelity` (its B5 `fidelity`
// failure)
#[test]
fn b5_mysql_utf8mb3_replacing_characters_outside_the_bmp_is_caught() {
    // MySQL's `utf8` (utf8mb3) has no 4-byte characters: emoji and other
    // characters outside the BMP become `?`.
    let r = run_storing(|v| {
        if let Value::String(s) = v {
            *s = s
                .chars()
                .map(|c| if u32::from(c) > 0xFFFF { '?' } else { c })
                .collect();
        }
    });
    assert_only(
        &r,
        &[clause("B5")],
        "only characters outside the BMP are lost",
    );
}

// Pins: checker/operations/scenario.rs `check_fidelity` (its B5 `fidelity`
// failure)
#[test]
fn b5_a_float32_column_is_caught() {
    // `7.1` stored in a 32-bit float reads back `7.099999904632568`.
    let r = run_storing(|v| {
        if let Value::Number(n) = v
            && n.is_f64()
            && let Some(x) = n.as_f64()
            && let Some(f) = Number::from_f64(f64::from(x as f32))
        {
            *v = Value::Number(f);
        }
    });
    assert_only(&r, &[clause("B5")], "only doubles lose precision");
}

// Pins: checker/operations/scenario.rs `check_fidelity` (its B5 `fidelity`
// failure)
#[test]
fn b5_a_dropped_time_offset_is_caught() {
    // `2027-01-15T09:00:00-08:00` stored as `2027-01-15T09:00:00` in UTC.
    let r = run_storing(|v| {
        if let Value::String(s) = v
            && s.len() == 25
            && s.as_bytes().get(10) == Some(&b'T')
            && matches!(s.as_bytes()[19], b'+' | b'-')
        {
            *s = format!("{}Z", &s[..19]);
        }
    });
    assert_only(&r, &[clause("B5")], "only the call time's offset is lost");
}

// Pins: operations/fidelity.rs `compare` (a number beyond 2^53 read back as
// the nearest double is the same number: no false B5)
#[test]
fn integers_beyond_2_53_rounded_to_doubles_pass() {
    // RFC 8259: an implementation may keep numbers as doubles only.
    let r = run_storing(|v| {
        if let Value::Number(n) = v
            && let Some(i) = n
                .as_i64()
                .map(|i| i as f64)
                .or_else(|| n.as_u64().map(|u| u as f64))
            && i.abs() > 9_007_199_254_740_992.0
            && let Some(f) = Number::from_f64(i)
        {
            *v = Value::Number(f);
        }
    });
    assert_passes(&r);
}
