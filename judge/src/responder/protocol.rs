//! How an interactor's exit status and files become a judgement.

use crate::verdict::{Judgement, Verdict};

/// The conventions of existing interactors, so they run unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// testlib: `interactor INPUT OUTPUT [ANSWER]`; exit 0 OK, 1 WA, 2 PE,
    /// 3 FAIL, 4 dirt (WA), 7 points (named in the message), 8 unexpected
    /// EOF (PE), 16 + n partially correct (n points); message on stderr.
    /// Anything else is the interactor's failure.
    Testlib,
    /// Kattis problemtools: `validator INPUT ANSWER FEEDBACK_DIR`; exit 42
    /// AC, 43 WA; message in FEEDBACK_DIR/judgemessage.txt.
    Kattis,
    /// Exit 0 AC, anything else WA; message on stderr.
    Plain,
}

impl std::str::FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "testlib" => Ok(Protocol::Testlib),
            "kattis" => Ok(Protocol::Kattis),
            "plain" => Ok(Protocol::Plain),
            _ => Err(format!(
                "unknown protocol {s:?}: expected testlib, kattis or plain"
            )),
        }
    }
}

impl Protocol {
    /// The judgement for an interactor that exited with `code`. `message` is
    /// what the protocol designates (stderr, or judgemessage.txt).
    pub fn judge_exit(self, code: i32, message: &str, score: Option<f64>) -> Judgement {
        self.judge_exit_of("interactor", code, message, score)
    }

    /// The same for `who` (a checker process reads its exit as an
    /// interactor's), named so in the messages.
    pub fn judge_exit_of(
        self,
        who: &str,
        code: i32,
        message: &str,
        score: Option<f64>,
    ) -> Judgement {
        let the = |what: &str| format!("the {who} {what}");
        let msg = first_line(message);
        let with = |v: Verdict, default: &str| {
            Judgement::new(
                v,
                if msg.is_empty() {
                    default.to_string()
                } else {
                    msg.clone()
                },
            )
        };
        match self {
            // A Python interactor that raised exits with 1, testlib's (and
            // plain's) WA: its crash must not be charged to the program.
            _ if code == 1 && python_crash(message).is_some() => Judgement::failed(format!(
                "the {who} crashed (a Python traceback, exit code 1): {}",
                python_crash(message).unwrap_or_default()
            )),
            Protocol::Testlib => match code {
                0 => with(Verdict::AC, &the("accepted the answer")),
                1 | 4 => with(Verdict::WA, &the("rejected the answer")),
                2 | 8 => with(Verdict::PE, &the("could not read the answer")),
                // quitp: the points are in the message.
                7 => match testlib_points(message) {
                    Some(p) => {
                        let mut j = with(Verdict::AC, &the("awarded points"));
                        j.points = Some(p);
                        j
                    }
                    None => Judgement::failed(format!(
                        "the {who} exited with code 7 (points) but named no points{}",
                        if msg.is_empty() {
                            String::new()
                        } else {
                            format!(": {msg}")
                        }
                    )),
                },
                // quitf(_pc(n)): partially correct, n percent.
                16..=116 => {
                    let mut j = with(Verdict::AC, &the("awarded partial credit"));
                    j.points = Some((code - 16) as f64);
                    j
                }
                3 => Judgement::failed(format!(
                    "the {who} reported its own failure (testlib FAIL){}",
                    if msg.is_empty() {
                        String::new()
                    } else {
                        format!(": {msg}")
                    }
                )),
                c => Judgement::failed(format!(
                    "the {who} exited with code {c}, which testlib does not define{}",
                    if msg.is_empty() {
                        String::new()
                    } else {
                        format!(": {msg}")
                    }
                )),
            },
            Protocol::Kattis => {
                match code {
                    42 => {
                        let mut j = with(Verdict::AC, &the("accepted the answer"));
                        j.points = score;
                        j
                    }
                    43 => with(Verdict::WA, &the("rejected the answer")),
                    c => {
                        Judgement::failed(format!(
                    "the {who} exited with code {c}; Kattis {who}s must exit with 42 or 43{}",
                    if msg.is_empty() { String::new() } else { format!(": {msg}") }
                ))
                    }
                }
            }
            Protocol::Plain => match code {
                0 => with(Verdict::AC, &the("accepted the answer")),
                c => with(
                    Verdict::WA,
                    &the(&format!("rejected the answer (exit code {c})")),
                ),
            },
        }
    }
}

