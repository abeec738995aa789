//! Mapping tests against the real capture and the busy captures derived from it
//! (tests/fixtures/vllm/make-busy.py documents the hand-chosen values).

use super::*;
use crate::catalogue::vllm as cat;

const IDLE: &str = include_str!(
    "../../../../../tests/fixtures/vllm/vllm-0.11.0_qwen1.5-0.5b-chat_idle.metrics.txt"
);
const BUSY1: &str = include_str!("../../../../../tests/fixtures/vllm/busy-1.metrics.txt");
const BUSY2: &str = include_str!("../../../../../tests/fixtures/vllm/busy-2.metrics.txt");

fn id(name: &str) -> MetricId {
    let m = catalogue::find(name).unwrap_or_else(|| panic!("{name} not catalogued"));
    MetricId::new(m.cluster, m.item)
}

/// The id of instance `name`; a snapshot with the previous one's instances has none listed,
/// and the id is then the name's stable id.
fn inst(snap: &Snapshot, serial: u32, name: &str) -> u32 {
    if snap.instances_unchanged {
        return crate::sources::stable_instance_id(name);
    }
    snap.indoms
        .iter()
        .find(|g| g.indom_serial == serial)
        .and_then(|g| g.instances.iter().find(|i| i.name == name))
        .unwrap_or_else(|| panic!("no instance {name} in indom {serial}"))
        .id
}

fn get(snap: &Snapshot, metric: &str, serial: u32, inst_name: &str) -> Option<Value> {
    let i = inst(snap, serial, inst_name);
    let m = id(metric);
    snap.values
        .iter()
        .find(|(mm, ii, _)| *mm == m && *ii == i)
        .map(|v| v.2.clone())
}

const E: u32 = 20;

#[test]
fn idle_capture_maps_every_catalogued_family_present() {
    let mut m = Mapper::new("vllm0", "http://127.0.0.1:8000/metrics");
    let s = m.map(IDLE).unwrap();
    assert_eq!(
        get(&s, "llm.vllm.requests.running", E, "vllm0/0"),
        Some(Value::U64(0))
    );
    assert_eq!(
        get(&s, "llm.vllm.kv_cache.usage", E, "vllm0/0"),
        Some(Value::F64(0.0))
    );
    assert_eq!(
        get(&s, "llm.vllm.ttft.count", E, "vllm0/0"),
        Some(Value::U64(0))
    );
    assert_eq!(
        get(
            &s,
            "llm.vllm.ttft.bucket",
            cat::LATENCY_BUCKETS.serial,
            "vllm0/0 le=+Inf"
        ),
        Some(Value::U64(0))
    );
    assert_eq!(
        get(
            &s,
            "llm.vllm.requests.success",
            cat::FINISHED.serial,
            "vllm0/0/stop"
        ),
        Some(Value::U64(0))
    );
    assert_eq!(
        get(
            &s,
            "llm.vllm.cache_config.num_gpu_blocks",
            cat::CACHE_CONFIG.serial,
            "vllm0/0"
        ),
        Some(Value::U64(2452))
    );
    // First scrape: no baseline, no quantile.
    assert_eq!(get(&s, "llm.vllm.ttft.p50", E, "vllm0/0"), None);
    // Labels of the engine instance.
    let engine = s.indoms.iter().find(|g| g.indom_serial == E).unwrap();
    assert_eq!(engine.instances.len(), 1);
    let labels = &engine.instances[0].labels;
    for (k, v) in [
        ("endpoint", "vllm0"),
        ("url", "http://127.0.0.1:8000/metrics"),
        ("engine", "0"),
        ("model_name", "Qwen/Qwen1.5-0.5B-Chat"),
    ] {
        assert!(
            labels.contains(&(k.into(), v.into())),
            "{k}={v} missing in {labels:?}"
        );
    }
    // Every vllm: family of the capture lands somewhere: no series in llm.vllm.other.
    assert!(!s.indoms.iter().any(|g| g.indom_serial == cat::OTHER.serial));
    // Non-vLLM families (python_*, process_*, http_*) are not exported.
    let values = s.values.len();
    assert!(values > 300, "{values} values");
}

