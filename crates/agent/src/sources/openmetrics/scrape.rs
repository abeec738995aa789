//! The HTTP side of a scrape, awaited by the endpoint's task on the I/O thread
//! ([`crate::sources::scheduler::io_runtime`]). Plain `http://` to an IP literal or `localhost`
//! (the usual vLLM on the node) goes through the small client of `http1.rs`, over one
//! kept-alive connection; everything else through reqwest. Both bound the whole exchange
//! (connect, headers, body) by the endpoint's timeout and give the same error texts; both wait
//! without blocking, so a hung endpoint holds only its own task, never the PCP thread and never
//! another endpoint. Bodies are capped at [`MAX_BODY`] bytes.
//!
//! `https://` goes through the system's OpenSSL (reqwest's native-tls): the system trust
//! store and crypto policy apply, and an endpoint's `ca_file` adds the CAs of a private PKI
//! (an OpenShift service CA, a self-signed test endpoint).

use super::http1;
use crate::sources::SourceError;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Largest body accepted (vLLM's /metrics is ~45 KB idle, a few hundred KB with many LoRAs).
pub const MAX_BODY: usize = 16 << 20;
/// What we ask for: the text format every vLLM serves (see docs/vllm.md).
pub const ACCEPT: &str = "text/plain;version=0.0.4";

/// A URL as it may be shown: userinfo and every query value replaced by `***`, so a password or
/// an access token in `url` never reaches a label, an error text or the log
/// (`http://***@host:8000/metrics?access_token=***`). A fragment is dropped likewise.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let mut out = String::with_capacity(url.len());
    out.push_str(scheme);
    match authority.rfind('@') {
        Some(at) => {
            out.push_str("***");
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let (before_frag, frag) = match tail.find('#') {
        Some(i) => (&tail[..i], Some(())),
        None => (tail, None),
    };
    match before_frag.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((k, _)) => {
                        out.push_str(k);
                        out.push_str("=***");
                    }
                    None if pair.is_empty() => {}
                    None => out.push_str("***"),
                }
            }
        }
        None => out.push_str(before_frag),
    }
    if frag.is_some() {
        out.push_str("#***");
    }
    out
}

/// `text` with every occurrence of the raw `url` (and of its userinfo and query, should a
/// library quote them apart) replaced by the redacted form.
fn scrub(text: String, url: &str, shown: &str) -> String {
    if url == shown {
        return text;
    }
    let mut text = text.replace(url, shown);
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if let Some(at) = authority.rfind('@') {
        let userinfo = &authority[..at];
        if !userinfo.is_empty() {
            text = text.replace(userinfo, "***");
        }
    }
    if let Some((_, query)) = rest.split_once('?') {
        let query = query.split('#').next().unwrap_or("");
        for pair in query.split('&') {
            let secret = pair.split_once('=').map_or(pair, |(_, v)| v);
            if secret.len() >= 3 {
                text = text.replace(secret, "***");
            }
        }
    }
    text
}

/// Largest token file read (a bearer token is a few KB at most).
const MAX_TOKEN: u64 = 64 << 10;

/// A bearer token file. It is opened when the source is created, while the agent still runs
/// as root, and the descriptor kept: a root-owned 0600 file the agent's user cannot open is
/// still read through it. At each scrape the path is read again when the agent's user may
/// (tokens rotate), else the kept descriptor (a file rewritten in place is seen; one replaced
/// by another is not, until the agent restarts). The contents are never logged.
pub struct TokenFile {
    path: PathBuf,
    held: Option<std::fs::File>,
}

impl TokenFile {
    pub fn open(path: PathBuf) -> TokenFile {
        let held = std::fs::File::open(&path).ok();
        TokenFile { path, held }
    }

    pub fn read(&self) -> Result<String, String> {
        use std::io::Read;
        let what = |e: std::io::Error| format!("token file {}: {e}", self.path.display());
        let mut text = Vec::new();
        match std::fs::File::open(&self.path) {
            Ok(f) => {
                f.take(MAX_TOKEN).read_to_end(&mut text).map_err(what)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                let Some(f) = &self.held else {
                    return Err(what(e));
                };
                use std::os::unix::fs::FileExt;
                let mut buf = vec![0u8; MAX_TOKEN as usize];
                let mut n = 0;
                loop {
                    let k = f.read_at(&mut buf[n..], n as u64).map_err(what)?;
                    if k == 0 || n + k == buf.len() {
                        n += k;
                        break;
                    }
                    n += k;
                }
                buf.truncate(n);
                text = buf;
            }
            Err(e) => return Err(what(e)),
        }
        let text = String::from_utf8(text)
            .map_err(|_| format!("token file {}: not text", self.path.display()))?;
        Ok(text.trim().to_string())
    }
}

