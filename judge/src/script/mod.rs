//! Conversation scripts: wait for a prompt, send a line, expect an answer,
//! as expect and pexpect do, but as a [`Responder`](crate::Responder) inside
//! the sandbox, with every limit and verdict of a session.
//!
//! - [`parse`]: the line format and its JSON form, into one [`Script`];
//! - [`matcher`]: a stream's unread output, searched without holding more
//!   than a window of it;
//! - [`responder`]: the script as a responder: one step at a time;
//! - [`failure`]: what a failed step says, for people and as JSON;
//! - [`suite`]: `judge test`, many scripts in parallel;
//! - [`record`]: `judge record`, a script written from a live session.
//!
//! docs/conversations.md describes the format.

pub mod failure;
pub mod matcher;
pub mod parse;

pub mod record;
pub mod responder;
pub mod suite;

use std::path::PathBuf;
use std::time::Duration;

use crate::responder::Stream;

pub use failure::StepFailure;
pub use parse::{parse_file, parse_str, ParseError};
pub use responder::ScriptResponder;

/// How long an `expect` waits unless `timeout` or `within` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// A parsed script: what to run (for `judge test`) and the steps.
#[derive(Debug, Clone)]
pub struct Script {
    /// Where it was read from, for messages.
    pub path: PathBuf,
    pub header: Header,
    pub steps: Vec<Step>,
}

/// The steps that describe the session rather than the conversation. Only
/// `judge test` reads them; each may come only before the first step.
#[derive(Debug, Clone, Default)]
pub struct Header {
    /// `run CMD ARGS`: the program, relative to the script's folder, and
    /// the line it is on.
    pub run: Option<(Vec<String>, u32)>,
    /// `limits KEY=VALUE ...`, in `judge run`'s units.
    pub limits: Vec<(String, String)>,
    /// `pty [COLSxROWS]`.
    pub pty: Option<(u16, u16)>,
    /// `file PATH [DEST]`: copied into the work directory, at DEST or
    /// under its own name, as `--file` does; with its line.
    pub files: Vec<(PathBuf, Option<String>, u32)>,
}

/// One step, with where it was written.
#[derive(Debug, Clone)]
pub struct Step {
    pub line: u32,
    /// The step as written (its line without the comment, or the JSON
    /// object), for messages.
    pub source: String,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// Wait until the pattern appears in the stream's unread output.
    Expect {
        stream: Stream,
        pattern: Pattern,
        within: Duration,
    },
    /// Wait until the stream ends.
    ExpectEof { stream: Stream, within: Duration },
    /// Wait until the program exits with this code (`None`: any code).
    ExpectExit { code: Option<i32>, within: Duration },
    /// Wait until a signal kills the program.
    ExpectSignal { signal: i32, within: Duration },
    /// Write the text, plus a newline unless `raw`.
    Send { text: Text, raw: bool },
    /// Close the program's stdin (on a terminal: end of file).
    Close,
}

impl Script {
    /// Whether any step reads the program's stderr.
    pub fn reads_stderr(&self) -> bool {
        self.steps.iter().any(|s| {
            matches!(
                s.action,
                Action::Expect {
                    stream: Stream::Stderr,
                    ..
                } | Action::ExpectEof {
                    stream: Stream::Stderr,
                    ..
                }
            )
        })
    }
}

impl Action {
    /// The time the step may wait, if it waits at all.
    pub fn within(&self) -> Option<Duration> {
        match self {
            Action::Expect { within, .. }
            | Action::ExpectEof { within, .. }
            | Action::ExpectExit { within, .. }
            | Action::ExpectSignal { within, .. } => Some(*within),
            Action::Send { .. } | Action::Close => None,
        }
    }
}

/// What an `expect` looks for.
#[derive(Debug, Clone)]
pub enum Pattern {
    Literal(Text),
    Regex(RegexSource),
}

/// Text with `${name}` captures in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text(pub Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Bytes(Vec<u8>),
    Capture(String),
}

/// The captures so far, in the order they were first taken.
#[derive(Debug, Clone, Default)]
pub struct Captures(pub Vec<(String, Vec<u8>)>);