#[test]
fn busy_captures_values_and_interval_quantiles() {
    let mut m = Mapper::new("vllm0", "http://x/metrics");
    let s1 = m.map(BUSY1).unwrap();
    assert_eq!(
        get(&s1, "llm.vllm.requests.running", E, "vllm0/0"),
        Some(Value::U64(3))
    );
    assert_eq!(
        get(&s1, "llm.vllm.tokens.prompt", E, "vllm0/0"),
        Some(Value::U64(5000))
    );
    assert_eq!(
        get(&s1, "llm.vllm.ttft.sum", E, "vllm0/0"),
        Some(Value::F64(1.2))
    );
    assert_eq!(get(&s1, "llm.vllm.ttft.p50", E, "vllm0/0"), None);
    let s2 = m.map(BUSY2).unwrap();
    assert_eq!(
        get(&s2, "llm.vllm.requests.running", E, "vllm0/0"),
        Some(Value::U64(7))
    );
    assert_eq!(
        get(&s2, "llm.vllm.requests.waiting", E, "vllm0/0"),
        Some(Value::U64(0))
    );
    assert_eq!(
        get(&s2, "llm.vllm.kv_cache.usage", E, "vllm0/0"),
        Some(Value::F64(0.5))
    );
    assert_eq!(
        get(&s2, "llm.vllm.prefix_cache.hits", E, "vllm0/0"),
        Some(Value::U64(1500))
    );
    assert_eq!(
        get(&s2, "llm.vllm.preemptions", E, "vllm0/0"),
        Some(Value::U64(4))
    );
    assert_eq!(
        get(
            &s2,
            "llm.vllm.requests.success",
            cat::FINISHED.serial,
            "vllm0/0/stop"
        ),
        Some(Value::U64(25))
    );
    assert_eq!(
        get(
            &s2,
            "llm.vllm.ttft.bucket",
            cat::LATENCY_BUCKETS.serial,
            "vllm0/0 le=0.25"
        ),
        Some(Value::U64(28))
    );
    let q = |name| match get(&s2, name, E, "vllm0/0") {
        Some(Value::F64(v)) => v,
        other => panic!("{name}: {other:?}"),
    };
    assert!((q("llm.vllm.ttft.p50") - 0.125).abs() < 1e-12);
    assert!((q("llm.vllm.ttft.p90") - 0.225).abs() < 1e-12);
    assert!((q("llm.vllm.ttft.p99") - 0.2475).abs() < 1e-12);
    // Every other histogram: 20 new observations, all in the bucket ending at its 8th bound.
    assert!(q("llm.vllm.e2e.p50") > 0.0);
    // The unknown family is kept under llm.vllm.other.
    let other = get(
        &s2,
        "llm.vllm.other.value",
        cat::OTHER.serial,
        "vllm0 vllm:future_gauge{engine=\"0\",model_name=\"Qwen/Qwen1.5-0.5B-Chat\"}",
    );
    assert_eq!(other, Some(Value::F64(42.0)));
    // ... and as a metric of its own under llm.other, with the same instance.
    let dynamic = s2
        .dynamic_metrics
        .iter()
        .find(|d| d.name == "llm.other.vllm.vllm.future_gauge")
        .expect("unknown family described as a dynamic metric");
    assert_eq!(dynamic.indom_serial, Some(cat::OTHER.serial));
    assert_eq!(dynamic.sem, crate::catalogue::Semantics::Instant);
    let inst = crate::sources::stable_instance_id(
        "vllm0 vllm:future_gauge{engine=\"0\",model_name=\"Qwen/Qwen1.5-0.5B-Chat\"}",
    );
    assert!(s2.dynamic_values.contains(&(
        "llm.other.vllm.vllm.future_gauge".to_string(),
        inst,
        Value::F64(42.0)
    )));
    // Every known family maps to the catalogue: only unknown ones become dynamic.
    assert!(
        s2.dynamic_metrics
            .iter()
            .all(|d| !d.name.contains("time_to_first_token"))
    );
    // The pid-labelled series is combined into the engine's instance, not a new one.
    assert_eq!(
        s2.indoms
            .iter()
            .find(|g| g.indom_serial == E)
            .unwrap()
            .instances
            .len(),
        1
    );
}

#[test]
fn a_counter_going_backwards_resets_the_quantile_baseline() {
    let mut m = Mapper::new("vllm0", "http://x/metrics");
    m.map(BUSY2).unwrap();
    // vLLM restarted: counts are lower than before: no quantile for this interval...
    let s = m.map(BUSY1).unwrap();
    assert_eq!(get(&s, "llm.vllm.ttft.p50", E, "vllm0/0"), None);
    assert_eq!(
        get(&s, "llm.vllm.tokens.prompt", E, "vllm0/0"),
        Some(Value::U64(5000))
    );
    // ...and the next interval is measured from the new baseline.
    let s = m.map(BUSY2).unwrap();
    assert!(get(&s, "llm.vllm.ttft.p50", E, "vllm0/0").is_some());
}

