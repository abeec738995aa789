//! The test harness every integration test file uses (`mod util;`), one job per file:
//!
//! - [`tempdir`]: a fresh directory per test, removed on drop;
//! - [`fixtures`]: the files under tests/fixtures (GuideLLM result files, vLLM captures);
//! - [`tool`]: running a command or one of this package's programs, and a child killed on drop;
//! - [`pmcd`]: a private pmcd (own port, configuration, PMNS, directories; tests/private-pmcd.sh)
//!   serving the `pmdallm` under test, or PCP's linux agent alone;
//! - [`pmlogger`]: a pmlogger recording from a private pmcd, to its end or in the background;
//! - [`archive`]: reading an archive back (every value, its window, its host, record times);
//! - [`parse`]: the text PCP's tools print (`pminfo -f`, `pmrep -o csv`);
//! - [`http`]: local HTTP stand-ins (a Prometheus endpoint whose answers the test switches, a
//!   server answering each request from a function);
//! - [`nvml`]: the stand-in NVML library (tests/nvml-stub), compiled for one test.
//!
//! Every test binary compiles all of it and uses a part, hence `allow(dead_code)`.
#![allow(dead_code, unused_imports)]

pub mod archive;
pub mod fixtures;
pub mod http;
pub mod nvml;
pub mod parse;
pub mod pmcd;
pub mod pmlogger;
pub mod tempdir;
pub mod tool;

pub use archive::*;
pub use fixtures::*;
pub use http::*;
pub use nvml::*;
pub use parse::*;
pub use pmcd::*;
pub use pmlogger::*;
pub use tempdir::*;
pub use tool::*;

use std::path::PathBuf;

/// The programs under test, as Cargo built them for this test run.
pub const PMDALLM: &str = env!("CARGO_BIN_EXE_pmdallm");
pub const GUIDELLM2PCP: &str = env!("CARGO_BIN_EXE_guidellm2pcp");
pub const PCP_LLM: &str = env!("CARGO_BIN_EXE_pcp-llm");

/// The repository's top directory.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
