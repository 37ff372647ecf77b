//! `judge http`: codejail-service's API (`POST /api/v0/code-exec`), our
//! own `POST /v1/run` (a `judge serve` request over HTTP, when allowed)
//! and `GET /health`, for callers on other machines or in other languages.
//! Built only with the `http` feature: `judge run` pays nothing for it.
//!
//! - `wire`: HTTP/1.1 requests and responses on a socket;
//! - `form`: the code-exec form, urlencoded or multipart;
//! - `code_exec`: the payload checked as codejail-service checks it;
//! - `pool`: the bounded sessions, in `judge serve` workers.

mod code_exec;
mod form;
mod pool;
mod wire;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use pool::{Outcome, Pool};
use wire::{ReadError, Request, Response};

#[derive(Debug, Args)]
pub struct HttpArgs {
    /// The address to listen on (Open edX's default CODE_JAIL_REST_SERVICE_HOST
    /// is http://127.0.0.1:8550). Anything but loopback exposes an API
    /// without authentication: keep it inside the caller's network.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8550")]
    pub listen: SocketAddr,

    /// Sessions run at once [default: the number of CPUs].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub slots: Option<u32>,

    /// Requests that may wait for a session; past them the answer is 503.
    #[arg(long, value_name = "N", default_value_t = 128)]
    pub queue: usize,

    /// The largest request body taken, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_body: usize,

    /// A jails.yaml laid over the built-in jails and
    /// ~/.config/judge/jails.yaml (code-exec runs in the jail `python`).
    #[arg(long, value_name = "FILE")]
    pub jails: Option<PathBuf>,

    /// Serve POST /v1/run: the arguments of `judge run`, which read and
    /// write host files as this server's user. Off unless asked.
    #[arg(long)]
    pub allow_run: bool,
}

/// How long a connection may take to send a whole request, waiting for it
/// included: a client that trickles bytes is cut off here.
const IDLE: Duration = Duration::from_secs(30);

struct Server {
    pool: Pool,
    max_body: usize,
    allow_run: bool,
    connections: AtomicUsize,
    max_connections: usize,
}

pub fn http(args: HttpArgs) -> ExitCode {
    if let Some(j) = &args.jails {
        if let Err(e) = judge::codejail::Jails::load(Some(j)) {
            eprintln!("judge: {e}");
            return ExitCode::from(2);
        }
    }
    let program = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("judge: where is this judge? {e}");
            return ExitCode::from(1);
        }
    };
    let listener = match TcpListener::bind(args.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("judge: --listen {}: {e}", args.listen);
            return ExitCode::from(2);
        }
    };
    let bound = listener.local_addr().unwrap_or(args.listen);
    if !bound.ip().is_loopback() {
        eprintln!(
            "judge: warning: listening on {bound}, beyond this machine: the API has no \
             authentication (nor has codejail-service's); keep it inside the caller's network"
        );
    }
    let slots = args.slots.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n as usize,
    );
    let server = Arc::new(Server {
        pool: Pool::new(slots, args.queue, program, args.jails.clone()),
        max_body: args.max_body,
        allow_run: args.allow_run,
        connections: AtomicUsize::new(0),
        max_connections: slots + args.queue + 64,
    });
    // The line a supervisor (or a test, with port 0) waits for.
    eprintln!(
        "judge http: listening on http://{bound} ({slots} sessions at once, {} waiting)",
        args.queue
    );
    for stream in listener.incoming() {
        let mut stream = match stream {
            Ok(s) => s,
            // Out of descriptors, say: the pending connection stays in the
            // backlog, so retrying at once would spin.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let open = server.connections.fetch_add(1, Ordering::SeqCst);
        if open >= server.max_connections {
            server.connections.fetch_sub(1, Ordering::SeqCst);
            refuse(
                &mut stream,
                &format!("{open} connections open, the most this server takes"),
            );
            continue;
        }
        // Kept to answer on if no thread can be had for the connection.
        let spare = stream.try_clone();
        let shared = server.clone();
        let spawned = std::thread::Builder::new().spawn(move || {
            connection(&shared, stream);
            shared.connections.fetch_sub(1, Ordering::SeqCst);
        });
        if let Err(e) = spawned {
            server.connections.fetch_sub(1, Ordering::SeqCst);
            if let Ok(mut spare) = spare {
                refuse(&mut spare, &format!("no thread for the connection: {e}"));
            }
        }
    }
    ExitCode::SUCCESS
}

