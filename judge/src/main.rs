//! The `judge` command: flags in, a verdict out.
//!
//! Exit status: 0 for AC, 1 for any other verdict, 2 for a usage or
//! configuration error, always with one line on stderr saying why.

mod cli;
mod doctor;
mod exec_cmd;
#[cfg(feature = "http")]
mod http;
mod problem_cmd;
#[cfg(feature = "redis")]
mod scale_cmd;
mod script_cmd;
mod serve;
mod summary;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
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
            eprintln!("judge: {}", cli::first_line(&e));
            return ExitCode::from(2);
        }
    };
    match cli.command {
        cli::Command::Run(args) => run(*args),
        cli::Command::Doctor => doctor::report(),
        cli::Command::Serve(args) => serve::serve(args),
        cli::Command::Problem(args) => problem_cmd::problem(*args),
        cli::Command::Languages(args) => problem_cmd::languages(args),
        cli::Command::ProblemWorker => problem_cmd::worker(),
        cli::Command::Test(args) => script_cmd::test(*args),
        cli::Command::TestWorker => script_cmd::test_worker(),
        cli::Command::Record(args) => script_cmd::record(*args),
        cli::Command::Exec(args) => exec_cmd::exec(*args),
        #[cfg(feature = "http")]
        cli::Command::Http(args) => http::http(*args),
        #[cfg(feature = "redis")]
        cli::Command::Submit(args) => scale_cmd::submit(*args),
        #[cfg(feature = "redis")]
        cli::Command::Worker(args) => scale_cmd::worker(*args),
        #[cfg(feature = "redis")]
        cli::Command::Results(args) => scale_cmd::results(*args),
        #[cfg(feature = "redis")]
        cli::Command::Queue(args) => scale_cmd::queue(*args),
    }
}

/// What became of one `judge run`.
pub enum Judged {
    Report(Box<Report>),
    /// A usage or configuration error: exit status 2.
    Usage(String),
    /// The session could not be judged at all: JE.
    Failed(String),
}

impl Judged {
    /// Write the one line `--json` prints (`judge serve` answers with it
    /// too): a report is encoded as it is written, never held whole.
    pub fn write_json(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        match self {
            Judged::Report(r) => serde_json::to_writer(&mut out, r)?,
            Judged::Usage(e) => serde_json::to_writer(
                &mut out,
                &serde_json::json!({ "error": e, "exit_status": 2 }),
            )?,
            Judged::Failed(_) => serde_json::to_writer(&mut out, &self.json())?,
        }
        out.write_all(b"\n")?;
        out.flush()
    }

    /// A JE's JSON: what could be said without a report.
    fn json(&self) -> serde_json::Value {
        match self {
            Judged::Report(_) | Judged::Usage(_) => serde_json::Value::Null,
            Judged::Failed(e) => serde_json::json!({
                "verdict": "JE",
                "message": format!("the session could not be judged: {e}"),
                "exit_code": null, "signal": null, "signal_name": null,
                "cpu_time_ms": null, "wall_time_ms": null, "memory_kib": null,
                "stdout_bytes": null, "stderr_bytes": null, "stdin_bytes": null,
                "stdout": "", "stderr": "", "responder": null, "isolation": null,
            }),
        }
    }
}

pub fn judge(args: &cli::RunArgs) -> Judged {
    let session = match args.session() {
        Ok(s) => s,
        Err(e) => return Judged::Usage(e),
    };
    match session.run() {
        Ok(mut r) => {
            for (flag, file, bytes) in [
                ("--stdout", &args.stdout_file, r.stdout.as_bytes()),
                ("--stderr", &args.stderr_file, r.stderr.as_bytes()),
            ] {
                if let Some(f) = file {
                    // As the caller, never through a final symlink.
                    let _caller = judge::sandbox::caller::AsCaller::enter();
                    let written = std::fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                        .open(f)
                        .and_then(|mut out| out.write_all(bytes));
                    if let Err(e) = written {
                        let w = format!("{flag} {}: cannot write it: {e}", f.display());
                        r.warnings.push(w);
                    }
                }
            }
            r.limit_json_streams(usize::try_from(args.json_output_limit).unwrap_or(usize::MAX));
            Judged::Report(Box::new(r))
        }
        Err(e @ (Error::Usage(_) | Error::Isolation(_))) => Judged::Usage(e.to_string()),
        Err(e) => Judged::Failed(e.to_string()),
    }
}

fn run(args: cli::RunArgs) -> ExitCode {
    let judged = judge(&args);
    // Not with a usage error, which is one line.
    if !matches!(judged, Judged::Usage(_)) {
        for w in args.warnings() {
            eprintln!("judge: warning: {w}");
        }
    }
    let report = match &judged {
        Judged::Report(r) => r,
        Judged::Usage(e) => {
            eprintln!("judge: {e}");
            return ExitCode::from(2);
        }
        Judged::Failed(e) => {
            // Could not judge at all: a judge error, reported as such, and
            // still as one JSON object for callers that parse stdout.
            eprintln!("judge: JE: {e}");
            if args.json {
                let _ = judged.write_json(&mut std::io::stdout().lock());
            }
            return ExitCode::from(1);
        }
    };
    if args.json {
        let _ = judged.write_json(&mut std::io::stdout().lock());
    } else {
        eprintln!("{}", summary::human(report, &args.file));
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
