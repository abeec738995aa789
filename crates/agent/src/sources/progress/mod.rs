//! Live benchmark progress (`llm.bench.*`, declared in `catalogue/bench.rs`).
//!
//! Two kinds of source:
//! * the spool source ("progress", `[bench]` in llm.conf): follows the run files that
//!   `pcp llm run` (and its GuideLLM progress hook) write into the spool directory, one
//!   `RUN_ID.jsonl` file per run, one JSON record per line (see `run::Record`);
//! * one follower per `[[progress]]` section: a GuideLLM ≥ 0.8 log file (JSON lines or the
//!   stderr INFO lines) at a path the administrator names.
//!
//! Trust model (docs/progress.md): the spool directory is writable by every benchmark user
//! (mode 1777, like /tmp). A run is exported as USER/RUN_ID where USER is the owner of the file
//! as the kernel reports it, never anything the file says, so nobody can publish a run under
//! another user's name. Only regular files are read (no links, FIFOs or devices), at most
//! `max_runs` of them, at most 1 MiB per file per sample, lines of at most 4096 bytes; strings
//! are clipped; a run has at most 16 labels of its own. What breaks these rules is counted in
//! `llm.bench.spool.*` and skipped.

pub mod config;
pub mod guidellm;
pub mod run;
pub mod tail;

use crate::catalogue::bench::*;
use crate::sources::{IndomInstances, MetricId, Snapshot, Source, SourceError, Value};
use run::{Record, Run, State};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tail::Tail;

pub use config::{BENCH_KEYS, BenchConfig, FOLLOW_KEYS, FollowConfig};
pub use llm_spool::{DEFAULT_SPOOL, run_id_of, spool_dir};

/// Most directory entries looked at per sample.
pub const MAX_SCAN: usize = 4096;
/// Most refused names remembered (so each is counted once).
const MAX_REFUSED_REMEMBERED: usize = 10_000;

