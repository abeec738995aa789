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
//! * `histogram.rs`: per-interval quantiles from bucket deltas;
//! * `shape.rs`: the lines of the last scrape without their values, with what each sample line
//!   came to (its [`Resolution`]): a scrape with the same lines is mapped from it, reading only
//!   the values.
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
mod shape;
mod slots;

use crate::catalogue::hist::{self, HistFamily};
use crate::catalogue::{self, Indom, Semantics, Type};
use crate::config::types::Limits;
use crate::fast_hash::{Fast, FastMap};
use crate::sources::{
    AsyncSource, DynamicMetric, IndomInstances, Instance, MetricId, SampleFuture, Snapshot,
    SourceError, Value, stable_instance_id,
};
use config::EndpointConfig;
use kinds::KINDS;
use shape::{Shape, ShapeRecorder};
use slots::Slots;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use std::time::Duration;

/// Most series accepted from one scrape; a larger answer is refused as a whole.
pub const MAX_SERIES: usize = 50_000;

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
    /// Instance id of the series (endpoint/engine).
    inst: u32,
    /// The first sample of the series, on the full way: its name and labels are built from it
    /// when needed (a scrape of a known shape needs none).
    first: Option<parse::Sample<'a>>,
    buckets: BucketVec,
    sum: Option<f64>,
    count: Option<f64>,
}

/// What one sample line comes to, worked out from its name and labels; kept in the
/// endpoint's [`shape::Shape`] for the scrapes that follow with the same lines.
enum Resolution {
    /// A name, label or instance name over the bounds: refused and counted (the name's first
    /// 64 characters, for the log).
    Refused(String),
    /// Not for this agent: a `_created` gauge, a family of no kind.
    Ignored,
    /// A catalogued family: one value per route.
    Scalar(Vec<ScalarPut>),
    /// A part of a catalogued histogram (`key`: the histogram's index and instance).
    Hist {
        key: (usize, u32),
        part: HistPart,
        bucket: Option<Bucket>,
    },
    /// A family with a kind's prefix that the catalogue does not know.
    Unknown {
        metric: MetricId,
        indom: u32,
        inst: u32,
        kind: &'static str,
        family: (String, parse::Kind),
        name: String,
    },
}

/// One value of a catalogued family's sample.
struct ScalarPut {
    metric: MetricId,
    inst: u32,
    ty: Type,
    sum: bool,
    /// The value, when a label carries it rather than the sample.
    from_label: Option<f64>,
}

/// A histogram bucket: its bound, its instance id and its `le` as exposed.
struct Bucket {
    le: f64,
    id: u32,
    text: LeText,
}

/// A bucket's `le` as exposed. Real ones are short and held inline: recording a scrape's shape
/// would otherwise allocate once per bucket line, most lines of a vLLM scrape.
enum LeText {
    Inline(u8, [u8; 22]),
    Heap(Box<str>),
}

