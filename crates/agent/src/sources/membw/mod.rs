//! The membw source: CPU memory bandwidth per socket and host PCIe bandwidth per root bus from
//! the processor's uncore PMUs through `perf_event_open`, and resctrl's memory bandwidth
//! monitoring. Metrics: `crates/agent/src/catalogue/membw.rs`; facts and privileges: docs/membw.md.
//!
//! - `discovery.rs` reads sysfs and plans the counters (no per-model code where the kernel
//!   names the events);
//! - `perf.rs` opens and reads them (the only `unsafe` of this source);
//! - `resctrl.rs` reads the MBM byte counters;
//! - here: the [`Source`], one refresh per cluster. Counters are opened when the source is
//!   created, which the agent does before it drops root, so they keep counting as user pcp.

pub mod config;
pub mod discovery;
use llm_sys::perf;
pub mod resctrl;

use super::scheduler::Scheduled;
use super::{IndomInstances, Instance, MetricId, Snapshot, Source, SourceError, Value};
use crate::catalogue::membw as cat;
use config::MembwConfig;
use discovery::{Kind, Plan};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A byte rate above this (10 TB/s, beyond any socket's memory or PCIe bandwidth) between two
/// reads of one counter is a reset or a wrap the kernel did not hide: the sample is dropped and
/// the counter rebased instead of producing a huge rate.
pub const MAX_BYTES_PER_SEC: f64 = 1e13;

/// The counts to add for one counter after a read: `now - prev`, or 0 when the counter went
/// backwards (a PMU reset) or jumped by an impossible amount (more than [`MAX_BYTES_PER_SEC`]
/// for `elapsed`). The first read only sets the base.
pub fn advance(prev: Option<u64>, now: u64, elapsed: Duration, bytes_per_count: f64) -> u64 {
    let Some(prev) = prev else { return 0 };
    let Some(delta) = now.checked_sub(prev) else {
        return 0;
    };
    let limit = MAX_BYTES_PER_SEC * elapsed.as_secs_f64().max(1e-3);
    if delta as f64 * bytes_per_count > limit {
        0
    } else {
        delta
    }
}

/// Bytes for an accumulated count.
fn to_bytes(counts: u64, bytes_per_count: f64) -> u64 {
    if bytes_per_count.fract() == 0.0 && bytes_per_count >= 1.0 {
        counts.wrapping_mul(bytes_per_count as u64)
    } else {
        (counts as f64 * bytes_per_count) as u64
    }
}

/// One open counter and what has been added up from it.
struct Open {
    kind: Kind,
    /// Socket number (memory) or index into `ports` (PCIe).
    target: u32,
    counter: perf::Counter,
    bytes_per_count: f64,
    prev: Option<u64>,
    counts: u64,
}

/// The source.
pub struct MembwSource {
    interval: Duration,
    sysfs: PathBuf,
    plan: Plan,
    open: Vec<Open>,
    /// Why a socket's memory bandwidth has no value.
    reasons: BTreeMap<u32, String>,
    /// Why a PCIe root bus has no value (open denied).
    port_ok: Vec<bool>,
    last_read: Option<Instant>,
    socket_instances: Vec<Instance>,
    port_instances: Vec<Instance>,
}

impl MembwSource {
    /// Discovers and opens the counters (call while still privileged).
    pub fn new(cfg: &MembwConfig) -> MembwSource {
        let plan = discovery::discover(&cfg.sysfs, &cfg.procfs);
        let paranoid = perf::paranoid_level();
        let mut open = Vec::new();
        let mut reasons = BTreeMap::new();
        let mut port_ok = vec![true; plan.ports.len()];
        for spec in &plan.counters {
            let target = match &spec.port {
                None => spec.socket,
                Some(p) => plan.ports.iter().position(|x| &x.name == p).unwrap_or(0) as u32,
            };
            let e = &spec.encoding;
            match perf::Counter::open(spec.ty, e.config, e.config1, e.config2, spec.cpu) {
                Ok(counter) => open.push(Open {
                    kind: spec.kind,
                    target,
                    counter,
                    bytes_per_count: spec.bytes_per_count,
                    prev: None,
                    counts: 0,
                }),
                Err(err) => {
                    let why = perf::open_error_reason(&spec.pmu, &err, paranoid);
                    match spec.port {
                        None => {
                            reasons.entry(spec.socket).or_insert(why);
                        }
                        Some(_) => port_ok[target as usize] = false,
                    }
                }
            }
        }
        // A socket with one denied counter would report a partial sum: report none.
        open.retain(|o| {
            matches!(o.kind, Kind::PcieIn | Kind::PcieOut) || !reasons.contains_key(&o.target)
        });
        open.retain(|o| is_memory(o.kind) || port_ok[o.target as usize]);
        for s in plan.sockets.keys() {
            if let Some(r) = &plan.reason {
                reasons.entry(*s).or_insert_with(|| r.clone());
            }
            if plan.sockets[s].is_none() && !reasons.contains_key(s) {
                reasons.insert(
                    *s,
                    format!(
                        "no memory bandwidth counter has this socket in its cpumask ({})",
                        cfg.sysfs.display()
                    ),
                );
            }
        }
        let socket_instances = plan
            .sockets
            .keys()
            .map(|s| Instance {
                id: *s,
                name: format!("socket{s}"),
                labels: vec![("socket".into(), s.to_string())],
            })
            .collect();
        let port_instances = plan
            .ports
            .iter()
            .map(|p| Instance {
                id: super::stable_instance_id(&p.name),
                name: p.name.clone(),
                labels: p.labels.clone(),
            })
            .collect();
        MembwSource {
            interval: cfg.interval.0,
            sysfs: cfg.sysfs.clone(),
            plan,
            open,
            reasons,
            port_ok,
            last_read: None,
            socket_instances,
            port_instances,
        }
    }

    pub fn scheduled(cfg: &MembwConfig) -> Scheduled {
        Scheduled::new(Box::new(MembwSource::new(cfg)))
    }

    /// What discovery found.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Number of counters open.
    pub fn open_counters(&self) -> usize {
        self.open.len()
    }

    /// Why the socket has no memory bandwidth values, if it has none.
    pub fn reason(&self, socket: u32) -> Option<&str> {
        self.reasons.get(&socket).map(String::as_str)
    }

    /// Reads every open counter once (one `read()` each, no allocation) and adds up deltas.
    pub fn read_counters(&mut self) -> Result<(), SourceError> {
        let now = Instant::now();
        let elapsed = self.last_read.map_or(Duration::ZERO, |t| now - t);
        self.last_read = Some(now);
        for o in &mut self.open {
            let r = o
                .counter
                .read()
                .map_err(|e| SourceError(format!("reading a {:?} counter: {e}", o.kind)))?;
            let Some(v) = r.scaled() else { continue };
            o.counts = o
                .counts
                .wrapping_add(advance(o.prev, v, elapsed, o.bytes_per_count));
            o.prev = Some(v);
        }
        Ok(())
    }

    fn bytes(&self, kind: Kind, target: u32) -> Option<u64> {
        let mut any = false;
        let mut sum = 0u64;
        for o in self
            .open
            .iter()
            .filter(|o| o.kind == kind && o.target == target)
        {
            any = true;
            sum = sum.wrapping_add(to_bytes(o.counts, o.bytes_per_count));
        }
        any.then_some(sum)
    }

    fn refresh_memory(&self, snap: &mut Snapshot) {
        let id = |item| MetricId::new(cat::CLUSTER_MEMORY, item);
        for (s, method) in &self.plan.sockets {
            let reason = self.reasons.get(s);
            let m = match (method, reason) {
                (Some(m), None) => m.clone(),
                _ => "none".to_string(),
            };
            snap.put(id(cat::M_METHOD), *s, Value::Str(m));
            if let Some(r) = reason {
                snap.put(id(cat::M_REASON), *s, Value::Str(r.clone()));
            }
            let n = self
                .open
                .iter()
                .filter(|o| o.target == *s && is_memory(o.kind))
                .count();
            snap.put(id(cat::M_COUNTERS), *s, Value::U32(n as u32));
            let read = self.bytes(Kind::MemRead, *s);
            let write = self.bytes(Kind::MemWrite, *s);
            if let Some(b) = read {
                snap.put(id(cat::M_READ), *s, Value::U64(b));
            }
            if let Some(b) = write {
                snap.put(id(cat::M_WRITE), *s, Value::U64(b));
            }
            let total = match (self.bytes(Kind::MemTotal, *s), read, write) {
                (Some(t), _, _) => Some(t),
                (None, Some(r), Some(w)) => Some(r.wrapping_add(w)),
                _ => None,
            };
            if let Some(b) = total {
                snap.put(id(cat::M_TOTAL), *s, Value::U64(b));
            }
        }
        snap.indoms.push(IndomInstances {
            indom_serial: cat::SOCKETS.serial,
            instances: self.socket_instances.clone(),
        });
    }

    fn refresh_pcie(&self, snap: &mut Snapshot) {
        for (i, inst) in self.port_instances.iter().enumerate() {
            if !self.port_ok[i] {
                continue;
            }
            for (kind, item) in [(Kind::PcieIn, cat::P_IN), (Kind::PcieOut, cat::P_OUT)] {
                if let Some(b) = self.bytes(kind, i as u32) {
                    snap.put(
                        MetricId::new(cat::CLUSTER_PCIE, item),
                        inst.id,
                        Value::U64(b),
                    );
                }
            }
        }
        snap.indoms.push(IndomInstances {
            indom_serial: cat::PCIE_PORTS.serial,
            instances: self.port_instances.clone(),
        });
    }

    fn refresh_resctrl(&self, snap: &mut Snapshot) {
        let id = |item| MetricId::new(cat::CLUSTER_RESCTRL, item);
        let domains = match resctrl::domains(&self.sysfs) {
            Ok(d) => d,
            Err(e) => {
                snap.put_singular(id(cat::R_REASON), Value::Str(e));
                snap.indoms.push(IndomInstances {
                    indom_serial: cat::L3_DOMAINS.serial,
                    instances: vec![],
                });
                return;
            }
        };
        let mut errors = Vec::new();
        let mut instances = Vec::new();
        for d in &domains {
            instances.push(Instance {
                id: d.id,
                name: d.name.clone(),
                labels: vec![],
            });
            for (file, item) in [
                ("mbm_total_bytes", cat::R_TOTAL),
                ("mbm_local_bytes", cat::R_LOCAL),
            ] {
                let path = d.dir.join(file);
                if !path.exists() {
                    continue;
                }
                match resctrl::read_bytes(&path) {
                    Ok(Some(b)) => snap.put(id(item), d.id, Value::U64(b)),
                    Ok(None) => {}
                    Err(e) => errors.push(e),
                }
            }
        }
        if !errors.is_empty() {
            snap.put_singular(id(cat::R_REASON), Value::Str(errors.join("; ")));
        }
        snap.indoms.push(IndomInstances {
            indom_serial: cat::L3_DOMAINS.serial,
            instances,
        });
    }
}

impl Source for MembwSource {
    fn name(&self) -> &str {
        "membw"
    }
    fn interval(&self) -> Duration {
        self.interval
    }
    fn sample(&mut self) -> Result<Snapshot, SourceError> {
        self.read_counters()?;
        let mut snap = Snapshot::default();
        self.refresh_memory(&mut snap);
        self.refresh_pcie(&mut snap);
        self.refresh_resctrl(&mut snap);
        Ok(snap)
    }
}

/// Whether a counter counts DRAM traffic (per socket) rather than PCIe (per root port).
fn is_memory(kind: Kind) -> bool {
    matches!(kind, Kind::MemRead | Kind::MemWrite | Kind::MemTotal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_never_goes_backwards_or_jumps() {
        let s = Duration::from_secs(1);
        assert_eq!(advance(None, 100, s, 64.0), 0, "first read is the base");
        assert_eq!(advance(Some(100), 150, s, 64.0), 50);
        assert_eq!(advance(Some(150), 10, s, 64.0), 0, "a reset adds nothing");
        assert_eq!(
            advance(Some(0), u64::MAX / 2, s, 64.0),
            0,
            "an impossible jump adds nothing"
        );
        // 10 TB/s is the limit: just below passes.
        let n = (MAX_BYTES_PER_SEC / 64.0) as u64 - 1;
        assert_eq!(advance(Some(0), n, s, 64.0), n);
    }

    #[test]
    fn bytes_from_counts() {
        assert_eq!(to_bytes(3, 64.0), 192);
        assert_eq!(to_bytes(3, 0.5), 1);
        assert_eq!(to_bytes(10, 32.0), 320);
    }
}
