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
use std::io::{self, BufRead, BufReader, Read};

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
    /// 0.7+: `[{code, message, observed, threshold, unit, sample_count, note}]`
    pub warnings: Option<Value>,
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
    /// Syntax and type errors: the byte offset in the (decompressed) input.
    pub offset: Option<u64>,
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
    lists: &'f dyn Lists,
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

/// Lines whose start offsets are remembered to place serde_json's errors (an error is at most
/// a few lines before the last byte serde_json has read).
const RING: usize = 1024;

/// The input, shared by serde_json's outer deserializer (which reads it a byte at a time
/// through [`Outer`]) and the record scanner, which takes each request list straight from the
/// buffer: serde_json never sees the records, so its IoRead does not copy every key of every
/// record; each record is cut out whole and parsed with `from_slice` (keys borrowed).
struct Input<R> {
    buf: BufReader<R>,
    /// Bytes handed to serde_json, and newlines among them.
    seen: u64,
    newlines: u64,
    /// Bytes taken by the scanner (all before anything serde_json reads afterwards).
    skipped: u64,
    /// `line_start[l % RING]`: offset among the seen bytes where serde_json's line `l` begins.
    line_start: Box<[u64; RING]>,
    /// The record being cut out (reused; a record is a few KB).
    rec: Vec<u8>,
    stack: Vec<u8>,
    /// Longest JSON string accepted, in bytes as written (escapes included).
    max_string: u64,
    /// String state of the bytes serde_json reads: inside one, after a backslash, its start
    /// offset and length so far.
    in_str: bool,
    esc: bool,
    str_start: u64,
    str_len: u64,
    /// Where a string longer than `max_string` began (serde_json then gets a read error).
    too_long: Option<u64>,
}

/// The default limit on any one JSON string: memory stays within a small multiple of it.
pub const MAX_STRING: u64 = 16 << 20;

/// The error for a string longer than the limit.
fn too_long(offset: u64, limit: u64) -> ReadError {
    ReadError {
        offset: Some(offset),
        path: String::new(),
        message: format!(
            "a string longer than {} (the limit on one JSON string; --max-string raises it)",
            size_text(limit)
        ),
    }
}

/// `16 MiB`, `300 KiB` or `123 bytes`.
pub fn size_text(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

struct Outer<'a, R>(&'a RefCell<Input<R>>);

impl<R: Read> Read for Outer<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut s = self.0.borrow_mut();
        let s = &mut *s;
        let b = s.buf.fill_buf()?;
        let n = b.len().min(out.len());
        out[..n].copy_from_slice(&b[..n]);
        for &c in &out[..n] {
            s.seen += 1;
            if c == b'\n' {
                s.newlines += 1;
                s.line_start[(s.newlines as usize + 1) % RING] = s.seen;
            }
            if s.in_str {
                s.str_len += 1;
                if s.esc {
                    s.esc = false;
                } else if c == b'\\' {
                    s.esc = true;
                } else if c == b'"' {
                    s.in_str = false;
                }
                if s.in_str && s.str_len > s.max_string {
                    s.too_long = Some(s.str_start);
                    return Err(io::Error::other("string too long"));
                }
            } else if c == b'"' {
                s.in_str = true;
                s.str_start = s.seen + s.skipped - 1;
                s.str_len = 0;
            }
        }
        s.buf.consume(n);
        Ok(n)
    }
}

/// Called with each record's bytes and its byte offset.
type OnRecord<'a> = &'a mut dyn FnMut(&[u8], u64) -> Result<(), ReadError>;

/// Reads the request lists for the record visitor.
trait Lists {
    /// Called just after a list's `[`: cut out each element and hand it with its byte offset
    /// to `on_rec`, stop before the closing `]` (left for serde_json).
    fn scan_list(&self, on_rec: OnRecord) -> Result<(), ReadError>;
}

fn scan_err(offset: u64, message: &str) -> ReadError {
    ReadError {
        offset: Some(offset),
        path: String::new(),
        message: message.to_string(),
    }
}

