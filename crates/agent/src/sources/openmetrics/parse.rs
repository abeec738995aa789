//! A small, zero-copy parser of the Prometheus text exposition format 0.0.4 (what vLLM's
//! `/metrics` serves), also accepting the OpenMetrics spellings a negotiating server may send
//! (`# EOF`, `# UNIT`).
//!
//! Why not `prometheus-parse`: its name pattern `\w+` silently drops every name containing ':'
//! (all `vllm:*` and `lmcache:*` families), and it splits labels on ',' and '=' without
//! honouring quotes or escapes. This parser borrows every name, label and HELP text from the
//! input; the only allocation is a label value that contains an escape, made when that value
//! is read ([`Labels::iter`] yields `Cow`), never per sample.
//!
//! Grammar handled (one item per line, `\n` or `\r\n`, the last line may lack its newline):
//! * `# HELP name text` / `# TYPE name kind` / `# UNIT name unit`; other `#` lines are comments;
//! * `name{label="value",...} value [timestamp]`, names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label
//!   values with `\\`, `\"` and `\n` escapes, an optional trailing comma, spaces around tokens;
//! * values: decimal and exponent floats, `+Inf`, `-Inf`, `Inf`, `NaN` (any case);
//! * timestamps: optional integer milliseconds (a float is accepted too and truncated).

use std::borrow::Cow;

/// The kind declared by `# TYPE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Untyped,
}

impl Kind {
    fn from_text(s: &str) -> Kind {
        match s {
            "counter" => Kind::Counter,
            "gauge" => Kind::Gauge,
            "histogram" => Kind::Histogram,
            "gaugehistogram" => Kind::GaugeHistogram,
            "summary" => Kind::Summary,
            "info" => Kind::Info,
            "stateset" => Kind::StateSet,
            _ => Kind::Untyped,
        }
    }
}

/// A parse error: the 1-based line and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: &'static str,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "parse error at line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// The label set of a sample, validated when the line was parsed; iterate it with
/// [`Labels::iter`]. Holds only a slice of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Labels<'a> {
    /// The text between `{` and `}`, already checked to be well formed.
    raw: &'a str,
}

impl<'a> Labels<'a> {
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
    /// The raw text between the braces (escapes not decoded).
    pub fn raw(&self) -> &'a str {
        self.raw
    }
    pub fn iter(&self) -> LabelIter<'a> {
        LabelIter {
            rest: self.raw.as_bytes(),
            text: self.raw,
            pos: 0,
        }
    }
    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// Iterator over `(name, value)`; values are borrowed unless they contain escapes.
pub struct LabelIter<'a> {
    rest: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = (&'a str, Cow<'a, str>);
    fn next(&mut self) -> Option<Self::Item> {
        // The text was validated by `scan_labels`, so this walk cannot fail; it still stops
        // quietly rather than panic if it ever meets something unexpected.
        let b = self.rest;
        let mut i = self.pos;
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t' || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            self.pos = i;
            return None;
        }
        let name_start = i;
        while i < b.len() && is_name_byte(b[i], false) {
            i += 1;
        }
        let name = &self.text[name_start..i];
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t' || b[i] == b'=') {
            i += 1;
        }
        if i >= b.len() || b[i] != b'"' {
            self.pos = b.len();
            return None;
        }
        i += 1;
        let vstart = i;
        let (end, escaped) = value_end(self.text, vstart).unwrap_or((b.len(), false));
        i = end;
        let raw = &self.text[vstart..i.min(b.len())];
        self.pos = (i + 1).min(b.len());
        let value = if escaped {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        };
        Some((name, value))
    }
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// One sample line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample<'a> {
    pub name: &'a str,
    pub labels: Labels<'a>,
    pub value: f64,
    /// Milliseconds since the epoch, when the line carries one.
    pub timestamp_ms: Option<i64>,
    /// 1-based line number.
    pub line: usize,
    /// Where the value starts in the line: the text before it (name, labels and the spaces
    /// between) is the series' key, the same scrape after scrape.
    pub value_at: usize,
}

