//! Local HTTP stand-ins on 127.0.0.1: [`FakeEndpoint`], a Prometheus endpoint whose behaviour
//! the test switches while the agent scrapes it, and [`serve`], a server answering each
//! request from a function of its number and head.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Reads one request head (up to its blank line) from `conn`; None if the client closed or
/// failed first.
pub fn read_head(conn: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    Some(head)
}

/// One answer of [`serve`].
pub struct Reply {
    /// The status line after "HTTP/1.1 ", e.g. "200 OK".
    pub status: String,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Waits this long before answering.
    pub delay: Duration,
}

impl Reply {
    /// 200 with Prometheus text.
    pub fn prometheus(body: Vec<u8>) -> Reply {
        Reply::new("200 OK", "text/plain; version=0.0.4", body)
    }

    pub fn new(status: &str, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status: status.to_string(),
            content_type: content_type.to_string(),
            body,
            delay: Duration::ZERO,
        }
    }

    /// The same with another status line.
    pub fn status(mut self, status: &str) -> Reply {
        self.status = status.to_string();
        self
    }

    /// The same, answered after `delay`.
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// An HTTP server on a free loopback port that answers request N (from 0; one request a
/// connection, each on its own thread) with `answer(N, request head)` and closes. Returns the
/// port.
pub fn serve(answer: impl Fn(usize, &str) -> Reply + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut conn) = conn else { continue };
            let answer = answer.clone();
            std::thread::spawn(move || {
                let Some(head) = read_head(&mut conn) else {
                    return;
                };
                let reply = answer(n, &String::from_utf8_lossy(&head));
                std::thread::sleep(reply.delay);
                let h = format!(
                    "HTTP/1.1 {}\r\nContent-Type: {}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                    reply.status,
                    reply.content_type,
                    reply.body.len()
                );
                let _ = conn.write_all(h.as_bytes());
                let _ = conn.write_all(&reply.body);
            });
        }
    });
    port
}

/// What a [`FakeEndpoint`] answers.
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

/// A fake Prometheus endpoint (keep-alive connections, a thread each) whose answers the test
/// switches with [`FakeEndpoint::set`].
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
                        std::thread::spawn(move || fake_endpoint_serve(conn, m, r));
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

fn fake_endpoint_serve(mut conn: TcpStream, mode: Arc<Mutex<Mode>>, requests: Arc<AtomicUsize>) {
    conn.set_nonblocking(false).ok();
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok();
    loop {
        if read_head(&mut conn).is_none() {
            return;
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
