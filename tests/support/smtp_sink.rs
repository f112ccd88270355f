//! A small but real SMTP server on loopback for tests: it speaks RFC 5321 over TCP
//! (EHLO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) and keeps what it
//! accepted. Tests can make it fail the next transactions, reject one recipient, hold
//! the reply to DATA, or drop the connection in the middle of DATA.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::mime;

/// One message the server accepted (answered 250 to the end of DATA).
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Default)]
struct State {
    messages: Vec<Received>,
    /// (transactions left to fail at MAIL FROM, reply code).
    fail_next: (usize, u16),
    reject_rcpt: HashMap<String, u16>,
    close_mid_data: usize,
}

pub struct SmtpSink {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    hold: watch::Sender<bool>,
}

impl SmtpSink {
    /// Binds 127.0.0.1 on a free port and serves until the sink is dropped.
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind smtp sink");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let (hold, _) = watch::channel(false);
        let (st, hold_rx) = (state.clone(), hold.subscribe());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(session(sock, st.clone(), hold_rx.clone()));
            }
        });
        SmtpSink { addr, state, hold }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn messages(&self) -> Vec<Received> {
        self.state.lock().unwrap().messages.clone()
    }

    /// Which of the articles `/a/1.html` … `/a/{up_to}.html` the accepted messages name,
    /// each with the Message-IDs of the messages that carried it.
    pub fn articles_mailed(&self, up_to: usize) -> HashMap<usize, BTreeSet<String>> {
        let mut out: HashMap<usize, BTreeSet<String>> = HashMap::new();
        for m in self.messages() {
            let text = mime::decoded_text(&m.data);
            for n in 1..=up_to {
                if text.contains(&format!("/a/{n}.html")) {
                    out.entry(n).or_default().insert(mime::message_id(&m.data));
                }
            }
        }
        out
    }

    /// The next `n` transactions are refused at MAIL FROM with `code`.
    pub fn fail_next(&self, n: usize, code: u16) {
        self.state.lock().unwrap().fail_next = (n, code);
    }

    /// RCPT TO this address is answered with `code` (a 5xx is permanent).
    pub fn reject_rcpt(&self, addr: &str, code: u16) {
        self.state
            .lock()
            .unwrap()
            .reject_rcpt
            .insert(addr.to_ascii_lowercase(), code);
    }

    /// While true, the server reads the whole message but does not answer the final
    /// `.`; when set back to false, held messages are accepted (as a real server that
    /// committed the message before its reply was lost would).
    pub fn hold_data(&self, on: bool) {
        self.hold.send_replace(on);
    }

    /// The next `n` DATA transfers are cut off: the server closes the connection after
    /// the first line of the message.
    pub fn close_mid_data(&self, n: usize) {
        self.state.lock().unwrap().close_mid_data = n;
    }

    /// Waits until at least `n` messages arrived or `timeout` passed; returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= n || start.elapsed() >= timeout {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

fn reply_text(code: u16) -> &'static str {
    match code {
        400..=499 => "4.3.0 Try again later",
        550 => "5.1.1 No such user",
        _ => "5.7.1 Refused",
    }
}

/// The address inside `MAIL FROM:<a>` / `RCPT TO:<a>`.
fn path_arg(line: &str) -> String {
    let rest = line.split_once(':').map(|(_, r)| r).unwrap_or("");
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('<')
        .and_then(|r| r.split_once('>'))
        .map(|(a, _)| a)
        .unwrap_or_else(|| rest.split_whitespace().next().unwrap_or(""));
    inner.to_string()
}

async fn session(sock: TcpStream, state: Arc<Mutex<State>>, mut hold: watch::Receiver<bool>) {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    macro_rules! say {
        ($($t:tt)*) => {
            if w.write_all(format!($($t)*).as_bytes()).await.is_err() {
                return;
            }
        };
    }
    say!("220 sink.test ESMTP newswatch-test-sink\r\n");
    let (mut from, mut to): (Option<String>, Vec<String>) = (None, Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let cmd = line.trim_end_matches(['\r', '\n']);
        let verb = cmd
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => say!("250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n"),
            "HELO" => say!("250 sink.test\r\n"),
            "MAIL" => {
                let refuse = {
                    let mut s = state.lock().unwrap();
                    if s.fail_next.0 > 0 {
                        s.fail_next.0 -= 1;
                        Some(s.fail_next.1)
                    } else {
                        None
                    }
                };
                match refuse {
                    Some(code) => say!("{code} {}\r\n", reply_text(code)),
                    None => {
                        from = Some(path_arg(cmd));
                        to.clear();
                        say!("250 2.1.0 OK\r\n");
                    }
                }
            }
            "RCPT" => {
                let rcpt = path_arg(cmd);
                let code = state
                    .lock()
                    .unwrap()
                    .reject_rcpt
                    .get(&rcpt.to_ascii_lowercase())
                    .copied();
                match code {
                    _ if from.is_none() => say!("503 5.5.1 MAIL first\r\n"),
                    Some(code) => say!("{code} {}\r\n", reply_text(code)),
                    None => {
                        to.push(rcpt);
                        say!("250 2.1.5 OK\r\n");
                    }
                }
            }
            "DATA" => {
                if from.is_none() || to.is_empty() {
                    say!("554 5.5.1 No valid recipients\r\n");
                    continue;
                }
                say!("354 End data with <CR><LF>.<CR><LF>\r\n");
                let cut = {
                    let mut s = state.lock().unwrap();
                    let cut = s.close_mid_data > 0;
                    if cut {
                        s.close_mid_data -= 1;
                    }
                    cut
                };
                let mut data = String::new();
                loop {
                    line.clear();
                    match r.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if cut {
                        return;
                    }
                    let l = line.trim_end_matches(['\r', '\n']);
                    if l == "." {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(l));
                    data.push_str("\r\n");
                }
                while *hold.borrow_and_update() {
                    if hold.changed().await.is_err() {
                        return;
                    }
                }
                state.lock().unwrap().messages.push(Received {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                });
                say!("250 2.0.0 Queued\r\n");
            }
            "RSET" => {
                from = None;
                to.clear();
                say!("250 2.0.0 OK\r\n");
            }
            "NOOP" => say!("250 2.0.0 OK\r\n"),
            "QUIT" => {
                say!("221 2.0.0 Bye\r\n");
                return;
            }
            _ => say!("502 5.5.2 Command not implemented\r\n"),
        }
    }
}
