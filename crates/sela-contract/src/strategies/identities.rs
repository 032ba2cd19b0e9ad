//! The fictional identities of a run, and rendering specs to JSON.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::spec::{AREA_CODES, EmailSpec, GenItem, ItemSpec, PhoneSpec, SERIAL_MARK, Slot};

/// Allocates the fictional identities of a run and renders specs to JSON.
#[derive(Clone, Debug)]
pub struct Identities {
    tag: String,
    next: u64,
    serial: u64,
    offset: u64,
    pool_size: u8,
    /// The lane these identities belong to (see [`Identities::lane`]).
    lane: Option<u32>,
}

/// How far apart the fresh e-mail addresses and serials of two lanes start:
/// far enough that they never meet, and a whole number of rounds of the
/// fictional phone numbers (which [`Identities::lane`] then spreads).
const LANE_SPAN: u64 = 10_000_000;

/// The fictional phone numbers: every area code, lines 0100 to 0199.
const PHONES: u64 = AREA_CODES.len() as u64 * 100;

impl Identities {
    /// A run's identities; `tag` goes into every e-mail address, `offset` shifts
    /// the numbers so that runs do not start on the same ones.
    pub fn new(tag: &str, offset: u64, pool_size: u8) -> Self {
        Identities {
            tag: tag.to_ascii_lowercase(),
            next: 0,
            serial: 0,
            offset,
            pool_size: pool_size.max(1),
            lane: None,
        }
    }

    /// The identities of lane `i` of `lanes` of the same run (cases run
    /// side by side): fresh identities, pooled ones and serials none of
    /// which another lane or the run's own identities use, so that cases in
    /// flight together never share a person; the fresh phone numbers of the
    /// run and of each lane start an equal part of the fictional numbers
    /// apart, so that lanes do not send the same numbers at the same time (a
    /// target that keys on the number alone would see more than the fault
    /// it has).
    pub fn lane(&self, i: u32, lanes: u32) -> Self {
        let k = u64::from(i) + 1;
        let start = LANE_SPAN * k + PHONES * k / (u64::from(lanes.max(i + 1)) + 1);
        Identities {
            tag: self.tag.clone(),
            next: start,
            serial: start,
            offset: self.offset,
            pool_size: self.pool_size,
            lane: Some(i),
        }
    }

    /// The per-run tag in the e-mail addresses.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    fn national(&self, n: u64) -> String {
        let areas = AREA_CODES.len() as u64;
        let m = n.wrapping_add(self.offset);
        let area = AREA_CODES[(m % areas) as usize];
        let line = 100 + (m / areas) % 100;
        format!("{area}555{line:04}")
    }

    fn fresh(&mut self) -> (String, String) {
        let n = self.next;
        self.next += 1;
        (self.national(n), format!("f{n}.{}@example.com", self.tag))
    }

    /// A brand-new identity of the run: an E.164 number and an e-mail address,
    /// neither sent before (for items built outside a strategy).
    pub fn fresh_pair(&mut self) -> (String, String) {
        let (national, email) = self.fresh();
        (format!("+1{national}"), email)
    }

    fn pooled(&self, j: u8) -> (String, String) {
        let j = j % self.pool_size;
        (
            self.national(1_000_003 + 37 * u64::from(j)),
            match self.lane {
                Some(i) => format!("p{j}l{i}.{}@example.com", self.tag),
                None => format!("p{j}.{}@example.com", self.tag),
            },
        )
    }

    /// Renders one batch: fresh slots get new identities (one per distinct k).
    pub fn render(&mut self, specs: &[ItemSpec]) -> Vec<GenItem> {
        let mut fresh: HashMap<u8, (String, String)> = HashMap::new();
        specs
            .iter()
            .map(|spec| {
                let id = match spec.slot {
                    Some(Slot::Fresh(k)) => {
                        Some(fresh.entry(k).or_insert_with(|| self.fresh()).clone())
                    }
                    Some(Slot::Pooled(j)) => Some(self.pooled(j)),
                    None => None,
                };
                let mut value = render_one(spec, id.as_ref());
                self.serial += 1;
                fill_serial(&mut value, &self.tag, self.serial);
                GenItem {
                    category: spec.category,
                    kind: spec.kind,
                    value,
                }
            })
            .collect()
    }
}

