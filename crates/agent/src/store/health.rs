//! Source health: what each source's last samples did, exported as `llm.agent.source.*` (one
//! instance per source).

use super::Store;
use crate::catalogue::agent as cat;
use pcp::pmda::Atom;
use std::ffi::CString;
use std::time::Duration;

#[derive(Debug, Default, Clone)]
pub(super) struct SourceStatus {
    up: bool,
    /// The current error: cleared by a successful sample.
    last_error: String,
    /// The most recent error and when it happened, kept after recovery.
    previous_error: String,
    last_error_time: f64,
    last_success: f64,
    last_attempt: f64,
    duration: f64,
    samples: u64,
    errors: u64,
    /// Last error text written to the log, to log a persisting failure once, not every second.
    logged_error: Option<String>,
    /// Dynamic metric names this source added in this run (bounded by its `max_names`).
    pub(super) names_added: usize,
    pub(super) refused_names: u64,
    pub(super) refused_series: u64,
}

impl SourceStatus {
    /// A sample was taken at `at` (seconds since the epoch) and took `duration`.
    pub(super) fn attempted(&mut self, at: f64, duration: Duration) {
        self.last_attempt = at;
        self.duration = duration.as_secs_f64();
    }

    /// The sample succeeded; returns whether this ends a failure that was logged (so that the
    /// recovery is logged too).
    pub(super) fn succeeded(&mut self, at: f64) -> bool {
        self.up = true;
        self.samples += 1;
        self.last_success = at;
        self.last_error.clear();
        self.logged_error.take().is_some()
    }

    /// The sample failed with `error`; returns whether it is to be logged (not when the same
    /// error was logged last).
    pub(super) fn failed(&mut self, at: f64, error: &str) -> bool {
        self.up = false;
        self.errors += 1;
        self.last_error.clear();
        self.last_error.push_str(error);
        self.previous_error.clear();
        self.previous_error.push_str(error);
        self.last_error_time = at;
        if self.logged_error.as_deref() == Some(error) {
            return false;
        }
        self.logged_error = Some(error.to_string());
        true
    }
}

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

impl Store {
    /// The `llm.agent.source.*` values of one source: an update changes only its own.
    pub(super) fn set_source_status(&mut self, i: usize) {
        use cat::*;
        let c = CLUSTER_SOURCES;
        let st = self.status[i].clone();
        let inst = i as u32;
        let interval = self.sources[i].interval.as_secs_f64();
        self.set(c, ITEM_SRC_UP, inst, Atom::U32(st.up as u32));
        self.set(
            c,
            ITEM_SRC_LAST_ERROR,
            inst,
            Atom::Str(c_string(&st.last_error)),
        );
        self.set(
            c,
            ITEM_SRC_PREVIOUS_ERROR,
            inst,
            Atom::Str(c_string(&st.previous_error)),
        );
        self.set(
            c,
            ITEM_SRC_LAST_ERROR_TIME,
            inst,
            Atom::F64(st.last_error_time),
        );
        self.set(c, ITEM_SRC_LAST_SUCCESS, inst, Atom::F64(st.last_success));
        self.set(c, ITEM_SRC_LAST_ATTEMPT, inst, Atom::F64(st.last_attempt));
        self.set(c, ITEM_SRC_DURATION, inst, Atom::F64(st.duration));
        self.set(c, ITEM_SRC_SAMPLES, inst, Atom::U64(st.samples));
        self.set(c, ITEM_SRC_ERRORS, inst, Atom::U64(st.errors));
        self.set(c, ITEM_SRC_REFUSED_NAMES, inst, Atom::U64(st.refused_names));
        self.set(
            c,
            ITEM_SRC_REFUSED_SERIES,
            inst,
            Atom::U64(st.refused_series),
        );
        self.set(c, ITEM_SRC_INTERVAL, inst, Atom::F64(interval));
    }
}

#[cfg(test)]
mod tests {
    use crate::catalogue::agent as cat;
    use crate::sources::scheduler::Update;
    use crate::sources::{IndomInstances, Instance, MetricId, Snapshot, SourceError, Value};
    use crate::store::Atom;
    use crate::store::tests::{idx, ok, store};
    use std::time::{Duration, SystemTime};

    #[test]
    fn errors_are_reported_once_and_withdraw_values() {
        let mut s = store();
        let up = idx(&s, "llm.agent.source.up");
        let mut snap = Snapshot::default();
        snap.indoms.push(IndomInstances {
            indom_serial: 0,
            instances: vec![Instance {
                id: 7,
                name: "extra".into(),
                labels: vec![("k".into(), "v".into())],
            }],
        });
        snap.put(
            MetricId::new(cat::CLUSTER_SOURCES, cat::ITEM_SRC_SAMPLES),
            7,
            Value::U64(42),
        );
        assert!(s.apply(ok(snap)).is_empty());
        assert!(matches!(s.value(up, 0), Some(Atom::U32(1))));
        assert_eq!(
            s.indom(0).unwrap().instances[&7].labels_json.as_deref(),
            Some(r#"{"k":"v"}"#)
        );
        let fail = || Update {
            source: 0,
            run: 1,
            at: SystemTime::now(),
            duration: Duration::ZERO,
            result: Err(SourceError("boom".into())),
        };
        assert_eq!(s.apply(fail()), vec!["source test: boom".to_string()]);
        assert!(
            s.apply(fail()).is_empty(),
            "a persisting error is logged once"
        );
        assert!(matches!(s.value(up, 0), Some(Atom::U32(0))));
        assert!(
            !s.indom(0).unwrap().instances.contains_key(&7),
            "instances are withdrawn"
        );
        let errors = idx(&s, "llm.agent.source.errors");
        assert!(matches!(s.value(errors, 0), Some(Atom::U64(2))));
        let last = idx(&s, "llm.agent.source.last_error");
        assert!(matches!(s.value(last, 0), Some(Atom::Str(t)) if t.to_str().unwrap() == "boom"));
        let when = idx(&s, "llm.agent.source.last_error_time");
        assert!(matches!(s.value(when, 0), Some(Atom::F64(t)) if *t > 1e9));

        // Recovery clears the current error; the previous one and its time stay visible.
        assert_eq!(
            s.apply(ok(Snapshot::default())),
            vec!["source test: recovered".to_string()]
        );
        assert!(matches!(s.value(last, 0), Some(Atom::Str(t)) if t.is_empty()));
        let prev = idx(&s, "llm.agent.source.previous_error");
        assert!(matches!(s.value(prev, 0), Some(Atom::Str(t)) if t.to_str().unwrap() == "boom"));
        assert!(matches!(s.value(when, 0), Some(Atom::F64(t)) if *t > 1e9));
    }
}
