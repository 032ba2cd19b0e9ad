//! Mixed batches: any item, weighted towards valid leads, in batches that
//! repeat identities within and across batches; rendered to JSON on demand.

use std::sync::{Arc, Mutex, PoisonError};

use proptest::prelude::*;

use super::identities::Identities;
use super::odd::{invalid_object_item, maybe_item, non_object_item};
use super::spec::{GenItem, ItemSpec, Options};
use super::valid::valid_item;

/// Any item, weighted towards valid leads.
pub fn any_item(opts: &Options) -> BoxedStrategy<ItemSpec> {
    prop_oneof![
        5 => valid_item(opts),
        1 => non_object_item(),
        2 => invalid_object_item(opts),
        2 => maybe_item(opts),
    ]
    .boxed()
}

/// A batch of 0..=`max_batch` mixed items, with identities repeated inside the
/// batch (fresh slots) and across batches (pooled slots).
pub fn batch(opts: &Options) -> BoxedStrategy<Vec<ItemSpec>> {
    proptest::collection::vec(any_item(opts), 0..=opts.max_batch).boxed()
}

/// Batches of concrete items (mixed as [`batch`]): each generated or shrunk
/// value gets fresh identities from one shared [`Identities`] tagged `tag`.
pub fn rendered_batch(opts: &Options, tag: &str) -> BoxedStrategy<Vec<GenItem>> {
    let ids = Arc::new(Mutex::new(Identities::new(tag, 0, opts.pool_size)));
    batch(opts)
        .prop_map(move |specs| {
            ids.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .render(&specs)
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use serde_json::Value;

    #[test]
    fn numbers_are_fictional_and_emails_tagged() {
        let opts = Options::default();
        let mut runner = TestRunner::deterministic();
        let mut ids = Identities::new("tag", 5, 4);
        for _ in 0..200 {
            let specs = batch(&opts).new_tree(&mut runner).unwrap().current();
            for item in ids.render(&specs) {
                if let Some(phone) = item.value.get("phone_number").and_then(Value::as_str) {
                    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
                    // `+1` and eleven digits: its first ten are the slot's number.
                    let overlong = digits.len() == 12 && phone.starts_with("+1");
                    if digits.len() >= 10 {
                        let national = if overlong {
                            &digits[1..11]
                        } else {
                            &digits[digits.len() - 10..]
                        };
                        assert_eq!(&national[3..6], "555", "{phone}");
                        let line: u32 = national[6..].parse().unwrap();
                        assert!((100..=199).contains(&line), "{phone}");
                    }
                }
                if let Some(email) = item.value.get("email").and_then(Value::as_str)
                    && email.contains('@')
                    && !email.contains(' ')
                {
                    assert!(
                        email.to_ascii_lowercase().ends_with(".tag@example.com"),
                        "{email}"
                    );
                }
            }
        }
    }
}
