//! The snapshot store: the latest values and instances of every source, indexed for the fetch
//! path. Owned by the PCP thread; sources never touch it (they send [`Update`]s).
//!
//! Besides this file: [`health`] (each source's status, `llm.agent.source.*`), [`own`] (the
//! agent's own `llm.agent.*` metrics) and [`log_budget`] (the rate-limited log).

mod health;
mod log_budget;
mod own;

pub use own::ConfigStatus;

use crate::catalogue::{self, Metric, Type, agent as cat};
use crate::sources::scheduler::{SourceInfo, Update};
use crate::sources::{DynamicMetric, IndomInstances, Instance, MetricId, SINGULAR, Value};
use health::SourceStatus;
use log_budget::LogBudget;
use std::collections::{BTreeMap, HashMap};
use std::ffi::CString;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Values are kept ready to hand to PCP (strings NUL-terminated, so a fetch copies nothing).
pub use pcp::pmda::Atom;

/// Owner of a value or instance: a source index, or the agent itself.
const AGENT: usize = usize::MAX;

/// One instance as the store keeps it.
#[derive(Debug, Clone)]
pub struct InstanceEntry {
    pub name: String,
    /// Labels rendered as a JSON object, ready for `pmdaAddLabels`.
    pub labels_json: Option<String>,
    /// The labels as the source gave them, to tell whether a new sample changed anything.
    labels: Vec<(String, String)>,
    owner: usize,
}

/// The instances of one instance domain; `generation` changes whenever the set changes, so the
/// PMDA layer knows when to rebuild its C table.
#[derive(Debug, Default)]
pub struct IndomTable {
    pub instances: BTreeMap<u32, InstanceEntry>,
    pub generation: u64,
}

pub struct Store {
    metrics: Vec<&'static Metric>,
    by_pmid: HashMap<u32, usize>,
    values: Vec<BTreeMap<u32, Atom>>,
    owned: HashMap<usize, Vec<(usize, u32)>>,
    indoms: BTreeMap<u32, IndomTable>,
    sources: Vec<SourceInfo>,
    status: Vec<SourceStatus>,
    config: ConfigStatus,
    started: Instant,
    fetches: u64,
    /// Log budgets by source index (`AGENT` for the agent's own lines).
    budgets: HashMap<usize, LogBudget>,
    log_suppressed: u64,
    dynamic: Dynamic,
}

/// Metrics added at run time under `llm.other` (see `catalogue::DYNAMIC_ROOT`).
#[derive(Default)]
struct Dynamic {
    by_name: HashMap<String, usize>,
    /// Where names are remembered across restarts (one tab-separated line per metric).
    file: Option<std::path::PathBuf>,
    next: u32,
    /// Changes whenever a name is added, so the PMDA layer rehashes its tables.
    generation: u64,
}

fn now_secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
}

fn to_stored(ty: Type, v: Value) -> Option<Atom> {
    Some(match (ty, v) {
        (Type::U32, Value::U32(x)) => Atom::U32(x),
        (Type::I32, Value::I32(x)) => Atom::I32(x),
        (Type::U64, Value::U64(x)) => Atom::U64(x),
        (Type::U64, Value::U32(x)) => Atom::U64(x as u64),
        (Type::I64, Value::I64(x)) => Atom::I64(x),
        (Type::Double, Value::F64(x)) => Atom::F64(x),
        (Type::Double, Value::U64(x)) => Atom::F64(x as f64),
        (Type::String, Value::Str(s)) => Atom::Str(CString::new(s.replace('\0', " ")).ok()?),
        _ => return None,
    })
}

