//! One benchmark: its small subtrees kept as JSON values, its times, and its request lists
//! reduced to records.

use super::requests::{RequestsSeed, Sink};
use super::{Ctx, Seg, next_key};
use crate::reader::RawBenchmark;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use std::fmt;

pub(super) struct BenchmarkSeed<'a, 'f> {
    pub(super) ctx: &'a Ctx<'f>,
    /// Its position in the file's list.
    pub(super) index: usize,
}

impl<'de> DeserializeSeed<'de> for BenchmarkSeed<'_, '_> {
    type Value = RawBenchmark;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<RawBenchmark, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BenchmarkSeed<'_, '_> {
    type Value = RawBenchmark;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a benchmark object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawBenchmark, A::Error> {
        let ctx = self.ctx;
        let mut b = RawBenchmark {
            index: self.index,
            ..Default::default()
        };
        let mut key = String::new();
        while next_key(&mut map, &mut key)? {
            ctx.push(Seg::Key(key.clone()));
            benchmark_field(ctx, &mut b, &key, &mut map)?;
            ctx.pop();
        }
        Ok(b)
    }
}

/// The value of a benchmark's `key`, into `b`.
fn benchmark_field<'de, A: MapAccess<'de>>(
    ctx: &Ctx,
    b: &mut RawBenchmark,
    key: &str,
    map: &mut A,
) -> Result<(), A::Error> {
    match key {
        "id_" => b.id = map.next_value()?,
        "run_id" => b.run_id = map.next_value()?,
        "args" => b.args = Some(map.next_value()?),
        "config" => b.config = Some(map.next_value()?),
        "run_stats" => {
            b.has_run_stats = true;
            b.run_stats = Some(map.next_value()?)
        }
        "scheduler_metrics" => {
            b.has_scheduler_metrics = true;
            b.scheduler_metrics = Some(map.next_value()?)
        }
        "metrics" => b.metrics = Some(map.next_value()?),
        "request_totals" => b.request_totals = Some(map.next_value()?),
        "worker" => b.worker = Some(map.next_value()?),
        "warnings" => b.warnings = Some(map.next_value()?),
        "start_time" => b.start_time = map.next_value()?,
        "end_time" => b.end_time = map.next_value()?,
        "duration" => b.duration = map.next_value()?,
        "warmup_duration" => b.warmup_duration = map.next_value()?,
        "cooldown_duration" => b.cooldown_duration = map.next_value()?,
        "requests" => {
            let sink = Sink {
                records: &mut b.records,
                counts: &mut b.record_counts,
            };
            map.next_value_seed(RequestsSeed { ctx, sink })?;
        }
        _ => {
            map.next_value::<IgnoredAny>()?;
        }
    }
    Ok(())
}
