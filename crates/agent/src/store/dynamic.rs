//! The dynamic-name registry: metrics the catalogue does not know, found at run time under
//! `llm.other` (see `catalogue::DYNAMIC_ROOT`), with the file that remembers them across
//! restarts so that each keeps its PMID.
//!
//! The registry owns what it found (names and help text); the store lends them out as
//! [`MetricView`]s, so nothing is leaked and dropping the store frees them. A name is added
//! once: a source that reports it again, or the file read again, adds nothing.
//!
//! File format: one line per metric, nine tab-separated fields,
//! `cluster item name type semantics units indom oneline help`, where `units` is PCP's
//! `pmUnits` bit pattern in hex (`0x...`), `indom` is a catalogued serial or `-` for a singular
//! metric, and tabs and newlines in the help texts are written as spaces. Lines are appended as
//! names are found; a line that does not parse is skipped with a log line.

use super::{MetricView, Store};
use crate::catalogue::{self, Indom, Semantics, Type};
use crate::sources::DynamicMetric;
use pcp::Units;
use std::collections::HashMap;
use std::path::PathBuf;

/// The registry of names found at run time.
#[derive(Default)]
pub(super) struct Dynamic {
    /// The store's metric index of each name.
    pub(super) by_name: HashMap<String, usize>,
    /// The metrics found, in the order they were added: the store's metric index of
    /// `found[i]` is the catalogue's length plus `i`.
    found: Vec<Found>,
    /// Where names are remembered across restarts (one tab-separated line per metric).
    file: Option<PathBuf>,
    /// The next free dynamic PMID, counted from the first dynamic cluster's item 0.
    next: u32,
    /// Changes whenever a name is added, so the PMDA layer rehashes its tables.
    generation: u64,
}

/// One metric found at run time, owned by the registry.
struct Found {
    name: Box<str>,
    cluster: u32,
    item: u32,
    ty: Type,
    sem: Semantics,
    units: Units,
    indom: Option<&'static Indom>,
    oneline: Box<str>,
    help: Box<str>,
}

