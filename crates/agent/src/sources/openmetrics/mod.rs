//! Prometheus endpoints: vLLM, LMCache and llm-d EPP `/metrics`.
//!
//! * `kinds.rs`: one descriptor per kind of endpoint (its llm.conf section, family prefixes,
//!   metrics and default endpoints); which family goes to which metric is declared with the
//!   metric in the catalogue (`catalogue/vllm.rs`, ...);
//! * `config.rs`: an endpoint's section in llm.conf;
//! * `parse.rs`: a zero-copy parser of the text format 0.0.4;
//! * `scrape.rs`: the HTTP side, bounded in time, body size and series count: `http1.rs`, a
//!   small blocking HTTP/1.1 client over one kept-alive connection, for plain `http://` to an
//!   IP literal or `localhost`; reqwest on one shared tokio runtime for everything else (https,
//!   host names);
//! * `histogram.rs`: per-interval quantiles from bucket deltas.
//!
//! Each configured endpoint is one [`Endpoint`] source. A scrape is mapped by [`Mapper`]:
//! catalogued families (of every kind) become typed metrics with one instance per endpoint x
//! engine (x the family's own identifying label); series of unknown families with a kind's
//! prefix (`vllm:*`, `lmcache:*`, `inference_*`, `llm_d_*`) go to that kind's generic
//! `llm.*.other.value` metric so nothing is lost.

pub mod config;
pub mod histogram;
mod http1;
pub mod kinds;
pub mod parse;
pub mod scrape;

use crate::catalogue::hist::{self, HistFamily};
use crate::catalogue::{self, Indom, Semantics, Type};
use crate::config::types::Limits;
use crate::sources::{
    DynamicMetric, IndomInstances, Instance, MetricId, Snapshot, Source, SourceError, Value,
    stable_instance_id,
};
use config::EndpointConfig;
use kinds::KINDS;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use std::time::Duration;

/// Most series accepted from one scrape; a larger answer is refused as a whole.
pub const MAX_SERIES: usize = 50_000;

/// A fast hash for the mapper's small keys (integers, family names), which need no
/// protection against chosen collisions: SipHash cost a third of a scrape's mapping.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(n as u64);
    }
}

type Fast = std::hash::BuildHasherDefault<FastHasher>;
type FastMap<K, V> = HashMap<K, V, Fast>;

/// A catalogue [`Route`] resolved against its metric once.
struct Resolved {
    metric: MetricId,
    /// Labels that, after the endpoint name, name the instance (`vllm0/0/stop`).
    keys: &'static [&'static str],
    /// Take the value from this label instead of the sample value.
    from_label: Option<&'static str>,
    ty: Type,
    indom: &'static Indom,
    /// Counters are summed over series that differ only by `pid` (multiprocess mode, as
    /// prometheus_client itself does); gauges keep the last one exposed (vLLM's `mostrecent`).
    sum: bool,
}

enum Target {
    Scalar(Vec<Resolved>),
    Hist(usize, HistPart),
}

#[derive(Clone, Copy, PartialEq)]
enum HistPart {
    Bucket,
    Sum,
    Count,
}

