//! Where in llm.conf something is: line numbers of offsets, keys and sections, and the one
//! function that reads a section into its typed configuration, reporting errors at their line.

use serde::de::DeserializeOwned;
use toml::Spanned;

pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

/// The line of `key = ...` inside a section's text, for an error about that key.
fn key_line(text: &str, span: std::ops::Range<usize>, message: &str) -> usize {
    match message.split('`').nth(1) {
        Some(key) => find_key(text, span.start, key).unwrap_or_else(|| line_of(text, span.start)),
        None => line_of(text, span.start),
    }
}

/// The line of `key = ...` in the section that starts at byte `start`.
fn find_key(text: &str, start: usize, key: &str) -> Option<usize> {
    let start_line = line_of(text, start);
    let rest = &text[start.min(text.len())..];
    for (i, l) in rest.lines().enumerate() {
        let l = l.trim_start();
        if i > 0 && l.starts_with('[') {
            break;
        }
        let l = l.trim_start_matches(['"', '\'']);
        if l.strip_prefix(key).is_some_and(|r| {
            r.trim_start_matches(['"', '\''])
                .trim_start()
                .starts_with('=')
        }) {
            return Some(start_line + i);
        }
    }
    None
}

/// The line where top-level key or table `name` is written.
pub(super) fn top_level_line(text: &str, name: &str) -> usize {
    for (i, l) in text.lines().enumerate() {
        let t = l.trim_start().trim_start_matches('[').trim_start();
        if l.trim_start().starts_with('[') {
            if t.strip_prefix(name)
                .is_some_and(|r| r.trim_start().starts_with([']', '.']))
            {
                return i + 1;
            }
        } else if t
            .strip_prefix(name)
            .is_some_and(|r| r.trim_start().starts_with(['=', '.']))
        {
            return i + 1;
        }
    }
    1
}

/// Where errors are reported: the file's name and text, the start offsets of all sections, and
/// the exact offset of the first error a typed parse of the whole file found (toml reports
/// the offending value's position, which a per-section parse of a `toml::Value` cannot).
pub(super) struct Ctx<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub section_starts: Vec<usize>,
    pub precise: Option<usize>,
}

impl Ctx<'_> {
    fn line_for(&self, span: std::ops::Range<usize>, msg: &str) -> usize {
        let next = self
            .section_starts
            .iter()
            .copied()
            .find(|s| *s > span.start);
        let end = next.unwrap_or(self.text.len());
        match self.precise {
            Some(at) if at >= span.start && at < end => line_of(self.text, at),
            _ => key_line(self.text, span, msg),
        }
    }
}

/// One section: every unknown key is reported (with the known ones); any error makes the
/// section fall back to its built-in defaults.
pub(super) fn section<T: DeserializeOwned>(
    ctx: &Ctx,
    name: &str,
    known: &[&str],
    value: Spanned<toml::Value>,
    errors: &mut Vec<String>,
) -> Option<T> {
    let file = ctx.file;
    let span = value.span();
    let header = line_of(ctx.text, span.start);
    let mut unknown = false;
    if let toml::Value::Table(t) = value.get_ref() {
        let mut bad: Vec<(usize, &String)> = t
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .map(|k| (find_key(ctx.text, span.start, k).unwrap_or(header), k))
            .collect();
        bad.sort();
        for (line, key) in bad {
            errors.push(format!(
                "{file}:{line}: {name}: unknown key \"{key}\" (the known keys are {}); using \
built-in defaults for this section",
                known.join(", ")
            ));
            unknown = true;
        }
    }
    if unknown {
        return None;
    }
    match T::deserialize(value.into_inner()) {
        Ok(v) => Some(v),
        Err(e) => {
            let msg = e.message().trim().to_string();
            let line = ctx.line_for(span, &msg);
            errors.push(format!(
                "{file}:{line}: {name}: {msg}; using built-in defaults for this section"
            ));
            None
        }
    }
}

/// Lines `from..=to` (1-based) of the section around line `line`: from its header (or the line
/// itself before any header) to the line before the next header.
pub(super) fn section_lines(text: &str, line: usize) -> (usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let is_header = |i: usize| {
        lines
            .get(i - 1)
            .is_some_and(|l| l.trim_start().starts_with('['))
    };
    let line = line.clamp(1, lines.len().max(1));
    let from = (1..=line).rev().find(|i| is_header(*i));
    let Some(from) = from else {
        return (line, line);
    };
    let to = (line + 1..=lines.len())
        .find(|i| is_header(*i))
        .map_or(lines.len(), |n| n - 1);
    (from, to.max(from))
}
