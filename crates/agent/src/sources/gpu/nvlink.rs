//! Cluster 15, NVLink per link: the links of a GPU (found at its first sample) as instances of
//! `gpu_nvlinks`, with `llm.gpu.nvlink.link.*` (state, throughput, error counters) each, and
//! `llm.gpu.nvlink.links_active` of the GPU. (`nvlink.tx` and `rx`, all links together, are
//! field values: `fields.rs`.)

use super::{Gpu, Lost};
use crate::catalogue::gpu::{
    CLUSTER_NVLINK, N_LINK_ACTIVE, N_LINK_ERRORS, N_LINK_RX_KIB, N_LINK_TX_KIB, N_LINKS_ACTIVE,
};
use crate::sources::{Instance, Value};
use nvml_fields::scoped_field_values;
use nvml_wrapper::enum_wrappers::nv_link::ErrorCounter;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::sys_exports::field_id::{
    NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX, NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX,
};

/// Highest NVLink link number probed (NVML_NVLINK_MAX_LINKS is 18).
const MAX_LINKS: u32 = 18;

/// What NVML answered for one link's TX and RX throughput.
type LinkThroughput = [Option<Result<u64, NvmlError>>; 2];

/// Instance id of NVLink `link` of GPU `gpu`.
pub fn link_instance_id(gpu: u32, link: u32) -> u32 {
    gpu * 64 + link
}

pub(super) fn refresh_nvlink(g: &mut Gpu) -> Result<(), Lost> {
    let found = links_of(g)?;
    if found.is_empty() {
        return Ok(());
    }
    let mut throughput = throughput_per_link(g, &found)?.into_iter();
    let mut active = 0;
    for link in found {
        let t = throughput.next().unwrap_or_default();
        if let Some(a) = refresh_link(g, link, t)? {
            active += a as u32;
        }
    }
    g.put(CLUSTER_NVLINK, N_LINKS_ACTIVE, Value::U32(active));
    Ok(())
}

/// The links of the GPU: those whose state NVML answers for, probed at the GPU's first sample.
fn links_of(g: &mut Gpu) -> Result<Vec<u32>, Lost> {
    if let Some(l) = g.st.links.get(&g.index) {
        return Ok(l.clone());
    }
    let mut found = Vec::new();
    for link in 0..MAX_LINKS {
        match g.dev.link_wrapper_for(link).is_active() {
            Ok(_) => found.push(link),
            Err(NvmlError::GpuLost) => return Err(Lost),
            Err(_) => {}
        }
    }
    g.st.links.insert(g.index, found.clone());
    Ok(found)
}

/// TX and RX throughput of each link, in one `nvmlDeviceGetFieldValues` call with
/// scopeId = link; empty when the call failed (logged).
fn throughput_per_link(g: &mut Gpu, links: &[u32]) -> Result<Vec<LinkThroughput>, Lost> {
    let requests: Vec<(u32, u32)> = links
        .iter()
        .flat_map(|&l| {
            [
                (NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX, l),
                (NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX, l),
            ]
        })
        .collect();
    let answers = g.check(
        "nvmlDeviceGetFieldValues (scoped)",
        scoped_field_values(g.dev, &requests),
    )?;
    let mut answers = answers.unwrap_or_default().into_iter();
    Ok(links
        .iter()
        .map(|_| [answers.next(), answers.next()])
        .collect())
}

/// One link's instance and values; its state (`Some(active)`), or `None` when NVML did not
/// answer it (the link then has no instance this sample).
fn refresh_link(g: &mut Gpu, link: u32, throughput: LinkThroughput) -> Result<Option<bool>, Lost> {
    let dev = g.dev;
    let lw = dev.link_wrapper_for(link);
    let id = link_instance_id(g.index, link);
    let Some(a) = g.check("nvmlDeviceGetNvLinkState", lw.is_active())? else {
        return Ok(None);
    };
    g.out.links.push(Instance {
        id,
        name: format!("{}/link{link}", g.name),
        labels: vec![
            ("gpu".into(), g.name.clone()),
            ("link".into(), link.to_string()),
        ],
    });
    g.put_at(CLUSTER_NVLINK, N_LINK_ACTIVE, id, Value::U32(a as u32));
    let names = [
        "NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX (per link)",
        "NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX (per link)",
    ];
    for ((item, fname), r) in [N_LINK_TX_KIB, N_LINK_RX_KIB]
        .into_iter()
        .zip(names)
        .zip(throughput)
    {
        let Some(r) = r else { continue };
        if let Some(v) = g.check(fname, r)? {
            g.put_at(CLUSTER_NVLINK, item, id, Value::U64(v));
        }
    }
    for &(item, counter) in N_LINK_ERRORS {
        if let Some(v) = g.check(
            "nvmlDeviceGetNvLinkErrorCounter",
            lw.error_counter(error_counter(counter)),
        )? {
            g.put_at(CLUSTER_NVLINK, item, id, Value::U64(v));
        }
    }
    Ok(Some(a))
}

/// nvml-wrapper's name of `nvmlNvLinkErrorCounter_t` `c` (as numbered in [`N_LINK_ERRORS`]).
fn error_counter(c: u32) -> ErrorCounter {
    match c {
        0 => ErrorCounter::DlReplay,
        1 => ErrorCounter::DlRecovery,
        2 => ErrorCounter::DlCrcFlit,
        _ => ErrorCounter::DlCrcData,
    }
}
