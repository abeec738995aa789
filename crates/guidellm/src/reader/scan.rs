//! The record scanner: reads a `requests` list straight from the shared buffer, cuts each
//! element out whole and hands its bytes, with their offset in the input, to the record visitor.
//! It stops before the list's closing `]`, which it leaves to serde_json's reader.
//!
//! Cutting a value out follows only what decides where it ends: strings (with `memchr` over
//! their bodies), escapes, and the nesting of brackets. Errors in the list's own syntax (a
//! missing `,`, a trailing comma, the input ending) and strings over the limit are reported here
//! at their byte offset; a record that is cut out but malformed is left to the record visitor's
//! `from_slice` to report. A long value is checked as it grows (at 1 MiB, then each time it
//! doubles), so that a stray quote is reported where it is rather than where the input ends,
//! and the rest of the file is not buffered.

use super::error::{ReadError, at_offset, message_of, read_err, slice_offset, too_long};
use super::input::Input;
use super::visit::{Lists, OnRecord};

use serde::de::IgnoredAny;
use std::cell::RefCell;
use std::io::{BufRead, Read};

/// The size of a value at which its syntax is first checked while it is being cut out.
const FIRST_CHECK: usize = 1 << 20;

impl<R: Read> Lists for RefCell<Input<R>> {
    fn scan_list(&self, on_rec: OnRecord) -> Result<(), ReadError> {
        let mut s = self.borrow_mut();
        let mut first = true;
        while s.next_element(first)? {
            first = false;
            let start = s.pos();
            s.value()?;
            on_rec(&s.rec, start)?;
        }
        Ok(())
    }
}

impl<R: Read> Input<R> {
    /// Move to the next element of a list (past its `,` unless it is the first): false at the
    /// list's closing `]`, left in the buffer.
    fn next_element(&mut self, first: bool) -> Result<bool, ReadError> {
        match self.skip_ws()? {
            None => {
                return Err(at_offset(
                    self.pos(),
                    "truncated JSON (EOF while parsing a list)",
                ));
            }
            Some(b']') => return Ok(false),
            Some(b',') if !first => self.past_comma()?,
            Some(_) if !first => return Err(at_offset(self.pos() + 1, "expected `,` or `]`")),
            Some(_) => {}
        }
        if self.peek()? == Some(b',') {
            return Err(at_offset(self.pos() + 1, "expected value"));
        }
        Ok(true)
    }