fn first_line(s: &str) -> String {
    let line = s
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut out: String = line.chars().take(500).collect();
    if line.chars().count() > 500 {
        out.push('…');
    }
    out
}

/// The exception a Python traceback ends with, if `stderr` ends with one:
/// a "Traceback (most recent call last):" line, then, last, a line naming
/// the exception ("ZeroDivisionError: division by zero").
pub fn python_crash(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines
        .iter()
        .rposition(|l| l.trim_end() == "Traceback (most recent call last):")?;
    // The exception's line comes after the traceback's header, unindented.
    let last = lines.last()?.trim_end();
    if start + 1 == lines.len() || last.starts_with(char::is_whitespace) {
        return None;
    }
    let name = last.split(':').next()?;
    let is_name = !name.is_empty()
        && name.split('.').all(|p| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    is_name.then(|| first_line(last))
}

/// testlib's quitp writes "points <value> <message>".
fn testlib_points(message: &str) -> Option<f64> {
    let rest = message.trim_start().strip_prefix("points ")?;
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_python_traceback_is_the_interactors_crash() {
        let tb = "Traceback (most recent call last):\n  File \"i.py\", line 3, in <module>\n    1/0\n    ~^~\nZeroDivisionError: division by zero\n";
        assert_eq!(
            python_crash(tb).as_deref(),
            Some("ZeroDivisionError: division by zero")
        );
        let j = Protocol::Testlib.judge_exit(1, tb, None);
        assert_eq!(j.verdict, Verdict::JE);
        assert_eq!(
            j.message,
            "the interactor crashed (a Python traceback, exit code 1): ZeroDivisionError: division by zero"
        );
        let custom =
            "Traceback (most recent call last):\n  File \"i.py\", line 9\nchecker.lib.WrongState\n";
        assert_eq!(
            python_crash(custom).as_deref(),
            Some("checker.lib.WrongState")
        );
        // A plain rejection, or a traceback quoted before the verdict line
        // of a message, stays WA.
        assert_eq!(
            Protocol::Testlib
                .judge_exit(1, "wrong answer 3 != 4\n", None)
                .verdict,
            Verdict::WA
        );
        assert_eq!(
            python_crash("wrong answer\nTraceback (most recent call last):\n  x\n"),
            None
        );
        assert_eq!(python_crash("Traceback (most recent call last):\n"), None);
        // Under plain too; under kattis exit 1 was a JE already.
        assert_eq!(Protocol::Plain.judge_exit(1, tb, None).verdict, Verdict::JE);
        assert_eq!(
            Protocol::Kattis.judge_exit(1, tb, None).verdict,
            Verdict::JE
        );
    }

    #[test]
    fn testlib_codes() {
        let p = Protocol::Testlib;
        assert_eq!(p.judge_exit(0, "ok fine\n", None).verdict, Verdict::AC);
        assert_eq!(
            p.judge_exit(1, "wrong answer x", None).message,
            "wrong answer x"
        );
        assert_eq!(p.judge_exit(2, "", None).verdict, Verdict::PE);
        assert_eq!(p.judge_exit(3, "", None).verdict, Verdict::JE);
        let j = p.judge_exit(7, "points 0.25 partial", None);
        assert_eq!((j.verdict, j.points), (Verdict::AC, Some(0.25)));
        assert_eq!(p.judge_exit(5, "", None).verdict, Verdict::JE);
        // A shell that could not find its command exits 127: not points.
        assert_eq!(
            p.judge_exit(127, "sh: x: not found", None).verdict,
            Verdict::JE
        );
        assert_eq!(p.judge_exit(255, "", None).verdict, Verdict::JE);
        assert_eq!(p.judge_exit(7, "no points here", None).verdict, Verdict::JE);
        assert_eq!(p.judge_exit(66, "ok partially", None).points, Some(50.0));
    }

    #[test]
    fn kattis_codes() {
        let p = Protocol::Kattis;
        assert_eq!(p.judge_exit(42, "", Some(3.0)).points, Some(3.0));
        assert_eq!(
            p.judge_exit(43, "too many guesses", None).verdict,
            Verdict::WA
        );
        assert_eq!(p.judge_exit(0, "", None).verdict, Verdict::JE);
    }

    #[test]
    fn plain_codes() {
        assert_eq!(Protocol::Plain.judge_exit(0, "", None).verdict, Verdict::AC);
        assert_eq!(Protocol::Plain.judge_exit(9, "", None).verdict, Verdict::WA);
    }
}
