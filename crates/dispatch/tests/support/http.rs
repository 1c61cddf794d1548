//! HTTP/1.1 as the test servers speak it: one request read as a server sees
//! it ([`Seen`]), an answer written back, and a plain `http://` server on
//! loopback built on them ([`serve`]). `tls.rs` serves the same over TLS.
//!
//! Shared by the tests of ferrule-dispatch, ferrule-bus and ferrule-runner
//! (`#[path]`).

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The method.
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
    /// When the whole request had been read.
    pub at: Instant,
}

impl Seen {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How a server answers a request: status and JSON body.
pub type Answer = Arc<dyn Fn(&Seen) -> (u16, String) + Send + Sync>;

/// Reads one request (its body by `content-length`); `None` if the
/// connection closed before a request line.
pub fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Seen>> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(None);
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            if k == "content-length" {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push((k, v.trim().to_string()));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Seen {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    }))
}

/// Writes the answer `status` with the JSON `body`, and says the
/// connection closes after it (one request per connection).
pub fn write_answer(out: &mut impl Write, status: u16, body: &str) -> std::io::Result<()> {
    write!(
        out,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The requests a server read, in the order it read them.
pub type Log = Arc<Mutex<Vec<Seen>>>;

/// A plain HTTP server on 127.0.0.1, one thread serving the connections one
/// after another, one request each; `answer` gives each request's status and
/// body. Returns `http://127.0.0.1:PORT` and the log of what it read.
pub fn serve(answer: Answer) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let base = format!(
        "http://{}",
        listener.local_addr().expect("the listener's address")
    );
    let seen: Log = Arc::default();
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Ok(read_half) = stream.try_clone() else {
                continue;
            };
            // A connection that closes or breaks before a whole request is
            // not one: nothing is logged or answered.
            let Ok(Some(request)) = read_request(&mut BufReader::new(read_half)) else {
                continue;
            };
            let (status, body) = answer(&request);
            log.lock().expect("the log's lock").push(request);
            let _ = write_answer(&mut stream, status, &body);
        }
    });
    (base, seen)
}

/// [`serve`] answering 200 `{}` to everything.
pub fn serve_ok() -> (String, Log) {
    serve(Arc::new(|_| (200, "{}".into())))
}

/// [`serve`] answering the statuses in order, with `{}` (200 when they run
/// out).
pub fn serve_scripted(statuses: Vec<u16>) -> (String, Log) {
    let queue = Mutex::new(VecDeque::from(statuses));
    serve(Arc::new(move |_| {
        let next = queue.lock().expect("the script's lock").pop_front();
        (next.unwrap_or(200), "{}".into())
    }))
}
