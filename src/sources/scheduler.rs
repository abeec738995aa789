//! Runs each source on its own thread and sends its results to the PCP thread.

use super::{Snapshot, Source, SourceError};
use crossbeam_channel::{Receiver, Sender};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant, SystemTime};

/// One sample result, as the PCP thread receives it.
#[derive(Debug)]
pub struct Update {
    /// Index of the source in the order it was registered.
    pub source: usize,
    /// When the sample completed.
    pub at: SystemTime,
    /// How long the sample took.
    pub duration: Duration,
    pub result: Result<Snapshot, SourceError>,
}

/// What the scheduler knows of each source before its first sample.
#[derive(Clone, Debug)]
pub struct SourceInfo {
    pub name: String,
    pub interval: Duration,
    pub limits: crate::agent::config::Limits,
}

/// A source plus its retry policy.
pub struct Scheduled {
    pub source: Box<dyn Source>,
    /// 1 = retry at the normal interval (HTTP endpoints: the first sample after an endpoint
    /// comes up must not be delayed); larger for sources whose failure is slow to clear (NVML).
    pub max_backoff_factor: u32,
}

impl Scheduled {
    pub fn new(source: Box<dyn Source>) -> Self {
        Scheduled {
            source,
            max_backoff_factor: 1,
        }
    }
    pub fn with_backoff(source: Box<dyn Source>, factor: u32) -> Self {
        Scheduled {
            source,
            max_backoff_factor: factor.max(1),
        }
    }
}

/// Starts one thread per source and returns what the PCP thread needs: the source list and
/// the receiving end of the update channel.
pub fn start(sources: Vec<Scheduled>) -> (Vec<SourceInfo>, Receiver<Update>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut infos = Vec::new();
    for (index, sched) in sources.into_iter().enumerate() {
        infos.push(SourceInfo {
            name: sched.source.name().to_string(),
            interval: sched.source.interval(),
            limits: sched.source.limits(),
        });
        let tx = tx.clone();
        let thread_name = format!("src-{}", sched.source.name());
        std::thread::Builder::new()
            .name(thread_name.chars().take(15).collect())
            .spawn(move || run_source(index, sched, tx))
            .expect("spawn source thread");
    }
    (infos, rx)
}

fn run_source(index: usize, mut sched: Scheduled, tx: Sender<Update>) {
    let interval = sched.source.interval().max(Duration::from_millis(10));
    let mut failures: u32 = 0;
    let mut next = Instant::now();
    loop {
        let started = Instant::now();
        // A panicking source must not take the agent down: report it as an error.
        let result = catch_unwind(AssertUnwindSafe(|| sched.source.sample()))
            .unwrap_or_else(|_| Err(SourceError("internal error: the source panicked".into())));
        let ok = result.is_ok();
        let update = Update {
            source: index,
            at: SystemTime::now(),
            duration: started.elapsed(),
            result,
        };
        if tx.send(update).is_err() {
            return; // the PCP thread is gone: the agent is exiting
        }
        failures = if ok { 0 } else { failures.saturating_add(1) };
        let factor = if failures == 0 {
            1
        } else {
            2u32.saturating_pow(failures - 1)
                .min(sched.max_backoff_factor)
        };
        next += interval * factor;
        let now = Instant::now();
        if next < now {
            // We fell behind (a slow sample): start again from now rather than bursting.
            next = now;
        }
        std::thread::sleep(next - now);
    }
}
