//! `llm.conf`: the agent's one configuration file (TOML). Optional: with no file the agent
//! runs on built-in defaults. A section with an error falls back to its defaults and the error
//! (FILE:LINE: section: message) is reported in `llm.agent.config.*` and the log; the rest of
//! the file is used as written.

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
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Secs(f64),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Text(t) => t,
            Raw::Secs(s) => s.to_string(),
        };
        parse_duration(&text)
            .map(Interval)
            .map_err(serde::de::Error::custom)
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
#[serde(deny_unknown_fields)]
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
        }
    }
}

/// The whole configuration, after defaults were applied to broken or absent sections.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The file read, or "(built-in defaults)".
    pub source: String,
    pub gpu: GpuConfig,
    pub membw: crate::sources::membw::config::MembwConfig,
    pub vllm: Vec<EndpointConfig>,
    pub lmcache: Vec<EndpointConfig>,
    pub epp: Vec<EndpointConfig>,
    /// One line per error: `FILE:LINE: message`.
    pub errors: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            source: "(built-in defaults)".into(),
            gpu: GpuConfig::default(),
            membw: Default::default(),
            vllm: vec![EndpointConfig::default_vllm()],
            lmcache: vec![],
            epp: vec![],
            errors: vec![],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDoc {
    gpu: Option<Spanned<toml::Value>>,
    membw: Option<Spanned<toml::Value>>,
    #[serde(default)]
    vllm: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    lmcache: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    epp: Vec<Spanned<toml::Value>>,
}

/// The typed shape of the whole file, parsed only to learn the exact position of an error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct TypedDoc {
    gpu: Option<GpuConfig>,
    membw: Option<crate::sources::membw::config::MembwConfig>,
    #[serde(default)]
    vllm: Vec<EndpointConfig>,
    #[serde(default)]
    lmcache: Vec<EndpointConfig>,
    #[serde(default)]
    epp: Vec<EndpointConfig>,
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
    let key = message.split('`').nth(1);
    let start_line = line_of(text, span.start);
    if let Some(key) = key {
        // A table's span may cover only its header: search on to the next section header.
        let _ = span.end;
        let rest = &text[span.start.min(text.len())..];
        for (i, l) in rest.lines().enumerate() {
            let l = l.trim_start();
            if i > 0 && l.starts_with('[') {
                break;
            }
            if l.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
            {
                return start_line + i;
            }
        }
    }
    start_line
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

fn section<T: DeserializeOwned>(
    ctx: &Ctx,
    name: &str,
    value: Spanned<toml::Value>,
    errors: &mut Vec<String>,
) -> Option<T> {
    let file = ctx.file;
    let span = value.span();
    match T::deserialize(value.into_inner()) {
        Ok(v) => Some(v),
        Err(e) => {
            let msg = e.message().trim().to_string();
            let line = ctx.line_for(span, &msg);
            errors.push(format!(
                "{file}:{line}: [{name}]: {msg}; using built-in defaults for this section"
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
    for v in raw {
        let span = v.span();
        let Some(ep) = section::<EndpointConfig>(ctx, name, v, errors) else {
            continue;
        };
        let line = line_of(text, span.start);
        if ep.name.is_empty() || ep.name.contains(['/', ' ', '"']) {
            errors.push(format!("{file}:{line}: [[{name}]]: name \"{}\" must be non-empty, without '/', '\"' or spaces", ep.name));
        } else if !ep.url.starts_with("http://") && !ep.url.starts_with("https://") {
            errors.push(format!(
                "{file}:{line}: [[{name}]] {}: url \"{}\" must start with http:// or https://",
                ep.name,
                crate::sources::openmetrics::scrape::redact_url(&ep.url)
            ));
        } else if out.iter().any(|o| o.name == ep.name) {
            errors.push(format!(
                "{file}:{line}: [[{name}]]: duplicate name \"{}\"",
                ep.name
            ));
        } else {
            out.push(ep);
        }
    }
    out
}

impl Config {
    /// Parses configuration text. Never fails: errors are collected in `errors`.
    pub fn parse(file: &str, text: &str) -> Config {
        let mut cfg = Config {
            source: file.to_string(),
            ..Config::default()
        };
        let raw: RawDoc = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let line = e.span().map_or(1, |s| line_of(text, s.start));
                cfg.errors.push(format!(
                    "{file}:{line}: {}; using built-in defaults",
                    e.message().trim()
                ));
                return cfg;
            }
        };
        let mut section_starts: Vec<usize> = raw
            .gpu
            .iter()
            .chain(&raw.membw)
            .map(|g| g.span().start)
            .collect();
        for list in [&raw.vllm, &raw.lmcache, &raw.epp] {
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
        if let Some(g) = raw
            .gpu
            .and_then(|g| section(&ctx, "gpu", g, &mut cfg.errors))
        {
            cfg.gpu = g;
        }
        if let Some(m) = raw
            .membw
            .and_then(|m| section(&ctx, "membw", m, &mut cfg.errors))
        {
            cfg.membw = m;
        }
        let had_vllm = !raw.vllm.is_empty();
        cfg.vllm = endpoints(&ctx, "vllm", raw.vllm, &mut cfg.errors);
        if !had_vllm {
            cfg.vllm = vec![EndpointConfig::default_vllm()];
        }
        cfg.lmcache = endpoints(&ctx, "lmcache", raw.lmcache, &mut cfg.errors);
        cfg.epp = endpoints(&ctx, "epp", raw.epp, &mut cfg.errors);
        cfg.drop_names_used_twice();
        cfg
    }

    /// Source names share one instance domain (llm.agent.source): a name used by two
    /// endpoints of different kinds keeps the first and drops the later one with an error.
    fn drop_names_used_twice(&mut self) {
        let mut seen: Vec<String> = vec!["gpu".to_string(), "membw".to_string()];
        let file = self.source.clone();
        let mut errors = Vec::new();
        for (kind, list) in [
            ("vllm", &mut self.vllm),
            ("lmcache", &mut self.lmcache),
            ("epp", &mut self.epp),
        ] {
            list.retain(|ep| {
                if seen.contains(&ep.name) {
                    errors.push(format!(
                        "{file}: [[{kind}]]: name \"{}\" is already used by another source; endpoint {} ignored",
                        ep.name,
                        crate::sources::openmetrics::scrape::redact_url(&ep.url)
                    ));
                    false
                } else {
                    seen.push(ep.name.clone());
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
                let mut cfg = Config::default();
                cfg.errors.push(format!(
                    "{}: cannot read: {e}; using built-in defaults",
                    path.display()
                ));
                cfg
            }
        }
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
            e.starts_with("/etc/pcp/llm/llm.conf:7: [gpu]: unknown field `intervall`"),
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
            c.errors[0].contains("unknown field `nvidia`"),
            "{:?}",
            c.errors
        );
        assert!(c.errors[0].starts_with("f:2: "), "{:?}", c.errors);
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
            c.errors[0].contains("[[epp]]: name \"a\" is already used"),
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
