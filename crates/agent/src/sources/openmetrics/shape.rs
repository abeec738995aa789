//! The shape of an endpoint's last scrape: every line without its value, and what the mapper
//! made of each sample line.
//!
//! A server writes the same lines in the same order scrape after scrape; only the values
//! change. When a new body has the shape of the last one line for line, the mapper takes each
//! sample's resolution (metric, instance, histogram bucket) from the shape and reads only the
//! value, instead of parsing names and labels, looking families up and hashing instance names
//! again: that was most of a scrape's CPU. Any difference (a line added, removed or changed, a
//! value or timestamp that does not parse) and the scrape goes the full way, which records a
//! new shape. The resolution type `R` is the mapper's; this file only matches text.

use super::parse;

/// One line of the shape: the end of its text in [`Shape::keys`].
#[derive(Clone, Copy, Debug)]
enum Line {
    /// Not a sample (HELP, TYPE, a comment, a blank line): the whole line must be the same.
    Whole(usize),
    /// A sample: the line up to its value must be the same.
    Sample(usize),
}

pub(super) struct Shape<R> {
    /// Each line's text, whole or up to its value, one after the other.
    keys: String,
    lines: Vec<Line>,
    /// One per sample line, in line order.
    resolutions: Vec<R>,
    /// The last line is `# EOF`: what follows it is not read.
    ends_at_eof: bool,
}

/// Records the sample lines of a scrape while the mapper goes the full way.
pub(super) struct ShapeRecorder<R> {
    /// (1-based line number, where its value starts) of each sample line
    samples: Vec<(usize, usize)>,
    resolutions: Vec<R>,
    eof_line: Option<usize>,
}

impl<R> Default for ShapeRecorder<R> {
    fn default() -> Self {
        ShapeRecorder {
            samples: Vec::new(),
            resolutions: Vec::new(),
            eof_line: None,
        }
    }
}

impl<R> ShapeRecorder<R> {
    /// Sample `s` was resolved to `r`.
    pub(super) fn sample(&mut self, s: &parse::Sample<'_>, r: R) {
        self.samples.push((s.line, s.value_at));
        self.resolutions.push(r);
    }

    /// How many sample lines so far.
    pub(super) fn len(&self) -> usize {
        self.samples.len()
    }

    /// Their resolutions, in order.
    pub(super) fn resolutions(&self) -> &[R] {
        &self.resolutions
    }

    /// Line `line` was `# EOF`.
    pub(super) fn eof(&mut self, line: usize) {
        self.eof_line = Some(line);
    }

    /// The shape of `text`, whose every sample line has been recorded in order.
    pub(super) fn finish(self, text: &str) -> Shape<R> {
        let mut keys = String::new();
        let mut out = Vec::new();
        let mut samples = self.samples.iter().peekable();
        for (i, line) in parse::lines(text).enumerate() {
            let n = i + 1;
            match samples.next_if(|(at, _)| *at == n) {
                Some((_, value_at)) => {
                    keys.push_str(&line[..*value_at]);
                    out.push(Line::Sample(keys.len()));
                }
                None => {
                    keys.push_str(line);
                    out.push(Line::Whole(keys.len()));
                }
            }
            if self.eof_line == Some(n) {
                break;
            }
        }
        debug_assert!(samples.next().is_none(), "every recorded sample is a line");
        Shape {
            keys,
            lines: out,
            resolutions: self.resolutions,
            ends_at_eof: self.eof_line.is_some(),
        }
    }
}

impl<R> Shape<R> {
    pub(super) fn resolutions(&self) -> &[R] {
        &self.resolutions
    }

    /// Bytes held, to bound what a shape may keep.
    pub(super) fn size(&self) -> usize {
        self.keys.len()
            + self.lines.len() * std::mem::size_of::<Line>()
            + self.resolutions.len() * std::mem::size_of::<R>()
    }

