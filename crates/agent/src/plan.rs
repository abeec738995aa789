//! Which sources a configuration asks for, starting them, and changing them when the
//! configuration is read again (SIGHUP) or discovery finds other endpoints: sources added,
//! removed or changed; the others keep running.

use crate::sources::discovery;
use crate::sources::openmetrics::Endpoint;
use crate::sources::openmetrics::config::EndpointConfig;
use crate::sources::scheduler::{Scheduled, Scheduler};
use crate::{config, store};
use config::Config;
use std::path::PathBuf;

/// One source a configuration asks for: its name, what identifies its configuration (to tell
/// a changed source from an unchanged one on a re-read), and how to make it.
pub struct Planned {
    pub name: String,
    pub fingerprint: String,
    pub make: Box<dyn FnOnce() -> Scheduled>,
}

/// The sources to run for a configuration, in order. Each source module adds its own here.
pub fn plan(config: &Config) -> Vec<Planned> {
    let mut out = Vec::new();
    if config.gpu.enabled {
        let gpu = config.gpu.clone();
        out.push(Planned {
            name: "gpu".into(),
            fingerprint: format!("{gpu:?}"),
            make: Box::new(move || {
                crate::sources::gpu::GpuSource::scheduled(gpu.interval.0, gpu.library.clone())
            }),
        });
    }
    if config.membw.enabled {
        let membw = config.membw.clone();
        out.push(Planned {
            name: "membw".into(),
            fingerprint: format!("{membw:?}"),
            make: Box::new(move || crate::sources::membw::MembwSource::scheduled(&membw)),
        });
    }
    // Prometheus endpoints of every kind: one task each on the I/O thread, retried at their
    // normal interval (back-off 1) so the first sample after an endpoint comes up is never
    // delayed.
    for (kind, ep) in config.all_endpoints() {
        let mut ep = ep.clone();
        ep.line = 0; // moving a section in the file changes nothing
        out.push(Planned {
            name: ep.name.clone(),
            fingerprint: format!("{} {ep:?}", kind.name),
            make: Box::new(move || Scheduled::task(Box::new(Endpoint::new(&ep)))),
        });
    }
    crate::sources::progress::plan(config, &mut out);
    if config.discovery.enabled() {
        let d = config.discovery.clone();
        out.push(Planned {
            name: discovery::source::NAME.into(),
            fingerprint: format!("{d:?}"),
            make: Box::new(move || discovery::source::DiscoverySource::scheduled(&d)),
        });
    }
    out
}

/// One endpoint source per discovered endpoint (a vLLM, scraped at the discovery section's
/// `scrape_interval`, its instances labelled with what discovery knows), except those whose
/// name or URL the configuration already has.
pub fn discovered(config: &Config, found: &[discovery::Endpoint]) -> Vec<Planned> {
    let taken = |e: &discovery::Endpoint| {
        e.name == discovery::source::NAME
            || config
                .all_endpoints()
                .any(|(_, c)| c.name == e.name || c.url == e.url)
    };
    found
        .iter()
        .filter(|e| !taken(e))
        .map(|e| {
            let mut ep = EndpointConfig::new(&e.name, &e.url);
            ep.interval = config.discovery.scrape_interval;
            ep.timeout = config.discovery.timeout;
            ep.labels = e.labels.clone();
            Planned {
                name: ep.name.clone(),
                fingerprint: format!("discovered {ep:?}"),
                make: Box::new(move || Scheduled::task(Box::new(Endpoint::new(&ep)))),
            }
        })
        .collect()
}

/// The sources to run for a configuration.
pub fn sources_for(config: &Config) -> Vec<Scheduled> {
    plan(config).into_iter().map(|p| (p.make)()).collect()
}

/// What the configuration facts in `llm.agent.config.*` and the log budget come from.
pub fn config_status(config: &Config) -> store::ConfigStatus {
    store::ConfigStatus {
        file: config.source.clone(),
        errors: config.errors.clone(),
        log_lines: config.agent.log_lines,
        log_period: config.agent.log_period.0,
    }
}

