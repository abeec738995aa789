//! GuideLLM ≥ 0.8's own progress log lines, as a `[[progress]]` section follows them: the
//! loguru JSON-lines file (`GUIDELLM__LOGGING__LOG_FILE`, `guidellm-jsonl`) or the INFO lines
//! on stderr (`guidellm-stderr`). See FORMATS.md §3: the message is
//! `Benchmark N (STRATEGY@TARGET): STATUS | elapsed=S.s | successful=N errored=N incomplete=N |
//! requests/s=F output_tokens/s=F`.

use super::run::Progress;
use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Stderr,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "guidellm-jsonl" => Some(Format::Jsonl),
            "guidellm-stderr" => Some(Format::Stderr),
            _ => None,
        }
    }
    /// The format of a file from its first line.
    pub fn guess(first_line: &str) -> Format {
        if first_line.trim_start().starts_with('{') {
            Format::Jsonl
        } else {
            Format::Stderr
        }
    }
}

/// What one log line says.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Progress(Box<Progress>),
    /// `All benchmarks finalized`: the run is over.
    Finished,
    /// A line that says nothing about progress.
    Other,
}

#[derive(Deserialize)]
struct JsonLine {
    record: JsonRecord,
}
#[derive(Deserialize)]
struct JsonRecord {
    message: String,
    time: JsonTime,
}
#[derive(Deserialize)]
struct JsonTime {
    timestamp: f64,
}

/// Parses one line: the event and, for JSON lines, the record's time. `Err` for a line that
/// is not of the format at all (malformed) gives `None`.
pub fn parse_line(format: Format, line: &str) -> Option<(Event, Option<f64>)> {
    match format {
        Format::Jsonl => {
            let j: JsonLine = serde_json::from_str(line).ok()?;
            Some((message(&j.record.message), Some(j.record.time.timestamp)))
        }
        Format::Stderr => {
            // `YY-MM-DD HH:MM:SS|INFO     |module:function:line - MESSAGE`
            let Some((_, msg)) = line.split_once(" - ") else {
                return Some((Event::Other, None));
            };
            Some((message(msg), None))
        }
    }
}

/// The event a log message carries.
pub fn message(msg: &str) -> Event {
    let msg = msg.trim_end();
    if msg.starts_with("All benchmarks finalized") {
        return Event::Finished;
    }
    match progress_message(msg) {
        Some(p) => Event::Progress(Box::new(p)),
        None => Event::Other,
    }
}

fn progress_message(msg: &str) -> Option<Progress> {
    let rest = msg.strip_prefix("Benchmark ")?;
    let (index, rest) = rest.split_once(" (")?;
    let (strategy, rest) = rest.split_once("): ")?;
    let mut parts = rest.split(" | ");
    let status = parts.next()?.trim();
    let mut p = Progress {
        index: Some(index.parse().ok()?),
        status: Some(status.to_string()),
        ..Progress::default()
    };
    match strategy.split_once('@') {
        Some((name, target)) => {
            p.strategy = Some(name.to_string());
            p.strategy_target = target.parse().ok();
        }
        None => p.strategy = Some(strategy.to_string()),
    }
    for part in parts {
        for kv in part.split_whitespace() {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            match k {
                "elapsed" => p.elapsed = v.trim_end_matches('s').parse().ok(),
                "successful" => p.successful = v.parse().ok(),
                "errored" => p.errored = v.parse().ok(),
                "incomplete" => p.incomplete = v.parse().ok(),
                "requests/s" => p.requests_per_s = v.parse().ok(),
                "output_tokens/s" => p.output_tokens_per_s = v.parse().ok(),
                _ => {}
            }
        }
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stderr_progress_line() {
        let l = "26-11-24 09:17:39|INFO     |guidellm.benchmark.progress:_log_update:420 - \
Benchmark 1 (concurrent@2): active | elapsed=10.2s | successful=38 errored=0 incomplete=1 | \
requests/s=5.17 output_tokens/s=165.55";
        let (e, t) = parse_line(Format::Stderr, l).unwrap();
        assert_eq!(t, None);
        assert_eq!(
            e,
            Event::Progress(Box::new(Progress {
                index: Some(1),
                strategy: Some("concurrent".into()),
                strategy_target: Some(2.0),
                status: Some("active".into()),
                elapsed: Some(10.2),
                successful: Some(38),
                errored: Some(0),
                incomplete: Some(1),
                requests_per_s: Some(5.17),
                output_tokens_per_s: Some(165.55),
                ..Progress::default()
            }))
        );
        assert_eq!(message("All benchmarks finalized"), Event::Finished);
        assert_eq!(message("Starting benchmark for strategy: x"), Event::Other);
        assert!(parse_line(Format::Jsonl, "not json").is_none());
        assert_eq!(Format::guess("{\"text\""), Format::Jsonl);
    }
}
