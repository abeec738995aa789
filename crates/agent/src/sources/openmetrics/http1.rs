//! A small HTTP/1.1 client for the usual endpoint: plain `http://` to an IP literal
//! (`127.0.0.1`, `[::1]`) or `localhost`, run as a task on the agent's I/O thread
//! ([`crate::sources::scheduler::io_runtime`]) with every other endpoint.
//!
//! It does what a scrape needs and nothing more: one kept-alive connection per endpoint, one
//! `GET`, a body framed by Content-Length, chunked transfer coding or the end of the connection.
//! It skips what reqwest and hyper cost per scrape (the connection pool, header maps, their
//! tasks): about half the agent's CPU per scrape of a vLLM endpoint. Every other URL (https, a
//! host name to resolve, userinfo, a path that would need normalising) stays with reqwest (see
//! `scrape.rs`), and so does a redirect to another endpoint.
//!
//! Nothing here can outlast the endpoint's timeout: the whole exchange (connect, request,
//! answer to the end of its body) runs against one deadline, each wait for the socket being
//! bounded by the time left. No name is resolved (`localhost` is 127.0.0.1, then ::1), so no
//! DNS lookup can hang outside it. The socket is non-blocking: a hung endpoint holds only its
//! own task, never the I/O thread or another endpoint. Every size the endpoint controls is
//! bounded: the response head ([`MAX_HEAD`]), a chunk-size line, the body ([`MAX_BODY`]).
//!
//! Error texts are those of the reqwest path for the same fault (`connection refused`,
//! `timed out after N ms`, `HTTP 500 Internal Server Error`, `reading the body: ...`), so a
//! source reads the same whichever client served it.

use super::scrape::{ACCEPT, MAX_BODY};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::Range;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Largest response head (status line and header fields), and largest chunked trailer.
pub const MAX_HEAD: usize = 64 << 10;
/// Largest chunk-size line (the size and any chunk extensions).
const MAX_CHUNK_LINE: usize = 1 << 10;
/// Initial read buffer: a response head, and the start of the body that came with it.
const BUF: usize = 16 << 10;
/// Largest read straight into the body's spare room when the length is not known in advance.
const READ_STEP: usize = 256 << 10;
/// Redirects to another path of the same endpoint followed (reqwest's default limit).
const MAX_REDIRECTS: usize = 10;
/// Interim (1xx) answers skipped before the final one.
const MAX_INTERIM: usize = 8;

/// The texts of hyper's errors for the same faults.
const CLOSED: &str = "connection closed before message completed";
const SHORT_BODY: &str = "reading the body: end of file before message length reached";

/// Where a URL this client can serve leads.
#[derive(Debug, PartialEq)]
struct Target {
    /// Tried in order; one address except for `localhost`.
    addrs: Vec<SocketAddr>,
    /// The `Host` field: the host as reqwest writes it, with the port unless it is 80.
    host: String,
    /// The request target: path and query (never empty, starts with `/`).
    path: String,
}

/// `url` as a [`Target`], or None when this client does not serve it (the caller uses reqwest).
fn parse_url(url: &str) -> Option<Target> {
    let scheme = url.get(..7)?;
    if !scheme.eq_ignore_ascii_case("http://") {
        return None;
    }
    let rest = &url[7..];
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    if authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (ip, after) = v6.split_once(']')?;
            (&authority[..ip.len() + 2], after)
        }
        None => match authority.find(':') {
            Some(i) => (&authority[..i], &authority[i..]),
            None => (authority, ""),
        },
    };
    let port = match port {
        "" | ":" => 80,
        p => {
            let digits = p.strip_prefix(':')?;
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse::<u16>().ok().filter(|p| *p != 0)?
        }
    };
    let (ips, host): (Vec<IpAddr>, String) = if let Some(v6) = host.strip_prefix('[') {
        let ip: Ipv6Addr = v6.strip_suffix(']')?.parse().ok()?;
        (vec![ip.into()], format!("[{ip}]"))
    } else if host.eq_ignore_ascii_case("localhost") {
        let ips = vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()];
        (ips, "localhost".to_string())
    } else {
        let ip: Ipv4Addr = host.parse().ok()?;
        (vec![ip.into()], ip.to_string())
    };
    let host = if port == 80 {
        host
    } else {
        format!("{host}:{port}")
    };
    Some(Target {
        addrs: ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect(),
        host,
        path: origin_form(tail)?,
    })
}

/// The request target for what follows the authority in a URL (fragment dropped), when it is
/// sent as written; None when reqwest would rewrite it (characters it percent-encodes, `.` or
/// `..` segments, backslashes), so that such a URL keeps reqwest's reading.
fn origin_form(tail: &str) -> Option<String> {
    let tail = tail.split('#').next().unwrap_or("");
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&()*+,;=:@/%".contains(&b);
    if !path.bytes().all(|b| plain(b) || b == b'\'') {
        return None;
    }
    let dots = |s: &str| {
        let s = s.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".."
    };
    if path.split('/').any(dots) {
        return None;
    }
    let mut target = if path.is_empty() {
        "/".to_string()
    } else if path.starts_with('/') {
        path.to_string()
    } else {
        return None;
    };
    if let Some(q) = query {
        if !q.bytes().all(|b| plain(b) || b"?[]".contains(&b)) {
            return None;
        }
        target.push('?');
        target.push_str(q);
    }
    Some(target)
}

