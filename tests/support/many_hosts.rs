//! Many tiny news sites at once (issue 21): `hosts` loopback addresses (127.1.0.2, 127.1.0.3,
//! …; Linux routes all of 127/8 to `lo`), each serving `feeds` one-item RSS feeds at
//! `/f/<k>.xml` and their article pages at `/a/<k>.html`, over HTTP/1.1 with keep-alive
//! (like a real server, unlike `hostile.rs`, which closes after each answer). `robots.txt` is
//! a 404. It records when each host was asked for what, so a test can check that every
//! source was read and that no host was asked faster than the politeness delay.
//!
//! One item per feed, published now: the article at `/a/<k>.html` of host `h` is story
//! `h * feeds + k`; every third story mentions a withdrawal from Niger (a match of
//! [`WATCHLIST`]).

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A watchlist block that matches every third story.
pub const WATCHLIST: &str = "[[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\"]\n\
     require = [\"withdrawal\"]\nto = [\"a@example.org\"]\n";

/// One request as a host saw it.
#[derive(Debug, Clone)]
#[allow(dead_code, reason = "each user reads part of it")]
pub struct Hit {
    pub host: usize,
    pub path: String,
    pub at: Instant,
}

/// The running sites; they stop when this is dropped.
pub struct Sites {
    pub hosts: usize,
    pub feeds: usize,
    ports: Vec<u16>,
    log: Arc<Mutex<Vec<Hit>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Sites {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The loopback address of host `h`.
pub fn host_ip(h: usize) -> Ipv4Addr {
    let h = u32::try_from(h).expect("fewer than 2^32 hosts");
    // 250 addresses per /24, never .0, .1 or .255.
    Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 1, 0, 0)) + (h / 250) * 256 + 2 + h % 250)
}

impl Sites {
    /// Binds `hosts` addresses (port 0 each) and serves `feeds` feeds on each.
    pub async fn start(hosts: usize, feeds: usize) -> Sites {
        Self::start_rotating(hosts, feeds, None).await
    }

    /// Like [`Sites::start`]; with `rotate`, every feed's one item links a new article page
    /// every `rotate` (`/a/<k>-<round>.html`, round = Unix time / `rotate`): a news site
    /// that publishes one story per period.
    pub async fn start_rotating(
        hosts: usize,
        feeds: usize,
        rotate: Option<std::time::Duration>,
    ) -> Sites {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut ports = Vec::with_capacity(hosts);
        let mut tasks = Vec::with_capacity(hosts);
        for h in 0..hosts {
            let listener = TcpListener::bind((host_ip(h), 0))
                .await
                .expect("binding a 127/8 address");
            ports.push(listener.local_addr().expect("bound").port());
            let log = Arc::clone(&log);
            tasks.push(tokio::spawn(accept(listener, h, feeds, rotate, log)));
        }
        Sites {
            hosts,
            feeds,
            ports,
            log,
            tasks,
        }
    }

    /// `http://<host h>:<port>`.
    pub fn base(&self, h: usize) -> String {
        format!("http://{}:{}", host_ip(h), self.ports[h])
    }

    /// `[[source]]` blocks for every feed of every host, named `h<h>f<k>`, host by host
    /// (the order a config written by hand or imported from OPML tends to have).
    pub fn sources_toml(&self) -> String {
        let mut s = String::new();
        for h in 0..self.hosts {
            for k in 0..self.feeds {
                s.push_str(&format!(
                    "[[source]]\nname = \"h{h}f{k}\"\nurl = \"{}/f/{k}.xml\"\n",
                    self.base(h)
                ));
            }
        }
        s
    }

    /// Every request so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.log.lock().expect("log lock").clone()
    }
}

/// Story `h * feeds + k`: its name (digits spelled as letters, since a title such as
/// "Story 404" reads as an error page) and its sentence.
fn story(h: usize, feeds: usize, k: usize) -> (String, &'static str) {
    let n = h * feeds + k;
    let name = n
        .to_string()
        .bytes()
        .map(|d| char::from(b'a' + (d - b'0')))
        .collect();
    let text = if n % 3 == 0 {
        "The withdrawal of troops from Niger went on, officials said."
    } else {
        "The port of Dakar opened a new container terminal, officials said."
    };
    (name, text)
}