impl Dynamic {
    /// The metric at position `i` of the registry.
    pub(super) fn get(&self, i: usize) -> Option<MetricView<'_>> {
        let f = self.found.get(i)?;
        Some(MetricView {
            name: &f.name,
            cluster: f.cluster,
            item: f.item,
            ty: f.ty,
            sem: f.sem,
            units: f.units,
            indom: f.indom,
            oneline: &f.oneline,
            help: &f.help,
        })
    }

    pub(super) fn len(&self) -> usize {
        self.found.len()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = MetricView<'_>> + '_ {
        (0..self.found.len()).filter_map(|i| self.get(i))
    }
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

/// PMID without the domain, as `PMDA_PMID(cluster, item)` builds it.
fn local_pmid(cluster: u32, item: u32) -> u32 {
    pcp::pmid(0, cluster, item)
}

impl Store {
    /// Loads the dynamic metrics an earlier run found, so their names exist from the start;
    /// new ones will be appended to `path`. Returns lines for the log. Names already known
    /// (the same file read again) are not added a second time.
    pub fn load_dynamic(&mut self, path: PathBuf) -> Vec<String> {
        let mut log = Vec::new();
        if let Ok(text) = std::fs::read_to_string(&path) {
            for (n, line) in text.lines().enumerate() {
                let Some((cluster, item, desc)) = parse_dynamic_line(line) else {
                    log.push(format!(
                        "{}:{}: ignored malformed line",
                        path.display(),
                        n + 1
                    ));
                    continue;
                };
                let by_name = self.dynamic.by_name.get(&desc.name);
                let by_pmid = self.by_pmid.get(&local_pmid(cluster, item));
                match (by_name, by_pmid) {
                    (None, None) => {
                        let index = (cluster - catalogue::DYNAMIC_FIRST_CLUSTER) * 1024 + item;
                        self.dynamic.next = self.dynamic.next.max(index + 1);
                        self.add_metric(desc, cluster, item);
                    }
                    // Known already, with this PMID: read before.
                    (Some(a), Some(b)) if a == b => {}
                    _ => log.push(format!(
                        "{}:{}: ignored line: its name or PMID belongs to another metric",
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

    /// The store's index of the dynamic metric called `name`.
    pub(super) fn dynamic_index(&self, name: &str) -> Option<usize> {
        self.dynamic.by_name.get(name).copied()
    }

    fn add_metric(&mut self, d: DynamicMetric, cluster: u32, item: u32) -> usize {
        let indom = d
            .indom_serial
            .and_then(|s| catalogue::indoms().find(|i| i.serial == s));
        let idx = self.catalogue.len() + self.dynamic.found.len();
        self.dynamic.found.push(Found {
            name: d.name.as_str().into(),
            cluster,
            item,
            ty: d.ty,
            sem: d.sem,
            units: d.units,
            indom,
            oneline: d.oneline.into_boxed_str(),
            help: d.help.into_boxed_str(),
        });
        self.values.push(Default::default());
        self.by_pmid.insert(local_pmid(cluster, item), idx);
        self.dynamic.by_name.insert(d.name, idx);
        self.dynamic.generation += 1;
        idx
    }

    /// Adds a metric name a source found, within the source's bounds; `new_now` counts the
    /// names this sample added so far.
    pub(super) fn register_dynamic(
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
                .metrics()
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
}

#[cfg(test)]
mod tests {
    use crate::catalogue::{self, Type};
    use crate::config::Limits;
    use crate::sources::scheduler::SourceInfo;
    use crate::sources::{DynamicMetric, Snapshot, Value};
    use crate::store::tests::{idx, ok, store};
    use crate::store::{Atom, ConfigStatus, Store};
    use std::time::Duration;

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
            .position(|m| m.name == "llm.other.vllm.vllm.b")
            .unwrap();
        assert!(matches!(s.value(b, 3), Some(Atom::F64(v)) if *v == 2.5));
        assert_eq!(
            (s.metric(b).unwrap().cluster, s.metric(b).unwrap().item),
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
            .position(|m| m.name == "llm.other.vllm.vllm.b")
            .unwrap();
        assert_eq!(
            again.metric(b2).unwrap().local_pmid(),
            s.metric(b).unwrap().local_pmid()
        );
        assert_eq!(again.metric(b2).unwrap().sem, catalogue::Semantics::Counter);
        assert!(again.value(b2, 3).is_none(), "no value before a sample");
        let _ = std::fs::remove_file(&dir);
    }

    /// A file an earlier version wrote, byte for byte: it still loads, with its PMIDs, types,
    /// units, instance domains and help, and the next new name follows the highest PMID.
    #[test]
    fn files_written_before_load_unchanged() {
        let path = std::env::temp_dir().join(format!("store-dyn-old-{}", std::process::id()));
        let text = "3000\t0\tllm.other.vllm.vllm.a_total\tdouble\tcounter\t0x100000\t0\tfrom vLLM\ta b\n\
                    3000\t5\tllm.other.vllm.vllm.lone\tu64\tinstant\t0x0\t-\tx\ty\n";
        std::fs::write(&path, text).unwrap();
        let mut s = store();
        let log = s.load_dynamic(path.clone());
        assert_eq!(log.len(), 1, "{log:?}");
        let a = s
            .metrics()
            .find(|m| m.name == "llm.other.vllm.vllm.a_total")
            .unwrap();
        assert_eq!((a.cluster, a.item), (3000, 0));
        assert_eq!(a.ty, Type::Double);
        assert_eq!(a.sem, catalogue::Semantics::Counter);
        assert_eq!(a.units, pcp::Units::COUNT);
        assert_eq!(a.indom.map(|i| i.serial), Some(0));
        assert_eq!((a.oneline, a.help), ("from vLLM", "a b"));
        let lone = s
            .metrics()
            .find(|m| m.name == "llm.other.vllm.vllm.lone")
            .unwrap();
        assert!(lone.indom.is_none());
        assert_eq!(lone.ty, Type::U64);
        s.apply(ok(Snapshot {
            dynamic_metrics: vec![DynamicMetric {
                name: "llm.other.vllm.vllm.new".into(),
                ty: Type::Double,
                sem: catalogue::Semantics::Instant,
                units: pcp::Units::NONE,
                indom_serial: Some(0),
                oneline: "o".into(),
                help: "h\tx".into(),
            }],
            ..Default::default()
        }));
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            written.strip_prefix(text),
            Some("3000\t6\tllm.other.vllm.vllm.new\tdouble\tinstant\t0x0\t0\to\th x\n")
        );
        let _ = std::fs::remove_file(&path);
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
            limits: Limits {
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

    /// What the registry owns grows with the distinct names only: names reported again by a
    /// source, or the file read again, add no entry, no value table and no line to the file.
    /// (That the memory goes when the store is dropped is Rust's ownership: the registry
    /// holds its strings itself, nothing is leaked.)
    #[test]
    fn names_reported_or_loaded_again_take_no_more_memory() {
        let path = std::env::temp_dir().join(format!("store-dyn-again-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut s = store();
        s.load_dynamic(path.clone());
        let catalogued = s.metric_count();
        let snap = || Snapshot {
            dynamic_metrics: (0..50).map(dyn_desc).collect(),
            dynamic_values: vec![(dyn_desc(3).name, 0, Value::F64(1.0))],
            ..Default::default()
        };
        for _ in 0..1000 {
            s.apply(ok(snap()));
        }
        let lines = |p: &std::path::Path| std::fs::read_to_string(p).unwrap().lines().count();
        let owned = |s: &Store| (s.dynamic.len(), s.dynamic.by_name.len(), s.values.len());
        assert_eq!(owned(&s), (50, 50, catalogued + 50));
        assert_eq!(lines(&path), 50);
        let generation = s.names_generation();
        for _ in 0..100 {
            s.load_dynamic(path.clone());
        }
        assert_eq!(owned(&s), (50, 50, catalogued + 50));
        assert_eq!(s.metric_count(), catalogued + 50);
        assert_eq!(s.names_generation(), generation, "nothing was added");
        assert_eq!(lines(&path), 50);
        // A restart, many times over: each store holds the 50 names once.
        for _ in 0..100 {
            let mut again = store();
            again.load_dynamic(path.clone());
            again.apply(ok(snap()));
            assert_eq!(owned(&again), (50, 50, catalogued + 50));
        }
        assert_eq!(lines(&path), 50);
        let _ = std::fs::remove_file(&path);
    }

    /// A line whose name or PMID another line of the file already took is skipped (two
    /// metrics with one PMID, or one name twice, would confuse pmcd).
    #[test]
    fn a_line_that_reuses_a_name_or_pmid_is_skipped() {
        let path = std::env::temp_dir().join(format!("store-dyn-dup-{}", std::process::id()));
        let line = |item: u32, name: &str| {
            format!("3000\t{item}\tllm.other.x.{name}\tdouble\tinstant\t0x0\t-\to\th\n")
        };
        let text = [line(0, "a"), line(0, "b"), line(1, "a"), line(2, "c")].concat();
        std::fs::write(&path, text).unwrap();
        let mut s = store();
        let log = s.load_dynamic(path.clone());
        assert_eq!(log.len(), 3, "{log:?}");
        assert!(log[0].ends_with(":2: ignored line: its name or PMID belongs to another metric"));
        assert!(log[1].ends_with(":3: ignored line: its name or PMID belongs to another metric"));
        assert_eq!(s.dynamic.len(), 2);
        let a = s.metrics().find(|m| m.name == "llm.other.x.a").unwrap();
        assert_eq!(a.item, 0);
        let _ = std::fs::remove_file(&path);
    }
}