/// Why an exchange failed.
#[derive(Debug)]
enum Fail {
    /// The deadline passed.
    Timeout,
    /// The connection ended or was reset before the first byte of an answer, or the request
    /// could not be written: on a kept connection, the server closed it while it was idle.
    Closed(String),
    /// Anything else, as the final error text.
    Msg(String),
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// An I/O error while reading the answer's head.
fn head_fail(e: io::Error) -> Fail {
    if is_timeout(&e) {
        Fail::Timeout
    } else {
        Fail::Msg(e.to_string())
    }
}

/// An I/O error while reading the body.
fn body_fail(e: io::Error) -> Fail {
    if is_timeout(&e) {
        Fail::Timeout
    } else {
        Fail::Msg(format!("reading the body: {e}"))
    }
}

fn too_large() -> Fail {
    Fail::Msg(format!("body larger than {} MiB", MAX_BODY >> 20))
}

/// The time left before `deadline`, or a timeout error once it has passed.
fn left(deadline: Instant) -> io::Result<Duration> {
    let d = deadline.saturating_duration_since(Instant::now());
    if d.is_zero() {
        Err(io::ErrorKind::TimedOut.into())
    } else {
        Ok(d)
    }
}

/// `io` if it completes before `deadline`, else a timeout error.
async fn by<T>(deadline: Instant, io: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    let deadline = tokio::time::Instant::from_std(deadline);
    match tokio::time::timeout_at(deadline, io).await {
        Ok(r) => r,
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

/// One read before `deadline`: what is already there, else once the socket is readable.
async fn read_by(stream: &TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
    loop {
        match stream.try_read(buf) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) => {}
            r => return r,
        }
        left(deadline)?;
        by(deadline, stream.readable()).await?;
    }
}

/// Writes all of `data` before `deadline`.
async fn write_by(stream: &TcpStream, mut data: &[u8], deadline: Instant) -> io::Result<()> {
    while !data.is_empty() {
        match stream.try_write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                left(deadline)?;
                by(deadline, stream.writable()).await?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What was in a response head.
#[derive(Debug, Default)]
struct Head {
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    minor: u8,
    status: u16,
    /// The error for the first Content-Type field when it is not Prometheus text.
    content_type: Option<String>,
    content_length: Option<u64>,
    /// The last transfer coding is `chunked`.
    chunked: bool,
    /// A Transfer-Encoding without `chunked` last: the body runs to the end of the connection.
    other_coding: bool,
    /// `Connection: close`.
    close: bool,
    location: Option<String>,
}

/// Where the head in `p` ends (just past its empty line), searching newlines from `from`.
fn head_end(p: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(k) = p[i..].iter().position(|&b| b == b'\n') {
        let nl = i + k;
        if (nl >= 1 && p[nl - 1] == b'\n') || (nl >= 2 && p[nl - 1] == b'\r' && p[nl - 2] == b'\n')
        {
            return Some(nl + 1);
        }
        i = nl + 1;
    }
    None
}

fn parse_head(head: &[u8]) -> Result<Head, Fail> {
    let bad = |what: &str| Fail::Msg(what.to_string());
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next().unwrap_or(b"");
    let minor = match status_line.get(..8) {
        Some(b"HTTP/1.1") => 1,
        Some(b"HTTP/1.0") => 0,
        _ => return Err(bad("invalid HTTP version parsed")),
    };
    let code = status_line.get(9..12).filter(|c| {
        status_line[8] == b' '
            && c.iter().all(u8::is_ascii_digit)
            && c[0] != b'0'
            && matches!(status_line.get(12), None | Some(b' '))
    });
    let Some(code) = code else {
        return Err(bad("invalid HTTP status-code parsed"));
    };
    let mut h = Head {
        minor,
        status: code.iter().fold(0, |n, d| n * 10 + u16::from(d - b'0')),
        ..Head::default()
    };
    for line in lines {
        if line.is_empty() {
            continue; // the head's final empty line
        }
        let colon = line.iter().position(|&b| b == b':');
        let Some(colon) = colon.filter(|&c| {
            c > 0
                && line[..c]
                    .iter()
                    .all(|&b| b.is_ascii_graphic() && !b"\"(),/:;<=>?@[\\]{}".contains(&b))
        }) else {
            return Err(bad("invalid HTTP header parsed"));
        };
        let name = &line[..colon];
        let value = line[colon + 1..].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-type") {
            if h.content_type.is_none() {
                h.content_type = Some(check_content_type(value).unwrap_or_default());
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok());
            match n {
                Some(n) if h.content_length.is_none_or(|m| m == n) => h.content_length = Some(n),
                _ => return Err(bad("invalid content-length parsed")),
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            let last = value
                .rsplit(|&b| b == b',')
                .next()
                .unwrap_or(b"")
                .trim_ascii();
            h.chunked = last.eq_ignore_ascii_case(b"chunked");
            h.other_coding = !h.chunked;
        } else if name.eq_ignore_ascii_case(b"connection") {
            h.close |= value
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
        } else if name.eq_ignore_ascii_case(b"location") {
            h.location = std::str::from_utf8(value).ok().map(str::to_string);
        }
    }
    Ok(h)
}

/// The error for a Content-Type that is not Prometheus text, as the reqwest path words it
/// (a value that is not visible ASCII is taken as absent, as reqwest's `to_str` fails on it).
/// `Some("")` marks an acceptable type.
fn check_content_type(value: &[u8]) -> Option<String> {
    if !value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        return Some(String::new());
    }
    let ct = String::from_utf8_lossy(value).to_ascii_lowercase();
    if ct.is_empty()
        || ct.starts_with("text/plain")
        || ct.starts_with("application/openmetrics-text")
    {
        return Some(String::new());
    }
    Some(format!(
        "not Prometheus text (Content-Type {})",
        ct.split(';').next().unwrap_or("")
    ))
}

/// One connection and what was read from it but not yet used.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Answers read on this connection: once it has one, it is a kept connection.
    answers: usize,
}

impl Conn {
    /// Connects to the first address that accepts, within the deadline. When none does, the
    /// error of the first (for `localhost`, that of 127.0.0.1).
    async fn open(addrs: &[SocketAddr], deadline: Instant) -> Result<Conn, Fail> {
        let mut first = None;
        for addr in addrs {
            let result = match left(deadline) {
                Ok(_) => by(deadline, TcpStream::connect(*addr)).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(stream) => {
                    stream.set_nodelay(true).map_err(head_fail)?;
                    return Ok(Conn {
                        stream,
                        buf: vec![0; BUF],
                        start: 0,
                        end: 0,
                        answers: 0,
                    });
                }
                Err(e) if is_timeout(&e) => return Err(Fail::Timeout),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        Err(match first {
            Some(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                Fail::Msg("connection refused".into())
            }
            Some(e) => Fail::Msg(e.to_string()),
            None => Fail::Msg("no address to connect to".into()),
        })
    }

    fn pending(&self) -> usize {
        self.end - self.start
    }

    /// Reads more into the buffer, growing it while the unread bytes stay under `limit`;
    /// Ok(0) at the end of the connection. The caller checks `pending() < limit` first.
    async fn fill(&mut self, deadline: Instant, limit: usize) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.buf.len() < limit {
                let n = (self.buf.len() * 2).min(limit);
                self.buf.resize(n, 0);
            } else {
                return Err(io::Error::other("read buffer full"));
            }
        }
        let n = read_by(&self.stream, &mut self.buf[self.end..], deadline).await?;
        self.end += n;
        Ok(n)
    }

