//! Links PCP's own C libraries (Debian: libpcp3-dev, libpcp-pmda3-dev, libpcp-import1-dev;
//! RHEL: pcp-libs-devel). Order matters for static-style resolution: the agent and import
//! libraries first, then libpcp that both depend on.
fn main() {
    println!("cargo:rustc-link-lib=dylib=pcp_pmda");
    println!("cargo:rustc-link-lib=dylib=pcp_import");
    println!("cargo:rustc-link-lib=dylib=pcp");
    println!("cargo:rerun-if-changed=build.rs");
}
