//! One benchmark run as the agent knows it, whatever channel it came from (a spool run file,
//! a followed GuideLLM log), and what it contributes to a snapshot.

use crate::catalogue::bench::*;
use crate::sources::{Instance, MetricId, Snapshot, Value, stable_instance_id};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Longest string kept from a run (command, mark, label value), in bytes.
pub const MAX_TEXT: usize = 1024;
/// Longest mark text kept, in bytes.
pub const MAX_MARK: usize = 256;
/// Most user labels kept per run.
pub const MAX_LABELS: usize = 16;
pub use llm_spool::RESERVED_LABELS;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Idle,
    Running,
    Finished,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Running => "running",
            State::Finished => "finished",
            State::Failed => "failed",
        }
    }
}

/// What a progress line says about the current benchmark (GuideLLM's words); absent fields
/// are not carried by the channel.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Progress {
    pub index: Option<u32>,
    pub count: Option<u32>,
    pub strategy: Option<String>,
    pub strategy_target: Option<f64>,
    pub status: Option<String>,
    pub elapsed: Option<f64>,
    pub successful: Option<u64>,
    pub errored: Option<u64>,
    pub incomplete: Option<u64>,
    pub in_flight: Option<u64>,
    pub requests_per_s: Option<f64>,
    pub output_tokens_per_s: Option<f64>,
    pub total_tokens_per_s: Option<f64>,
    pub ttft_ms: Option<f64>,
    pub itl_ms: Option<f64>,
    pub latency_s: Option<f64>,
}

/// One line of a spool run file (see docs/progress.md): `{"ev":"start",...}`,
/// `{"ev":"progress",...}`, `{"ev":"mark",...}`, `{"ev":"end",...}`; `t` is seconds since
/// the epoch.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum Record {
    Start {
        t: f64,
        #[serde(default)]
        command: Vec<String>,
        #[serde(default)]
        tool: Option<String>,
        #[serde(default)]
        tool_version: Option<String>,
        #[serde(default)]
        target: Option<String>,
        #[serde(default)]
        model: Option<String>,
        #[serde(default)]
        count: Option<u32>,
        #[serde(default)]
        labels: BTreeMap<String, String>,
    },
    Progress {
        #[allow(dead_code)]
        t: f64,
        #[serde(flatten)]
        progress: Progress,
    },
    Mark {
        #[allow(dead_code)]
        t: f64,
        text: String,
    },
    /// What the GuideLLM hook learns inside the process (its version).
    Info {
        #[allow(dead_code)]
        t: f64,
        #[serde(default)]
        tool_version: Option<String>,
    },
    End {
        t: f64,
        exit_status: i32,
        #[serde(default)]
        signal: Option<i32>,
    },
}

/// The current state of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Instance name.
    pub name: String,
    /// Labels the agent sets (user, tool, ...), then the run's own.
    pub labels: Vec<(String, String)>,
    pub state: State,
    pub command: Option<String>,
    pub tool: Option<String>,
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub exit_status: Option<i32>,
    pub signal: Option<i32>,
    pub mark: String,
    pub marks: u64,
    pub count: Option<u32>,
    pub current: Progress,
    /// Final counts of the benchmarks before the current one (successful, errored, incomplete).
    done: [u64; 3],
}