struct Tables {
    by_name: FastMap<&'static str, Target>,
    hists: Vec<&'static HistFamily>,
    /// Every kind's family-name prefixes, with the index of the kind in `unknown`.
    prefixes: Vec<(&'static str, usize)>,
    /// The prefixes that end in ':', without it (`vllm`): `vllm_x` is OpenMetrics for `vllm:x`.
    colon_prefixes: Vec<&'static str>,
    unknown: Vec<Unknown>,
}

/// Where series of unknown families with one of a kind's prefixes go.
struct Unknown {
    /// The kind's name, for the family's name under llm.other.
    kind: &'static str,
    metric: MetricId,
    indom: &'static Indom,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut by_name: FastMap<&'static str, Target> = FastMap::default();
        let routes = KINDS
            .iter()
            .flat_map(|k| k.routes.iter().copied().flatten());
        for route in routes {
            let m = catalogue::metrics()
                .find(|m| m.cluster == route.cluster && m.item == route.item)
                .unwrap_or_else(|| panic!("route {:?} names no catalogued metric", route.families));
            for family in route.families {
                let resolved = Resolved {
                    metric: MetricId::new(route.cluster, route.item),
                    keys: route.keys,
                    from_label: route.from_label,
                    ty: m.ty,
                    indom: m.indom.expect("routed metrics have an instance domain"),
                    sum: m.sem == Semantics::Counter,
                };
                match by_name
                    .entry(family)
                    .or_insert_with(|| Target::Scalar(Vec::new()))
                {
                    Target::Scalar(v) => v.push(resolved),
                    Target::Hist(..) => unreachable!(),
                }
            }
        }
        // Each name of a histogram family is its own entry (a kind's current names first, then
        // its older ones), so that two spellings in one scrape are kept apart.
        let mut hists: Vec<(&'static HistFamily, &'static str)> = Vec::new();
        for kind in KINDS {
            let families = || kind.histograms.iter().copied().flatten();
            hists.extend(families().map(|h| (h, h.prom)));
            hists.extend(families().flat_map(|h| h.also.iter().map(move |a| (h, *a))));
        }
        for (i, (_, prom)) in hists.iter().enumerate() {
            for (suffix, part) in [
                ("_bucket", HistPart::Bucket),
                ("_sum", HistPart::Sum),
                ("_count", HistPart::Count),
            ] {
                let name: &'static str = Box::leak(format!("{prom}{suffix}").into_boxed_str());
                by_name.insert(name, Target::Hist(i, part));
            }
        }
        let hists = hists.into_iter().map(|(h, _)| h).collect();
        let unknown = KINDS
            .iter()
            .map(|k| {
                let m = catalogue::find(k.other)
                    .unwrap_or_else(|| panic!("{}: {} is not catalogued", k.name, k.other));
                Unknown {
                    kind: k.name,
                    metric: MetricId::new(m.cluster, m.item),
                    indom: m.indom.expect("other metrics have an instance domain"),
                }
            })
            .collect();
        let prefixes: Vec<(&'static str, usize)> = KINDS
            .iter()
            .enumerate()
            .flat_map(|(i, k)| k.prefixes.iter().map(move |p| (*p, i)))
            .collect();
        assert!(prefixes.iter().all(|(p, _)| !p.is_empty()));
        let colon_prefixes = prefixes
            .iter()
            .filter_map(|(p, _)| p.strip_suffix(':'))
            .collect();
        Tables {
            by_name,
            hists,
            prefixes,
            colon_prefixes,
            unknown,
        }
    })
}

fn lookup<'t>(t: &'t Tables, name: &str) -> Option<&'t Target> {
    t.by_name
        .get(name)
        .or_else(|| name.strip_suffix("_total").and_then(|n| t.by_name.get(n)))
}

/// The kind whose prefix an unknown family has, if any.
fn unknown_target<'t>(t: &'t Tables, name: &str) -> Option<&'t Unknown> {
    // The first byte rules most names out without a call to memcmp.
    let first = name.as_bytes().first();
    let (_, i) = t
        .prefixes
        .iter()
        .find(|(p, _)| p.as_bytes().first() == first && name.starts_with(p))?;
    Some(&t.unknown[*i])
}

/// Whether `prefix` followed by '_' is the OpenMetrics spelling of a kind's prefix `prefix:`.
fn colon_prefix(t: &Tables, prefix: &str) -> bool {
    let first = prefix.as_bytes().first();
    t.colon_prefixes
        .iter()
        .any(|p| p.as_bytes().first() == first && *p == prefix)
}

struct HistAcc<'a> {
    /// Instance id of the series (endpoint/engine), and the FNV-1a state of its name before
    /// the id's mask (bucket ids continue it with " le=...").
    inst: u32,
    hash: u32,
    /// The first sample of the series: its name and labels are built from it when needed.
    first: parse::Sample<'a>,
    /// (bound, cumulative count, bound as exposed)
    buckets: Vec<(f64, f64, std::borrow::Cow<'a, str>)>,
    sum: Option<f64>,
    count: Option<f64>,
}

