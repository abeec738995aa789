//! `llm.agent.*`: the agent's own metrics. They always exist and always have values, and they
//! are what tells a user *why* another metric has no value (a source down, a config error).

use super::{Indom, LogGroup, Metric, Section, Semantics::*, Type::*};
use pcp::Units;

pub const CLUSTER_AGENT: u32 = 0;
pub const CLUSTER_SOURCES: u32 = 1;

pub static SOURCES: Indom = Indom {
    serial: 0,
    name: "sources",
    oneline: "data sources of the llm agent",
    help: "One instance per data source the agent samples: \"gpu\" for NVML, one per configured \
vLLM, LMCache or llm-d endpoint (named after its configured name), \"membw\" and \"progress\". \
Instance names are stable across restarts.",
};

pub static SECTION: Section = Section {
    metrics: METRICS,
    indoms: &[&SOURCES],
    groups: &[LogGroup {
        file: "agent",
        ident: "llm agent health: source status and errors",
        probe: "llm.agent.version",
        probe_kind: "exists",
        interval: "default",
        metrics: &["llm.agent"],
    }],
};

// Item numbers within the clusters; kept as named constants because the store writes them.
pub const ITEM_VERSION: u32 = 0;
pub const ITEM_UPTIME: u32 = 1;
pub const ITEM_FETCHES: u32 = 2;
pub const ITEM_CONFIG_FILE: u32 = 3;
pub const ITEM_CONFIG_ERRORS: u32 = 4;
pub const ITEM_CONFIG_LAST_ERROR: u32 = 5;
pub const ITEM_DYNAMIC_METRICS: u32 = 6;
pub const ITEM_LOG_SUPPRESSED: u32 = 7;
pub const ITEM_SRC_UP: u32 = 0;
pub const ITEM_SRC_LAST_ERROR: u32 = 1;
pub const ITEM_SRC_LAST_SUCCESS: u32 = 2;
pub const ITEM_SRC_DURATION: u32 = 3;
pub const ITEM_SRC_SAMPLES: u32 = 4;
pub const ITEM_SRC_ERRORS: u32 = 5;
pub const ITEM_SRC_INTERVAL: u32 = 6;
pub const ITEM_SRC_LAST_ATTEMPT: u32 = 7;
pub const ITEM_SRC_LAST_ERROR_TIME: u32 = 8;
pub const ITEM_SRC_PREVIOUS_ERROR: u32 = 9;
pub const ITEM_SRC_REFUSED_NAMES: u32 = 10;
pub const ITEM_SRC_REFUSED_SERIES: u32 = 11;

