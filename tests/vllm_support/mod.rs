//! Helpers for the vLLM end-to-end tests: a private pmcd running pmdallm (through
//! tests/private-pmcd.sh, which never touches the system pmcd), a fake Prometheus endpoint
//! (a std::net server thread whose behaviour the test switches), and pminfo parsing.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("tests/fixtures/vllm").join(name)).unwrap()
}

/// What the fake endpoint answers.
#[derive(Clone)]
pub enum Mode {
    /// 200 with this body.
    Body(Arc<Vec<u8>>),
    /// The first answer is `.0`, every later one `.1`.
    Then(Arc<Vec<u8>>, Arc<Vec<u8>>),
    Status500,
    Html,
    /// 50 MB of valid-looking text without a Content-Length.
    Huge,
    /// Reads the request, then says nothing for this long and closes.
    Hang(Duration),
    /// Announces the full length, sends half, closes.
    CloseMidBody(Arc<Vec<u8>>),
}

pub struct FakeEndpoint {
    pub port: u16,
    mode: Arc<Mutex<Mode>>,
    pub requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl FakeEndpoint {
    /// Listens on 127.0.0.1:port (the port must be free: the test picks it).
    pub fn start(port: u16, mode: Mode) -> FakeEndpoint {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind fake endpoint");
        listener.set_nonblocking(true).unwrap();
        let mode = Arc::new(Mutex::new(mode));
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, r, s) = (mode.clone(), requests.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (m, r) = (m.clone(), r.clone());
                        std::thread::spawn(move || serve(conn, m, r));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeEndpoint {
            port,
            mode,
            requests,
            stop,
        }
    }
    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
}

impl Drop for FakeEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(mut conn: TcpStream, mode: Arc<Mutex<Mode>>, requests: Arc<AtomicUsize>) {
    conn.set_nonblocking(false).ok();
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok();
    loop {
        // Read one request head.
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let n = requests.fetch_add(1, Ordering::SeqCst);
        let current = mode.lock().unwrap().clone();
        let ok = |conn: &mut TcpStream, ct: &str, body: &[u8]| {
            let h = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            conn.write_all(h.as_bytes()).is_ok() && conn.write_all(body).is_ok()
        };
        let keep = match current {
            Mode::Body(b) => ok(&mut conn, "text/plain; version=0.0.4; charset=utf-8", &b),
            Mode::Then(first, rest) => {
                let b = if n == 0 { first } else { rest };
                ok(&mut conn, "text/plain; version=0.0.4; charset=utf-8", &b)
            }
            Mode::Status500 => {
                let body = b"Internal Server Error";
                let h = format!(
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                conn.write_all(h.as_bytes()).is_ok() && conn.write_all(body).is_ok()
            }
            Mode::Html => ok(
                &mut conn,
                "text/html; charset=utf-8",
                b"<html><body>Login</body></html>\n",
            ),
            Mode::Huge => {
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
                );
                let line = b"vllm:filler{engine=\"0\",n=\"0000000000\"} 1.0\n";
                let chunk: Vec<u8> = line.iter().copied().cycle().take(1 << 20).collect();
                for _ in 0..50 {
                    if conn.write_all(&chunk).is_err() {
                        break;
                    }
                }
                false
            }
            Mode::Hang(d) => {
                std::thread::sleep(d);
                false
            }
            Mode::CloseMidBody(b) => {
                let h = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                    b.len()
                );
                let _ = conn.write_all(h.as_bytes());
                let _ = conn.write_all(&b[..b.len() / 2]);
                false
            }
        };
        if !keep {
            return;
        }
    }
}

/// A private pmcd with pmdallm (and optionally pmdalinux) on 127.0.0.1:port.
pub struct Pmcd {
    pub dir: PathBuf,
    pub host: String,
}

impl Pmcd {
    pub fn start(name: &str, port: u16, conf: &str, with_linux: bool) -> Pmcd {
        let dir = std::env::temp_dir().join(format!("pmdallm-test-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pmns = dir.join("llm.pmns");
        let out = Command::new("/usr/lib/pcp/bin/pmcpp")
            .arg("-I")
            .arg(repo().join("pmda"))
            .arg(repo().join("pmda/root"))
            .output()
            .expect("run pmcpp");
        assert!(out.status.success(), "pmcpp failed");
        std::fs::write(&pmns, &out.stdout).unwrap();
        let conf_path = dir.join("llm.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let agent = format!(
            "llm 505 pipe binary {} -d 505 -c {} -l {}",
            env!("CARGO_BIN_EXE_pmdallm"),
            conf_path.display(),
            dir.join("llm.log").display()
        );
        let mut cmd = Command::new(repo().join("tests/private-pmcd.sh"));
        cmd.arg("start")
            .arg(dir.join("pmcd"))
            .arg(port.to_string())
            .arg("--pmns-file")
            .arg(&pmns)
            .arg("--agent")
            .arg(&agent);
        if with_linux {
            cmd.arg("--pmns-file")
                .arg("/var/lib/pcp/pmns/root_linux")
                .arg("--agent")
                .arg("linux 60 dso linux_init /var/lib/pcp/pmdas/linux/pmda_linux.so");
        }
        let out = cmd.output().expect("run tests/private-pmcd.sh");
        assert!(
            out.status.success(),
            "private pmcd did not start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Pmcd {
            dir,
            host: format!("127.0.0.1:{port}"),
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("llm.log")).unwrap_or_default()
    }

    /// `pminfo -f` of `names`: metric -> instance name ("" for singular) -> value text
    /// (strings without their quotes).
    pub fn fetch(&self, names: &[&str]) -> BTreeMap<String, BTreeMap<String, String>> {
        let out = Command::new("pminfo")
            .arg("-h")
            .arg(&self.host)
            .arg("-f")
            .args(names)
            .env("PCP_PYTHON_PROG", "/usr/bin/python3")
            .output()
            .expect("run pminfo");
        parse_pminfo(&String::from_utf8_lossy(&out.stdout))
    }

    pub fn value(&self, metric: &str, inst: &str) -> Option<String> {
        self.fetch(&[metric]).get(metric)?.get(inst).cloned()
    }

    /// Polls until `f` holds (at most `secs` seconds); returns whether it did.
    pub fn wait(&self, secs: u64, mut f: impl FnMut(&Pmcd) -> bool) -> bool {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if f(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Pmcd {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("tests/private-pmcd.sh"))
            .arg("stop")
            .arg(self.dir.join("pmcd"))
            .output();
    }
}

pub fn parse_pminfo(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            current = line.trim().to_string();
            out.entry(current.clone()).or_default();
            continue;
        }
        let l = line.trim();
        let (inst, rest) = if let Some(r) = l.strip_prefix("inst [") {
            let q1 = r.find(" or \"").map(|i| i + 5);
            let Some(q1) = q1 else { continue };
            let q2 = r[q1..].find("\"] value ").map(|i| q1 + i);
            let Some(q2) = q2 else { continue };
            (r[q1..q2].to_string(), &r[q2 + 9..])
        } else if let Some(r) = l.strip_prefix("value ") {
            (String::new(), r)
        } else {
            continue;
        };
        let v = rest
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(rest);
        out.entry(current.clone())
            .or_default()
            .insert(inst, v.to_string());
    }
    out
}

pub fn conf(port: u16, extra: &str) -> String {
    format!(
        "[gpu]\nenabled = false\n\n[[vllm]]\nname = \"vllm0\"\nurl = \"http://127.0.0.1:{port}/metrics\"\n{extra}\n"
    )
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}
