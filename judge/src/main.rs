//! The `judge` command: flags in, a verdict out.
//!
//! Exit status: 0 for AC, 1 for any other verdict, 2 for a usage or
//! configuration error, always with one line on stderr saying why.

mod cli;
mod doctor;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use judge::{Error, Report, Verdict};

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind::*;
            if matches!(e.kind(), DisplayHelp | DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if e.kind() == DisplayHelpOnMissingArgumentOrSubcommand {
                // Asked for nothing: the help, on stderr, as a usage error.
                eprint!("{}", e.render());
                return ExitCode::from(2);
            }
            // One line: clap's first, without the usage block after it.
            let text = e.render().to_string();
            let line = text.lines().next().unwrap_or("error: invalid arguments");
            eprintln!("judge: {}", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    match cli.command {
        cli::Command::Run(args) => run(*args),
        cli::Command::Doctor => doctor::report(),
    }
}

fn run(args: cli::RunArgs) -> ExitCode {
    let session = match args.session() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("judge: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match session.run() {
        Ok(r) => r,
        Err(e @ (Error::Usage(_) | Error::Isolation(_))) => {
            eprintln!("judge: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            // Could not judge at all: a judge error, reported as such, and
            // still as one JSON object for callers that parse stdout.
            eprintln!("judge: JE: {e}");
            if args.json {
                let v = serde_json::json!({
                    "verdict": "JE",
                    "message": format!("the session could not be judged: {e}"),
                    "exit_code": null, "signal": null, "signal_name": null,
                    "cpu_time_ms": null, "wall_time_ms": null, "memory_kib": null,
                    "stdout_bytes": null, "stderr_bytes": null, "stdin_bytes": null,
                    "stdout": "", "stderr": "", "responder": null, "isolation": null,
                });
                println!("{v}");
            }
            return ExitCode::from(1);
        }
    };
    if args.json {
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer(&mut out, &report);
        let _ = out.write_all(b"\n");
    } else {
        eprintln!("{}", summary(&report));
    }
    for w in &report.warnings {
        eprintln!("judge: warning: {w}");
    }
    if report.verdict == Verdict::AC {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn summary(r: &Report) -> String {
    let mem = r
        .memory_kib
        .map_or("?".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    let mut s = format!(
        "{}: {}\n  cpu {} ms, wall {} ms, memory {}",
        r.verdict, r.message, r.cpu_time_ms, r.wall_time_ms, mem
    );
    if let Some(code) = r.exit_code {
        s.push_str(&format!(", exit code {code}"));
    }
    if let Some(sig) = &r.signal_name {
        s.push_str(&format!(", signal {sig}"));
    }
    if let Some(v) = r.responder.verdict {
        s.push_str(&format!("\n  responder: {v}"));
        if let Some(m) = &r.responder.message {
            s.push_str(&format!(" ({m})"));
        }
    }
    s
}