pub struct Scraper {
    /// Built on the first scrape, and again after a failure (the CA file may appear later).
    client: Option<reqwest::Client>,
    /// The blocking client, for a URL it serves (reqwest is not used then, unless a redirect
    /// leads elsewhere).
    direct: Option<http1::Client>,
    url: String,
    /// `url` as shown in errors ([`redact_url`]).
    shown: String,
    /// The body of the last scrape; reused, and freed by [`Scraper::release`] when large.
    body: Vec<u8>,
    timeout: Duration,
    token_file: Option<TokenFile>,
    ca_file: Option<PathBuf>,
}

/// The most specific cause in an error chain ("connection refused", "operation timed out"),
/// or the level above it when that only adds detail (OpenSSL's verify result).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = vec![e];
    while let Some(next) = chain[chain.len() - 1].source() {
        chain.push(next);
    }
    let deepest = chain[chain.len() - 1];
    if let Some(io) = deepest.downcast_ref::<std::io::Error>()
        && io.kind() == std::io::ErrorKind::ConnectionRefused
    {
        return "connection refused".into();
    }
    let mut text = deepest.to_string();
    for outer in chain.iter().rev().skip(1) {
        let t = outer.to_string();
        if !t.starts_with(&text) {
            break;
        }
        text = t;
    }
    if text.to_ascii_lowercase().contains("connection refused") {
        "connection refused".into()
    } else {
        tidy_openssl(&text)
    }
}

/// `error:0A000086:SSL routines:FUNC:certificate verify failed:FILE:LINE: (self-signed
/// certificate)` -> `TLS: certificate verify failed (self-signed certificate)`; other text as is.
fn tidy_openssl(text: &str) -> String {
    let fields: Vec<&str> = text.splitn(8, ':').collect();
    match fields.as_slice() {
        ["error", _code, _lib, _func, reason, _file, _line, detail] => {
            format!("TLS: {reason}{}", detail.trim_end_matches(':'))
        }
        _ => text.to_string(),
    }
}

/// The HTTP client of one endpoint, trusting the system's CAs and those in `ca_file`.
/// Endpoints without a `ca_file` share one client per connect timeout: each client loads the
/// system's trust store into its own OpenSSL context (about 1 MB), which 16 endpoints need not
/// hold 16 times. (Connections are still per host and port.)
fn build_client(timeout: Duration, ca_file: Option<&Path>) -> Result<reqwest::Client, String> {
    if ca_file.is_none() {
        static SHARED: std::sync::Mutex<Vec<(Duration, reqwest::Client)>> =
            std::sync::Mutex::new(Vec::new());
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, c)) = shared.iter().find(|(t, _)| *t == timeout) {
            return Ok(c.clone());
        }
        let c = new_client(timeout, None)?;
        shared.push((timeout, c.clone()));
        return Ok(c);
    }
    new_client(timeout, ca_file)
}

fn new_client(timeout: Duration, ca_file: Option<&Path>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeout)
        .pool_max_idle_per_host(1)
        .no_proxy();
    if let Some(path) = ca_file {
        let what = |m: String| format!("ca_file {}: {m}", path.display());
        let pem = std::fs::read(path).map_err(|e| what(e.to_string()))?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| what(root_cause(&e)))?;
        if certs.is_empty() {
            return Err(what("no PEM certificate in it".into()));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", root_cause(&e)))
}

impl Scraper {
    pub fn new(url: &str, timeout: Duration, token_file: Option<PathBuf>) -> Scraper {
        Scraper {
            client: None,
            direct: http1::Client::for_url(url),
            url: url.to_string(),
            shown: redact_url(url),
            body: Vec::new(),
            timeout,
            token_file: token_file.map(TokenFile::open),
            ca_file: None,
        }
    }

    /// Trust the CA certificates in this PEM file too (read when the client is built).
    pub fn with_ca_file(mut self, ca_file: Option<PathBuf>) -> Scraper {
        self.ca_file = ca_file;
        self
    }