/// Requests on one connection, one after another (keep-alive).
fn connection(server: &Server, mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(IDLE));
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        let deadline = Instant::now() + IDLE;
        let request = match wire::read_request(&mut stream, &mut buf, server.max_body, deadline) {
            Ok(r) => r,
            Err(ReadError::Reply(r)) => {
                if wire::write_response(&mut stream, &r, true).is_ok() {
                    wire::linger(&mut stream);
                }
                return;
            }
            Err(ReadError::Closed | ReadError::Broken) => return,
        };
        let Some(response) = route(server, &request, &stream) else {
            // The client left: nobody to answer.
            return;
        };
        if wire::write_response(&mut stream, &response, request.close).is_err() || request.close {
            return;
        }
    }
}

/// The answer to a request; None when its client went away first.
fn route(server: &Server, r: &Request, stream: &TcpStream) -> Option<Response> {
    let path = r.path.split('?').next().unwrap_or("");
    let allowed = match path {
        "/health" => "GET",
        "/api/v0/code-exec" | "/v1/run" => "POST",
        _ => return Some(Response::error(404, &format!("no endpoint {path}"))),
    };
    if r.method != allowed {
        return Some(Response::error(405, &format!("{path} takes {allowed}")));
    }
    match path {
        "/health" => {
            let (running, waiting) = server.pool.load();
            Some(Response::json(
                200,
                json!({
                    "status": "ok", "running": running, "waiting": waiting,
                    "slots": server.pool.slots, "queue": server.pool.queue,
                })
                .to_string(),
            ))
        }
        "/api/v0/code-exec" => {
            let form = match form::parse(r.content_type.as_deref(), &r.body) {
                Ok(f) => f,
                Err((status, e)) => return Some(Response::error(status, &e)),
            };
            match code_exec::request(&form) {
                // The request is ours: a worker's refusal is our fault.
                Ok(line) => run(server, &line, stream, 500),
                Err(response) => Some(response),
            }
        }
        _ if !server.allow_run => Some(Response::error(
            404,
            "POST /v1/run is off: start judge http with --allow-run to serve it",
        )),
        _ => match serde_json::from_slice::<Vec<String>>(&r.body) {
            Ok(words) => run(
                server,
                &serde_json::to_string(&words).unwrap_or_default(),
                stream,
                400,
            ),
            Err(e) => Some(Response::error(
                400,
                &format!("a request is a JSON array of the arguments of `judge run`: {e}"),
            )),
        },
    }
}

/// Run a worker request; a request the worker refuses is answered
/// `refused` (400 when the client wrote it, 500 when we did).
fn run(server: &Server, line: &str, stream: &TcpStream, refused: u16) -> Option<Response> {
    if line.len() > crate::serve::REQUEST_MAX {
        return Some(Response::error(
            413,
            &format!(
                "the request, encoded for a worker, is over {} bytes",
                crate::serve::REQUEST_MAX
            ),
        ));
    }
    match server.pool.run(line, stream) {
        Outcome::Answer(a) => Some(answer(a, refused)),
        Outcome::Busy => Some(busy(server)),
        Outcome::ClientGone => None,
        Outcome::Failed(e) => Some(Response::error(500, &e)),
    }
}

/// A worker's answer as a response: its errors, objects with an "error"
/// (a refusal carries "exit_status": 2), are `refused` or 500; anything
/// else is the answer itself, passed through as written (the globals may
/// hold NaN, which a re-encoding would lose, and which no error holds).
fn answer(a: String, refused: u16) -> Response {
    let error = serde_json::from_str::<serde_json::Value>(&a)
        .ok()
        .filter(|v| v.get("error").is_some());
    let Some(v) = error else {
        return Response::json(200, a);
    };
    let status = if v["exit_status"] == 2 { refused } else { 500 };
    Response::error(status, v["error"].as_str().unwrap_or("the judge failed"))
}

/// 503 with Retry-After: the server is full, by one measure or another.
fn unavailable(why: &str) -> Response {
    Response {
        retry_after: true,
        ..Response::error(503, &format!("busy: {why}; try again shortly"))
    }
}

fn busy(server: &Server) -> Response {
    let (running, waiting) = server.pool.load();
    unavailable(&format!(
        "{running} sessions running (of {} at once) and {waiting} waiting (of {})",
        server.pool.slots, server.pool.queue
    ))
}

/// Answer 503 from the accepting thread, which must not wait on a client.
fn refuse(stream: &mut TcpStream, why: &str) {
    let _ = stream.set_nonblocking(true);
    let _ = wire::write_response(stream, &unavailable(why), true);
}