    /// Reads up to the end of the next line (at most `limit` bytes with its end) and returns
    /// where it is in `buf`, without its line end; the line is consumed. Errors are body errors.
    async fn line(
        &mut self,
        deadline: Instant,
        limit: usize,
        what: &str,
    ) -> Result<Range<usize>, Fail> {
        let mut scanned = 0;
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(k) = pending[scanned..].iter().position(|&b| b == b'\n') {
                let nl = self.start + scanned + k;
                let mut end = nl;
                if end > self.start && self.buf[end - 1] == b'\r' {
                    end -= 1;
                }
                let line = self.start..end;
                self.start = nl + 1;
                return Ok(line);
            }
            scanned = pending.len();
            if scanned >= limit {
                return Err(Fail::Msg(format!(
                    "reading the body: {what} longer than {limit} bytes"
                )));
            }
            match self.fill(deadline, limit).await {
                Ok(0) => return Err(Fail::Msg(SHORT_BODY.into())),
                Ok(_) => {}
                Err(e) => return Err(body_fail(e)),
            }
        }
    }

    /// Writes the request, reads the answer: Ok(None) with the body in `body`, or Ok(Some(url))
    /// for a redirect. The connection is left fit for another request only when `reusable`.
    async fn exchange(
        &mut self,
        request: &[u8],
        deadline: Instant,
        body: &mut Vec<u8>,
    ) -> Result<Answer, Fail> {
        let written = write_by(&self.stream, request, deadline).await;
        match written {
            Ok(()) => {}
            Err(e) if is_timeout(&e) => return Err(Fail::Timeout),
            Err(e) => return Err(Fail::Closed(e.to_string())),
        }
        let mut interim = 0;
        let head = loop {
            let head = self.read_head(deadline, interim == 0).await?;
            if (100..200).contains(&head.status) && head.status != 101 && interim < MAX_INTERIM {
                interim += 1;
                continue;
            }
            break head;
        };
        self.answers += 1;
        if !(200..300).contains(&head.status) {
            if matches!(head.status, 301 | 302 | 303 | 307 | 308)
                && let Some(location) = head.location
            {
                return Ok(Answer::Redirect(location));
            }
            let status = reqwest::StatusCode::from_u16(head.status)
                .map_err(|_| Fail::Msg("invalid HTTP status-code parsed".into()))?;
            return Err(Fail::Msg(format!("HTTP {status}")));
        }
        if let Some(e) = head.content_type.as_ref().filter(|e| !e.is_empty()) {
            return Err(Fail::Msg(e.clone()));
        }
        let to_close = if head.status == 204 {
            false
        } else if head.chunked {
            self.read_chunked(deadline, body).await?;
            false
        } else if head.other_coding {
            self.read_to_close(deadline, body).await?;
            true
        } else if let Some(n) = head.content_length {
            if n > MAX_BODY as u64 {
                return Err(too_large());
            }
            self.read_len(n as usize, deadline, body).await?;
            false
        } else {
            self.read_to_close(deadline, body).await?;
            true
        };
        let reusable = head.minor == 1 && !head.close && !to_close && self.pending() == 0;
        Ok(Answer::Body { reusable })
    }