    /// Take the `,` between two elements and the white space after it.
    fn past_comma(&mut self) -> Result<(), ReadError> {
        self.take(1);
        match self.skip_ws()? {
            Some(b']') => Err(at_offset(self.pos() + 1, "trailing comma")),
            None => Err(at_offset(
                self.pos(),
                "truncated JSON (EOF while parsing a value)",
            )),
            _ => Ok(()),
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, ReadError> {
        Ok(self.fill()?.first().copied())
    }

    /// Take white space; the next byte, or None at the end of the input.
    fn skip_ws(&mut self) -> Result<Option<u8>, ReadError> {
        loop {
            let b = self.fill()?;
            if b.is_empty() {
                return Ok(None);
            }
            let n = b.len();
            match b.iter().position(|c| !is_ws(*c)) {
                Some(i) => {
                    let c = b[i];
                    self.take(i);
                    return Ok(Some(c));
                }
                None => self.take(n),
            }
        }
    }

    /// Cut out one value into `self.rec`.
    fn value(&mut self) -> Result<(), ReadError> {
        let start = self.pos();
        let mut check_at = FIRST_CHECK;
        self.rec.clear();
        self.cut.reset();
        loop {
            let pos = self.pos();
            let b = self.buf.fill_buf().map_err(|e| read_err(pos, &e))?;
            if b.is_empty() {
                return self.value_at_eof(start, pos);
            }
            let (n, done) = self.cut.feed(b, pos, self.max_string)?;
            self.rec.extend_from_slice(&b[..n]);
            self.take(n);
            if done {
                return Ok(());
            }
            if self.rec.len() >= check_at {
                self.check_prefix(start)?;
                check_at *= 2;
            }
        }
    }

    /// The input ended at `pos` inside the value that began at `start`: only a number or a
    /// literal may end so.
    fn value_at_eof(&self, start: u64, pos: u64) -> Result<(), ReadError> {
        if self.cut.at == At::Scalar {
            return Ok(());
        }
        self.check_prefix(start)?;
        let what = self.cut.what();
        Err(at_offset(
            pos,
            &format!("truncated JSON (EOF while parsing {what})"),
        ))
    }

    /// A syntax error in the part of a value cut out so far (not counting its end), so that
    /// a stray quote reports where it is rather than where the input ends, and does not
    /// buffer the rest of the file.
    fn check_prefix(&self, start: u64) -> Result<(), ReadError> {
        match serde_json::from_slice::<IgnoredAny>(&self.rec) {
            Err(e) if !e.is_eof() => Err(at_offset(
                start + slice_offset(&self.rec, e.line(), e.column()),
                &message_of(&e),
            )),
            _ => Ok(()),
        }
    }
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

/// Where the cutter is in the value being cut out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum At {
    /// Before its first byte.
    Start,
    /// In a number or literal: it ends before the next delimiter.
    Scalar,
    /// In an object or a list, outside strings.
    Nested,
    /// In a string; `esc`: just after a backslash.
    Str { esc: bool },
}

/// The state of cutting out one value, fed the input a buffer at a time.
pub(super) struct Cut {
    pub(super) at: At,
    /// The brackets open, innermost last.
    stack: Vec<u8>,
    /// Where the current string began (offset in the input), and its length so far.
    str_start: u64,
    str_len: u64,
}

impl Cut {
    pub(super) fn new() -> Cut {
        Cut {
            at: At::Start,
            stack: Vec::new(),
            str_start: 0,
            str_len: 0,
        }
    }

    fn reset(&mut self) {
        self.at = At::Start;
        self.stack.clear();
        self.str_start = 0;
        self.str_len = 0;
    }

    /// Take the bytes of `b` (which begins at input offset `pos`) that belong to the value:
    /// how many, and whether the value ends with them.
    fn feed(&mut self, b: &[u8], pos: u64, max_string: u64) -> Result<(usize, bool), ReadError> {
        let mut i = 0;
        while i < b.len() {
            let at = pos + i as u64;
            let (n, done) = match self.at {
                At::Start => (self.begin(b[i], at), false),
                At::Scalar => scalar_end(&b[i..]),
                At::Nested => self.nested(&b[i..], at),
                At::Str { esc } => self.string(&b[i..], esc, max_string)?,
            };
            i += n;
            if done {
                return Ok((i, true));
            }
        }
        Ok((i, false))
    }

    /// The value's first byte, at `pos`: how many bytes it takes (none for a scalar's).
    fn begin(&mut self, c: u8, pos: u64) -> usize {
        match c {
            b'{' | b'[' => {
                self.stack.push(c);
                self.at = At::Nested;
                1
            }
            b'"' => {
                self.open_string(pos);
                1
            }
            _ => {
                self.at = At::Scalar;
                0
            }
        }
    }

    fn open_string(&mut self, pos: u64) {
        self.at = At::Str { esc: false };
        self.str_start = pos;
        self.str_len = 0;
    }

    /// Inside an object or list (`b` begins at `pos`): up to and including the next `"` or
    /// the bracket that closes the value. A bracket that does not match the one open also
    /// ends the value there: `from_slice` reports it.
    fn nested(&mut self, b: &[u8], pos: u64) -> (usize, bool) {
        for (i, &c) in b.iter().enumerate() {
            match c {
                b'"' => {
                    self.open_string(pos + i as u64);
                    return (i + 1, false);
                }
                b'{' | b'[' => self.stack.push(c),
                b'}' | b']' => {
                    let open = self.stack.pop();
                    if self.stack.is_empty() || open != Some(c - 2) {
                        return (i + 1, true);
                    }
                }
                _ => {}
            }
        }
        (b.len(), false)
    }

    /// Inside a string: the escaped byte after a backslash, or up to and including the next
    /// `"` or `\`. A string that is the whole value ends the value with its closing quote.
    fn string(&mut self, b: &[u8], esc: bool, max_string: u64) -> Result<(usize, bool), ReadError> {
        if esc {
            self.at = At::Str { esc: false };
            self.str_len += 1;
            return Ok((1, false));
        }
        let found = memchr::memchr2(b'"', b'\\', b);
        self.str_len += found.unwrap_or(b.len()) as u64;
        if self.str_len > max_string {
            return Err(too_long(self.str_start, max_string));
        }
        let Some(j) = found else {
            return Ok((b.len(), false));
        };
        self.str_len += 1;
        if b[j] == b'\\' {
            self.at = At::Str { esc: true };
            return Ok((j + 1, false));
        }
        if self.stack.is_empty() {
            return Ok((j + 1, true));
        }
        self.at = At::Nested;
        Ok((j + 1, false))
    }

    /// What the input ended in, for the error.
    fn what(&self) -> &'static str {
        match self.at {
            At::Str { .. } => "a string",
            _ if self.stack.last() == Some(&b'[') => "a list",
            _ => "an object",
        }
    }
}

/// In a number or literal: up to the next delimiter (not included), which ends the value.
fn scalar_end(b: &[u8]) -> (usize, bool) {
    match b
        .iter()
        .position(|c| matches!(c, b',' | b']' | b'}') || is_ws(*c))
    {
        Some(i) => (i, true),
        None => (b.len(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cut one value out of `text` handed over `chunk` bytes at a time: the bytes taken and
    /// whether the value ended.
    fn cut(text: &str, chunk: usize) -> Result<(String, bool), String> {
        let mut c = Cut::new();
        let b = text.as_bytes();
        let mut taken = 0;
        while taken < b.len() {
            let end = (taken + chunk).min(b.len());
            let (n, done) = c
                .feed(&b[taken..end], taken as u64, 100)
                .map_err(|e| format!("{} at {:?}", e.message, e.offset))?;
            taken += n;
            if done {
                return Ok((text[..taken].to_string(), true));
            }
        }
        Ok((text.to_string(), false))
    }

    #[test]
    fn values_end_where_json_says_whatever_the_chunks() {
        let cases = [
            (
                r#"{"a": [1, {"b": "}]\"x"}], "c": 2} , {"d":1}"#,
                r#"{"a": [1, {"b": "}]\"x"}], "c": 2}"#,
            ),
            (r#"[1, [2, 3], "]"] ]"#, r#"[1, [2, 3], "]"]"#),
            (
                r#""a \"quoted\" \\ string", 2"#,
                r#""a \"quoted\" \\ string""#,
            ),
            ("12.5e3 , 4", "12.5e3"),
            ("true]", "true"),
            // a mismatched bracket ends the value: from_slice reports it
            (r#"{"a": [1}, 2"#, r#"{"a": [1}"#),
        ];
        for (text, want) in cases {
            for chunk in [1, 2, 3, 7, 1000] {
                assert_eq!(
                    cut(text, chunk),
                    Ok((want.to_string(), true)),
                    "{text} / {chunk}"
                );
            }
        }
    }

    #[test]
    fn unfinished_values_say_what_they_are_in() {
        for (text, what, at) in [
            (r#"{"a": "xy"#, "a string", At::Str { esc: false }),
            (r#"{"a": [1, 2"#, "a list", At::Nested),
            (r#"{"a": 1"#, "an object", At::Nested),
        ] {
            let mut c = Cut::new();
            assert_eq!(
                c.feed(text.as_bytes(), 0, 100).unwrap(),
                (text.len(), false)
            );
            assert_eq!((c.what(), c.at), (what, at), "{text}");
        }
    }

    #[test]
    fn strings_over_the_limit_are_refused_at_their_first_byte() {
        let long = format!(r#"{{"k": "{}"}}"#, "x".repeat(101));
        for chunk in [1, 5, 1000] {
            assert_eq!(cut(&long, chunk), Err("a string longer than 100 bytes (the limit on one JSON string; --max-string raises it) at Some(6)".to_string()));
        }
        let fits = format!(r#"{{"k": "{}"}}"#, "x".repeat(100));
        assert_eq!(cut(&fits, 3), Ok((fits.clone(), true)));
    }
}
