//! `judge record`: the user's terminal wired to the program, and what
//! happened written down as a script that replays as a regression test.
//!
//! Each line the user types becomes a `send`; the output before it becomes
//! an `expect` of its last line (the prompt), not a copy of every chunk,
//! which would break on the first change of timing; the program's exit
//! becomes the exit step. A typed line goes to the program once it waits
//! for input (or has been quiet a moment), so lines typed ahead, or piped
//! in, land where a person would have typed them.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Write;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use super::matcher::visible;
use crate::precedence::signal_name;
use crate::responder::{Finished, Io, ProgramExit, Responder, ResponderReport, Result, Stream};

/// Output since the last line sent that is kept to find its last line.
const TAIL: usize = 4096;
/// A line typed ahead goes to a program that is neither waiting for input
/// nor writing after this long.
const QUIET_NS: u64 = 300_000_000;

/// The steps recorded so far, shared with whoever writes them out.
#[derive(Debug, Default)]
pub struct Recording {
    pub steps: Vec<String>,
}

pub struct Recorder {
    out: Rc<RefCell<Recording>>,
    /// Where the user's lines come from (the judge's stdin).
    input: RawFd,
    token: Option<Token>,
    input_open: bool,
    lines: VecDeque<Vec<u8>>,
    partial: Vec<u8>,
    /// The user's input ended: close the program's stdin once the lines
    /// before it are sent.
    close_pending: bool,
    since_out: Vec<u8>,
    since_err: Vec<u8>,
    /// The program is blocked reading its stdin, with nothing said since.
    program_waiting: bool,
    last_activity_ns: u64,
    sending: Vec<u8>,
    sent: usize,
    exit: Option<ProgramExit>,
}

impl Recorder {
    /// Read the user's lines from `input`; the steps go to `out`.
    pub fn new(input: RawFd, out: Rc<RefCell<Recording>>) -> Recorder {
        Recorder {
            out,
            input,
            token: None,
            input_open: true,
            lines: VecDeque::new(),
            partial: Vec::new(),
            close_pending: false,
            since_out: Vec::new(),
            since_err: Vec::new(),
            program_waiting: false,
            last_activity_ns: 0,
            sending: Vec::new(),
            sent: 0,
            exit: None,
        }
    }

    fn step(&self, s: String) {
        self.out.borrow_mut().steps.push(s);
    }

    /// Expectations for the output since the last line sent: the last line
    /// of each stream that said anything.
    fn expect_output(&mut self) {
        for (stream, buf) in [("", &mut self.since_out), ("stderr ", &mut self.since_err)] {
            if let Some(last) = last_line(buf) {
                self.out
                    .borrow_mut()
                    .steps
                    .push(format!("expect {stream}\"{}\"", quote(last)));
            }
            buf.clear();
        }
    }

    /// Read what the user typed, without ever blocking: only while poll
    /// says there is something (the descriptor may be blocking, and is
    /// not ours to change).
    fn read_input(&mut self) {
        let mut buf = vec![0u8; 1 << 16];
        while self.input_open && readable(self.input) {
            // SAFETY: reading into a buffer we own.
            let n = unsafe { libc::read(self.input, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                self.end_of_input();
                break;
            }
            if n == 0 {
                self.end_of_input();
                break;
            }
            self.partial.extend_from_slice(&buf[..n as usize]);
            while let Some(at) = self.partial.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.partial.drain(..=at).collect();
                self.lines.push_back(line);
            }
        }
    }

    fn end_of_input(&mut self) {
        self.input_open = false;
        if !self.partial.is_empty() {
            self.lines.push_back(std::mem::take(&mut self.partial));
        }
        self.close_pending = true;
    }

