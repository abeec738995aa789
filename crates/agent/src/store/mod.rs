//! The snapshot store: the latest values and instances of every source, indexed for the fetch
//! path. Owned by the PCP thread; sources never touch it (they send [`Update`]s).
//!
//! This file holds the values and instance tables and applies updates; the rest of the store's
//! work is one job per file: [`health`] (each source's status, `llm.agent.source.*`),
//! [`dynamic`] (names found at run time under `llm.other` and the file that remembers them),
//! [`own`] (the agent's own `llm.agent.*` metrics) and [`log_budget`] (the rate-limited log).

mod dynamic;
mod health;
mod log_budget;
mod own;

pub use own::ConfigStatus;

use crate::catalogue::{self, Indom, Metric, Semantics, Type, agent as cat};
use crate::fast_hash::FastMap;
use crate::sources::scheduler::{SourceInfo, Update};
use crate::sources::{IndomInstances, Instance, MetricId, SINGULAR, Value};
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

/// A metric as the store lends it out: a catalogue entry, or one found at run time (whose
/// strings the store owns, so the view borrows the store).
#[derive(Debug, Clone, Copy)]
pub struct MetricView<'a> {
    /// Full name, starting with `llm.`.
    pub name: &'a str,
    pub cluster: u32,
    pub item: u32,
    pub ty: Type,
    pub sem: Semantics,
    pub units: pcp::Units,
    pub indom: Option<&'static Indom>,
    pub oneline: &'a str,
    pub help: &'a str,
}

impl MetricView<'_> {
    /// PMID without the domain, as `PMDA_PMID(cluster, item)` builds it.
    pub const fn local_pmid(&self) -> u32 {
        pcp::pmid(0, self.cluster, self.item)
    }
}

impl From<&'static Metric> for MetricView<'static> {
    fn from(m: &'static Metric) -> Self {
        MetricView {
            name: m.name,
            cluster: m.cluster,
            item: m.item,
            ty: m.ty,
            sem: m.sem,
            units: m.units,
            indom: m.indom,
            oneline: m.oneline,
            help: m.help,
        }
    }
}

/// Where a value is: set by the agent itself, or at a position of a source's latest values.
/// A sample with the same (metric, instance) pairs as the one before (nearly all of them)
/// then replaces one vector and touches no map.
#[derive(Debug)]
enum Slot {
    Own(Atom),
    Source(usize, u32),
}

/// A source's latest values, and what each is.
#[derive(Debug, Default)]
struct Latest {
    keys: Vec<Key>,
    atoms: Vec<Atom>,
}

/// One value of a source: which metric and instance, as the source named them and as the
/// store found them.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key {
    id: MetricId,
    inst: u32,
    idx: usize,
    ty: Type,
}

