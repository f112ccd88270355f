//! Just enough MIME for tests to read what a digest says: its header fields, its parts
//! decoded, the messages in a file outbox.

use std::path::Path;

/// The values of every `name:` field in the message's header (unfolded, trimmed; the name
/// in any case).
pub fn headers(message: &str, name: &str) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for line in message.lines() {
        if line.is_empty() {
            break;
        }
        match fields.last_mut() {
            // A folded line goes on with the field before it (RFC 5322 §2.2.3).
            Some(last) if line.starts_with([' ', '\t']) => last.push_str(line),
            _ => fields.push(line.to_owned()),
        }
    }
    fields
        .iter()
        .filter_map(|f| {
            let (n, value) = f.split_once(':')?;
            n.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
        .collect()
}

/// The value of the first `name:` field in the message's header.
pub fn header(message: &str, name: &str) -> Option<String> {
    headers(message, name).into_iter().next()
}

/// The message's `Message-ID`, or "" when it has none.
pub fn message_id(message: &str) -> String {
    header(message, "Message-ID").unwrap_or_default()
}

/// The messages of a file outbox (`<state_dir>/outbox/*.eml`) as (file name, text), by
/// name; none when the directory does not exist.
pub fn outbox(dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = entries
        .map(|e| e.expect("outbox entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| {
            let name = p
                .file_name()
                .expect("a file")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read_to_string(&p).expect("read a message"))
        })
        .collect();
    out.sort();
    out
}

/// The message's parts decoded (base64 / quoted-printable / 8bit), concatenated.
pub fn decoded_text(data: &str) -> String {
    let mut out = String::new();
    for part in data.split("\r\n--") {
        let Some((head, body)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let head_l = head.to_ascii_lowercase();
        if head_l.contains("content-transfer-encoding: base64") {
            let joined: String = body
                .lines()
                .take_while(|l| !l.starts_with("--"))
                .collect::<Vec<_>>()
                .join("");
            if let Some(bytes) = base64_decode(joined.trim()) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        } else if head_l.contains("quoted-printable") {
            out.push_str(&qp_decode(body));
        } else {
            out.push_str(body);
        }
        out.push('\n');
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = T.iter().position(|&t| t == c)? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

fn qp_decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.replace("=\r\n", "");
    let bytes = b.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(v) = u8::from_str_radix(&b[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
