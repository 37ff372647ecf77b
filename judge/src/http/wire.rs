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
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    if header("transfer-encoding").is_some() {
        return Err(ReadError::Reply(Response::error(
            411,
            "send the body with a Content-Length, not chunked",
        )));
    }
    let length = match header("content-length") {
        None => 0,
        Some(v) => v.parse::<usize>().map_err(|_| {
            ReadError::Reply(Response::error(
                400,
                &format!("Content-Length {v:?} is not a number"),
            ))
        })?,
    };
    if length > body_max {
        return Err(ReadError::Reply(Response::error(
            413,
            &format!("the body has {length} bytes; at most {body_max} are taken (--max-body)"),
        )));
    }
    let connection = header("connection").map(|c| c.to_ascii_lowercase());
    // HTTP/1.0 closes unless asked to keep the connection; 1.1 keeps it
    // unless asked to close.
    let close = match req.version {
        Some(0) => connection.as_deref() != Some("keep-alive"),
        _ => connection.as_deref() == Some("close"),
    };
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
    // One write for small answers: no delayed-ACK stall between head and body.
    let mut all = head.into_bytes();
    all.extend_from_slice(r.body.as_bytes());
    stream.write_all(&all)
}
