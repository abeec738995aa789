//! Merging an import with a real pmlogger archive (a private pmcd with PCP's linux agent, and
//! pmlogger run by the test): the import names the host as pmlogger does, so pmlogextract
//! merges the two, and with `--merge-with` the merged archive's pmlogger columns are the same
//! as the pmlogger archive's at every time (no `<mark>` blanks them at the import's end or
//! between its benchmarks).

mod util;

use std::process::Command;
use util::*;

/// pmrep's view of the pmlogger columns, every 100 ms over the archive's window (counters
/// rate-converted, as users read them; an unknown value shows as N/A).
fn live_columns(archive: &str) -> String {
    tool(
        "pmrep",
        &[
            "-a",
            archive,
            "-z",
            "-o",
            "csv",
            "-t",
            "0.1",
            "kernel.all.load",
            "kernel.all.cpu.user",
            "kernel.all.pswitch",
        ],
    )
}

#[test]
fn import_merges_with_pmlogger_and_keeps_its_columns() {
    let dir = TempDir::new("merge-logger");
    let pmcd = Pmcd::linux(dir.path());
    let config = dir.join("logger.config");
    std::fs::write(
        &config,
        "log mandatory on 500 msec {\n    kernel.all.load\n    kernel.all.cpu.user\n    kernel.all.pswitch\n}\n",
    )
    .unwrap();
    let logger = Pmlogger::new(&pmcd.host(), &config, dir.join("logger"))
        .samples(24)
        .run();
    drop(pmcd);
    let (start, end) = window(&logger);
    assert!(end - start > 10.0, "pmlogger ran {:.1} s", end - start);
    let input = shifted_fixture(&dir, start + 3.0);

    // 3. the default host is the one pmlogger recorded: pmlogextract merges the two as they are
    let plain = import(&dir, "plain", &[&input], &[]);
    assert_eq!(archive_host(&plain), archive_host(&logger));
    let merged_plain = dir.join("merged-plain").to_string_lossy().into_owned();
    let out = Command::new("pmlogextract")
        .args([&logger, &plain, &merged_plain])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pmlogextract: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        !text(&out.stderr).contains("mismatch"),
        "{}",
        text(&out.stderr)
    );
    // no mark between the two benchmarks of the run (only pmlogextract's own at its end)
    assert_eq!(values(&plain).marks, Vec::<f64>::new());

    // 2. --merge-with: the merged archive's pmlogger columns equal the pmlogger archive's
    let imp = import(&dir, "imp", &[&input], &["--merge-with", &logger]);
    let merged = dir.join("merged").to_string_lossy().into_owned();
    tool("pmlogextract", &[&logger, &imp, &merged]);
    let m = values(&merged);
    assert_eq!(m.marks, Vec::<f64>::new(), "marks in the merged archive");
    assert_eq!(
        m.rows,
        values(&imp).rows,
        "GuideLLM values changed by the merge"
    );
    let want = live_columns(&logger);
    let got = live_columns(&merged);
    assert!(want.lines().count() > 90, "{want}");
    assert!(!want.contains("N/A") || want.lines().skip(2).all(|l| !l.contains("N/A")));
    if want != got {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .filter(|(a, b)| a != b)
            .take(5)
            .map(|(a, b)| format!("pmlogger: {a}\nmerged:   {b}"))
            .collect();
        panic!("merged columns differ:\n{}", diff.join("\n"));
    }
    for base in [&imp, &merged] {
        let out = Command::new("pmlogcheck").arg(base).output().unwrap();
        assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "pmlogcheck {base}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}

/// --merge-with on an archive that is not there: one line naming it, no archive written.
#[test]
fn merge_with_names_an_archive_that_exists() {
    let dir = TempDir::new("merge-missing");
    let missing = dir.join("nothing-here").to_string_lossy().into_owned();
    let base = dir.join("a").to_string_lossy().into_owned();
    let out = run_importer(&[
        guidellm("v0.4-handmade.json").to_str().unwrap(),
        "-o",
        &base,
        "--merge-with",
        &missing,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let e = text(&out.stderr);
    assert!(
        e.starts_with(&format!("guidellm2pcp: {missing}: cannot open archive")),
        "{e}"
    );
    assert_eq!(dir.files(), Vec::<String>::new());
}
