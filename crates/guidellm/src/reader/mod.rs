//! Streaming reader for GuideLLM result files, in memory bounded by the largest benchmark.
//!
//! Two parts read one buffer (`input.rs`):
//!
//! * **the document walk** (`visit/`): serde visitors over serde_json's streaming
//!   deserializer. Small subtrees (`metadata`, `args`, a benchmark's `config`, `metrics`,
//!   `scheduler_metrics`, ...) are kept as `serde_json::Value`; prompts, outputs, tracebacks and
//!   the like go to `IgnoredAny`. Each benchmark is handed to a callback as soon as its closing
//!   brace has been read (its `start_time`/`end_time` come after `requests`), so memory is
//!   bounded by the largest benchmark's record count (40 bytes per [`Rec`]), not by the file.
//! * **the record scanner** (`scan.rs`): when the walk reaches a `requests` list, the scanner
//!   takes that list straight from the buffer, cuts each record out whole and hands its bytes to
//!   the record visitor, which parses them with `from_slice` (keys borrowed, not copied).
//!   serde_json's reader never sees the records.
//!
//! Every error ([`ReadError`]) says where it happened: the byte offset in the (decompressed)
//! input and the JSON path. The scanner knows the offsets of what it cuts out; an error raised by
//! serde_json's reader is placed from its line and column (`input.rs` remembers where recent
//! lines began). A JSON string longer than the limit is refused at its first byte, wherever it
//! is, so memory stays bounded whatever the file holds.

mod error;
mod input;
mod raw;
mod scan;
mod visit;

pub use error::{ReadError, semantic, size_text};
pub use raw::{RawBenchmark, RawTop, Rec};
pub use visit::OnBenchmark;

use input::{Input, Outer};
use std::cell::RefCell;
use std::io::Read;
use visit::Ctx;

/// The default limit on any one JSON string: memory stays within a small multiple of it.
pub const MAX_STRING: u64 = 16 << 20;

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
    let input = RefCell::new(Input::new(reader, max_string));
    let ctx = Ctx::new(on_benchmark, &input);
    let mut de = serde_json::Deserializer::from_reader(Outer(&input));
    match visit::document(&ctx, &mut de).and_then(|()| de.end()) {
        Ok(()) => Ok(ctx.into_top()),
        Err(e) => Err(locate(&e, &ctx, &input.borrow())),
    }
}

/// The error that stopped serde_json's reader: the walk's own error if it raised one (it has
/// its offset and path already), else a string over the limit, else serde_json's error placed
/// by its line and column.
fn locate<R>(e: &serde_json::Error, ctx: &Ctx, input: &Input<R>) -> ReadError {
    if let Some(failure) = ctx.take_failure() {
        return failure;
    }
    if let Some(at) = input.too_long {
        let mut too_long = error::too_long(at, input.max_string);
        too_long.path = ctx.path_string();
        return too_long;
    }
    ReadError {
        offset: input.serde_offset(e.line(), e.column()),
        path: ctx.path_string(),
        message: error::message_of(e),
    }
}
