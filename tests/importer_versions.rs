//! What must not change with the PCP release guidellm2pcp is built against (6.0 to 7.2): the
//! archive's times are the JSON's, to the microsecond, whatever unit the release's
//! libpcp_import takes (microseconds before 7.2, nanoseconds from 7.2 on), and every label has
//! the same JSON value (a string, except GuideLLM's booleans), although 7.2's pmiPutLabel
//! turns number-like values into JSON numbers where earlier releases quote everything.

mod util;

use serde_json::{Map, Value};
use util::*;

const V081: &str = "v0.8.1-prefix-multiturn-concurrent-2-4.json";

/// Microseconds since the epoch of JSON seconds, rounded as the importer rounds them.
fn usec(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Nanoseconds since the epoch of a `pmdumplog -l` line such as
/// `commencing Tue Nov 24 09:17:31.395509 2026` (archive time zone UTC, 6 or 9 decimals).
fn label_time(dump: &str, word: &str) -> i128 {
    let line = dump
        .lines()
        .find(|l| l.trim_start().starts_with(word))
        .unwrap_or_else(|| panic!("no `{word}` line in pmdumplog -l output:\n{dump}"));
    let f: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(f.len(), 6, "pmdumplog -l line not understood: {line}");
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == f[2]).unwrap() as i64 + 1;
    let day: i64 = f[3].parse().unwrap();
    let year: i64 = f[5].parse().unwrap();
    let (hms, frac) = f[4].split_once('.').unwrap_or((f[4], ""));
    let hms: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
    assert!(frac.len() <= 9, "{line}");
    let nsec: i128 = format!("{frac:0<9}").parse().unwrap();
    let secs = days_from_civil(year, month, day) * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    secs as i128 * 1_000_000_000 + nsec
}

fn check_times(archive_version: &str) {
    let doc = guidellm_json(V081);
    let benches = doc["benchmarks"].as_array().unwrap();
    let start = benches[0]["start_time"].as_f64().unwrap();
    // The point of the fixture: its first benchmark starts at a fractional second.
    assert!(
        start.fract() > 0.01,
        "fixture start {start} is not fractional"
    );
    let dir = TempDir::new("times");
    let base = import(
        &dir,
        "a",
        &[&guidellm(V081)],
        &["--archive-version", archive_version],
    );

    // The archive label: it starts at the first benchmark's start_time, to the nanosecond
    // where a v3 archive holds nanoseconds (the importer's times are whole microseconds).
    let label = tool("pmdumplog", &["-l", "-z", &base]);
    assert!(
        label.contains(&format!("Version {archive_version}")),
        "{label}"
    );
    assert_eq!(
        label_time(&label, "commencing"),
        usec(start) as i128 * 1000,
        "archive start vs start_time {start}:\n{label}"
    );
    let end = benches.last().unwrap()["end_time"].as_f64().unwrap();
    assert_eq!(
        label_time(&label, "ending"),
        usec(end) as i128 * 1000,
        "archive end vs the last end_time {end}:\n{label}"
    );

    // Every record: the first at the first start_time, each benchmark's summaries at its
    // start_time and end_time, and after each benchmark but the last a <mark> 1 ms (what
    // pmiPutMark adds) after its end_time.
    let v = values(&base);
    let times: Vec<i64> = v.rows.iter().map(|r| usec(r.0)).collect();
    assert_eq!(times[0], usec(start), "first record");
    for (k, b) in benches.iter().enumerate() {
        for field in ["start_time", "end_time"] {
            let t = usec(b[field].as_f64().unwrap());
            assert!(
                v.rows
                    .iter()
                    .any(|r| usec(r.0) == t && r.1 == "guidellm.duration"),
                "benchmark {k}: no summary record at its {field} {t} us"
            );
        }
    }
    // one run: no <mark> between its benchmarks (nothing is missing there)
    assert_eq!(v.marks, Vec::<f64>::new(), "marks in a one-run import");
}

#[test]
fn times_are_the_jsons_to_the_microsecond_v2() {
    check_times("2");
}

#[test]
fn times_are_the_jsons_to_the_microsecond_v3() {
    check_times("3");
}

/// The label JSON objects of a `pmdumplog -e` or `pminfo -l` output, in order: the text from
/// the first `{` of each line that has `labels` and a `{`.
fn label_sets(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| l.contains("labels") && l.contains('{'))
        .map(|l| {
            let i = l.find('{').unwrap();
            (l[..i].trim().to_string(), l[i..].trim().to_string())
        })
        .collect()
}

/// The JSON text PCP stores for a label set: names sorted, compact.
fn json_text(pairs: &[(&str, Value)]) -> String {
    let m: Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    serde_json::to_string(&Value::Object(m)).unwrap()
}

