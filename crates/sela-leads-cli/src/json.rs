//! NDJSON and JSON-array input: each object's keys mapped like CSV columns.

use crate::columns::{Mappings, Target, state_value};
use crate::reading::RowKey;
use sela_leads::import::Lead;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, Read};

/// Maps the keys of JSON objects, remembering the targets of the keys seen.
struct KeyMapper {
    map: Mappings,
    seen: BTreeMap<String, Target>,
}

impl KeyMapper {
    fn new(map: Mappings) -> Self {
        Self {
            map,
            seen: BTreeMap::new(),
        }
    }

    fn target(&mut self, key: &str) -> Target {
        if let Some(target) = self.seen.get(key) {
            return target.clone();
        }
        let target = self.map.target(key);
        // Bounded: a file with ever new keys does not grow this.
        if self.seen.len() < 1024 {
            self.seen.insert(key.to_owned(), target.clone());
        }
        target
    }

    /// One JSON value as a lead: known fields at the top level, every other
    /// key in `metadata` (merged with a `metadata` object, if any).
    fn lead(&mut self, value: Value) -> (Option<String>, Lead) {
        let Value::Object(object) = value else {
            return (None, Lead::Invalid("not a JSON object".to_owned()));
        };
        let mut lead = Map::new();
        let mut metadata = Map::new();
        let mut nested = None;
        // Which key filled each field or metadata key, with its rank, so two
        // keys of one rank for one field are refused; of two ranks, the first
        // non-empty by rank fills the field and the other goes to metadata.
        let mut filled: BTreeMap<String, (String, u8)> = BTreeMap::new();
        let mut state_name = None;
        for (key, value) in object {
            let target = self.target(&key);
            let empty = value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty());
            if let Target::Field(_) | Target::Metadata(_) = target {
                let rank = self.map.rank(&key);
                let slot = target.to_string();
                if let Some((other, other_rank)) = filled.get(&slot).cloned() {
                    if other_rank == rank {
                        let message = format!("keys `{other}` and `{key}` both map to `{target}`");
                        return (None, Lead::Invalid(message));
                    }
                    let (Target::Field(field), false) = (&target, empty) else {
                        // An empty alternative, or a metadata key: keep the first.
                        if !empty {
                            metadata.insert(key, value);
                        }
                        continue;
                    };
                    let held_empty = lead.get(*field).is_none_or(|v| {
                        v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty())
                    });
                    if rank < other_rank || held_empty {
                        if let Some(previous) = lead.remove(*field).filter(|_| !held_empty) {
                            metadata.insert(other, previous);
                        }
                        filled.insert(slot, (key, rank));
                        lead.insert(
                            (*field).to_owned(),
                            field_value(field, value, &mut state_name),
                        );
                    } else {
                        metadata.insert(key, value);
                    }
                    continue;
                }
                filled.insert(slot, (key.clone(), rank));
            }
            match target {
                Target::Field(field) | Target::Choice { field, .. } => {
                    lead.insert(field.to_owned(), field_value(field, value, &mut state_name));
                }
                Target::MetadataObject => nested = Some(value),
                Target::Metadata(name) => {
                    metadata.insert(name, value);
                }
                Target::Skip => {}
            }
        }
        if let Some(name) = state_name {
            metadata.entry("state").or_insert(Value::String(name));
        }
        match nested {
            Some(Value::Object(mut inner)) => {
                inner.extend(metadata);
                lead.insert("metadata".to_owned(), Value::Object(inner));
            }
            // A `metadata` that is not an object is sent as given, for the server to judge.
            Some(other) if metadata.is_empty() => {
                lead.insert("metadata".to_owned(), other);
            }
            Some(other) => {
                metadata.insert("metadata".to_owned(), other);
                lead.insert("metadata".to_owned(), Value::Object(metadata));
            }
            None if !metadata.is_empty() => {
                lead.insert("metadata".to_owned(), Value::Object(metadata));
            }
            None => {}
        }
        let external_id = match lead.get("external_id") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        (external_id, Lead::Json(Value::Object(lead)))
    }
}

/// A field's value as sent: a `us_state` full name becomes its code (the
/// name is kept for `metadata.state`); the rest as given.
fn field_value(field: &str, value: Value, state_name: &mut Option<String>) -> Value {
    match (field, value) {
        ("us_state", Value::String(text)) => {
            let (code, name) = state_value(&text);
            *state_name = name;
            Value::String(code)
        }
        (_, value) => value,
    }
}

/// Lines of an NDJSON file, read lazily; blank lines are skipped, and a line
/// that is not a JSON object is a [`Lead::Invalid`] at its place.
pub(super) fn ndjson_rows<R: BufRead + Send + 'static>(
    mut reader: R,
    map: Mappings,
) -> impl Iterator<Item = (RowKey, Lead)> + Send {
    let mut mapper = KeyMapper::new(map);
    let mut line_number = 0_u64;
    let mut line = Vec::new();
    let mut failed = false;
    std::iter::from_fn(move || {
        loop {
            if failed {
                return None;
            }
            line.clear();
            line_number += 1;
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(error) => {
                    failed = true;
                    let key = RowKey {
                        row: line_number,
                        external_id: None,
                    };
                    return Some((key, Lead::Invalid(format!("unreadable line: {error}"))));
                }
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let (external_id, lead) = match serde_json::from_slice::<Value>(&line) {
                Ok(value) => mapper.lead(value),
                Err(error) => (
                    None,
                    Lead::Invalid(format!("the line is not JSON: {error}")),
                ),
            };
            let key = RowKey {
                row: line_number,
                external_id,
            };
            return Some((key, lead));
        }
    })
}

/// The elements of a JSON array, parsed on a reader thread one at a time and
/// handed over through a small bounded channel, so a large file is never held
/// in memory. A syntax error ends the input with one [`Lead::Invalid`].
pub(super) fn json_array_rows<R: Read + Send + 'static>(
    reader: R,
    map: Mappings,
) -> impl Iterator<Item = (RowKey, Lead)> + Send {
    use serde::de::{Deserializer, SeqAccess, Visitor};

    struct Elements(std::sync::mpsc::SyncSender<Result<Value, String>>);
    impl<'de> Visitor<'de> for Elements {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON array of lead objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(value) = seq.next_element::<Value>()? {
                if self.0.send(Ok(value)).is_err() {
                    break;
                }
            }
            Ok(())
        }
    }

    let (sender, receiver) = std::sync::mpsc::sync_channel(256);
    std::thread::spawn(move || {
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        let result = deserializer
            .deserialize_seq(Elements(sender.clone()))
            .and_then(|()| deserializer.end());
        if let Err(error) = result {
            let _ = sender.send(Err(format!("the JSON array is malformed: {error}")));
        }
    });
    let mut mapper = KeyMapper::new(map);
    receiver
        .into_iter()
        .zip(1_u64..)
        .map(move |(element, row)| {
            let (external_id, lead) = match element {
                Ok(value) => mapper.lead(value),
                Err(message) => (None, Lead::Invalid(message)),
            };
            (RowKey { row, external_id }, lead)
        })
}
