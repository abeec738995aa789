//! Writes interpreted benchmarks into a PCP archive through libpcp_import.
//!
//! Per benchmark (in time order): the summary values at `start_time`, the interval samples,
//! the summary values again at `end_time` (as upstream writes them); the caller puts a `<mark>`
//! between two runs. Metrics are registered on first use, so the archive holds exactly the
//! metrics that have values. The archive is written under a temporary name in the output
//! directory and renamed into place at the end.

use super::catalogue::{self as cat, Family, MetricDef};
use super::model::{self, Benchmark};
use pcp::Value;
use pcp::ffi;
use pcp::import::{Archive, ImportError, LabelTarget};
use pcp::logger_archive::LoggerIdentity;
use std::collections::{BTreeMap, HashMap};

/// What the writer needs to know about each input file.
#[derive(Debug, Clone)]
pub struct InputInfo {
    pub name: String,
    pub shape: model::Shape,
    pub guidellm_version: Option<String>,
    pub user_labels: Vec<(String, String)>,
}

/// One instance of the benchmark indom.
#[derive(Debug, Clone)]
pub struct Instance {
    pub id: i32,
    pub name: String,
}

/// Figures for the summary line.
#[derive(Debug, Default)]
pub struct Stats {
    pub benchmarks: usize,
    pub runs: usize,
    pub records_in: u64,
    pub writes: u64,
    pub values: u64,
    pub metrics: usize,
    pub first: f64,
    pub last: f64,
}

/// Stable instance ids and names: runs numbered in time order (r), id = r*1000 + n,
/// name `"<n> <strategy>"` for the first run, `"<r>.<n> <strategy>"` after, where n is the
/// benchmark's `run_index`, or its position in the file when a run repeats a run_index.
pub fn instances(benches: &[Benchmark]) -> Result<Vec<Instance>, (usize, String)> {
    let mut runs: Vec<(usize, String)> = Vec::new();
    let run_of: Vec<usize> = benches
        .iter()
        .map(|b| {
            let key = (b.file, b.run_id.clone());
            match runs.iter().position(|k| *k == key) {
                Some(r) => r,
                None => {
                    runs.push(key);
                    runs.len() - 1
                }
            }
        })
        .collect();
    let mut by_index = vec![false; runs.len()];
    for (r, flag) in by_index.iter_mut().enumerate() {
        let mut seen = std::collections::HashSet::new();
        *flag = benches
            .iter()
            .zip(&run_of)
            .filter(|(_, rr)| **rr == r)
            .any(|(b, _)| !seen.insert(b.run_index));
    }
    let mut out = Vec::with_capacity(benches.len());
    for (i, b) in benches.iter().enumerate() {
        let r = run_of[i];
        let n = if by_index[r] {
            b.index as u64
        } else {
            b.run_index
        };
        if n >= 1000 || r >= 2_000_000 {
            return Err((
                i,
                format!("benchmark index {n} out of range (at most 999 per run)"),
            ));
        }
        let id = (r as i32) * 1000 + n as i32;
        let last_turn = b.turns.iter().map(|t| t.index).max();
        let warnings = b.warnings.as_ref().map_or(0, Vec::len) as u64;
        for (what, last) in [
            ("turn_index", last_turn),
            ("warning", warnings.checked_sub(1)),
        ] {
            if let Some(k) = last
                && cat::sub_instance_id(id, k).is_none()
            {
                return Err((
                    i,
                    format!(
                        "{what} {k} of run {r} has no instance id (at most {} per benchmark, {} runs)",
                        cat::SUB_INSTANCES,
                        i32::MAX as i64 / cat::SUB_INSTANCES / 1000
                    ),
                ));
            }
        }
        let name = if r == 0 {
            format!("{n} {}", b.strategy)
        } else {
            format!("{r}.{n} {}", b.strategy)
        };
        out.push(Instance { id, name });
    }
    Ok(out)
}

/// A turn's or warning's instance id; [`instances`] has checked that it fits.
fn sub_id(bench: &Instance, index: u64) -> i32 {
    cat::sub_instance_id(bench.id, index).expect("sub-instance ids checked by instances()")
}