    /// Send what the program is ready for.
    fn pump(&mut self, io: &mut Io<'_>, now: u64) {
        if self.sent < self.sending.len() {
            self.sent += io.send(&self.sending[self.sent..]);
            if self.sent < self.sending.len() {
                return;
            }
        }
        let ready = self.program_waiting || now >= self.last_activity_ns + QUIET_NS;
        if !ready || self.exit.is_some() {
            return;
        }
        if let Some(line) = self.lines.pop_front() {
            self.expect_output();
            match line.strip_suffix(b"\n") {
                Some(text) => self.step(format!("send \"{}\"", quote(text))),
                None => self.step(format!("send-raw \"{}\"", quote(&line))),
            }
            self.sending = line;
            self.sent = io.send(&self.sending);
            self.program_waiting = false;
            self.last_activity_ns = now;
        } else if self.close_pending {
            self.close_pending = false;
            self.expect_output();
            self.step("close".into());
            io.close_stdin();
            self.program_waiting = false;
        }
    }
}

/// The last line with something on it: the text after the last newline
/// (a prompt) or else the last whole line.
fn last_line(buf: &[u8]) -> Option<&[u8]> {
    let trimmed = match buf.strip_suffix(b"\n") {
        Some(t) => t.strip_suffix(b"\r").unwrap_or(t),
        None => buf,
    };
    let start = trimmed
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let line = &trimmed[start..];
    (!line.iter().all(u8::is_ascii_whitespace)).then_some(line)
}

/// The session steps of a recorded script: what `judge test` needs to
/// replay it from the script's folder. `program` as it was run, `files`
/// as `--file` named them, `limits` as (key, value) in the script's units.
pub fn header(
    script: &Path,
    program: &[String],
    files: &[PathBuf],
    pty: bool,
    limits: &[(&str, String)],
) -> Vec<String> {
    let dir = script
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut head = vec![format!(
        "# Recorded by judge record; replay with: judge test {}",
        script.display()
    )];
    for f in files {
        let rel = relative_to(dir, f);
        head.push(format!(
            "file \"{}\"",
            quote(rel.as_os_str().as_encoded_bytes())
        ));
    }
    let mut run: Vec<String> = program.iter().map(|a| shell_word(a)).collect();
    // A relative path is read from the script's folder on replay; an
    // absolute one stays as written.
    let first = &program[0];
    if first.contains('/')
        && !first.starts_with('/')
        && !files.iter().any(|f| f.as_os_str() == first.as_str())
    {
        let rel = relative_to(dir, Path::new(first))
            .to_string_lossy()
            .into_owned();
        let rel = if rel.contains('/') {
            rel
        } else {
            format!("./{rel}")
        };
        run[0] = shell_word(&rel);
    }
    head.push(format!("run {}", run.join(" ")));
    if pty {
        head.push("pty".into());
    }
    if !limits.is_empty() {
        let words: Vec<String> = limits.iter().map(|(k, v)| format!("{k}={v}")).collect();
        head.push(format!("limits {}", words.join(" ")));
    }
    head
}

/// `path` as a script in `dir` names it: relative when both resolve.
fn relative_to(dir: &Path, path: &Path) -> PathBuf {
    let (Ok(d), Ok(p)) = (dir.canonicalize(), path.canonicalize()) else {
        return path.to_path_buf();
    };
    let common = d
        .components()
        .zip(p.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut rel = PathBuf::new();
    for _ in d.components().skip(common) {
        rel.push("..");
    }
    for c in p.components().skip(common) {
        rel.push(c);
    }
    rel
}

/// A word as a `run` line reads it back: quoted when it must be.
fn shell_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:+,@%".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// Bytes as the inside of a script string.
pub fn quote(bytes: &[u8]) -> String {
    visible(bytes).replace("${", "\\${")
}

fn readable(fd: RawFd) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n > 0 && p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0
}

