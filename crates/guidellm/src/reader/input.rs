//! The input both parts of the reader share: one read buffer and where each of its bytes went.
//!
//! serde_json's reader takes bytes through [`Outer`] as it likes; the record scanner takes whole
//! request lists straight from the buffer ([`Input::take`]). Every byte is so either *seen* by
//! serde_json or *skipped* by the scanner, and the bytes skipped so far all come before anything
//! serde_json reads afterwards. With those two counts and where each of the last [`RING`] lines
//! serde_json has seen began, an error that serde_json places by line and column is turned back
//! into a byte offset ([`Input::serde_offset`]). [`Outer`] also enforces the string limit on
//! what serde_json reads (the scanner enforces it on the records).

use super::error::ReadError;
use super::error::read_err;
use super::scan::Cut;
use std::cell::RefCell;
use std::io::{self, BufRead, BufReader, Read};

/// Lines whose start offsets are remembered to place serde_json's errors (an error is at most
/// a few lines before the last byte serde_json has read).
const RING: usize = 1024;

/// The read buffer with its counts, and the scanner's working space.
pub(super) struct Input<R> {
    pub(super) buf: BufReader<R>,
    /// Bytes taken by the scanner.
    skipped: u64,
    /// What serde_json has read.
    seen: Seen,
    /// Longest JSON string accepted, in bytes as written (escapes included).
    pub(super) max_string: u64,
    /// Where a string longer than `max_string` began, in what serde_json read (serde_json then
    /// gets a read error).
    pub(super) too_long: Option<u64>,
    /// The value the scanner is cutting out (reused: a record is a few KB), and its state.
    pub(super) rec: Vec<u8>,
    pub(super) cut: Cut,
}

/// The bytes serde_json has read: how many, their lines, and the string they end in.
struct Seen {
    bytes: u64,
    newlines: u64,
    /// `line_start[l % RING]`: offset among the seen bytes where serde_json's line `l` begins.
    line_start: Box<[u64; RING]>,
    /// Inside a string; after a backslash in it.
    in_str: bool,
    esc: bool,
    /// Where the current string began (offset in the input), and its length so far.
    str_start: u64,
    str_len: u64,
}

impl<R: Read> Input<R> {
    pub(super) fn new(reader: R, max_string: u64) -> Self {
        Input {
            buf: BufReader::with_capacity(256 * 1024, reader),
            skipped: 0,
            seen: Seen {
                bytes: 0,
                newlines: 0,
                line_start: Box::new([0; RING]),
                in_str: false,
                esc: false,
                str_start: 0,
                str_len: 0,
            },
            max_string,
            too_long: None,
            rec: Vec::new(),
            cut: Cut::new(),
        }
    }

    /// The offset in the input of the next byte.
    pub(super) fn pos(&self) -> u64 {
        self.seen.bytes + self.skipped
    }

    /// The buffered bytes, refilled when empty; empty at the end of the input.
    pub(super) fn fill(&mut self) -> Result<&[u8], ReadError> {
        let pos = self.pos();
        self.buf.fill_buf().map_err(|e| read_err(pos, &e))
    }

    /// Hand `n` buffered bytes to the scanner.
    pub(super) fn take(&mut self, n: usize) {
        self.buf.consume(n);
        self.skipped += n as u64;
    }
}

impl<R> Input<R> {
    /// The input offset of serde_json's 1-based `line` and byte `column`, if that line is
    /// among the last [`RING`] it has read.
    pub(super) fn serde_offset(&self, line: usize, column: usize) -> Option<u64> {
        let (line, col) = (line as u64, column as u64);
        let s = &self.seen;
        // serde_json errors come after every list the scanner took
        (line > 0 && line <= s.newlines + 1 && s.newlines + 1 - line < RING as u64)
            .then(|| s.line_start[line as usize % RING] + col + self.skipped)
    }
}

impl Seen {
    /// Count byte `c`, handed to serde_json after `skipped` bytes were taken by the scanner.
    /// `Err(start)`: it makes the string that began at `start` longer than `max_string`.
    fn byte(&mut self, c: u8, skipped: u64, max_string: u64) -> Result<(), u64> {
        self.bytes += 1;
        if c == b'\n' {
            self.newlines += 1;
            self.line_start[(self.newlines as usize + 1) % RING] = self.bytes;
        }
        if self.in_str {
            self.str_len += 1;
            if self.esc {
                self.esc = false;
            } else if c == b'\\' {
                self.esc = true;
            } else if c == b'"' {
                self.in_str = false;
            }
            if self.in_str && self.str_len > max_string {
                return Err(self.str_start);
            }
        } else if c == b'"' {
            self.in_str = true;
            self.str_start = self.bytes + skipped - 1;
            self.str_len = 0;
        }
        Ok(())
    }
}

/// serde_json's reader over the shared input.
pub(super) struct Outer<'a, R>(pub(super) &'a RefCell<Input<R>>);

impl<R: Read> Read for Outer<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut s = self.0.borrow_mut();
        let s = &mut *s;
        let b = s.buf.fill_buf()?;
        let n = b.len().min(out.len());
        out[..n].copy_from_slice(&b[..n]);
        for &c in &out[..n] {
            if let Err(start) = s.seen.byte(c, s.skipped, s.max_string) {
                s.too_long = Some(start);
                return Err(io::Error::other("string too long"));
            }
        }
        s.buf.consume(n);
        Ok(n)
    }
}
