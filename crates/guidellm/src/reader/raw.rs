//! What the reader hands on: each benchmark as read ([`RawBenchmark`], before interpretation),
//! the top level of the file ([`RawTop`]), and the per-request record reduced to the few numbers
//! the time series needs ([`Rec`]).

use serde_json::Value;

/// One per-request record, reduced to what the time series needs: 40 bytes (NaN = absent;
/// times f64, the per-interval statistics f32, token counts u32).
#[derive(Clone, Copy, Debug)]
pub struct Rec {
    start: f64,
    end: f64,
    ttft_ms: f32,
    itl_ms: f32,
    latency_s: f32,
    prompt_tokens: u32,
    output_tokens: u32,
    /// 0 successful, 1 errored, 2 incomplete.
    pub status: u8,
}

const _: () = assert!(std::mem::size_of::<Rec>() == 40);

fn opt64(x: f64) -> Option<f64> {
    (!x.is_nan()).then_some(x)
}

fn opt32(x: f32) -> Option<f64> {
    (!x.is_nan()).then_some(x as f64)
}

fn tokens(x: Option<f64>) -> u32 {
    x.map_or(u32::MAX, |v| v.clamp(0.0, (u32::MAX - 1) as f64) as u32)
}

impl Rec {
    /// Pack a record; `None` or NaN means absent.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        status: u8,
        start: Option<f64>,
        end: Option<f64>,
        prompt_tokens: Option<f64>,
        output_tokens: Option<f64>,
        ttft_ms: Option<f64>,
        itl_ms: Option<f64>,
        latency_s: Option<f64>,
    ) -> Rec {
        Rec {
            start: start.unwrap_or(f64::NAN),
            end: end.unwrap_or(f64::NAN),
            ttft_ms: ttft_ms.map_or(f32::NAN, |v| v as f32),
            itl_ms: itl_ms.map_or(f32::NAN, |v| v as f32),
            latency_s: latency_s.map_or(f32::NAN, |v| v as f32),
            prompt_tokens: tokens(prompt_tokens),
            output_tokens: tokens(output_tokens),
            status,
        }
    }
    pub fn start(&self) -> Option<f64> {
        opt64(self.start)
    }
    pub fn end(&self) -> Option<f64> {
        opt64(self.end)
    }
    pub fn ttft_ms(&self) -> Option<f64> {
        opt32(self.ttft_ms)
    }
    pub fn itl_ms(&self) -> Option<f64> {
        opt32(self.itl_ms)
    }
    pub fn latency_s(&self) -> Option<f64> {
        opt32(self.latency_s)
    }
    pub fn prompt_tokens(&self) -> Option<u64> {
        (self.prompt_tokens != u32::MAX).then_some(self.prompt_tokens as u64)
    }
    pub fn output_tokens(&self) -> Option<u64> {
        (self.output_tokens != u32::MAX).then_some(self.output_tokens as u64)
    }
}

/// A benchmark as read from the file, before interpretation.
#[derive(Debug, Default)]
pub struct RawBenchmark {
    pub index: usize,
    pub id: Option<String>,
    pub run_id: Option<String>,
    pub args: Option<Value>,
    pub config: Option<Value>,
    pub run_stats: Option<Value>,
    pub scheduler_metrics: Option<Value>,
    pub metrics: Option<Value>,
    pub request_totals: Option<Value>,
    pub worker: Option<Value>,
    /// 0.7+: `[{code, message, observed, threshold, unit, sample_count, note}]`
    pub warnings: Option<Value>,
    pub start_time: Option<f64>,
    pub end_time: Option<f64>,
    pub duration: Option<f64>,
    pub warmup_duration: Option<f64>,
    pub cooldown_duration: Option<f64>,
    pub records: Vec<Rec>,
    /// Record count per status list (successful, errored, incomplete).
    pub record_counts: [u64; 3],
    pub has_run_stats: bool,
    pub has_scheduler_metrics: bool,
}

/// The top level of a file, less the benchmarks.
#[derive(Debug, Default)]
pub struct RawTop {
    pub metadata: Option<Value>,
    pub args: Option<Value>,
    pub config: Option<Value>,
    pub benchmarks_seen: bool,
    pub benchmark_count: usize,
}
