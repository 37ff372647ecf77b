//! What a script's run says about itself: how far it got and, when a step
//! failed, a message that reads like a good test failure: the step as
//! written and where, why it ended, only the output received since the
//! last step that passed, and the captures so far.

use serde::{Deserialize, Serialize};

use super::matcher::{visible, Shown};
use crate::responder::Stream;
use crate::verdict::Verdict;

/// A script's part of the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScriptOutcome {
    pub file: String,
    pub steps_total: usize,
    pub steps_passed: usize,
    /// The step that failed, or the one still waiting when the session
    /// ended for another reason (a limit).
    pub failure: Option<StepFailure>,
}

/// Why it ended, as a word for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The step's time passed.
    Timeout,
    /// The program ended (or closed the stream) without giving it.
    ProgramEnded,
    /// The program is blocked reading its stdin with nothing more to say.
    WaitingForInput,
    /// The program ended, but not as the step expected.
    WrongExit,
    /// The session ended for another reason (a limit) while it waited.
    SessionEnded,
    /// The step cannot be evaluated: its expression, with the captures
    /// taken from the program's output, does not compile.
    Unusable,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepFailure {
    pub line: u32,
    /// The step as written.
    pub step: String,
    /// What it waited for, in words.
    pub expected: String,
    pub reason: Reason,
    /// Why it ended, in words.
    pub message: String,
    /// Wall and CPU time the step waited.
    pub waited_ms: u64,
    pub cpu_ms: Option<u64>,
    /// Output, made visible and cut to its ends: on the step's stream,
    /// its unread output (what the step searched); on the other, what
    /// arrived since the last step passed.
    pub received: Received,
    /// Captures so far: name and value (made visible).
    pub captures: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Received {
    pub stdout: String,
    pub stdout_bytes: u64,
    pub stderr: String,
    pub stderr_bytes: u64,
    /// The stream the step read (stdout for exit steps).
    pub stream: Stream,
}

impl Received {
    pub fn new(stdout: &Shown, stderr: &Shown, stream: Stream) -> Received {
        Received {
            stdout: stdout.visible(),
            stdout_bytes: stdout.total,
            stderr: stderr.visible(),
            stderr_bytes: stderr.total,
            stream,
        }
    }
}

impl StepFailure {
    /// The one-line form, for a verdict's message.
    pub fn summary(&self, file: &str) -> String {
        format!("{file}:{}: {}: {}", self.line, self.step, self.message)
    }

    /// The failure on one screen, under a verdict line:
    ///
    /// ```text
    /// WA  tests/calc.conv:7: expect "= 5" within 300ms
    ///     timed out after 300 ms (2 ms of CPU) waiting for "= 5" on stdout
    ///     unread stdout (6 bytes): "= 4\n> "
    ///     captures: sum = "3"
    /// ```
    pub fn render(&self, verdict: Verdict, file: &str, session_message: Option<&str>) -> String {
        let mut s = format!(
            "{:<3} {file}:{}: {}\n",
            verdict.to_string(),
            self.line,
            self.step
        );
        let pad = "    ";
        match session_message {
            Some(m) if self.reason == Reason::SessionEnded => s.push_str(&format!("{pad}{m}\n")),
            _ => s.push_str(&format!("{pad}{}\n", self.message)),
        }
        let r = &self.received;
        // The step's stream: all it searched; the other: what came since
        // the last step passed.
        let searched = |name: &str, text: &str, bytes: u64| match bytes {
            0 => format!("{pad}unread {name}: nothing\n"),
            _ => format!("{pad}unread {name} ({bytes} bytes): \"{text}\"\n"),
        };
        let other = |name: &str, text: &str, bytes: u64| {
            format!("{pad}{name} since the last step that passed ({bytes} bytes): \"{text}\"\n")
        };
        let (first, second) = match r.stream {
            Stream::Stdout => (
                ("stdout", &r.stdout, r.stdout_bytes),
                ("stderr", &r.stderr, r.stderr_bytes),
            ),
            Stream::Stderr => (
                ("stderr", &r.stderr, r.stderr_bytes),
                ("stdout", &r.stdout, r.stdout_bytes),
            ),
        };
        s.push_str(&searched(first.0, first.1, first.2));
        if second.2 > 0 {
            s.push_str(&other(second.0, second.1, second.2));
        }
        if !self.captures.is_empty() {
            let list: Vec<String> = self
                .captures
                .iter()
                .map(|(n, v)| format!("{n} = \"{v}\""))
                .collect();
            s.push_str(&format!("{pad}captures: {}\n", list.join(", ")));
        }
        s
    }
}

/// A step as written, for a message: control characters made visible, at
/// most 300 characters.
pub fn shown_step(source: &str) -> String {
    let mut out = String::new();
    for (i, c) in source.chars().enumerate() {
        if i == 300 {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Captures made visible for a message.
pub fn shown_captures(c: &super::Captures) -> Vec<(String, String)> {
    const MAX: usize = 200;
    c.0.iter()
        .map(|(n, v)| {
            let mut shown = visible(&v[..v.len().min(MAX)]);
            if v.len() > MAX {
                shown.push_str(&format!("[... {} bytes]", v.len()));
            }
            (n.clone(), shown)
        })
        .collect()
}
