//! The document walk: serde visitors (`DeserializeSeed`) over a GuideLLM result file, one file
//! per level: `top.rs` (the document and its list of benchmarks), `benchmark.rs` (one
//! benchmark), `requests.rs` (a benchmark's request lists, read by the record scanner through
//! [`Lists`]) and `record.rs` (one per-request record, reduced to a [`Rec`](super::Rec)).
//!
//! The visitors share a [`Ctx`]: the JSON path being visited (for errors), the first error
//! raised inside the walk with its own offset and path, the benchmark callback, and the top
//! level read so far.

mod benchmark;
mod record;
mod requests;
mod top;

use super::error::ReadError;
use super::raw::{RawBenchmark, RawTop};
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use std::cell::RefCell;
use std::fmt;

/// Called with each benchmark as soon as it has been read.
pub type OnBenchmark<'f> = &'f mut dyn FnMut(RawBenchmark, &RawTop) -> Result<(), ReadError>;

/// Called with each record's bytes and its byte offset.
pub(super) type OnRecord<'a> = &'a mut dyn FnMut(&[u8], u64) -> Result<(), ReadError>;

/// Reads the request lists for the record visitor (the record scanner).
pub(super) trait Lists {
    /// Called just after a list's `[`: cut out each element and hand it with its byte offset
    /// to `on_rec`, stop before the closing `]` (left for serde_json).
    fn scan_list(&self, on_rec: OnRecord) -> Result<(), ReadError>;
}

/// Shared state of one parse.
pub(super) struct Ctx<'f> {
    path: RefCell<Vec<Seg>>,
    /// Error raised inside the walk with its own offset/path (takes precedence over serde's).
    failure: RefCell<Option<ReadError>>,
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
    pub(super) fn new(on_benchmark: OnBenchmark<'f>, lists: &'f dyn Lists) -> Self {
        Ctx {
            path: RefCell::new(Vec::new()),
            failure: RefCell::new(None),
            on_benchmark: RefCell::new(on_benchmark),
            top: RefCell::new(RawTop::default()),
            lists,
        }
    }

    pub(super) fn into_top(self) -> RawTop {
        self.top.into_inner()
    }

    pub(super) fn take_failure(&self) -> Option<ReadError> {
        self.failure.borrow_mut().take()
    }

    /// Keep `e` as the walk's failure; the error that stops serde_json meanwhile.
    fn fail<E: de::Error>(&self, e: ReadError) -> E {
        let msg = e.message.clone();
        *self.failure.borrow_mut() = Some(e);
        E::custom(msg)
    }

    /// Hand a benchmark to the callback.
    fn hand_on(&self, raw: RawBenchmark) -> Result<(), ReadError> {
        let top = self.top.borrow();
        let mut cb = self.on_benchmark.borrow_mut();
        (cb)(raw, &top)
    }

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

    /// The path as `benchmarks[2].requests.successful[10].info`.
    pub(super) fn path_string(&self) -> String {
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

/// Walk the whole document.
pub(super) fn document<'de, D: de::Deserializer<'de>>(ctx: &Ctx, d: D) -> Result<(), D::Error> {
    top::TopSeed { ctx }.deserialize(d)
}

/// A key visited without allocating (serde_json hands `visit_str` a scratch buffer).
struct Key<'a>(&'a mut String);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for Key<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.clear();
        self.0.push_str(v);
        Ok(())
    }
}

/// The next key of `map` into `key`; false after the last.
fn next_key<'de, A: MapAccess<'de>>(map: &mut A, key: &mut String) -> Result<bool, A::Error> {
    Ok(map.next_key_seed(Key(key))?.is_some())
}