pub struct Store {
    /// The catalogue's metrics: indices `0..catalogue.len()`; the dynamic ones follow.
    catalogue: Vec<&'static Metric>,
    by_pmid: FastMap<u32, usize>,
    /// Per metric index: instance id -> where its value is.
    values: Vec<FastMap<u32, Slot>>,
    /// Per source: its latest values, in the order it sent them.
    latest: HashMap<usize, Latest>,
    /// Per source: how many instances it has in each indom (serial -> count).
    instance_counts: HashMap<usize, BTreeMap<u32, usize>>,
    indoms: BTreeMap<u32, IndomTable>,
    sources: Vec<SourceInfo>,
    status: Vec<SourceStatus>,
    config: ConfigStatus,
    started: Instant,
    fetches: u64,
    /// Log budgets by source index (`AGENT` for the agent's own lines).
    budgets: HashMap<usize, LogBudget>,
    log_suppressed: u64,
    dynamic: dynamic::Dynamic,
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
        let catalogue: Vec<&'static Metric> = catalogue::metrics().collect();
        let by_pmid = catalogue
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
        let n = catalogue.len();
        let status = vec![SourceStatus::default(); sources.len()];
        let mut store = Store {
            catalogue,
            by_pmid,
            values: (0..n).map(|_| FastMap::default()).collect(),
            latest: HashMap::new(),
            instance_counts: HashMap::new(),
            indoms,
            sources,
            status,
            config,
            started: Instant::now(),
            fetches: 0,
            budgets: HashMap::new(),
            log_suppressed: 0,
            dynamic: Default::default(),
        };
        store.refresh_agent_metrics();
        store
    }

    /// How many metrics there are: the catalogue's, then those found at run time.
    pub fn metric_count(&self) -> usize {
        self.catalogue.len() + self.dynamic.len()
    }

    /// The metric at `index` (indices only ever grow: names found at run time are appended).
    pub fn metric(&self, index: usize) -> Option<MetricView<'_>> {
        match self.catalogue.get(index) {
            Some(m) => Some(MetricView::from(*m)),
            None => self.dynamic.get(index - self.catalogue.len()),
        }
    }

    /// Every metric, in index order.
    pub fn metrics(&self) -> impl Iterator<Item = MetricView<'_>> + '_ {
        let catalogued = self.catalogue.iter().map(|m| MetricView::from(*m));
        catalogued.chain(self.dynamic.iter())
    }

    pub fn index_of(&self, local_pmid: u32) -> Option<usize> {
        self.by_pmid.get(&local_pmid).copied()
    }

    /// The value of metric `index` for instance `inst` (`SINGULAR` for singular metrics).
    pub fn value(&self, index: usize, inst: u32) -> Option<&Atom> {
        match self.values.get(index)?.get(&inst)? {
            Slot::Own(atom) => Some(atom),
            Slot::Source(src, pos) => self.latest.get(src)?.atoms.get(*pos as usize),
        }
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
                self.withdraw(src);
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
        // Only catalogued metrics: dynamic ones are in clusters of their own.
        for (i, m) in self.catalogue.iter().enumerate() {
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
        let old = self.latest.remove(&src).unwrap_or_default();
        self.unlink(src, &old.keys);
    }

    /// Removes the slots of `keys` that still point at `src`'s values.
    fn unlink(&mut self, src: usize, keys: &[Key]) {
        for k in keys {
            let map = &mut self.values[k.idx];
            if matches!(map.get(&k.inst), Some(Slot::Source(s, _)) if *s == src) {
                map.remove(&k.inst);
            }
        }
    }

    /// Makes `new` the latest values of `src` in place of `old` (already taken out of
    /// `latest`). The slots change only when the (metric, instance) pairs did.
    fn link(&mut self, src: usize, old: Latest, new: Latest) {
        let same = |a: &Key, b: &Key| a.idx == b.idx && a.inst == b.inst;
        let unchanged = old.keys.len() == new.keys.len()
            && old.keys.iter().zip(&new.keys).all(|(a, b)| same(a, b));
        if !unchanged {
            self.unlink(src, &old.keys);
            for (pos, k) in new.keys.iter().enumerate() {
                self.values[k.idx].insert(k.inst, Slot::Source(src, pos as u32));
            }
        }
        self.latest.insert(src, new);
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
        // Only the indoms this source had instances in or brings some to: scanning every
        // indom (thousands of histogram buckets of other endpoints) cost each GPU sample more
        // than the sample itself.
        let counts = self.instance_counts.entry(src).or_default();
        let mut serials: Vec<u32> = counts.keys().copied().collect();
        serials.extend(incoming.keys().copied().filter(|s| !counts.contains_key(s)));
        for serial in serials {
            let Some(table) = self.indoms.get_mut(&serial) else {
                continue; // reported below
            };
            let new = incoming.remove(&serial).unwrap_or_default();
            // The count may be high if another source took over an id: then some instance
            // below is not this source's, and the indom is rebuilt (and counted again).
            let owned = counts.get(&serial).copied().unwrap_or(0);
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
            match table.instances.values().filter(|e| e.owner == src).count() {
                0 => counts.remove(&serial),
                n => counts.insert(serial, n),
            };
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
            if let Some(m) = self.dynamic_index(&name).and_then(|i| self.metric(i)) {
                values.push((MetricId::new(m.cluster, m.item), inst, value));
            }
        }
        // The previous sample's keys, position by position: a value where the source sent the
        // same metric and instance as last time needs neither a lookup nor a check again.
        let old = self.latest.remove(&src).unwrap_or_default();
        let before = &old.keys;
        let mut new = Latest {
            keys: Vec::with_capacity(values.len()),
            atoms: Vec::with_capacity(values.len()),
        };
        for (id, inst, value) in values {
            let key = match before.get(new.keys.len()) {
                Some(k) if k.id == id && k.inst == inst => *k,
                _ => match self.check(src, name, id, inst, log) {
                    Some(k) => k,
                    None => continue,
                },
            };
            let Some(stored) = to_stored(key.ty, value) else {
                let metric = self
                    .metric(key.idx)
                    .map_or(String::new(), |m| m.name.to_string());
                self.note(
                    src,
                    log,
                    format!("source {name}: value of the wrong type for {metric}"),
                );
                continue;
            };
            new.keys.push(key);
            new.atoms.push(stored);
        }
        self.link(src, old, new);
    }

    /// The key of a value a source sends for metric `id`, instance `inst`, if the metric
    /// exists and the instance fits it (else a line for the log says why not).
    fn check(
        &mut self,
        src: usize,
        name: &str,
        id: MetricId,
        inst: u32,
        log: &mut Vec<String>,
    ) -> Option<Key> {
        let MetricId { cluster, item } = id;
        let Some(&idx) = self.by_pmid.get(&pcp::pmid(0, cluster, item)) else {
            self.note(
                src,
                log,
                format!("source {name}: no catalogued metric at cluster {cluster} item {item}"),
            );
            return None;
        };
        let metric = self.metric(idx)?;
        if (metric.indom.is_none()) != (inst == SINGULAR) {
            let metric = metric.name.to_string();
            self.note(
                src,
                log,
                format!("source {name}: wrong instance {inst} for {metric}"),
            );
            return None;
        }
        Some(Key {
            id,
            inst,
            idx,
            ty: metric.ty,
        })
    }

    fn set(&mut self, cluster: u32, item: u32, inst: u32, v: Atom) {
        if let Some(&idx) = self.by_pmid.get(&pcp::pmid(0, cluster, item)) {
            self.values[idx].insert(inst, Slot::Own(v));
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
    fn a_sample_replaces_the_values_of_the_one_before_it() {
        let mut s = store();
        let m = catalogue::find("llm.vllm.kv_cache.usage").unwrap();
        let id = MetricId::new(m.cluster, m.item);
        let snap = |values: &[(u32, f64)]| {
            let mut snap = Snapshot::default();
            for (inst, v) in values {
                snap.put(id, *inst, Value::F64(*v));
            }
            snap
        };
        let i = idx(&s, m.name);
        let value = |s: &Store, inst| match s.value(i, inst) {
            Some(Atom::F64(v)) => Some(*v),
            None => None,
            other => panic!("{other:?}"),
        };
        s.apply(ok(snap(&[(1, 0.5), (2, 0.25)])));
        assert_eq!((value(&s, 1), value(&s, 2)), (Some(0.5), Some(0.25)));
        s.apply(ok(snap(&[(1, 0.75), (2, 0.125)])));
        assert_eq!((value(&s, 1), value(&s, 2)), (Some(0.75), Some(0.125)));
        s.apply(ok(snap(&[(2, 1.0), (3, 0.5)])));
        assert_eq!(
            (value(&s, 1), value(&s, 2), value(&s, 3)),
            (None, Some(1.0), Some(0.5)),
            "a value the new sample does not carry is gone"
        );
        let mut failed = ok(Snapshot::default());
        failed.result = Err(crate::sources::SourceError("down".into()));
        s.apply(failed);
        assert_eq!(
            (value(&s, 2), value(&s, 3)),
            (None, None),
            "a failure withdraws all"
        );
        s.apply(ok(snap(&[(3, 0.0)])));
        assert_eq!((value(&s, 2), value(&s, 3)), (None, Some(0.0)));
    }

    #[test]
    fn sources_sharing_an_indom_keep_their_own_instances() {
        let info = |name: &str| SourceInfo {
            name: name.into(),
            interval: Duration::from_secs(1),
            limits: Default::default(),
            run: 1,
        };
        // The vLLM engines' indom (not the sources' own, whose ids are the source indices).
        let vllm = catalogue::vllm::ENGINE.serial;
        let mut s = Store::new(vec![info("a"), info("b")], ConfigStatus::default());
        let snap = |ids: &[u32]| Snapshot {
            indoms: vec![IndomInstances {
                indom_serial: vllm,
                instances: ids
                    .iter()
                    .map(|id| Instance {
                        id: *id,
                        name: format!("i{id}"),
                        labels: Vec::new(),
                    })
                    .collect(),
            }],
            ..Default::default()
        };
        let from = |src: usize, ids: &[u32]| Update {
            source: src,
            ..ok(snap(ids))
        };
        let ids = |s: &Store| -> Vec<(u32, usize)> {
            let t = s.indom(vllm).unwrap();
            t.instances.iter().map(|(id, e)| (*id, e.owner)).collect()
        };
        s.apply(from(0, &[1, 2]));
        s.apply(from(1, &[3]));
        assert_eq!(ids(&s), [(1, 0), (2, 0), (3, 1)]);
        let g = s.indom(vllm).unwrap().generation;
        s.apply(from(1, &[3]));
        s.apply(from(0, &[1, 2]));
        assert_eq!(s.indom(vllm).unwrap().generation, g, "nothing changed");
        // b takes over id 2, then a reports it again: a's again, and the indom changed.
        s.apply(from(1, &[2, 3]));
        assert_eq!(ids(&s), [(1, 0), (2, 1), (3, 1)]);
        let g = s.indom(vllm).unwrap().generation;
        s.apply(from(0, &[1, 2]));
        assert_eq!(ids(&s), [(1, 0), (2, 0), (3, 1)]);
        assert!(s.indom(vllm).unwrap().generation > g);
        // a reports fewer: only its own go.
        s.apply(from(0, &[1]));
        assert_eq!(ids(&s), [(1, 0), (3, 1)]);
        s.apply(from(0, &[]));
        s.apply(from(1, &[]));
        assert_eq!(ids(&s), []);
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
}
