//! A checker for a non-interactive problem: feeds `--input` to the
//! program's stdin, then compares its stdout with `--answer` token by
//! token (whitespace-separated, as testlib's `wcmp`), as it streams: the
//! first difference is WA at once, without keeping the output.

use judge_responder::{export_responder, Exit, Init, Reply, Responder, Stream};

pub struct Checker {
    input: Vec<u8>,
    expected: Vec<Vec<u8>>,
    /// Tokens matched so far.
    matched: usize,
    /// A token cut by the end of a chunk.
    partial: Vec<u8>,
}

fn is_space(b: u8) -> bool {
    b.is_ascii_whitespace()
}

fn shown(token: &[u8]) -> String {
    let s = String::from_utf8_lossy(token);
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s.into_owned()
    }
}

impl Checker {
    /// One complete token of the program's output.
    fn token(&mut self, reply: &mut Reply) {
        let got = std::mem::take(&mut self.partial);
        match self.expected.get(self.matched) {
            None => reply.wrong_answer(format!(
                "extra output: token {} ({:?}) after the {} expected",
                self.matched + 1,
                shown(&got),
                self.expected.len()
            )),
            Some(want) if *want != got => reply.wrong_answer(format!(
                "token {}: expected {:?}, got {:?}",
                self.matched + 1,
                shown(want),
                shown(&got)
            )),
            Some(_) => self.matched += 1,
        }
    }
}

impl Responder for Checker {
    fn new(init: Init<'_>) -> Result<Self, String> {
        Ok(Checker {
            input: init.input.to_vec(),
            expected: init
                .answer
                .split(|&b| is_space(b))
                .filter(|t| !t.is_empty())
                .map(<[u8]>::to_vec)
                .collect(),
            matched: 0,
            partial: Vec::new(),
        })
    }

    fn start(&mut self, reply: &mut Reply) {
        reply.send(&self.input);
        reply.close_stdin();
    }

    fn on_output(&mut self, stream: Stream, bytes: &[u8], reply: &mut Reply) {
        if stream != Stream::Stdout {
            return;
        }
        for &b in bytes {
            if !is_space(b) {
                self.partial.push(b);
            } else if !self.partial.is_empty() {
                self.token(reply);
                if reply.has_verdict() {
                    return;
                }
            }
        }
    }

    fn on_exit(&mut self, _exit: Exit, reply: &mut Reply) {
        if !self.partial.is_empty() {
            self.token(reply);
            if reply.has_verdict() {
                return;
            }
        }
        if self.matched < self.expected.len() {
            reply.wrong_answer(format!(
                "the output ended after {} of {} tokens",
                self.matched,
                self.expected.len()
            ));
        } else {
            // A non-zero exit is the judge's to report (RE), whatever the
            // output: the checker speaks of the answer only.
            reply.accept(format!("{} tokens match", self.matched));
        }
    }
}

export_responder!(Checker);
