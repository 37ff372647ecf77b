//! HTTP/1.1 on a socket: one request read (httparse parses the head; the
//! body is read by its Content-Length), one response written. Keep-alive
//! is honoured; chunked request bodies are not taken (411), as no client
//! of these endpoints sends them.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// The most a request head may hold.
const HEAD_MAX: usize = 64 << 10;
const HEADERS_MAX: usize = 64;

pub struct Request {
    pub method: String,
    pub path: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The client asked for the connection to end after this one.
    pub close: bool,
}

/// Why no request could be read.
pub enum ReadError {
    /// The client closed the connection (cleanly, between requests).
    Closed,
    /// Answer this, then close.
    Reply(Response),
    /// The connection broke, or timed out, mid-request: nobody to answer.
    Broken,
}

/// A response: a status and a JSON body.
pub struct Response {
    pub status: u16,
    pub body: String,
    pub retry_after: bool,
}

impl Response {
    pub fn json(status: u16, body: String) -> Response {
        Response {
            status,
            body,
            retry_after: false,
        }
    }

    pub fn error(status: u16, message: &str) -> Response {
        Response::json(status, serde_json::json!({ "error": message }).to_string())
    }
}

/// Read one request: bytes already read past the previous one stay in
/// `buf`.
pub fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    body_max: usize,
    deadline: Instant,
) -> Result<Request, ReadError> {
    let head_len = loop {
        let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(n)) => break n,
            Ok(httparse::Status::Partial) if buf.len() < HEAD_MAX => {}
            Ok(httparse::Status::Partial) => {
                return Err(ReadError::Reply(Response::error(
                    431,
                    "the request head is over 64 KiB",
                )))
            }
            Err(e) => {
                return Err(ReadError::Reply(Response::error(
                    400,
                    &format!("not HTTP: {e}"),
                )))
            }
        }
        if fill(stream, buf, deadline)? == 0 {
            return Err(if buf.is_empty() {
                ReadError::Closed
            } else {
                ReadError::Broken
            });
        }
    };
    let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(buf)
        .map_err(|e| ReadError::Reply(Response::error(400, &format!("not HTTP: {e}"))))?;
    let values = |name: &str| -> Vec<String> {
        req.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
            .collect()
    };
    let header = |name: &str| values(name).into_iter().next();
    if header("transfer-encoding").is_some() {
        return Err(ReadError::Reply(Response::error(
            411,
            "send the body with a Content-Length, not chunked",
        )));
    }
    // RFC 9110: digits only; repeated, the values must agree (else the
    // body's end is ambiguous, the way to smuggle a second request).
    let lengths = values("content-length");
    let length = match lengths.first() {
        None => 0,
        Some(v) if lengths.iter().any(|o| o != v) => {
            return Err(ReadError::Reply(Response::error(
                400,
                "Content-Length given twice, with different values",
            )))
        }
        Some(v) if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(ReadError::Reply(Response::error(
                400,
                &format!("Content-Length {v:?} is not a number"),
            )))
        }
        Some(v) => v.parse::<usize>().unwrap_or(usize::MAX),
    };
    if length > body_max {
        return Err(ReadError::Reply(Response::error(
            413,
            &format!("the body has {length} bytes; at most {body_max} are taken (--max-body)"),
        )));
    }
    // A list of tokens ("close, foo"), possibly over several headers.
    let connection: Vec<String> = values("connection")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    let has = |t: &str| connection.iter().any(|c| c == t);
    // HTTP/1.0 closes unless asked to keep the connection; 1.1 keeps it
    // unless asked to close.
    let close = match req.version {
        Some(0) => !has("keep-alive"),
        _ => has("close"),
    };
    // curl and others wait a second for this before sending a large body.
    if header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
        && buf.len() < head_len + length
    {
        stream
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .map_err(|_| ReadError::Broken)?;
    }
    let request = Request {
        method: req.method.unwrap_or("").to_string(),
        path: req.path.unwrap_or("").to_string(),
        content_type: header("content-type"),
        body: Vec::new(),
        close,
    };
    buf.drain(..head_len);
    while buf.len() < length {
        if fill(stream, buf, deadline)? == 0 {
            return Err(ReadError::Broken);
        }
    }
    let rest = buf.split_off(length);
    let body = std::mem::replace(buf, rest);
    Ok(Request { body, ..request })
}

/// Read what has arrived, waiting at most until `deadline`.
fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, deadline: Instant) -> Result<usize, ReadError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
        return Err(ReadError::Broken);
    }
    let mut chunk = [0u8; 16 << 10];
    match stream.read(&mut chunk) {
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(n)
        }
        Err(_) => Err(ReadError::Broken),
    }
}

pub fn write_response(stream: &mut TcpStream, r: &Response, close: bool) -> io::Result<()> {
    let reason = match r.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        r.status,
        r.body.len()
    );
    if r.retry_after {
        head.push_str("Retry-After: 1\r\n");
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    // Head and body in one call, the body not copied (it may be large).
    let mut parts = [
        io::IoSlice::new(head.as_bytes()),
        io::IoSlice::new(r.body.as_bytes()),
    ];
    let mut parts = &mut parts[..];
    while !parts.is_empty() {
        match stream.write_vectored(parts) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut parts, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// After an answer that ends the connection before its request was read
/// whole (413, 431): stop writing, then read and drop what the client is
/// still sending for a moment, so that it reads the answer rather than a
/// reset (closing with unread bytes sends RST).
pub fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let until = Instant::now() + std::time::Duration::from_secs(2);
    let mut sink = [0u8; 64 << 10];
    let mut left: usize = 128 << 20;
    while left > 0 {
        let wait = until.saturating_duration_since(Instant::now());
        if wait.is_zero() || stream.set_read_timeout(Some(wait)).is_err() {
            return;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}
