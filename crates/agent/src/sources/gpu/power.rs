//! Cluster 12, clocks, power and temperature: `llm.gpu.clock.*`, `power.*`, `energy`,
//! `temperature.gpu`, `fan`. (`temperature.memory` is a field value: `fields.rs`.)

use super::{Gpu, Lost};
use crate::catalogue::gpu::{
    CLUSTER_POWER, P_CLOCK_GRAPHICS, P_CLOCK_GRAPHICS_MAX, P_CLOCK_MEM, P_CLOCK_MEM_MAX,
    P_CLOCK_SM, P_CLOCK_SM_MAX, P_ENERGY, P_FAN, P_POWER, P_POWER_LIMIT, P_TEMP_GPU,
};
use crate::sources::Value;
use nvml_wrapper::enum_wrappers::device::{Clock, TemperatureSensor};

pub(super) fn refresh_power(g: &mut Gpu) -> Result<(), Lost> {
    refresh_clocks(g)?;
    let c = CLUSTER_POWER;
    if let Some(v) = g.check("nvmlDeviceGetPowerUsage", g.dev.power_usage())? {
        g.put(c, P_POWER, Value::U32(v));
    }
    if let Some(v) = g.check(
        "nvmlDeviceGetEnforcedPowerLimit",
        g.dev.enforced_power_limit(),
    )? {
        g.put(c, P_POWER_LIMIT, Value::U32(v));
    }
    if let Some(v) = g.check(
        "nvmlDeviceGetTotalEnergyConsumption",
        g.dev.total_energy_consumption(),
    )? {
        g.put(c, P_ENERGY, Value::U64(v));
    }
    if let Some(v) = g.check(
        "nvmlDeviceGetTemperature",
        g.dev.temperature(TemperatureSensor::Gpu),
    )? {
        g.put(c, P_TEMP_GPU, Value::U32(v));
    }
    if let Some(v) = g.check("nvmlDeviceGetFanSpeed_v2", g.dev.fan_speed(0))? {
        g.put(c, P_FAN, Value::U32(v));
    }
    Ok(())
}

/// `llm.gpu.clock.*`: current and maximum clocks.
fn refresh_clocks(g: &mut Gpu) -> Result<(), Lost> {
    for (item, clock) in [
        (P_CLOCK_SM, Clock::SM),
        (P_CLOCK_MEM, Clock::Memory),
        (P_CLOCK_GRAPHICS, Clock::Graphics),
    ] {
        if let Some(v) = g.check("nvmlDeviceGetClockInfo", g.dev.clock_info(clock))? {
            g.put(CLUSTER_POWER, item, Value::U32(v));
        }
    }
    for (item, clock) in [
        (P_CLOCK_SM_MAX, Clock::SM),
        (P_CLOCK_MEM_MAX, Clock::Memory),
        (P_CLOCK_GRAPHICS_MAX, Clock::Graphics),
    ] {
        if let Some(v) = g.check("nvmlDeviceGetMaxClockInfo", g.dev.max_clock_info(clock))? {
            g.put(CLUSTER_POWER, item, Value::U32(v));
        }
    }
    Ok(())
}