pub fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn label_name_ok(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Run {
    pub fn new(name: &str, labels: Vec<(String, String)>) -> Run {
        Run {
            name: name.to_string(),
            labels,
            state: State::Idle,
            command: None,
            tool: None,
            start: None,
            end: None,
            exit_status: None,
            signal: None,
            mark: String::new(),
            marks: 0,
            count: None,
            current: Progress::default(),
            done: [0; 3],
        }
    }

    /// Applies one spool record. Returns a complaint for the log when part of it was refused.
    pub fn apply(&mut self, rec: Record) -> Option<String> {
        match rec {
            Record::Start {
                t,
                command,
                tool,
                tool_version,
                target,
                model,
                count,
                labels,
            } => {
                self.state = State::Running;
                self.start = Some(t);
                self.command = Some(clip(&command.join(" "), MAX_TEXT));
                self.tool = tool.as_deref().map(|s| clip(s, 64));
                self.count = count;
                for (k, v) in [
                    ("tool", tool),
                    ("tool_version", tool_version),
                    ("target", target),
                    ("model", model),
                ] {
                    if let Some(v) = v {
                        self.set_label(k, &v);
                    }
                }
                let mut refused = Vec::new();
                for (k, v) in labels {
                    let own = self.labels.len();
                    if !label_name_ok(&k)
                        || RESERVED_LABELS.contains(&k.as_str())
                        || own >= MAX_LABELS + RESERVED_LABELS.len()
                    {
                        refused.push(k);
                    } else {
                        self.set_label(&k, &v);
                    }
                }
                (!refused.is_empty()).then(|| {
                    format!(
                        "run {}: labels refused (reserved, not a PCP label name, or more than {MAX_LABELS}): {}",
                        self.name,
                        refused.iter().map(|k| clip(k, 64)).collect::<Vec<_>>().join(", ")
                    )
                })
            }
            Record::Progress { progress, .. } => {
                self.progress(progress);
                None
            }
            Record::Info { tool_version, .. } => {
                if let Some(v) = tool_version {
                    self.set_label("tool_version", &v);
                }
                None
            }
            Record::Mark { text, .. } => {
                self.mark = clip(&text, MAX_MARK);
                self.marks += 1;
                None
            }
            Record::End {
                t,
                exit_status,
                signal,
            } => {
                self.end = Some(t);
                self.exit_status = Some(exit_status);
                self.signal = Some(signal.unwrap_or(0));
                self.state = if exit_status == 0 && signal.unwrap_or(0) == 0 {
                    State::Finished
                } else {
                    State::Failed
                };
                None
            }
        }
    }

    fn set_label(&mut self, k: &str, v: &str) {
        let v = clip(v, MAX_TEXT);
        match self.labels.iter_mut().find(|(n, _)| n == k) {
            Some(l) => l.1 = v,
            None => self.labels.push((k.to_string(), v)),
        }
    }

    /// A progress line about the current (or a new) benchmark.
    pub fn progress(&mut self, mut p: Progress) {
        if self.state == State::Idle {
            self.state = State::Running;
        }
        if p.index.is_some() && p.index != self.current.index && self.current.index.is_some() {
            // A new benchmark: the old one's last counts become part of the run's totals.
            let c = &self.current;
            self.done[0] += c.successful.unwrap_or(0);
            self.done[1] += c.errored.unwrap_or(0);
            self.done[2] += c.incomplete.unwrap_or(0);
            self.current = Progress::default();
        }
        if let Some(n) = p.count {
            self.count = Some(n);
        }
        p.strategy = p.strategy.map(|s| clip(&s, 64));
        p.status = p.status.map(|s| clip(&s, 32));
        let c = &mut self.current;
        // Counts of one benchmark never go back (a late line cannot undo a later one).
        for (new, old) in [
            (&mut p.successful, c.successful),
            (&mut p.errored, c.errored),
            (&mut p.incomplete, c.incomplete),
        ] {
            if let (Some(n), Some(o)) = (*new, old) {
                *new = Some(n.max(o));
            }
        }
        macro_rules! take {
            ($($f:ident),*) => { $( if p.$f.is_some() { c.$f = p.$f.take(); } )* };
        }
        take!(
            index,
            strategy,
            strategy_target,
            status,
            elapsed,
            successful,
            errored,
            incomplete,
            in_flight,
            requests_per_s,
            output_tokens_per_s,
            total_tokens_per_s,
            ttft_ms,
            itl_ms,
            latency_s
        );
    }

    /// The run is over though no end was recorded (its writer went away).
    pub fn lost(&mut self, at: f64) {
        if self.state == State::Running || self.state == State::Idle {
            self.state = State::Failed;
            self.end = Some(at);
            self.exit_status = Some(-1);
            self.signal = Some(0);
        }
    }

    /// Adds the run's instance and values to `snap`; `now` is seconds since the epoch.
    pub fn put(&self, snap: &mut Snapshot, now: f64) -> Instance {
        let id = stable_instance_id(&self.name);
        let run = |i| MetricId::new(CLUSTER_RUN, i);
        let bench = |i| MetricId::new(CLUSTER_BENCHMARK, i);
        snap.put(run(ITEM_STATE), id, Value::Str(self.state.as_str().into()));
        if let Some(c) = &self.command {
            snap.put(run(ITEM_COMMAND), id, Value::Str(c.clone()));
        }
        if let Some(t) = &self.tool {
            snap.put(run(ITEM_TOOL), id, Value::Str(t.clone()));
        }
        if let Some(s) = self.start {
            snap.put(run(ITEM_START), id, Value::F64(s));
            let to = self.end.unwrap_or(now);
            snap.put(run(ITEM_ELAPSED), id, Value::F64((to - s).max(0.0)));
        }
        if let Some(e) = self.exit_status {
            snap.put(run(ITEM_EXIT_STATUS), id, Value::I32(e));
        }
        if let Some(s) = self.signal {
            snap.put(run(ITEM_SIGNAL), id, Value::I32(s));
        }
        snap.put(run(ITEM_MARK), id, Value::Str(self.mark.clone()));
        snap.put(run(ITEM_MARKS), id, Value::U64(self.marks));
        if let Some(n) = self.count {
            snap.put(bench(ITEM_COUNT), id, Value::U32(n));
        }
        let c = &self.current;
        if let Some(i) = c.index {
            snap.put(bench(ITEM_INDEX), id, Value::U32(i));
        }
        if let Some(s) = &c.strategy {
            snap.put(bench(ITEM_STRATEGY), id, Value::Str(s.clone()));
        }
        if let Some(s) = &c.status {
            snap.put(bench(ITEM_STATUS), id, Value::Str(s.clone()));
        }
        for (item, v) in [
            (ITEM_STRATEGY_TARGET, c.strategy_target),
            (ITEM_BENCH_ELAPSED, c.elapsed),
            (ITEM_REQUEST_RATE, c.requests_per_s),
            (ITEM_OUTPUT_TOKEN_RATE, c.output_tokens_per_s),
            (ITEM_TOTAL_TOKEN_RATE, c.total_tokens_per_s),
            (ITEM_TTFT, c.ttft_ms),
            (ITEM_ITL, c.itl_ms),
            (ITEM_LATENCY, c.latency_s),
        ] {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                snap.put(bench(item), id, Value::F64(v));
            }
        }
        if c.index.is_some() || self.state == State::Running {
            for (k, (item, v)) in [
                (ITEM_SUCCESSFUL, c.successful),
                (ITEM_ERRORED, c.errored),
                (ITEM_INCOMPLETE, c.incomplete),
            ]
            .into_iter()
            .enumerate()
            {
                snap.put(bench(item), id, Value::U64(self.done[k] + v.unwrap_or(0)));
            }
        }
        if let Some(n) = c.in_flight {
            snap.put(bench(ITEM_IN_FLIGHT), id, Value::U64(n));
        }
        Instance {
            id,
            name: self.name.clone(),
            labels: self.labels.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Record {
        serde_json::from_str(s).unwrap()
    }

    fn get(snap: &Snapshot, cluster: u32, item: u32) -> Option<Value> {
        snap.values
            .iter()
            .find(|(m, _, _)| *m == MetricId::new(cluster, item))
            .map(|(_, _, v)| v.clone())
    }

    #[test]
    fn counts_add_up_over_benchmarks_and_the_end_decides_the_state() {
        let mut r = Run::new("alice/r1", vec![("user".into(), "alice".into())]);
        r.apply(line(
            r#"{"ev":"start","t":100,"command":["guidellm","run"],"tool":"guidellm","count":2,"labels":{"node":"a","user":"mallory","bad-name":"x"}}"#,
        ));
        assert_eq!(r.state, State::Running);
        assert_eq!(
            r.labels,
            vec![
                ("user".to_string(), "alice".to_string()),
                ("tool".into(), "guidellm".into()),
                ("node".into(), "a".into())
            ],
            "a run cannot rename its user"
        );
        r.apply(line(
            r#"{"ev":"progress","t":101,"index":1,"status":"active","successful":38}"#,
        ));
        r.apply(line(
            r#"{"ev":"progress","t":102,"index":1,"status":"completed","successful":62,"incomplete":2}"#,
        ));
        r.apply(line(
            r#"{"ev":"progress","t":103,"index":2,"status":"active","successful":10}"#,
        ));
        let mut s = Snapshot::default();
        r.put(&mut s, 110.0);
        assert_eq!(
            get(&s, CLUSTER_BENCHMARK, ITEM_SUCCESSFUL),
            Some(Value::U64(72))
        );
        assert_eq!(
            get(&s, CLUSTER_BENCHMARK, ITEM_INCOMPLETE),
            Some(Value::U64(2))
        );
        assert_eq!(get(&s, CLUSTER_BENCHMARK, ITEM_INDEX), Some(Value::U32(2)));
        assert_eq!(get(&s, CLUSTER_BENCHMARK, ITEM_COUNT), Some(Value::U32(2)));
        assert_eq!(get(&s, CLUSTER_RUN, ITEM_ELAPSED), Some(Value::F64(10.0)));
        assert_eq!(get(&s, CLUSTER_RUN, ITEM_EXIT_STATUS), None);
        r.apply(line(
            r#"{"ev":"end","t":120,"exit_status":143,"signal":15}"#,
        ));
        let mut s = Snapshot::default();
        r.put(&mut s, 500.0);
        assert_eq!(r.state, State::Failed);
        assert_eq!(get(&s, CLUSTER_RUN, ITEM_ELAPSED), Some(Value::F64(20.0)));
        assert_eq!(get(&s, CLUSTER_RUN, ITEM_SIGNAL), Some(Value::I32(15)));
    }
}
