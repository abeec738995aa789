//! `llm.conf`: the agent's one configuration file (TOML). Optional: with no file the agent
//! runs on built-in defaults. A section with an error falls back to its defaults and the error
//! (FILE:LINE: section: message) is reported in `llm.agent.config.*` and the log; the rest of
//! the file is used as written.
//!
//! Each source's section type lives with the source (`sources/gpu_config.rs`,
//! `sources/membw/config.rs`, `sources/openmetrics/config.rs` for every endpoint kind,
//! `sources/progress/config.rs`); `sections.rs` registers them all in one table, from which
//! this file reads them. `types.rs` holds what the sources share (durations, limits).

mod position;
mod sections;
pub mod types;

use super::files;
use crate::sources::membw::config::MembwConfig;
use crate::sources::openmetrics::kinds::{self, EndpointKind, KINDS};
use crate::sources::progress::{BenchConfig, FollowConfig};
use position::{Ctx, line_of, section_lines, top_level_line};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;
use toml::de::{DeTable, ValueDeserializer};

pub use crate::sources::gpu_config::GpuConfig;
pub use crate::sources::openmetrics::config::EndpointConfig;
pub use types::{Interval, Limits, parse_duration};

/// `[agent]`: the agent's own behaviour.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// Log lines each source may write per `log_period`; further ones are counted in
    /// `llm.agent.log_suppressed` and summarised once the period ends.
    pub log_lines: u32,
    pub log_period: Interval,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            log_lines: 10,
            log_period: Interval(Duration::from_secs(600)),
        }
    }
}

/// The whole configuration, after defaults were applied to broken or absent sections.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The file read, or "(built-in defaults)".
    pub source: String,
    pub agent: AgentConfig,
    pub gpu: GpuConfig,
    pub membw: MembwConfig,
    /// `[discovery]`: endpoints found at run time (crates/agent/src/sources/discovery).
    pub discovery: crate::sources::discovery::config::DiscoveryConfig,
    /// `[[vllm]]`, `[[lmcache]]`, `[[epp]]`, ...: the endpoints of each kind of [`KINDS`], in
    /// that order, as (kind name, endpoints); a kind without sections has its defaults.
    pub endpoints: Vec<(&'static str, Vec<EndpointConfig>)>,
    /// `[bench]` and `[[progress]]`: benchmark progress (crates/agent/src/sources/progress).
    pub bench: BenchConfig,
    pub progress: Vec<FollowConfig>,
    /// One line per error: `FILE:LINE: message`.
    pub errors: Vec<String>,
    /// The file could not be read or parsed at all: what is here are built-in defaults (on a
    /// re-read the agent keeps its previous configuration instead).
    pub unusable: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            source: "(built-in defaults)".into(),
            agent: AgentConfig::default(),
            gpu: GpuConfig::default(),
            membw: Default::default(),
            discovery: Default::default(),
            endpoints: KINDS
                .iter()
                .map(|k| (k.name, EndpointConfig::defaults(k)))
                .collect(),
            bench: Default::default(),
            progress: vec![],
            errors: vec![],
            unusable: false,
        }
    }
}

/// The keys `[agent]` may have.
const AGENT_KEYS: &[&str] = &["log_lines", "log_period"];

