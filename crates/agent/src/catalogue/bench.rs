//! `llm.bench.*`: live progress of benchmark runs, from the run files `pcp llm run` writes to
//! the spool directory and from GuideLLM logs followed by `[[progress]]` sections (the source
//! is `crates/agent/src/sources/progress/`). Clusters 70..=79, indom serials 70..=79.
//!
//! One instance per run. Values a channel does not carry (the TTFT of a followed GuideLLM log,
//! the progress of a command that is not GuideLLM) have no value rather than a made-up one.

use super::{Indom, LogGroup, Metric, Section, Semantics::*, Type::*};
use pcp::Units;

/// Per run: state, command, times, marks.
pub const CLUSTER_RUN: u32 = 70;
/// Per run: the benchmark (strategy step) in progress and its counts and rates.
pub const CLUSTER_BENCHMARK: u32 = 71;
/// The progress source itself (singular).
pub const CLUSTER_SPOOL: u32 = 72;

pub static RUNS: Indom = Indom {
    serial: 70,
    name: "bench_runs",
    oneline: "benchmark runs",
    help: "One instance per benchmark run. A run recorded by pcp llm run is named \
USER/RUN_ID: USER is the owner of its spool file (never what the file says) and RUN_ID the \
file's name without .jsonl. A GuideLLM log followed by a [[progress]] section is named after \
the section. Labels: tool, tool_version, target, model, user and the run's own --label \
pairs (at most 16; they cannot replace the others). A run's instance disappears a while after it ended (llm.conf [bench] \
expire).",
};

pub static SECTION: Section = Section {
    metrics: METRICS,
    indoms: &[&RUNS],
    groups: &[LogGroup {
        file: "bench",
        ident: "benchmark run progress (pcp llm run, GuideLLM logs)",
        probe: "llm.bench.spool.runs",
        probe_kind: "exists",
        interval: "1sec",
        metrics: &["llm.bench"],
    }],
};

pub const ITEM_STATE: u32 = 0;
pub const ITEM_COMMAND: u32 = 1;
pub const ITEM_START: u32 = 2;
pub const ITEM_ELAPSED: u32 = 3;
pub const ITEM_EXIT_STATUS: u32 = 4;
pub const ITEM_SIGNAL: u32 = 5;
pub const ITEM_MARK: u32 = 6;
pub const ITEM_MARKS: u32 = 7;
pub const ITEM_TOOL: u32 = 8;

pub const ITEM_INDEX: u32 = 0;
pub const ITEM_COUNT: u32 = 1;
pub const ITEM_STRATEGY: u32 = 2;
pub const ITEM_STRATEGY_TARGET: u32 = 3;
pub const ITEM_STATUS: u32 = 4;
pub const ITEM_BENCH_ELAPSED: u32 = 5;
pub const ITEM_SUCCESSFUL: u32 = 6;
pub const ITEM_ERRORED: u32 = 7;
pub const ITEM_INCOMPLETE: u32 = 8;
pub const ITEM_IN_FLIGHT: u32 = 9;
pub const ITEM_REQUEST_RATE: u32 = 10;
pub const ITEM_OUTPUT_TOKEN_RATE: u32 = 11;
pub const ITEM_TOTAL_TOKEN_RATE: u32 = 12;
pub const ITEM_TTFT: u32 = 13;
pub const ITEM_ITL: u32 = 14;
pub const ITEM_LATENCY: u32 = 15;

pub const ITEM_RUNS: u32 = 0;
pub const ITEM_LINES: u32 = 1;
pub const ITEM_MALFORMED: u32 = 2;
pub const ITEM_REFUSED: u32 = 3;

macro_rules! run_metric {
    ($name:literal, $c:expr, $i:expr, $ty:ident, $sem:ident, $units:expr, $one:literal, $help:literal) => {
        indexed_metric!($name, $c, $i, $ty, $sem, $units, &RUNS, $one, $help)
    };
}

