//! A script as a responder: one step at a time, each `expect` waiting for
//! its pattern, its time, the end of the stream or of the program,
//! whichever comes first; `send` and `close` acting at once.
//!
//! The script judges the program's exit itself (an `expect exit 3` makes
//! exit code 3 right), so a crash where it expected an answer is RE from
//! here, with the step named; the session's limits (TLE, MLE, OLE, ILE)
//! stay the session's.

use super::failure::{shown_captures, Reason, Received, ScriptOutcome, StepFailure};
use super::matcher::StreamBuf;
use std::rc::Rc;

use super::{Action, Captures, Pattern, Script, Step};
use crate::precedence::signal_name;
use crate::responder::{Finished, Io, ProgramExit, Responder, ResponderReport, Result, Stream};
use crate::verdict::{Judgement, Verdict};

pub struct ScriptResponder {
    /// Shared, so that a step can be looked at while the responder changes.
    steps: Rc<[Step]>,
    file: String,
    /// The step being run.
    pc: usize,
    stdout: StreamBuf,
    stderr: StreamBuf,
    captures: Captures,
    exit: Option<ProgramExit>,
    wait: Option<Wait>,
    /// A send the stdin queue could not take all of yet.
    sending: Vec<u8>,
    sent: usize,
    finished: Option<Finished>,
    failure: Option<StepFailure>,
    /// The stream a step reads ended before the program did: the step
    /// fails once the exit is known (or its time passes).
    stream_gone_at: Option<u64>,
}

/// The current step's wait.
struct Wait {
    since_ns: u64,
    deadline_ns: u64,
    cpu_ns: Option<u64>,
    regex: Option<regex::bytes::Regex>,
}

impl ScriptResponder {
    pub fn new(script: Script) -> ScriptResponder {
        ScriptResponder {
            file: script.path.display().to_string(),
            steps: script.steps.into(),
            pc: 0,
            stdout: StreamBuf::default(),
            stderr: StreamBuf::default(),
            captures: Captures::default(),
            exit: None,
            wait: None,
            sending: Vec::new(),
            sent: 0,
            finished: None,
            failure: None,
            stream_gone_at: None,
        }
    }