/// `0 concurrent@2` + `turn1` -> `0/turn1 concurrent@2`. PCP needs instance names that differ
/// before their first space, so the part goes there.
fn sub_instance_name(bench: &Instance, part: &str) -> String {
    match bench.name.split_once(' ') {
        Some((number, strategy)) => format!("{number}/{part} {strategy}"),
        None => format!("{}/{part}", bench.name),
    }
}

/// A warning's name within its benchmark: its code, with `#<n>` when the code repeats.
fn warning_name(b: &Benchmark, k: usize) -> String {
    let list = b.warnings.as_deref().unwrap_or_default();
    let code = &list[k].code;
    let before = list[..k].iter().filter(|w| w.code == *code).count();
    if before == 0 {
        code.clone()
    } else {
        format!("{code}#{}", before + 1)
    }
}

fn dist_value(stat: u8, v: f64) -> Value {
    if stat as usize == cat::STAT_COUNT {
        Value::U64(v as u64)
    } else {
        Value::F64(v)
    }
}

pub struct Writer<'a> {
    ar: Archive,
    families: &'a [Family],
    /// pmid -> (metric name, indom), of every metric added to the archive
    registered: HashMap<u32, (String, u32)>,
    /// (indom, instance id) -> name
    inst_names: HashMap<(u32, i32), String>,
    /// The values of the next record; `None`: the metric without values.
    pending: Vec<(u32, i32, Option<Value>)>,
    stats: Stats,
    last_usec: i64,
}

