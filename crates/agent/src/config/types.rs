//! Configuration types the sources share: durations as written in llm.conf and the bounds on
//! what an endpoint can make the agent keep. Sources import these (and nothing else of
//! `config`); `config` imports the sources' own section types.

use serde::Deserialize;
use std::time::Duration;

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