    fn buf(&mut self, stream: Stream) -> &mut StreamBuf {
        match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        }
    }

    /// Run steps until one has to wait.
    fn advance(&mut self, io: &mut Io<'_>) -> Result<()> {
        loop {
            // Killed by the judge (a limit): the session's verdict stands,
            // and the step still waiting is reported as such.
            if self.finished.is_some() || self.exit.is_some_and(|e| e.by_judge) {
                return Ok(());
            }
            if self.sent < self.sending.len() {
                if !io.stdin_open() {
                    // The program closed its stdin: what it will not read is
                    // dropped, and the next expect tells whether that matters.
                    self.sending.clear();
                    self.sent = 0;
                } else {
                    self.sent += io.send(&self.sending[self.sent..]);
                    if self.sent < self.sending.len() {
                        return Ok(()); // on_stdin_space continues
                    }
                    self.sending.clear();
                    self.sent = 0;
                }
            }
            let steps = Rc::clone(&self.steps);
            let Some(step) = steps.get(self.pc) else {
                let n = self.steps.len();
                self.finished = Some(Finished {
                    judgement: Judgement::new(
                        Verdict::AC,
                        format!("all {n} steps of {} passed", self.file),
                    ),
                    at_ns: io.now_ns(),
                });
                return Ok(());
            };
            match &step.action {
                Action::Send { text, raw } => {
                    self.sending = text.render(&self.captures);
                    if !*raw {
                        self.sending.push(b'\n');
                    }
                    self.sent = 0;
                    self.pass();
                }
                Action::Close => {
                    io.close_stdin();
                    self.pass();
                }
                Action::Expect {
                    stream,
                    pattern,
                    within,
                } => {
                    let stream = *stream;
                    if !self.start_wait(io, *within, pattern) {
                        return Ok(());
                    }
                    // Borrowed, not cloned: a clone of a regex starts with an
                    // empty cache, and this runs at every read.
                    let buf = match stream {
                        Stream::Stdout => &mut self.stdout,
                        Stream::Stderr => &mut self.stderr,
                    };
                    let regex = self.wait.as_ref().and_then(|w| w.regex.as_ref());
                    let found = buf.find(pattern, &self.captures, regex);
                    match found {
                        Some(f) => {
                            for (name, value) in f.captures {
                                self.captures.set(&name, value);
                            }
                            self.buf(stream).consume(f.end);
                            self.pass();
                        }
                        None if self.buf(stream).eof => return self.stream_ended(stream, io),
                        None => return Ok(()),
                    }
                }
                Action::ExpectEof { stream, within } => {
                    if self.buf(*stream).eof {
                        self.pass();
                    } else {
                        self.start_wait(io, *within, &Pattern::Literal(Default::default()));
                        return Ok(());
                    }
                }
                Action::ExpectExit { within, .. } | Action::ExpectSignal { within, .. } => {
                    let Some(exit) = self.exit else {
                        self.start_wait(io, *within, &Pattern::Literal(Default::default()));
                        return Ok(());
                    };
                    let ok = match &step.action {
                        Action::ExpectExit { code: None, .. } => exit.exit_code.is_some(),
                        Action::ExpectExit { code, .. } => exit.exit_code == *code,
                        Action::ExpectSignal { signal, .. } => exit.signal == Some(*signal),
                        _ => unreachable!(),
                    };
                    if ok {
                        self.pass();
                    } else {
                        let how = ended(exit);
                        self.fail(
                            io,
                            Reason::WrongExit,
                            format!("{how}, not as expected"),
                            Stream::Stdout,
                        );
                        return Ok(());
                    }
                }
            }
        }
    }

    fn pass(&mut self) {
        self.stdout.mark();
        self.stderr.mark();
        self.pc += 1;
        self.wait = None;
        self.stream_gone_at = None;
        if let Some(Action::Expect { stream, .. }) = self.steps.get(self.pc).map(|s| &s.action) {
            let stream = *stream;
            self.buf(stream).restart_search();
        }
    }

    /// Start the current step's wait, once. False when the step failed
    /// instead: its expression, with captures of the program's output
    /// filled in, does not compile (too large, typically).
    fn start_wait(
        &mut self,
        io: &mut Io<'_>,
        within: std::time::Duration,
        pattern: &Pattern,
    ) -> bool {
        if self.wait.is_some() {
            return true;
        }
        let regex = match pattern {
            Pattern::Regex(src) => match src.compile(&self.captures) {
                Ok(r) => Some(r),
                Err(e) => {
                    let why = e.to_string();
                    let last = why.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
                    self.fail(
                        io,
                        Reason::Unusable,
                        format!(
                            "the expression with its captures filled in cannot be used: {}",
                            last.trim().trim_start_matches("error: ")
                        ),
                        Stream::Stdout,
                    );
                    return false;
                }
            },
            Pattern::Literal(_) => None,
        };
        let now = io.now_ns();
        self.wait = Some(Wait {
            since_ns: now,
            deadline_ns: now.saturating_add(within.as_nanos() as u64),
            cpu_ns: io.program_cpu_ns(),
            regex,
        });
        true
    }

    /// The stream a step reads ended without what it waited for.
    fn stream_ended(&mut self, stream: Stream, io: &mut Io<'_>) -> Result<()> {
        let name = stream_name(stream);
        match self.exit {
            Some(exit) => {
                let how = ended(exit);
                self.fail(
                    io,
                    Reason::ProgramEnded,
                    format!("{how} before writing it to {name}"),
                    stream,
                );
            }
            // Closed while the program runs on: its exit (or the step's
            // time) tells the rest.
            None => {
                self.stream_gone_at.get_or_insert(io.now_ns());
            }
        }
        Ok(())
    }

    fn fail(&mut self, io: &mut Io<'_>, reason: Reason, message: String, stream: Stream) {
        let now = io.now_ns();
        let step = &self.steps[self.pc];
        let (waited_ms, cpu_ms) = match &self.wait {
            Some(w) => {
                let cpu = match (w.cpu_ns, io.program_cpu_ns()) {
                    (Some(a), Some(b)) => Some(b.saturating_sub(a) / 1_000_000),
                    _ => None,
                };
                ((now.saturating_sub(w.since_ns)) / 1_000_000, cpu)
            }
            None => (0, None),
        };
        // A crash where the step did not ask for one is the program's
        // failure: a signal unless it expected a signal, a nonzero code
        // unless it expected a nonzero (or any) code.
        let crashed = self.exit.is_some_and(|e| match (e.signal, e.exit_code) {
            (Some(_), _) => !matches!(step.action, Action::ExpectSignal { .. }),
            (None, Some(0)) | (None, None) => false,
            (None, Some(_)) => {
                !matches!(step.action, Action::ExpectExit { code, .. } if code != Some(0))
            }
        });
        let verdict = if crashed { Verdict::RE } else { Verdict::WA };
        let failure = StepFailure {
            line: step.line,
            step: super::failure::shown_step(&step.source),
            expected: expected(&step.action, &self.captures),
            reason,
            message,
            waited_ms,
            cpu_ms,
            received: Received::new(
                &self.stdout.shown(stream == Stream::Stdout),
                &self.stderr.shown(stream == Stream::Stderr),
                stream,
            ),
            captures: shown_captures(&self.captures),
        };
        self.finished = Some(Finished {
            judgement: Judgement::new(verdict, failure.summary(&self.file)),
            at_ns: now,
        });
        self.failure = Some(failure);
    }

    fn step_stream(&self) -> Stream {
        match self.steps.get(self.pc).map(|s| &s.action) {
            Some(Action::Expect { stream, .. } | Action::ExpectEof { stream, .. }) => *stream,
            _ => Stream::Stdout,
        }
    }

    /// Whether the current step waits for something from the program.
    fn waiting(&self) -> bool {
        self.finished.is_none()
            && self.sent >= self.sending.len()
            && self
                .steps
                .get(self.pc)
                .is_some_and(|s| s.action.within().is_some())
    }

    pub fn outcome(&self, session_ended: bool) -> ScriptOutcome {
        let total = self.steps.len();
        let mut failure = self.failure.clone();
        if failure.is_none() && session_ended && self.pc < total {
            let step = &self.steps[self.pc];
            failure = Some(StepFailure {
                line: step.line,
                step: super::failure::shown_step(&step.source),
                expected: expected(&step.action, &self.captures),
                reason: Reason::SessionEnded,
                message: "the session ended while this step waited".into(),
                waited_ms: 0,
                cpu_ms: None,
                received: Received::new(
                    &self.stdout.shown(self.step_stream() == Stream::Stdout),
                    &self.stderr.shown(self.step_stream() == Stream::Stderr),
                    self.step_stream(),
                ),
                captures: shown_captures(&self.captures),
            });
        }
        ScriptOutcome {
            file: self.file.clone(),
            steps_total: total,
            steps_passed: self.pc.min(total),
            failure,
        }
    }
}

