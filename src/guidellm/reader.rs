//! Streaming reader for GuideLLM result files.
//!
//! The document is walked with serde visitors: small subtrees (`metadata`, `args`, a benchmark's
//! `config`, `metrics`, `scheduler_metrics`, ...) are kept as `serde_json::Value`, while the
//! `requests` lists, which are most of a large file, are visited one record at a time and only
//! a few numbers per record are kept (timestamps, token counts, TTFT/ITL/latency). Prompts,
//! outputs, tracebacks and the like go to `IgnoredAny`. Each benchmark is handed to a callback
//! as soon as its closing brace has been read (its `start_time`/`end_time` come after
//! `requests`), so memory is bounded by the largest benchmark's record count (about 40 bytes per
//! record), not by the file.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::RefCell;
use std::fmt;
use std::io::{BufReader, Read};

/// One per-request record, reduced to what the time series needs: 40 bytes (NaN = absent;
/// times f64, the per-interval statistics f32, token counts u32).
#[derive(Clone, Copy, Debug)]
pub struct Rec {
    start: f64,
    end: f64,
    ttft_ms: f32,
    itl_ms: f32,
    latency_s: f32,
    prompt_tokens: u32,
    output_tokens: u32,
    /// 0 successful, 1 errored, 2 incomplete.
    pub status: u8,
}

const _: () = assert!(std::mem::size_of::<Rec>() == 40);

fn opt64(x: f64) -> Option<f64> {
    (!x.is_nan()).then_some(x)
}

fn opt32(x: f32) -> Option<f64> {
    (!x.is_nan()).then_some(x as f64)
}

fn tokens(x: Option<f64>) -> u32 {
    x.map_or(u32::MAX, |v| v.clamp(0.0, (u32::MAX - 1) as f64) as u32)
}

impl Rec {
    /// Pack a record; `None` or NaN means absent.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        status: u8,
        start: Option<f64>,
        end: Option<f64>,
        prompt_tokens: Option<f64>,
        output_tokens: Option<f64>,
        ttft_ms: Option<f64>,
        itl_ms: Option<f64>,
        latency_s: Option<f64>,
    ) -> Rec {
        Rec {
            start: start.unwrap_or(f64::NAN),
            end: end.unwrap_or(f64::NAN),
            ttft_ms: ttft_ms.map_or(f32::NAN, |v| v as f32),
            itl_ms: itl_ms.map_or(f32::NAN, |v| v as f32),
            latency_s: latency_s.map_or(f32::NAN, |v| v as f32),
            prompt_tokens: tokens(prompt_tokens),
            output_tokens: tokens(output_tokens),
            status,
        }
    }
    pub fn start(&self) -> Option<f64> {
        opt64(self.start)
    }
    pub fn end(&self) -> Option<f64> {
        opt64(self.end)
    }
    pub fn ttft_ms(&self) -> Option<f64> {
        opt32(self.ttft_ms)
    }
    pub fn itl_ms(&self) -> Option<f64> {
        opt32(self.itl_ms)
    }
    pub fn latency_s(&self) -> Option<f64> {
        opt32(self.latency_s)
    }
    pub fn prompt_tokens(&self) -> Option<u64> {
        (self.prompt_tokens != u32::MAX).then_some(self.prompt_tokens as u64)
    }
    pub fn output_tokens(&self) -> Option<u64> {
        (self.output_tokens != u32::MAX).then_some(self.output_tokens as u64)
    }
}

/// A record's fields while it is being parsed.
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

/// A benchmark as read from the file, before interpretation.
#[derive(Debug, Default)]
pub struct RawBenchmark {
    pub index: usize,
    pub id: Option<String>,
    pub run_id: Option<String>,
    pub args: Option<Value>,
    pub config: Option<Value>,
    pub run_stats: Option<Value>,
    pub scheduler_metrics: Option<Value>,
    pub metrics: Option<Value>,
    pub request_totals: Option<Value>,
    pub worker: Option<Value>,
    pub start_time: Option<f64>,
    pub end_time: Option<f64>,
    pub duration: Option<f64>,
    pub warmup_duration: Option<f64>,
    pub cooldown_duration: Option<f64>,
    pub records: Vec<Rec>,
    /// Record count per status list (successful, errored, incomplete).
    pub record_counts: [u64; 3],
    pub has_run_stats: bool,
    pub has_scheduler_metrics: bool,
}