impl Config {
    /// Parses configuration text. Never fails: errors are collected in `errors`. A syntax error
    /// loses only the section it is in (the rest of the file is used); an unknown section or
    /// key is reported with the known ones.
    pub fn parse(file: &str, text: &str) -> Config {
        let mut cfg = Config {
            source: file.to_string(),
            ..Config::default()
        };
        let mut text = text.to_string();
        let mut attempts = 0;
        let table = loop {
            match text.parse::<toml::Table>() {
                Ok(t) => break t,
                Err(e) => {
                    attempts += 1;
                    let line = e.span().map_or(1, |s| line_of(&text, s.start));
                    let (from, to) = section_lines(&text, line);
                    let lost = if from == to {
                        format!("line {from} ignored")
                    } else {
                        let head = text.lines().nth(from - 1).unwrap_or("").trim();
                        format!("section {head} (lines {from}-{to}) ignored")
                    };
                    let msg = e.message().trim().replace('\n', " ");
                    cfg.errors
                        .push(format!("{file}:{line}: syntax error: {msg}; {lost}"));
                    let blanked: Vec<&str> = text
                        .lines()
                        .enumerate()
                        .map(|(i, l)| {
                            if (from..=to).contains(&(i + 1)) {
                                ""
                            } else {
                                l
                            }
                        })
                        .collect();
                    let again = blanked.join("\n");
                    if attempts > 50 || again == text {
                        cfg.errors
                            .push(format!("{file}: cannot be parsed; using built-in defaults"));
                        cfg.unusable = true;
                        return cfg;
                    }
                    text = again;
                }
            }
        };
        let text = text.as_str();
        let registry = sections::registry();
        let known = registry
            .iter()
            .map(|r| r.header())
            .collect::<Vec<_>>()
            .join(", ");
        for key in table.keys() {
            if !registry.iter().any(|r| r.name == key) {
                let line = top_level_line(text, key);
                cfg.errors.push(format!(
                    "{file}:{line}: unknown section \"{key}\" (the known sections are {known}); ignored"
                ));
            }
        }
        // Each registered section's values, with their positions; a value of the wrong shape
        // (`vllm = 3`) makes the whole file unusable.
        let doc = match DeTable::parse(text) {
            Ok(d) => d.into_inner(),
            Err(e) => return cfg.unusable_shape(text, &e, &known),
        };
        let registered = |key: &str| registry.iter().position(|r| r.name == key);
        let mut raw: Vec<Vec<Spanned<toml::Value>>> = registry.iter().map(|_| vec![]).collect();
        for (key, value) in doc.iter() {
            let Some(i) = registered(key.get_ref()) else {
                continue;
            };
            let d = ValueDeserializer::from(value.clone());
            let values = if registry[i].many {
                Vec::<Spanned<toml::Value>>::deserialize(d)
            } else {
                Option::<Spanned<toml::Value>>::deserialize(d).map(|v| v.into_iter().collect())
            };
            match values {
                Ok(v) => raw[i] = v,
                Err(e) => return cfg.unusable_shape(text, &e, &known),
            }
        }
        let mut section_starts: Vec<usize> = raw.iter().flatten().map(|v| v.span().start).collect();
        section_starts.sort_unstable();
        // The first error of a typed parse of the whole file, in the order toml visits the
        // sections: toml reports the offending value's exact position, which a per-section
        // parse of a `toml::Value` cannot.
        let precise = doc
            .iter()
            .find_map(|(key, value)| {
                let r = &registry[registered(key.get_ref())?];
                (r.check)(ValueDeserializer::from(value.clone())).err()
            })
            .and_then(|e| e.span())
            .map(|s| s.start);
        let ctx = Ctx {
            file,
            text,
            section_starts,
            precise,
        };
        let mut last = Vec::new();
        for (r, values) in registry.iter().zip(raw) {
            if r.last {
                last.push((r, values));
            } else {
                (r.read)(&ctx, values, &mut cfg);
            }
        }
        cfg.drop_names_used_twice();
        for (r, values) in last {
            (r.read)(&ctx, values, &mut cfg);
        }
        cfg
    }

    /// The file has a registered section of the wrong shape (or cannot be read as TOML):
    /// built-in defaults.
    fn unusable_shape(mut self, text: &str, e: &toml::de::Error, known: &str) -> Config {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        self.errors.push(format!(
            "{}:{line}: {} (the known sections are {known}); using built-in defaults",
            self.source,
            e.message().trim(),
        ));
        self
    }

    /// The endpoints of the kind named `kind` (none for a kind that does not exist).
    pub fn endpoints_of(&self, kind: &str) -> &[EndpointConfig] {
        self.endpoints
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(&[], |(_, list)| list)
    }