#[test]
fn label_json_is_exact() {
    let doc = guidellm_json(V081);
    let dir = TempDir::new("labels-exact");
    let base = import(&dir, "a", &[&guidellm(V081)], &[]);
    let dump = tool("pmdumplog", &["-e", &base]);
    let sets = label_sets(&dump);
    let s = |x: &str| Value::String(x.to_string());
    let gl_version = doc["metadata"]["guidellm_version"].as_str().unwrap();
    for (k, b) in doc["benchmarks"].as_array().unwrap().iter().enumerate() {
        let c = &b["config"];
        let id = c["id_"].as_str().unwrap();
        let streams = [2, 4][k];
        // Numbers GuideLLM gives (target concurrency, confidence, sample size) are strings
        // in the labels, on every PCP version; its booleans stay booleans.
        let want = json_text(&[
            ("benchmark", s(&format!("concurrent@{streams}"))),
            ("benchmark_id", s(id)),
            (
                "confidence",
                s(&c["confidence"].as_f64().unwrap().to_string()),
            ),
            ("guidellm_version", s(gl_version)),
            ("model", s("mock-llama")),
            ("node", s("ci-mock")),
            ("records", s("sampled")),
            ("run_id", s(c["run_id"].as_str().unwrap())),
            (
                "sample_size",
                s(&c["sample_size"].as_u64().unwrap().to_string()),
            ),
            ("scenario", s("prefix-multiturn")),
            ("schema", s("0.7-0.8")),
            ("strategy", s("concurrent")),
            ("target", s("http://127.0.0.1:8081")),
            ("target_concurrency", s(&streams.to_string())),
            ("tpot_includes_ttft", Value::Bool(true)),
        ]);
        let here = format!("InDom 510.1[{k}]");
        let got = sets
            .iter()
            .find(|(what, _)| what.starts_with(&here))
            .unwrap_or_else(|| panic!("no labels for {here} in:\n{dump}"));
        assert_eq!(got.1, want, "{here}");
        // The turns of this benchmark: the benchmark's two labels and the turn index.
        for turn in 0..2 {
            let here = format!("InDom 510.2[{}]", k * 1000 + turn);
            let want = json_text(&[
                ("benchmark", s(&format!("concurrent@{streams}"))),
                ("benchmark_id", s(id)),
                ("turn_index", s(&turn.to_string())),
            ]);
            let got = sets
                .iter()
                .find(|(what, _)| what.starts_with(&here))
                .unwrap_or_else(|| panic!("no labels for {here} in:\n{dump}"));
            assert_eq!(got.1, want, "{here}");
        }
    }
    // No label anywhere has a number value: each is a string, true, false or null.
    for (what, json) in &sets {
        let v: Value = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("{what}: label JSON {json} does not parse: {e}"));
        for (name, value) in v.as_object().unwrap() {
            assert!(
                value.is_string() || value.is_boolean() || value.is_null(),
                "{what}: label {name} is {value}, not a string"
            );
        }
    }
    // pminfo merges the context's labels in and shows the same values.
    let info = tool("pminfo", &["-a", &base, "-l", "guidellm.duration"]);
    let inst0 = label_sets(&info)
        .into_iter()
        .find(|(what, _)| what.starts_with("inst [0 "))
        .unwrap_or_else(|| panic!("no instance 0 labels in:\n{info}"));
    let v: Value = serde_json::from_str(&inst0.1).unwrap();
    assert_eq!(v["target_concurrency"], s("2"), "{info}");
    assert_eq!(v["tpot_includes_ttft"], Value::Bool(true), "{info}");
    // the archive's host (this host by default), not the benchmark target's
    let host = archive_host(&base);
    assert_eq!(v["hostname"], s(&host), "{info}");
    assert_ne!(host, "127.0.0.1");
}

/// The descriptors of every metric `pminfo -md` shows, one line each:
/// `name|PMID|type|indom|semantics|units`, sorted.
fn descriptor_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for block in text.split("\n\n") {
        let mut rows = block.lines().filter(|l| !l.trim().is_empty());
        let Some((name, pmid)) = rows.next().and_then(|h| h.split_once(" PMID: ")) else {
            continue;
        };
        let rest: Vec<&str> = rows.map(str::trim).collect();
        let field = |key: &str, until: &str| -> String {
            rest.iter()
                .find_map(|l| l.split_once(key).map(|(_, v)| v))
                .map(|v| v.split(until).next().unwrap_or(v).trim().to_string())
                .unwrap_or_else(|| panic!("{name}: no {key:?} in {rest:?}"))
        };
        lines.push(format!(
            "{name}|{pmid}|{}|{}|{}|{}",
            field("Data Type: ", "  InDom:"),
            field("InDom: ", "\u{0}"),
            field("Semantics: ", "  Units:"),
            field("Units: ", "\u{0}")
        ));
    }
    lines.sort();
    lines
}

/// The same metric descriptors on every PCP release: the import of the 0.8.1 fixture is
/// compared, descriptor by descriptor, with the list written on PCP 6.0.3
/// (tests/fixtures/guidellm/descriptors-0.8.1.txt.zst; `LLM_WRITE_DESCRIPTORS=1` rewrites it
/// after a deliberate catalogue change).
#[test]
fn descriptors_are_the_same_on_every_release() {
    let dir = TempDir::new("descriptors");
    let base = import(&dir, "a", &[&guidellm(V081)], &[]);
    let got = descriptor_lines(&tool("pminfo", &["-a", &base, "-md", "guidellm"]));
    assert!(got.len() > 1000, "{} descriptors", got.len());
    let golden = guidellm("descriptors-0.8.1.txt.zst");
    if std::env::var_os("LLM_WRITE_DESCRIPTORS").is_some() {
        let text = got.join("\n") + "\n";
        std::fs::write(&golden, zstd::encode_all(text.as_bytes(), 19).unwrap()).unwrap();
    }
    let want = zstd::decode_all(std::fs::File::open(&golden).unwrap()).unwrap();
    let want: Vec<String> = String::from_utf8(want)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let missing: Vec<&String> = want.iter().filter(|l| !got.contains(l)).take(5).collect();
    let extra: Vec<&String> = got.iter().filter(|l| !want.contains(l)).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && got.len() == want.len(),
        "descriptors differ from the PCP 6.0.3 list ({} vs {}): missing {missing:?}, new {extra:?}",
        got.len(),
        want.len()
    );
}
