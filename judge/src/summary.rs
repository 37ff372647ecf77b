//! The human summary `judge run` prints without `--json`: the verdict and
//! its figures, and for a failure what the program (or the responder) said
//! last on stderr, with a hint where a file was plainly left outside.

use std::path::Path;

use judge::{Report, Verdict};

/// Lines of a stderr shown under a failed verdict, and characters per line.
const TAIL_LINES: usize = 5;
const LINE_CHARS: usize = 200;

/// The summary of `r`; `files` are the run's `--file` arguments.
pub fn human(r: &Report, files: &[String]) -> String {
    let mem = r
        .memory_kib
        .map_or("?".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    let script_failure = r
        .responder
        .script
        .as_ref()
        .and_then(|o| Some((o, o.failure.as_ref()?)));
    let mut s = match script_failure {
        // The failed step on one screen, then the figures.
        Some((o, f)) => format!(
            "{}  cpu {} ms, wall {} ms, memory {}",
            f.render(r.verdict, &o.file, Some(&r.message)),
            r.cpu_time_ms,
            r.wall_time_ms,
            mem
        ),
        None => format!(
            "{}: {}\n  cpu {} ms, wall {} ms, memory {}",
            r.verdict, r.message, r.cpu_time_ms, r.wall_time_ms, mem
        ),
    };
    if let Some(code) = r.exit_code {
        s.push_str(&format!(", exit code {code}"));
    }
    match (&r.signal_name, r.program_verdict, r.responder.verdict) {
        // Killed by the judge because the responder had already decided:
        // not a crash of its own.
        (Some(sig), None, Some(_)) if sig == "SIGKILL" => {
            s.push_str(", stopped by the judge after the responder's verdict")
        }
        // Killed by the judge at a limit it watches (the kernel's OOM
        // killer, for MLE, is a signal like any other).
        (Some(sig), Some(Verdict::TLE | Verdict::ILE | Verdict::OLE), _) if sig == "SIGKILL" => {
            s.push_str(", stopped by the judge at the limit")
        }
        (Some(sig), _, _) => s.push_str(&format!(", signal {sig}")),
        (None, _, _) => {}
    }
    if let Some(v) = r.responder.verdict.filter(|_| r.responder.script.is_none()) {
        s.push_str(&format!("\n  responder: {v}"));
        if let Some(m) = &r.responder.message {
            s.push_str(&format!(" ({m})"));
        }
    }
    if r.verdict == Verdict::AC {
        return s;
    }
    let program_stderr = r.stderr.text();
    // A script's failure shows the stderr it did not read already.
    if let Some(tail) = tail(&program_stderr).filter(|_| script_failure.is_none()) {
        s.push_str(&format!("\n  the program's stderr, last lines:\n{tail}"));
    }
    if r.responder.verdict == Some(Verdict::JE) {
        if let Some(tail) = r.responder.stderr.as_deref().and_then(tail) {
            s.push_str(&format!("\n  the responder's stderr, last lines:\n{tail}"));
        }
    }
    if let Some(c) = r.checker.as_ref().filter(|c| c.verdict == Verdict::JE) {
        if let Some(tail) = c.stderr.as_deref().and_then(tail) {
            s.push_str(&format!("\n  the checker's stderr, last lines:\n{tail}"));
        }
    }
    if let Some(hint) = numbers_as_words(r) {
        s.push_str(&hint);
    }
    if let Some(name) = forgotten_file(&program_stderr, files) {
        // A file in a folder lands at /box/NAME unless its place is named.
        let flag = if name.contains('/') {
            format!("--file {name}:{name}")
        } else {
            format!("--file {name}")
        };
        s.push_str(&format!(
            "\n  hint: {name} is here but not in the sandbox: did you forget {flag}?"
        ));
    }
    s
}

/// A WA between two numbers that the default checker compared as words:
/// the answer's author most likely wanted a tolerance.
fn numbers_as_words(r: &Report) -> Option<String> {
    let c = r.checker.as_ref()?;
    let d = c.difference.as_ref()?;
    let number = |t: &str| t.parse::<f64>().is_ok_and(f64::is_finite);
    let compared_as_words = c.kind == "diff" && !c.message.contains("tolerance");
    (compared_as_words && number(&d.expected) && number(&d.got)).then(|| {
        "\n  hint: without a tolerance numbers are compared as words; \
         --checker 'diff float_tolerance 1e-6' accepts a small difference"
            .to_string()
    })
}

/// The last lines of a stream, each cut short and marked with `|`.
fn tail(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return None;
    }
    let shown: Vec<String> = lines[lines.len().saturating_sub(TAIL_LINES)..]
        .iter()
        .map(|l| {
            let mut cut: String = l.chars().take(LINE_CHARS).collect();
            if cut.len() < l.len() {
                cut.push_str("...");
            }
            format!("    | {cut}")
        })
        .collect();
    Some(shown.join("\n"))
}

/// A file the program could not open that lies in the judge's directory
/// and was not copied in: `python3: can't open file '/box/sum.py'`, `sh:
/// 0: cannot open run.sh: No such file`.
fn forgotten_file(stderr: &str, files: &[String]) -> Option<String> {
    let copied = |name: &str| {
        files.iter().any(|f| {
            let (src, dest) = f.split_once(':').unwrap_or((f.as_str(), ""));
            Path::new(src).file_name().is_some_and(|n| n == name) || dest == name
        })
    };
    for line in stderr.lines() {
        let lower = line.to_ascii_lowercase();
        if !["no such file", "can't open", "cannot open", "not found"]
            .iter()
            .any(|m| lower.contains(m))
        {
            continue;
        }
        for word in line.split(|c: char| c.is_whitespace() || "'\":,`()[]".contains(c)) {
            let name = word.strip_prefix("/box/").unwrap_or(word);
            if name.is_empty() || name.starts_with('/') || name.starts_with('-') {
                continue;
            }
            if Path::new(name).is_file() && !copied(name) {
                return Some(name.to_string());
            }
        }
    }
    None
}