    /// Every endpoint with its kind, kind by kind in the order of [`KINDS`].
    pub fn all_endpoints(&self) -> impl Iterator<Item = (&'static EndpointKind, &EndpointConfig)> {
        self.endpoints.iter().flat_map(|(k, list)| {
            let kind = kinds::kind(k).expect("endpoints are kept by kind name");
            list.iter().map(move |e| (kind, e))
        })
    }

    fn set_endpoints(&mut self, kind: &'static str, list: Vec<EndpointConfig>) {
        match self.endpoints.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, old)) => *old = list,
            None => self.endpoints.push((kind, list)),
        }
    }

    /// Source names share one instance domain (llm.agent.source): a name used by two
    /// endpoints of different kinds keeps the first and drops the later one with an error.
    fn drop_names_used_twice(&mut self) {
        let mut seen: Vec<(String, &'static str, usize)> = vec![
            ("gpu".to_string(), "gpu", 0),
            ("membw".to_string(), "membw", 0),
        ];
        let file = self.source.clone();
        let mut errors = Vec::new();
        for (kind, list) in &mut self.endpoints {
            let kind = kinds::kind(kind)
                .expect("endpoints are kept by kind name")
                .section;
            list.retain(|ep| {
                if let Some((_, first_kind, first_line)) =
                    seen.iter().find(|(n, _, _)| *n == ep.name)
                {
                    let at = if *first_line == 0 {
                        format!("by the built-in {first_kind} source")
                    } else {
                        format!("by [[{first_kind}]] at line {first_line}")
                    };
                    errors.push(format!(
                        "{file}:{}: [[{kind}]]: name \"{}\" is already used {at}; endpoint {} ignored",
                        ep.line,
                        ep.name,
                        crate::sources::openmetrics::scrape::redact_url(&ep.url)
                    ));
                    false
                } else {
                    seen.push((ep.name.clone(), kind, ep.line));
                    true
                }
            });
        }
        self.errors.extend(errors);
    }

    /// Reads `path` if given (an error if it cannot be read), else the default file if it
    /// exists, else the built-in defaults.
    pub fn load(path: Option<&Path>, default_path: &Path) -> Config {
        let (path, explicit) = match path {
            Some(p) => (p, true),
            None => (default_path, false),
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&path.display().to_string(), &text),
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => Config::default(),
            Err(e) => {
                let mut cfg = Config {
                    source: path.display().to_string(),
                    ..Config::default()
                };
                cfg.errors.push(format!(
                    "{}: cannot read: {e}; using built-in defaults",
                    path.display()
                ));
                cfg.unusable = true;
                cfg
            }
        }
    }
}

impl Config {
    /// What can be checked before the agent starts, beyond the file's syntax: the token and
    /// CA files each endpoint names exist and are readable by `account` (the agent's user),
    /// and a token file is not readable by every user. Returns (errors, warnings), each
    /// `FILE:LINE: [[kind]] name: message`.
    pub fn check_files(&self, account: Option<&files::Account>) -> (Vec<String>, Vec<String>) {
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        for (kind, ep) in self.all_endpoints() {
            let at = format!(
                "{}:{}: [[{}]] {}",
                self.source, ep.line, kind.section, ep.name
            );
            let (mut e, mut w) = (Vec::new(), Vec::new());
            if let Some(t) = &ep.token_file {
                files::check_file(t, true, account, &mut e, &mut w);
            }
            if let Some(c) = &ep.ca_file {
                files::check_file(c, false, account, &mut e, &mut w);
            }
            errors.extend(e.into_iter().map(|m| format!("{at}: {m}")));
            warnings.extend(w.into_iter().map(|m| format!("{at}: {m}")));
        }
        (errors, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::openmetrics::config::check_url;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(parse_duration("800ms").unwrap(), Duration::from_millis(800));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("0.5").unwrap(), Duration::from_millis(500));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::parse("llm.conf", "");
        assert!(c.errors.is_empty());
        assert_eq!(c.endpoints_of("vllm"), vec![EndpointConfig::default_vllm()]);
        assert!(c.gpu.enabled);
    }