    /// Whether `text` has this shape; if so `values` holds the value of each sample line, in
    /// the order of [`Shape::resolutions`]. Compares each line's key in place and scans only
    /// the values for line ends.
    pub(super) fn values(&self, text: &str, values: &mut Vec<f64>) -> bool {
        values.clear();
        let t = text.as_bytes();
        let (mut pos, mut start) = (0, 0);
        for line in &self.lines {
            let (end, sample) = match *line {
                Line::Whole(end) => (end, false),
                Line::Sample(end) => (end, true),
            };
            let key = &self.keys.as_bytes()[start..end];
            start = end;
            if pos >= t.len() || !t[pos..].starts_with(key) {
                return false; // no such line, or another one
            }
            let after = pos + key.len();
            let newline = if sample {
                t[after..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map(|i| after + i)
            } else {
                // The whole line is the key: only its end may follow.
                match &t[after..] {
                    [] | [b'\r'] => None,
                    [b'\n', ..] => Some(after),
                    [b'\r', b'\n', ..] => Some(after + 1),
                    _ => return false,
                }
            };
            let line_end = newline.unwrap_or(t.len());
            if sample {
                let stripped = if t[..line_end].ends_with(b"\r") {
                    line_end - 1
                } else {
                    line_end
                };
                match text
                    .get(pos..stripped)
                    .and_then(|l| parse::value_of_line(l, key.len()))
                {
                    Some(v) => values.push(v),
                    None => return false,
                }
            }
            pos = newline.map_or(t.len(), |n| n + 1);
        }
        self.ends_at_eof || pos >= t.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_of(text: &str) -> Shape<usize> {
        let mut rec = ShapeRecorder::default();
        let mut parser = parse::parse(text);
        let mut i = 0;
        while let Some(e) = parser.next() {
            match e.unwrap() {
                parse::Entry::Sample(s) => rec.sample(&s, i),
                parse::Entry::Eof => rec.eof(parser.line()),
                _ => {}
            }
            i += 1;
        }
        rec.finish(text)
    }

    fn values(shape: &Shape<usize>, text: &str) -> Option<Vec<f64>> {
        let mut v = vec![99.0];
        shape.values(text, &mut v).then_some(v)
    }

    const TEXT: &str =
        "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n\n  b 4.5 1700000000000\n";

    #[test]
    fn a_body_of_the_same_shape_gives_its_values_in_order() {
        let s = shape_of(TEXT);
        assert_eq!(s.resolutions(), &[2, 3]);
        assert_eq!(values(&s, TEXT), Some(vec![3.0, 4.5]));
        let next = TEXT.replace("} 3", "} 7e3").replace("4.5 17", "NaN 18");
        let v = values(&s, &next).unwrap();
        assert_eq!(v[0], 7000.0);
        assert!(v[1].is_nan());
        // Line endings and a missing last newline do not change the lines.
        assert!(values(&s, &TEXT.replace('\n', "\r\n")).is_some());
        assert!(values(&s, TEXT.trim_end_matches('\n')).is_some());
    }

    #[test]
    fn any_other_difference_is_another_shape() {
        let s = shape_of(TEXT);
        for other in [
            TEXT.replace("x=\"1\"", "x=\"2\""),                   // a label
            TEXT.replace("A.", "B."),                             // HELP text
            TEXT.replace("\n\n", "\n"),                           // a blank line less
            format!("{TEXT}c 1\n"),                               // a line more
            TEXT.replace("  b 4.5 1700000000000\n", ""),          // a line less
            TEXT.replace("} 3", "} three"),                       // a value that does not parse
            TEXT.replace("} 3", "}  3"),                          // the key includes the spaces
            TEXT.replace("1700000000000", "17 x"),                // text after the timestamp
            TEXT.replace("1700000000000", "soon"),                // a timestamp that does not parse
            TEXT.replace("} 3", "} "),                            // no value
            TEXT.replace("\r", "").replace("} 3\n", "} 3\r\r\n"), // a '\r' inside the line
        ] {
            assert_eq!(values(&s, &other), None, "{other:?}");
        }
    }

    #[test]
    fn after_eof_nothing_is_compared() {
        let text = "a 1\n# EOF\n";
        let s = shape_of(text);
        assert_eq!(values(&s, "a 2\n# EOF\nanything at all"), Some(vec![2.0]));
        assert_eq!(values(&s, "a 2\n"), None);
    }
}