#[test]
fn an_interval_without_observations_has_no_quantile() {
    let mut m = Mapper::new("vllm0", "http://x/metrics");
    m.map(BUSY2).unwrap();
    let s = m.map(BUSY2).unwrap();
    assert_eq!(get(&s, "llm.vllm.ttft.p50", E, "vllm0/0"), None);
    assert_eq!(
        get(&s, "llm.vllm.ttft.count", E, "vllm0/0"),
        Some(Value::U64(30))
    );
}

#[test]
fn nan_and_inf_values_are_dropped_not_exported() {
    let mut m = Mapper::new("v", "http://x/metrics");
    let s = m
        .map("vllm:num_requests_running{engine=\"0\"} NaN\nvllm:kv_cache_usage_perc{engine=\"0\"} +Inf\nvllm:num_requests_waiting{engine=\"0\"} 1\n")
        .unwrap();
    assert_eq!(get(&s, "llm.vllm.requests.running", E, "v/0"), None);
    assert_eq!(get(&s, "llm.vllm.kv_cache.usage", E, "v/0"), None);
    assert_eq!(
        get(&s, "llm.vllm.requests.waiting", E, "v/0"),
        Some(Value::U64(1))
    );
}

#[test]
fn html_is_a_parse_error_with_a_line() {
    let mut m = Mapper::new("v", "http://x/metrics");
    let e = m.map("<html>\n<body>hi</body>\n").unwrap_err();
    assert_eq!(e, "parse error at line 1: expected a metric name");
}

#[test]
fn lmcache_and_epp_families() {
    let mut m = Mapper::new("ep", "http://x/metrics");
    let s = m
        .map(
            "lmcache:num_retrieve_requests_total{model_name=\"m\",role=\"worker\",served_model_name=\"m\",worker_id=\"0\"} 5\n\
lmcache:time_to_retrieve_bucket{worker_id=\"0\",le=\"0.1\"} 1\n\
lmcache:time_to_retrieve_bucket{worker_id=\"0\",le=\"+Inf\"} 2\n\
lmcache:brand_new{worker_id=\"0\"} 9\n\
inference_objective_request_total{model_name=\"a\",target_model_name=\"b\"} 11\n\
inference_pool_ready_pods{name=\"pool\"} 3\n",
        )
        .unwrap();
    assert_eq!(
        get(&s, "llm.lmcache.requests.retrieve", 40, "ep/0"),
        Some(Value::U64(5))
    );
    assert_eq!(
        get(&s, "llm.lmcache.retrieve_time.bucket", 41, "ep/0 le=+Inf"),
        Some(Value::U64(2))
    );
    assert_eq!(
        get(
            &s,
            "llm.lmcache.other.value",
            42,
            "ep lmcache:brand_new{worker_id=\"0\"}"
        ),
        Some(Value::F64(9.0))
    );
    assert_eq!(
        get(&s, "llm.epp.requests.total", 50, "ep/a/b"),
        Some(Value::U64(11))
    );
    assert_eq!(
        get(&s, "llm.epp.pool.ready_pods", 51, "ep/pool"),
        Some(Value::U64(3))
    );
}

#[test]
fn too_many_series_is_an_error() {
    let mut text = String::new();
    for i in 0..=MAX_SERIES {
        text.push_str(&format!("x{{i=\"{i}\"}} 1\n"));
    }
    let e = Mapper::new("v", "u").map(&text).unwrap_err();
    assert!(e.contains("more than"), "{e}");
}

#[test]
fn openmetrics_sample_names_with_underscores_are_mapped() {
    let mut m = Mapper::new("v", "u");
    let s = m
        .map("# TYPE vllm:prompt_tokens counter\nvllm_prompt_tokens_total{engine=\"0\"} 12.0\nvllm_prompt_tokens_created{engine=\"0\"} 1.7e9\n# EOF\n")
        .unwrap();
    assert_eq!(
        get(&s, "llm.vllm.tokens.prompt", E, "v/0"),
        Some(Value::U64(12))
    );
    assert_eq!(s.values.len(), 1);
}