/// Maps scrapes of one endpoint to snapshots; keeps the previous bucket counts of every
/// histogram series for the interval quantiles.
pub struct Mapper {
    endpoint: String,
    url: String,
    prev: HashMap<(usize, u32), Vec<(f64, f64)>>,
    limits: Limits,
    /// (indom, instance id, signature of its labels) of every instance of the last scrape,
    /// sorted: when a scrape has the same, its snapshot says so instead of carrying the
    /// instances (names and labels are then not built at all).
    prev_instances: Vec<InstanceSig>,
    /// Labels of the endpoint itself (see [`Mapper::with_labels`]).
    extra_labels: Vec<(String, String)>,
}

/// (indom serial, instance id, signature of the instance's labels).
type InstanceSig = (u32, u32, u64);

const FNV_OFFSET: u32 = 0x811c_9dc5;
const ID_MASK: u32 = 0x3fff_ffff;

fn fnv(mut h: u32, bytes: &[u8]) -> u32 {
    for b in bytes {
        h = (h ^ *b as u32).wrapping_mul(0x0100_0193);
    }
    h
}

/// A 64-bit FNV-1a of some byte strings: the signature of an instance's labels.
fn sig(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in *p {
            h = (h ^ *b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h = (h ^ 0xff).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn to_value(ty: Type, v: f64) -> Option<Value> {
    if !v.is_finite() {
        return None;
    }
    match ty {
        Type::Double => Some(Value::F64(v)),
        Type::U64 if v >= 0.0 => Some(Value::U64(v.round() as u64)),
        Type::U32 if v >= 0.0 && v <= u32::MAX as f64 => Some(Value::U32(v.round() as u32)),
        Type::I64 => Some(Value::I64(v.round() as i64)),
        Type::I32 if v.abs() <= i32::MAX as f64 => Some(Value::I32(v.round() as i32)),
        _ => None,
    }
}

/// Collects instances and combined values while a scrape is mapped.
#[derive(Default)]
struct Builder {
    /// Build instance names and labels (else only note each instance's signature).
    build: bool,
    seen: std::collections::HashSet<(u32, u32), Fast>,
    sigs: Vec<InstanceSig>,
    instances: BTreeMap<u32, BTreeMap<u32, Instance>>,
    values: FastMap<(MetricId, u32), (f64, Type)>,
    order: Vec<(MetricId, u32)>,
    /// Unknown families, each as its own metric under llm.other (see catalogue::DYNAMIC_ROOT).
    dynamic: BTreeMap<String, DynamicMetric>,
    dynamic_values: Vec<(String, u32, Value)>,
}

impl Builder {
    /// The instance `id` (`stable_instance_id` of the name `name` builds) of `indom`, whose
    /// labels have signature `sig`; the name and labels are built only when building, and
    /// once per scrape.
    fn instance_by_id(
        &mut self,
        indom: u32,
        id: u32,
        sig: impl FnOnce() -> u64,
        name: impl FnOnce() -> String,
        labels: impl FnOnce() -> Vec<(String, String)>,
    ) -> u32 {
        if !self.build {
            if self.seen.insert((indom, id)) {
                self.sigs.push((indom, id, sig()));
            }
            return id;
        }
        self.instances
            .entry(indom)
            .or_default()
            .entry(id)
            .or_insert_with(|| {
                let name = name();
                debug_assert_eq!(stable_instance_id(&name), id, "{name}");
                Instance {
                    id,
                    name,
                    labels: labels(),
                }
            });
        id
    }
    fn put(&mut self, metric: MetricId, inst: u32, v: f64, ty: Type, sum: bool) {
        match self.values.get_mut(&(metric, inst)) {
            Some(old) if sum => old.0 += v,
            Some(old) => old.0 = v,
            None => {
                self.values.insert((metric, inst), (v, ty));
                self.order.push((metric, inst));
            }
        }
    }
    /// A series of a family the catalogue does not know, as the metric `llm.other.<kind>.<name>`.
    fn put_dynamic(
        &mut self,
        kind: &str,
        family: (&str, parse::Kind),
        name: &str,
        indom: u32,
        inst: u32,
        v: f64,
    ) {
        let Some(value) = to_value(Type::Double, v) else {
            return;
        };
        let full = crate::catalogue::dynamic_name(kind, name);
        if !self.dynamic.contains_key(&full) {
            let counter = name.starts_with(family.0) && family.1 == parse::Kind::Counter;
            let desc = DynamicMetric {
                name: full.clone(),
                ty: Type::Double,
                sem: if counter {
                    Semantics::Counter
                } else {
                    Semantics::Instant
                },
                units: pcp::Units::NONE,
                indom_serial: Some(indom),
                oneline: format!("{name}: a {kind} family this agent's catalogue does not know"),
                help: format!(
                    "The Prometheus series {name} as scraped from {kind} endpoints, one instance per \
endpoint and label set (the same instances as the generic other.value metric). Found at run time: \
the name is remembered across agent restarts. Units are as the exporter defines them."
                ),
            };
            self.dynamic.insert(full.clone(), desc);
        }
        self.dynamic_values.push((full, inst, value));
    }

    fn finish(self) -> Snapshot {
        let mut snap = Snapshot {
            dynamic_metrics: self.dynamic.into_values().collect(),
            dynamic_values: self.dynamic_values,
            ..Snapshot::default()
        };
        for key in &self.order {
            let (v, ty) = self.values[key];
            if let Some(value) = to_value(ty, v) {
                snap.put(key.0, key.1, value);
            }
        }
        snap.indoms = self
            .instances
            .into_iter()
            .map(|(indom_serial, m)| IndomInstances {
                indom_serial,
                instances: m.into_values().collect(),
            })
            .collect();
        snap
    }
}

impl Mapper {
    /// `url` is labelled redacted (see [`scrape::redact_url`]).
    pub fn new(endpoint: &str, url: &str) -> Mapper {
        Mapper {
            endpoint: endpoint.to_string(),
            url: scrape::redact_url(url),
            prev: HashMap::new(),
            limits: Limits::default(),
            prev_instances: Vec::new(),
            extra_labels: Vec::new(),
        }
    }

    /// Labels every instance carries besides its series' own (a series label of the same
    /// name wins).
    pub fn with_labels(mut self, labels: &std::collections::BTreeMap<String, String>) -> Mapper {
        self.extra_labels = labels
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "endpoint" | "url"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self
    }

    /// The next scrape carries its instances in full (after a failed sample the agent
    /// withdrew them).
    pub fn forget_instances(&mut self) {
        self.prev_instances.clear();
    }

    /// Refuse series whose names or labels go over these bounds.
    pub fn with_limits(mut self, limits: Limits) -> Mapper {
        self.limits = limits;
        self
    }

    /// The signature of the labels `base_labels(s, skip_le)` would give.
    fn labels_sig(s: &parse::Sample<'_>, skip_le: bool) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h = (h ^ *b as u64).wrapping_mul(0x0000_0100_0000_01b3);
            }
            h = (h ^ 0xff).wrapping_mul(0x0000_0100_0000_01b3);
        };
        for (k, v) in s.labels.iter() {
            if k == "pid" || (skip_le && k == "le") || k == "endpoint" || k == "url" {
                continue;
            }
            eat(k.as_bytes());
            eat(v.as_bytes());
        }
        h
    }

    /// Whether a series is within the length bounds: its name, every label name and value,
    /// and (for the generic other.value instances, named after all labels) its instance name.
    fn too_long(&self, s: &parse::Sample<'_>, other: bool) -> bool {
        let l = &self.limits;
        if s.name.len() > l.max_name_length {
            return true;
        }
        let raw = s.labels.raw().len();
        if raw > l.max_label_length
            && s.labels
                .iter()
                .any(|(k, v)| k.len() > l.max_label_length || v.len() > l.max_label_length)
        {
            return true;
        }
        other && self.endpoint.len() + s.name.len() + raw + 3 > l.max_instance_length
            || raw > l.max_instance_length
    }

    fn base_labels(&self, s: &parse::Sample<'_>, skip_le: bool) -> Vec<(String, String)> {
        let mut labels = vec![
            ("endpoint".to_string(), self.endpoint.clone()),
            ("url".to_string(), self.url.clone()),
        ];
        for (k, v) in s.labels.iter() {
            if k == "pid" || (skip_le && k == "le") || k == "endpoint" || k == "url" {
                continue;
            }
            labels.push((k.to_string(), v.into_owned()));
        }
        for (k, v) in &self.extra_labels {
            if !labels.iter().any(|(have, _)| have == k) {
                labels.push((k.clone(), v.clone()));
            }
        }
        labels
    }

    /// `stable_instance_id(&self.instance_name(s, keys))`, computed without allocating (FNV-1a
    /// runs over the same bytes the name would have).
    fn instance_id(&self, s: &parse::Sample<'_>, keys: &[&str]) -> u32 {
        self.instance_hash(s, keys) & ID_MASK
    }

    /// The FNV-1a state after the instance name's bytes (before the id's mask).
    fn instance_hash(&self, s: &parse::Sample<'_>, keys: &[&str]) -> u32 {
        fn step(h: u32, b: u8) -> u32 {
            (h ^ b as u32).wrapping_mul(0x0100_0193)
        }
        let mut h: u32 = FNV_OFFSET;
        for b in self.endpoint.bytes() {
            h = step(h, b);
        }
        for k in keys {
            h = step(h, b'/');
            match s.labels.get(k) {
                Some(v) if !v.is_empty() => {
                    for b in v.bytes() {
                        h = step(h, if b == b'/' || b == b' ' { b'_' } else { b });
                    }
                }
                _ => h = step(h, b'-'),
            }
        }
        h
    }

    fn instance_name(&self, s: &parse::Sample<'_>, keys: &[&str]) -> String {
        let mut name = self.endpoint.clone();
        for k in keys {
            name.push('/');
            match s.labels.get(k) {
                Some(v) if !v.is_empty() => name.push_str(&v.replace(['/', ' '], "_")),
                _ => name.push('-'),
            }
        }
        name
    }

    /// Maps one scrape. Errors are parse errors ("parse error at line N: ...") or limits.
    /// When the scrape has the same instances (ids and labels) as the last one, the snapshot
    /// says so (`instances_unchanged`) instead of carrying them.
    pub fn map(&mut self, text: &str) -> Result<Snapshot, String> {
        let (mut snap, mut sigs) = self.map_pass(text, false)?;
        sigs.sort_unstable();
        if sigs == self.prev_instances {
            snap.instances_unchanged = true;
        } else {
            // The instance set changed: a second pass builds names and labels.
            let (built, _) = self.map_pass(text, true)?;
            snap.indoms = built.indoms;
            self.prev_instances = sigs;
        }
        Ok(snap)
    }

    /// One pass over a scrape. `build`: build instance names and labels (and leave the
    /// quantile state alone, the first pass having moved it on).
    fn map_pass(
        &mut self,
        text: &str,
        build: bool,
    ) -> Result<(Snapshot, Vec<InstanceSig>), String> {
        let t = tables();
        let mut b = Builder {
            build,
            ..Builder::default()
        };
        let mut hists: FastMap<(usize, u32), HistAcc> = FastMap::default();
        let mut family_type: (&str, parse::Kind) = ("", parse::Kind::Untyped);
        let mut series = 0usize;
        let mut refused = 0u64;
        let mut first_refused: Option<String> = None;
        for entry in parse::parse(text) {
            let s = match entry.map_err(|e| e.to_string())? {
                parse::Entry::Sample(s) => s,
                parse::Entry::Type { name, kind } => {
                    family_type = (name, kind);
                    continue;
                }
                _ => continue,
            };
            series += 1;
            if series > MAX_SERIES {
                return Err(format!("more than {MAX_SERIES} series in one scrape"));
            }
            if self.too_long(&s, true) {
                refused += 1;
                if first_refused.is_none() {
                    let shown: String = s.name.chars().take(64).collect();
                    first_refused = Some(shown);
                }
                continue;
            }
            let target = lookup(t, s.name).or_else(|| {
                // OpenMetrics (if a server negotiated it) writes `vllm_x` for `vllm:x` in
                // sample names while HELP/TYPE keep the colon.
                let (prefix, rest) = s.name.split_once('_')?;
                if colon_prefix(t, prefix) {
                    lookup(t, &format!("{prefix}:{rest}"))
                } else {
                    None
                }
            });
            match target {
                Some(Target::Scalar(routes)) => {
                    for r in routes {
                        let id = self.instance_id(&s, r.keys);
                        let inst = b.instance_by_id(
                            r.indom.serial,
                            id,
                            || Self::labels_sig(&s, true),
                            || self.instance_name(&s, r.keys),
                            || self.base_labels(&s, true),
                        );
                        let v = match r.from_label {
                            Some(l) => match s.labels.get(l).and_then(|v| v.parse::<f64>().ok()) {
                                Some(v) => v,
                                None => continue,
                            },
                            None => s.value,
                        };
                        b.put(r.metric, inst, v, r.ty, r.sum);
                    }
                }
                Some(Target::Hist(i, part)) => {
                    let h = t.hists[*i];
                    let keys = h.keys;
                    let hash = self.instance_hash(&s, keys);
                    let inst = hash & ID_MASK;
                    let acc = hists.entry((*i, inst)).or_insert_with(|| HistAcc {
                        inst,
                        hash,
                        first: s,
                        buckets: Vec::new(),
                        sum: None,
                        count: None,
                    });
                    match part {
                        HistPart::Sum => *acc.sum.get_or_insert(0.0) += s.value,
                        HistPart::Count => *acc.count.get_or_insert(0.0) += s.value,
                        HistPart::Bucket => {
                            let Some(le_text) = s.labels.get("le") else {
                                continue;
                            };
                            let Some(le) = parse::parse_value(&le_text) else {
                                continue;
                            };
                            match acc.buckets.iter_mut().find(|x| x.0 == le) {
                                Some(x) => x.1 += s.value,
                                None => acc.buckets.push((le, s.value, le_text)),
                            }
                        }
                    }
                }
                None => {
                    if s.name.ends_with("_created") {
                        continue; // prometheus_client's creation-time gauges
                    }
                    let Some(unknown) = unknown_target(t, s.name) else {
                        continue;
                    };
                    let (metric, indom) = (unknown.metric, unknown.indom);
                    let raw = s.labels.raw();
                    let mut h = fnv(FNV_OFFSET, self.endpoint.as_bytes());
                    for part in [b" ", s.name.as_bytes(), b"{", raw.as_bytes(), b"}"] {
                        h = fnv(h, part);
                    }
                    let id = h & ID_MASK;
                    let family = family_type;
                    let kind = [family.1 as u8];
                    let signature = || {
                        let labels = Self::labels_sig(&s, false).to_le_bytes();
                        sig(&[&labels, family.0.as_bytes(), &kind])
                    };
                    let name = || format!("{} {}{{{}}}", self.endpoint, s.name, raw);
                    let inst = b.instance_by_id(indom.serial, id, signature, name, || {
                        let mut l = self.base_labels(&s, false);
                        if s.name.starts_with(family.0) {
                            l.push(("family".into(), family.0.to_string()));
                            l.push(("type".into(), format!("{:?}", family.1).to_lowercase()));
                        }
                        l
                    });
                    b.put(metric, inst, s.value, Type::Double, false);
                    b.put_dynamic(unknown.kind, family, s.name, indom.serial, inst, s.value);
                }
            }
        }
        let mut seen = Vec::with_capacity(hists.len());
        // In a fixed order: several families share an instance, the first one names it.
        let mut hists: Vec<((usize, u32), HistAcc)> = hists.into_iter().collect();
        hists.sort_unstable_by_key(|(k, _)| *k);
        for ((i, _), mut acc) in hists {
            let h = t.hists[i];
            let keys = h.keys;
            seen.push((i, acc.inst));
            let first = acc.first;
            let hist_sig = Self::labels_sig(&first, true);
            let inst = b.instance_by_id(
                h.indom.serial,
                acc.inst,
                || hist_sig,
                || self.instance_name(&first, keys),
                || self.base_labels(&first, true),
            );
            let id = |item| MetricId::new(h.cluster, h.base + item);
            if let Some(v) = acc.sum {
                b.put(id(hist::SUM), inst, v, Type::Double, true);
            }
            if let Some(v) = acc.count {
                b.put(id(hist::COUNT), inst, v, Type::U64, true);
            }
            acc.buckets
                .sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap_or(std::cmp::Ordering::Equal));
            for (_, count, le) in &acc.buckets {
                let bid = fnv(fnv(acc.hash, b" le="), le.as_bytes()) & ID_MASK;
                let binst = b.instance_by_id(
                    h.bucket_indom.serial,
                    bid,
                    || sig(&[&hist_sig.to_le_bytes(), le.as_bytes()]),
                    || format!("{} le={le}", self.instance_name(&first, keys)),
                    || {
                        let mut l = self.base_labels(&first, true);
                        l.push(("le".into(), le.to_string()));
                        l
                    },
                );
                b.put(id(hist::BUCKET), binst, *count, Type::U64, true);
            }
            let cur: Vec<(f64, f64)> = acc.buckets.iter().map(|x| (x.0, x.1)).collect();
            if build {
                continue; // the first pass moved the quantile state on
            }
            let prev = self.prev.insert((i, acc.inst), cur.clone());
            if let Some(d) = prev.and_then(|p| histogram::delta(&p, &cur)) {
                for (q, item) in hist::QUANTILES {
                    if let Some(v) = histogram::quantile(q, &d) {
                        b.put(id(item), inst, v, Type::Double, false);
                    }
                }
            }
        }
        // Forget series that disappeared, so a returning one starts from a fresh baseline.
        if !build {
            self.prev.retain(|k, _| seen.contains(k));
        }
        let sigs = std::mem::take(&mut b.sigs);
        let mut snap = b.finish();
        snap.refused_series = refused;
        if let Some(name) = first_refused {
            let l = &self.limits;
            snap.notes.push(format!(
                "{refused} series refused: a name, label or instance name longer than the \
bounds (max_name_length {}, max_label_length {}, max_instance_length {}), e.g. {name}...",
                l.max_name_length, l.max_label_length, l.max_instance_length
            ));
        }
        Ok((snap, sigs))
    }
}