    /// GETs the endpoint; errors say what failed, prefixed with the redacted URL. The body
    /// stays in the scraper's buffer until the next fetch.
    pub async fn fetch(&mut self) -> Result<&str, SourceError> {
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        let result = self.fetch_raw(&mut body).await;
        self.body = body;
        match result {
            Ok(()) => std::str::from_utf8(&self.body).map_err(|e| {
                let line = self.body[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1;
                SourceError(format!(
                    "{}: body is not UTF-8 text (first invalid byte on line {line})",
                    self.shown
                ))
            }),
            Err(e) => Err(SourceError(scrub(e.0, &self.url, &self.shown))),
        }
    }

    /// Frees the body buffer if its capacity is over `keep` bytes (a large or hostile answer),
    /// and hands the freed memory back to the system.
    pub fn release(&mut self, keep: usize) {
        if self.body.capacity() > keep {
            self.body = Vec::new();
            llm_sys::heap::release_free_memory();
        }
    }

    async fn fetch_raw(&mut self, body: &mut Vec<u8>) -> Result<(), SourceError> {
        let url = &self.shown;
        // Read on every scrape (tokens rotate); the contents are never logged. A small local
        // file, read without leaving the I/O thread.
        let read_token = |t: &TokenFile| t.read().map_err(|e| SourceError(format!("{url}: {e}")));
        let mut token = None;
        let mut limit = self.timeout;
        if let Some(direct) = &mut self.direct {
            token = self.token_file.as_ref().map(read_token).transpose()?;
            match direct.get(token.as_deref(), self.timeout, body).await {
                Ok(()) => return Ok(()),
                Err(http1::Error::Failed(m)) => return Err(SourceError(format!("{url}: {m}"))),
                // Redirected to another endpoint: reqwest follows, in the time left.
                Err(http1::Error::Elsewhere(left)) => {
                    body.clear();
                    limit = left;
                }
            }
        }
        if self.client.is_none() {
            let client = build_client(self.timeout, self.ca_file.as_deref())
                .map_err(|m| SourceError(format!("{url}: {m}")))?;
            self.client = Some(client);
        }
        let token = match token {
            Some(t) => Some(t),
            None => self.token_file.as_ref().map(read_token).transpose()?,
        };
        let result = tokio::time::timeout(limit, self.get(token, body)).await;
        match result {
            Err(_) => Err(SourceError(format!(
                "{url}: timed out after {} ms",
                self.timeout.as_millis()
            ))),
            Ok(r) => r.map_err(|e| SourceError(format!("{url}: {e}"))),
        }
    }

    async fn get(&self, token: Option<String>, body: &mut Vec<u8>) -> Result<(), String> {
        let client = self.client.as_ref().expect("client built in fetch");
        let mut req = client
            .get(&self.url)
            .header(reqwest::header::ACCEPT, ACCEPT);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                "timed out".to_string()
            } else {
                root_cause(&e)
            }
        })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        if let Some(ct) = resp.headers().get(reqwest::header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            if !(ct.is_empty()
                || ct.starts_with("text/plain")
                || ct.starts_with("application/openmetrics-text"))
            {
                return Err(format!(
                    "not Prometheus text (Content-Type {})",
                    ct.split(';').next().unwrap_or("")
                ));
            }
        }
        if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
            return Err(format!("body larger than {} MiB", MAX_BODY >> 20));
        }
        if let Some(n) = resp.content_length() {
            body.reserve(n as usize);
        } else if body.capacity() == 0 {
            body.reserve(64 << 10);
        }
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_BODY {
                        return Err(format!("body larger than {} MiB", MAX_BODY >> 20));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(format!("reading the body: {}", root_cause(&e))),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::time::Instant;

    impl Scraper {
        /// [`Scraper::fetch`], waited for on the I/O runtime.
        fn fetch_now(&mut self) -> Result<&str, SourceError> {
            crate::sources::scheduler::io_runtime().block_on(self.fetch())
        }
    }

    /// A one-request server: sends the request head it received to `tx`, then answers `body`
    /// (or never answers when `body` is None).
    fn server(body: Option<&'static str>) -> (String, mpsc::Receiver<String>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/metrics", l.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 512];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = c.read(&mut buf).unwrap();
                if n == 0 {
                    return;
                }
                head.extend_from_slice(&buf[..n]);
            }
            tx.send(String::from_utf8_lossy(&head).into_owned()).ok();
            match body {
                Some(b) => {
                    let _ = write!(
                        c,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{b}",
                        b.len()
                    );
                }
                None => std::thread::sleep(Duration::from_secs(5)),
            }
        });
        (url, rx)
    }

    #[test]
    fn sends_accept_and_bearer_token_and_returns_the_body() {
        let (url, rx) = server(Some("a 1\n"));
        let token = std::env::temp_dir().join(format!("pmdallm-token-{}", std::process::id()));
        std::fs::write(&token, "s3cret\n").unwrap();
        let mut s = Scraper::new(&url, Duration::from_secs(5), Some(token.clone()));
        assert_eq!(s.fetch_now().unwrap(), "a 1\n");
        let head = rx.recv().unwrap().to_ascii_lowercase();
        assert!(
            head.contains("accept: text/plain;version=0.0.4\r\n"),
            "{head}"
        );
        assert!(head.contains("authorization: bearer s3cret\r\n"), "{head}");
        std::fs::remove_file(token).ok();
    }

    #[test]
    fn a_token_file_is_read_through_the_descriptor_opened_at_start() {
        let dir = std::env::temp_dir().join(format!("pmdallm-tok-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "first\n").unwrap();
        let t = TokenFile::open(path.clone());
        assert_eq!(t.read().unwrap(), "first");
        // Rewritten in place: seen by path (and through the descriptor).
        std::fs::write(&path, "second\n").unwrap();
        assert_eq!(t.read().unwrap(), "second");
        // The path no longer readable (as for the agent's user after dropping root): the
        // descriptor still reads it. Simulated by a directory no one may enter.
        let t2 = TokenFile {
            path: dir.join("locked/token"),
            held: Some(std::fs::File::open(&path).unwrap()),
        };
        let locked = dir.join("locked");
        std::fs::create_dir_all(&locked).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::File::open(locked.join("token"))
            .is_err_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
        {
            assert_eq!(t2.read().unwrap(), "second");
        }
        let t3 = TokenFile::open(dir.join("missing"));
        assert!(
            t3.read()
                .unwrap_err()
                .ends_with("No such file or directory (os error 2)")
        );
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_hung_endpoint_times_out_without_blocking_another() {
        let (hung, _rx1) = server(None);
        let (ok, _rx2) = server(Some("b 2\n"));
        let slow = std::thread::spawn(move || {
            Scraper::new(&hung, Duration::from_secs(3), None)
                .fetch_now()
                .map(str::to_string)
        });
        std::thread::sleep(Duration::from_millis(200));
        let t = Instant::now();
        assert_eq!(
            Scraper::new(&ok, Duration::from_secs(3), None)
                .fetch_now()
                .unwrap(),
            "b 2\n"
        );
        // Only detects blocking: a shared runtime stuck on the hung request would take 3 s.
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        let err = slow.join().unwrap().unwrap_err();
        assert!(err.0.ends_with(": timed out after 3000 ms"), "{err}");
    }

    #[test]
    fn urls_are_shown_without_userinfo_and_query_values() {
        assert_eq!(
            redact_url("http://user:PW@host:8000/metrics?access_token=T&x=1"),
            "http://***@host:8000/metrics?access_token=***&x=***"
        );
        assert_eq!(redact_url("https://h/m?TOKEN#frag"), "https://h/m?***#***");
        assert_eq!(
            redact_url("http://127.0.0.1:8000/metrics"),
            "http://127.0.0.1:8000/metrics"
        );
        assert_eq!(redact_url("http://u@h?"), "http://***@h?");
        let url = "http://user:PW@h/m?access_token=SECRET";
        let text = scrub(
            format!("error sending request for url ({url}); user:PW SECRET"),
            url,
            &redact_url(url),
        );
        assert!(!text.contains("PW") && !text.contains("SECRET"), "{text}");
    }

    #[test]
    fn errors_never_show_the_password_or_token_of_the_url() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let url = format!("http://user:PW123@127.0.0.1:{port}/metrics?access_token=TOK456");
        let err = Scraper::new(&url, Duration::from_secs(2), None)
            .fetch_now()
            .unwrap_err();
        assert_eq!(
            err.0,
            format!("http://***@127.0.0.1:{port}/metrics?access_token=***: connection refused")
        );
    }

    #[test]
    fn openssl_errors_are_tidied() {
        assert_eq!(
            tidy_openssl(
                "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889: (self-signed certificate)"
            ),
            "TLS: certificate verify failed (self-signed certificate)"
        );
        assert_eq!(
            tidy_openssl(
                "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889:"
            ),
            "TLS: certificate verify failed"
        );
        assert_eq!(tidy_openssl("operation timed out"), "operation timed out");
    }

    /// Each fault at its path, answered on a new connection (`Connection: close`).
    fn faults() -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("127.0.0.1:{}", l.local_addr().unwrap().port());
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(mut c) = c else { continue };
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 512];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match c.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let path = head.split(' ').nth(1).unwrap_or("").to_string();
                    let answer: &[u8] = match path.as_str() {
                        "/ok" => b"200 OK\r\nContent-Length: 4\r\n\r\na 1\n",
                        "/500" => b"500 Internal Server Error\r\nContent-Length: 2\r\n\r\nno",
                        "/418" => b"418 I'm a teapot\r\nContent-Length: 0\r\n\r\n",
                        "/html" => {
                            b"200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\n<a"
                        }
                        "/huge" => b"200 OK\r\nContent-Length: 16777217\r\n\r\n",
                        "/short" => b"200 OK\r\nContent-Length: 9\r\n\r\nhalf",
                        "/latin1" => b"200 OK\r\nContent-Length: 7\r\n\r\na 1\nb\xe9\n",
                        "/garbage" => b"\x00\r\n\r\n",
                        "/chunked" => {
                            b"200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na 1\n\r\n0\r\n\r\n"
                        }
                        "/toclose" => {
                            b"200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\r\na 1\n"
                        }
                        "/hang" => {
                            std::thread::sleep(Duration::from_secs(2));
                            return;
                        }
                        _ => return, // closed without an answer
                    };
                    let _ = c.write_all(&[b"HTTP/1.1 ", answer].concat());
                });
            }
        });
        base
    }

    /// The small client and reqwest (taken for a URL with userinfo) say the same of each
    /// fault, after the URL.
    #[test]
    fn both_clients_word_each_fault_alike() {
        let base = faults();
        let token = std::env::temp_dir().join(format!("pmdallm-badtoken-{}", std::process::id()));
        std::fs::write(&token, "a\nb\n").unwrap();
        let run = |url: &str, timeout: u64, token: Option<PathBuf>| {
            let mut s = Scraper::new(url, Duration::from_millis(timeout), token);
            let r = s.fetch_now().map(str::to_string);
            (s.direct.is_some(), r)
        };
        for (path, timeout, token) in [
            ("/ok", 3000, None),
            ("/500", 3000, None),
            ("/418", 3000, None),
            ("/html", 3000, None),
            ("/huge", 3000, None),
            ("/short", 3000, None),
            ("/latin1", 3000, None),
            ("/garbage", 3000, None),
            ("/chunked", 3000, None),
            ("/toclose", 3000, None),
            ("/hang", 300, None),
            ("/closed", 3000, None),
            ("/ok", 3000, Some(token.clone())),
        ] {
            let direct = format!("http://{base}{path}");
            let via_reqwest = format!("http://user@{base}{path}");
            let (d, a) = run(&direct, timeout, token.clone());
            let (r, b) = run(&via_reqwest, timeout, token.clone());
            assert!(d && !r);
            match (a, b) {
                (Ok(a), Ok(b)) => assert_eq!((path, a), (path, b)),
                (Err(a), Err(b)) => {
                    let a = a.0.strip_prefix(&direct).unwrap().to_string();
                    let b =
                        b.0.strip_prefix(&redact_url(&via_reqwest))
                            .unwrap()
                            .to_string();
                    assert_eq!((path, a), (path, b));
                }
                (a, b) => panic!("{path}: {a:?} / {b:?}"),
            }
        }
        std::fs::remove_file(token).ok();
    }

    #[test]
    fn refused_connections_say_so() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/metrics", l.local_addr().unwrap());
        drop(l);
        let err = Scraper::new(&url, Duration::from_secs(2), None)
            .fetch_now()
            .unwrap_err();
        assert_eq!(err.0, format!("{url}: connection refused"));
    }
}