fn one_line(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

/// `cluster item name type semantics units indom oneline help`, tab separated.
fn dynamic_line(cluster: u32, item: u32, d: &DynamicMetric) -> String {
    let indom = d.indom_serial.map_or("-".to_string(), |s| s.to_string());
    format!(
        "{cluster}\t{item}\t{}\t{}\t{}\t{:#x}\t{indom}\t{}\t{}\n",
        d.name,
        d.ty.as_str(),
        d.sem.as_str(),
        d.units.bits(),
        one_line(&d.oneline),
        one_line(&d.help)
    )
}

fn parse_dynamic_line(line: &str) -> Option<(u32, u32, DynamicMetric)> {
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() != 9 {
        return None;
    }
    let cluster: u32 = f[0].parse().ok()?;
    let item: u32 = f[1].parse().ok()?;
    if !(catalogue::DYNAMIC_FIRST_CLUSTER..4096).contains(&cluster) || item >= 1024 {
        return None;
    }
    if !f[2].starts_with(catalogue::DYNAMIC_ROOT) {
        return None;
    }
    let bits = u32::from_str_radix(f[5].trim_start_matches("0x"), 16).ok()?;
    let desc = DynamicMetric {
        name: f[2].to_string(),
        ty: Type::parse(f[3])?,
        sem: catalogue::Semantics::parse(f[4])?,
        units: pcp::Units::from_bits(bits),
        indom_serial: if f[6] == "-" {
            None
        } else {
            Some(f[6].parse().ok()?)
        },
        oneline: f[7].to_string(),
        help: f[8].to_string(),
    };
    Some((cluster, item, desc))
}

fn labels_json(labels: &[(String, String)]) -> Option<String> {
    if labels.is_empty() {
        return None;
    }
    let map: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    Some(serde_json::Value::Object(map).to_string())
}

impl Store {
    pub fn new(sources: Vec<SourceInfo>, config: ConfigStatus) -> Store {
        let metrics: Vec<&'static Metric> = catalogue::metrics().collect();
        let by_pmid = metrics
            .iter()
            .enumerate()
            .map(|(i, m)| (m.local_pmid(), i))
            .collect();
        let mut indoms: BTreeMap<u32, IndomTable> = catalogue::indoms()
            .map(|i| (i.serial, IndomTable::default()))
            .collect();
        let sources_table = indoms.entry(cat::SOURCES.serial).or_default();
        for (i, s) in sources.iter().enumerate() {
            sources_table.instances.insert(
                i as u32,
                InstanceEntry {
                    name: s.name.clone(),
                    labels_json: None,
                    labels: Vec::new(),
                    owner: AGENT,
                },
            );
        }
        sources_table.generation += 1;
        let n = metrics.len();
        let status = vec![SourceStatus::default(); sources.len()];
        let mut store = Store {
            metrics,
            by_pmid,
            values: (0..n).map(|_| BTreeMap::new()).collect(),
            owned: HashMap::new(),
            indoms,
            sources,
            status,
            config,
            started: Instant::now(),
            fetches: 0,
            budgets: HashMap::new(),
            log_suppressed: 0,
            dynamic: Dynamic::default(),
        };
        store.refresh_agent_metrics();
        store
    }

    /// Loads the dynamic metrics an earlier run found, so their names exist from the start;
    /// new ones will be appended to `path`. Returns lines for the log.
    pub fn load_dynamic(&mut self, path: std::path::PathBuf) -> Vec<String> {
        let mut log = Vec::new();
        if let Ok(text) = std::fs::read_to_string(&path) {
            for (n, line) in text.lines().enumerate() {
                match parse_dynamic_line(line) {
                    Some((cluster, item, desc)) => {
                        let index = (cluster - catalogue::DYNAMIC_FIRST_CLUSTER) * 1024 + item;
                        self.dynamic.next = self.dynamic.next.max(index + 1);
                        self.add_metric(desc, cluster, item);
                    }
                    None => log.push(format!(
                        "{}:{}: ignored malformed line",
                        path.display(),
                        n + 1
                    )),
                }
            }
        }
        if !self.dynamic.by_name.is_empty() {
            log.push(format!(
                "{} metrics found by earlier runs loaded from {}",
                self.dynamic.by_name.len(),
                path.display()
            ));
        }
        self.dynamic.file = Some(path);
        self.set_dynamic_count();
        log
    }

    /// Changes whenever dynamic metrics are added.
    pub fn names_generation(&self) -> u64 {
        self.dynamic.generation
    }

    fn add_metric(&mut self, d: DynamicMetric, cluster: u32, item: u32) -> usize {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let indom = d
            .indom_serial
            .and_then(|s| catalogue::indoms().find(|i| i.serial == s));
        let metric: &'static Metric = Box::leak(Box::new(Metric {
            name: leak(d.name.clone()),
            cluster,
            item,
            ty: d.ty,
            sem: d.sem,
            units: d.units,
            indom,
            oneline: leak(d.oneline),
            help: leak(d.help),
        }));
        let idx = self.metrics.len();
        self.metrics.push(metric);
        self.values.push(BTreeMap::new());
        self.by_pmid.insert(metric.local_pmid(), idx);
        self.dynamic.by_name.insert(d.name, idx);
        self.dynamic.generation += 1;
        idx
    }

    /// Adds a metric name a source found, within the source's bounds; `new_now` counts the
    /// names this sample added so far.
    fn register_dynamic(
        &mut self,
        src: usize,
        d: DynamicMetric,
        new_now: &mut usize,
        log: &mut Vec<String>,
    ) {
        if self.dynamic.by_name.contains_key(&d.name) {
            return;
        }
        if let Some(limits) = self.sources.get(src).map(|s| s.limits) {
            let st = &mut self.status[src];
            let why = if *new_now >= limits.max_new_names_per_scrape {
                Some(format!(
                    "more than max_new_names_per_scrape = {} new names in one sample",
                    limits.max_new_names_per_scrape
                ))
            } else if st.names_added >= limits.max_names {
                Some(format!(
                    "the source added max_names = {} names already",
                    limits.max_names
                ))
            } else {
                None
            };
            if let Some(why) = why {
                st.refused_names += 1;
                let name = self.sources[src].name.clone();
                self.note(
                    src,
                    log,
                    format!("source {name}: new metric names refused: {why}"),
                );
                return;
            }
        }
        // Not under the root, an empty component, or a leaf that would also be a subtree.
        let is_parent = |a: &str, b: &str| {
            b.len() > a.len() && b.starts_with(a) && b.as_bytes()[a.len()] == b'.'
        };
        let valid = is_parent(catalogue::DYNAMIC_ROOT, &d.name)
            && d.name.split('.').all(|p| !p.is_empty())
            && !self
                .metrics
                .iter()
                .any(|m| is_parent(&d.name, m.name) || is_parent(m.name, &d.name));
        if !valid || self.dynamic.by_name.len() >= catalogue::DYNAMIC_MAX {
            if let Some(st) = self.status.get_mut(src) {
                st.refused_names += 1;
            }
            let shown: String = d.name.chars().take(100).collect();
            self.note(
                src,
                log,
                format!(
                    "dynamic metric {shown} not added (invalid name, or more than {} names)",
                    catalogue::DYNAMIC_MAX
                ),
            );
            return;
        }
        *new_now += 1;
        if let Some(st) = self.status.get_mut(src) {
            st.names_added += 1;
        }
        let index = self.dynamic.next;
        self.dynamic.next += 1;
        let (cluster, item) = (
            catalogue::DYNAMIC_FIRST_CLUSTER + index / 1024,
            index % 1024,
        );
        let line = dynamic_line(cluster, item, &d);
        self.add_metric(d, cluster, item);
        if let Some(path) = &self.dynamic.file {
            use std::io::Write;
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(line.as_bytes()));
            if let Err(e) = written {
                self.note(
                    src,
                    log,
                    format!(
                        "cannot remember dynamic metric names in {}: {e}",
                        path.display()
                    ),
                );
            }
        }
    }

    pub fn metrics(&self) -> &[&'static Metric] {
        &self.metrics
    }

    pub fn index_of(&self, local_pmid: u32) -> Option<usize> {
        self.by_pmid.get(&local_pmid).copied()
    }

    /// The value of metric `index` for instance `inst` (`SINGULAR` for singular metrics).
    pub fn value(&self, index: usize, inst: u32) -> Option<&Atom> {
        self.values.get(index)?.get(&inst)
    }

    pub fn indom(&self, serial: u32) -> Option<&IndomTable> {
        self.indoms.get(&serial)
    }

    pub fn indom_serials(&self) -> impl Iterator<Item = u32> + '_ {
        self.indoms.keys().copied()
    }

    /// Applies one source update; returns lines for the log (rate-limited: a failure that
    /// persists with the same text is logged once, and recovery is logged once).
    pub fn apply(&mut self, update: Update) -> Vec<String> {
        let mut log = Vec::new();
        let src = update.source;
        if self.sources.get(src).is_none_or(|s| s.run != update.run) {
            return log; // from a source since reconfigured or removed
        }
        let name = self
            .sources
            .get(src)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        self.withdraw(src);
        let at = now_secs(update.at);
        self.status[src].attempted(at, update.duration);
        match update.result {
            Ok(snapshot) => {
                if self.status[src].succeeded(at) {
                    self.note(src, &mut log, format!("source {name}: recovered"));
                }
                self.install(src, &name, snapshot, &mut log);
            }
            Err(e) => {
                if self.status[src].failed(at, &e.0) {
                    self.note(src, &mut log, format!("source {name}: {}", e.0));
                }
                // A failed sample withdraws the source's instances along with its values.
                self.replace_instances(src, &name, Vec::new(), &mut log);
            }
        }
        self.set_source_status(src);
        self.set_dynamic_count();
        self.set_log_suppressed();
        log
    }

    /// Puts `info` at `index` (a new source at the end, or a changed one in its old place, so
    /// its instance id stays): its status starts afresh and its old values and instances go.
    pub fn set_source(&mut self, index: usize, info: SourceInfo) {
        let mut log = Vec::new();
        if index < self.sources.len() {
            self.withdraw(index);
            let name = self.sources[index].name.clone();
            self.replace_instances(index, &name, Vec::new(), &mut log);
            self.sources[index] = info;
            self.status[index] = SourceStatus::default();
        } else {
            self.sources.push(info);
            self.status.push(SourceStatus::default());
        }
        let table = self.indoms.entry(cat::SOURCES.serial).or_default();
        table.instances.insert(
            index as u32,
            InstanceEntry {
                name: self.sources[index].name.clone(),
                labels_json: None,
                labels: Vec::new(),
                owner: AGENT,
            },
        );
        table.generation += 1;
        self.set_source_status(index);
    }

    /// Removes the source at `index`: its values, instances and `llm.agent.source.*` instance
    /// go; the index is not reused for another name.
    pub fn remove_source(&mut self, index: usize) {
        let Some(info) = self.sources.get_mut(index) else {
            return;
        };
        info.run = 0;
        let name = info.name.clone();
        let mut log = Vec::new();
        self.withdraw(index);
        self.replace_instances(index, &name, Vec::new(), &mut log);
        if let Some(table) = self.indoms.get_mut(&cat::SOURCES.serial)
            && table.instances.remove(&(index as u32)).is_some()
        {
            table.generation += 1;
        }
        for (i, m) in self.metrics.iter().enumerate() {
            if m.cluster == cat::CLUSTER_SOURCES && m.indom.is_some() {
                self.values[i].remove(&(index as u32));
            }
        }
    }

    /// Whether the source at `index` runs (not removed by a reconfiguration).
    pub fn is_active(&self, index: usize) -> bool {
        self.sources.get(index).is_some_and(|s| s.run != 0)
    }

    /// The sources, by index (removed ones keep their place, with `run` 0).
    pub fn sources(&self) -> &[SourceInfo] {
        &self.sources
    }

    fn withdraw(&mut self, src: usize) {
        for (idx, inst) in self.owned.remove(&src).unwrap_or_default() {
            self.values[idx].remove(&inst);
        }
    }

    /// Replaces the instances `src` contributes to every indom by `groups`. An indom whose
    /// instances did not change keeps its generation, so the PMDA layer does not rebuild its C
    /// table (nor the label JSON) on the fetch that follows every sample.
    fn replace_instances(
        &mut self,
        src: usize,
        name: &str,
        groups: Vec<IndomInstances>,
        log: &mut Vec<String>,
    ) {
        let mut incoming: BTreeMap<u32, Vec<Instance>> = BTreeMap::new();
        for g in groups {
            incoming
                .entry(g.indom_serial)
                .or_default()
                .extend(g.instances);
        }
        for (serial, table) in self.indoms.iter_mut() {
            let new = incoming.remove(serial).unwrap_or_default();
            let owned = table.instances.values().filter(|e| e.owner == src).count();
            let unchanged = owned == new.len()
                && new.iter().all(|i| {
                    table
                        .instances
                        .get(&i.id)
                        .is_some_and(|e| e.owner == src && e.name == i.name && e.labels == i.labels)
                });
            if unchanged {
                continue;
            }
            table.instances.retain(|_, e| e.owner != src);
            for inst in new {
                let entry = InstanceEntry {
                    labels_json: labels_json(&inst.labels),
                    labels: inst.labels,
                    name: inst.name,
                    owner: src,
                };
                table.instances.insert(inst.id, entry);
            }
            table.generation += 1;
        }
        for serial in incoming.keys() {
            self.note(
                src,
                log,
                format!("source {name}: unknown instance domain {serial}"),
            );
        }
    }

    fn install(
        &mut self,
        src: usize,
        name: &str,
        snapshot: crate::sources::Snapshot,
        log: &mut Vec<String>,
    ) {
        if !snapshot.instances_unchanged {
            self.replace_instances(src, name, snapshot.indoms, log);
        }
        if let Some(st) = self.status.get_mut(src) {
            st.refused_series += snapshot.refused_series;
        }
        for note in snapshot.notes {
            self.note(src, log, format!("source {name}: {note}"));
        }
        let mut new_now = 0;
        for d in snapshot.dynamic_metrics {
            self.register_dynamic(src, d, &mut new_now, log);
        }
        let mut values = snapshot.values;
        for (name, inst, value) in snapshot.dynamic_values {
            if let Some(&idx) = self.dynamic.by_name.get(&name) {
                let m = self.metrics[idx];
                values.push((MetricId::new(m.cluster, m.item), inst, value));
            }
        }
        let mut owned = Vec::with_capacity(values.len());
        for (MetricId { cluster, item }, inst, value) in values {
            let local = ((cluster & 0xfff) << 10) | (item & 0x3ff);
            let Some(&idx) = self.by_pmid.get(&local) else {
                self.note(
                    src,
                    log,
                    format!("source {name}: no catalogued metric at cluster {cluster} item {item}"),
                );
                continue;
            };
            let metric = self.metrics[idx];
            let Some(stored) = to_stored(metric.ty, value) else {
                self.note(
                    src,
                    log,
                    format!("source {name}: value of the wrong type for {}", metric.name),
                );
                continue;
            };
            if (metric.indom.is_none()) != (inst == SINGULAR) {
                self.note(
                    src,
                    log,
                    format!("source {name}: wrong instance {inst} for {}", metric.name),
                );
                continue;
            }
            self.values[idx].insert(inst, stored);
            owned.push((idx, inst));
        }
        self.owned.insert(src, owned);
    }

    fn set(&mut self, cluster: u32, item: u32, inst: u32, v: Atom) {
        if let Some(&idx) = self
            .by_pmid
            .get(&(((cluster & 0xfff) << 10) | (item & 0x3ff)))
        {
            self.values[idx].insert(inst, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::{IndomInstances, Instance, Snapshot};

    pub(super) fn store() -> Store {
        let info = vec![SourceInfo {
            name: "test".into(),
            interval: Duration::from_secs(1),
            limits: Default::default(),
            run: 1,
        }];
        Store::new(
            info,
            ConfigStatus {
                file: "x.conf".into(),
                ..Default::default()
            },
        )
    }
    pub(super) fn idx(s: &Store, name: &str) -> usize {
        s.index_of(catalogue::find(name).unwrap().local_pmid())
            .unwrap()
    }
    pub(super) fn ok(snapshot: Snapshot) -> Update {
        Update {
            source: 0,
            run: 1,
            at: SystemTime::now(),
            duration: Duration::from_millis(3),
            result: Ok(snapshot),
        }
    }

    #[test]
    fn dynamic_metrics_get_stable_pmids_and_are_remembered() {
        let dir = std::env::temp_dir().join(format!("store-dyn-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let desc = |n: &str| DynamicMetric {
            name: catalogue::dynamic_name("vllm", n),
            ty: Type::Double,
            sem: catalogue::Semantics::Counter,
            units: pcp::Units::COUNT,
            indom_serial: Some(0),
            oneline: "from vLLM".into(),
            help: "a\tb".into(),
        };
        let mut s = store();
        assert!(s.load_dynamic(dir.clone()).is_empty());
        let snap = Snapshot {
            dynamic_metrics: vec![desc("vllm:a_total"), desc("vllm:b")],
            dynamic_values: vec![("llm.other.vllm.vllm.b".into(), 3, Value::F64(2.5))],
            ..Default::default()
        };
        let before = s.names_generation();
        assert!(s.apply(ok(snap.clone())).is_empty());
        assert!(s.names_generation() > before);
        let b = s
            .metrics()
            .iter()
            .position(|m| m.name == "llm.other.vllm.vllm.b")
            .unwrap();
        assert!(matches!(s.value(b, 3), Some(Atom::F64(v)) if *v == 2.5));
        assert_eq!(
            (s.metrics()[b].cluster, s.metrics()[b].item),
            (catalogue::DYNAMIC_FIRST_CLUSTER, 1)
        );
        let generation = s.names_generation();
        s.apply(ok(snap));
        assert_eq!(
            s.names_generation(),
            generation,
            "known names are not added again"
        );

        // A restart: the names and PMIDs come back before any sample.
        let mut again = store();
        assert_eq!(again.load_dynamic(dir.clone()).len(), 1);
        let b2 = again
            .metrics()
            .iter()
            .position(|m| m.name == "llm.other.vllm.vllm.b")
            .unwrap();
        assert_eq!(
            again.metrics()[b2].local_pmid(),
            s.metrics()[b].local_pmid()
        );
        assert_eq!(again.metrics()[b2].sem, catalogue::Semantics::Counter);
        assert!(again.value(b2, 3).is_none(), "no value before a sample");
        let _ = std::fs::remove_file(&dir);
    }

    #[test]
    fn an_unchanged_instance_set_keeps_its_generation() {
        let mut s = store();
        let snap = |labels: &str| Snapshot {
            indoms: vec![IndomInstances {
                indom_serial: 0,
                instances: vec![Instance {
                    id: 9,
                    name: "x".into(),
                    labels: vec![("k".into(), labels.into())],
                }],
            }],
            ..Default::default()
        };
        s.apply(ok(snap("a")));
        let g = s.indom(0).unwrap().generation;
        s.apply(ok(snap("a")));
        assert_eq!(
            s.indom(0).unwrap().generation,
            g,
            "same instances: no rebuild"
        );
        s.apply(ok(snap("b")));
        assert!(
            s.indom(0).unwrap().generation > g,
            "changed labels: rebuild"
        );
        assert_eq!(
            s.indom(0).unwrap().instances[&9].labels_json.as_deref(),
            Some(r#"{"k":"b"}"#)
        );
        let g = s.indom(0).unwrap().generation;
        s.apply(ok(Snapshot::default()));
        assert!(s.indom(0).unwrap().generation > g);
        assert!(
            !s.indom(0).unwrap().instances.contains_key(&9),
            "instances not reported are removed"
        );
    }

    #[test]
    fn wrong_types_and_unknown_metrics_are_dropped_with_a_warning() {
        let mut s = store();
        let mut snap = Snapshot::default();
        snap.put_singular(
            MetricId::new(cat::CLUSTER_AGENT, cat::ITEM_UPTIME),
            Value::Str("x".into()),
        );
        snap.put_singular(MetricId::new(4000, 1), Value::U32(1));
        let log = s.apply(ok(snap));
        assert_eq!(log.len(), 2, "{log:?}");
        assert!(log[0].contains("wrong type for llm.agent.uptime"));
    }

    fn dyn_desc(n: usize) -> DynamicMetric {
        DynamicMetric {
            name: catalogue::dynamic_name("vllm", &format!("vllm:invented_{n}")),
            ty: Type::Double,
            sem: catalogue::Semantics::Instant,
            units: pcp::Units::NONE,
            indom_serial: Some(0),
            oneline: "x".into(),
            help: "x".into(),
        }
    }

    #[test]
    fn new_names_are_bounded_per_sample_and_per_source_and_refusals_counted() {
        let info = vec![SourceInfo {
            name: "inventive".into(),
            interval: Duration::from_secs(1),
            limits: crate::config::Limits {
                max_new_names_per_scrape: 10,
                max_names: 25,
                ..Default::default()
            },
            run: 1,
        }];
        let mut s = Store::new(info, ConfigStatus::default());
        let refused = idx(&s, "llm.agent.source.refused_names");
        let mut n = 0;
        for round in 0..5 {
            let snap = Snapshot {
                dynamic_metrics: (n..n + 40).map(dyn_desc).collect(),
                ..Default::default()
            };
            n += 40;
            s.apply(ok(snap));
            let added = s.dynamic.by_name.len();
            assert_eq!(added, (10 * (round + 1)).min(25), "round {round}");
        }
        // 5 samples of 40 new names: 25 admitted, 175 refused.
        assert!(matches!(s.value(refused, 0), Some(Atom::U64(175))));
    }
}