impl Captures {
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    pub fn set(&mut self, name: &str, value: Vec<u8>) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.0.push((name.to_string(), value)),
        }
    }
}

impl Text {
    pub fn literal(bytes: &[u8]) -> Text {
        Text(vec![Piece::Bytes(bytes.to_vec())])
    }

    /// The bytes, captures filled in (the parser made sure each is taken
    /// by an earlier step; one that matched nothing is empty).
    pub fn render(&self, captures: &Captures) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.0 {
            match p {
                Piece::Bytes(b) => out.extend_from_slice(b),
                Piece::Capture(name) => out.extend_from_slice(captures.get(name).unwrap_or(&[])),
            }
        }
        out
    }

    pub fn captures_used(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Piece::Capture(n) => Some(n.as_str()),
            Piece::Bytes(_) => None,
        })
    }
}

/// A regular expression as written, `${name}` captures in it standing for
/// their values, matched literally.
#[derive(Debug, Clone)]
pub struct RegexSource {
    /// Source text and captures.
    pub pieces: Vec<Piece>,
    /// Compiled at parse time when it uses no capture.
    pub compiled: Option<regex::bytes::Regex>,
    /// Its named groups: the captures it takes.
    pub names: Vec<String>,
}

impl RegexSource {
    /// The expression with the captures' values in place.
    pub fn compile(&self, captures: &Captures) -> Result<regex::bytes::Regex, regex::Error> {
        if let Some(r) = &self.compiled {
            return Ok(r.clone());
        }
        let mut src = String::new();
        for p in &self.pieces {
            match p {
                Piece::Bytes(b) => src.push_str(&String::from_utf8_lossy(b)),
                // A group: `${x}{2}` repeats all of the value, and an empty
                // value leaves no dangling quantifier.
                Piece::Capture(name) => {
                    src.push_str("(?:");
                    src.push_str(&escape_bytes(captures.get(name).unwrap_or(&[])));
                    src.push(')');
                }
            }
        }
        regex::bytes::Regex::new(&src)
    }
}

/// Bytes as a regular expression that matches exactly them, whether or
/// not they are UTF-8.
fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(&regex::escape(chunk.valid()));
        for b in chunk.invalid() {
            out.push_str(&format!("(?-u:\\x{b:02X})"));
        }
    }
    out
}

/// A signal by name (`SEGV`, `SIGSEGV`) or number.
pub fn signal_number(name: &str) -> Option<i32> {
    if let Ok(n) = name.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    (1..32).find(|&s| crate::precedence::signal_name(s) == full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(signal_number("SEGV"), Some(libc::SIGSEGV));
        assert_eq!(signal_number("sigkill"), Some(libc::SIGKILL));
        assert_eq!(signal_number("15"), Some(15));
        assert_eq!(signal_number("NOPE"), None);
        assert_eq!(signal_number("0"), None);
    }

    #[test]
    fn a_capture_is_one_group_in_an_expression() {
        let src = |pieces| RegexSource {
            pieces,
            compiled: None,
            names: vec![],
        };
        let mut c = Captures::default();
        c.set("n", b"ab".to_vec());
        let twice = src(vec![
            Piece::Bytes(b"^".to_vec()),
            Piece::Capture("n".into()),
            Piece::Bytes(b"{2}$".to_vec()),
        ]);
        assert!(twice.compile(&c).unwrap().is_match(b"abab"));
        assert!(!twice.compile(&c).unwrap().is_match(b"abb"));
        c.set("n", Vec::new());
        assert!(twice.compile(&c).unwrap().is_match(b""));
    }

    #[test]
    fn captures_are_matched_literally_even_when_not_utf8() {
        let mut c = Captures::default();
        c.set("x", b"a.b\xff".to_vec());
        let r = RegexSource {
            pieces: vec![Piece::Bytes(b"^".to_vec()), Piece::Capture("x".into())],
            compiled: None,
            names: vec![],
        }
        .compile(&c)
        .unwrap();
        assert!(r.is_match(b"a.b\xff"));
        assert!(!r.is_match(b"axb\xff"));
    }
}
