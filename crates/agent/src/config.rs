//! `llm.conf`: the agent's one configuration file (TOML). Optional: with no file the agent
//! runs on built-in defaults. A section with an error falls back to its defaults and the error
//! (FILE:LINE: section: message) is reported in `llm.agent.config.*` and the log; the rest of
//! the file is used as written.

use super::files;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Parses "1s", "800ms", "2m", "1.5s" or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("invalid duration \"{s}\" (use e.g. \"1s\" or \"800ms\")"))?;
    if !v.is_finite() || v <= 0.0 || v * scale > 86400.0 {
        return Err(format!("duration \"{s}\" out of range (0 < d <= 24h)"));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

/// A duration as written in llm.conf.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval(pub Duration);

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Interval;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration in quotes such as \"1s\" or \"800ms\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Interval, E> {
                parse_duration(v).map(Interval).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Interval, E> {
                Err(E::custom(format!(
                    "{v} has no unit: write \"{v}s\" for seconds or \"{v}ms\" for milliseconds"
                )))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Interval, E> {
                self.visit_i64(v as i64)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Interval, E> {
                Err(E::custom(format!(
                    "{v} has no unit: write \"{v}s\" for seconds"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[gpu]`: the NVML source.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GpuConfig {
    pub enabled: bool,
    pub interval: Interval,
    /// Path of libnvidia-ml.so to load instead of the system one.
    pub library: Option<PathBuf>,
}

impl Default for GpuConfig {
    fn default() -> Self {
        GpuConfig {
            enabled: true,
            interval: Interval(Duration::from_secs(1)),
            library: None,
        }
    }
}

/// `[[vllm]]`, `[[lmcache]]`, `[[epp]]`: one Prometheus endpoint each.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct EndpointConfig {
    /// Instance name prefix, stable across restarts (e.g. "vllm0").
    pub name: String,
    pub url: String,
    #[serde(default = "default_interval")]
    pub interval: Interval,
    #[serde(default = "default_timeout")]
    pub timeout: Interval,
    /// File holding a bearer token (llm-d EPP); its contents are never logged.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// PEM file of CA certificates to trust for an `https://` url, besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Bounds on what the endpoint controls (see [`Limits`]).
    #[serde(flatten)]
    pub limits: Limits,
    /// Line of the section's header in the file (0 for built-in defaults).
    #[serde(skip)]
    pub line: usize,
}

/// Bounds on what one endpoint can make the agent keep: written in its `[[vllm]]`,
/// `[[lmcache]]` or `[[epp]]` section; what goes over them is refused and counted in
/// `llm.agent.source.refused_names` / `refused_series`, never truncated.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct Limits {
    /// New metric names (unknown families) the endpoint may add in one scrape.
    pub max_new_names_per_scrape: usize,
    /// Metric names the endpoint may add under llm.other in all.
    pub max_names: usize,
    /// Longest metric (family) name accepted, in bytes.
    pub max_name_length: usize,
    /// Longest label name or value accepted, in bytes.
    pub max_label_length: usize,
    /// Longest instance name accepted, in bytes.
    pub max_instance_length: usize,
    /// Body buffer capacity kept between scrapes, in bytes (a larger body's buffer is freed).
    pub retained_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_new_names_per_scrape: 100,
            max_names: 2000,
            max_name_length: 256,
            max_label_length: 1024,
            max_instance_length: 4096,
            retained_body_bytes: 1 << 20,
        }
    }
}

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

fn default_interval() -> Interval {
    Interval(Duration::from_secs(1))
}
fn default_timeout() -> Interval {
    Interval(Duration::from_millis(800))
}

impl EndpointConfig {
    /// The endpoint watched when llm.conf names none: a local vLLM on its default port.
    pub fn default_vllm() -> Self {
        EndpointConfig {
            name: "vllm0".into(),
            url: "http://localhost:8000/metrics".into(),
            interval: default_interval(),
            timeout: default_timeout(),
            token_file: None,
            ca_file: None,
            limits: Limits::default(),
            line: 0,
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
    pub membw: crate::sources::membw::config::MembwConfig,
    pub vllm: Vec<EndpointConfig>,
    pub lmcache: Vec<EndpointConfig>,
    pub epp: Vec<EndpointConfig>,
    /// `[bench]` and `[[progress]]`: benchmark progress (crates/agent/src/sources/progress).
    pub bench: crate::sources::progress::BenchConfig,
    pub progress: Vec<crate::sources::progress::FollowConfig>,
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
            vllm: vec![EndpointConfig::default_vllm()],
            lmcache: vec![],
            epp: vec![],
            bench: Default::default(),
            progress: vec![],
            errors: vec![],
            unusable: false,
        }
    }
}

/// The sections a file may have, as written.
const SECTIONS: &[&str] = &[
    "[agent]",
    "[gpu]",
    "[membw]",
    "[[vllm]]",
    "[[lmcache]]",
    "[[epp]]",
    "[bench]",
    "[[progress]]",
];
const AGENT_KEYS: &[&str] = &["log_lines", "log_period"];
const GPU_KEYS: &[&str] = &["enabled", "interval", "library"];
const ENDPOINT_KEYS: &[&str] = &[
    "name",
    "url",
    "interval",
    "timeout",
    "token_file",
    "ca_file",
    "max_new_names_per_scrape",
    "max_names",
    "max_name_length",
    "max_label_length",
    "max_instance_length",
    "retained_body_bytes",
];

#[derive(Deserialize)]
struct RawDoc {
    agent: Option<Spanned<toml::Value>>,
    gpu: Option<Spanned<toml::Value>>,
    membw: Option<Spanned<toml::Value>>,
    #[serde(default)]
    vllm: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    lmcache: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    epp: Vec<Spanned<toml::Value>>,
    bench: Option<Spanned<toml::Value>>,
    #[serde(default)]
    progress: Vec<Spanned<toml::Value>>,
}

/// The typed shape of the whole file, parsed only to learn the exact position of an error.
#[derive(Deserialize)]
#[allow(dead_code)]
struct TypedDoc {
    agent: Option<AgentConfig>,
    gpu: Option<GpuConfig>,
    membw: Option<crate::sources::membw::config::MembwConfig>,
    #[serde(default)]
    vllm: Vec<EndpointConfig>,
    #[serde(default)]
    lmcache: Vec<EndpointConfig>,
    #[serde(default)]
    epp: Vec<EndpointConfig>,
    bench: Option<crate::sources::progress::BenchConfig>,
    #[serde(default)]
    progress: Vec<crate::sources::progress::FollowConfig>,
}

fn line_of(text: &str, offset: usize) -> usize {
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
fn top_level_line(text: &str, name: &str) -> usize {
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
struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    section_starts: Vec<usize>,
    precise: Option<usize>,
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
fn section<T: DeserializeOwned>(
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

fn endpoints(
    ctx: &Ctx,
    name: &str,
    raw: Vec<Spanned<toml::Value>>,
    errors: &mut Vec<String>,
) -> Vec<EndpointConfig> {
    let (file, text) = (ctx.file, ctx.text);
    let mut out: Vec<EndpointConfig> = Vec::new();
    let header = format!("[[{name}]]");
    for v in raw {
        let span = v.span();
        let Some(mut ep) = section::<EndpointConfig>(ctx, &header, ENDPOINT_KEYS, v, errors) else {
            continue;
        };
        let line = line_of(text, span.start);
        ep.line = line;
        if ep.name.is_empty() || ep.name.contains(['/', ' ', '"']) {
            errors.push(format!("{file}:{line}: [[{name}]]: name \"{}\" must be non-empty, without '/', '\"' or spaces", ep.name));
        } else if let Err(why) = check_url(&ep.url) {
            errors.push(format!(
                "{file}:{line}: [[{name}]] {}: url \"{}\" {why}",
                ep.name,
                crate::sources::openmetrics::scrape::redact_url(&ep.url)
            ));
        } else if let Some(first) = out.iter().find(|o| o.name == ep.name) {
            errors.push(format!(
                "{file}:{line}: [[{name}]]: name \"{}\" is already used at line {}; endpoint \
ignored",
                ep.name, first.line
            ));
        } else {
            out.push(ep);
        }
    }
    out
}

/// A URL the agent can scrape: http(s), a host, and a port (if any) in 1..=65535.
/// `[[progress]]` sections: checked, and named unlike every other source.
fn progress_sections(
    ctx: &Ctx,
    raw: Vec<Spanned<toml::Value>>,
    mut taken: Vec<String>,
    errors: &mut Vec<String>,
) -> Vec<crate::sources::progress::FollowConfig> {
    use crate::sources::progress::{FOLLOW_KEYS, FollowConfig};
    let mut out = Vec::new();
    for v in raw {
        let line = line_of(ctx.text, v.span().start);
        let Some(mut f) = section::<FollowConfig>(ctx, "[[progress]]", FOLLOW_KEYS, v, errors)
        else {
            continue;
        };
        f.line = line;
        let file = ctx.file;
        if let Err(why) = f.check() {
            errors.push(format!(
                "{file}:{line}: [[progress]]: {why}; section ignored"
            ));
        } else if taken.contains(&f.name) {
            errors.push(format!(
                "{file}:{line}: [[progress]]: name \"{}\" is already used by another source; \
section ignored",
                f.name
            ));
        } else {
            taken.push(f.name.clone());
            out.push(f);
        }
    }
    out
}

fn check_url(url: &str) -> Result<(), String> {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return Err("must start with http:// or https://".into());
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split_once(']').map(|(_, p)| p).unwrap_or("")
    } else {
        hostport.rsplit_once(':').map_or("", |(_, p)| p)
    };
    let host_empty = hostport.is_empty() || hostport.starts_with(':');
    if host_empty {
        return Err("has no host".into());
    }
    if let Some(p) = port
        .strip_prefix(':')
        .or(Some(port))
        .filter(|p| !p.is_empty())
    {
        match p.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => {}
            _ => return Err(format!("has port {p}, not a number from 1 to 65535")),
        }
    }
    Ok(())
}

/// Lines `from..=to` (1-based) of the section around line `line`: from its header (or the line
/// itself before any header) to the line before the next header.
fn section_lines(text: &str, line: usize) -> (usize, usize) {
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
        for key in table.keys() {
            if ![
                "agent", "gpu", "membw", "vllm", "lmcache", "epp", "bench", "progress",
            ]
            .contains(&key.as_str())
            {
                let line = top_level_line(text, key);
                cfg.errors.push(format!(
                    "{file}:{line}: unknown section \"{key}\" (the known sections are {}); ignored",
                    SECTIONS.join(", ")
                ));
            }
        }
        let raw: RawDoc = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let line = e.span().map_or(1, |s| line_of(text, s.start));
                cfg.errors.push(format!(
                    "{file}:{line}: {} (the known sections are {}); using built-in defaults",
                    e.message().trim(),
                    SECTIONS.join(", ")
                ));
                return cfg;
            }
        };
        let mut section_starts: Vec<usize> = raw
            .gpu
            .iter()
            .chain(&raw.agent)
            .chain(&raw.membw)
            .chain(&raw.bench)
            .map(|g| g.span().start)
            .collect();
        for list in [&raw.vllm, &raw.lmcache, &raw.epp, &raw.progress] {
            section_starts.extend(list.iter().map(|v| v.span().start));
        }
        section_starts.sort_unstable();
        let precise = toml::from_str::<TypedDoc>(text)
            .err()
            .and_then(|e| e.span())
            .map(|s| s.start);
        let ctx = Ctx {
            file,
            text,
            section_starts,
            precise,
        };
        if let Some(a) = raw
            .agent
            .and_then(|a| section(&ctx, "[agent]", AGENT_KEYS, a, &mut cfg.errors))
        {
            cfg.agent = a;
        }
        if let Some(g) = raw
            .gpu
            .and_then(|g| section(&ctx, "[gpu]", GPU_KEYS, g, &mut cfg.errors))
        {
            cfg.gpu = g;
        }
        if let Some(m) = raw.membw.and_then(|m| {
            let keys = crate::sources::membw::config::KEYS;
            section(&ctx, "[membw]", keys, m, &mut cfg.errors)
        }) {
            cfg.membw = m;
        }
        let had_vllm = !raw.vllm.is_empty();
        cfg.vllm = endpoints(&ctx, "vllm", raw.vllm, &mut cfg.errors);
        if !had_vllm {
            cfg.vllm = vec![EndpointConfig::default_vllm()];
        }
        cfg.lmcache = endpoints(&ctx, "lmcache", raw.lmcache, &mut cfg.errors);
        cfg.epp = endpoints(&ctx, "epp", raw.epp, &mut cfg.errors);
        if let Some(b) = raw.bench.and_then(|b| {
            section(
                &ctx,
                "[bench]",
                crate::sources::progress::BENCH_KEYS,
                b,
                &mut cfg.errors,
            )
        }) {
            cfg.bench = b;
        }
        cfg.drop_names_used_twice();
        let taken: Vec<String> = ["gpu", "progress"]
            .into_iter()
            .map(String::from)
            .chain(
                [&cfg.vllm, &cfg.lmcache, &cfg.epp]
                    .into_iter()
                    .flatten()
                    .map(|e| e.name.clone()),
            )
            .collect();
        cfg.progress = progress_sections(&ctx, raw.progress, taken, &mut cfg.errors);
        cfg
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
        for (kind, list) in [
            ("vllm", &mut self.vllm),
            ("lmcache", &mut self.lmcache),
            ("epp", &mut self.epp),
        ] {
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
        for (kind, list) in [
            ("vllm", &self.vllm),
            ("lmcache", &self.lmcache),
            ("epp", &self.epp),
        ] {
            for ep in list {
                let at = format!("{}:{}: [[{kind}]] {}", self.source, ep.line, ep.name);
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
        }
        (errors, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(c.vllm, vec![EndpointConfig::default_vllm()]);
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
        assert_eq!(c.vllm.len(), 2);
        assert_eq!(c.vllm[0].timeout.0, Duration::from_millis(300));
        assert_eq!(c.vllm[1].interval.0, Duration::from_secs(1));
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
        assert_eq!(c.vllm[0].name, "a", "other sections are kept");
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
            c.errors[0].starts_with("f:2: unknown section \"nvidia\" (the known sections are [agent], [gpu], [membw], [[vllm]], [[lmcache]], [[epp]], [bench], [[progress]])"),
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
        assert_eq!(c.vllm.len(), 1);
        assert_eq!(
            c.vllm[0].name, "a",
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
        assert_eq!(c.vllm.len(), 1);
        assert_eq!(c.vllm[0].name, "a");
        assert_eq!(c.vllm[0].line, 8);
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
        assert!(c.vllm.is_empty());
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
        assert_eq!(c.vllm.len(), 1);
        assert!(c.epp.is_empty());
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
