//! The document's top level (`metadata`, `args`, `config`) and its list of benchmarks, each
//! handed to the callback as soon as it has been read.

use super::benchmark::BenchmarkSeed;
use super::{Ctx, Seg, next_key};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

pub(super) struct TopSeed<'a, 'f> {
    pub(super) ctx: &'a Ctx<'f>,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GuideLLM result object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        let mut key = String::new();
        while next_key(&mut map, &mut key)? {
            ctx.push(Seg::Key(key.clone()));
            top_field(ctx, &key, &mut map)?;
            ctx.pop();
        }
        Ok(())
    }
}

/// The value of top-level `key`.
fn top_field<'de, A: MapAccess<'de>>(ctx: &Ctx, key: &str, map: &mut A) -> Result<(), A::Error> {
    match key {
        "metadata" => {
            let v: Value = map.next_value()?;
            ctx.top.borrow_mut().metadata = Some(v);
        }
        "args" => {
            let v: Value = map.next_value()?;
            ctx.top.borrow_mut().args = Some(v);
        }
        "config" => {
            let v: Value = map.next_value()?;
            ctx.top.borrow_mut().config = Some(v);
        }
        "benchmarks" => {
            ctx.top.borrow_mut().benchmarks_seen = true;
            map.next_value_seed(BenchmarksSeed { ctx })?;
        }
        _ => {
            map.next_value::<IgnoredAny>()?;
        }
    }
    Ok(())
}

struct BenchmarksSeed<'a, 'f> {
    ctx: &'a Ctx<'f>,
}

impl<'de> DeserializeSeed<'de> for BenchmarksSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for BenchmarksSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of benchmarks")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        let mut i = 0usize;
        loop {
            ctx.push(Seg::Index(i));
            let Some(raw) = seq.next_element_seed(BenchmarkSeed { ctx, index: i })? else {
                ctx.pop();
                break;
            };
            if let Err(e) = ctx.hand_on(raw) {
                return Err(ctx.fail(e));
            }
            ctx.pop();
            i += 1;
        }
        ctx.top.borrow_mut().benchmark_count = i;
        Ok(())
    }
}
