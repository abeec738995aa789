//! The workspace's boundaries (docs/ARCHITECTURE.md): the PCP crate is a leaf, `unsafe` is
//! forbidden outside the crates allowed it, and the importer links no TLS or agent library.

mod util;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use util::{GUIDELLM2PCP, PMDALLM, repo};

/// Crates that may contain `unsafe` code: the PCP layer and the two system shims.
const UNSAFE_ALLOWED: &[&str] = &["pcp", "llm-sys", "nvml-fields"];

/// Every workspace package and the workspace packages it depends on (normal dependencies).
fn workspace_graph() -> BTreeMap<String, (String, Vec<String>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(repo())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let names: Vec<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap())
                .filter(|d| names.contains(d))
                .map(str::to_string)
                .collect();
            let manifest = p["manifest_path"].as_str().unwrap().to_string();
            (p["name"].as_str().unwrap().to_string(), (manifest, deps))
        })
        .collect()
}

#[test]
fn the_pcp_crate_depends_on_no_other_crate_of_the_workspace() {
    let graph = workspace_graph();
    assert!(graph.len() >= 7, "workspace packages: {:?}", graph.keys());
    let (_, pcp_deps) = &graph["pcp"];
    assert!(pcp_deps.is_empty(), "pcp depends on {pcp_deps:?}");
    // The agent reaches PCP only through the pcp crate: it does depend on it.
    assert!(graph["llm-agent"].1.contains(&"pcp".to_string()));
    // The importer does not depend on the agent (its sources, reqwest, tokio, NVML).
    assert!(!graph["guidellm"].1.contains(&"llm-agent".to_string()));
    assert!(!graph["pcp-llm"].1.contains(&"llm-agent".to_string()));
}

/// Every library crate root outside [`UNSAFE_ALLOWED`] says `#![forbid(unsafe_code)]`, so the
/// compiler rejects `unsafe` there; the allowed ones say so with `#![allow(unsafe_code)]`.
#[test]
fn unsafe_is_forbidden_outside_the_pcp_crate_and_the_shims() {
    for (name, (manifest, _)) in workspace_graph() {
        let dir = Path::new(&manifest).parent().unwrap();
        let root = dir.join("src/lib.rs");
        let Ok(text) = std::fs::read_to_string(&root) else {
            continue; // the root package: binaries only, checked below
        };
        if UNSAFE_ALLOWED.contains(&name.as_str()) {
            assert!(
                text.contains("#![allow(unsafe_code)]"),
                "{}",
                root.display()
            );
        } else {
            assert!(
                text.contains("#![forbid(unsafe_code)]"),
                "{} lacks #![forbid(unsafe_code)]",
                root.display()
            );
        }
    }
    for bin in [
        "src/main.rs",
        "src/bin/guidellm2pcp.rs",
        "src/bin/pcp-llm.rs",
    ] {
        let text = std::fs::read_to_string(repo().join(bin)).unwrap();
        assert!(text.contains("#![forbid(unsafe_code)]"), "{bin}");
    }
}

/// The shared libraries a binary names itself (`NEEDED` entries), not those its libraries
/// pull in (libpcp itself needs OpenSSL, so `ldd` shows libssl for any PCP client).
fn needed(binary: &str) -> Vec<String> {
    let out = Command::new("readelf")
        .args(["-d", binary])
        .output()
        .expect("readelf (binutils)");
    assert!(out.status.success(), "readelf -d {binary}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next().map(str::to_string))
        .collect()
}

#[test]
fn guidellm2pcp_links_no_tls_and_no_pmda_library() {
    let importer = needed(GUIDELLM2PCP);
    assert!(
        importer.iter().any(|l| l.starts_with("libpcp_import.")),
        "{importer:?}"
    );
    for lib in ["libssl", "libcrypto", "libpcp_pmda"] {
        assert!(
            !importer.iter().any(|l| l.starts_with(lib)),
            "guidellm2pcp needs {lib}: {importer:?}"
        );
    }
    // The same check sees the agent's own needs, so it is not blind.
    let agent = needed(PMDALLM);
    assert!(
        agent.iter().any(|l| l.starts_with("libpcp_pmda.")),
        "{agent:?}"
    );
    assert!(agent.iter().any(|l| l.starts_with("libssl.")), "{agent:?}");
}
