//! A hostile HTTP/1.1 fixture server on loopback, written on raw TCP so it can misbehave in
//! ways a well-behaved server library will not: hang after accept, reset the connection,
//! stream a body that never ends, a gzip bomb generated on the fly, a `Content-Length` that
//! lies.
//!
//! Every server binds its own address of 127.0.0.0/8 (127.0.0.2, 127.0.0.3, … port 0; Linux
//! routes all of 127/8 to `lo`), so each is a separate host for the fetcher's per-host gates
//! and robots cache. It records every request (path, headers, arrival time) so tests can count
//! requests per path and inspect conditional-GET headers. Dropping the server stops it and
//! every connection it holds.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Largest request head read; anything longer is dropped.
const MAX_HEAD: usize = 64 * 1024;
/// Send buffer of streaming replies: keeps the server from running far ahead of a client
/// that has stopped reading (so a gzip bomb is not compressed in full into kernel buffers).
const STREAM_SNDBUF: libc::c_int = 64 * 1024;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    pub at: Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// These exact bytes, then close.
    Raw(Vec<u8>),
    /// These exact bytes after this long, then close: a slow site (the time a distant
    /// server takes to answer), costing the server no CPU while it waits.
    Late(Duration, Vec<u8>),
    /// Keep the connection open and never answer.
    Hang,
    /// Close at once with `SO_LINGER` 0: the client sees a TCP reset.
    Reset,
    /// Close at once, gracefully, without a byte of response.
    Close,
    /// `200 text/html`, chunked, chunks forever.
    EndlessChunked,
    /// `200 text/html` with `Content-Encoding: gzip`: `decompressed` zero bytes, compressed
    /// while streaming (never held in memory), body delimited by close.
    GzipBomb { decompressed: u64 },
    /// `200 text/html` with `Content-Length: declared`, then `send` bytes and close.
    LyingLength { declared: u64, send: u64 },
}

/// A complete response with `Content-Length` and `Connection: close`.
pub fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    for (name, value) in headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    let _ = write!(
        out,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    out.extend_from_slice(body);
    Reply::Raw(out)
}

/// `200` with this content type and body.
pub fn ok(content_type: &str, body: impl AsRef<[u8]>) -> Reply {
    response(200, &[("Content-Type", content_type)], body.as_ref())
}

/// `reply` after `after`, when it is a complete response (the others unchanged).
pub fn late(after: Duration, reply: Reply) -> Reply {
    match reply {
        Reply::Raw(bytes) if !after.is_zero() => Reply::Late(after, bytes),
        other => other,
    }
}

/// `404`, empty.
pub fn not_found() -> Reply {
    response(404, &[("Content-Type", "text/plain")], b"")
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running hostile server; stops when dropped.
pub struct Hostile {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

/// Next loopback address to hand out: 127.0.0.2 … 127.0.0.254, then around again.
static NEXT_HOST: AtomicU8 = AtomicU8::new(2);

fn next_ip() -> Ipv4Addr {
    let n = NEXT_HOST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            Some(if n >= 254 { 2 } else { n + 1 })
        })
        .expect("the closure always returns Some");
    Ipv4Addr::new(127, 0, 0, n)
}

impl Hostile {
    /// Bind the next free loopback address, port 0, and serve `handler`.
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_at(next_ip(), handler).await
    }

    /// Bind `ip`, port 0, and serve `handler` (benchmarks pick fixed hosts).
    pub async fn start_at(
        ip: Ipv4Addr,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind((ip, 0))
            .await
            .expect("binding a 127/8 address (Linux routes all of 127/8 to lo)");
        let addr = listener.local_addr().expect("bound socket has an address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&log), handler));
        Self { addr, log, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.N:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Requests received so far for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path == path).count()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().expect("log lock").clone()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, log: Arc<Mutex<Vec<Request>>>, handler: Arc<Handler>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                connections.spawn(serve(stream, Arc::clone(&log), Arc::clone(&handler)));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve(mut stream: TcpStream, log: Arc<Mutex<Vec<Request>>>, handler: Arc<Handler>) {
    let Some(request) = read_head(&mut stream).await else {
        return;
    };
    log.lock().expect("log lock").push(request.clone());
    let reply = handler(&request);
    // Errors below mean the client went away: exactly what a hostile test provokes.
    let _ = match reply {
        Reply::Raw(bytes) => write_then_close(&mut stream, &bytes).await,
        Reply::Late(after, bytes) => {
            tokio::time::sleep(after).await;
            write_then_close(&mut stream, &bytes).await
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        }
        Reply::Reset => {
            set_linger_zero(&stream);
            drop(stream);
            Ok(())
        }
        Reply::Close => Ok(()),
        Reply::EndlessChunked => endless_chunked(&mut stream).await,
        Reply::GzipBomb { decompressed } => gzip_bomb(&mut stream, decompressed).await,
        Reply::LyingLength { declared, send } => lying_length(&mut stream, declared, send).await,
    };
}

async fn write_then_close(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.shutdown().await
}

async fn read_head(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > MAX_HEAD {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Request {
        path,
        headers,
        at: Instant::now(),
    })
}

fn set_sockopt(stream: &TcpStream, name: libc::c_int, value: &impl Sized) {
    let len = libc::socklen_t::try_from(std::mem::size_of_val(value)).expect("small option");
    // SAFETY: the fd is open for the lifetime of `stream`; `value` points to `len` bytes.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            name,
            std::ptr::from_ref(value).cast(),
            len,
        )
    };
    assert_eq!(rc, 0, "setsockopt {name}");
}

fn set_linger_zero(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    set_sockopt(stream, libc::SO_LINGER, &linger);
}

fn small_send_buffer(stream: &TcpStream) {
    set_sockopt(stream, libc::SO_SNDBUF, &STREAM_SNDBUF);
}

async fn endless_chunked(stream: &mut TcpStream) -> std::io::Result<()> {
    small_send_buffer(stream);
    stream
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .await?;
    let para = "<p>and it goes on and on and on, my friend</p>\n".repeat(170);
    let chunk = format!("{:x}\r\n{para}\r\n", para.len());
    loop {
        stream.write_all(chunk.as_bytes()).await?;
    }
}

async fn gzip_bomb(stream: &mut TcpStream, decompressed: u64) -> std::io::Result<()> {
    use flate2::write::GzEncoder;
    use flate2::Compression;
    small_send_buffer(stream);
    stream
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n",
        )
        .await?;
    let zeros = vec![0u8; 64 * 1024];
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    let mut left = decompressed;
    while left > 0 {
        let n = usize::try_from(left.min(zeros.len() as u64)).expect("at most 64 KiB");
        encoder.write_all(&zeros[..n])?;
        // Sync-flush every chunk so the client sees data at once (a deflater
        // otherwise buffers megabytes of zeros before emitting a block).
        encoder.flush()?;
        left -= n as u64;
        let out = std::mem::take(encoder.get_mut());
        if !out.is_empty() {
            stream.write_all(&out).await?;
        }
    }
    let out = encoder.finish()?;
    stream.write_all(&out).await?;
    stream.shutdown().await
}

async fn lying_length(stream: &mut TcpStream, declared: u64, send: u64) -> std::io::Result<()> {
    small_send_buffer(stream);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let block = b"<p>lorem ipsum</p>\n".repeat(3000);
    let mut left = send;
    while left > 0 {
        let n = usize::try_from(left.min(block.len() as u64)).expect("bounded by block");
        stream.write_all(&block[..n]).await?;
        left -= n as u64;
    }
    stream.shutdown().await
}
