//! The real installation path: deploy/install-pmda copies pmda/ and the binary into
//! $PCP_PMDAS_DIR/llm and runs PCP's Install against the machine's own pmcd; --remove undoes it
//! and leaves pmcd.conf byte for byte as it was. Needs root and a running pmcd (scripts/setup.sh).

mod common;

use common::*;
use std::process::Command;

fn pcp_var(name: &str) -> String {
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(format!(". /etc/pcp.env && echo ${name}")));
    stdout(&out).trim().to_string()
}

fn install_pmda(args: &[&str]) -> String {
    let out = run(Command::new(repo().join("deploy/install-pmda"))
        .args(args)
        .arg("--binary")
        .arg(pmdallm())
        .stdin(std::process::Stdio::null()));
    let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "install-pmda {args:?} failed:\n{text}"
    );
    text
}

/// Runs the remove step even when an assertion fails half-way.
struct RemoveOnDrop;
impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("deploy/install-pmda"))
            .arg("--remove")
            .output();
    }
}

#[test]
fn install_and_remove_through_the_real_pmcd() {
    assert_eq!(
        unsafe_free_euid(),
        0,
        "the install test needs root (run scripts/test-all.sh as root)"
    );
    let pmcd_conf = pcp_var("PCP_PMCDCONF_PATH");
    let var_dir = pcp_var("PCP_VAR_DIR");
    // Start from a machine without the agent.
    install_pmda(&["--remove"]);
    let before = std::fs::read(&pmcd_conf).expect("pmcd.conf");
    let _cleanup = RemoveOnDrop;

    let text = install_pmda(&[]);
    assert!(text.contains("Check llm metrics have appeared"), "{text}");
    let conf = std::fs::read_to_string(&pmcd_conf).unwrap();
    let line = conf
        .lines()
        .find(|l| l.starts_with("llm"))
        .expect("llm line in pmcd.conf");
    assert!(
        line.contains("pipe") && line.contains("pmdallm -d 505"),
        "{line}"
    );

    let out = run(Command::new("pminfo").args(["-fdT", "llm.agent"]));
    let info = stdout(&out);
    assert!(
        info.contains(&format!("value \"{}\"", env!("CARGO_PKG_VERSION"))),
        "{info}"
    );
    assert!(info.contains("Semantics: counter  Units: count"), "{info}");
    assert!(std::path::Path::new(&format!("{var_dir}/config/pmlogconf/llm/agent")).exists());
    // The agent was started by pmdaroot as root and now runs as the PCP user.
    let ps = stdout(&run(
        Command::new("ps").args(["-o", "user=", "-C", "pmdallm"])
    ));
    assert!(
        ps.lines().any(|u| u.trim() == "pcp"),
        "pmdallm should run as pcp: {ps:?}"
    );
    let log = std::fs::read_to_string(format!("{}/pmcd/llm.log", pcp_var("PCP_LOG_DIR"))).unwrap();
    assert!(log.contains("serving domain 505"), "{log}");

    install_pmda(&["--remove"]);
    let after = std::fs::read(&pmcd_conf).unwrap();
    assert!(after == before, "pmcd.conf differs after remove");
    let out = run(Command::new("pminfo").arg("llm"));
    assert!(
        !out.status.success() || stdout(&out).trim().is_empty(),
        "llm still known after remove"
    );
}

fn unsafe_free_euid() -> u32 {
    let out = run(Command::new("id").arg("-u"));
    stdout(&out).trim().parse().unwrap()
}