    #[test]
    fn full_file() {
        let c = Config::parse(
            "llm.conf",
            "[gpu]\ninterval = \"2s\"\n\n[[vllm]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/metrics\"\ntimeout = \"300ms\"\n\n[[vllm]]\nname = \"b\"\nurl = \"http://127.0.0.1:2/metrics\"\n",
        );
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(c.gpu.interval.0, Duration::from_secs(2));
        assert_eq!(c.endpoints_of("vllm").len(), 2);
        assert_eq!(
            c.endpoints_of("vllm")[0].timeout.0,
            Duration::from_millis(300)
        );
        assert_eq!(c.endpoints_of("vllm")[1].interval.0, Duration::from_secs(1));
    }

    #[test]
    fn unknown_key_names_file_line_and_key_and_keeps_other_sections() {
        let c = Config::parse(
            "/etc/pcp/llm/llm.conf",
            "[[vllm]]\nname = \"a\"\nurl = \"http://x/metrics\"\n\n[gpu]\nenabled = false\nintervall = \"2s\"\n",
        );
        assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
        let e = &c.errors[0];
        assert!(
            e.starts_with(
                "/etc/pcp/llm/llm.conf:7: [gpu]: unknown key \"intervall\" (the known keys are \
enabled, interval, library)"
            ),
            "{e}"
        );
        assert_eq!(
            c.gpu,
            GpuConfig::default(),
            "broken section falls back to defaults"
        );
        assert_eq!(
            c.endpoints_of("vllm")[0].name,
            "a",
            "other sections are kept"
        );
    }

    #[test]
    fn wrong_type_names_the_line() {
        let c = Config::parse("f", "[gpu]\nenabled = \"yes\"\n");
        assert_eq!(c.errors.len(), 1);
        assert!(
            c.errors[0].starts_with("f:2: [gpu]: invalid type: string \"yes\", expected a boolean"),
            "{}",
            c.errors[0]
        );
    }

    #[test]
    fn syntax_errors_and_unknown_sections() {
        let c = Config::parse("f", "[gpu]\nenabled = \n");
        assert!(c.errors[0].starts_with("f:2: "), "{:?}", c.errors);
        let c = Config::parse("f", "\n[nvidia]\nx = 1\n");
        assert!(
            c.errors[0].starts_with("f:2: unknown section \"nvidia\" (the known sections are [agent], [gpu], [membw], [discovery], [[vllm]], [[lmcache]], [[epp]], [bench], [[progress]])"),
            "{:?}",
            c.errors
        );
    }

    const TWO: &str = "[[vllm]]\nname = \"a\"\nurl = \"http://x:1/metrics\"\n";

    #[test]
    fn an_unknown_section_loses_only_itself() {
        let c = Config::parse(
            "f",
            &format!("[gpu]\nenabled = false\n\n[[vlm]]\nname = \"b\"\n\n{TWO}"),
        );
        assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
        assert!(
            c.errors[0].starts_with("f:4: unknown section \"vlm\""),
            "{:?}",
            c.errors
        );
        assert!(!c.gpu.enabled, "[gpu] is used");
        assert_eq!(c.endpoints_of("vllm").len(), 1);
        assert_eq!(
            c.endpoints_of("vllm")[0].name,
            "a",
            "[[vllm]] is used, not the default endpoint"
        );
    }

    #[test]
    fn a_syntax_error_loses_only_its_section() {
        let text = format!("[gpu]\nenabled = false\n\n[[vllm]]\nname = \"b\nurl = 3\n\n{TWO}");
        let c = Config::parse("f", &text);
        assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
        assert!(
            c.errors[0].starts_with("f:5: syntax error: ")
                && c.errors[0].ends_with("; section [[vllm]] (lines 4-7) ignored"),
            "{:?}",
            c.errors
        );
        assert!(!c.unusable);
        assert!(!c.gpu.enabled);
        assert_eq!(c.endpoints_of("vllm").len(), 1);
        assert_eq!(c.endpoints_of("vllm")[0].name, "a");
        assert_eq!(c.endpoints_of("vllm")[0].line, 8);
    }