/// One meaningful line of the exposition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Entry<'a> {
    Help {
        name: &'a str,
        text: &'a str,
    },
    Type {
        name: &'a str,
        kind: Kind,
    },
    Unit {
        name: &'a str,
        unit: &'a str,
    },
    Sample(Sample<'a>),
    /// `# EOF` (OpenMetrics): nothing after it is read.
    Eof,
}

/// Iterator over the entries of an exposition; comments and blank lines are skipped. After an
/// error the iterator ends.
pub struct Parser<'a> {
    lines: Lines<'a>,
    line: usize,
    done: bool,
}

/// Parses `text`.
pub fn parse(text: &str) -> Parser<'_> {
    Parser {
        lines: lines(text),
        line: 0,
        done: false,
    }
}

/// The lines of an exposition as the parser reads them: split at `\n`, each without one
/// trailing `\r`; the last may lack its `\n`.
pub fn lines(text: &str) -> Lines<'_> {
    Lines { rest: text }
}

/// See [`lines`].
pub struct Lines<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match self.rest.find('\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, ""),
        };
        self.rest = rest;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }
}

impl Parser<'_> {
    /// The 1-based number of the line the last entry came from.
    pub fn line(&self) -> usize {
        self.line
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Entry<'a>, ParseError>;
    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let line = self.lines.next()?;
            self.line += 1;
            match parse_line(line, self.line) {
                Ok(None) => continue,
                Ok(Some(Entry::Eof)) => {
                    self.done = true;
                    return Some(Ok(Entry::Eof));
                }
                Ok(Some(e)) => return Some(Ok(e)),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

#[inline]
fn is_name_byte(c: u8, allow_colon: bool) -> bool {
    NAME_BYTES[c as usize] & if allow_colon { 3 } else { 1 } != 0
}

/// 1: `[A-Za-z0-9_]`, 2: `:`.
static NAME_BYTES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || b == b'_' {
            t[c] = 1;
        } else if b == b':' {
            t[c] = 2;
        }
        c += 1;
    }
    t
};