    /// Reads a response head. `first`: nothing of this answer has come yet, so the end of the
    /// connection now is [`Fail::Closed`].
    async fn read_head(&mut self, deadline: Instant, first: bool) -> Result<Head, Fail> {
        let mut scanned = 0;
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(n) = head_end(pending, scanned) {
                let head = parse_head(&pending[..n]);
                self.start += n;
                return head;
            }
            scanned = pending.len();
            if scanned >= MAX_HEAD {
                return Err(Fail::Msg(format!(
                    "response header section larger than {} KiB",
                    MAX_HEAD >> 10
                )));
            }
            let nothing_yet = first && scanned == 0;
            match self.fill(deadline, MAX_HEAD).await {
                Ok(0) if nothing_yet => return Err(Fail::Closed(CLOSED.into())),
                Ok(0) => return Err(Fail::Msg(CLOSED.into())),
                Ok(_) => {}
                Err(e)
                    if nothing_yet
                        && matches!(
                            e.kind(),
                            io::ErrorKind::ConnectionReset
                                | io::ErrorKind::ConnectionAborted
                                | io::ErrorKind::BrokenPipe
                        ) =>
                {
                    return Err(Fail::Closed(e.to_string()));
                }
                Err(e) => return Err(head_fail(e)),
            }
        }
    }

    /// Appends exactly `n` bytes of body: what is buffered, then the rest straight into `body`
    /// when it is large, else through the buffer (a chunk-size line often follows a chunk).
    async fn read_len(
        &mut self,
        n: usize,
        deadline: Instant,
        body: &mut Vec<u8>,
    ) -> Result<(), Fail> {
        let take = n.min(self.pending());
        body.extend_from_slice(&self.buf[self.start..self.start + take]);
        self.start += take;
        let mut need = n - take;
        if need >= BUF / 2 {
            let mut at = body.len();
            let end = at + need;
            body.resize(end, 0);
            while at < end {
                match read_by(&self.stream, &mut body[at..end], deadline).await {
                    Ok(k) if k > 0 => at += k,
                    got => {
                        body.truncate(at);
                        return Err(got.map_or_else(body_fail, |_| Fail::Msg(SHORT_BODY.into())));
                    }
                }
            }
            return Ok(());
        }
        while need > 0 {
            match self.fill(deadline, BUF).await {
                Ok(0) => return Err(Fail::Msg(SHORT_BODY.into())),
                Ok(_) => {}
                Err(e) => return Err(body_fail(e)),
            }
            let take = need.min(self.pending());
            body.extend_from_slice(&self.buf[self.start..self.start + take]);
            self.start += take;
            need -= take;
        }
        Ok(())
    }

    /// Reads a chunked body and its trailer.
    async fn read_chunked(&mut self, deadline: Instant, body: &mut Vec<u8>) -> Result<(), Fail> {
        loop {
            let line = self
                .line(deadline, MAX_CHUNK_LINE, "a chunk-size line")
                .await?;
            let size = chunk_size(&self.buf[line]).ok_or_else(|| {
                Fail::Msg("reading the body: invalid chunk size line".to_string())
            })?;
            if size == 0 {
                break;
            }
            if size > (MAX_BODY - body.len()) as u64 {
                return Err(too_large());
            }
            self.read_len(size as usize, deadline, body).await?;
            let end = self.line(deadline, MAX_CHUNK_LINE, "a chunk's end").await?;
            if !end.is_empty() {
                return Err(Fail::Msg(
                    "reading the body: a chunk longer than its size".to_string(),
                ));
            }
        }
        // The trailer: fields up to an empty line, ignored.
        let mut trailer = 0;
        loop {
            let line = self.line(deadline, MAX_HEAD, "the trailer").await?;
            if line.is_empty() {
                return Ok(());
            }
            trailer += line.len() + 2;
            if trailer > MAX_HEAD {
                return Err(Fail::Msg(format!(
                    "reading the body: trailer larger than {} KiB",
                    MAX_HEAD >> 10
                )));
            }
        }
    }

    /// Reads the body to the end of the connection.
    async fn read_to_close(&mut self, deadline: Instant, body: &mut Vec<u8>) -> Result<(), Fail> {
        if self.pending() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&self.buf[self.start..self.end]);
        self.start = self.end;
        if body.capacity() == 0 {
            body.reserve(64 << 10);
        }
        loop {
            if body.len() == body.capacity() {
                body.reserve(1);
            }
            let at = body.len();
            let room = (body.capacity() - at).min(READ_STEP).min(MAX_BODY + 1 - at);
            body.resize(at + room, 0);
            let got = read_by(&self.stream, &mut body[at..], deadline).await;
            body.truncate(at + *got.as_ref().unwrap_or(&0));
            match got {
                Ok(0) => return Ok(()),
                Ok(_) if body.len() > MAX_BODY => return Err(too_large()),
                Ok(_) => {}
                Err(e) => return Err(body_fail(e)),
            }
        }
    }
}

/// The size of a chunk from its size line (hex digits, then optional whitespace and extensions).
fn chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 15 {
        return None;
    }
    let rest = line[digits..].trim_ascii_start();
    if !(rest.is_empty() || rest[0] == b';') {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(&line[..digits]).ok()?, 16).ok()
}

/// What [`Conn::exchange`] brought back.
enum Answer {
    Body { reusable: bool },
    Redirect(String),
}

/// Why [`Client::get`] returned no body.
#[derive(Debug)]
pub enum Error {
    /// The error text (without the URL).
    Failed(String),
    /// Redirected where this client does not go (another endpoint, https, a relative
    /// reference): the caller fetches the URL another way within the time left.
    Elsewhere(Duration),
}

/// The client of one endpoint.
pub struct Client {
    target: Target,
    conn: Option<Conn>,
    /// The request, rebuilt in place at each scrape.
    request: Vec<u8>,
}

