//! Per-interval quantiles of a Prometheus histogram, computed from the bucket deltas between
//! two of the agent's own scrapes (what `histogram_quantile(q, rate(x_bucket[interval]))`
//! would give), so `llm.vllm.ttft.p99` is the p99 of the requests that finished during the
//! last scrape interval, not since vLLM started.

/// Cumulative buckets of one histogram series: `(upper bound "le", cumulative count)`, sorted
/// by bound; the last bound is normally `+Inf`.
pub type Buckets = Vec<(f64, f64)>;

/// The observations between `prev` and `cur`, bucket by bucket. `None` when the two cannot be
/// compared: a different set of bounds, or a count that went down (the server restarted; the
/// caller then takes `cur` as the new baseline and reports no quantile for this interval).
pub fn delta(prev: &[(f64, f64)], cur: &[(f64, f64)]) -> Option<Buckets> {
    if prev.len() != cur.len() {
        return None;
    }
    let mut out = Vec::with_capacity(cur.len());
    for (&(pb, pc), &(cb, cc)) in prev.iter().zip(cur) {
        if pb != cb && !(pb.is_nan() && cb.is_nan()) {
            return None;
        }
        if !pc.is_finite() || !cc.is_finite() || cc < pc {
            return None;
        }
        out.push((cb, cc - pc));
    }
    Some(out)
}

/// The `q` quantile (0 <= q <= 1) of cumulative `buckets`, interpolating linearly inside the
/// bucket that holds the rank, as Prometheus' `histogram_quantile` does: the lowest bucket
/// starts at 0 (when its bound is positive), and a rank in the `+Inf` bucket yields the largest
/// finite bound. `None` when there are no observations or the buckets are unusable.
pub fn quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    if !(0.0..=1.0).contains(&q) || buckets.is_empty() {
        return None;
    }
    let total = buckets.last()?.1;
    if total.is_nan() || total <= 0.0 || total.is_infinite() {
        return None;
    }
    // Cumulative counts must not decrease along the bounds.
    if buckets
        .windows(2)
        .any(|w| w[1].1 < w[0].1 || w[1].0 <= w[0].0)
    {
        return None;
    }
    let rank = q * total;
    let b = buckets.iter().position(|&(_, c)| c >= rank)?;
    let (upper, count) = buckets[b];
    if upper.is_infinite() {
        // Above the largest finite bound: that bound is the best statement we can make.
        return if b == 0 { None } else { Some(buckets[b - 1].0) };
    }
    let (lower, below) = if b == 0 {
        if upper <= 0.0 {
            return Some(upper);
        }
        (0.0, 0.0)
    } else {
        buckets[b - 1]
    };
    let in_bucket = count - below;
    if in_bucket <= 0.0 {
        return Some(upper);
    }
    Some(lower + (upper - lower) * ((rank - below) / in_bucket))
}

#[cfg(test)]
mod tests {
    use super::*;
    const INF: f64 = f64::INFINITY;

    #[test]
    fn interpolates_inside_the_bucket() {
        // 10 observations: 4 in (0,0.1], 4 in (0.1,0.5], 2 in (0.5,1].
        let b = vec![(0.1, 4.0), (0.5, 8.0), (1.0, 10.0), (INF, 10.0)];
        assert_eq!(quantile(0.5, &b), Some(0.1 + 0.4 * (1.0 / 4.0))); // rank 5: 1 of 4 into bucket 2
        assert_eq!(quantile(0.2, &b), Some(0.1 * (2.0 / 4.0))); // rank 2 in the first bucket
        assert_eq!(quantile(0.9, &b), Some(0.5 + 0.5 * (1.0 / 2.0))); // rank 9
        assert_eq!(quantile(1.0, &b), Some(1.0));
    }

    #[test]
    fn rank_in_the_inf_bucket_gives_the_largest_finite_bound() {
        let b = vec![(0.1, 1.0), (1.0, 2.0), (INF, 10.0)];
        assert_eq!(quantile(0.99, &b), Some(1.0));
    }

    #[test]
    fn no_observations_no_quantile() {
        let b = vec![(0.1, 0.0), (INF, 0.0)];
        assert_eq!(quantile(0.5, &b), None);
        assert_eq!(quantile(0.5, &[]), None);
    }

    #[test]
    fn deltas_and_restarts() {
        let prev = vec![(0.1, 4.0), (1.0, 6.0), (INF, 6.0)];
        let cur = vec![(0.1, 5.0), (1.0, 9.0), (INF, 10.0)];
        assert_eq!(
            delta(&prev, &cur),
            Some(vec![(0.1, 1.0), (1.0, 3.0), (INF, 4.0)])
        );
        // vLLM restarted: counts went down.
        assert_eq!(delta(&cur, &prev), None);
        // Different bounds (a reconfigured histogram).
        assert_eq!(delta(&prev, &[(0.2, 4.0), (1.0, 6.0), (INF, 6.0)]), None);
        assert_eq!(delta(&prev, &prev[..2]), None);
    }
}