/// The top level of a file, less the benchmarks.
#[derive(Debug, Default)]
pub struct RawTop {
    pub metadata: Option<Value>,
    pub args: Option<Value>,
    pub config: Option<Value>,
    pub benchmarks_seen: bool,
    pub benchmark_count: usize,
}

/// A reading error with where it happened.
#[derive(Debug)]
pub struct ReadError {
    /// Syntax errors: serde_json's line and column (1-based; the column counts bytes).
    pub line_col: Option<(usize, usize)>,
    pub path: String,
    pub message: String,
}

/// Shared state of one parse: the JSON path being visited, the byte counter, the first
/// semantic error raised by a callback, and the benchmark callback.
/// Called with each benchmark as soon as it has been read.
pub type OnBenchmark<'f> = &'f mut dyn FnMut(RawBenchmark, &RawTop) -> Result<(), ReadError>;

pub struct Ctx<'f> {
    path: RefCell<Vec<Seg>>,
    /// Error raised inside the walk with its own offset/path (takes precedence over serde's).
    pub failure: RefCell<Option<ReadError>>,
    on_benchmark: RefCell<OnBenchmark<'f>>,
    top: RefCell<RawTop>,
}

/// One step of a JSON path (no allocation for record fields and list indexes).
enum Seg {
    Key(String),
    Static(&'static str),
    Index(usize),
}

impl<'f> Ctx<'f> {
    fn push(&self, seg: Seg) {
        self.path.borrow_mut().push(seg);
    }
    fn pop(&self) {
        self.path.borrow_mut().pop();
    }
    fn set_index(&self, i: usize) {
        if let Some(Seg::Index(x)) = self.path.borrow_mut().last_mut() {
            *x = i;
        }
    }
    pub fn path_string(&self) -> String {
        let mut s = String::new();
        for seg in self.path.borrow().iter() {
            let k: &str = match seg {
                Seg::Index(i) => {
                    s.push_str(&format!("[{i}]"));
                    continue;
                }
                Seg::Key(k) => k,
                Seg::Static(k) => k,
            };
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(k);
        }
        s
    }
}

/// Parse a whole document from `reader`, calling `on_benchmark` for each benchmark in file
/// order. Returns the top-level parts.
pub fn parse<R: Read>(
    reader: R,
    on_benchmark: &mut dyn FnMut(RawBenchmark, &RawTop) -> Result<(), ReadError>,
) -> Result<RawTop, ReadError> {
    let ctx = Ctx {
        path: RefCell::new(Vec::new()),
        failure: RefCell::new(None),
        on_benchmark: RefCell::new(on_benchmark),
        top: RefCell::new(RawTop::default()),
    };
    let mut de =
        serde_json::Deserializer::from_reader(BufReader::with_capacity(256 * 1024, reader));
    let result = TopSeed { ctx: &ctx }
        .deserialize(&mut de)
        .and_then(|()| de.end());
    match result {
        Ok(()) => Ok(ctx.top.into_inner()),
        Err(e) => {
            if let Some(f) = ctx.failure.borrow_mut().take() {
                return Err(f);
            }
            let line_col = (e.line() > 0).then(|| (e.line(), e.column()));
            let mut message = e.to_string();
            // serde_json appends " at line L column C"; the byte offset says it better.
            if let Some(i) = message.find(" at line ") {
                message.truncate(i);
            }
            if e.is_eof() {
                message = format!("truncated JSON ({message})");
            }
            if let Some(io) = e.io_error_kind() {
                message = format!("read error: {io} ({message})");
            }
            Err(ReadError {
                line_col,
                path: ctx.path_string(),
                message,
            })
        }
    }
}

/// A key visited without allocating (serde_json hands `visit_str` a scratch buffer).
struct Key<'a, 'f> {
    ctx: &'a Ctx<'f>,
    key: &'a RefCell<String>,
}

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for Key<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let _ = self.ctx;
        let mut k = self.key.borrow_mut();
        k.clear();
        k.push_str(v);
        Ok(())
    }
}