impl Client {
    /// A client for `url`, or None when `url` is not plain `http://` to an IP literal or
    /// `localhost`, or is one this client would not send as reqwest does.
    pub fn for_url(url: &str) -> Option<Client> {
        Some(Client {
            target: parse_url(url)?,
            conn: None,
            request: Vec::new(),
        })
    }

    /// GETs the URL into `body` (cleared first), everything within `timeout`.
    pub async fn get(
        &mut self,
        token: Option<&str>,
        timeout: Duration,
        body: &mut Vec<u8>,
    ) -> Result<(), Error> {
        // What reqwest refuses to send as a header value.
        if token.is_some_and(|t| !t.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))) {
            return Err(Error::Failed("failed to parse header value".into()));
        }
        let deadline = Instant::now() + timeout;
        let mut redirected: Option<String> = None;
        for _ in 0..=MAX_REDIRECTS {
            let path = redirected.as_deref().unwrap_or(&self.target.path);
            write_request(&mut self.request, &self.target.host, path, token);
            body.clear();
            match attempt(
                &mut self.conn,
                &self.target.addrs,
                &self.request,
                deadline,
                body,
            )
            .await
            {
                Ok(None) => return Ok(()),
                Ok(Some(location)) => {
                    body.clear();
                    match self.same_endpoint(&location) {
                        Some(path) => redirected = Some(path),
                        None => break,
                    }
                }
                Err(Fail::Timeout) => {
                    return Err(Error::Failed(format!(
                        "timed out after {} ms",
                        timeout.as_millis()
                    )));
                }
                Err(Fail::Closed(m) | Fail::Msg(m)) => return Err(Error::Failed(m)),
            }
        }
        Err(Error::Elsewhere(
            deadline.saturating_duration_since(Instant::now()),
        ))
    }

    /// The request target a redirect to `location` leads to, when it is this endpoint.
    fn same_endpoint(&self, location: &str) -> Option<String> {
        if location.starts_with('/') && !location.starts_with("//") {
            return origin_form(location);
        }
        let t = parse_url(location)?;
        (t.addrs == self.target.addrs && t.host == self.target.host).then_some(t.path)
    }
}