/// The first `"` or `\\` at or after `i`, eight bytes at a time (label values are short, so
/// this beats a call to a general substring search).
#[inline]
fn find_quote_or_backslash(b: &[u8], mut i: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    while i + 8 <= b.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let q = w ^ (LO * b'"' as u64);
        let s = w ^ (LO * b'\\' as u64);
        // A zero byte in q or s marks a match; the lowest flag is always a true one.
        let m = ((q.wrapping_sub(LO) & !q) | (s.wrapping_sub(LO) & !s)) & HI;
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    while i < b.len() {
        if b[i] == b'"' || b[i] == b'\\' {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The index of the quote that closes a label value starting at `start` (just after its
/// opening quote), and whether the value holds escapes.
fn value_end(s: &str, start: usize) -> Option<(usize, bool)> {
    let b = s.as_bytes();
    let mut i = start;
    let mut escaped = false;
    loop {
        let j = find_quote_or_backslash(b, i)?;
        if b[j] == b'"' {
            return Some((j, escaped));
        }
        escaped = true;
        i = j + 2;
        if i > b.len() {
            return None;
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

/// Scans a metric name starting at `i`; returns its end.
fn scan_name(b: &[u8], i: usize, line: usize) -> Result<usize, ParseError> {
    if i >= b.len() || !(b[i].is_ascii_alphabetic() || b[i] == b'_' || b[i] == b':') {
        return Err(ParseError {
            line,
            message: "expected a metric name",
        });
    }
    let mut j = i + 1;
    while j < b.len() && is_name_byte(b[j], true) {
        j += 1;
    }
    Ok(j)
}

fn parse_line(line: &str, n: usize) -> Result<Option<Entry<'_>>, ParseError> {
    let b = line.as_bytes();
    let i = skip_ws(b, 0);
    if i >= b.len() {
        return Ok(None);
    }
    if b[i] == b'#' {
        return Ok(parse_comment(line, i + 1, n));
    }
    parse_sample(line, i, n).map(|s| Some(Entry::Sample(s)))
}

fn parse_comment(line: &str, start: usize, n: usize) -> Option<Entry<'_>> {
    let b = line.as_bytes();
    let i = skip_ws(b, start);
    let word_end = b[i..]
        .iter()
        .position(|&c| c == b' ' || c == b'\t')
        .map_or(b.len(), |p| i + p);
    let word = &line[i..word_end];
    if word == "EOF" && line[word_end..].trim().is_empty() {
        return Some(Entry::Eof);
    }
    if word != "HELP" && word != "TYPE" && word != "UNIT" {
        return None; // an ordinary comment
    }
    let ns = skip_ws(b, word_end);
    let ne = scan_name(b, ns, n).ok()?;
    if ne < b.len() && b[ne] != b' ' && b[ne] != b'\t' {
        return None; // not a well-formed name: treat as a comment, as Prometheus does
    }
    let name = &line[ns..ne];
    let rest_start = skip_ws(b, ne);
    let rest = &line[rest_start..];
    Some(match word {
        "HELP" => Entry::Help { name, text: rest },
        "TYPE" => Entry::Type {
            name,
            kind: Kind::from_text(rest.trim_end()),
        },
        _ => Entry::Unit {
            name,
            unit: rest.trim_end(),
        },
    })
}

fn parse_sample(line: &str, start: usize, n: usize) -> Result<Sample<'_>, ParseError> {
    let b = line.as_bytes();
    let name_end = scan_name(b, start, n)?;
    let name = &line[start..name_end];
    let mut i = skip_ws(b, name_end);
    let mut labels = Labels::default();
    if i < b.len() && b[i] == b'{' {
        let close = scan_labels(line, i + 1, n)?;
        labels = Labels {
            raw: &line[i + 1..close],
        };
        i = skip_ws(b, close + 1);
    } else if i == name_end && i < b.len() {
        return Err(ParseError {
            line: n,
            message: "invalid character in metric name",
        });
    }
    let (value, timestamp_ms) = parse_tail(line, i, n)?;
    Ok(Sample {
        name,
        labels,
        value,
        timestamp_ms,
        line: n,
        value_at: i,
    })
}

/// The value of a sample line whose key (the text before `value_at`) is already known, or
/// `None` where [`parse`] would report an error.
pub fn value_of_line(line: &str, value_at: usize) -> Option<f64> {
    parse_tail(line, value_at, 0).ok().map(|(value, _)| value)
}

/// The value and optional timestamp of a sample line, from `vstart` to the line's end.
fn parse_tail(line: &str, vstart: usize, n: usize) -> Result<(f64, Option<i64>), ParseError> {
    let b = line.as_bytes();
    let mut i = vstart;
    while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
        i += 1;
    }
    if vstart == i {
        return Err(ParseError {
            line: n,
            message: "sample without a value",
        });
    }
    let value = parse_value(&line[vstart..i]).ok_or(ParseError {
        line: n,
        message: "invalid sample value",
    })?;
    let i = skip_ws(b, i);
    let mut timestamp_ms = None;
    if i < b.len() {
        let mut j = i;
        while j < b.len() && b[j] != b' ' && b[j] != b'\t' {
            j += 1;
        }
        let ts = &line[i..j];
        timestamp_ms = Some(match ts.parse::<i64>() {
            Ok(t) => t,
            Err(_) => match ts.parse::<f64>() {
                Ok(f) if f.is_finite() => f as i64,
                _ => {
                    return Err(ParseError {
                        line: n,
                        message: "invalid timestamp",
                    });
                }
            },
        });
        if skip_ws(b, j) < b.len() {
            return Err(ParseError {
                line: n,
                message: "unexpected text after the timestamp",
            });
        }
    }
    Ok((value, timestamp_ms))
}

/// Validates `name="value",...}` starting after `{`; returns the index of the closing `}`.
fn scan_labels(line: &str, mut i: usize, n: usize) -> Result<usize, ParseError> {
    let err = |message| ParseError { line: n, message };
    let b = line.as_bytes();
    loop {
        i = skip_ws(b, i);
        if i >= b.len() {
            return Err(err("unterminated label set"));
        }
        if b[i] == b'}' {
            return Ok(i);
        }
        if !(b[i].is_ascii_alphabetic() || b[i] == b'_') {
            return Err(err("expected a label name"));
        }
        while i < b.len() && is_name_byte(b[i], false) {
            i += 1;
        }
        i = skip_ws(b, i);
        if i >= b.len() || b[i] != b'=' {
            return Err(err("expected '=' after a label name"));
        }
        i = skip_ws(b, i + 1);
        if i >= b.len() || b[i] != b'"' {
            return Err(err("expected '\"' to open a label value"));
        }
        i = match value_end(line, i + 1) {
            Some((end, _)) => end,
            None => return Err(err("unterminated label value")),
        };
        i = skip_ws(b, i + 1);
        if i >= b.len() {
            return Err(err("unterminated label set"));
        }
        match b[i] {
            b',' => i += 1,
            b'}' => return Ok(i),
            _ => return Err(err("expected ',' or '}' after a label value")),
        }
    }
}

/// Parses a sample value: a float, `+Inf`/`-Inf`/`Inf`, `NaN`.
pub fn parse_value(s: &str) -> Option<f64> {
    if let Some(v) = short_decimal(s) {
        return Some(v);
    }
    if let Ok(v) = s.parse::<f64>() {
        return Some(v);
    }
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        })
    } else if body.eq_ignore_ascii_case("nan") {
        Some(f64::NAN)
    } else {
        None
    }
}