fn stream_name(s: Stream) -> &'static str {
    match s {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    }
}

/// How the program ended, in words.
fn ended(exit: ProgramExit) -> String {
    match (exit.exit_code, exit.signal) {
        (Some(c), _) => format!("the program exited with code {c}"),
        (None, Some(s)) => format!("the program was killed by {}", signal_name(s)),
        (None, None) => "the program ended".into(),
    }
}

/// What a step waits for, in words.
fn expected(action: &Action, captures: &Captures) -> String {
    use super::matcher::visible;
    match action {
        Action::Expect {
            stream, pattern, ..
        } => {
            let what = match pattern {
                Pattern::Literal(t) => format!("\"{}\"", visible(&t.render(captures))),
                Pattern::Regex(r) => {
                    let src: Vec<u8> = r
                        .pieces
                        .iter()
                        .flat_map(|p| match p {
                            super::Piece::Bytes(b) => b.clone(),
                            super::Piece::Capture(n) => captures.get(n).unwrap_or(&[]).to_vec(),
                        })
                        .collect();
                    // The captures are the program's bytes: made visible.
                    format!("/{}/", visible(&src))
                }
            };
            format!("{what} on {}", stream_name(*stream))
        }
        Action::ExpectEof { stream, .. } => format!("the end of {}", stream_name(*stream)),
        Action::ExpectExit { code: Some(c), .. } => format!("exit code {c}"),
        Action::ExpectExit { code: None, .. } => "an exit with any code".into(),
        Action::ExpectSignal { signal, .. } => format!("death by {}", signal_name(*signal)),
        Action::Send { .. } | Action::Close => String::new(),
    }
}