#[test]
fn instance_ids_are_the_stable_ids_of_the_names() {
    let mut m = Mapper::new("vllm0", "u");
    let text = format!(
        "{BUSY2}\nvllm:request_success_total{{engine=\"1\",finished_reason=\"a b/c\"}} 1\nvllm:num_requests_running 2\n"
    );
    let s = m.map(&text).unwrap();
    let mut n = 0;
    for g in &s.indoms {
        for i in &g.instances {
            assert_eq!(
                i.id,
                crate::sources::stable_instance_id(&i.name),
                "{}",
                i.name
            );
            n += 1;
        }
    }
    assert!(n > 50, "{n} instances");
    inst(&s, cat::FINISHED.serial, "vllm0/1/a_b_c");
    inst(&s, E, "vllm0/-");
}

#[test]
fn series_with_over_long_names_or_labels_are_refused_and_counted() {
    let limits = crate::config::Limits {
        max_name_length: 40,
        max_label_length: 20,
        max_instance_length: 80,
        ..Default::default()
    };
    let mut m = Mapper::new("e", "http://x/metrics").with_limits(limits);
    let long_name = format!("vllm:{}", "n".repeat(100));
    let long_label = "v".repeat(30);
    let many = (0..10)
        .map(|i| format!("l{i}=\"0123456789\""))
        .collect::<Vec<_>>()
        .join(",");
    let text = format!(
        "vllm:num_requests_running{{engine=\"0\"}} 1\n{long_name} 1\n\
vllm:num_requests_waiting{{engine=\"{long_label}\"}} 2\nvllm:new_family{{{many}}} 3\nvllm:ok_family 4\n"
    );
    let s = m.map(&text).unwrap();
    assert_eq!(s.refused_series, 3, "{s:?}");
    assert_eq!(s.notes.len(), 1);
    assert!(s.notes[0].starts_with("3 series refused"), "{:?}", s.notes);
    let names: Vec<&str> = s.dynamic_metrics.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["llm.other.vllm.vllm.ok_family"]);
    for g in &s.indoms {
        for i in &g.instances {
            assert!(i.name.len() <= 80, "{}", i.name);
        }
    }
}

#[test]
fn an_unchanged_instance_set_is_not_sent_again() {
    let mut m = Mapper::new("vllm0", "http://x/metrics");
    let first = m.map(BUSY2).unwrap();
    assert!(!first.instances_unchanged);
    let n: usize = first.indoms.iter().map(|g| g.instances.len()).sum();
    assert!(n > 50, "{n} instances");
    let second = m.map(BUSY2).unwrap();
    assert!(second.instances_unchanged, "same series");
    assert!(second.indoms.is_empty());
    assert!(second.values.len() >= first.values.len() - 3 * 17);
    // After a failed sample the instances are sent in full again.
    m.forget_instances();
    let third = m.map(BUSY2).unwrap();
    assert!(!third.instances_unchanged);
    let n3: usize = third.indoms.iter().map(|g| g.instances.len()).sum();
    assert_eq!(n3, n);
    assert_eq!(third.indoms, first.indoms);
    // A changed label is a changed instance set.
    let relabelled = BUSY2.replace("Qwen/Qwen1.5-0.5B-Chat", "another/model");
    let fourth = m.map(&relabelled).unwrap();
    assert!(!fourth.instances_unchanged);
    assert!(
        fourth
            .indoms
            .iter()
            .flat_map(|g| &g.instances)
            .all(|i| i.labels.iter().all(|(_, v)| v != "Qwen/Qwen1.5-0.5B-Chat"))
    );
}

/// `text` with every sample's value `v` written as `v * (k + 1) + k` (counters grow, buckets
/// stay cumulative); everything else as it was.
fn bumped(text: &str, k: u32) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match parse::parse(line).next() {
            Some(Ok(parse::Entry::Sample(s))) => {
                let v = s.value * f64::from(k + 1) + f64::from(k);
                out.push_str(&line[..s.value_at]);
                out.push_str(&format!("{v}\n"));
            }
            _ => out.push_str(line),
        }
    }
    out
}

