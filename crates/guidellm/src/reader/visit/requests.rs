//! A benchmark's `requests`: `{successful:[…], errored:[…], incomplete:[…], total:null}` (0.3
//! and later), or a plain list (each record's status from its own fields). The lists are
//! read by the record scanner ([`Lists`](super::Lists)), never by serde_json's reader.

use super::{Ctx, Seg, next_key, record};
use crate::reader::Rec;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Where a benchmark's records go.
pub(super) struct Sink<'s> {
    pub(super) records: &'s mut Vec<Rec>,
    /// Per status (successful, errored, incomplete).
    pub(super) counts: &'s mut [u64; 3],
}

impl Sink<'_> {
    fn push(&mut self, r: Rec) {
        self.counts[r.status as usize] += 1;
        self.records.push(r);
    }
}

pub(super) struct RequestsSeed<'a, 'f, 's> {
    pub(super) ctx: &'a Ctx<'f>,
    pub(super) sink: Sink<'s>,
}

impl<'de> DeserializeSeed<'de> for RequestsSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RequestsSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the requests object {successful, errored, incomplete}")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        let mut key = String::new();
        while next_key(&mut map, &mut key)? {
            ctx.push(Seg::Key(key.clone()));
            let status = match key.as_str() {
                "successful" => Some(0u8),
                "errored" => Some(1),
                "incomplete" => Some(2),
                _ => None,
            };
            match status {
                Some(s) => map.next_value_seed(RecListSeed {
                    ctx,
                    sink: &mut self.sink,
                    status: Some(s),
                })?,
                // `total` is null in every file seen; a list there would repeat the others.
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            ctx.pop();
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, seq: A) -> Result<(), A::Error> {
        RecListSeed {
            ctx: self.ctx,
            sink: &mut self.sink,
            status: None,
        }
        .visit_seq(seq)
    }
}

/// One list of records; `status` given by the list's name, else read from each record.
struct RecListSeed<'a, 'f, 's, 'r> {
    ctx: &'a Ctx<'f>,
    sink: &'r mut Sink<'s>,
    status: Option<u8>,
}

impl<'de> DeserializeSeed<'de> for RecListSeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecListSeed<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of request records")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    /// serde_json has read the `[`: the scanner reads the elements, up to the `]`.
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        let (status, sink) = (self.status, self.sink);
        let mut i = 0usize;
        ctx.push(Seg::Index(0));
        let scanned = ctx.lists.scan_list(&mut |bytes, start| {
            let mut r = record::parse(ctx, bytes, start)?;
            if let Some(s) = status {
                r.status = s;
            }
            sink.push(r);
            i += 1;
            ctx.set_index(i);
            Ok(())
        });
        if let Err(mut e) = scanned {
            if e.path.is_empty() {
                e.path = ctx.path_string();
            }
            return Err(ctx.fail(e));
        }
        ctx.pop();
        Ok(())
    }
}
