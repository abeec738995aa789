//! `pcp llm compare --html` opened in a real headless browser (Debian's chromium, installed by
//! scripts/setup.sh): the page the browser builds holds the tables and one chart per
//! quantity, and its screenshot (kept as target/tmp/compare-html-screenshot.png) shows far more
//! than the same-sized screenshot of an empty page.

mod util;

use std::path::Path;
use std::process::Command;
use util::{PCP_LLM, TempDir, guidellm, text};

fn chromium() -> &'static str {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("Debian's chromium is needed for this test (scripts/setup.sh installs it)")
}

/// Run headless chromium on `page` with `args`; returns stdout.
fn browser(dir: &TempDir, page: &Path, args: &[&str]) -> String {
    let profile = dir.join("profile");
    let o = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(o.status.success(), "chromium: {}", text(&o.stderr));
    text(&o.stdout)
}

#[test]
fn html_page_renders_in_headless_chromium() {
    let dir = TempDir::new("compare-browser");
    let page = dir.join("report.html");
    let o = Command::new(PCP_LLM)
        .args(["compare", "--html"])
        .arg(&page)
        .arg(guidellm("v0.5.3-prefix-concurrent-2-4.json"))
        .arg(guidellm("v0.8.1-prefix-multiturn-concurrent-2-4.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));

    // the document as the browser parsed it
    let dom = browser(&dir, &page, &["--dump-dom"]);
    assert_eq!(
        dom.matches("<section class=\"quantity\"").count(),
        9,
        "{dom}"
    );
    assert_eq!(dom.matches("<table>").count(), 9 + 1);
    assert_eq!(dom.matches("<svg").count(), 9 + 1);
    for title in [
        "Requests/s (successful, mean)",
        "Output tokens/s (successful, mean)",
        "TTFT p95 (ms)",
        "ITL median (ms)",
        "Mean % change against the baseline",
    ] {
        assert!(dom.contains(title), "{title} not in the page");
    }

    // pixels: the page against an empty one of the same size
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("compare-html-screenshot.png");
    let blank = dir.join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").unwrap();
    let blank_shot = dir.join("blank.png");
    let size = "--window-size=1280,4000";
    browser(
        &dir,
        &page,
        &[size, &format!("--screenshot={}", shot.display())],
    );
    browser(
        &dir,
        &blank,
        &[size, &format!("--screenshot={}", blank_shot.display())],
    );
    let png = std::fs::read(&shot).unwrap();
    let empty = std::fs::read(&blank_shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        png.len() > 10 * empty.len() && png.len() > 50_000,
        "screenshot {} bytes, an empty page {} bytes: nothing drawn?",
        png.len(),
        empty.len()
    );
}