fn next_key<'de, 'f, A: MapAccess<'de>>(
    map: &mut A,
    ctx: &Ctx<'f>,
    key: &RefCell<String>,
) -> Result<bool, A::Error> {
    Ok(map.next_key_seed(Key { ctx, key })?.is_some())
}

// ---------------------------------------------------------------- top level

struct TopSeed<'a, 'f> {
    ctx: &'a Ctx<'f>,
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
        let key = RefCell::new(String::new());
        while next_key(&mut map, ctx, &key)? {
            let k = key.borrow().clone();
            ctx.push(Seg::Key(k.clone()));
            match k.as_str() {
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
            ctx.pop();
        }
        Ok(())
    }
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
            let got = seq.next_element_seed(BenchmarkSeed { ctx, index: i })?;
            match got {
                None => {
                    ctx.pop();
                    break;
                }
                Some(raw) => {
                    let top = ctx.top.borrow();
                    let mut cb = ctx.on_benchmark.borrow_mut();
                    if let Err(e) = (cb)(raw, &top) {
                        let msg = e.message.clone();
                        *ctx.failure.borrow_mut() = Some(e);
                        return Err(de::Error::custom(msg));
                    }
                }
            }
            ctx.pop();
            i += 1;
        }
        ctx.top.borrow_mut().benchmark_count = i;
        Ok(())
    }
}

// ---------------------------------------------------------------- one benchmark

