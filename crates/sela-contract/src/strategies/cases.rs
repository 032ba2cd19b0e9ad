//! Composite cases of the properties: independence (B4), refusals (A1, A2,
//! S3), concurrent requests (S4) and sized batches.

use proptest::prelude::*;
use proptest::sample::{Index, select};

use super::odd::{invalid_item, invalid_object_item, maybe_phone_form};
use super::spec::{Category, EmailSpec, ItemSpec, Options, PhoneSpec, Slot};
use super::valid::{fresh_valid_batch, valid_item_in};

/// The two batches of an independence case (B4): `valid` alone, and the same
/// valid items with `invalid` ones inserted at the given positions.
#[derive(Clone, Debug)]
pub struct IndependenceCase {
    /// Certainly valid leads with fresh slots (some repeated).
    pub valid: Vec<ItemSpec>,
    /// Certainly invalid items and where each goes among the valid ones.
    pub invalid: Vec<(Index, ItemSpec)>,
}

impl IndependenceCase {
    /// The interleaved batch and, for each valid item, its index in it.
    pub fn interleaved(&self) -> (Vec<ItemSpec>, Vec<usize>) {
        let mut inserts: Vec<(usize, &ItemSpec)> = self
            .invalid
            .iter()
            .map(|(at, item)| (at.index(self.valid.len() + 1), item))
            .collect();
        inserts.sort_by_key(|(at, _)| *at);
        let mut out = Vec::new();
        let mut positions = Vec::new();
        let mut next = inserts.into_iter().peekable();
        for (i, item) in self.valid.iter().enumerate() {
            while let Some((_, bad)) = next.next_if(|(at, _)| *at <= i) {
                out.push(bad.clone());
            }
            positions.push(out.len());
            out.push(item.clone());
        }
        for (_, bad) in next {
            out.push(bad.clone());
        }
        (out, positions)
    }
}

/// An independence case: up to `max_batch / 2` valid leads (with repeats), and
/// at least one certainly invalid item interleaved.
pub fn independence_case(opts: &Options) -> BoxedStrategy<IndependenceCase> {
    let n = (opts.max_batch / 2).max(1);
    let slots = (0..n as u8).prop_map(Slot::Fresh).boxed();
    (
        proptest::collection::vec(valid_item_in(opts, slots), 1..=n),
        proptest::collection::vec((any::<Index>(), invalid_item(opts)), 1..=n),
    )
        .prop_map(|(valid, invalid)| IndependenceCase { valid, invalid })
        .boxed()
}

/// How a request is made unacceptable as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization` header.
    MissingToken,
    /// `Authorization: Token <a wrong key>`.
    WrongToken,
    /// `Authorization: <a wrong key>` (no `Token` prefix).
    WrongBareToken,
    /// The body is not JSON (the batch's JSON, cut short).
    NotJson,
    /// The body is an empty string.
    EmptyBody,
    /// The body is the batch itself, not an object holding it.
    BareArray,
    /// The batch under another key (`lead`).
    NoLeadsKey,
    /// `leads` is an object keyed by position.
    LeadsObject,
    /// `leads` is a string.
    LeadsString,
    /// `leads` is null.
    LeadsNull,
    /// A near miss of the real token (A1): the n-th of the last character
    /// changed, the last character dropped, one character added, the case
    /// flipped, the right token under `Bearer`.
    NearMiss(u8),
    /// Not a refused request: the same identities sent first as certainly
    /// invalid items (an unknown US state), which must all be answered `error`
    /// and leave no trace (S3).
    ItemsInvalid,
}

/// How many near misses of the token there are ([`Refusal::NearMiss`]).
pub const NEAR_MISSES: u8 = 5;

impl Refusal {
    /// True for the refusals about authentication (401/403), false for malformed
    /// bodies (400).
    pub fn is_auth(self) -> bool {
        matches!(
            self,
            Refusal::MissingToken
                | Refusal::WrongToken
                | Refusal::WrongBareToken
                | Refusal::NearMiss(_)
        )
    }

