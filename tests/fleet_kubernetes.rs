//! The image's entry point, deploy/kubernetes/pcp-start.sh, outside a container: with a
//! private port, pmcd.conf, PMNS and directories it starts pmcd (serving pmdallm) and pmlogger
//! in the foreground, pmlogger's archive gets llm.* values, SIGUSR2 rotation makes a second
//! archive, and SIGTERM stops both processes and the script cleanly (exit 0, a readable
//! archive). Takes about 15 s.

mod util;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use util::*;

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// pids whose command line has `needle` and whose environment names `dir` (ours only).
fn our_pids(needle: &str, dir: &Path) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(needle) && cmd.contains(&*dir.to_string_lossy()) && alive(pid) {
            pids.push(pid);
        }
    }
    pids
}

/// Stops what the start script started if the test fails half-way: SIGTERM to the script
/// (which stops pmlogger and pmcd), then SIGKILL to anything of ours left.
struct Cleanup<'a>(u32, &'a Path);
impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while alive(self.0) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        for what in ["pmlogger", "pmcd", "pmdallm"] {
            for pid in our_pids(what, self.1) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

/// Archive bases (".meta" files) in `dir`.
fn archives(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .filter_map(|e| {
                    let n = e.path().to_string_lossy().into_owned();
                    n.strip_suffix(".meta").map(String::from)
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn start_script_runs_pmcd_and_pmlogger_and_stops_on_sigterm() {
    let tmp = TempDir::new("fleet-start");
    let dir = tmp.path().to_path_buf();
    // pmcd.conf and PMNS: pmcd's own agent and pmdallm as a pipe agent, GPU source off
    let conf = dir.join("llm.conf");
    std::fs::write(&conf, "[gpu]\nenabled = false\n").unwrap();
    let pmcd_conf = dir.join("pmcd.conf");
    std::fs::write(
        &pmcd_conf,
        format!(
            "pmcd\t2\tdso\tpmcd_init\t/var/lib/pcp/pmdas/pmcd/pmda_pmcd.so\n\
             llm\t{DOMAIN}\tpipe\tbinary\t{} -d {DOMAIN} -c {}\n",
            PMDALLM,
            conf.display()
        ),
    )
    .unwrap();
    let llm_pmns = write_pmns(&dir);
    let pmns = dir.join("root");
    let out = run(Command::new("/usr/lib/pcp/bin/pmnsmerge")
        .arg("/var/lib/pcp/pmns/root_pmcd")
        .arg(&llm_pmns)
        .arg(&pmns));
    assert!(out.status.success(), "pmnsmerge: {out:?}");
    let logger_conf = dir.join("logger.config");
    std::fs::write(
        &logger_conf,
        "log mandatory on every 1 second {\n    llm.agent.uptime\n    llm.agent.fetches\n}\n",
    )
    .unwrap();
    let archive_dir = dir.join("archives");
    let log_dir = dir.join("log");
    for d in ["run", "tmp", "var"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let port = free_port();

    let mut script = Command::new("sh")
        .arg(repo().join("deploy/kubernetes/pcp-start.sh"))
        .current_dir(&dir)
        .env("PMCD_PORT", port.to_string())
        .env("PMCD_INTERFACE", "127.0.0.1")
        .env("PCP_PMCDCONF_PATH", &pmcd_conf)
        .env("LLM_PMNS", &pmns)
        .env("LLM_ARCHIVE_DIR", &archive_dir)
        .env("LLM_ARCHIVE_NAME", "%Y%m%d.%H.%M.%S")
        .env("LLM_LOGGER_CONFIG", &logger_conf)
        .env("LLM_ROTATE_SECONDS", "4")
        .env("LLM_LOG_DIR", &log_dir)
        .env("PCP_RUN_DIR", dir.join("run"))
        .env("PCP_TMP_DIR", dir.join("tmp"))
        .env("PCP_VAR_DIR", dir.join("var"))
        .env("PMCD_ROOT_AGENT", "0")
        .env("PMCD_SOCKET", dir.join("run/pmcd.socket"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let cleanup = Cleanup(script.id(), &dir);
    let logs = || {
        let mut s = String::new();
        for f in ["pmcd.log", "pmlogger.log"] {
            s += &format!(
                "--- {f}\n{}\n",
                std::fs::read_to_string(log_dir.join(f)).unwrap_or_default()
            );
        }
        s
    };

    // Running: pmcd answers with the agent's metrics and a second archive appears (rotation).
    let deadline = Instant::now() + Duration::from_secs(30);
    while archives(&archive_dir).len() < 2 {
        if Instant::now() > deadline || script.try_wait().unwrap().is_some() {
            panic!(
                "no second archive in {}: {:?}\n{}",
                archive_dir.display(),
                archives(&archive_dir),
                logs()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // (pmcd starts its agents asynchronously: up to 10 s for the agent to answer)
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = run(Command::new("pminfo").args([
            "-h",
            &format!("127.0.0.1:{port}"),
            "-f",
            "llm.agent.version",
        ]));
        if stdout(&out).contains("value \"") {
            break;
        }
        assert!(Instant::now() < deadline, "pminfo: {out:?}\n{}", logs());
        std::thread::sleep(Duration::from_millis(200));
    }
    let pmcd_pids = our_pids("pmcd", &pmcd_conf);
    assert_eq!(pmcd_pids.len(), 1, "pmcd processes: {pmcd_pids:?}");
    let logger_pids = our_pids("pmlogger", &archive_dir);
    assert_eq!(logger_pids.len(), 1, "pmlogger processes: {logger_pids:?}");

    // SIGTERM: everything stops, exit 0, within 15 s.
    let _ = Command::new("kill")
        .args(["-TERM", &script.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = script.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "script still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // The script is gone (and reaped): its pid may be reused, so no SIGTERM to it on drop.
    std::mem::forget(cleanup);
    let mut err = String::new();
    use std::io::Read;
    script
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "exit {status:?}: {err}{}", logs());
    for pid in pmcd_pids.iter().chain(&logger_pids) {
        assert!(!alive(*pid), "process {pid} still running");
    }
    assert!(
        our_pids("pmdallm", &conf).is_empty(),
        "pmdallm still running"
    );

    // The archives: complete, with llm.agent values.
    let all = archives(&archive_dir);
    let last = all.last().unwrap();
    let out = run(Command::new("pmdumplog").args(["-z", last, "llm.agent.uptime"]));
    assert!(out.status.success(), "pmdumplog {last}: {out:?}");
    assert!(
        stdout(&out).contains("value "),
        "no llm.agent.uptime values in {last}: {}",
        stdout(&out)
    );
    let out = run(Command::new("pmlogcheck").arg(last));
    assert!(out.status.success(), "pmlogcheck {last}: {out:?}");
}

/// The YAML documents of a manifest file, as JSON (PyYAML through /usr/bin/python3).
fn yaml_docs(path: &Path) -> Vec<serde_json::Value> {
    let out = run(Command::new("/usr/bin/python3")
        .arg("-c")
        .arg("import json,sys,yaml\nprint(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))")
        .arg(path));
    assert!(out.status.success(), "{}: {out:?}", path.display());
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// kubernetes-validate (PyPI; its schemas are bundled, so it works offline): $KUBERNETES_VALIDATE,
/// then PATH.
fn kubernetes_validate() -> Option<String> {
    if let Ok(p) = std::env::var("KUBERNETES_VALIDATE") {
        return Some(p);
    }
    let out = Command::new("sh")
        .args(["-c", "command -v kubernetes-validate"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| stdout(&out).trim().to_string())
}

#[test]
fn manifests_validate_and_ask_for_no_privilege_they_do_not_use() {
    let dir = repo().join("deploy/kubernetes");
    let manifest = dir.join("pmdallm-daemonset.yaml");
    let docs = yaml_docs(&manifest);
    let kind =
        |k: &str| -> Vec<&serde_json::Value> { docs.iter().filter(|d| d["kind"] == k).collect() };

    // RBAC: list and watch pods, nothing else.
    let roles = kind("ClusterRole");
    assert_eq!(roles.len(), 1, "ClusterRoles: {roles:?}");
    let rules = roles[0]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "rules: {rules:?}");
    assert_eq!(rules[0]["resources"], serde_json::json!(["pods"]));
    assert_eq!(rules[0]["verbs"], serde_json::json!(["list", "watch"]));
    assert!(kind("Role").is_empty());

    // The pod: no host PID or network, nothing privileged, all capabilities dropped, read-only
    // root filesystem; the only added capability is the init container's CHOWN.
    let ds = kind("DaemonSet");
    assert_eq!(ds.len(), 1);
    let pod = &ds[0]["spec"]["template"]["spec"];
    assert_ne!(pod["hostPID"], true, "hostPID");
    assert_ne!(pod["hostNetwork"], true, "hostNetwork");
    assert_ne!(pod["hostIPC"], true, "hostIPC");
    assert_eq!(pod["runtimeClassName"], "nvidia");
    assert_eq!(pod["serviceAccountName"], "pmdallm");
    let mut all = pod["containers"].as_array().unwrap().clone();
    all.extend(
        pod["initContainers"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    for c in &all {
        let name = &c["name"];
        let sc = &c["securityContext"];
        assert_ne!(sc["privileged"], true, "{name}: privileged");
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{name}");
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{name}");
        assert_eq!(
            sc["capabilities"]["drop"],
            serde_json::json!(["ALL"]),
            "{name}"
        );
        let add = sc["capabilities"]["add"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let allowed: &[&str] = if c["name"] == "archive-owner" {
            &["CHOWN"]
        } else {
            &[]
        };
        for a in &add {
            assert!(allowed.iter().any(|x| a == x), "{name}: capability {a}");
        }
    }
    // The start script the image runs is the one tested above.
    assert_eq!(
        pod["containers"][0]["command"],
        serde_json::json!(["/usr/local/bin/pcp-start.sh"])
    );

    // OpenShift SCC: nothing privileged, granted to the service account only.
    let scc = yaml_docs(&dir.join("openshift-scc.yaml"));
    assert_eq!(scc.len(), 1);
    let scc = &scc[0];
    assert_eq!(scc["kind"], "SecurityContextConstraints");
    assert_eq!(scc["apiVersion"], "security.openshift.io/v1");
    for k in [
        "allowPrivilegedContainer",
        "allowPrivilegeEscalation",
        "allowHostPID",
        "allowHostIPC",
        "allowHostNetwork",
    ] {
        assert_eq!(scc[k], false, "SCC {k}");
    }
    assert_eq!(
        scc["users"],
        serde_json::json!(["system:serviceaccount:pcp:pmdallm"])
    );

    // The Kubernetes API schema, offline; a broken copy must fail.
    let Some(tool) = kubernetes_validate() else {
        eprintln!(
            "kubernetes-validate not installed (pip install kubernetes-validate): schema check skipped"
        );
        return;
    };
    let out = run(Command::new(&tool)
        .args(["--strict", "--quiet"])
        .arg(&manifest));
    assert!(
        out.status.success(),
        "{tool} {}: {out:?}",
        manifest.display()
    );
    let tmp = TempDir::new("fleet-k8s");
    let broken = tmp.path().join("broken.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&broken, text.replace("hostPID: false", "hostPid: false")).unwrap();
    let out = run(Command::new(&tool)
        .args(["--strict", "--quiet"])
        .arg(&broken));
    assert!(
        !out.status.success(),
        "{tool} accepted a misspelt field: {out:?}"
    );
}
