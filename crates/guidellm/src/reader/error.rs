//! Reading errors, and turning the positions the parts of the reader know (a byte offset, or
//! serde_json's line and column inside a slice) into offsets in the input.

use std::io;

/// A reading error with where it happened.
#[derive(Debug)]
pub struct ReadError {
    /// Syntax and type errors: the byte offset in the (decompressed) input.
    pub offset: Option<u64>,
    pub path: String,
    pub message: String,
}

/// A semantic error at a JSON path (raised after the value was parsed).
pub fn semantic(path: impl Into<String>, message: impl Into<String>) -> ReadError {
    ReadError {
        offset: None,
        path: path.into(),
        message: message.into(),
    }
}

/// An error at byte `offset` of the input; the walk fills in the path.
pub(super) fn at_offset(offset: u64, message: &str) -> ReadError {
    ReadError {
        offset: Some(offset),
        path: String::new(),
        message: message.to_string(),
    }
}

/// A failed read of the input at byte `offset`.
pub(super) fn read_err(offset: u64, e: &io::Error) -> ReadError {
    at_offset(offset, &format!("read error: {e}"))
}

/// A string that began at byte `offset` and is longer than `limit`.
pub(super) fn too_long(offset: u64, limit: u64) -> ReadError {
    at_offset(
        offset,
        &format!(
            "a string longer than {} (the limit on one JSON string; --max-string raises it)",
            size_text(limit)
        ),
    )
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

/// serde_json's message without its " at line L column C", marked when the input ended.
pub(super) fn message_of(e: &serde_json::Error) -> String {
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
pub(super) fn slice_offset(slice: &[u8], line: usize, column: usize) -> u64 {
    let start = if line <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', slice)
            .nth(line - 2)
            .map_or(slice.len(), |i| i + 1)
    };
    (start + column) as u64
}