impl<R: Read> Input<R> {
    fn pos(&self) -> u64 {
        self.seen + self.skipped
    }
    fn peek(&mut self) -> Result<Option<u8>, ReadError> {
        let pos = self.pos();
        let b = self.buf.fill_buf().map_err(|e| read_err(pos, &e))?;
        Ok(b.first().copied())
    }
    fn take(&mut self, n: usize) {
        self.buf.consume(n);
        self.skipped += n as u64;
    }
    fn skip_ws(&mut self) -> Result<Option<u8>, ReadError> {
        loop {
            let pos = self.pos();
            let b = self.buf.fill_buf().map_err(|e| read_err(pos, &e))?;
            if b.is_empty() {
                return Ok(None);
            }
            match b
                .iter()
                .position(|c| !matches!(c, b' ' | b'\n' | b'\r' | b'\t'))
            {
                Some(i) => {
                    let c = b[i];
                    self.take(i);
                    return Ok(Some(c));
                }
                None => {
                    let n = b.len();
                    self.take(n);
                }
            }
        }
    }
    /// A syntax error in the part of a value cut out so far (not counting its end), so that
    /// a stray quote reports where it is rather than where the input ends, and does not
    /// buffer the rest of the file.
    fn check_prefix(&self, start: u64) -> Result<(), ReadError> {
        match serde_json::from_slice::<IgnoredAny>(&self.rec) {
            Err(e) if !e.is_eof() => Err(scan_err(
                start + slice_offset(&self.rec, e.line(), e.column()),
                &message_of(&e),
            )),
            _ => Ok(()),
        }
    }
    /// Cut out one value into `self.rec`.
    fn value(&mut self) -> Result<(), ReadError> {
        let start = self.pos();
        let mut check_at = 1 << 20;
        self.rec.clear();
        self.stack.clear();
        let mut in_str = false;
        let mut esc = false;
        let mut first = true;
        let mut scalar = false;
        // where the current string began, and its length so far
        let mut str_start = 0u64;
        let mut str_len = 0u64;
        loop {
            let pos = self.pos();
            let b = self.buf.fill_buf().map_err(|e| read_err(pos, &e))?;
            if b.is_empty() {
                if scalar {
                    return Ok(());
                }
                let what = if in_str {
                    "a string"
                } else if self.stack.last() == Some(&b'[') {
                    "a list"
                } else {
                    "an object"
                };
                self.check_prefix(start)?;
                return Err(scan_err(
                    pos,
                    &format!("truncated JSON (EOF while parsing {what})"),
                ));
            }
            let mut i = 0;
            let mut done = false;
            if first {
                first = false;
                match b[0] {
                    b'{' | b'[' => {
                        self.stack.push(b[0]);
                        i = 1;
                    }
                    b'"' => {
                        in_str = true;
                        str_start = pos;
                        str_len = 0;
                        i = 1;
                    }
                    _ => scalar = true,
                }
            }
            while i < b.len() {
                if scalar {
                    if matches!(b[i], b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t') {
                        done = true;
                        break;
                    }
                    i += 1;
                } else if in_str {
                    if esc {
                        esc = false;
                        i += 1;
                        str_len += 1;
                        continue;
                    }
                    let found = memchr::memchr2(b'"', b'\\', &b[i..]);
                    str_len += found.unwrap_or(b.len() - i) as u64;
                    if str_len > self.max_string {
                        return Err(too_long(str_start, self.max_string));
                    }
                    match found {
                        None => i = b.len(),
                        Some(j) => {
                            i += j;
                            str_len += 1;
                            if b[i] == b'\\' {
                                esc = true;
                            } else {
                                in_str = false;
                                if self.stack.is_empty() {
                                    i += 1;
                                    done = true;
                                    break;
                                }
                            }
                            i += 1;
                        }
                    }
                } else {
                    let c = b[i];
                    i += 1;
                    match c {
                        b'"' => {
                            in_str = true;
                            str_start = pos + i as u64 - 1;
                            str_len = 0;
                        }
                        b'{' | b'[' => self.stack.push(c),
                        b'}' | b']' => {
                            let open = self.stack.pop();
                            // a mismatch ends the value here: from_slice reports it
                            if self.stack.is_empty() || open != Some(c - 2) {
                                done = true;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            self.rec.extend_from_slice(&b[..i]);
            self.take(i);
            if done {
                return Ok(());
            }
            if self.rec.len() >= check_at {
                self.check_prefix(start)?;
                check_at *= 2;
            }
        }
    }
}

fn read_err(offset: u64, e: &io::Error) -> ReadError {
    scan_err(offset, &format!("read error: {e}"))
}

impl<R: Read> Lists for RefCell<Input<R>> {
    fn scan_list(&self, on_rec: OnRecord) -> Result<(), ReadError> {
        let mut s = self.borrow_mut();
        let mut first = true;
        loop {
            let c = s.skip_ws()?;
            match c {
                None => {
                    return Err(scan_err(
                        s.pos(),
                        "truncated JSON (EOF while parsing a list)",
                    ));
                }
                Some(b']') => return Ok(()),
                Some(b',') if !first => {
                    s.take(1);
                    match s.skip_ws()? {
                        Some(b']') => return Err(scan_err(s.pos() + 1, "trailing comma")),
                        None => {
                            return Err(scan_err(
                                s.pos(),
                                "truncated JSON (EOF while parsing a value)",
                            ));
                        }
                        _ => {}
                    }
                }
                Some(_) if !first => return Err(scan_err(s.pos() + 1, "expected `,` or `]`")),
                Some(_) => {}
            }
            first = false;
            if s.peek()? == Some(b',') {
                return Err(scan_err(s.pos() + 1, "expected value"));
            }
            let start = s.pos();
            s.value()?;
            let s = &mut *s;
            on_rec(&s.rec, start)?;
        }
    }
}

/// serde_json's message without its " at line L column C", marked when the input ended.
fn message_of(e: &serde_json::Error) -> String {
    let mut message = e.to_string();
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    if e.is_eof() {
        message = format!("truncated JSON ({message})");
    }
    if let Some(io) = e.io_error_kind() {
        message = format!("read error: {io} ({message})");
    }
    message
}

/// Byte offset within `slice` of serde_json's 1-based line and byte column.
fn slice_offset(slice: &[u8], line: usize, column: usize) -> u64 {
    let start = if line <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', slice)
            .nth(line - 2)
            .map_or(slice.len(), |i| i + 1)
    };
    (start + column) as u64
}

/// Parse a whole document from `reader`, calling `on_benchmark` for each benchmark in file
/// order. Returns the top-level parts.
pub fn parse<R: Read>(
    reader: R,
    on_benchmark: &mut dyn FnMut(RawBenchmark, &RawTop) -> Result<(), ReadError>,
) -> Result<RawTop, ReadError> {
    parse_limited(reader, MAX_STRING, on_benchmark)
}

/// [`parse`], refusing any JSON string longer than `max_string` bytes (as written) with an
/// error at its first byte: memory then stays bounded whatever the file holds.
pub fn parse_limited<R: Read>(
    reader: R,
    max_string: u64,
    on_benchmark: &mut dyn FnMut(RawBenchmark, &RawTop) -> Result<(), ReadError>,
) -> Result<RawTop, ReadError> {
    let input = RefCell::new(Input {
        buf: BufReader::with_capacity(256 * 1024, reader),
        seen: 0,
        newlines: 0,
        skipped: 0,
        line_start: Box::new([0; RING]),
        rec: Vec::new(),
        stack: Vec::new(),
        max_string,
        in_str: false,
        esc: false,
        str_start: 0,
        str_len: 0,
        too_long: None,
    });
    let ctx = Ctx {
        path: RefCell::new(Vec::new()),
        failure: RefCell::new(None),
        on_benchmark: RefCell::new(on_benchmark),
        top: RefCell::new(RawTop::default()),
        lists: &input,
    };
    let mut de = serde_json::Deserializer::from_reader(Outer(&input));
    let result = TopSeed { ctx: &ctx }
        .deserialize(&mut de)
        .and_then(|()| de.end());
    match result {
        Ok(()) => Ok(ctx.top.into_inner()),
        Err(e) => {
            if let Some(f) = ctx.failure.borrow_mut().take() {
                return Err(f);
            }
            let s = input.borrow();
            if let Some(at) = s.too_long {
                let mut e = too_long(at, s.max_string);
                e.path = ctx.path_string();
                return Err(e);
            }
            let (line, col) = (e.line() as u64, e.column() as u64);
            // serde_json errors come after every list the scanner took
            let offset =
                (line > 0 && line <= s.newlines + 1 && s.newlines + 1 - line < RING as u64)
                    .then(|| s.line_start[line as usize % RING] + col + s.skipped);
            Err(ReadError {
                offset,
                path: ctx.path_string(),
                message: message_of(&e),
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
                "warnings" => b.warnings = Some(map.next_value()?),
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
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        let mut i = 0usize;
        ctx.push(Seg::Index(0));
        let status = self.status;
        let sink = self.sink;
        let r = ctx.lists.scan_list(&mut |bytes, start| {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            let mut r = RecSeed { ctx }
                .deserialize(&mut de)
                .and_then(|r| de.end().map(|()| r))
                .map_err(|e| {
                    if let Some(f) = ctx.failure.borrow_mut().take() {
                        return f;
                    }
                    ReadError {
                        offset: Some(start + slice_offset(bytes, e.line(), e.column())),
                        path: ctx.path_string(),
                        message: message_of(&e),
                    }
                })?;
            if let Some(s) = status {
                r.status = s;
            }
            sink.counts[r.status as usize] += 1;
            sink.records.push(r);
            i += 1;
            ctx.set_index(i);
            Ok(())
        });
        if let Err(mut e) = r {
            if e.path.is_empty() {
                e.path = ctx.path_string();
            }
            let msg = e.message.clone();
            *ctx.failure.borrow_mut() = Some(e);
            return Err(de::Error::custom(msg));
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
        offset: None,
        path: path.into(),
        message: message.into(),
    }
}