    /// Every way of refusing, near misses included.
    pub fn all() -> Vec<Refusal> {
        let mut all = vec![
            Refusal::MissingToken,
            Refusal::WrongToken,
            Refusal::WrongBareToken,
            Refusal::NotJson,
            Refusal::EmptyBody,
            Refusal::BareArray,
            Refusal::NoLeadsKey,
            Refusal::LeadsObject,
            Refusal::LeadsString,
            Refusal::LeadsNull,
            Refusal::ItemsInvalid,
        ];
        all.extend((0..NEAR_MISSES).map(Refusal::NearMiss));
        all
    }
}

/// Any way of refusing a request as a whole.
pub fn refusal() -> BoxedStrategy<Refusal> {
    select(Refusal::all()).boxed()
}

/// A refusal case: a batch of fresh certainly valid leads and the refusals
/// sent with its identities before it is sent properly.
pub fn refusal_case(opts: &Options) -> BoxedStrategy<(Vec<ItemSpec>, Vec<Refusal>)> {
    (
        fresh_valid_batch(opts, opts.max_batch.min(3)),
        proptest::sample::subsequence(Refusal::all(), 1..=Refusal::all().len()),
    )
        .boxed()
}

/// Several requests sent at the same time (S4): each holds items of identities
/// shared by all the requests (fresh slots 0-2, in several phone formats),
/// identities of its own, and invalid items.
#[derive(Clone, Debug)]
pub struct ConcurrencyCase {
    /// One batch per request in flight.
    pub requests: Vec<Vec<ItemSpec>>,
}

/// A concurrency case of `in_flight` requests (2 to 16; shrinking may send
/// fewer).
pub fn concurrency_case(opts: &Options, in_flight: usize) -> BoxedStrategy<ConcurrencyCase> {
    let in_flight = in_flight.clamp(2, 16);
    let shared = (0u8..3).prop_map(Slot::Fresh).boxed();
    let shared_item = prop_oneof![
        3 => valid_item_in(opts, shared.clone()),
        1 => (shared, maybe_phone_form()).prop_map(|(slot, form)| {
            ItemSpec {
                category: Category::Maybe,
                kind: "phone in a US format",
                slot: Some(slot),
                phone: PhoneSpec::Slot(form),
                email: EmailSpec::Slot,
                fields: Vec::new(),
                whole: None,
            }
        }),
    ];
    let request = |r: usize| {
        let own = (0u8..2)
            .prop_map(move |k| Slot::Fresh(8 + 2 * r as u8 + k))
            .boxed();
        (
            proptest::collection::vec(shared_item.clone(), 1..=3),
            proptest::collection::vec(valid_item_in(opts, own), 0..=2),
            proptest::option::of(invalid_item(opts)),
            any::<Index>(),
        )
            .prop_map(|(mut items, own, bad, at)| {
                items.extend(own);
                // Shared identities lead every request, so that the requests
                // look them up at the same moment.
                if let Some(bad) = bad {
                    let at = 1 + at.index(items.len());
                    items.insert(at, bad);
                }
                items
            })
            .boxed()
    };
    let requests: Vec<BoxedStrategy<Vec<ItemSpec>>> = (0..in_flight).map(request).collect();
    // Mostly all `in_flight` requests; shrinking may drop to two.
    let active = prop_oneof![1 => 2..in_flight, 9 => Just(in_flight)];
    // The request count first: shrinking tries fewer requests before smaller
    // ones.
    (active, requests)
        .prop_map(|(active, mut requests)| {
            requests.truncate(active.max(2));
            ConcurrencyCase { requests }
        })
        .boxed()
}

/// A large batch (sizes up to the target's limit): mostly non-objects, with
/// certainly valid leads and invalid objects at chosen places.
#[derive(Clone, Debug)]
pub struct SizedCase {
    /// How many items the batch has.
    pub len: usize,
    /// Where the certainly valid leads go (distinct fresh identities).
    pub valid_at: Vec<Index>,
    /// Where certainly invalid objects go.
    pub invalid_at: Vec<(Index, ItemSpec)>,
    /// The valid leads themselves.
    pub valid: Vec<ItemSpec>,
}