impl Responder for ScriptResponder {
    fn kind(&self) -> &'static str {
        "script"
    }

    fn wants_output(&self) -> bool {
        true
    }

    fn judges_exit(&self) -> bool {
        true
    }

    fn start(&mut self, io: &mut Io<'_>) -> Result<()> {
        if let Some(Action::Expect { stream, .. }) = self.steps.first().map(|s| &s.action) {
            let stream = *stream;
            self.buf(stream).restart_search();
        }
        self.advance(io)
    }

    fn on_output(&mut self, stream: Stream, bytes: &[u8], io: &mut Io<'_>) -> Result<()> {
        self.buf(stream).push(bytes);
        if self.finished.is_none() {
            self.advance(io)?;
        }
        Ok(())
    }

    fn on_output_closed(&mut self, stream: Stream, io: &mut Io<'_>) -> Result<()> {
        self.buf(stream).eof = true;
        self.advance(io)
    }

    fn on_stdin_space(&mut self, io: &mut Io<'_>) -> Result<()> {
        self.advance(io)
    }

    fn on_program_exit(&mut self, exit: ProgramExit, io: &mut Io<'_>) -> Result<()> {
        self.exit = Some(exit);
        self.advance(io)
    }

    fn on_program_blocked(&mut self, io: &mut Io<'_>) -> Result<()> {
        if self.waiting() && self.exit.is_none() {
            let e = expected(&self.steps[self.pc].action, &self.captures);
            self.fail(
                io,
                Reason::WaitingForInput,
                format!("the program is waiting for input (blocked reading its stdin) while this step waits for {e}"),
                self.step_stream(),
            );
        }
        Ok(())
    }

    fn deadline(&self) -> Option<u64> {
        if self.finished.is_some() {
            return None;
        }
        self.wait.as_ref().map(|w| w.deadline_ns)
    }

    fn on_deadline(&mut self, io: &mut Io<'_>) -> Result<()> {
        let Some(w) = &self.wait else { return Ok(()) };
        if self.finished.is_some() || io.now_ns() < w.deadline_ns {
            return Ok(());
        }
        let e = expected(&self.steps[self.pc].action, &self.captures);
        let waited = (io.now_ns() - w.since_ns) / 1_000_000;
        let cpu = match (w.cpu_ns, io.program_cpu_ns()) {
            (Some(a), Some(b)) => format!(" ({} ms of CPU)", b.saturating_sub(a) / 1_000_000),
            _ => String::new(),
        };
        let also = match self.stream_gone_at {
            Some(_) => format!(
                "; the program closed its {} and did not exit",
                stream_name(self.step_stream())
            ),
            None => String::new(),
        };
        self.fail(
            io,
            Reason::Timeout,
            format!("timed out after {waited} ms{cpu} waiting for {e}{also}"),
            self.step_stream(),
        );
        Ok(())
    }

    fn waiting_for_program(&mut self) -> Option<u64> {
        self.waiting().then_some(self.pc as u64)
    }

    fn finished(&self) -> Option<&Finished> {
        self.finished.as_ref()
    }

    fn ended_at(&self) -> Option<u64> {
        self.finished
            .as_ref()
            .map(|f| f.at_ns)
            .or(self.stream_gone_at)
    }

    fn finish(&mut self) -> ResponderReport {
        ResponderReport {
            kind: "script",
            verdict: self.finished.as_ref().map(|f| f.judgement.verdict),
            message: self.finished.as_ref().map(|f| f.judgement.message.clone()),
            script: Some(self.outcome(true)),
            ..Default::default()
        }
    }
}