/// The running sources, to change them when the configuration is read again or discovery
/// finds other endpoints.
pub struct Running {
    scheduler: Scheduler,
    /// Fingerprint of the source at each index ("" once removed).
    fingerprints: Vec<String>,
    config_path: Option<PathBuf>,
    default_path: PathBuf,
    /// The configuration in force (the last usable one read).
    config: Config,
    /// What discovery found last.
    found: Vec<discovery::Endpoint>,
}

impl Running {
    /// `plan` is what was started, in index order, by `scheduler`, for `config`.
    pub fn new(
        scheduler: Scheduler,
        fingerprints: Vec<String>,
        config_path: Option<PathBuf>,
        default_path: PathBuf,
        config: Config,
    ) -> Running {
        Running {
            scheduler,
            fingerprints,
            config_path,
            default_path,
            config,
            found: Vec::new(),
        }
    }

    /// Discovery's new answer: endpoint sources start for new endpoints, stop for gone ones
    /// (their instances withdrawn), and keep running, with the same instance ids, for the
    /// others. Returns lines for the log.
    pub fn set_discovered(
        &mut self,
        found: Vec<discovery::Endpoint>,
        store: &mut store::Store,
    ) -> Vec<String> {
        if found == self.found {
            return Vec::new();
        }
        self.found = found;
        let mut log = Vec::new();
        self.apply(store, &mut log);
        log
    }

    /// Reads the configuration again and brings the sources in line with it: new ones start
    /// (at new indices), removed ones stop and lose their instances, changed ones restart in
    /// their old place; unchanged ones run on untouched. Instance ids stay stable. A file that
    /// cannot be read or parsed at all leaves everything as it was. Returns lines for the log.
    pub fn reload(&mut self, store: &mut store::Store) -> Vec<String> {
        let cfg = Config::load(self.config_path.as_deref(), &self.default_path);
        let mut log: Vec<String> = cfg.errors.clone();
        if cfg.unusable {
            let mut status = store::ConfigStatus {
                file: cfg.source.clone(),
                errors: cfg.errors.clone(),
                ..store.config().clone()
            };
            let keep = format!(
                "{}: not usable; keeping the previous configuration",
                cfg.source
            );
            status.errors.push(keep.clone());
            store.set_config(status);
            log.push(keep);
            return log;
        }
        self.config = cfg;
        self.apply(store, &mut log);
        store.set_config(config_status(&self.config));
        let active = (0..store.sources().len())
            .filter(|i| store.is_active(*i))
            .count();
        log.push(format!(
            "configuration {} read again: {active} sources, {} errors",
            self.config.source,
            self.config.errors.len()
        ));
        log
    }

    /// Brings the running sources in line with the configuration and what discovery found.
    fn apply(&mut self, store: &mut store::Store, log: &mut Vec<String>) {
        let mut plan = plan(&self.config);
        if self.config.discovery.enabled() {
            plan.extend(discovered(&self.config, &self.found));
        }
        let removed: Vec<usize> = (0..store.sources().len())
            .filter(|i| store.is_active(*i))
            .filter(|i| !plan.iter().any(|p| p.name == store.sources()[*i].name))
            .collect();
        for i in removed {
            self.scheduler.stop(i);
            log.push(format!("source {}: removed", store.sources()[i].name));
            store.remove_source(i);
            self.fingerprints[i].clear();
        }
        for p in plan {
            let at = store.sources().iter().position(|s| s.name == p.name);
            match at {
                Some(i) if store.is_active(i) && self.fingerprints[i] == p.fingerprint => {}
                Some(i) => {
                    let what = if store.is_active(i) {
                        "changed"
                    } else {
                        "added again"
                    };
                    let info = self.scheduler.spawn(i, (p.make)());
                    store.set_source(i, info);
                    self.fingerprints[i] = p.fingerprint;
                    log.push(format!("source {}: {what}", p.name));
                }
                None => {
                    let i = store.sources().len();
                    let info = self.scheduler.spawn(i, (p.make)());
                    store.set_source(i, info);
                    self.fingerprints.push(p.fingerprint);
                    log.push(format!("source {}: added", p.name));
                }
            }
        }
    }
}
