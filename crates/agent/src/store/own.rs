//! The agent's own metrics: `llm.agent.*` outside `llm.agent.source.*` (version, uptime,
//! fetches, the configuration in use, dynamic names found, log lines held back).

use super::Store;
use crate::catalogue::agent as cat;
use crate::sources::SINGULAR;
use pcp::pmda::Atom;
use std::ffi::CString;
use std::time::Duration;

/// Configuration facts reported through `llm.agent.config.*`, and the log rate limit.
#[derive(Debug, Clone)]
pub struct ConfigStatus {
    pub file: String,
    pub errors: Vec<String>,
    /// Log lines each source may write per `log_period`.
    pub log_lines: u32,
    pub log_period: Duration,
}

impl Default for ConfigStatus {
    fn default() -> Self {
        let agent = crate::config::AgentConfig::default();
        ConfigStatus {
            file: String::new(),
            errors: Vec::new(),
            log_lines: agent.log_lines,
            log_period: agent.log_period.0,
        }
    }
}

impl Store {
    /// Called once per fetch PDU before values are read.
    /// Only the clock and the fetch counter change here; everything else changes when an
    /// update is applied, so a fetch allocates nothing.
    pub fn count_fetch(&mut self) {
        self.fetches += 1;
        let uptime = Atom::U64(self.started.elapsed().as_secs());
        self.set(cat::CLUSTER_AGENT, cat::ITEM_UPTIME, SINGULAR, uptime);
        self.set(
            cat::CLUSTER_AGENT,
            cat::ITEM_FETCHES,
            SINGULAR,
            Atom::U64(self.fetches),
        );
    }

    /// The configuration facts in use.
    pub fn config(&self) -> &ConfigStatus {
        &self.config
    }

    /// New configuration facts (after the file was read again).
    pub fn set_config(&mut self, config: ConfigStatus) {
        self.config = config;
        self.refresh_agent_metrics();
    }

    /// Sets every `llm.agent.*` value (and the `llm.agent.source.*` ones of active sources).
    pub(super) fn refresh_agent_metrics(&mut self) {
        use cat::*;
        let c = CLUSTER_AGENT;
        self.set(
            c,
            ITEM_VERSION,
            SINGULAR,
            Atom::Str(CString::new(env!("CARGO_PKG_VERSION")).unwrap()),
        );
        self.set(
            c,
            ITEM_UPTIME,
            SINGULAR,
            Atom::U64(self.started.elapsed().as_secs()),
        );
        self.set(c, ITEM_FETCHES, SINGULAR, Atom::U64(self.fetches));
        let file = CString::new(self.config.file.replace('\0', "")).unwrap_or_default();
        self.set(c, ITEM_CONFIG_FILE, SINGULAR, Atom::Str(file));
        self.set(
            c,
            ITEM_CONFIG_ERRORS,
            SINGULAR,
            Atom::U32(self.config.errors.len() as u32),
        );
        self.set_dynamic_count();
        self.set_log_suppressed();
        let last = self.config.errors.last().cloned().unwrap_or_default();
        self.set(
            c,
            ITEM_CONFIG_LAST_ERROR,
            SINGULAR,
            Atom::Str(CString::new(last.replace('\0', "")).unwrap_or_default()),
        );
        for i in 0..self.status.len() {
            if self.is_active(i) {
                self.set_source_status(i);
            }
        }
    }

    /// `llm.agent.dynamic_metrics`: the names found at run time.
    pub(super) fn set_dynamic_count(&mut self) {
        let found = Atom::U32(self.dynamic.by_name.len() as u32);
        self.set(
            cat::CLUSTER_AGENT,
            cat::ITEM_DYNAMIC_METRICS,
            SINGULAR,
            found,
        );
    }

    /// `llm.agent.log_suppressed`: log lines held back by the log budgets.
    pub(super) fn set_log_suppressed(&mut self) {
        self.set(
            cat::CLUSTER_AGENT,
            cat::ITEM_LOG_SUPPRESSED,
            SINGULAR,
            Atom::U64(self.log_suppressed),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::sources::SINGULAR;
    use crate::store::Atom;
    use crate::store::tests::{idx, store};

    #[test]
    fn agent_metrics_have_values_from_the_start() {
        let s = store();
        assert!(matches!(
            s.value(idx(&s, "llm.agent.version"), SINGULAR),
            Some(Atom::Str(_))
        ));
        assert!(matches!(
            s.value(idx(&s, "llm.agent.source.up"), 0),
            Some(Atom::U32(0))
        ));
        assert_eq!(s.indom(0).unwrap().instances[&0].name, "test");
    }
}
