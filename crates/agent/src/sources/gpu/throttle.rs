//! Cluster 13, throttling: `llm.gpu.throttle.*` (the clock event reasons, as a mask and one
//! 0/1 metric per reason) and `llm.gpu.violation.*` (time spent throttled, per policy).

use super::{Gpu, Lost};
use crate::catalogue::gpu::{CLUSTER_THROTTLE, T_REASON_BITS, T_REASONS, T_VIOLATIONS};
use crate::sources::Value;
use nvml_wrapper::enum_wrappers::device::PerformancePolicy;

pub(super) fn refresh_throttle(g: &mut Gpu) -> Result<(), Lost> {
    let c = CLUSTER_THROTTLE;
    if let Some(r) = g.check(
        "nvmlDeviceGetCurrentClocksThrottleReasons",
        g.dev.current_throttle_reasons(),
    )? {
        let bits = r.bits();
        g.put(c, T_REASONS, Value::U64(bits));
        for &(item, bit) in T_REASON_BITS {
            g.put(c, item, Value::U32((bits & bit != 0) as u32));
        }
    }
    for &(item, p) in T_VIOLATIONS {
        if let Some(v) = g.check(
            "nvmlDeviceGetViolationStatus",
            g.dev.violation_status(policy(p)),
        )? {
            g.put(c, item, Value::U64(v.violation_time));
        }
    }
    Ok(())
}

/// nvml-wrapper's name of NVML perf policy `p` (as numbered in [`T_VIOLATIONS`]).
fn policy(p: u32) -> PerformancePolicy {
    match p {
        0 => PerformancePolicy::Power,
        1 => PerformancePolicy::Thermal,
        2 => PerformancePolicy::SyncBoost,
        3 => PerformancePolicy::BoardLimit,
        4 => PerformancePolicy::LowUtilization,
        _ => PerformancePolicy::Reliability,
    }
}
