//! The rate-limited log: every line the store writes about a source (or about itself) goes
//! through that source's [`LogBudget`], and what is held back is counted in
//! `llm.agent.log_suppressed`.

use super::{ConfigStatus, Store};
use std::time::Instant;

/// The log budget of one source (or of the agent): at most `log_lines` lines per period, a
/// message repeated within the period written once; what is held back is counted and
/// summarised when the period ends. Its memory is bounded (a few hashes), whatever the source.
#[derive(Debug)]
pub(super) struct LogBudget {
    since: Instant,
    lines: u32,
    suppressed: u64,
    pub(super) recent: Vec<u64>,
}

/// How many distinct messages of a period a budget remembers, to write a repeated one once.
pub(super) const RECENT_MESSAGES: usize = 32;

impl LogBudget {
    fn new() -> LogBudget {
        LogBudget {
            since: Instant::now(),
            lines: 0,
            suppressed: 0,
            recent: Vec::new(),
        }
    }

    /// Whether `msg` may be written now; `out` may receive the summary of the last period.
    fn admit(&mut self, who: &str, msg: &str, cfg: &ConfigStatus, out: &mut Vec<String>) -> bool {
        use std::hash::{Hash, Hasher};
        if self.since.elapsed() >= cfg.log_period {
            if self.suppressed > 0 {
                out.push(format!(
                    "{who}: {} log lines suppressed in the last {} s (log_lines = {} per log_period)",
                    self.suppressed,
                    cfg.log_period.as_secs(),
                    cfg.log_lines
                ));
            }
            *self = LogBudget::new();
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        msg.hash(&mut h);
        let h = h.finish();
        if self.recent.contains(&h) || self.lines >= cfg.log_lines {
            self.suppressed += 1;
            return false;
        }
        if self.recent.len() < RECENT_MESSAGES {
            self.recent.push(h);
        }
        self.lines += 1;
        true
    }
}

impl Store {
    /// A log line about source `src`, within its log budget (see [`LogBudget`]).
    pub(super) fn note(&mut self, src: usize, log: &mut Vec<String>, msg: String) {
        let who = self
            .sources
            .get(src)
            .map_or_else(|| "agent".to_string(), |s| format!("source {}", s.name));
        let budget = self.budgets.entry(src).or_insert_with(LogBudget::new);
        if budget.admit(&who, &msg, &self.config, log) {
            log.push(msg);
        } else {
            self.log_suppressed += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SINGULAR;
    use crate::sources::Snapshot;
    use crate::sources::scheduler::SourceInfo;
    use crate::store::Atom;
    use crate::store::tests::{idx, ok, store};
    use std::time::Duration;

    #[test]
    fn the_log_is_rate_limited_with_a_count_and_bounded_memory() {
        let mut s = store();
        let suppressed = idx(&s, "llm.agent.log_suppressed");
        let mut lines = 0;
        for i in 0..2000 {
            let snap = Snapshot {
                notes: vec![format!("note {i}")],
                ..Default::default()
            };
            lines += s.apply(ok(snap)).len();
        }
        let budget = ConfigStatus::default().log_lines as usize;
        assert_eq!(lines, budget, "at most log_lines lines per period");
        assert!(
            matches!(s.value(suppressed, SINGULAR), Some(Atom::U64(n)) if *n == 2000 - budget as u64)
        );
        assert!(s.budgets[&0].recent.len() <= RECENT_MESSAGES);
        // A repeated message is written once per period, even while under budget.
        let mut s = store();
        let same = || Snapshot {
            notes: vec!["same".into()],
            ..Default::default()
        };
        assert_eq!(s.apply(ok(same())).len(), 1);
        assert!(s.apply(ok(same())).is_empty());
        // When the period ends, one line says how many were held back.
        let mut s = Store::new(
            vec![SourceInfo {
                name: "t".into(),
                interval: Duration::from_secs(1),
                limits: Default::default(),
                run: 1,
            }],
            ConfigStatus {
                log_lines: 1,
                log_period: Duration::from_millis(50),
                ..Default::default()
            },
        );
        for i in 0..5 {
            s.apply(ok(Snapshot {
                notes: vec![format!("n{i}")],
                ..Default::default()
            }));
        }
        std::thread::sleep(Duration::from_millis(60));
        let log = s.apply(ok(Snapshot {
            notes: vec!["later".into()],
            ..Default::default()
        }));
        assert_eq!(log.len(), 2, "{log:?}");
        assert!(
            log[0].starts_with("source t: 4 log lines suppressed"),
            "{log:?}"
        );
        assert_eq!(log[1], "source t: later");
    }
}