/// The round of a rotating site now (0 for a site that does not rotate).
fn round(rotate: Option<std::time::Duration>) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    rotate.map_or(0, |r| now / r.as_secs().max(1))
}

fn answer(
    path: &str,
    base: &str,
    h: usize,
    feeds: usize,
    rotate: Option<std::time::Duration>,
) -> (u16, &'static str, String) {
    let num = |prefix: &str, suffix: &str| {
        let k = path.strip_prefix(prefix)?.strip_suffix(suffix)?;
        let k = k.split('-').next()?;
        k.parse::<usize>().ok().filter(|k| *k < feeds)
    };
    if let Some(k) = num("/f/", ".xml") {
        let (n, text) = story(h, feeds, k);
        let date = chrono::Utc::now().to_rfc2822();
        let page = match rotate {
            Some(_) => format!("{k}-{}", round(rotate)),
            None => k.to_string(),
        };
        let body = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>site {h}</title>\
             <link>{base}/</link><description>d</description><item><title>Story {n}</title>\
             <link>{base}/a/{page}.html</link><description>{text}</description>\
             <pubDate>{date}</pubDate></item></channel></rss>"
        );
        return (200, "application/rss+xml", body);
    }
    if let Some(k) = num("/a/", ".html") {
        let (n, text) = story(h, feeds, k);
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><title>Story {n}</title>\
             <meta property=\"og:type\" content=\"article\"></head><body><article>\
             <h1>Story {n}</h1><p>{text} Talks continued in the capital on Monday, and more \
             movements were planned for the week, a spokesman for the ministry added.</p>\
             </article></body></html>"
        );
        return (200, "text/html; charset=utf-8", body);
    }
    (404, "text/plain", String::new())
}

async fn accept(
    listener: TcpListener,
    h: usize,
    feeds: usize,
    rotate: Option<std::time::Duration>,
    log: Arc<Mutex<Vec<Hit>>>,
) {
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let base: Arc<str> = base.into();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (log, base) = (Arc::clone(&log), Arc::clone(&base));
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = serve(stream, (h, feeds, rotate), &base, &log).await;
        });
    }
}

/// Answers requests on one connection until the client closes it.
async fn serve(
    stream: TcpStream,
    (h, feeds, rotate): (usize, usize, Option<std::time::Duration>),
    base: &str,
    log: &Mutex<Vec<Hit>>,
) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
        let mut close = false;
        loop {
            let mut header = String::new();
            if stream.read_line(&mut header).await? == 0 {
                return Ok(());
            }
            if header == "\r\n" || header == "\n" {
                break;
            }
            close |= header.to_ascii_lowercase().starts_with("connection: close");
        }
        log.lock().expect("log lock").push(Hit {
            host: h,
            path: path.clone(),
            at: Instant::now(),
        });
        let (status, content_type, body) = answer(&path, base, h, feeds, rotate);
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            if status == 200 { "OK" } else { "Not Found" },
            body.len()
        );
        // One write: a head and a body written apart wait for the client's delayed ACK
        // (Nagle) on a kept-alive connection, 40 ms a request.
        stream
            .get_mut()
            .write_all(format!("{head}{body}").as_bytes())
            .await?;
        if close {
            return Ok(());
        }
    }
}

/// How long from now until the next cron tick of a `period` counted from the Unix epoch
/// (every whole minute for a minute), to the nanosecond: whole seconds would put a period's
/// window up to a second late, and the next tick's first reads in it.
pub fn until_next_tick(period: Duration) -> Duration {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    period
        .checked_sub(Duration::from_nanos(
            u64::try_from(unix.as_nanos() % period.as_nanos()).expect("under a period"),
        ))
        .expect("a remainder of the period is shorter than it")
}