fn write_request(out: &mut Vec<u8>, host: &str, path: &str, token: Option<&str>) {
    out.clear();
    for part in [
        "GET ",
        path,
        " HTTP/1.1\r\nHost: ",
        host,
        "\r\nAccept: ",
        ACCEPT,
        "\r\n",
    ] {
        out.extend_from_slice(part.as_bytes());
    }
    if let Some(t) = token {
        out.extend_from_slice(b"Authorization: Bearer ");
        out.extend_from_slice(t.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// One request on the kept connection, or a new one; on a kept connection the server closed,
/// once more on a new one. Ok(Some(location)) for a redirect.
async fn attempt(
    conn: &mut Option<Conn>,
    addrs: &[SocketAddr],
    request: &[u8],
    deadline: Instant,
    body: &mut Vec<u8>,
) -> Result<Option<String>, Fail> {
    for retry in [false, true] {
        let c = match conn {
            Some(c) => c,
            None => conn.insert(Conn::open(addrs, deadline).await?),
        };
        let kept = c.answers > 0;
        match c.exchange(request, deadline, body).await {
            Ok(Answer::Body { reusable }) => {
                if !reusable {
                    *conn = None;
                }
                return Ok(None);
            }
            Ok(Answer::Redirect(location)) => {
                *conn = None;
                return Ok(Some(location));
            }
            Err(Fail::Closed(_)) if kept && !retry => {
                *conn = None;
                body.clear();
            }
            Err(e) => {
                *conn = None;
                return Err(e);
            }
        }
    }
    Err(Fail::Msg(CLOSED.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const T: Duration = Duration::from_secs(5);

    /// Reads one request head from `c`; None when the client closed first.
    fn request(c: &mut TcpStream) -> Option<String> {
        let mut head = Vec::new();
        let mut b = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match c.read(&mut b) {
                Ok(0) | Err(_) => return None,
                Ok(n) => head.extend_from_slice(&b[..n]),
            }
        }
        Some(String::from_utf8_lossy(&head).into_owned())
    }

    /// The path of a request head.
    fn path(head: &str) -> &str {
        head.split(' ').nth(1).unwrap_or("")
    }

    /// A server on 127.0.0.1 that hands connection N (from 0) to `serve(conn, N)` on a thread
    /// of its own. Returns the URL of its /metrics and the count of connections accepted.
    fn server(
        serve: impl Fn(TcpStream, usize) + Send + Sync + 'static,
    ) -> (String, Arc<AtomicUsize>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/metrics", l.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let accepted = count.clone();
        let serve = Arc::new(serve);
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { continue };
                let n = accepted.fetch_add(1, Ordering::SeqCst);
                let serve = serve.clone();
                std::thread::spawn(move || serve(conn, n));
            }
        });
        (url, count)
    }

    /// Answers every request of a connection with `answer(head)`, keeping it open.
    fn keep_answering(mut c: TcpStream, answer: impl Fn(&str) -> Vec<u8>) {
        while let Some(head) = request(&mut c) {
            if c.write_all(&answer(&head)).is_err() {
                return;
            }
        }
    }

    fn ok(body: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    fn get_with(c: &mut Client, token: Option<&str>, timeout: Duration) -> Result<String, Error> {
        let mut body = b"left over".to_vec();
        crate::sources::scheduler::io_runtime().block_on(c.get(token, timeout, &mut body))?;
        Ok(String::from_utf8(body).unwrap())
    }

    fn get(c: &mut Client) -> Result<String, Error> {
        get_with(c, None, T)
    }

    fn client(url: &str) -> Client {
        Client::for_url(url).unwrap()
    }

    fn failure(r: Result<String, Error>) -> String {
        match r {
            Err(Error::Failed(m)) => m,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn one_kept_connection_serves_every_scrape() {
        let n = Arc::new(AtomicUsize::new(0));
        let (url, conns) = server(move |c, _| {
            let n = n.clone();
            keep_answering(c, move |_| {
                ok(&format!("a {}\n", n.fetch_add(1, Ordering::SeqCst)))
            })
        });
        let mut c = client(&url);
        for i in 0..5 {
            assert_eq!(get(&mut c).unwrap(), format!("a {i}\n"));
        }
        assert_eq!(conns.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_kept_connection_the_server_closed_is_replaced_once() {
        let (url, conns) = server(|mut c, n| match n {
            // Answers once, then closes on reading the next request.
            0 => {
                request(&mut c).unwrap();
                c.write_all(&ok("first\n")).unwrap();
                request(&mut c);
            }
            // Answers once, then closes while idle.
            1 => {
                request(&mut c).unwrap();
                c.write_all(&ok("second\n")).unwrap();
            }
            _ => keep_answering(c, |_| ok("third\n")),
        });
        let mut c = client(&url);
        assert_eq!(get(&mut c).unwrap(), "first\n");
        assert_eq!(get(&mut c).unwrap(), "second\n");
        std::thread::sleep(Duration::from_millis(100)); // the close reaches the client
        assert_eq!(get(&mut c).unwrap(), "third\n");
        assert_eq!(get(&mut c).unwrap(), "third\n");
        assert_eq!(conns.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_new_connection_closed_without_an_answer_is_an_error_not_a_retry() {
        let (url, conns) = server(|mut c, _| {
            request(&mut c);
        });
        let mut c = client(&url);
        assert_eq!(
            failure(get(&mut c)),
            "connection closed before message completed"
        );
        assert_eq!(conns.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_chunked_body_in_pieces_is_joined_and_the_connection_kept() {
        let (url, conns) = server(|mut c, _| {
            while request(&mut c).is_some() {
                for part in [
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
                    "4\r\na 1\n\r\n",
                    "A;ext=\"x\"\r\nb 2222222\n\r",
                    "\n1",
                    "0\r\n",
                    &"c".repeat(16),
                    "\r\n0\r\nX-Trailer: t\r\n\r\n",
                ] {
                    c.write_all(part.as_bytes()).unwrap();
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        });
        let mut c = client(&url);
        for _ in 0..2 {
            assert_eq!(
                get(&mut c).unwrap(),
                format!("a 1\nb 2222222\n{}", "c".repeat(16))
            );
        }
        assert_eq!(conns.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_large_content_length_body_in_pieces_is_read_whole() {
        let body: String = (0..20_000)
            .map(|i| format!("m{{i=\"{i}\"}} {i}\n"))
            .collect();
        let sent = body.clone();
        let (url, conns) = server(move |mut c, _| {
            while request(&mut c).is_some() {
                let all = ok(&sent);
                for piece in all.chunks(7000) {
                    c.write_all(piece).unwrap();
                }
            }
        });
        let mut c = client(&url);
        assert!(body.len() > 300_000);
        assert_eq!(get(&mut c).unwrap(), body);
        assert_eq!(get(&mut c).unwrap(), body);
        assert_eq!(conns.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn bodies_to_the_close_and_closing_answers_end_the_connection() {
        // The server keeps every connection open: only the client ends them.
        let (url, conns) = server(|mut c, n| {
            while request(&mut c).is_some() {
                let answer = match n {
                    0 => {
                        c.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nto the close\n",
                        )
                        .unwrap();
                        return;
                    }
                    1 => "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nv10\n".to_string(),
                    2 => "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 6\r\n\r\nclose\n"
                        .to_string(),
                    _ => String::from_utf8(ok("kept\n")).unwrap(),
                };
                if c.write_all(answer.as_bytes()).is_err() {
                    return;
                }
            }
        });
        let mut c = client(&url);
        assert_eq!(get(&mut c).unwrap(), "to the close\n");
        assert_eq!(get(&mut c).unwrap(), "v10\n");
        assert_eq!(get(&mut c).unwrap(), "close\n");
        assert_eq!(get(&mut c).unwrap(), "kept\n");
        assert_eq!(get(&mut c).unwrap(), "kept\n");
        assert_eq!(conns.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn bodies_over_the_limit_are_refused_however_framed() {
        let (url, _) = server(|mut c, _| {
            let Some(head) = request(&mut c) else { return };
            let mib = vec![b'x'; 1 << 20];
            let _ = match path(&head) {
                "/length" => {
                    let _ = c.write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                            MAX_BODY + 1
                        )
                        .as_bytes(),
                    );
                    std::thread::sleep(Duration::from_secs(2));
                    Ok(())
                }
                "/close" => c
                    .write_all(b"HTTP/1.1 200 OK\r\n\r\n")
                    .and_then(|_| (0..17).try_for_each(|_| c.write_all(&mib))),
                "/exact" => c
                    .write_all(b"HTTP/1.1 200 OK\r\n\r\n")
                    .and_then(|_| (0..16).try_for_each(|_| c.write_all(&mib))),
                "/chunk" => c.write_all(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000001\r\nxx",
                ),
                _ => c
                    .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .and_then(|_| {
                        (0..17).try_for_each(|_| {
                            c.write_all(b"100000\r\n")?;
                            c.write_all(&mib)?;
                            c.write_all(b"\r\n")
                        })
                    }),
            };
        });
        let base = url.trim_end_matches("/metrics");
        for p in ["/length", "/close", "/chunk", "/chunks"] {
            let t = Instant::now();
            assert_eq!(
                failure(get(&mut client(&format!("{base}{p}")))),
                "body larger than 16 MiB",
                "{p}"
            );
            assert!(
                t.elapsed() < Duration::from_secs(2),
                "{p}: {:?}",
                t.elapsed()
            );
        }
        assert_eq!(
            get(&mut client(&format!("{base}/exact"))).unwrap().len(),
            MAX_BODY
        );
    }

    #[test]
    fn heads_and_chunk_lines_over_their_limits_are_refused() {
        let (url, _) = server(|mut c, _| {
            let Some(head) = request(&mut c) else { return };
            let long = "a".repeat(70_000);
            let answer = match path(&head) {
                "/head" => format!("HTTP/1.1 200 OK\r\nX-Long: {long}\r\n\r\nbody"),
                "/many" => format!(
                    "HTTP/1.1 200 OK\r\n{}\r\n",
                    "X-Field: 1234567890\r\n".repeat(5000)
                ),
                _ => format!(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;{long}\r\nx\r\n0\r\n\r\n"
                ),
            };
            let _ = c.write_all(answer.as_bytes());
            std::thread::sleep(Duration::from_secs(1));
        });
        let base = url.trim_end_matches("/metrics");
        for p in ["/head", "/many"] {
            assert_eq!(
                failure(get(&mut client(&format!("{base}{p}")))),
                "response header section larger than 64 KiB"
            );
        }
        assert_eq!(
            failure(get(&mut client(&format!("{base}/chunk")))),
            "reading the body: a chunk-size line longer than 1024 bytes"
        );
    }

    #[test]
    fn a_silent_or_dribbling_endpoint_times_out_at_the_deadline() {
        let (url, _) = server(|mut c, _| {
            let Some(head) = request(&mut c) else { return };
            if path(&head) == "/drip" {
                let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
                for _ in 0..100 {
                    if c.write_all(b"x").is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(30));
                }
            } else {
                std::thread::sleep(Duration::from_secs(5));
            }
        });
        let timeout = Duration::from_millis(400);
        for url in [url.clone(), url.replace("/metrics", "/drip")] {
            let t = Instant::now();
            let err = failure(get_with(&mut client(&url), None, timeout));
            let took = t.elapsed();
            assert_eq!(err, "timed out after 400 ms", "{url}");
            // A timeout per read rather than for the whole exchange would never end the drip.
            assert!(
                took >= timeout && took < Duration::from_millis(1500),
                "{url}: {took:?}"
            );
        }
    }

    #[test]
    fn refused_connections_say_so() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/metrics", l.local_addr().unwrap());
        drop(l);
        assert_eq!(failure(get(&mut client(&url))), "connection refused");
    }

    #[test]
    fn statuses_types_and_short_bodies_read_as_the_reqwest_path_says_them() {
        let (url, _) = server(|mut c, _| {
            let Some(head) = request(&mut c) else { return };
            let answer: &[u8] = match path(&head) {
                "/500" => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops\n",
                "/599" => b"HTTP/1.1 599 Whatever\r\nContent-Length: 0\r\n\r\n",
                "/html" => b"HTTP/1.1 200 OK\r\nContent-Type: Text/HTML; charset=utf-8\r\nContent-Length: 3\r\n\r\n<a>",
                "/om" => b"HTTP/1.1 200 OK\r\ncontent-type: application/openmetrics-text; version=1.0.0\r\ncontent-length: 3\r\n\r\nom\n",
                "/none" => b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nno\n",
                "/short" => b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf",
                "/garbage" => b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
                "/status" => b"HTTP/1.1 2x0 OK\r\n\r\n",
                "/continue" => b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n",
                "/lf" => b"HTTP/1.1 200 OK\nContent-Length: 3\n\nlf\n",
                "/204" => b"HTTP/1.1 204 No Content\r\n\r\n",
                _ => b"HTTP/1.1 200 OK\r\nBad Field: x\r\n\r\n",
            };
            let _ = c.write_all(answer);
        });
        let at = |p: &str| get(&mut client(&url.replace("/metrics", p)));
        assert_eq!(failure(at("/500")), "HTTP 500 Internal Server Error");
        assert_eq!(failure(at("/599")), "HTTP 599 <unknown status code>");
        assert_eq!(
            failure(at("/html")),
            "not Prometheus text (Content-Type text/html)"
        );
        assert_eq!(at("/om").unwrap(), "om\n");
        assert_eq!(at("/none").unwrap(), "no\n");
        assert_eq!(
            failure(at("/short")),
            "reading the body: end of file before message length reached"
        );
        assert_eq!(failure(at("/garbage")), "invalid HTTP version parsed");
        assert_eq!(failure(at("/status")), "invalid HTTP status-code parsed");
        assert_eq!(at("/continue").unwrap(), "ok\n");
        assert_eq!(at("/lf").unwrap(), "lf\n");
        assert_eq!(at("/204").unwrap(), "");
        assert_eq!(failure(at("/field")), "invalid HTTP header parsed");
    }

    #[test]
    fn the_request_carries_path_query_host_accept_and_the_token() {
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let (url, _) = server(move |c, _| {
            let tx = tx.lock().unwrap().clone();
            keep_answering(c, move |head| {
                tx.send(head.to_string()).unwrap();
                ok("x 1\n")
            })
        });
        let port = url.split(':').nth(2).unwrap().trim_end_matches("/metrics");
        let mut c = client(&format!("{}?name[]=a&b=1#frag", url));
        get_with(&mut c, Some("s3cret"), T).unwrap();
        assert_eq!(
            rx.recv().unwrap(),
            format!(
                "GET /metrics?name[]=a&b=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
                 Accept: text/plain;version=0.0.4\r\nAuthorization: Bearer s3cret\r\n\r\n"
            )
        );
        get(&mut c).unwrap();
        assert!(!rx.recv().unwrap().contains("Authorization"));
        assert_eq!(
            failure(get_with(&mut c, Some("a\r\nX-Injected: 1"), T)),
            "failed to parse header value"
        );
    }

    #[test]
    fn redirects_to_the_same_endpoint_are_followed_others_handed_back() {
        let (url, _) = server(|c, _| {
            keep_answering(c, |head| {
                match path(head) {
                "/metrics" => b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /metrics/\r\nContent-Length: 0\r\n\r\n".to_vec(),
                "/metrics/" => ok("moved 1\n"),
                "/loop" => b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n".to_vec(),
                "/away" => b"HTTP/1.1 301 Moved\r\nLocation: https://example.com/metrics\r\n\r\n".to_vec(),
                _ => b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
            }
            })
        });
        let mut c = client(&url);
        assert_eq!(get(&mut c).unwrap(), "moved 1\n");
        for p in ["/loop", "/away"] {
            match get(&mut client(&url.replace("/metrics", p))) {
                Err(Error::Elsewhere(left)) => assert!(left <= T && left > Duration::ZERO),
                other => panic!("{p}: {other:?}"),
            }
        }
        assert_eq!(
            failure(get(&mut client(&url.replace("/metrics", "/nowhere")))),
            "HTTP 302 Found"
        );
    }

    #[test]
    fn localhost_and_ipv6_literals_are_served() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (c, _) = l.accept().unwrap();
            keep_answering(c, |_| ok("v4\n"));
        });
        let mut c = client(&format!("http://LocalHost:{port}/metrics"));
        assert_eq!(get(&mut c).unwrap(), "v4\n");
        // Only where the host has ::1.
        if let Ok(l) = TcpListener::bind("[::1]:0") {
            let port = l.local_addr().unwrap().port();
            std::thread::spawn(move || {
                let (c, _) = l.accept().unwrap();
                keep_answering(c, |head| {
                    assert!(
                        head.contains(&format!("Host: [::1]:{}\r\n", port)),
                        "{head}"
                    );
                    ok("v6\n")
                });
            });
            let mut c = client(&format!("http://[0:0::1]:{port}/metrics"));
            assert_eq!(get(&mut c).unwrap(), "v6\n");
        }
    }

    #[test]
    fn only_plain_urls_to_ip_literals_or_localhost_are_taken() {
        let t = |url: &str| parse_url(url).map(|t| (t.addrs, t.host, t.path));
        let v4 = |p| vec![SocketAddr::from(([127, 0, 0, 1], p))];
        assert_eq!(
            t("http://127.0.0.1:8000/metrics"),
            Some((v4(8000), "127.0.0.1:8000".into(), "/metrics".into()))
        );
        assert_eq!(
            t("HTTP://127.0.0.1"),
            Some((v4(80), "127.0.0.1".into(), "/".into()))
        );
        assert_eq!(
            t("http://127.0.0.1:80?a=b"),
            Some((v4(80), "127.0.0.1".into(), "/?a=b".into()))
        );
        assert_eq!(
            t("http://localhost:9/m#x"),
            Some((
                vec![
                    SocketAddr::from(([127, 0, 0, 1], 9)),
                    SocketAddr::from((Ipv6Addr::LOCALHOST, 9))
                ],
                "localhost:9".into(),
                "/m".into()
            ))
        );
        assert_eq!(
            t("http://[fd00::0:1]:8000/metrics").map(|t| t.1),
            Some("[fd00::1]:8000".into())
        );
        for other in [
            "https://127.0.0.1/metrics",
            "http://vllm:8000/metrics",
            "http://user:pw@127.0.0.1/metrics",
            "http://@127.0.0.1/metrics",
            "http://127.1/metrics",
            "http://0x7f.0.0.1/metrics",
            "http://127.0.0.01/metrics",
            "http://127.0.0.1:0/metrics",
            "http://127.0.0.1:99999/metrics",
            "http://127.0.0.1:+80/metrics",
            "http://[fe80::1%25eth0]/metrics",
            "http://[::1/metrics",
            "http://127.0.0.1/a b",
            "http://127.0.0.1/a/../metrics",
            "http://127.0.0.1/a/%2E/metrics",
            "http://127.0.0.1\\metrics",
            "http://127.0.0.1/m?q=\"x\"",
            "http://127.0.0.1/m?q='x'",
            "http://127.0.0.1/métrique",
            " http://127.0.0.1/metrics",
            "ftp://127.0.0.1/metrics",
        ] {
            assert_eq!(t(other), None, "{other}");
        }
    }
}