impl LeText {
    fn new(s: &str) -> LeText {
        let mut buf = [0u8; 22];
        match buf.get_mut(..s.len()) {
            Some(head) => {
                head.copy_from_slice(s.as_bytes());
                LeText::Inline(s.len() as u8, buf)
            }
            None => LeText::Heap(s.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // Whole UTF-8 text was copied in, so this cannot fail.
            LeText::Inline(len, buf) => std::str::from_utf8(&buf[..*len as usize]).unwrap_or(""),
            LeText::Heap(s) => s,
        }
    }
}

/// How a pass over a scrape treats instances.
#[derive(Clone, Copy, Default, PartialEq)]
enum Instances {
    /// Note each instance's signature (to tell whether the set changed).
    #[default]
    Sign,
    /// Build each instance's name and labels.
    Build,
    /// Nothing: the scrape has the last one's shape, hence its instances.
    Known,
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
    /// The last scrape's shape, and a buffer for the values read along it.
    shape: Option<Shape<Resolution>>,
    /// What the last scrape's mapping met, while `shape` is its shape.
    memo: Option<ShapeMemo>,
    shape_values: Vec<f64>,
    /// Emptied bucket vectors for the next scrape's histogram series, and a buffer for the
    /// current counts of one (see [`recycle`]).
    bucket_pool: Vec<BucketVec>,
    hist_scratch: Vec<(f64, f64)>,
    /// Scrapes mapped along a known shape (for tests and benchmarks), and those of them whose
    /// puts stopped following the last scrape's (which a known shape should never do).
    shape_hits: u64,
    replay_misses: u64,
    /// Whether to keep shapes (off only to compare both ways in tests).
    use_shapes: bool,
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

/// The (metric, instance) a value is put to.
type ValueKey = (MetricId, u32);

/// A histogram series while a scrape is mapped: (family index in the tables, instance id).
type HistKey = (usize, u32);

/// What a scrape's mapping met, for the next scrape of its shape to follow (`slots.rs`).
struct ShapeMemo {
    puts: slots::Memo<ValueKey>,
    hists: slots::Memo<HistKey>,
}

/// The histogram series of one scrape, by slot.
#[derive(Default)]
struct Hists<'a> {
    slots: Slots<HistKey>,
    accs: Vec<HistAcc<'a>>,
}

/// Collects instances and combined values while a scrape is mapped.
#[derive(Default)]
struct Builder {
    mode: Instances,
    seen: std::collections::HashSet<(u32, u32), Fast>,
    sigs: Vec<InstanceSig>,
    instances: BTreeMap<u32, BTreeMap<u32, Instance>>,
    /// Values put, by the slot of their (metric, instance) in `slots`.
    values: Vec<(f64, Type)>,
    slots: Slots<ValueKey>,
    /// Interval quantiles: (metric, instance, value), each key put once.
    quantiles: Vec<(MetricId, u32, f64)>,
    /// Unknown families, each as its own metric under llm.other (see catalogue::DYNAMIC_ROOT).
    dynamic: BTreeMap<String, DynamicMetric>,
    dynamic_values: Vec<(String, u32, Value)>,
    refused: Refused,
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
        match self.mode {
            Instances::Known => return id,
            Instances::Sign => {
                if self.seen.insert((indom, id)) {
                    self.sigs.push((indom, id, sig()));
                }
                return id;
            }
            Instances::Build => {}
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
    /// Puts `v` to (metric, inst): the first put sets it (and its type), later ones add to it
    /// (`sum`) or replace it.
    fn put(&mut self, metric: MetricId, inst: u32, v: f64, ty: Type, sum: bool) {
        match self.slots.slot((metric, inst)) {
            (_, true) => self.values.push((v, ty)),
            (slot, false) if sum => self.values[slot].0 += v,
            (slot, false) => self.values[slot].0 = v,
        }
    }

    /// An interval quantile (one per metric and instance).
    fn put_quantile(&mut self, metric: MetricId, inst: u32, v: f64) {
        self.quantiles.push((metric, inst, v));
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

    /// The snapshot, and the puts met (for the next scrape to follow).
    fn finish(self) -> (Snapshot, slots::Memo<ValueKey>) {
        let mut snap = Snapshot {
            dynamic_metrics: self.dynamic.into_values().collect(),
            dynamic_values: self.dynamic_values,
            ..Snapshot::default()
        };
        snap.values
            .reserve(self.values.len() + self.quantiles.len());
        for (key, (v, ty)) in self.slots.keys().iter().zip(&self.values) {
            if let Some(value) = to_value(*ty, *v) {
                snap.put(key.0, key.1, value);
            }
        }
        for (metric, inst, v) in self.quantiles {
            if let Some(value) = to_value(Type::Double, v) {
                snap.put(metric, inst, value);
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
        (snap, self.slots.into_memo())
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
            shape: None,
            memo: None,
            shape_values: Vec::new(),
            bucket_pool: Vec::new(),
            hist_scratch: Vec::new(),
            shape_hits: 0,
            replay_misses: 0,
            use_shapes: true,
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
        self.shape = None;
    }

    /// How many scrapes were mapped along the shape of the one before.
    pub fn shape_hits(&self) -> u64 {
        self.shape_hits
    }

    /// How many scrapes of a known shape did not make the puts of the one before (for tests:
    /// they are still mapped right, only slower).
    pub fn replay_misses(&self) -> u64 {
        self.replay_misses
    }

    /// Map every scrape the full way (to compare both ways).
    #[doc(hidden)]
    pub fn without_shapes(mut self) -> Mapper {
        self.use_shapes = false;
        self
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
    /// says so (`instances_unchanged`) instead of carrying them. A scrape with the shape of
    /// the last one (the same lines, other values) is mapped from that shape (see `shape.rs`).
    pub fn map(&mut self, text: &str) -> Result<Snapshot, String> {
        if let Some(snap) = self.map_known_shape(text) {
            return Ok(snap);
        }
        self.memo = None;
        let (mut snap, mut sigs, shape, memo) = self.map_pass(text, Instances::Sign)?;
        sigs.sort_unstable();
        if sigs == self.prev_instances {
            snap.instances_unchanged = true;
        } else {
            // The instance set changed: a second pass builds names and labels.
            let (built, ..) = self.map_pass(text, Instances::Build)?;
            snap.indoms = built.indoms;
            self.prev_instances = sigs;
        }
        // A shape is kept only as long as a body may be (see `Limits::retained_body_bytes`).
        if self.use_shapes {
            let shape = shape.finish(text);
            if shape.size() <= self.limits.retained_body_bytes {
                self.shape = Some(shape);
                self.memo = Some(memo);
            }
        }
        Ok(snap)
    }

    /// The snapshot of `text` if it has the shape of the last scrape (whose instances are
    /// then the same, by construction).
    fn map_known_shape(&mut self, text: &str) -> Option<Snapshot> {
        let shape = self.shape.take()?;
        let mut values = std::mem::take(&mut self.shape_values);
        if !shape.values(text, &mut values) {
            self.shape_values = values;
            return None; // the full way records the new shape
        }
        // A memo is kept with every shape; the default is only a safe answer to a bug.
        let memo = self.memo.take().unwrap_or(ShapeMemo {
            puts: Default::default(),
            hists: Default::default(),
        });
        let mut b = Builder {
            mode: Instances::Known,
            values: Vec::with_capacity(memo.puts.len()),
            slots: Slots::following(memo.puts),
            ..Builder::default()
        };
        let mut hists = Hists {
            accs: Vec::with_capacity(memo.hists.len()),
            slots: Slots::following(memo.hists),
        };
        let mut pool = std::mem::take(&mut self.bucket_pool);
        let resolutions = shape.resolutions();
        for (index, (r, v)) in resolutions.iter().zip(&values).enumerate() {
            Self::apply(r, index, *v, None, &mut b, &mut hists, &mut pool);
        }
        self.bucket_pool = pool;
        let hists_followed = hists.slots.followed();
        let hist_memo = self.finish_hists(hists, resolutions, &mut b, true);
        let refused = std::mem::take(&mut b.refused);
        let followed = hists_followed && b.slots.followed();
        let (mut snap, put_memo) = b.finish();
        self.note_refused(&mut snap, refused);
        snap.instances_unchanged = true;
        self.shape = Some(shape);
        self.memo = Some(ShapeMemo {
            puts: put_memo,
            hists: hist_memo,
        });
        self.replay_misses += u64::from(!followed);
        self.shape_values = values;
        self.shape_hits += 1;
        Some(snap)
    }

    /// What sample `s` comes to: its metrics and instances (named or signed through `b`).
    fn resolve(
        &self,
        t: &Tables,
        s: &parse::Sample<'_>,
        family: (&str, parse::Kind),
        b: &mut Builder,
    ) -> Resolution {
        if self.too_long(s, true) {
            return Resolution::Refused(s.name.chars().take(64).collect());
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
                let mut puts = Vec::with_capacity(routes.len());
                for r in routes {
                    let id = self.instance_id(s, r.keys);
                    let inst = b.instance_by_id(
                        r.indom.serial,
                        id,
                        || Self::labels_sig(s, true),
                        || self.instance_name(s, r.keys),
                        || self.base_labels(s, true),
                    );
                    let from_label = match r.from_label {
                        Some(l) => match s.labels.get(l).and_then(|v| v.parse::<f64>().ok()) {
                            Some(v) => Some(v),
                            None => continue,
                        },
                        None => None,
                    };
                    puts.push(ScalarPut {
                        metric: r.metric,
                        inst,
                        ty: r.ty,
                        sum: r.sum,
                        from_label,
                    });
                }
                Resolution::Scalar(puts)
            }
            Some(Target::Hist(i, part)) => {
                let hash = self.instance_hash(s, t.hists[*i].keys);
                let bucket = match part {
                    HistPart::Bucket => s.labels.get("le").and_then(|text| {
                        let le = parse::parse_value(&text)?;
                        let id = fnv(fnv(hash, b" le="), text.as_bytes()) & ID_MASK;
                        Some(Bucket {
                            le,
                            id,
                            text: LeText::new(&text),
                        })
                    }),
                    _ => None,
                };
                Resolution::Hist {
                    key: (*i, hash & ID_MASK),
                    part: *part,
                    bucket,
                }
            }
            None => self.resolve_unknown(t, s, family, b),
        }
    }

    /// A series of no catalogued family: the kind's generic `other.value` metric and a
    /// dynamic metric of its own, if the name has a kind's prefix.
    fn resolve_unknown(
        &self,
        t: &Tables,
        s: &parse::Sample<'_>,
        family: (&str, parse::Kind),
        b: &mut Builder,
    ) -> Resolution {
        if s.name.ends_with("_created") {
            return Resolution::Ignored; // prometheus_client's creation-time gauges
        }
        let Some(unknown) = unknown_target(t, s.name) else {
            return Resolution::Ignored;
        };
        let (metric, indom) = (unknown.metric, unknown.indom);
        let raw = s.labels.raw();
        let mut h = fnv(FNV_OFFSET, self.endpoint.as_bytes());
        for part in [b" ", s.name.as_bytes(), b"{", raw.as_bytes(), b"}"] {
            h = fnv(h, part);
        }
        let id = h & ID_MASK;
        let kind = [family.1 as u8];
        let signature = || {
            let labels = Self::labels_sig(s, false).to_le_bytes();
            sig(&[&labels, family.0.as_bytes(), &kind])
        };
        let name = || format!("{} {}{{{}}}", self.endpoint, s.name, raw);
        let inst = b.instance_by_id(indom.serial, id, signature, name, || {
            let mut l = self.base_labels(s, false);
            if s.name.starts_with(family.0) {
                l.push(("family".into(), family.0.to_string()));
                l.push(("type".into(), format!("{:?}", family.1).to_lowercase()));
            }
            l
        });
        Resolution::Unknown {
            metric,
            indom: indom.serial,
            inst,
            kind: unknown.kind,
            family: (family.0.to_string(), family.1),
            name: s.name.to_string(),
        }
    }

    /// Applies sample value `v` of the sample line resolved to `r` (the `index`th sample of the
    /// scrape; `first`: the sample itself, on the full way).
    fn apply<'a>(
        r: &Resolution,
        index: usize,
        v: f64,
        first: Option<parse::Sample<'a>>,
        b: &mut Builder,
        hists: &mut Hists<'a>,
        pool: &mut Vec<BucketVec>,
    ) {
        match r {
            Resolution::Refused(name) => {
                b.refused.count += 1;
                b.refused.first.get_or_insert_with(|| name.clone());
            }
            Resolution::Ignored => {}
            Resolution::Scalar(puts) => {
                for p in puts {
                    b.put(p.metric, p.inst, p.from_label.unwrap_or(v), p.ty, p.sum);
                }
            }
            Resolution::Hist { key, part, bucket } => {
                let (slot, new) = hists.slots.slot(*key);
                if new {
                    hists.accs.push(HistAcc {
                        inst: key.1,
                        first,
                        buckets: pool.pop().unwrap_or_default(),
                        sum: None,
                        count: None,
                    });
                }
                let acc = &mut hists.accs[slot];
                match part {
                    HistPart::Sum => *acc.sum.get_or_insert(0.0) += v,
                    HistPart::Count => *acc.count.get_or_insert(0.0) += v,
                    HistPart::Bucket => {
                        let Some(bucket) = bucket else {
                            return;
                        };
                        match acc.buckets.iter_mut().find(|x| x.0 == bucket.le) {
                            Some(x) => x.1 += v,
                            None => acc.buckets.push((bucket.le, v, index)),
                        }
                    }
                }
            }
            Resolution::Unknown {
                metric,
                indom,
                inst,
                kind,
                family,
                name,
            } => {
                b.put(*metric, *inst, v, Type::Double, false);
                b.put_dynamic(kind, (&family.0, family.1), name, *indom, *inst, v);
            }
        }
    }

    /// One full pass over a scrape. `mode`: sign the instances (and move the quantile state
    /// on), or build their names and labels (and leave the quantile state alone, the first
    /// pass having moved it on). Also returns the instance signatures and the scrape's shape.
    fn map_pass(
        &mut self,
        text: &str,
        mode: Instances,
    ) -> Result<
        (
            Snapshot,
            Vec<InstanceSig>,
            ShapeRecorder<Resolution>,
            ShapeMemo,
        ),
        String,
    > {
        let t = tables();
        let mut b = Builder {
            mode,
            ..Builder::default()
        };
        let mut hists = Hists::default();
        let mut family_type: (&str, parse::Kind) = ("", parse::Kind::Untyped);
        let mut shape = ShapeRecorder::default();
        let mut parser = parse::parse(text);
        while let Some(entry) = parser.next() {
            let s = match entry.map_err(|e| e.to_string())? {
                parse::Entry::Sample(s) => s,
                parse::Entry::Type { name, kind } => {
                    family_type = (name, kind);
                    continue;
                }
                parse::Entry::Eof => {
                    shape.eof(parser.line());
                    continue;
                }
                _ => continue,
            };
            if shape.len() >= MAX_SERIES {
                return Err(format!("more than {MAX_SERIES} series in one scrape"));
            }
            let r = self.resolve(t, &s, family_type, &mut b);
            let index = shape.len();
            let pool = &mut self.bucket_pool;
            Self::apply(&r, index, s.value, Some(s), &mut b, &mut hists, pool);
            shape.sample(&s, r);
        }
        let hist_memo =
            self.finish_hists(hists, shape.resolutions(), &mut b, mode != Instances::Build);
        let sigs = std::mem::take(&mut b.sigs);
        let refused = std::mem::take(&mut b.refused);
        let (mut snap, put_memo) = b.finish();
        self.note_refused(&mut snap, refused);
        let memo = ShapeMemo {
            puts: put_memo,
            hists: hist_memo,
        };
        Ok((snap, sigs, shape, memo))
    }

    /// Puts each histogram's sum, count and buckets, and (`advance`) its interval quantiles,
    /// moving the quantile state on. `resolutions`: the scrape's, which name the buckets.
    /// Returns the series met, for the next scrape to follow.
    fn finish_hists(
        &mut self,
        hists: Hists,
        resolutions: &[Resolution],
        b: &mut Builder,
        advance: bool,
    ) -> slots::Memo<HistKey> {
        let t = tables();
        let Hists { slots, accs } = hists;
        let mut seen = Vec::with_capacity(accs.len());
        // In a fixed order: several families share an instance, the first one names it.
        let keys = slots.keys().iter().copied();
        let mut hists: Vec<(HistKey, HistAcc)> = keys.zip(accs).collect();
        hists.sort_unstable_by_key(|(k, _)| *k);
        for ((i, _), mut acc) in hists {
            let h = t.hists[i];
            let keys = h.keys;
            seen.push((i, acc.inst));
            // Names, labels and signatures come from the first sample, which the full way has
            // (a scrape of a known shape has known instances and asks for none of them).
            let first = || acc.first.expect("the full way keeps the first sample");
            let hist_sig = || Self::labels_sig(&first(), true);
            let inst = b.instance_by_id(
                h.indom.serial,
                acc.inst,
                hist_sig,
                || self.instance_name(&first(), keys),
                || self.base_labels(&first(), true),
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
            for (_, count, index) in &acc.buckets {
                let Resolution::Hist {
                    bucket: Some(bucket),
                    ..
                } = &resolutions[*index]
                else {
                    unreachable!("a bucket's resolution has its bound");
                };
                let le = bucket.text.as_str();
                let binst = b.instance_by_id(
                    h.bucket_indom.serial,
                    bucket.id,
                    || sig(&[&hist_sig().to_le_bytes(), le.as_bytes()]),
                    || format!("{} le={le}", self.instance_name(&first(), keys)),
                    || {
                        let mut l = self.base_labels(&first(), true);
                        l.push(("le".into(), le.to_string()));
                        l
                    },
                );
                b.put(id(hist::BUCKET), binst, *count, Type::U64, true);
            }
            if !advance {
                continue; // the first pass moved the quantile state on
            }
            let cur = &mut self.hist_scratch;
            cur.clear();
            cur.extend(acc.buckets.iter().map(|x| (x.0, x.1)));
            recycle(&mut self.bucket_pool, acc.buckets);
            let Some(prev) = self.prev.get_mut(&(i, acc.inst)) else {
                self.prev.insert((i, acc.inst), cur.clone());
                continue;
            };
            // The same counts: no observations in the interval, so no quantiles.
            if prev != cur {
                if let Some(d) = histogram::delta(prev, cur) {
                    for (q, item) in hist::QUANTILES {
                        if let Some(v) = histogram::quantile(q, &d) {
                            b.put_quantile(id(item), inst, v);
                        }
                    }
                }
                prev.clear();
                prev.extend_from_slice(cur);
            }
        }
        // Forget series that disappeared, so a returning one starts from a fresh baseline.
        if advance {
            self.prev.retain(|k, _| seen.contains(k));
        }
        slots.into_memo()
    }

    /// Says in the snapshot how many series were refused, with an example.
    fn note_refused(&self, snap: &mut Snapshot, refused: Refused) {
        snap.refused_series = refused.count;
        if let Some(name) = refused.first {
            let l = &self.limits;
            snap.notes.push(format!(
                "{} series refused: a name, label or instance name longer than the \
bounds (max_name_length {}, max_label_length {}, max_instance_length {}), e.g. {name}...",
                refused.count, l.max_name_length, l.max_label_length, l.max_instance_length
            ));
        }
    }
}

/// A histogram series' buckets while a scrape is mapped: (bound, cumulative count, index of
/// the sample whose resolution names the bucket).
type BucketVec = Vec<(f64, f64, usize)>;

/// Keeps `v` (emptied) for the next histogram series, unless it or the pool is large: the
/// pool saves an allocation per series and scrape, not memory after a huge scrape.
fn recycle(pool: &mut Vec<BucketVec>, mut v: BucketVec) {
    if v.capacity() <= 256 && pool.len() < 1024 {
        v.clear();
        pool.push(v);
    }
}

/// Series refused in one scrape, and the first one's name (its first 64 characters).
#[derive(Default)]
struct Refused {
    count: u64,
    first: Option<String>,
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

impl Endpoint {
    /// One scrape, mapped.
    async fn scrape(&mut self) -> Result<Snapshot, SourceError> {
        let result = match self.scraper.fetch().await {
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

impl AsyncSource for Endpoint {
    fn name(&self) -> &str {
        &self.name
    }
    fn interval(&self) -> Duration {
        self.interval
    }
    fn limits(&self) -> Limits {
        self.limits
    }
    fn sample(&mut self) -> SampleFuture<'_> {
        Box::pin(self.scrape())
    }
}

#[cfg(test)]
mod tests;
