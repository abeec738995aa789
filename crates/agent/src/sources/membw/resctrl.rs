//! resctrl memory bandwidth monitoring (Intel RDT MBM, AMD PQoS): the root group's
//! `mon_data/mon_L3_XX/mbm_{total,local}_bytes` and, with Sub-NUMA Clustering,
//! `mon_sub_L3_YY`. The kernel keeps these as monotonic byte counts (it handles the hardware
//! counter's overflow); a read can answer `Unassigned` (counter-assignment mode), which is "no
//! value", never zero.

use std::path::{Path, PathBuf};

/// One L3 monitoring domain directory.
#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    /// Directory name, the instance name (`mon_L3_00`, `mon_sub_L3_01`).
    pub name: String,
    /// Instance id: XX for mon_L3_XX, 1000 + YY for mon_sub_L3_YY.
    pub id: u32,
    pub dir: PathBuf,
}

/// The domains under `<sysfs>/fs/resctrl/mon_data`, or why there are none.
pub fn domains(sysfs: &Path) -> Result<Vec<Domain>, String> {
    let root = sysfs.join("fs/resctrl");
    let mon = root.join("mon_data");
    let rd = match std::fs::read_dir(&mon) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(if root.join("info").exists() {
                format!(
                    "{}: not there (resctrl has no monitoring here)",
                    mon.display()
                )
            } else {
                format!(
                    "resctrl is not mounted at {} (mount -t resctrl resctrl {0}), or the CPU has no RDT/PQoS",
                    root.display()
                )
            });
        }
        Err(e) => return Err(format!("{}: {e}", mon.display())),
    };
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![];
    for e in rd.flatten() {
        stack.push(e.path());
    }
    // mon_sub_L3_YY directories live inside their mon_L3_XX with SNC.
    while let Some(dir) = stack.pop() {
        let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let id = if let Some(n) = name.strip_prefix("mon_L3_") {
            n.parse::<u32>().ok()
        } else if let Some(n) = name.strip_prefix("mon_sub_L3_") {
            n.parse::<u32>().ok().map(|n| 1000 + n)
        } else {
            None
        };
        let Some(id) = id else { continue };
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                }
            }
        }
        if dir.join("mbm_total_bytes").exists() || dir.join("mbm_local_bytes").exists() {
            out.push(Domain { name, id, dir });
        }
    }
    if out.is_empty() {
        return Err(format!(
            "{}: no mbm_total_bytes or mbm_local_bytes (the CPU has no memory bandwidth monitoring)",
            mon.display()
        ));
    }
    out.sort_by_key(|d| d.id);
    Ok(out)
}

/// Reads one mbm file: `Ok(Some(bytes))`, `Ok(None)` for `Unassigned` (or `Unavailable`), or the
/// error naming the file.
pub fn read_bytes(path: &Path) -> Result<Option<u64>, String> {
    let t = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let t = t.trim();
    if t == "Unassigned" || t == "Unavailable" {
        return Ok(None);
    }
    t.parse::<u64>()
        .map(Some)
        .map_err(|_| format!("{}: \"{t}\" is not a byte count", path.display()))
}
