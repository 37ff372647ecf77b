//! Verdicts and the judgements responders give.

use serde::{Deserialize, Serialize};

/// The outcome of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Verdict {
    /// Accepted.
    AC,
    /// Wrong answer.
    WA,
    /// Presentation error: the output could not be read as the format says.
    PE,
    /// CPU time limit exceeded.
    TLE,
    /// Idleness limit exceeded: the wall limit passed while the program waited.
    ILE,
    /// Memory limit exceeded.
    MLE,
    /// Output limit exceeded (stdout or stderr).
    OLE,
    /// Runtime error: non-zero exit status or killed by a signal.
    RE,
    /// Judge error: the judge or the responder failed; never the program's fault.
    JE,
    /// Compile error: the submission did not build (`judge problem` only;
    /// a session never gives it).
    CE,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::AC => "AC",
            Verdict::WA => "WA",
            Verdict::PE => "PE",
            Verdict::TLE => "TLE",
            Verdict::ILE => "ILE",
            Verdict::MLE => "MLE",
            Verdict::OLE => "OLE",
            Verdict::RE => "RE",
            Verdict::JE => "JE",
            Verdict::CE => "CE",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a responder concluded about the program.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    /// AC, WA, PE or JE.
    pub verdict: Verdict,
    /// One sentence: why.
    pub message: String,
    /// Points, for protocols that award them (testlib's `quitp`, Kattis' score.txt).
    pub points: Option<f64>,
}

impl Judgement {
    pub fn new(verdict: Verdict, message: impl Into<String>) -> Self {
        Judgement {
            verdict,
            message: message.into(),
            points: None,
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Judgement::new(Verdict::JE, message)
    }
}