#[test]
fn a_scrape_of_a_known_shape_maps_as_the_full_way_does() {
    let long = format!("vllm:{}_total{{engine=\"0\"}} 1\n", "x".repeat(300));
    let new_family = "# TYPE vllm:brand_new counter\nvllm:brand_new_total{engine=\"0\"} 5\n";
    let mut bodies: Vec<(String, bool)> = vec![(IDLE.to_string(), false)];
    // (body, whether it has the shape of the one before)
    for k in 1..4 {
        bodies.push((bumped(IDLE, k), true));
    }
    bodies.extend([
        (BUSY1.to_string(), true), // the same lines as the idle capture
        (bumped(BUSY1, 1), true),
        (BUSY2.to_string(), false), // lines of its own
        (bumped(BUSY2, 2), true),
        (bumped(BUSY2, 3).replace('\n', "\r\n"), true),
        (format!("{}{new_family}", bumped(IDLE, 4)), false),
        (format!("{}{new_family}", bumped(IDLE, 5)), true),
        (format!("{}{long}", bumped(IDLE, 6)), false),
        (format!("{}{long}", bumped(IDLE, 7)), true),
        (
            bumped(IDLE, 8).replace("model_name=\"", "model_name=\"other-"),
            false,
        ),
        (bumped(IDLE, 9).replacen("} 9", "} NaN", 3), false),
        (bumped(IDLE, 10).replacen("} 10", "} +Inf", 3), true),
        (bumped(IDLE, 11).replacen("} 11", "} eleven", 1), false),
        (format!("{}# EOF\n", bumped(IDLE, 12)), false),
        (format!("{}# EOF\ntrailing junk\n", bumped(IDLE, 13)), true),
        (bumped(IDLE, 14).replace("# HELP", "# HELP  "), false),
        (IDLE.to_string(), false),
        (bumped(IDLE, 15), true),
    ]);
    let mut shaped = Mapper::new("vllm0", "http://127.0.0.1:8000/metrics");
    let mut full = Mapper::new("vllm0", "http://127.0.0.1:8000/metrics").without_shapes();
    for (i, (body, same_shape)) in bodies.iter().enumerate() {
        let hits = shaped.shape_hits();
        let (a, b) = (shaped.map(body), full.map(body));
        assert_eq!(a, b, "body {i}");
        assert_eq!(
            shaped.shape_hits() - hits,
            u64::from(*same_shape),
            "body {i}"
        );
        // The sample loop forgets the instances after an error; so does this one.
        if a.is_err() {
            shaped.forget_instances();
            full.forget_instances();
        }
    }
    assert_eq!(full.shape_hits(), 0);
    assert_eq!(shaped.replay_misses(), 0, "known shapes make the same puts");
}

/// The puts of a builder (key, value, sum) and the values it ends with, by key.
fn put_all(b: &mut Builder, puts: &[(u32, f64, bool)]) -> Vec<(MetricId, u32, Value)> {
    for (item, v, sum) in puts {
        b.put(MetricId::new(9, *item), 0, *v, Type::Double, *sum);
    }
    let (snap, memo) = std::mem::take(b).finish();
    b.slots = slots::Slots::following(memo);
    let mut values = snap.values;
    values.sort_by_key(|v| v.0);
    values
}

#[test]
fn puts_that_stop_following_the_last_scrapes_are_still_summed_right() {
    let first = [
        (1, 1.0, true),
        (2, 2.0, true),
        (1, 10.0, true),
        (3, 3.0, false),
    ];
    let mut b = Builder::default();
    let want = |puts: &[(u32, f64, bool)]| put_all(&mut Builder::default(), puts);
    assert_eq!(put_all(&mut b, &first), want(&first));
    // The same puts: followed to the end.
    assert_eq!(put_all(&mut b, &first), want(&first));
    // Other puts: an earlier key again, a new one, one missing, one replaced.
    for other in [
        vec![
            (1, 1.0, true),
            (3, 5.0, true),
            (1, 1.0, true),
            (2, 7.0, false),
        ],
        vec![(2, 4.0, true), (1, 1.0, true)],
        vec![(1, 1.0, true), (1, 5.0, true), (2, 2.0, true)],
        vec![
            (1, 1.0, true),
            (2, 2.0, true),
            (1, 3.0, false),
            (4, 4.0, true),
            (4, 1.0, true),
        ],
        vec![],
    ] {
        let mut b = Builder::default();
        put_all(&mut b, &first);
        assert_eq!(put_all(&mut b, &other), want(&other), "{other:?}");
        assert_eq!(
            put_all(&mut b, &first),
            want(&first),
            "{other:?} then the first"
        );
    }
}

#[test]
fn bucket_bounds_keep_their_text_inline_or_not() {
    for text in [
        "0.005",
        "+Inf",
        "",
        "1234567890.1234567890x",
        "é",
        &"9".repeat(40),
    ] {
        let le = LeText::new(text);
        assert_eq!(le.as_str(), text);
        assert_eq!(matches!(le, LeText::Inline(..)), text.len() <= 22, "{text}");
    }
}