struct BenchmarkSeed<'a, 'f> {
    ctx: &'a Ctx<'f>,
    index: usize,
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
        let key = RefCell::new(String::new());
        while next_key(&mut map, ctx, &key)? {
            let k = key.borrow().clone();
            ctx.push(Seg::Key(k.clone()));
            match k.as_str() {
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
                "start_time" => b.start_time = map.next_value()?,
                "end_time" => b.end_time = map.next_value()?,
                "duration" => b.duration = map.next_value()?,
                "warmup_duration" => b.warmup_duration = map.next_value()?,
                "cooldown_duration" => b.cooldown_duration = map.next_value()?,
                "requests" => {
                    let mut sink = RecSink {
                        records: std::mem::take(&mut b.records),
                        counts: [0; 3],
                    };
                    map.next_value_seed(RequestsSeed {
                        ctx,
                        sink: &mut sink,
                    })?;
                    b.records = sink.records;
                    for (c, s) in b.record_counts.iter_mut().zip(sink.counts) {
                        *c += s;
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            ctx.pop();
        }
        Ok(b)
    }
}

struct RecSink {
    records: Vec<Rec>,
    counts: [u64; 3],
}

/// `requests`: `{successful:[…], errored:[…], incomplete:[…], total:null}` (0.3 and later);
/// a plain list is accepted too (status from each record).
struct RequestsSeed<'a, 'f, 's> {
    ctx: &'a Ctx<'f>,
    sink: &'s mut RecSink,
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
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        let key = RefCell::new(String::new());
        while next_key(&mut map, ctx, &key)? {
            let k = key.borrow().clone();
            ctx.push(Seg::Key(k.clone()));
            let status = match k.as_str() {
                "successful" => Some(0u8),
                "errored" => Some(1),
                "incomplete" => Some(2),
                _ => None,
            };
            match status {
                Some(s) => map.next_value_seed(RecListSeed {
                    ctx,
                    sink: self.sink,
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
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        RecListSeed {
            ctx: self.ctx,
            sink: self.sink,
            status: None,
        }
        .visit_seq(seq)
    }
}

struct RecListSeed<'a, 'f, 's> {
    ctx: &'a Ctx<'f>,
    sink: &'s mut RecSink,
    status: Option<u8>,
}

impl<'de> DeserializeSeed<'de> for RecListSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecListSeed<'_, '_, '_> {
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
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        let mut i = 0usize;
        ctx.push(Seg::Index(0));
        while let Some(mut r) = seq.next_element_seed(RecSeed { ctx })? {
            if let Some(s) = self.status {
                r.status = s;
            }
            self.sink.counts[r.status as usize] += 1;
            self.sink.records.push(r);
            i += 1;
            ctx.set_index(i);
        }
        ctx.pop();
        Ok(())
    }
}

// ---------------------------------------------------------------- one record

struct RecSeed<'a, 'f> {
    ctx: &'a Ctx<'f>,
}

impl<'de> DeserializeSeed<'de> for RecSeed<'_, '_> {
    type Value = Rec;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Rec, D::Error> {
        d.deserialize_map(self)
    }
}

#[derive(Default)]
struct Fallback {
    started_at: Option<f64>,
    completed_at: Option<f64>,
    t_request_start: Option<f64>,
    t_request_end: Option<f64>,
    status: Option<u8>,
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
        let key = RefCell::new(String::new());
        while next_key(&mut map, ctx, &key)? {
            let k = key.borrow();
            let field: Option<(&'static str, &mut Option<f64>)> = match k.as_str() {
                // 0.4+ names
                "request_start_time" => Some(("request_start_time", &mut r.start)),
                "request_end_time" => Some(("request_end_time", &mut r.end)),
                // 0.3 names
                "start_time" => Some(("start_time", &mut r.start)),
                "end_time" => Some(("end_time", &mut r.end)),
                "prompt_tokens" => Some(("prompt_tokens", &mut r.prompt_tokens)),
                "output_tokens" => Some(("output_tokens", &mut r.output_tokens)),
                "time_to_first_token_ms" => Some(("time_to_first_token_ms", &mut r.ttft_ms)),
                "inter_token_latency_ms" => Some(("inter_token_latency_ms", &mut r.itl_ms)),
                "request_latency" => Some(("request_latency", &mut r.latency_s)),
                _ => None,
            };
            if let Some((name, slot)) = field {
                drop(k);
                ctx.push(Seg::Static(name));
                *slot = map.next_value()?;
                ctx.pop();
                continue;
            }
            match k.as_str() {
                "info" | "scheduler_info" => {
                    let name = if k.as_str() == "info" {
                        "info"
                    } else {
                        "scheduler_info"
                    };
                    drop(k);
                    ctx.push(Seg::Static(name));
                    map.next_value_seed(InfoSeed { ctx, fb: &mut fb })?;
                    ctx.pop();
                }
                "type_" => {
                    drop(k);
                    let t: Option<std::borrow::Cow<'_, str>> = map.next_value()?;
                    if t.as_deref() == Some("generative_text_error") {
                        fb.status = Some(1);
                    }
                }
                _ => {
                    drop(k);
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        r.start = r.start.or(fb.t_request_start).or(fb.started_at);
        r.end = r.end.or(fb.t_request_end).or(fb.completed_at);
        Ok(Rec::new(
            fb.status.unwrap_or(0),
            r.start,
            r.end,
            r.prompt_tokens,
            r.output_tokens,
            r.ttft_ms,
            r.itl_ms,
            r.latency_s,
        ))
    }
}

struct InfoSeed<'a, 'f, 'b> {
    ctx: &'a Ctx<'f>,
    fb: &'b mut Fallback,
}

impl<'de> DeserializeSeed<'de> for InfoSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for InfoSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a request info object")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        let key = RefCell::new(String::new());
        while next_key(&mut map, ctx, &key)? {
            let k = key.borrow();
            match k.as_str() {
                "started_at" => self.fb.started_at = map.next_value()?,
                "completed_at" => self.fb.completed_at = map.next_value()?,
                // 0.3 scheduler_info
                "request_start" => self.fb.t_request_start = map.next_value()?,
                "request_end" => self.fb.t_request_end = map.next_value()?,
                "errored" => {
                    let e: Option<bool> = map.next_value()?;
                    if e == Some(true) {
                        self.fb.status = Some(1);
                    }
                }
                "canceled" => {
                    let e: Option<bool> = map.next_value()?;
                    if e == Some(true) && self.fb.status.is_none() {
                        self.fb.status = Some(2);
                    }
                }
                "status" => {
                    let s: Option<std::borrow::Cow<'_, str>> = map.next_value()?;
                    match s.as_deref() {
                        Some("errored") => self.fb.status = Some(1),
                        Some("cancelled") | Some("canceled") => self.fb.status = Some(2),
                        _ => {}
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A semantic error at a JSON path (raised after the value was parsed).
pub fn semantic(path: impl Into<String>, message: impl Into<String>) -> ReadError {
    ReadError {
        line_col: None,
        path: path.into(),
        message: message.into(),
    }
}
