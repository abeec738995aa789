//! Runs the sources and sends their results to the PCP thread. A [`Source`] (NVML, perf,
//! files: calls that block) runs on a thread of its own; an [`AsyncSource`] (a Prometheus
//! endpoint: it only waits on sockets) runs as a task on the one I/O thread all of them share
//! ([`io_runtime`]), its samples on ticks common to every task of the same interval, so that
//! sixteen endpoints wake one thread once a second rather than sixteen threads twice each.

use super::{AsyncSource, Snapshot, Source, SourceError};
use crossbeam_channel::{Receiver, Sender};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

/// Name of the I/O thread (`ps -L`, `/proc/PID/task/*/comm`).
pub const IO_THREAD: &str = "endpoints";

/// The runtime of the agent's I/O thread: a current-thread tokio runtime driven by its own
/// thread ([`IO_THREAD`]), started on first use. Every [`AsyncSource`] runs on it, and so do
/// reqwest's requests.
pub fn io_runtime() -> &'static tokio::runtime::Handle {
    static HANDLE: OnceLock<tokio::runtime::Handle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("build the I/O runtime");
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name(IO_THREAD.into())
            .spawn(move || rt.block_on(std::future::pending::<()>()))
            .expect("spawn the I/O thread");
        handle
    })
}

/// The instant every task's ticks count from: tasks of one interval sample together.
fn tick_origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// The first tick of period `period` (counted from `origin`) after `now`.
fn next_tick(origin: Instant, now: Instant, period: Duration) -> Instant {
    let period_ns = period.as_nanos().max(1);
    let since = now.saturating_duration_since(origin).as_nanos();
    let ticks = since / period_ns + 1;
    let offset = u64::try_from(ticks * period_ns).unwrap_or(u64::MAX);
    origin + Duration::from_nanos(offset)
}

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

/// Where a source runs.
pub enum Runner {
    /// On a thread of its own.
    Thread(Box<dyn Source>),
    /// As a task on the I/O thread.
    Task(Box<dyn AsyncSource>),
}

/// A source plus its retry policy.
pub struct Scheduled {
    pub runner: Runner,
    /// 1 = retry at the normal interval (HTTP endpoints: the first sample after an endpoint
    /// comes up must not be delayed); larger for sources whose failure is slow to clear (NVML).
    pub max_backoff_factor: u32,
}

impl Scheduled {
    pub fn new(source: Box<dyn Source>) -> Self {
        Self::with_backoff(source, 1)
    }
    pub fn with_backoff(source: Box<dyn Source>, factor: u32) -> Self {
        Scheduled {
            runner: Runner::Thread(source),
            max_backoff_factor: factor.max(1),
        }
    }
    /// An [`AsyncSource`], retried at its normal interval.
    pub fn task(source: Box<dyn AsyncSource>) -> Self {
        Scheduled {
            runner: Runner::Task(source),
            max_backoff_factor: 1,
        }
    }

    fn info(&self, run: u64) -> SourceInfo {
        let (name, interval, limits) = match &self.runner {
            Runner::Thread(s) => (s.name(), s.interval(), s.limits()),
            Runner::Task(s) => (s.name(), s.interval(), s.limits()),
        };
        SourceInfo {
            name: name.to_string(),
            interval,
            limits,
            run,
        }
    }
}

/// The wait after a sample, `failures` samples having failed in a row (0 after a success):
/// the interval, doubled for each failure after the first, up to `max_factor` times.
fn period(interval: Duration, failures: u32, max_factor: u32) -> Duration {
    let factor = if failures == 0 {
        1
    } else {
        2u32.saturating_pow(failures - 1).min(max_factor)
    };
    interval * factor
}

/// How a running source is stopped.
enum Stop {
    Thread(Arc<AtomicBool>),
    Task(tokio::task::AbortHandle),
}

