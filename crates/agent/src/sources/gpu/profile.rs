//! Cluster 18, GPU performance monitoring (GPM): `llm.gpu.prof.*`, over the interval between
//! this sample and the previous one (none at a GPU's first sample, nor on GPUs without GPM).

use super::{Gpu, Lost};
use crate::catalogue::gpu::{
    CLUSTER_PROFILE, GPM_DRAM_ACTIVE, GPM_FP16_ACTIVE, GPM_FP32_ACTIVE, GPM_FP64_ACTIVE,
    GPM_GRAPHICS_ACTIVE, GPM_INTEGER_ACTIVE, GPM_PCIE_RX, GPM_PCIE_TX, GPM_SM_ACTIVE,
    GPM_SM_OCCUPANCY, GPM_TENSOR_ACTIVE,
};
use crate::sources::Value;
use nvml_wrapper::enums::gpm::GpmMetricId;
use nvml_wrapper::gpm::{GpmSample, gpm_metrics_get};

/// The metrics: (item in CLUSTER_PROFILE, GPM metric, NVML name).
const GPM_METRICS: &[(u32, GpmMetricId, &str)] = &[
    (
        GPM_SM_ACTIVE,
        GpmMetricId::SmUtil,
        "NVML_GPM_METRIC_SM_UTIL",
    ),
    (
        GPM_SM_OCCUPANCY,
        GpmMetricId::SmOccupancy,
        "NVML_GPM_METRIC_SM_OCCUPANCY",
    ),
    (
        GPM_GRAPHICS_ACTIVE,
        GpmMetricId::GraphicsUtil,
        "NVML_GPM_METRIC_GRAPHICS_UTIL",
    ),
    (
        GPM_TENSOR_ACTIVE,
        GpmMetricId::AnyTensorUtil,
        "NVML_GPM_METRIC_ANY_TENSOR_UTIL",
    ),
    (
        GPM_DRAM_ACTIVE,
        GpmMetricId::DramBwUtil,
        "NVML_GPM_METRIC_DRAM_BW_UTIL",
    ),
    (
        GPM_FP64_ACTIVE,
        GpmMetricId::Fp64Util,
        "NVML_GPM_METRIC_FP64_UTIL",
    ),
    (
        GPM_FP32_ACTIVE,
        GpmMetricId::Fp32Util,
        "NVML_GPM_METRIC_FP32_UTIL",
    ),
    (
        GPM_FP16_ACTIVE,
        GpmMetricId::Fp16Util,
        "NVML_GPM_METRIC_FP16_UTIL",
    ),
    (
        GPM_INTEGER_ACTIVE,
        GpmMetricId::IntegerUtil,
        "NVML_GPM_METRIC_INTEGER_UTIL",
    ),
    (
        GPM_PCIE_TX,
        GpmMetricId::PcieTxPerSec,
        "NVML_GPM_METRIC_PCIE_TX_PER_SEC",
    ),
    (
        GPM_PCIE_RX,
        GpmMetricId::PcieRxPerSec,
        "NVML_GPM_METRIC_PCIE_RX_PER_SEC",
    ),
];

/// Takes a GPM sample and keeps it for the next round; with the previous one, puts the metrics.
pub(super) fn refresh_profile(g: &mut Gpu) -> Result<(), Lost> {
    if !supported(g)? {
        return Ok(());
    }
    let prev = g.st.gpm_prev.remove(&g.index);
    let Some(cur) = g.check("nvmlGpmSampleGet", g.dev.gpm_sample())? else {
        return Ok(());
    };
    if let Some(prev) = prev {
        put_metrics(g, &prev, &cur)?;
    }
    g.st.gpm_prev.insert(g.index, cur);
    Ok(())
}

/// Whether the GPU supports GPM (asked at its first sample).
fn supported(g: &mut Gpu) -> Result<bool, Lost> {
    if let Some(&b) = g.st.gpm_supported.get(&g.index) {
        return Ok(b);
    }
    let b = g
        .check("nvmlGpmQueryDeviceSupport", g.dev.gpm_support())?
        .unwrap_or(false);
    g.st.gpm_supported.insert(g.index, b);
    Ok(b)
}

fn put_metrics(
    g: &mut Gpu,
    prev: &GpmSample<'static>,
    cur: &GpmSample<'static>,
) -> Result<(), Lost> {
    let ids: Vec<GpmMetricId> = GPM_METRICS.iter().map(|m| m.1).collect();
    let results = g.check(
        "nvmlGpmMetricsGet",
        gpm_metrics_get(g.st.nvml, prev, cur, &ids),
    )?;
    for (r, &(item, _, name)) in results.unwrap_or_default().into_iter().zip(GPM_METRICS) {
        if let Some(v) = g.check(name, r)?
            && v.value.is_finite()
        {
            g.put(CLUSTER_PROFILE, item, Value::F64(v.value));
        }
    }
    Ok(())
}