impl Responder for Recorder {
    fn kind(&self) -> &'static str {
        "record"
    }

    fn judges(&self) -> bool {
        false
    }

    fn wants_output(&self) -> bool {
        true
    }

    fn register(&mut self, registry: &Registry, first: Token) -> Result<()> {
        match registry.register(&mut SourceFd(&self.input), first, Interest::READABLE) {
            Ok(()) => self.token = Some(first),
            // A regular file cannot be watched, and is all there already.
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {}
            Err(e) => {
                return Err(crate::responder::ResponderError::io(
                    "watching the input",
                    e,
                ))
            }
        }
        Ok(())
    }

    fn start(&mut self, io: &mut Io<'_>) -> Result<()> {
        self.last_activity_ns = io.now_ns();
        if self.token.is_none() {
            self.read_input();
        }
        Ok(())
    }

    fn on_ready(&mut self, token: Token, _closed: bool, io: &mut Io<'_>) -> Result<()> {
        if Some(token) != self.token {
            return Ok(());
        }
        self.read_input();
        if !self.input_open {
            let _ = io.registry().deregister(&mut SourceFd(&self.input));
            self.token = None;
        }
        if !self.lines.is_empty() || self.close_pending {
            self.last_activity_ns = self
                .last_activity_ns
                .max(io.now_ns().saturating_sub(QUIET_NS / 2));
        }
        let now = io.now_ns();
        self.pump(io, now);
        Ok(())
    }

    fn on_output(&mut self, stream: Stream, bytes: &[u8], io: &mut Io<'_>) -> Result<()> {
        // The user sees it as it comes.
        let (buf, fd) = match stream {
            Stream::Stdout => (&mut self.since_out, 1),
            Stream::Stderr => (&mut self.since_err, 2),
        };
        buf.extend_from_slice(bytes);
        if buf.len() > TAIL {
            buf.drain(..buf.len() - TAIL);
        }
        let mut out = std::mem::ManuallyDrop::new(unsafe {
            // SAFETY: borrowed, never closed (ManuallyDrop).
            <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd)
        });
        let _ = out.write_all(bytes);
        self.program_waiting = false;
        self.last_activity_ns = io.now_ns();
        Ok(())
    }

    fn on_stdin_space(&mut self, io: &mut Io<'_>) -> Result<()> {
        let now = io.now_ns();
        self.pump(io, now);
        Ok(())
    }

    fn on_program_blocked(&mut self, io: &mut Io<'_>) -> Result<()> {
        self.program_waiting = true;
        let now = io.now_ns();
        self.pump(io, now);
        Ok(())
    }

    fn on_program_exit(&mut self, exit: ProgramExit, _io: &mut Io<'_>) -> Result<()> {
        self.exit = Some(exit);
        Ok(())
    }

    fn deadline(&self) -> Option<u64> {
        (self.exit.is_none() && (!self.lines.is_empty() || self.close_pending))
            .then_some(self.last_activity_ns + QUIET_NS)
    }

    fn on_deadline(&mut self, io: &mut Io<'_>) -> Result<()> {
        let now = io.now_ns();
        self.pump(io, now);
        Ok(())
    }

    fn finished(&self) -> Option<&Finished> {
        None
    }

    fn finish(&mut self) -> ResponderReport {
        // The output after the last line sent, then how the program ended.
        self.expect_output();
        match self.exit {
            Some(e) if e.by_judge => self
                .step("# the judge stopped the program here (a limit or an interruption)".into()),
            Some(ProgramExit {
                exit_code: Some(c), ..
            }) => self.step(format!("expect exit {c}")),
            Some(ProgramExit {
                signal: Some(s), ..
            }) => self.step(format!(
                "expect signal {}",
                signal_name(s).trim_start_matches("SIG")
            )),
            _ => {}
        }
        ResponderReport {
            kind: "record",
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_or_the_last_line() {
        assert_eq!(last_line(b"= 42\n> "), Some(&b"> "[..]));
        assert_eq!(
            last_line(b"Enter a number:\n"),
            Some(&b"Enter a number:"[..])
        );
        assert_eq!(last_line(b"a\r\n"), Some(&b"a"[..]));
        assert_eq!(last_line(b"\n"), None);
        assert_eq!(quote(b"cost: ${x}\t\"1\"\n"), "cost: \\${x}\\t\\\"1\\\"\\n");
    }
}