fn usec(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

impl<'a> Writer<'a> {
    pub fn new(ar: Archive, families: &'a [Family]) -> Self {
        Writer {
            ar,
            families,
            registered: HashMap::new(),
            inst_names: HashMap::new(),
            pending: Vec::new(),
            stats: Stats::default(),
            last_usec: i64::MIN,
        }
    }

    fn register(&mut self, def: &MetricDef) -> Result<(), ImportError> {
        if self.registered.contains_key(&def.pmid) {
            return Ok(());
        }
        self.ar.add_metric(
            &def.name,
            def.pmid,
            def.ty,
            Some(def.indom),
            def.sem,
            def.units,
        )?;
        self.ar
            .put_text(LabelTarget::Metric(def.pmid), true, &def.help)?;
        self.registered
            .insert(def.pmid, (def.name.clone(), def.indom));
        self.stats.metrics += 1;
        Ok(())
    }

    /// Queue a value for the next record, registering its metric on first use.
    fn put(
        &mut self,
        def: impl FnOnce() -> MetricDef,
        pmid: u32,
        inst: i32,
        value: Value,
    ) -> Result<(), ImportError> {
        if !self.registered.contains_key(&pmid) {
            self.register(&def())?;
        }
        self.stats.values += 1;
        self.pending.push((pmid, inst, Some(value)));
        Ok(())
    }

    fn write_at(&mut self, t: f64) -> Result<(), ImportError> {
        let mut u = usec(t);
        if u <= self.last_usec {
            u = self.last_usec + 1;
        }
        self.last_usec = u;
        let (sec, us) = (u.div_euclid(1_000_000), u.rem_euclid(1_000_000));
        let values = std::mem::take(&mut self.pending);
        if self.stats.writes == 0 {
            // pmiPutResult writes values only: the help text and labels queued so far go
            // out with the first pmiWrite, so the first record takes the handle path.
            for (pmid, inst, v) in &values {
                let Some(v) = v else { continue };
                let (name, indom) = &self.registered[pmid];
                let h = self.ar.handle(name, &self.inst_names[&(*indom, *inst)])?;
                self.ar.put(h, v)?;
            }
            self.ar.write(sec as i32, us as i32)?;
        } else {
            self.ar.put_result(sec, us, &values)?;
        }
        self.stats.writes += 1;
        if self.stats.writes == 1 {
            self.stats.first = u as f64 / 1e6;
        }
        self.stats.last = u as f64 / 1e6;
        Ok(())
    }

    /// Declare the indom, its instances and their labels.
    pub fn declare(
        &mut self,
        benches: &[Benchmark],
        insts: &[Instance],
        inputs: &[InputInfo],
    ) -> Result<(), ImportError> {
        // Register the interval metrics first: libpcp_import looks metrics up linearly (by
        // name in pmiGetHandle, by PMID on every value in pmiWrite), so the 19 values of each
        // of the many interval records are then found at the front of its table. One metric
        // with the indom must exist before instances and indom text/labels anyway.
        for i in 0..cat::INTERVAL.len() {
            self.register(&cat::interval_metric(i))?;
        }
        for i in 0..cat::BENCH.len() {
            self.register(&cat::bench_metric(i))?;
        }
        self.ar.put_text(
            LabelTarget::Indom(cat::indom()),
            true,
            "GuideLLM benchmarks: \"<run_index> <strategy>\" (runs after the first: \"<run>.<run_index> <strategy>\")",
        )?;
        for (b, i) in benches.iter().zip(insts) {
            self.ar.add_instance(cat::indom(), &i.name, i.id)?;
            self.inst_names.insert((cat::indom(), i.id), i.name.clone());
            let input = &inputs[b.file];
            let mut labels: Vec<(String, String)> = vec![
                ("strategy".into(), b.strategy_type.clone()),
                ("benchmark".into(), b.strategy.clone()),
                ("benchmark_id".into(), b.id.clone()),
                ("schema".into(), b.shape.label().into()),
                (
                    "tpot_includes_ttft".into(),
                    b.shape.tpot_includes_ttft().to_string(),
                ),
            ];
            // 0.8.x keeps at most sample_size records per status: the interval series then
            // cover a sample, not every request
            let sampled = (0..3).any(|s| b.totals[s].is_some_and(|t| b.records[s] < t));
            labels.push((
                "records".into(),
                if sampled { "sampled" } else { "all" }.into(),
            ));
            if let Some(x) = b.streams {
                labels.push(("target_concurrency".into(), format!("{x}")));
            }
            if let Some(x) = b.rate {
                labels.push(("target_rate".into(), format!("{x}")));
            }
            if !b.run_id.is_empty() {
                labels.push(("run_id".into(), b.run_id.clone()));
            }
            if let Some(m) = &b.model {
                labels.push(("model".into(), m.clone()));
            }
            if let Some(t) = &b.target {
                labels.push(("target".into(), t.clone()));
            }
            if let Some(v) = &input.guidellm_version {
                labels.push(("guidellm_version".into(), v.clone()));
            }
            if let Some(x) = b.confidence {
                labels.push(("confidence".into(), format!("{x}")));
            }
            if let Some(x) = b.sample_size {
                labels.push(("sample_size".into(), x.to_string()));
            }
            for (k, v) in &input.user_labels {
                let mut name = model::label_name(k);
                if labels.iter().any(|(n, _)| *n == name) {
                    name = format!("user_{name}");
                }
                labels.push((name, v.clone()));
            }
            for (k, v) in labels {
                if v.is_empty() {
                    continue;
                }
                self.ar
                    .put_label(LabelTarget::Instance(cat::indom(), i.id as u32), &k, &v)?;
            }
        }
        // Add every metric that will get a value now, so that all help text is queued before
        // the first record (see write_at); the values queued on the way are discarded.
        for (b, i) in benches.iter().zip(insts) {
            self.put_summary(b, i)?;
        }
        self.pending.clear();
        self.stats.values = 0;
        // the instances of the turn and warning indoms, with their labels
        for (b, i) in benches.iter().zip(insts) {
            self.declare_turns(b, i)?;
            self.declare_warnings(b, i)?;
        }
        if benches.iter().any(|b| !b.turns.is_empty()) {
            self.ar.put_text(
                LabelTarget::Indom(cat::turn_indom()),
                true,
                "GuideLLM conversation turns of each benchmark: \"<benchmark number>/turn<turn_index> <strategy>\"",
            )?;
        }
        if benches
            .iter()
            .any(|b| b.warnings.as_ref().is_some_and(|w| !w.is_empty()))
        {
            self.ar.put_text(
                LabelTarget::Indom(cat::warning_indom()),
                true,
                "GuideLLM warnings of each benchmark: \"<benchmark number>/<code> <strategy>\"",
            )?;
        }
        Ok(())
    }

    /// Add one instance of a turn or warning indom, labelled with its benchmark the way the
    /// benchmark's own instance is (`benchmark`, `benchmark_id`), so the two can be joined.
    fn add_sub_instance(
        &mut self,
        indom: u32,
        (id, name): (i32, String),
        b: &Benchmark,
        labels: &[(&str, String)],
    ) -> Result<(), ImportError> {
        self.ar.add_instance(indom, &name, id)?;
        self.inst_names.insert((indom, id), name);
        let target = LabelTarget::Instance(indom, id as u32);
        self.ar.put_label(target, "benchmark", &b.strategy)?;
        self.ar.put_label(target, "benchmark_id", &b.id)?;
        for (k, v) in labels {
            if !v.is_empty() {
                self.ar.put_label(target, k, v)?;
            }
        }
        Ok(())
    }

    fn declare_turns(&mut self, b: &Benchmark, bench: &Instance) -> Result<(), ImportError> {
        for t in &b.turns {
            let id = sub_id(bench, t.index);
            let name = sub_instance_name(bench, &format!("turn{}", t.index));
            let labels = [("turn_index", t.index.to_string())];
            self.add_sub_instance(cat::turn_indom(), (id, name), b, &labels)?;
        }
        Ok(())
    }

    fn declare_warnings(&mut self, b: &Benchmark, bench: &Instance) -> Result<(), ImportError> {
        for (k, w) in b.warnings.iter().flatten().enumerate() {
            let id = sub_id(bench, k as u64);
            let name = sub_instance_name(bench, &warning_name(b, k));
            let labels = [
                ("code", w.code.clone()),
                ("unit", w.unit.clone().unwrap_or_default()),
            ];
            self.add_sub_instance(cat::warning_indom(), (id, name), b, &labels)?;
        }
        Ok(())
    }

    fn put_summary(&mut self, b: &Benchmark, inst: &Instance) -> Result<(), ImportError> {
        let fams = self.families;
        let mut bench_vals: Vec<(usize, Value)> = vec![
            (0, Value::F64(b.duration)),
            (2, Value::F64(b.start)),
            (3, Value::F64(b.end)),
            (6, Value::U64(b.run_index)),
            (7, Value::Str(b.strategy_type.clone())),
            (15, Value::Str(b.id.clone())),
            (16, Value::U64(b.record_total())),
        ];
        if !b.run_id.is_empty() {
            bench_vals.push((1, Value::Str(b.run_id.clone())));
        }
        for (i, v) in [
            (4, b.warmup),
            (5, b.cooldown),
            (8, b.streams),
            (9, b.rate),
            (10, b.max_concurrency),
        ] {
            if let Some(v) = v {
                bench_vals.push((i, Value::F64(v)));
            }
        }
        for (s, t) in b.totals.iter().enumerate() {
            if let Some(t) = t {
                bench_vals.push((11 + s, Value::U64(*t)));
            }
        }
        if let Some(w) = &b.warnings {
            bench_vals.push((17, Value::U64(w.len() as u64)));
        }
        if let Some(n) = b.slo_determined_requests {
            bench_vals.push((18, Value::U64(n)));
        }
        if let Some(x) = b.dataset_incomplete {
            bench_vals.push((19, Value::U64(x as u64)));
        }
        for (i, v) in bench_vals {
            debug_assert_eq!(v.type_(), cat::BENCH[i].2);
            let pmid = cat::pmid(0, cat::BENCH[i].0);
            self.put(|| cat::bench_metric(i), pmid, inst.id, v)?;
        }
        for (s, t) in b.requests_made.iter().enumerate() {
            if let Some(t) = t {
                let pmid = cat::pmid(1, s as u32);
                self.put(
                    || cat::requests_made_metric(s),
                    pmid,
                    inst.id,
                    Value::U64(*t),
                )?;
            }
        }
        for &(i, v) in &b.run_stats {
            let pmid = cat::pmid(1, 4 + i as u32);
            self.put(|| cat::run_stat_metric(i), pmid, inst.id, Value::F64(v))?;
        }
        for &(fi, status, stat, v) in &b.dists {
            let f = &fams[fi as usize];
            let pmid = cat::pmid(f.cluster, cat::stat_item(status as usize, stat as usize));
            let metric = || cat::family_metric(f, status as usize, stat as usize);
            self.put(metric, pmid, inst.id, dist_value(stat, v))?;
        }
        for t in &b.turns {
            let id = sub_id(inst, t.index);
            for (s, n) in t.totals.iter().enumerate() {
                if let Some(n) = n {
                    let pmid = cat::pmid(3, s as u32);
                    self.put(|| cat::turn_totals_metric(s), pmid, id, Value::U64(*n))?;
                }
            }
            for &(fi, status, stat, v) in &t.dists {
                let f = &fams[fi as usize];
                let cluster = f.cluster + cat::TURN_CLUSTER_OFFSET;
                let pmid = cat::pmid(cluster, cat::stat_item(status as usize, stat as usize));
                let metric = || cat::turn_family_metric(f, status as usize, stat as usize);
                self.put(metric, pmid, id, dist_value(stat, v))?;
            }
        }
        for (k, w) in b.warnings.iter().flatten().enumerate() {
            let id = sub_id(inst, k as u64);
            let values = [
                (0, w.observed.map(Value::F64)),
                (1, w.threshold.map(Value::F64)),
                (2, w.sample_count.map(Value::U64)),
                (3, w.message.clone().map(Value::Str)),
            ];
            for (i, v) in values {
                if let Some(v) = v {
                    let pmid = cat::pmid(4, cat::WARNING[i].0);
                    self.put(|| cat::warning_metric(i), pmid, id, v)?;
                }
            }
        }
        Ok(())
    }

    /// Write one benchmark: summary at start, samples, summary at end.
    pub fn benchmark(&mut self, b: &Benchmark, inst: &Instance) -> Result<(), ImportError> {
        // timestamp -> (summary?, sample index)
        let mut plan: BTreeMap<i64, (bool, Option<usize>)> = BTreeMap::new();
        plan.insert(usec(b.start), (true, None));
        for (k, s) in b.samples.iter().enumerate() {
            plan.entry(usec(s.t)).or_insert((false, None)).1 = Some(k);
        }
        plan.entry(usec(b.end)).or_insert((false, None)).0 = true;
        for (u, (summary, sample)) in plan {
            if summary {
                self.put_summary(b, inst)?;
            }
            if let Some(k) = sample {
                for (i, v) in b.samples[k].values() {
                    let pmid = cat::pmid(2, cat::INTERVAL[i].0);
                    self.put(|| cat::interval_metric(i), pmid, inst.id, v)?;
                }
            }
            self.write_at(u as f64 / 1e6)?;
        }
        self.stats.benchmarks += 1;
        self.stats.records_in += b.record_total();
        Ok(())
    }

    /// End with pmlogger's epilogue record for `id` (its pmcd's identity, and its
    /// `pmcd.pmlogger.*` metrics without values), 1 µs after the last record, so that
    /// pmlogextract(1) merges this archive into that pmlogger archive without a `<mark>`.
    pub fn epilogue(&mut self, id: &LoggerIdentity) -> Result<(), ImportError> {
        let mut values = Vec::new();
        for (k, (name, d)) in id.descs.iter().enumerate() {
            self.ar.add_metric_desc(name, d)?;
            let v = match k {
                3 | 4 => {
                    let x = if k == 3 { id.pid } else { id.seqnum as u64 };
                    Some(match d.type_ {
                        ffi::PM_TYPE_U64 | ffi::PM_TYPE_64 => Value::U64(x),
                        _ => Value::U32(x as u32),
                    })
                }
                _ => None,
            };
            values.push((d.pmid, ffi::PM_IN_NULL as i32, v));
        }
        let u = self.last_usec + 1;
        self.ar
            .put_result(u.div_euclid(1_000_000), u.rem_euclid(1_000_000), &values)?;
        self.last_usec = u;
        self.stats.writes += 1;
        Ok(())
    }

    pub fn mark(&mut self) -> Result<(), ImportError> {
        self.ar.put_mark()
    }

    pub fn finish(self) -> Result<Stats, ImportError> {
        let stats = self.stats;
        self.ar.finish()?;
        Ok(stats)
    }
}