const METRICS: &[Metric] = &[
    Metric {
        name: "llm.agent.version",
        cluster: CLUSTER_AGENT,
        item: ITEM_VERSION,
        ty: String,
        sem: Discrete,
        units: Units::NONE,
        indom: None,
        oneline: "version of the pmdallm agent",
        help: "The version of pmdallm, from its Cargo package version.",
    },
    Metric {
        name: "llm.agent.uptime",
        cluster: CLUSTER_AGENT,
        item: ITEM_UPTIME,
        ty: U64,
        sem: Instant,
        units: Units::SEC,
        indom: None,
        oneline: "seconds since the agent started",
        help: "Elapsed time since this pmdallm process started. It restarts from zero when pmcd \
restarts the agent.",
    },
    Metric {
        name: "llm.agent.fetches",
        cluster: CLUSTER_AGENT,
        item: ITEM_FETCHES,
        ty: U64,
        sem: Counter,
        units: Units::COUNT,
        indom: None,
        oneline: "fetch requests answered by the agent",
        help: "Number of fetch PDUs from pmcd this agent has answered since it started.",
    },
    Metric {
        name: "llm.agent.config.file",
        cluster: CLUSTER_AGENT,
        item: ITEM_CONFIG_FILE,
        ty: String,
        sem: Discrete,
        units: Units::NONE,
        indom: None,
        oneline: "configuration file in use",
        help: "Path of the configuration file the agent read, or \"(built-in defaults)\" when \
none was found.",
    },
    Metric {
        name: "llm.agent.config.errors",
        cluster: CLUSTER_AGENT,
        item: ITEM_CONFIG_ERRORS,
        ty: U32,
        sem: Discrete,
        units: Units::COUNT,
        indom: None,
        oneline: "number of errors found in the configuration file",
        help: "Number of errors found when the configuration was read. A section with an error \
falls back to its built-in defaults; the other sections are used as written.",
    },
    Metric {
        name: "llm.agent.config.last_error",
        cluster: CLUSTER_AGENT,
        item: ITEM_CONFIG_LAST_ERROR,
        ty: String,
        sem: Discrete,
        units: Units::NONE,
        indom: None,
        oneline: "the last configuration error, with file and line",
        help: "Text of the last configuration error in the form FILE:LINE: message, or an empty \
string when the configuration is valid.",
    },
    Metric {
        // Lives in the dynamic subtree so that it is never empty (an empty dynamic subtree
        // shows up in pminfo as a name that cannot be looked up).
        name: "llm.other.metrics",
        cluster: CLUSTER_AGENT,
        item: ITEM_DYNAMIC_METRICS,
        ty: U32,
        sem: Instant,
        units: Units::COUNT,
        indom: None,
        oneline: "number of metrics found at run time under llm.other",
        help: "How many metric names the agent has added under llm.other for Prometheus families \
its catalogue does not know (a newer vLLM, LMCache or llm-d), including those remembered from \
earlier runs in $PCP_VAR_DIR/config/pmda/llm.dynamic.",
    },
    Metric {
        name: "llm.agent.source.up",
        cluster: CLUSTER_SOURCES,
        item: ITEM_SRC_UP,
        ty: U32,
        sem: Instant,
        units: Units::NONE,
        indom: Some(&SOURCES),
        oneline: "1 if the source's last sample succeeded, else 0",
        help: "1 when the most recent sample of this source succeeded, 0 when it failed or has \
not completed yet. When it is 0, llm.agent.source.last_error says why.",
    },
    Metric {
        name: "llm.agent.source.last_error",
        cluster: CLUSTER_SOURCES,
        item: ITEM_SRC_LAST_ERROR,
        ty: String,
        sem: Discrete,
        units: Units::NONE,
        indom: Some(&SOURCES),
        oneline: "why the source's current sample failed; empty while it works",
        help: "Why the most recent sample of this source failed (connection refused, HTTP \
status, timeout, parse error at line N, NVML library missing, ...), while it is failing. It is \
cleared by the next successful sample, so a non-empty value always means a current fault. The \
error before a recovery stays visible in llm.agent.source.previous_error and \
llm.agent.source.last_error_time.",
    },
    Metric {
        name: "llm.agent.source.last_success",
        cluster: CLUSTER_SOURCES,
        item: ITEM_SRC_LAST_SUCCESS,
        ty: Double,
        sem: Instant,
        units: Units::SEC,
        indom: Some(&SOURCES),
        oneline: "time of the last successful sample (seconds since the epoch)",
        help: "Unix time, in seconds, at which the most recent successful sample of this source \
completed; 0 if none has succeeded yet.",
    },
    Metric {
        name: "llm.agent.source.sample_duration",
        cluster: CLUSTER_SOURCES,
        item: ITEM_SRC_DURATION,
        ty: Double,
        sem: Instant,
        units: Units::SEC,
        indom: Some(&SOURCES),
        oneline: "how long the source's last sample took",
        help: "Wall-clock time of the most recent sample attempt of this source, successful or \
not (for an HTTP source: connect, request and parse).",
    },
    Metric {
        name: "llm.agent.source.samples",
        cluster: CLUSTER_SOURCES,
        item: ITEM_SRC_SAMPLES,
        ty: U64,
        sem: Counter,
        units: Units::COUNT,
        indom: Some(&SOURCES),
        oneline: "successful samples taken from the source",
        help: "Number of successful samples of this source since the agent started.",
    },
    Metric {
        name: "llm.agent.source.errors",
        cluster: CLUSTER_SOURCES,
        item: ITEM_SRC_ERRORS,
        ty: U64,
        sem: Counter,
        units: Units::COUNT,
        indom: Some(&SOURCES),
        oneline: "failed samples of the source",
        help: "Number of failed sample attempts of this source since the agent started.",
    },
    Metric {
        name: "llm.agent.source.interval",
        cluster: CLUSTER_SOURCES,
        item: ITEM_SRC_INTERVAL,
        ty: Double,
        sem: Discrete,
        units: Units::SEC,
        indom: Some(&SOURCES),
        oneline: "configured sampling interval of the source",
        help: "The interval at which the agent samples this source, from llm.conf or the \
built-in default. Failing sources are retried with back-off up to a few times this interval.",
    },
    Metric {
        name: "llm.agent.source.last_attempt",
        cluster: CLUSTER_SOURCES,
        item: ITEM_SRC_LAST_ATTEMPT,
        ty: Double,
        sem: Instant,
        units: Units::SEC,
        indom: Some(&SOURCES),
        oneline: "time of the last sample attempt (seconds since the epoch)",
        help: "Unix time, in seconds, at which the most recent sample attempt of this source \
completed, successful or not; 0 if none has completed yet.",
    },
    Metric {
        name: "llm.agent.source.last_error_time",
        cluster: CLUSTER_SOURCES,
        item: ITEM_SRC_LAST_ERROR_TIME,
        ty: Double,
        sem: Instant,
        units: Units::SEC,
        indom: Some(&SOURCES),
        oneline: "time of the source's last failed sample (seconds since the epoch)",
        help: "Unix time, in seconds, at which the most recent failed sample of this source \
completed; 0 if none has failed. Kept after the source recovers: compare with \
llm.agent.source.last_success.",
    },
    Metric {
        name: "llm.agent.source.previous_error",
        cluster: CLUSTER_SOURCES,
        item: ITEM_SRC_PREVIOUS_ERROR,
        ty: String,
        sem: Discrete,
        units: Units::NONE,
        indom: Some(&SOURCES),
        oneline: "text of the source's most recent failure, kept after recovery",
        help: "Why the most recent failed sample of this source failed, kept after the source \
recovers (llm.agent.source.last_error is then empty); empty if it never failed. \
llm.agent.source.last_error_time says when.",
    },
    Metric {
        name: "llm.agent.log_suppressed",
        cluster: CLUSTER_AGENT,
        item: ITEM_LOG_SUPPRESSED,
        ty: U64,
        sem: Counter,
        units: Units::COUNT,
        indom: None,
        oneline: "log lines not written because of the log rate limit",
        help: "Number of log lines the agent did not write since it started: each source may \
write at most log_lines lines per log_period ([agent] in llm.conf, by default 10 per 10 \
minutes), and a message it repeats within the period is written once. When a period with \
suppressed lines ends, one line says how many were suppressed.",
    },
    Metric {
        name: "llm.agent.source.refused_names",
        cluster: CLUSTER_SOURCES,
        item: ITEM_SRC_REFUSED_NAMES,
        ty: U64,
        sem: Counter,
        units: Units::COUNT,
        indom: Some(&SOURCES),
        oneline: "new metric names the source offered that the agent refused",
        help: "Number of times a sample of this source offered a metric name new to the agent \
(an unknown Prometheus family, for llm.other) that was refused: over max_new_names_per_scrape \
in one sample, over max_names for the source in all (both set per endpoint in llm.conf), over \
the agent's limit of names under llm.other, or not a valid name. Its values still go to the \
generic other.value metric.",
    },
    Metric {
        name: "llm.agent.source.refused_series",
        cluster: CLUSTER_SOURCES,
        item: ITEM_SRC_REFUSED_SERIES,
        ty: U64,
        sem: Counter,
        units: Units::COUNT,
        indom: Some(&SOURCES),
        oneline: "series refused because a name or label was too long",
        help: "Number of series this source offered that were refused because the metric name, \
a label name or value, or the instance name built from them was longer than max_name_length, \
max_label_length or max_instance_length (set per endpoint in llm.conf). Such series are \
dropped, never truncated.",
    },
];