fn render_one(spec: &ItemSpec, id: Option<&(String, String)>) -> Value {
    if let Some(whole) = &spec.whole {
        return whole.clone();
    }
    let (national, email) = match id {
        Some((n, e)) => (n.clone(), e.clone()),
        None => ("2125550100".to_owned(), "nobody@example.com".to_owned()),
    };
    let mut obj = Map::new();
    match &spec.phone {
        PhoneSpec::Slot(form) => {
            obj.insert("phone_number".into(), json!(form.write(&national)));
        }
        PhoneSpec::Absent => {}
        PhoneSpec::Literal(v) => {
            obj.insert("phone_number".into(), v.clone());
        }
        PhoneSpec::Overlong => {
            obj.insert("phone_number".into(), json!(format!("+1{national}7")));
        }
    }
    match &spec.email {
        EmailSpec::Slot => {
            obj.insert("email".into(), json!(email));
        }
        EmailSpec::SlotUpper => {
            obj.insert("email".into(), json!(email.to_ascii_uppercase()));
        }
        EmailSpec::Absent => {}
        EmailSpec::Literal(v) => {
            obj.insert("email".into(), v.clone());
        }
    }
    for (k, v) in &spec.fields {
        obj.insert(k.clone(), v.clone());
    }
    Value::Object(obj)
}

/// How often an item reuses an `external_id`: every `REUSE_EXTERNAL_ID`th
/// item takes the id of the item sent three before it. CRMs reuse their ids
/// across pipelines, and the identity is phone and e-mail, never the
/// external id: a server that keys on it answers a new person `reengaged`.
const REUSE_EXTERNAL_ID: u64 = 4;

/// Replaces [`SERIAL_MARK`] in `external_id` by a per-run tagged id (one
/// already sent, now and then: [`REUSE_EXTERNAL_ID`]) and in a metadata value
/// by the item's serial number (a JSON number).
fn fill_serial(item: &mut Value, tag: &str, serial: u64) {
    let mark = json!(SERIAL_MARK);
    let Some(obj) = item.as_object_mut() else {
        return;
    };
    if let Some(ext) = obj.get_mut("external_id")
        && *ext == mark
    {
        let id = if serial.is_multiple_of(REUSE_EXTERNAL_ID) {
            serial - 3
        } else {
            serial
        };
        *ext = json!(format!("{tag}-x{id}"));
    }
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for v in meta.values_mut() {
            if *v == mark {
                *v = json!(serial);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::spec::{Category, PhoneForm};

    #[test]
    fn fresh_slots_are_new_at_every_render_and_shared_within_a_batch() {
        let mut ids = Identities::new("t1", 0, 4);
        let spec = ItemSpec {
            category: Category::Valid,
            kind: "valid",
            slot: Some(Slot::Fresh(0)),
            phone: PhoneSpec::Slot(PhoneForm::E164),
            email: EmailSpec::Slot,
            fields: vec![],
            whole: None,
        };
        let a = ids.render(&[spec.clone(), spec.clone()]);
        let b = ids.render(std::slice::from_ref(&spec));
        assert_eq!(a[0].value, a[1].value);
        assert_ne!(a[0].value, b[0].value);
        let mut pooled = spec.clone();
        pooled.slot = Some(Slot::Pooled(1));
        assert_eq!(ids.render(&[pooled.clone()]), ids.render(&[pooled]));
    }

    #[test]
    fn lanes_share_no_identity_with_each_other_or_the_run() {
        let run = Identities::new("t1", 0, 4);
        let spec = |slot| ItemSpec {
            category: Category::Valid,
            kind: "valid",
            slot: Some(slot),
            phone: PhoneSpec::Slot(PhoneForm::E164),
            email: EmailSpec::Slot,
            fields: vec![],
            whole: None,
        };
        let batch = [
            spec(Slot::Fresh(0)),
            spec(Slot::Fresh(1)),
            spec(Slot::Pooled(2)),
        ];
        let mut seen = std::collections::HashSet::new();
        let mut all = vec![run.clone(), run.lane(0, 2), run.lane(1, 2)];
        for ids in &mut all {
            for _ in 0..3 {
                for item in ids.render(&batch) {
                    let email = item.value["email"].clone();
                    // A pooled identity comes back in each render: count it once.
                    seen.insert(email);
                }
            }
        }
        // Per lane: two fresh per render (three renders) and one pooled.
        assert_eq!(seen.len(), 3 * (3 * 2 + 1), "{seen:?}");
    }

    #[test]
    fn lanes_draw_apart_from_each_other_and_the_run_in_the_phone_numbers() {
        let run = Identities::new("t1", 0, 4);
        for lanes in [1_u32, 6, 8, 16] {
            let each = PHONES / (u64::from(lanes) + 1);
            let mut all = vec![run.clone()];
            all.extend((0..lanes).map(|i| run.lane(i, lanes)));
            let mut seen = std::collections::HashSet::new();
            for ids in &mut all {
                for _ in 0..each {
                    let (phone, _) = ids.fresh();
                    assert!(seen.insert(phone), "{lanes} lanes: a number drawn twice");
                }
            }
        }
    }
}
