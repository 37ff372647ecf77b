//! `judge serve`: one session after another in one process, for graders
//! that cannot link the library. A `judge run` per test pays for starting
//! the judge each time (loading a large binary, parsing flags, compiling a
//! WebAssembly responder or loading it from disk); a server pays once and
//! keeps what sessions reuse (the pinned network namespace, the pooled
//! control groups, compiled modules) at hand.
//!
//! The protocol is lines: a request is a JSON array of the arguments of
//! `judge run`, or a JSON object asking for CodeJail's `jail_code` or
//! `safe_exec` (see `judge::codejail::requests`); an answer is one JSON
//! object, in request order. Sessions run one at a time; run several
//! servers for parallel sessions.

use std::io::{BufRead, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use crate::{cli, Judged};

/// The longest request line: anything longer is answered with an error
/// and skipped, never held whole. Room for `judge http`'s largest body
/// (64 MiB by default) once base64 has made it a third larger.
pub const REQUEST_MAX: usize = 128 << 20;

pub fn serve(args: cli::ServeArgs) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let mut input = std::io::stdin().lock();
    let mut line = Vec::new();
    // Read at the first jail request: a server for `judge run` requests
    // never depends on a jails file.
    let mut jails = None;
    loop {
        let request = next_line(&mut input, &mut line);
        if matches!(request, Ok(Line::Request)) && line.trim_ascii_start().starts_with(b"{") {
            let jails = jails.get_or_insert_with(|| {
                judge::codejail::Jails::load(args.jails.as_deref()).map_err(|e| e.to_string())
            });
            // Held back from the request's first step (its temporary
            // folder) to its answer: a stop signal then ends the run
            // cleanly (its session reads it) or, once answered, the server.
            let held = StopSignalsHeld::new();
            let answer = judge::codejail::requests::answer(jails, &line);
            if let Err(e) = writeln!(out, "{}", answer.line).and_then(|()| out.flush()) {
                eprintln!("judge: writing an answer: {e}");
                return ExitCode::from(1);
            }
            // As for a session: told to stop, the server stops too.
            if answer.interrupted {
                return ExitCode::from(1);
            }
            // A stop signal that came after the run is delivered here.
            drop(held);
            continue;
        }
        let judged = match request {
            Ok(Line::End) => return ExitCode::SUCCESS,
            // Answered too: a grader that counts lines stays in step.
            Ok(Line::Blank) => Judged::Usage(
                "an empty request: each line is a JSON array of the arguments of judge run".into(),
            ),
            Ok(Line::TooLong) => Judged::Usage(format!(
                "a request may have at most {REQUEST_MAX} bytes; this one was skipped"
            )),
            Ok(Line::Request) => answer(&line),
            Err(e) => {
                eprintln!("judge: reading requests: {e}");
                return ExitCode::from(2);
            }
        };
        let written = judged.write_json(&mut out);
        if let Err(e) = written {
            // The grader went away: nobody is left to answer.
            eprintln!("judge: writing an answer: {e}");
            return ExitCode::from(1);
        }
        // Told to stop while judging: the session was stopped and
        // answered (JE); the server stops too.
        if matches!(&judged, Judged::Report(r) if r.interrupted()) {
            return ExitCode::from(1);
        }
    }
}

enum Line {
    Request,
    Blank,
    TooLong,
    End,
}

/// The next line into `line`, without its newline; a line over
/// [`REQUEST_MAX`] is read to its end and dropped.
fn next_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<Line> {
    line.clear();
    let n = input
        .by_ref()
        .take(REQUEST_MAX as u64 + 1)
        .read_until(b'\n', line)?;
    if n == 0 {
        return Ok(Line::End);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() > REQUEST_MAX {
        line.clear();
        loop {
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    input.consume(i + 1);
                    break;
                }
                None => {
                    let all = buf.len();
                    input.consume(all);
                }
            }
        }
        return Ok(Line::TooLong);
    }
    Ok(if line.iter().all(u8::is_ascii_whitespace) {
        Line::Blank
    } else {
        Line::Request
    })
}

fn answer(line: &[u8]) -> Judged {
    let words: Vec<String> = match serde_json::from_slice(line) {
        Ok(w) => w,
        Err(e) => {
            return Judged::Usage(format!(
                "a request is a JSON array of the arguments of `judge run`: {e}"
            ))
        }
    };
    let argv = ["judge", "run"].into_iter().map(String::from).chain(words);
    let mut args = match cli::Cli::try_parse_from(argv) {
        Ok(cli::Cli {
            command: cli::Command::Run(args),
        }) => args,
        Ok(_) => unreachable!("the request is parsed as `judge run`"),
        Err(e) => return Judged::Usage(cli::first_line(&e)),
    };
    // The answer is the JSON: the program's stdout must not go to ours,
    // which carries the answers.
    args.json = true;
    if let Some(e) = own_stdio_named(&args) {
        return Judged::Usage(e);
    }
    let judged = crate::judge(&args);
    if let Judged::Report(r) = &judged {
        for w in &r.warnings {
            eprintln!("judge: warning: {w}");
        }
    }
    judged
}

/// A file of the request that is the server's own stdin or stdout
/// (`/dev/stdin`, `/proc/PID/fd/1`, ...): reading the one would take the
/// grader's next requests, writing the other would break the answers.
fn own_stdio_named(args: &cli::RunArgs) -> Option<String> {
    let id = |m: std::fs::Metadata| (m.dev(), m.ino());
    // /dev/null as our stdout (a grader that reads only files) is harmless
    // to share.
    let null = libc::makedev(1, 3);
    let own: Vec<_> = ["/proc/self/fd/0", "/proc/self/fd/1"]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .filter(|m| m.rdev() != null)
        .map(id)
        .collect();
    let files = [
        ("--stdin", args.stdin.as_deref()),
        ("--input", args.input.as_deref()),
        ("--answer", args.answer.as_deref()),
        ("--transcript", args.transcript.as_deref()),
        ("--stdout", args.stdout_file.as_deref()),
        ("--stderr", args.stderr_file.as_deref()),
    ];
    let copied = args.file.iter().map(|f| {
        (
            "--file",
            Some(Path::new(f.split_once(':').map_or(f.as_str(), |(s, _)| s))),
        )
    });
    files.into_iter().chain(copied).find_map(|(flag, path)| {
        let path = path?;
        let m = std::fs::metadata(path).ok()?;
        own.contains(&id(m)).then(|| {
            format!(
                "{flag} {}: is the server's own stdin or stdout, which carry the requests and answers",
                path.display()
            )
        })
    })
}

/// SIGINT, SIGTERM and SIGHUP blocked in this thread while alive: one that
/// arrives meanwhile waits, for a session's signal descriptor to read or
/// for the drop, which delivers it.
struct StopSignalsHeld {
    old: libc::sigset_t,
}

impl StopSignalsHeld {
    fn new() -> StopSignalsHeld {
        // SAFETY: sigset manipulation on local plain data.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::sigaddset(&mut set, s);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            StopSignalsHeld { old }
        }
    }
}

impl Drop for StopSignalsHeld {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut()) };
    }
}
