//! The stand-in NVML library (tests/nvml-stub/nvml_stub.c: three fake GPUs with known values,
//! faults driven by a control file), compiled with `cc` for one test.

use super::{TempDir, repo, run, text};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A compiled stand-in `libnvidia-ml.so.1` in its own directory, its control file
/// `dir/control`.
pub struct NvmlStub {
    pub dir: TempDir,
    pub lib: PathBuf,
}

impl NvmlStub {
    pub fn build(tag: &str) -> NvmlStub {
        let dir = TempDir::new(tag);
        let lib = dir.join("libnvidia-ml.so.1");
        Self::compile(dir.path(), &lib);
        NvmlStub { dir, lib }
    }

    /// Compiles the stub into `lib`, its control file `dir/control`.
    pub fn compile(dir: &Path, lib: &Path) {
        let control = dir.join("control");
        let out = run(Command::new("cc")
            .args(["-shared", "-fPIC", "-O1", "-o"])
            .arg(lib)
            .arg(format!("-DCONTROL_FILE=\"{}\"", control.display()))
            .arg(repo().join("tests/nvml-stub/nvml_stub.c")));
        assert!(out.status.success(), "cc failed: {}", text(&out.stderr));
    }

    /// Replaces the control file atomically (the stub re-reads it at the next sample).
    pub fn control(&self, text: &str) {
        let tmp = self.dir.join("control.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, self.dir.join("control")).unwrap();
    }

    /// The agent's `[gpu]` section for this library.
    pub fn config(&self) -> String {
        nvml_config(&self.lib)
    }
}

/// The agent's `[gpu]` section for the library `lib` (sampled every 100 ms).
pub fn nvml_config(lib: &Path) -> String {
    format!(
        "[gpu]\ninterval = \"100ms\"\nlibrary = \"{}\"\n",
        lib.display()
    )
}