fn epoch(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Local user names by uid, from /etc/passwd (read again when an unknown uid shows up, at
/// most once a minute).
struct Users {
    names: HashMap<u32, String>,
    read_at: Option<std::time::Instant>,
}

impl Users {
    fn name(&mut self, uid: u32) -> String {
        if !self.names.contains_key(&uid)
            && self
                .read_at
                .is_none_or(|t| t.elapsed() > Duration::from_secs(60))
        {
            self.read_at = Some(std::time::Instant::now());
            if let Ok(text) = std::fs::read_to_string("/etc/passwd") {
                self.names = text
                    .lines()
                    .filter_map(|l| {
                        let f: Vec<&str> = l.split(':').collect();
                        Some((f.get(2)?.parse().ok()?, f[0].to_string()))
                    })
                    .filter(|(_, n): &(u32, String)| run_id_of(&format!("{n}.jsonl")).is_some())
                    .collect();
            }
        }
        self.names
            .get(&uid)
            .cloned()
            .unwrap_or_else(|| format!("uid{uid}"))
    }
}

struct Followed {
    tail: Tail,
    run: Run,
}

/// The spool source.
pub struct Spool {
    cfg: BenchConfig,
    files: HashMap<String, Followed>,
    refused: HashSet<String>,
    users: Users,
    lines: u64,
    malformed: u64,
    refused_count: u64,
}

impl Spool {
    pub fn new(cfg: &BenchConfig) -> Spool {
        Spool {
            cfg: cfg.clone(),
            files: HashMap::new(),
            refused: HashSet::new(),
            users: Users {
                names: HashMap::new(),
                read_at: None,
            },
            lines: 0,
            malformed: 0,
            refused_count: 0,
        }
    }

    fn refuse(&mut self, name: &str) {
        if self.refused.len() < MAX_REFUSED_REMEMBERED && self.refused.insert(name.to_string()) {
            self.refused_count += 1;
        }
    }

    /// One pass over the spool directory at wall-clock time `now`.
    pub fn scan(&mut self, now: SystemTime) -> Snapshot {
        let mut snap = Snapshot::default();
        let now_s = epoch(now);
        let expire = self.cfg.expire.0.as_secs_f64();
        let mut candidates: Vec<(f64, String)> = Vec::new();
        match std::fs::read_dir(&self.cfg.spool) {
            Ok(dir) => {
                for entry in dir.take(MAX_SCAN).flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with('.') {
                        continue; // temporary files, "." entries of other tools
                    }
                    let Ok(meta) = entry.metadata() else { continue };
                    if run_id_of(&name).is_none() || !meta.file_type().is_file() {
                        self.refuse(&name);
                        continue;
                    }
                    let mtime = meta.modified().map(epoch).unwrap_or(0.0);
                    if now_s - mtime > expire {
                        continue;
                    }
                    candidates.push((mtime, name));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => snap
                .notes
                .push(format!("spool {}: {e}", self.cfg.spool.display())),
        }
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        for (_, name) in candidates.split_off(candidates.len().min(self.cfg.max_runs)) {
            self.refuse(&name);
        }
        let keep: HashSet<&str> = candidates.iter().map(|(_, n)| n.as_str()).collect();
        self.files.retain(|n, _| keep.contains(n.as_str()));
        let stale = self.cfg.stale_after.0.as_secs_f64();
        let mut instances = Vec::new();
        for (_, name) in &candidates {
            let path = self.cfg.spool.join(name);
            let f = self.files.entry(name.clone()).or_insert_with(|| Followed {
                tail: Tail::new(&path),
                run: Run::new(name, vec![]),
            });
            let read = match f.tail.read() {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(e) => {
                    snap.notes.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            if read.restarted {
                let user = self.users.name(read.owner);
                let id = run_id_of(name).unwrap_or(name);
                f.run = Run::new(&format!("{user}/{id}"), vec![("user".into(), user)]);
            }
            self.malformed += read.malformed;
            for (i, line) in read.lines.iter().enumerate() {
                self.lines += 1;
                match serde_json::from_str::<Record>(line) {
                    Ok(rec) => {
                        if let Some(msg) = f.run.apply(rec) {
                            snap.notes.push(format!("{}: {msg}", path.display()));
                        }
                    }
                    Err(e) => {
                        self.malformed += 1;
                        snap.notes.push(format!(
                            "{}: line {} of this read skipped: {e}",
                            path.display(),
                            i + 1
                        ));
                    }
                }
            }
            if f.run.state == State::Running && now_s - read.mtime > stale {
                f.run.lost(read.mtime);
            }
            instances.push(f.run.put(&mut snap, now_s));
        }
        let spool = |i| MetricId::new(CLUSTER_SPOOL, i);
        snap.put_singular(spool(ITEM_RUNS), Value::U32(instances.len() as u32));
        snap.put_singular(spool(ITEM_LINES), Value::U64(self.lines));
        snap.put_singular(spool(ITEM_MALFORMED), Value::U64(self.malformed));
        snap.put_singular(spool(ITEM_REFUSED), Value::U64(self.refused_count));
        snap.indoms.push(IndomInstances {
            indom_serial: RUNS.serial,
            instances,
        });
        snap
    }
}

impl Source for Spool {
    fn name(&self) -> &str {
        "progress"
    }
    fn interval(&self) -> Duration {
        self.cfg.interval.0
    }
    fn sample(&mut self) -> Result<Snapshot, SourceError> {
        Ok(self.scan(SystemTime::now()))
    }
}

/// A `[[progress]]` follower: one GuideLLM log, one instance.
pub struct Follower {
    cfg: FollowConfig,
    tail: Tail,
    format: Option<guidellm::Format>,
    run: Run,
    malformed: u64,
}

impl Follower {
    pub fn new(cfg: &FollowConfig) -> Follower {
        Follower {
            cfg: cfg.clone(),
            tail: Tail::new(&cfg.path),
            format: None,
            run: Self::fresh(cfg),
            malformed: 0,
        }
    }

    fn fresh(cfg: &FollowConfig) -> Run {
        let mut r = Run::new(&cfg.name, vec![("tool".into(), "guidellm".into())]);
        r.command = Some(run::clip(&cfg.path.display().to_string(), run::MAX_TEXT));
        r.tool = Some("guidellm".into());
        r
    }

    /// Malformed lines so far (lines not of the file's format).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    pub fn step(&mut self, now: SystemTime) -> Snapshot {
        let mut snap = Snapshot::default();
        let now_s = epoch(now);
        match self.tail.read() {
            Ok(None) => {
                self.run = Self::fresh(&self.cfg);
                self.format = None;
            }
            Err(e) => snap.notes.push(format!("{}: {e}", self.cfg.path.display())),
            Ok(Some(read)) => {
                if read.restarted {
                    self.run = Self::fresh(&self.cfg);
                    self.format = None;
                }
                self.malformed += read.malformed;
                for line in &read.lines {
                    let format = *self.format.get_or_insert_with(|| {
                        self.cfg
                            .format
                            .as_deref()
                            .and_then(guidellm::Format::parse)
                            .unwrap_or_else(|| guidellm::Format::guess(line))
                    });
                    match guidellm::parse_line(format, line) {
                        Some((event, t)) => {
                            let t = t.unwrap_or(now_s);
                            match event {
                                guidellm::Event::Progress(p) => {
                                    self.run.start.get_or_insert(t);
                                    self.run.progress(*p);
                                }
                                guidellm::Event::Finished => {
                                    self.run.start.get_or_insert(t);
                                    self.run.state = State::Finished;
                                    self.run.end = Some(t);
                                }
                                guidellm::Event::Other => {}
                            }
                        }
                        None => {
                            self.malformed += 1;
                            snap.notes.push(format!(
                                "{}: a line that is not {format:?} GuideLLM log was skipped",
                                self.cfg.path.display()
                            ));
                        }
                    }
                }
            }
        }
        let inst = self.run.put(&mut snap, now_s);
        snap.indoms.push(IndomInstances {
            indom_serial: RUNS.serial,
            instances: vec![inst],
        });
        snap
    }
}

impl Source for Follower {
    fn name(&self) -> &str {
        &self.cfg.name
    }
    fn interval(&self) -> Duration {
        self.cfg.interval.0
    }
    fn sample(&mut self) -> Result<Snapshot, SourceError> {
        Ok(self.step(SystemTime::now()))
    }
}

/// Adds the progress sources a configuration asks for to the agent's plan.
pub fn plan(config: &crate::config::Config, out: &mut Vec<crate::plan::Planned>) {
    use crate::sources::scheduler::Scheduled;
    if config.bench.enabled {
        let b = config.bench.clone();
        out.push(crate::plan::Planned {
            name: "progress".into(),
            fingerprint: format!("{b:?}"),
            make: Box::new(move || Scheduled::new(Box::new(Spool::new(&b)))),
        });
    }
    for f in &config.progress {
        let mut f = f.clone();
        f.line = 0;
        out.push(crate::plan::Planned {
            name: f.name.clone(),
            fingerprint: format!("progress {f:?}"),
            make: Box::new(move || Scheduled::new(Box::new(Follower::new(&f)))),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_running_run_goes_stale_and_an_old_file_expires() {
        let dir = std::env::temp_dir().join(format!("spool-stale-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let start = "{\"ev\":\"start\",\"t\":1}\n";
        let now = SystemTime::now();
        for (name, age) in [("fresh", 10), ("silent", 200), ("old", 700)] {
            let p = dir.join(format!("{name}.jsonl"));
            std::fs::write(&p, start).unwrap();
            let f = std::fs::File::options().append(true).open(&p).unwrap();
            f.set_modified(now - Duration::from_secs(age)).unwrap();
        }
        let mut s = Spool::new(&BenchConfig {
            spool: dir.clone(),
            ..BenchConfig::default()
        });
        let snap = s.scan(now);
        let _ = std::fs::remove_dir_all(&dir);
        let names: Vec<&str> = snap.indoms[0]
            .instances
            .iter()
            .map(|i| i.name.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "the 700 s old file expired: {names:?}");
        let state = |name: &str| {
            let id = snap.indoms[0]
                .instances
                .iter()
                .find(|i| i.name.ends_with(&format!("/{name}")))
                .unwrap()
                .id;
            snap.values
                .iter()
                .find(|(m, i, _)| *m == MetricId::new(CLUSTER_RUN, ITEM_STATE) && *i == id)
                .map(|(_, _, v)| v.clone())
        };
        assert_eq!(state("fresh"), Some(Value::Str("running".into())));
        assert_eq!(state("silent"), Some(Value::Str("failed".into())));
    }

    #[test]
    fn spool_runs_are_named_by_their_owner_and_bounded() {
        let dir = std::env::temp_dir().join(format!("spool-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("r1.jsonl"),
            "{\"ev\":\"start\",\"t\":1,\"command\":[\"sleep\",\"1\"],\"labels\":{\"user\":\"root\"}}\nnot json\n",
        )
        .unwrap();
        std::fs::write(dir.join("r2.jsonl"), "").unwrap();
        std::fs::write(dir.join("bad name.jsonl"), "").unwrap();
        std::fs::create_dir(dir.join("sub.jsonl")).unwrap();
        let cfg = BenchConfig {
            spool: dir.clone(),
            max_runs: 1,
            ..BenchConfig::default()
        };
        let mut s = Spool::new(&cfg);
        let snap = s.scan(SystemTime::now());
        let _ = std::fs::remove_dir_all(&dir);
        let insts = &snap.indoms[0].instances;
        assert_eq!(insts.len(), 1, "max_runs");
        let me = s.users.name(
            std::fs::metadata("/proc/self").map_or(0, |m| std::os::unix::fs::MetadataExt::uid(&m)),
        );
        assert!(insts[0].name.starts_with(&format!("{me}/")), "{insts:?}");
        let v = |i| {
            snap.values
                .iter()
                .find(|(m, _, _)| *m == MetricId::new(CLUSTER_SPOOL, i))
                .map(|(_, _, v)| v.clone())
        };
        assert_eq!(
            v(ITEM_REFUSED),
            Some(Value::U64(3)),
            "bad name, directory, over max_runs"
        );
        if insts[0].name.ends_with("/r1") {
            assert_eq!(v(ITEM_MALFORMED), Some(Value::U64(1)));
            assert!(insts[0].labels.contains(&("user".into(), me.clone())));
        }
    }
}
