//! Cluster 11, utilisation and memory: `llm.gpu.util.*`, `fb.*`, `bar1.*` of a GPU. (The
//! framebuffer of MIG devices: `mig.rs`.)

use super::{Gpu, Lost};
use crate::catalogue::gpu::{
    CLUSTER_MEMORY, M_BAR1_TOTAL, M_BAR1_USED, M_FB_FREE, M_FB_RESERVED, M_FB_TOTAL, M_FB_USED,
    M_UTIL_DECODER, M_UTIL_ENCODER, M_UTIL_GPU, M_UTIL_MEMORY,
};
use crate::sources::Value;

pub(super) fn refresh_memory(g: &mut Gpu) -> Result<(), Lost> {
    let c = CLUSTER_MEMORY;
    if let Some(u) = g.check("nvmlDeviceGetUtilizationRates", g.dev.utilization_rates())? {
        g.put(c, M_UTIL_GPU, Value::U32(u.gpu));
        g.put(c, M_UTIL_MEMORY, Value::U32(u.memory));
    }
    if let Some(u) = g.check(
        "nvmlDeviceGetEncoderUtilization",
        g.dev.encoder_utilization(),
    )? {
        g.put(c, M_UTIL_ENCODER, Value::U32(u.utilization));
    }
    if let Some(u) = g.check(
        "nvmlDeviceGetDecoderUtilization",
        g.dev.decoder_utilization(),
    )? {
        g.put(c, M_UTIL_DECODER, Value::U32(u.utilization));
    }
    if let Some(m) = g.check("nvmlDeviceGetMemoryInfo_v2", g.dev.memory_info())? {
        g.put(c, M_FB_TOTAL, Value::U64(m.total));
        g.put(c, M_FB_USED, Value::U64(m.used));
        g.put(c, M_FB_FREE, Value::U64(m.free));
        g.put(c, M_FB_RESERVED, Value::U64(m.reserved));
    }
    if let Some(b) = g.check("nvmlDeviceGetBAR1MemoryInfo", g.dev.bar1_memory_info())? {
        g.put(c, M_BAR1_TOTAL, Value::U64(b.total));
        g.put(c, M_BAR1_USED, Value::U64(b.used));
    }
    Ok(())
}
