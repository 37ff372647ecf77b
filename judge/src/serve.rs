//! `judge serve`: one session after another in one process, for graders
//! that cannot link the library. A `judge run` per test pays for starting
//! the judge each time (loading a large binary, parsing flags, compiling a
//! WebAssembly responder or loading it from disk); a server pays once and
//! keeps what sessions reuse (the pinned network namespace, the pooled
//! control groups, compiled modules) at hand.
//!
//! The protocol is lines: a request is a JSON array of the arguments of
//! `judge run`, an answer is one JSON object, in request order. Sessions
//! run one at a time; run several servers for parallel sessions.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::{cli, Judged};

pub fn serve() -> ExitCode {
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("judge: reading requests: {e}");
                return ExitCode::from(2);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let judged = answer(&line);
        let reply = judged.json().unwrap_or_else(|| {
            let Judged::Usage(e) = &judged else {
                unreachable!("only a usage error has no JSON")
            };
            serde_json::json!({ "error": e, "exit_status": 2 })
        });
        let written = serde_json::to_writer(&mut out, &reply)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
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
    ExitCode::SUCCESS
}

fn answer(line: &str) -> Judged {
    let words: Vec<String> = match serde_json::from_str(line) {
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
    let judged = crate::judge(&args);
    if let Judged::Report(r) = &judged {
        for w in &r.warnings {
            eprintln!("judge: warning: {w}");
        }
    }
    judged
}
