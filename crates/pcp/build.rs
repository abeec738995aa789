//! Links PCP's own C libraries (Debian: libpcp3-dev, libpcp-pmda3-dev, libpcp-import1-dev;
//! RHEL: pcp-libs-devel). Order matters for static-style resolution: the agent and import
//! libraries first, then libpcp that both depend on.
//!
//! It also selects the libpcp_import ABI from the installed headers (`pcp/import.h`,
//! `pcp/pmapi.h`), never from a version number, and tells the crate through cfgs:
//!
//! - `pcp_pmi_write_nsec`: `pmiWrite(unsigned long long sec, unsigned int nsec)` (PCP 7.2 and
//!   later, `libpcp_import.so.2`); otherwise `pmiWrite(int sec, int usec)` (PCP 6.x, 7.0, 7.1).
//!   The same libpcp_import passes label values that are JSON fragments (numbers, quoted
//!   strings) through verbatim, so the crate quotes them itself (crates/pcp/src/import.rs).
//! - `pcp_pmi_result_timespec`: the structure `pmiPutResult` takes (`pmResult` or
//!   `pmResult_v2`) carries a `struct timespec` timestamp; otherwise a `struct timeval`.
//! - `pcp_pmapi_v4`: `pmapi.h` defaults to `PMAPI_VERSION_4` (PCP 7: `pmResult` is the
//!   timespec form and the PMDA interface uses `pmResult_v2`, a.k.a. `pmdaResult`).
//!
//! The headers are read from `$PCP_INCLUDE_DIR` (default `/usr/include`), the directory that
//! holds `pcp/`. A header that is missing or not understood fails the build with its path.
use std::path::{Path, PathBuf};

fn read(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => panic!(
            "{}: {e} (install PCP's development headers: Debian libpcp-import1-dev, libpcp-pmda3-dev; RHEL pcp-libs-devel)",
            path.display()
        ),
    }
}

/// The text of the prototype of C function `name` (`... name(args);`), with whitespace
/// collapsed, or None.
fn prototype(header: &str, name: &str) -> Option<String> {
    header.match_indices(name).find_map(|(at, _)| {
        let before = header[..at].chars().next_back();
        let after = header[at + name.len()..].trim_start().chars().next();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') || after != Some('(') {
            return None;
        }
        let start = header[..at]
            .rfind([';', '\n', '}', '/'])
            .map_or(0, |i| i + 1);
        let end = at + header[at..].find(';')?;
        let text = header[start..end].split_whitespace().collect::<Vec<_>>();
        text.contains(&"extern").then(|| text.join(" "))
    })
}

/// The type of the `timestamp` member of `typedef struct <name> { ... }` in pmapi.h.
fn timestamp_type(pmapi: &str, name: &str, path: &Path) -> &'static str {
    let open = format!("typedef struct {name} {{");
    let Some(i) = pmapi.find(&open) else {
        panic!("{}: no `{open}` found", path.display());
    };
    let body = &pmapi[i..i + pmapi[i..].find('}').unwrap_or(pmapi.len() - i)];
    let line = body
        .lines()
        .find(|l| l.contains("timestamp"))
        .unwrap_or_else(|| panic!("{}: struct {name} has no timestamp member", path.display()));
    if line.contains("struct timespec") {
        "timespec"
    } else if line.contains("struct timeval") {
        "timeval"
    } else {
        panic!(
            "{}: struct {name}: timestamp type not understood: {}",
            path.display(),
            line.trim()
        )
    }
}

fn main() {
    println!("cargo:rustc-link-lib=dylib=pcp_pmda");
    println!("cargo:rustc-link-lib=dylib=pcp_import");
    println!("cargo:rustc-link-lib=dylib=pcp");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PCP_INCLUDE_DIR");
    for cfg in [
        "pcp_pmi_write_nsec",
        "pcp_pmi_result_timespec",
        "pcp_pmapi_v4",
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }

    let inc = std::env::var_os("PCP_INCLUDE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/include"));
    let import_h = inc.join("pcp/import.h");
    let pmapi_h = inc.join("pcp/pmapi.h");
    println!("cargo:rerun-if-changed={}", import_h.display());
    println!("cargo:rerun-if-changed={}", pmapi_h.display());
    let import = read(&import_h);
    let pmapi = read(&pmapi_h);

    let write = prototype(&import, "pmiWrite")
        .unwrap_or_else(|| panic!("{}: no pmiWrite prototype", import_h.display()));
    let args = &write[write.find('(').unwrap() + 1..write.rfind(')').unwrap_or(write.len())];
    let args: Vec<String> = args
        .split(',')
        .map(|a| a.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["int", "int"] => {}
        ["unsigned long long", "unsigned int"] => println!("cargo:rustc-cfg=pcp_pmi_write_nsec"),
        _ => panic!(
            "{}: pmiWrite prototype not understood: {write}",
            import_h.display()
        ),
    }

    let put = prototype(&import, "pmiPutResult")
        .unwrap_or_else(|| panic!("{}: no pmiPutResult prototype", import_h.display()));
    let result = if put.contains("pmResult_v2") {
        "pmResult_v2"
    } else if put.contains("pmResult") {
        "pmResult"
    } else {
        panic!(
            "{}: pmiPutResult prototype not understood: {put}",
            import_h.display()
        )
    };
    println!("cargo:rustc-env=PCP_PMI_RESULT={result}");
    if timestamp_type(&pmapi, result, &pmapi_h) == "timespec" {
        println!("cargo:rustc-cfg=pcp_pmi_result_timespec");
    }

    let default = pmapi
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("#define") && w.next() == Some("PMAPI_VERSION"))
                .then(|| w.next().map(str::to_string))
                .flatten()
        })
        .next()
        .unwrap_or_else(|| panic!("{}: no `#define PMAPI_VERSION`", pmapi_h.display()));
    match default.as_str() {
        "PMAPI_VERSION_2" => {}
        "PMAPI_VERSION_4" => println!("cargo:rustc-cfg=pcp_pmapi_v4"),
        other => panic!(
            "{}: PMAPI_VERSION default {other} not supported",
            pmapi_h.display()
        ),
    }
}