/// `[-]digits[.digits]` with at most 15 digits in all (most values vLLM writes: `0.0`, `42`,
/// `1234.5`), without the general float parser. Exact: the digits make an integer below
/// 2^53 and the divisor a power of ten below 10^16, both exact doubles, and one IEEE
/// division rounds correctly, as `str::parse::<f64>` does.
fn short_decimal(s: &str) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (neg, b) = match s.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        b => (false, b),
    };
    let mut mantissa: u64 = 0;
    let mut digits = 0usize;
    let mut frac: Option<usize> = None;
    for &c in b {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                digits += 1;
                if let Some(f) = frac.as_mut() {
                    *f += 1;
                }
            }
            b'.' if frac.is_none() => frac = Some(0),
            _ => return None,
        }
        if digits > 15 {
            return None;
        }
    }
    if digits == 0 {
        return None;
    }
    let frac = frac.unwrap_or(0);
    let v = mantissa as f64 / POW10[frac];
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(text: &str) -> Vec<Sample<'_>> {
        parse(text)
            .filter_map(|e| match e.unwrap() {
                Entry::Sample(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn names_with_colons_and_labels() {
        let s = samples(
            "vllm:num_requests_running{engine=\"0\",model_name=\"Qwen/Qwen1.5-0.5B-Chat\"} 3.0\n",
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name, "vllm:num_requests_running");
        assert_eq!(s[0].value, 3.0);
        assert_eq!(s[0].labels.get("engine").unwrap(), "0");
        assert_eq!(
            s[0].labels.get("model_name").unwrap(),
            "Qwen/Qwen1.5-0.5B-Chat"
        );
        assert!(s[0].labels.get("le").is_none());
    }

    #[test]
    fn escaped_label_values_with_commas_and_equals() {
        let s = samples(r#"m{model_name="org/Model \"x\"\\y\nz",other="a,b=c}"} 1"#);
        let labels: Vec<_> = s[0].labels.iter().collect();
        assert_eq!(labels.len(), 2);
        assert_eq!(labels[0].0, "model_name");
        assert_eq!(labels[0].1, "org/Model \"x\"\\y\nz");
        assert!(matches!(labels[0].1, Cow::Owned(_)));
        assert_eq!(labels[1], ("other", Cow::Borrowed("a,b=c}")));
    }

    #[test]
    fn short_decimals_parse_exactly_as_the_general_parser_does() {
        let mut cases: Vec<String> = [
            "0",
            "0.0",
            "-0",
            "-0.0",
            "5.",
            ".5",
            "007",
            "1234.5",
            "999999999999999",
            "99999999999999.9",
            "0.000000000000001",
            "-3.14159",
            "1.0",
            "0.1",
            "0.3",
            "2.675",
            "123456789012345",
            "1234567890123456",
            ".",
            "-",
            "",
            "1.2.3",
            "1e3",
            "+1",
            "--1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // A spread of other decimals with up to 15 digits.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 999_999_999_999_999).to_string();
            let point = (x >> 50) as usize % (digits.len() + 1);
            let sign = if x & 1 == 1 { "-" } else { "" };
            cases.push(format!("{sign}{}.{}", &digits[..point], &digits[point..]));
        }
        for c in &cases {
            let general = c.parse::<f64>().ok();
            match short_decimal(c) {
                Some(v) => assert_eq!(Some(v.to_bits()), general.map(f64::to_bits), "{c}"),
                None => assert!(
                    general.is_none()
                        || c.chars().filter(char::is_ascii_digit).count() > 15
                        || c.contains(['e', '+']),
                    "{c} is short but was left to the general parser"
                ),
            }
            assert_eq!(
                parse_value(c).map(f64::to_bits),
                general.map(f64::to_bits),
                "{c}"
            );
        }
    }

    #[test]
    fn special_values_parse() {
        let all: Vec<_> =
            parse("a +Inf\nb -Inf\nc NaN\nd 1.5e3 1700000000000\ne{le=\"+Inf\"} 7 -5\nf inf\n")
                .map(|e| e.unwrap())
                .collect();
        let v: Vec<(f64, Option<i64>)> = all
            .iter()
            .map(|e| match e {
                Entry::Sample(s) => (s.value, s.timestamp_ms),
                _ => panic!(),
            })
            .collect();
        assert_eq!(v[0].0, f64::INFINITY);
        assert_eq!(v[1].0, f64::NEG_INFINITY);
        assert!(v[2].0.is_nan());
        assert_eq!(v[3], (1500.0, Some(1_700_000_000_000)));
        assert_eq!(v[4], (7.0, Some(-5)));
        assert_eq!(v[5].0, f64::INFINITY);
    }

    #[test]
    fn word_at_a_time_search_agrees_with_a_byte_loop() {
        let alphabet = b"a\"\\\x80\xff\x01 \x22\x5c\x7f0";
        let mut x: u64 = 7;
        for _ in 0..20000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = ((x >> 40) % 40) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|k| alphabet[((x >> (k % 50)) as usize + k * 7) % alphabet.len()])
                .collect();
            let start = if len == 0 {
                0
            } else {
                ((x >> 8) as usize) % len
            };
            let naive = (start..len).find(|&i| buf[i] == b'"' || buf[i] == b'\\');
            assert_eq!(
                find_quote_or_backslash(&buf, start),
                naive,
                "{buf:?} from {start}"
            );
        }
    }

    #[test]
    fn help_type_created_and_no_trailing_newline() {
        let text = "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.\n\
# TYPE vllm:prompt_tokens_total counter\n\
vllm:prompt_tokens_total{engine=\"0\"} 12.0\n\
# HELP vllm:prompt_tokens_created Number of prefill tokens processed.\n\
# TYPE vllm:prompt_tokens_created gauge\n\
vllm:prompt_tokens_created{engine=\"0\"} 1.7e9\n\
# a comment\n\
\n\
last 4";
        let e: Vec<_> = parse(text).map(|e| e.unwrap()).collect();
        assert_eq!(
            e[0],
            Entry::Help {
                name: "vllm:prompt_tokens_total",
                text: "Number of prefill tokens processed."
            }
        );
        assert_eq!(
            e[1],
            Entry::Type {
                name: "vllm:prompt_tokens_total",
                kind: Kind::Counter
            }
        );
        assert!(matches!(e[2], Entry::Sample(s) if s.value == 12.0 && s.line == 3));
        assert!(matches!(
            e[4],
            Entry::Type {
                kind: Kind::Gauge,
                ..
            }
        ));
        assert!(
            matches!(e[6], Entry::Sample(s) if s.name == "last" && s.value == 4.0 && s.line == 9)
        );
        assert_eq!(e.len(), 7);
    }

    #[test]
    fn crlf_eof_and_trailing_comma() {
        let e: Vec<_> = parse("a{x=\"1\",} 2\r\n# EOF\ngarbage {{{\n")
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(e.len(), 2);
        assert!(
            matches!(e[0], Entry::Sample(s) if s.value == 2.0 && s.labels.get("x").unwrap() == "1")
        );
        assert_eq!(e[1], Entry::Eof);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("ok 1\n<html>\n", 2),
            ("a{x=\"1\" 2\n", 1),
            ("a{x=1} 2\n", 1),
            ("\n\na\n", 3),
            ("a 1 2 3\n", 1),
            ("a{x=\"unterminated} 1\n", 1),
            ("a 1 notatime\n", 1),
            ("a-b 1\n", 1),
            ("g 0x10\n", 1),
        ];
        for (text, line) in cases {
            let err = parse(text)
                .find_map(|e| e.err())
                .unwrap_or_else(|| panic!("{text:?} parsed"));
            assert_eq!(err.line, line, "{text:?}: {err}");
        }
    }

    #[test]
    fn the_real_capture_parses_completely() {
        let text = include_str!(
            "../../../../../tests/fixtures/vllm/vllm-0.11.0_qwen1.5-0.5b-chat_idle.metrics.txt"
        );
        let mut samples = 0;
        let mut types = 0;
        for e in parse(text) {
            match e.unwrap() {
                Entry::Sample(s) => {
                    samples += 1;
                    assert!(!s.name.is_empty());
                }
                Entry::Type { .. } => types += 1,
                _ => {}
            }
        }
        let expected_samples = text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(samples, expected_samples);
        assert_eq!(
            types,
            text.lines().filter(|l| l.starts_with("# TYPE ")).count()
        );
        let colon = parse(text)
            .filter_map(|e| match e.unwrap() {
                Entry::Sample(s) if s.name.starts_with("vllm:") => Some(()),
                _ => None,
            })
            .count();
        assert!(colon > 300, "only {colon} vllm: samples");
    }

    /// A deterministic property test standing in for `cargo fuzz` in the normal test suite: the
    /// parser never panics on random or mutated input, every sample it yields has a well-formed
    /// name, and label iteration terminates.
    #[test]
    fn never_panics_on_mutated_input() {
        let seed_text = include_str!(
            "../../../../../tests/fixtures/vllm/vllm-0.11.0_qwen1.5-0.5b-chat_idle.metrics.txt"
        );
        let seed = &seed_text.as_bytes()[..4000];
        let alphabet = b"{}=\",\\\n #:aZ_09.+-eInfNa\t\r";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..3000 {
            let mut buf: Vec<u8> = if round % 3 == 0 {
                (0..(rnd() % 200))
                    .map(|_| alphabet[(rnd() % alphabet.len() as u64) as usize])
                    .collect()
            } else {
                let start = (rnd() % 3000) as usize;
                seed[start..start + 800].to_vec()
            };
            for _ in 0..(rnd() % 8) {
                if buf.is_empty() {
                    break;
                }
                let p = (rnd() % buf.len() as u64) as usize;
                match rnd() % 3 {
                    0 => buf[p] = alphabet[(rnd() % alphabet.len() as u64) as usize],
                    1 => {
                        buf.remove(p);
                    }
                    _ => buf.insert(p, alphabet[(rnd() % alphabet.len() as u64) as usize]),
                }
            }
            let text = String::from_utf8_lossy(&buf);
            for e in parse(&text) {
                if let Ok(Entry::Sample(s)) = e {
                    assert!(!s.name.is_empty());
                    assert!(s.labels.iter().count() <= s.labels.raw().len());
                }
            }
        }
    }
}