    #[test]
    fn every_unknown_key_is_reported_with_its_line() {
        let c = Config::parse(
            "f",
            "[[vllm]]\nname = \"a\"\nurl = \"http://x/metrics\"\ntimout = \"1s\"\nintervall = \"1s\"\n",
        );
        assert_eq!(c.errors.len(), 2, "{:?}", c.errors);
        assert!(c.errors[0].starts_with("f:4: [[vllm]]: unknown key \"timout\" (the known keys are name, url, interval, timeout,"), "{:?}", c.errors);
        assert!(
            c.errors[1].starts_with("f:5: [[vllm]]: unknown key \"intervall\""),
            "{:?}",
            c.errors
        );
    }

    #[test]
    fn durations_need_quotes_and_a_unit() {
        let c = Config::parse("f", &format!("{TWO}interval = 5\n"));
        assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
        assert!(
            c.errors[0].starts_with("f:4: [[vllm]]: 5 has no unit: write \"5s\" for seconds"),
            "{:?}",
            c.errors
        );
        let c = Config::parse("f", &format!("{TWO}timeout = true\n"));
        assert!(
            c.errors[0].starts_with("f:4: [[vllm]]: invalid type: boolean `true`, expected a duration in quotes such as \"1s\" or \"800ms\""),
            "{:?}",
            c.errors
        );
    }

    #[test]
    fn ports_must_be_in_range() {
        let c = Config::parse(
            "f",
            "[[vllm]]\nname = \"a\"\nurl = \"http://h:99999/metrics\"\n",
        );
        assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
        assert!(
            c.errors[0].contains("has port 99999, not a number from 1 to 65535"),
            "{:?}",
            c.errors
        );
        assert!(check_url("http://[::1]:8000/m").is_ok());
        assert!(check_url("https://u:p@h:443").is_ok());
        assert!(check_url("http://:80/").is_err());
        assert!(check_url("http://h:0/").is_err());
    }

    #[test]
    fn bad_endpoints() {
        let c = Config::parse(
            "f",
            "[[vllm]]\nname = \"a/b\"\nurl = \"http://x\"\n[[vllm]]\nname = \"c\"\nurl = \"ftp://x\"\n",
        );
        assert_eq!(c.errors.len(), 2, "{:?}", c.errors);
        assert!(c.endpoints_of("vllm").is_empty());
        let c = Config::parse(
            "f",
            "[[vllm]]\nname = \"a\"\nurl = \"http://x\"\ninterval = \"soon\"\n",
        );
        assert!(
            c.errors[0].contains("invalid duration \"soon\""),
            "{:?}",
            c.errors
        );
    }

    #[test]
    fn a_name_used_by_two_kinds_of_endpoint_is_refused() {
        let c = Config::parse(
            "f",
            "[[vllm]]\nname = \"a\"\nurl = \"http://x/metrics\"\n[[epp]]\nname = \"a\"\nurl = \"http://y/metrics\"\n",
        );
        assert_eq!(c.endpoints_of("vllm").len(), 1);
        assert!(c.endpoints_of("epp").is_empty());
        assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
        assert!(
            c.errors[0]
                .starts_with("f:4: [[epp]]: name \"a\" is already used by [[vllm]] at line 1"),
            "{:?}",
            c.errors
        );
    }

    #[test]
    fn unreadable_files() {
        let c = Config::load(Some(Path::new("/nonexistent/llm.conf")), Path::new("/x"));
        assert!(
            c.errors[0].starts_with("/nonexistent/llm.conf: cannot read: No such file"),
            "{:?}",
            c.errors
        );
        let c = Config::load(None, Path::new("/nonexistent/llm.conf"));
        assert!(c.errors.is_empty());
    }
}
