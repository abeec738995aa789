//! Runs each source on its own thread and sends its results to the PCP thread.

use super::{Snapshot, Source, SourceError};
use crossbeam_channel::{Receiver, Sender};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// One sample result, as the PCP thread receives it.
#[derive(Debug)]
pub struct Update {
    /// Index of the source in the order it was registered.
    pub source: usize,
    /// Which start of that source sent it (see [`SourceInfo::run`]): an update from a source
    /// the configuration has since changed or removed is ignored.
    pub run: u64,
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
    pub limits: crate::config::Limits,
    /// Distinguishes successive starts of the source at one index (after a reconfiguration).
    pub run: u64,
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

/// Starts and stops source threads; all of them send to one channel.
pub struct Scheduler {
    tx: Sender<Update>,
    stops: HashMap<usize, Arc<AtomicBool>>,
    next_run: u64,
}

impl Scheduler {
    pub fn new() -> (Scheduler, Receiver<Update>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let s = Scheduler {
            tx,
            stops: HashMap::new(),
            next_run: 1,
        };
        (s, rx)
    }

    /// Starts `sched` as the source at `index` (stopping any source there before).
    pub fn spawn(&mut self, index: usize, sched: Scheduled) -> SourceInfo {
        self.stop(index);
        let run = self.next_run;
        self.next_run += 1;
        let info = SourceInfo {
            name: sched.source.name().to_string(),
            interval: sched.source.interval(),
            limits: sched.source.limits(),
            run,
        };
        let stop = Arc::new(AtomicBool::new(false));
        self.stops.insert(index, stop.clone());
        let tx = self.tx.clone();
        let thread_name = format!("src-{}", sched.source.name());
        std::thread::Builder::new()
            .name(thread_name.chars().take(15).collect())
            .spawn(move || run_source(index, run, sched, tx, stop))
            .expect("spawn source thread");
        info
    }

    /// Stops the source at `index`: its thread ends after its current sample, unsent.
    pub fn stop(&mut self, index: usize) {
        if let Some(flag) = self.stops.remove(&index) {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

/// Starts one thread per source and returns what the PCP thread needs: the source list, the
/// receiving end of the update channel, and the scheduler (to change sources later).
pub fn start(sources: Vec<Scheduled>) -> (Vec<SourceInfo>, Receiver<Update>, Scheduler) {
    let (mut scheduler, rx) = Scheduler::new();
    let infos = sources
        .into_iter()
        .enumerate()
        .map(|(index, sched)| scheduler.spawn(index, sched))
        .collect();
    (infos, rx, scheduler)
}

fn run_source(
    index: usize,
    run: u64,
    mut sched: Scheduled,
    tx: Sender<Update>,
    stop: Arc<AtomicBool>,
) {
    let interval = sched.source.interval().max(Duration::from_millis(10));
    let mut failures: u32 = 0;
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        // A panicking source must not take the agent down: report it as an error.
        let result = catch_unwind(AssertUnwindSafe(|| sched.source.sample()))
            .unwrap_or_else(|_| Err(SourceError("internal error: the source panicked".into())));
        let ok = result.is_ok();
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let update = Update {
            source: index,
            run,
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
        // Sleep in slices, so a stopped source's thread ends within a second.
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if now >= next {
                break;
            }
            std::thread::sleep((next - now).min(Duration::from_secs(1)));
        }
    }
}
