//! One per-request record, parsed from the bytes the scanner cut out and reduced to a [`Rec`]:
//! its times (0.4+ `request_start_time`/`request_end_time`, 0.3 `start_time`/`end_time`, else
//! from `info` or `scheduler_info`), token counts, TTFT, ITL, latency and status.

use super::{Ctx, Seg, next_key};
use crate::reader::Rec;
use crate::reader::error::{ReadError, message_of, slice_offset};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Parse the record `bytes`, which begin at byte `start` of the input.
pub(super) fn parse(ctx: &Ctx, bytes: &[u8], start: u64) -> Result<Rec, ReadError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    RecSeed { ctx }
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|()| r))
        .map_err(|e| {
            ctx.take_failure().unwrap_or_else(|| ReadError {
                offset: Some(start + slice_offset(bytes, e.line(), e.column())),
                path: ctx.path_string(),
                message: message_of(&e),
            })
        })
}

/// A record's own fields while it is being parsed.
#[derive(Default)]
struct RecFields {
    start: Option<f64>,
    end: Option<f64>,
    prompt_tokens: Option<f64>,
    output_tokens: Option<f64>,
    ttft_ms: Option<f64>,
    itl_ms: Option<f64>,
    latency_s: Option<f64>,
}

/// What a record's `info`, `scheduler_info` or `type_` says: the times used where the record
/// has none of its own, and its status.
#[derive(Default)]
struct Fallback {
    started_at: Option<f64>,
    completed_at: Option<f64>,
    t_request_start: Option<f64>,
    t_request_end: Option<f64>,
    status: Option<u8>,
}

struct RecSeed<'a, 'f> {
    ctx: &'a Ctx<'f>,
}

impl<'de> DeserializeSeed<'de> for RecSeed<'_, '_> {
    type Value = Rec;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Rec, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecSeed<'_, '_> {
    type Value = Rec;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a request record object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Rec, A::Error> {
        let ctx = self.ctx;
        let mut r = RecFields::default();
        let mut fb = Fallback::default();
        let mut key = String::new();
        while next_key(&mut map, &mut key)? {
            if let Some((name, slot)) = r.slot(&key) {
                ctx.push(Seg::Static(name));
                *slot = map.next_value()?;
                ctx.pop();
            } else {
                other_field(ctx, &key, &mut fb, &mut map)?;
            }
        }
        Ok(r.finish(fb))
    }
}

impl RecFields {
    /// The field `key` fills, with its name for error paths.
    fn slot(&mut self, key: &str) -> Option<(&'static str, &mut Option<f64>)> {
        Some(match key {
            // 0.4+ names
            "request_start_time" => ("request_start_time", &mut self.start),
            "request_end_time" => ("request_end_time", &mut self.end),
            // 0.3 names
            "start_time" => ("start_time", &mut self.start),
            "end_time" => ("end_time", &mut self.end),
            "prompt_tokens" => ("prompt_tokens", &mut self.prompt_tokens),
            "output_tokens" => ("output_tokens", &mut self.output_tokens),
            "time_to_first_token_ms" => ("time_to_first_token_ms", &mut self.ttft_ms),
            "inter_token_latency_ms" => ("inter_token_latency_ms", &mut self.itl_ms),
            "request_latency" => ("request_latency", &mut self.latency_s),
            _ => return None,
        })
    }

    fn finish(self, fb: Fallback) -> Rec {
        Rec::new(
            fb.status.unwrap_or(0),
            self.start.or(fb.t_request_start).or(fb.started_at),
            self.end.or(fb.t_request_end).or(fb.completed_at),
            self.prompt_tokens,
            self.output_tokens,
            self.ttft_ms,
            self.itl_ms,
            self.latency_s,
        )
    }
}

/// A record key that is not one of its own number fields.
fn other_field<'de, A: MapAccess<'de>>(
    ctx: &Ctx,
    key: &str,
    fb: &mut Fallback,
    map: &mut A,
) -> Result<(), A::Error> {
    match key {
        "info" => info(ctx, "info", fb, map),
        "scheduler_info" => info(ctx, "scheduler_info", fb, map),
        "type_" => {
            let t: Option<Cow<'_, str>> = map.next_value()?;
            if t.as_deref() == Some("generative_text_error") {
                fb.status = Some(1);
            }
            Ok(())
        }
        _ => map.next_value::<IgnoredAny>().map(drop),
    }
}

fn info<'de, A: MapAccess<'de>>(
    ctx: &Ctx,
    name: &'static str,
    fb: &mut Fallback,
    map: &mut A,
) -> Result<(), A::Error> {
    ctx.push(Seg::Static(name));
    map.next_value_seed(InfoSeed { fb })?;
    ctx.pop();
    Ok(())
}

/// A record's `info` (0.4+) or `scheduler_info` (0.3).
struct InfoSeed<'b> {
    fb: &'b mut Fallback,
}

impl<'de> DeserializeSeed<'de> for InfoSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for InfoSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a request info object")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut key = String::new();
        while next_key(&mut map, &mut key)? {
            self.fb.field(&key, &mut map)?;
        }
        Ok(())
    }
}

impl Fallback {
    /// The value of `info.<key>`.
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "started_at" => self.started_at = map.next_value()?,
            "completed_at" => self.completed_at = map.next_value()?,
            // 0.3 scheduler_info
            "request_start" => self.t_request_start = map.next_value()?,
            "request_end" => self.t_request_end = map.next_value()?,
            "errored" => {
                if map.next_value::<Option<bool>>()? == Some(true) {
                    self.status = Some(1);
                }
            }
            "canceled" => {
                if map.next_value::<Option<bool>>()? == Some(true) && self.status.is_none() {
                    self.status = Some(2);
                }
            }
            "status" => {
                let s: Option<Cow<'_, str>> = map.next_value()?;
                match s.as_deref() {
                    Some("errored") => self.status = Some(1),
                    Some("cancelled") | Some("canceled") => self.status = Some(2),
                    _ => {}
                }
            }
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}
