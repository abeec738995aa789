//! Helpers for the vLLM end-to-end tests (the private pmcd is tests/common's): a fake
//! Prometheus endpoint (a std::net server thread whose behaviour the test switches) and the
//! captures it serves.
#![allow(dead_code)]

use crate::common::repo;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// The agent configuration of the vLLM tests: no GPU, one endpoint on 127.0.0.1:port.
pub fn conf(port: u16, extra: &str) -> String {
    format!(
        "[gpu]\nenabled = false\n\n[[vllm]]\nname = \"vllm0\"\nurl = \"http://127.0.0.1:{port}/metrics\"\n{extra}\n"
    )
}
