//! The sections llm.conf may have, registered in one table ([`registry`]): each names its
//! key, whether it is `[name]` or `[[name]]`, its typed shape (which lives with its source) and
//! where its values go in [`Config`].

use super::position::{Ctx, line_of, section};
use super::{AGENT_KEYS, Config};
use crate::sources::openmetrics::config::{self as endpoint, EndpointConfig, check_url};
use crate::sources::openmetrics::kinds::{EndpointKind, KINDS};
use crate::sources::openmetrics::scrape::redact_url;
use crate::sources::progress::{FOLLOW_KEYS, FollowConfig};
use crate::sources::{discovery, gpu_config, membw, progress};
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::ValueDeserializer;

/// Reads the values of one registered section, in file order, into the configuration.
type Read = Box<dyn Fn(&Ctx, Vec<Spanned<toml::Value>>, &mut Config)>;

/// One section llm.conf may have.
pub(super) struct Registered {
    /// Its key in the file.
    pub name: &'static str,
    /// `[[name]]`, any number of them, or `[name]`, at most one.
    pub many: bool,
    /// Read after every other section and after names used twice were dropped (its names
    /// must differ from theirs).
    pub last: bool,
    /// Deserializes the section's value as its typed shape, only to learn where in the file
    /// the first error is.
    pub check: fn(ValueDeserializer<'_>) -> Result<(), toml::de::Error>,
    /// Stores the section's values (the file may have none) in the configuration.
    pub read: Read,
}

impl Registered {
    /// How the section is written: `[gpu]` or `[[vllm]]`.
    pub fn header(&self) -> String {
        if self.many {
            format!("[[{}]]", self.name)
        } else {
            format!("[{}]", self.name)
        }
    }
}

/// Every section, in the order they are listed in messages and read: the agent's own, the
/// sources', one `[[...]]` per endpoint kind of [`KINDS`].
pub(super) fn registry() -> Vec<Registered> {
    let mut r = vec![
        one("agent", AGENT_KEYS, |c, v| c.agent = v),
        one("gpu", gpu_config::KEYS, |c, v| c.gpu = v),
        one("membw", membw::config::KEYS, |c, v| c.membw = v),
        one("discovery", discovery::config::KEYS, |c, v| c.discovery = v),
    ];
    r.extend(KINDS.iter().map(|k| endpoints(k)));
    r.push(one("bench", progress::BENCH_KEYS, |c, v| c.bench = v));
    r.push(Registered {
        name: "progress",
        many: true,
        last: true,
        check: check::<Vec<FollowConfig>>,
        read: Box::new(|ctx, values, cfg| {
            let taken = ["gpu", "progress"]
                .into_iter()
                .map(String::from)
                .chain(cfg.all_endpoints().map(|(_, e)| e.name.clone()))
                .collect();
            cfg.progress = progress_sections(ctx, values, taken, &mut cfg.errors);
        }),
    });
    r
}

fn check<T: DeserializeOwned>(d: ValueDeserializer<'_>) -> Result<(), toml::de::Error> {
    T::deserialize(d).map(drop)
}

/// `[name]`: at most one section of type `T`, stored by `set`.
fn one<T: DeserializeOwned + 'static>(
    name: &'static str,
    keys: &'static [&'static str],
    set: fn(&mut Config, T),
) -> Registered {
    Registered {
        name,
        many: false,
        last: false,
        check: check::<Option<T>>,
        read: Box::new(move |ctx, values, cfg| {
            let header = format!("[{name}]");
            for v in values {
                if let Some(t) = section::<T>(ctx, &header, keys, v, &mut cfg.errors) {
                    set(cfg, t);
                }
            }
        }),
    }
}

/// `[[section]]` of an endpoint kind: its endpoints, or the kind's defaults when the file has
/// none.
fn endpoints(kind: &'static EndpointKind) -> Registered {
    Registered {
        name: kind.section,
        many: true,
        last: false,
        check: check::<Vec<EndpointConfig>>,
        read: Box::new(move |ctx, values, cfg| {
            let list = if values.is_empty() {
                EndpointConfig::defaults(kind)
            } else {
                endpoint_sections(ctx, kind.section, values, &mut cfg.errors)
            };
            cfg.set_endpoints(kind.name, list);
        }),
    }
}

fn endpoint_sections(
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
        let Some(mut ep) = section::<EndpointConfig>(ctx, &header, endpoint::KEYS, v, errors)
        else {
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
                redact_url(&ep.url)
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

/// `[[progress]]` sections: checked, and named unlike every other source.
fn progress_sections(
    ctx: &Ctx,
    raw: Vec<Spanned<toml::Value>>,
    mut taken: Vec<String>,
    errors: &mut Vec<String>,
) -> Vec<FollowConfig> {
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