/// One configured endpoint (`[[vllm]]`, `[[lmcache]]` or `[[epp]]`) as a source.
pub struct Endpoint {
    name: String,
    url: String,
    interval: Duration,
    scraper: scrape::Scraper,
    mapper: Mapper,
    limits: Limits,
}

impl Endpoint {
    pub fn new(cfg: &EndpointConfig) -> Endpoint {
        Endpoint {
            name: cfg.name.clone(),
            url: scrape::redact_url(&cfg.url),
            interval: cfg.interval.0,
            scraper: scrape::Scraper::new(&cfg.url, cfg.timeout.0, cfg.token_file.clone())
                .with_ca_file(cfg.ca_file.clone()),
            mapper: Mapper::new(&cfg.name, &cfg.url)
                .with_limits(cfg.limits)
                .with_labels(&cfg.labels),
            limits: cfg.limits,
        }
    }
}

impl Source for Endpoint {
    fn name(&self) -> &str {
        &self.name
    }
    fn interval(&self) -> Duration {
        self.interval
    }
    fn limits(&self) -> Limits {
        self.limits
    }
    fn sample(&mut self) -> Result<Snapshot, SourceError> {
        let result = match self.scraper.fetch() {
            Ok(body) => self
                .mapper
                .map(body)
                .map_err(|e| SourceError(format!("{}: {e}", self.url))),
            Err(e) => Err(e),
        };
        // A large body's buffer is not kept: memory returns to its steady level.
        self.scraper.release(self.limits.retained_body_bytes);
        if result.is_err() {
            self.mapper.forget_instances(); // the agent withdraws them
        }
        result
    }
}

#[cfg(test)]
mod tests;