const METRICS: &[Metric] = &[
    run_metric!(
        "llm.bench.run.state",
        CLUSTER_RUN,
        ITEM_STATE,
        String,
        Instant,
        Units::NONE,
        "run state: idle, running, finished or failed",
        "\"idle\": known but no benchmark command is running (a followed GuideLLM log that \
does not exist yet or has not started a benchmark); \"running\": the command runs; \
\"finished\": it exited with status 0 (or GuideLLM logged that all benchmarks were \
finalized); \"failed\": it exited with another status or was killed \
(llm.bench.run.exit_status, llm.bench.run.signal), or its writer stopped updating the run \
file for longer than llm.conf [bench] stale_after without writing an end."
    ),
    run_metric!(
        "llm.bench.run.command",
        CLUSTER_RUN,
        ITEM_COMMAND,
        String,
        Discrete,
        Units::NONE,
        "command line of the run",
        "The command pcp llm run started, its words joined by spaces (at most 1024 bytes), \
or the followed file's path for a [[progress]] section."
    ),
    run_metric!(
        "llm.bench.run.start_time",
        CLUSTER_RUN,
        ITEM_START,
        Double,
        Discrete,
        Units::SEC,
        "when the run started, seconds since the epoch",
        "Wall-clock time at which pcp llm run started the command, in seconds since \
1970-01-01 UTC (for a followed GuideLLM log: the time of its first line)."
    ),
    run_metric!(
        "llm.bench.run.elapsed",
        CLUSTER_RUN,
        ITEM_ELAPSED,
        Double,
        Instant,
        Units::SEC,
        "time since the run started",
        "Seconds from the start of the run to now while it runs, to its end once it ended."
    ),
    run_metric!(
        "llm.bench.run.exit_status",
        CLUSTER_RUN,
        ITEM_EXIT_STATUS,
        I32,
        Instant,
        Units::NONE,
        "exit status of the command",
        "The command's exit status once it exited; 128+N when signal N killed it; -1 when \
its end was never recorded (the run went stale). No value while it runs."
    ),
    run_metric!(
        "llm.bench.run.signal",
        CLUSTER_RUN,
        ITEM_SIGNAL,
        I32,
        Instant,
        Units::NONE,
        "signal that killed the command, 0 if none",
        "The number of the signal that ended the command, or 0 when it exited by itself. No \
value while it runs."
    ),
    run_metric!(
        "llm.bench.run.mark",
        CLUSTER_RUN,
        ITEM_MARK,
        String,
        Instant,
        Units::NONE,
        "the latest mark of the run",
        "Text of the latest pcp llm mark written into the run (at most 256 bytes), e.g. a \
phase of a driver script such as \"native-offload c=25\"; empty before the first."
    ),
    run_metric!(
        "llm.bench.run.marks",
        CLUSTER_RUN,
        ITEM_MARKS,
        U64,
        Counter,
        Units::COUNT,
        "marks written into the run",
        "Number of pcp llm mark lines the run has received."
    ),
    run_metric!(
        "llm.bench.run.tool",
        CLUSTER_RUN,
        ITEM_TOOL,
        String,
        Discrete,
        Units::NONE,
        "load generator of the run",
        "\"guidellm\" when the command is GuideLLM, otherwise the command's program name \
(also the instance label tool)."
    ),
    run_metric!(
        "llm.bench.benchmark.index",
        CLUSTER_BENCHMARK,
        ITEM_INDEX,
        U32,
        Instant,
        Units::NONE,
        "number of the current benchmark, from 1",
        "Which benchmark (strategy step, e.g. one concurrency of a sweep) of the run is in \
progress or was the last, counted from 1. No value before the first benchmark starts."
    ),
    run_metric!(
        "llm.bench.benchmark.count",
        CLUSTER_BENCHMARK,
        ITEM_COUNT,
        U32,
        Discrete,
        Units::NONE,
        "number of benchmarks planned in the run",
        "How many benchmarks the run will do, from GuideLLM's arguments (the number of \
--rate or profile.streams values, or the sweep size). No value when unknown."
    ),
    run_metric!(
        "llm.bench.benchmark.strategy",
        CLUSTER_BENCHMARK,
        ITEM_STRATEGY,
        String,
        Instant,
        Units::NONE,
        "strategy of the current benchmark",
        "GuideLLM's strategy name: synchronous, throughput, concurrent, constant, poisson."
    ),
    run_metric!(
        "llm.bench.benchmark.strategy_target",
        CLUSTER_BENCHMARK,
        ITEM_STRATEGY_TARGET,
        Double,
        Instant,
        Units::NONE,
        "concurrency or rate of the current benchmark",
        "The strategy's target: the number of concurrent streams for concurrent, requests \
per second for constant and poisson (GuideLLM's concurrent@4, constant@2.5). No value for \
strategies without one."
    ),
    run_metric!(
        "llm.bench.benchmark.status",
        CLUSTER_BENCHMARK,
        ITEM_STATUS,
        String,
        Instant,
        Units::NONE,
        "status of the current benchmark",
        "pending, warmup, active, cooldown, compile or completed (GuideLLM 0.8's words; \
0.5's running and complete are reported as active and completed)."
    ),
    run_metric!(
        "llm.bench.benchmark.elapsed",
        CLUSTER_BENCHMARK,
        ITEM_BENCH_ELAPSED,
        Double,
        Instant,
        Units::SEC,
        "time since the current benchmark started",
        "Seconds since the current benchmark started, as its tool last reported it."
    ),
    run_metric!(
        "llm.bench.requests.successful",
        CLUSTER_BENCHMARK,
        ITEM_SUCCESSFUL,
        U64,
        Counter,
        Units::COUNT,
        "requests completed successfully in the run",
        "Requests that completed successfully, over all benchmarks of the run so far (the \
finished benchmarks' final counts plus the current one's latest), so the counter never \
goes back when a new benchmark starts. A followed GuideLLM 0.8 log updates it every 10 s."
    ),
    run_metric!(
        "llm.bench.requests.errored",
        CLUSTER_BENCHMARK,
        ITEM_ERRORED,
        U64,
        Counter,
        Units::COUNT,
        "requests that failed in the run",
        "Requests that ended in an error, over all benchmarks of the run so far."
    ),
    run_metric!(
        "llm.bench.requests.incomplete",
        CLUSTER_BENCHMARK,
        ITEM_INCOMPLETE,
        U64,
        Counter,
        Units::COUNT,
        "requests cancelled in the run",
        "Requests cancelled before they completed (at the end of a benchmark), over all \
benchmarks of the run so far."
    ),
    run_metric!(
        "llm.bench.requests.in_flight",
        CLUSTER_BENCHMARK,
        ITEM_IN_FLIGHT,
        U64,
        Instant,
        Units::COUNT,
        "requests in flight now",
        "Requests sent and not yet answered, from the progress hook; no value from log files."
    ),
    run_metric!(
        "llm.bench.rate.requests",
        CLUSTER_BENCHMARK,
        ITEM_REQUEST_RATE,
        Double,
        Instant,
        Units::COUNT_PER_SEC,
        "requests per second of the current benchmark",
        "Successful requests per second of the current benchmark, as its tool computes it."
    ),
    run_metric!(
        "llm.bench.rate.output_tokens",
        CLUSTER_BENCHMARK,
        ITEM_OUTPUT_TOKEN_RATE,
        Double,
        Instant,
        Units::COUNT_PER_SEC,
        "output tokens per second of the current benchmark",
        "Generated tokens per second of the current benchmark, as its tool computes it."
    ),
    run_metric!(
        "llm.bench.rate.total_tokens",
        CLUSTER_BENCHMARK,
        ITEM_TOTAL_TOKEN_RATE,
        Double,
        Instant,
        Units::COUNT_PER_SEC,
        "prompt plus output tokens per second",
        "Prompt and generated tokens per second of the current benchmark; no value from \
GuideLLM's log, which does not carry it."
    ),
    run_metric!(
        "llm.bench.latency.ttft",
        CLUSTER_BENCHMARK,
        ITEM_TTFT,
        Double,
        Instant,
        Units::MSEC,
        "mean time to first token of the current benchmark",
        "Mean time from sending a request to its first token, in milliseconds, over the \
current benchmark's completed requests; no value from GuideLLM's log."
    ),
    run_metric!(
        "llm.bench.latency.itl",
        CLUSTER_BENCHMARK,
        ITEM_ITL,
        Double,
        Instant,
        Units::MSEC,
        "mean inter-token latency of the current benchmark",
        "Mean time between tokens after the first, in milliseconds, over the current \
benchmark's completed requests; no value from GuideLLM's log."
    ),
    run_metric!(
        "llm.bench.latency.request",
        CLUSTER_BENCHMARK,
        ITEM_LATENCY,
        Double,
        Instant,
        Units::SEC,
        "mean request latency of the current benchmark",
        "Mean time from sending a request to its last token, in seconds, over the current \
benchmark's completed requests; no value from GuideLLM's log."
    ),
    Metric {
        name: "llm.bench.spool.runs",
        cluster: CLUSTER_SPOOL,
        item: ITEM_RUNS,
        ty: U32,
        sem: Instant,
        units: Units::NONE,
        indom: None,
        oneline: "runs the agent knows now",
        help: "Number of runs in the spool directory the agent follows now (not yet expired; \
[[progress]] files not included). 0 when there are none; always has a value while the \
progress source runs (llm.conf [bench] enabled).",
    },
    Metric {
        name: "llm.bench.spool.lines",
        cluster: CLUSTER_SPOOL,
        item: ITEM_LINES,
        ty: U64,
        sem: Counter,
        units: Units::COUNT,
        indom: None,
        oneline: "run file lines read",
        help: "Lines the progress source has read from run files in the spool directory.",
    },
    Metric {
        name: "llm.bench.spool.malformed",
        cluster: CLUSTER_SPOOL,
        item: ITEM_MALFORMED,
        ty: U64,
        sem: Counter,
        units: Units::COUNT,
        indom: None,
        oneline: "run file lines skipped as malformed",
        help: "Lines of spool run files that were not valid JSON run records, or longer than \
4096 bytes; each is skipped (and logged, rate-limited).",
    },
    Metric {
        name: "llm.bench.spool.refused",
        cluster: CLUSTER_SPOOL,
        item: ITEM_REFUSED,
        ty: U64,
        sem: Counter,
        units: Units::COUNT,
        indom: None,
        oneline: "spool files refused",
        help: "Spool entries not followed: not a regular file, a name that is not \
RUN_ID.jsonl, or more runs than llm.conf [bench] max_runs. Counted once per entry.",
    },
];
