//! What pmcd's requests are answered from: the [`Store`], fed by the sources' updates and
//! re-configured on SIGHUP. This is the agent's side of `pcp::pmda::Agent`; the PCP layer
//! sees only that trait.

use crate::catalogue;
use crate::plan::Running;
use crate::sources::scheduler::Update;
use crate::store::Store;
use crossbeam_channel::Receiver;
use pcp::pmda::{Agent, Atom, MetricDesc};

pub struct Answering {
    store: Store,
    updates: Receiver<Update>,
    running: Running,
}

impl Answering {
    pub fn new(store: Store, updates: Receiver<Update>, running: Running) -> Answering {
        Answering {
            store,
            updates,
            running,
        }
    }
}

impl Agent for Answering {
    fn refresh(&mut self) -> Vec<String> {
        let mut log = Vec::new();
        if llm_sys::signals::take_reload() {
            log.extend(self.running.reload(&mut self.store));
        }
        // Never waits: only what has already arrived.
        while let Ok(mut update) = self.updates.try_recv() {
            let found = update
                .result
                .as_mut()
                .ok()
                .and_then(|snap| snap.discovered.take());
            log.extend(self.store.apply(update));
            if let Some(found) = found {
                log.extend(self.running.set_discovered(found, &mut self.store));
            }
        }
        log
    }

    fn names_generation(&self) -> u64 {
        self.store.names_generation()
    }

    fn metric_count(&self) -> usize {
        self.store.metric_count()
    }

    fn metric(&self, index: usize) -> MetricDesc<'_> {
        // The PMDA layer asks only for indices below `metric_count`.
        let m = self
            .store
            .metric(index)
            .expect("metric index below metric_count");
        MetricDesc {
            name: m.name,
            cluster: m.cluster,
            item: m.item,
            ty: m.ty,
            sem: m.sem,
            units: m.units,
            indom: m.indom.map(|d| d.serial),
            oneline: m.oneline,
            help: m.help,
        }
    }

    fn index_of(&self, local_pmid: u32) -> Option<usize> {
        self.store.index_of(local_pmid)
    }

    fn value(&self, index: usize, inst: u32) -> Option<&Atom> {
        self.store.value(index, inst)
    }

    fn count_fetch(&mut self) {
        self.store.count_fetch();
    }

    fn indom_serials(&self) -> Vec<u32> {
        self.store.indom_serials().collect()
    }

    fn indom_generation(&self, serial: u32) -> Option<u64> {
        self.store.indom(serial).map(|t| t.generation)
    }

    fn instances(&self, serial: u32) -> Vec<(u32, String)> {
        self.store.indom(serial).map_or_else(Vec::new, |t| {
            t.instances
                .iter()
                .map(|(id, e)| (*id, e.name.clone()))
                .collect()
        })
    }

    fn instance_labels(&self, serial: u32, inst: u32) -> Option<String> {
        self.store
            .indom(serial)?
            .instances
            .get(&inst)?
            .labels_json
            .clone()
    }

    fn indom_help(&self, serial: u32) -> Option<(&str, &str)> {
        let i = catalogue::indoms().find(|i| i.serial == serial)?;
        Some((i.oneline, i.help))
    }
}