impl SizedCase {
    /// The batch: non-objects everywhere but at the chosen places (a later
    /// place wins a collision; valid leads win over invalid objects).
    pub fn batch(&self) -> Vec<ItemSpec> {
        let fillers = [
            serde_json::Value::Null,
            serde_json::json!(0),
            serde_json::json!(""),
            serde_json::json!(false),
            serde_json::json!([]),
        ];
        let mut out: Vec<ItemSpec> = (0..self.len)
            .map(|i| ItemSpec {
                category: Category::NonObject,
                kind: "not an object",
                slot: None,
                phone: PhoneSpec::Absent,
                email: EmailSpec::Absent,
                fields: Vec::new(),
                whole: Some(fillers[i % fillers.len()].clone()),
            })
            .collect();
        if self.len == 0 {
            return out;
        }
        for (at, bad) in &self.invalid_at {
            out[at.index(self.len)] = bad.clone();
        }
        for (k, (at, item)) in self.valid_at.iter().zip(&self.valid).enumerate() {
            let mut item = item.clone();
            item.slot = Some(Slot::Fresh(k as u8));
            out[at.index(self.len)] = item;
        }
        out
    }
}

/// Sized batches of `1..=limit` items with up to six valid leads and two
/// invalid objects; sizes shrink by halving.
pub fn sized_case(opts: &Options, limit: usize) -> BoxedStrategy<SizedCase> {
    let valid_one = valid_item_in(opts, Just(Slot::Fresh(0)).boxed());
    (
        1..=limit.max(1),
        proptest::collection::vec(any::<Index>(), 1..=6),
        proptest::collection::vec((any::<Index>(), invalid_object_item(opts)), 0..=2),
        proptest::collection::vec(valid_one, 6),
    )
        .prop_map(|(len, valid_at, invalid_at, valid)| SizedCase {
            len,
            valid_at,
            invalid_at,
            valid,
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn interleaving_keeps_valid_items_in_order_and_finds_them() {
        let opts = Options::default();
        let mut runner = TestRunner::deterministic();
        for _ in 0..200 {
            let case = independence_case(&opts)
                .new_tree(&mut runner)
                .unwrap()
                .current();
            let (mixed, positions) = case.interleaved();
            assert_eq!(mixed.len(), case.valid.len() + case.invalid.len());
            assert_eq!(positions.len(), case.valid.len());
            assert!(positions.windows(2).all(|w| w[0] < w[1]));
            for (k, &p) in positions.iter().enumerate() {
                assert_eq!(mixed[p], case.valid[k]);
            }
            let invalid = mixed
                .iter()
                .filter(|i| matches!(i.category, Category::Invalid | Category::NonObject))
                .count();
            assert_eq!(invalid, case.invalid.len());
        }
    }

    #[test]
    fn sized_batches_have_their_length_and_valid_leads_where_chosen() {
        let opts = Options::default();
        let mut runner = TestRunner::deterministic();
        for _ in 0..100 {
            let case = sized_case(&opts, 1000)
                .new_tree(&mut runner)
                .unwrap()
                .current();
            let batch = case.batch();
            assert_eq!(batch.len(), case.len);
            for at in &case.valid_at {
                assert_eq!(batch[at.index(case.len)].category, Category::Valid);
            }
            let objects = batch.iter().filter(|i| i.whole.is_none()).count();
            assert!(
                objects <= 8,
                "mostly non-objects: {objects} of {}",
                case.len
            );
        }
    }

    #[test]
    fn concurrent_requests_share_identities() {
        use crate::strategies::Identities;
        use sela_leads::rules::identity;
        let opts = Options::default();
        let mut runner = TestRunner::deterministic();
        let mut shared_somewhere = false;
        for _ in 0..50 {
            let case = concurrency_case(&opts, 6)
                .new_tree(&mut runner)
                .unwrap()
                .current();
            assert!((2..=6).contains(&case.requests.len()));
            let all: Vec<ItemSpec> = case.requests.iter().flatten().cloned().collect();
            let rendered = Identities::new("t", 0, 6).render(&all);
            let mut at = 0;
            let mut per_request = Vec::new();
            for r in &case.requests {
                let ids: std::collections::HashSet<_> = rendered[at..at + r.len()]
                    .iter()
                    .filter_map(|g| identity(&g.value))
                    .collect();
                per_request.push(ids);
                at += r.len();
            }
            shared_somewhere |=
                (1..case.requests.len()).any(|r| !per_request[0].is_disjoint(&per_request[r]));
        }
        assert!(shared_somewhere, "requests in flight must share identities");
    }
}