/// Starts and stops source threads; all of them send to one channel.
pub struct Scheduler {
    tx: Sender<Update>,
    stops: HashMap<usize, Stop>,
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
        let info = sched.info(run);
        let tx = self.tx.clone();
        let stop = if matches!(sched.runner, Runner::Task(_)) {
            let task = io_runtime().spawn(run_task(index, run, sched, tx));
            Stop::Task(task.abort_handle())
        } else {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = stop.clone();
            let thread_name = format!("src-{}", info.name);
            std::thread::Builder::new()
                .name(thread_name.chars().take(15).collect())
                .spawn(move || run_source(index, run, sched, tx, flag))
                .expect("spawn source thread");
            Stop::Thread(stop)
        };
        self.stops.insert(index, stop);
        info
    }

    /// Stops the source at `index`: a thread ends after its current sample, unsent; a task at
    /// once, its sample dropped where it waits.
    pub fn stop(&mut self, index: usize) {
        match self.stops.remove(&index) {
            Some(Stop::Thread(flag)) => flag.store(true, Ordering::Relaxed),
            Some(Stop::Task(task)) => task.abort(),
            None => {}
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

fn panicked() -> SourceError {
    SourceError("internal error: the source panicked".into())
}

/// The loop of a task source: sample, send, wait for the next tick of its period.
async fn run_task(index: usize, run: u64, mut sched: Scheduled, tx: Sender<Update>) {
    let max_factor = sched.max_backoff_factor;
    let Runner::Task(source) = &mut sched.runner else {
        unreachable!("run_task is given task sources")
    };
    let interval = source.interval().max(Duration::from_millis(10));
    let mut failures: u32 = 0;
    loop {
        let started = Instant::now();
        let mut sample = source.sample();
        // A panicking source must not take the agent down: report it as an error.
        let result = std::future::poll_fn(|cx| {
            catch_unwind(AssertUnwindSafe(|| sample.as_mut().poll(cx)))
                .unwrap_or_else(|_| Poll::Ready(Err(panicked())))
        })
        .await;
        drop(sample);
        let ok = result.is_ok();
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
        let next = next_tick(
            tick_origin(),
            Instant::now(),
            period(interval, failures, max_factor),
        );
        tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
    }
}

fn run_source(
    index: usize,
    run: u64,
    mut sched: Scheduled,
    tx: Sender<Update>,
    stop: Arc<AtomicBool>,
) {
    let max_factor = sched.max_backoff_factor;
    let Runner::Thread(source) = &mut sched.runner else {
        unreachable!("run_source is given thread sources")
    };
    let interval = source.interval().max(Duration::from_millis(10));
    let mut failures: u32 = 0;
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        // A panicking source must not take the agent down: report it as an error.
        let result =
            catch_unwind(AssertUnwindSafe(|| source.sample())).unwrap_or_else(|_| Err(panicked()));
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
        next += period(interval, failures, max_factor);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SampleFuture;
    use std::sync::Mutex;

    /// A task source whose samples record when they started, and then do what `behave` says
    /// for the sample numbered N (from 0): wait so long, panic, or fail.
    struct Probe {
        name: String,
        interval: Duration,
        starts: Arc<Mutex<Vec<Instant>>>,
        behave: fn(usize) -> Behave,
    }

    #[derive(Clone, Copy)]
    enum Behave {
        Answer,
        Wait(Duration),
        Panic,
    }

    impl AsyncSource for Probe {
        fn name(&self) -> &str {
            &self.name
        }
        fn interval(&self) -> Duration {
            self.interval
        }
        fn sample(&mut self) -> SampleFuture<'_> {
            let n = {
                let mut starts = self.starts.lock().unwrap();
                starts.push(Instant::now());
                starts.len() - 1
            };
            let behave = (self.behave)(n);
            Box::pin(async move {
                match behave {
                    Behave::Answer => {}
                    Behave::Wait(d) => tokio::time::sleep(d).await,
                    Behave::Panic => panic!("probe {n} panics"),
                }
                Ok(Snapshot::default())
            })
        }
    }

    fn probe(
        name: &str,
        ms: u64,
        behave: fn(usize) -> Behave,
    ) -> (Scheduled, Arc<Mutex<Vec<Instant>>>) {
        let starts = Arc::new(Mutex::new(Vec::new()));
        let p = Probe {
            name: name.into(),
            interval: Duration::from_millis(ms),
            starts: starts.clone(),
            behave,
        };
        (Scheduled::task(Box::new(p)), starts)
    }

    /// The updates of source `index` received within `d`.
    fn updates_of(rx: &Receiver<Update>, index: usize, d: Duration) -> Vec<Update> {
        let end = Instant::now() + d;
        let mut got = Vec::new();
        while let Ok(u) = rx.recv_deadline(end) {
            if u.source == index {
                got.push(u);
            }
        }
        got
    }

    #[test]
    fn ticks_are_multiples_of_the_period_from_the_origin() {
        let o = Instant::now();
        let s = Duration::from_secs(1);
        assert_eq!(next_tick(o, o, s), o + s);
        assert_eq!(next_tick(o, o + Duration::from_millis(10), s), o + s);
        assert_eq!(next_tick(o, o + s, s), o + 2 * s);
        assert_eq!(next_tick(o, o + Duration::from_millis(2999), s), o + 3 * s);
        let half = Duration::from_millis(500);
        assert_eq!(
            next_tick(o, o + Duration::from_millis(700), half),
            o + 2 * half
        );
    }

    #[test]
    fn tasks_of_one_interval_sample_together_and_a_hung_one_holds_no_other() {
        let (mut sched, rx) = Scheduler::new();
        let (a, a_starts) = probe("a", 200, |_| Behave::Answer);
        let (b, b_starts) = probe("b", 200, |_| Behave::Answer);
        // The hung one: its second sample waits far longer than the test.
        let (h, _) = probe("h", 200, |n| {
            if n == 1 {
                Behave::Wait(Duration::from_secs(60))
            } else {
                Behave::Answer
            }
        });
        sched.spawn(0, a);
        std::thread::sleep(Duration::from_millis(70)); // started apart
        sched.spawn(1, b);
        sched.spawn(2, h);
        let got = updates_of(&rx, 0, Duration::from_millis(1500));
        assert!(got.len() >= 6, "a kept its pace: {} samples", got.len());
        let a_starts = a_starts.lock().unwrap().clone();
        let b_starts = b_starts.lock().unwrap().clone();
        // After the first sample (at spawn), both sample on the same ticks.
        let mut matched = 0;
        for t in &a_starts[1..] {
            let close = b_starts[1..].iter().any(|u| {
                let d = if u > t { *u - *t } else { *t - *u };
                d < Duration::from_millis(20)
            });
            matched += close as usize;
        }
        assert!(
            matched + 1 >= a_starts.len() - 1,
            "{a_starts:?} / {b_starts:?}"
        );
        sched.stop(0);
        sched.stop(1);
        sched.stop(2);
    }

    #[test]
    fn a_panicking_task_reports_an_error_and_samples_again() {
        let (mut sched, rx) = Scheduler::new();
        let (p, _) = probe("p", 50, |n| {
            if n == 0 {
                Behave::Panic
            } else {
                Behave::Answer
            }
        });
        sched.spawn(3, p);
        let got = updates_of(&rx, 3, Duration::from_millis(400));
        assert!(got.len() >= 2, "{got:?}");
        assert_eq!(got[0].result.as_ref().unwrap_err().0, panicked().0);
        assert!(got[1].result.is_ok());
        sched.stop(3);
    }

    #[test]
    fn a_stopped_task_sends_nothing_more_even_mid_sample() {
        let (mut sched, rx) = Scheduler::new();
        let (p, starts) = probe("s", 50, |n| {
            if n == 2 {
                Behave::Wait(Duration::from_millis(300))
            } else {
                Behave::Answer
            }
        });
        let info = sched.spawn(4, p);
        assert_eq!(info.name, "s");
        // Stopped while its third sample waits.
        while starts.lock().unwrap().len() < 3 {
            std::thread::sleep(Duration::from_millis(5));
        }
        sched.stop(4);
        let before = rx.try_iter().filter(|u| u.source == 4).count();
        assert_eq!(before, 2);
        let after = updates_of(&rx, 4, Duration::from_millis(600));
        assert!(after.is_empty(), "{after:?}");
        assert_eq!(starts.lock().unwrap().len(), 3, "no sample after the stop");
    }
}
