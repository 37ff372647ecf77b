//! The default output validator of the Kattis problem package format, as
//! problemtools implements it (`support/default_validator`): the output is
//! compared with the answer token by token, whitespace-insensitively and
//! case-insensitively unless flags say otherwise.
//!
//! - Tokens are maximal runs of bytes that are not C whitespace (space,
//!   `\t`, `\n`, `\v`, `\f`, `\r`).
//! - `case_sensitive`: tokens must match byte for byte; otherwise ASCII
//!   letters match in either case.
//! - `space_change_sensitive`: the whitespace around the tokens must match
//!   too, byte for byte (a missing final newline is then a difference).
//! - `float_absolute_tolerance E`, `float_relative_tolerance E`,
//!   `float_tolerance E` (both): a token of the answer that parses as a
//!   finite number (C's `strtod`, the whole token; an integer is a number
//!   too, as in problemtools) must be met by a number of the output within
//!   either tolerance (`|a - o| <= E` or `|a - o| <= E * |a|`). Tokens of
//!   the answer that are `inf`, `nan` or not numbers are compared as words.
//!
//! The messages are ours: they name where the output differs (its line, the
//! token's number on that line) and what was expected and found.

use std::ffi::CString;

/// How the output is compared (the validator flags).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Flags {
    pub case_sensitive: bool,
    pub space_change_sensitive: bool,
    pub absolute_tolerance: Option<f64>,
    pub relative_tolerance: Option<f64>,
}

impl Flags {
    /// Read validator flags as problemtools does: each word a flag, the
    /// tolerances followed by their value. Unknown words are an error.
    pub fn parse<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<Flags, String> {
        let mut flags = Flags::default();
        let mut words = words.into_iter();
        while let Some(w) = words.next() {
            let mut value = || -> Result<f64, String> {
                let v = words
                    .next()
                    .ok_or_else(|| format!("{w} needs a value (e.g. {w} 1e-6)"))?;
                // A negative tolerance accepts nothing, as in problemtools.
                number(v.as_bytes()).ok_or_else(|| format!("{w} {v}: not a number"))
            };
            match w {
                "case_sensitive" => flags.case_sensitive = true,
                "space_change_sensitive" => flags.space_change_sensitive = true,
                "float_absolute_tolerance" => flags.absolute_tolerance = Some(value()?),
                "float_relative_tolerance" => flags.relative_tolerance = Some(value()?),
                "float_tolerance" => {
                    let v = value()?;
                    flags.absolute_tolerance = Some(v);
                    flags.relative_tolerance = Some(v);
                }
                other => {
                    return Err(format!(
                        "unknown flag {other:?} (case_sensitive, space_change_sensitive, \
                         float_tolerance E, float_absolute_tolerance E, float_relative_tolerance E)"
                    ))
                }
            }
        }
        Ok(flags)
    }

    fn floats(&self) -> bool {
        self.absolute_tolerance.is_some() || self.relative_tolerance.is_some()
    }
}

/// Where and how the output differs from the answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mismatch {
    /// Line of the output (from 1) where the difference was found.
    pub line: u64,
    /// Byte column on that line (from 1).
    pub column: u64,
    /// The token's number on its line of the output (from 1; 0 where the
    /// difference is in the whitespace).
    pub token: u64,
    /// What the answer has there and what the output has (shortened).
    pub expected: String,
    pub got: String,
    /// One line: "line 3, token 2: expected 42, got 41" (also the
    /// checker's message, so not repeated in JSON).
    #[serde(skip)]
    pub message: String,
}

/// Compare `output` with `answer` under `flags`.
pub fn compare(answer: &[u8], output: &[u8], flags: &Flags) -> Result<(), Mismatch> {
    let mut a = Cursor::new(answer);
    let mut o = Cursor::new(output);
    loop {
        while a.peek().is_some_and(is_space) {
            let c = a.bump();
            if flags.space_change_sensitive {
                let at = o.place();
                let d = o.peek();
                if d != Some(c) {
                    return Err(o.whitespace_error(at, describe(Some(c)), describe(d)));
                }
                o.bump();
            }
        }
        while o.peek().is_some_and(is_space) {
            let at = o.place();
            let d = o.bump();
            if flags.space_change_sensitive {
                let expected = a.peek_token().map_or("the end of the output".into(), show);
                return Err(o.whitespace_error(at, expected, describe(Some(d))));
            }
        }
        let Some(expected) = a.token() else { break };
        let at = o.place();
        let Some(got) = o.token() else {
            let why = if output.is_empty() {
                "the output is empty".to_string()
            } else if output.iter().all(|&b| is_space(b)) {
                "the output holds only whitespace".to_string()
            } else {
                "the output ended".to_string()
            };
            return Err(mismatch(
                at,
                0,
                show(expected),
                "nothing".into(),
                format!(
                    "line {}: {why} where the answer goes on with {}",
                    at.line,
                    show(expected)
                ),
            ));
        };
        let token = o.tokens_on_line;
        let wrong = |detail: String| {
            Err(mismatch(
                at,
                token,
                show(expected),
                show(got),
                format!("line {}, token {token}: {detail}", at.line),
            ))
        };
        match flags.floats().then(|| number(expected)).flatten() {
            Some(want) => {
                let Some(have) = number(got) else {
                    return wrong(format!(
                        "expected a number ({}), got {}",
                        show(expected),
                        show(got)
                    ));
                };
                let diff = (want - have).abs();
                let within = |tol: Option<f64>, scale: f64| tol.is_some_and(|t| diff <= t * scale);
                if !within(flags.absolute_tolerance, 1.0)
                    && !within(flags.relative_tolerance, want.abs())
                {
                    let relative = if want == 0.0 {
                        "undefined, the answer is 0".to_string()
                    } else {
                        short(diff / want.abs())
                    };
                    return wrong(format!(
                        "expected {}, got {}: absolute error {}, relative error {relative} \
                         (tolerance: absolute {}, relative {})",
                        show(expected),
                        show(got),
                        short(diff),
                        tolerance(flags.absolute_tolerance),
                        tolerance(flags.relative_tolerance),
                    ));
                }
            }
            None => {
                let same = if flags.case_sensitive {
                    expected == got
                } else {
                    expected.eq_ignore_ascii_case(got)
                };
                if !same {
                    return wrong(format!("expected {}, got {}", show(expected), show(got)));
                }
            }
        }
    }
    let at = o.place();
    if let Some(extra) = o.token() {
        let token = o.tokens_on_line;
        return Err(mismatch(
            at,
            token,
            "the end of the output".into(),
            show(extra),
            format!(
                "line {}, token {token}: the answer has ended, the output goes on with {}",
                at.line,
                show(extra)
            ),
        ));
    }
    Ok(())
}

fn mismatch(at: Place, token: u64, expected: String, got: String, message: String) -> Mismatch {
    Mismatch {
        line: at.line,
        column: at.column,
        token,
        expected,
        got,
        message,
    }
}

/// A figure to seven significant digits, in exponent form without
/// trailing zeros ("4e-1", "1.234567e3").
fn short(x: f64) -> String {
    let s = format!("{x:.6e}");
    match s.split_once('e') {
        Some((m, e)) if m.contains('.') => {
            format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => s,
    }
}

fn tolerance(t: Option<f64>) -> String {
    t.map_or("none".into(), |t| format!("{t:e}"))
}

/// C's isspace in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The token as a finite number, as `sscanf("%lf")` reads it in problemtools
/// (C's strtod over the whole token: decimal and hexadecimal forms,
/// exponents; `inf` and `nan` are not numbers here).
fn number(token: &[u8]) -> Option<f64> {
    let c = CString::new(token).ok()?;
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: a NUL-terminated string; strtod writes only `end`. This
    // process never calls setlocale, so the decimal point is '.'.
    let v = unsafe { libc::strtod(c.as_ptr(), &mut end) };
    let used = end as usize - c.as_ptr() as usize;
    (used == token.len() && !token.is_empty() && v.is_finite()).then_some(v)
}

/// A token for a message: lossy UTF-8, long ones shortened.
fn show(token: &[u8]) -> String {
    const KEEP: usize = 30;
    let text = String::from_utf8_lossy(token);
    if text.chars().count() <= KEEP + 5 {
        return text.into_owned();
    }
    let mut s: String = text.chars().take(KEEP).collect();
    s.push_str("...");
    s
}

fn describe(b: Option<u8>) -> String {
    match b {
        None => "the end of the output".into(),
        Some(b' ') => "a space".into(),
        Some(b'\n') => "a newline".into(),
        Some(b'\t') => "a tab".into(),
        Some(b'\r') => "a carriage return".into(),
        Some(b) if b.is_ascii_graphic() => format!("'{}'", b as char),
        Some(b) => format!("byte {b:#04x}"),
    }
}

#[derive(Debug, Clone, Copy)]
struct Place {
    line: u64,
    column: u64,
}

/// A position in one of the two texts, with its line and column.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
    line_start: usize,
    /// Tokens read on the current line so far.
    tokens_on_line: u64,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Cursor {
            bytes,
            pos: 0,
            line: 1,
            line_start: 0,
            tokens_on_line: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn bump(&mut self) -> u8 {
        let b = self.bytes[self.pos];
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
            self.line_start = self.pos;
            self.tokens_on_line = 0;
        }
        b
    }

    fn place(&self) -> Place {
        Place {
            line: self.line,
            column: (self.pos - self.line_start + 1) as u64,
        }
    }

    /// The next token (after any whitespace), consumed.
    fn token(&mut self) -> Option<&'a [u8]> {
        while self.peek().is_some_and(is_space) {
            self.bump();
        }
        let start = self.pos;
        while self.peek().is_some_and(|b| !is_space(b)) {
            self.pos += 1;
        }
        (self.pos > start).then(|| {
            self.tokens_on_line += 1;
            &self.bytes[start..self.pos]
        })
    }

    /// The next token, left in place.
    fn peek_token(&self) -> Option<&'a [u8]> {
        let rest = &self.bytes[self.pos..];
        let start = rest.iter().position(|&b| !is_space(b))?;
        let len = rest[start..]
            .iter()
            .position(|&b| is_space(b))
            .unwrap_or(rest.len() - start);
        Some(&rest[start..start + len])
    }

    fn whitespace_error(&self, at: Place, expected: String, got: String) -> Mismatch {
        mismatch(
            at,
            0,
            expected.clone(),
            got.clone(),
            format!(
                "line {}, column {}: expected {expected}, got {got}",
                at.line, at.column
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(flags: &str, answer: &str, output: &str) -> Result<(), String> {
        let f = Flags::parse(flags.split_whitespace()).unwrap();
        compare(answer.as_bytes(), output.as_bytes(), &f).map_err(|m| m.message)
    }

    fn ac(flags: &str, answer: &str, output: &str) {
        assert_eq!(
            check(flags, answer, output),
            Ok(()),
            "{flags:?} {answer:?} {output:?}"
        );
    }

    fn wa(flags: &str, answer: &str, output: &str, message: &str) {
        assert_eq!(
            check(flags, answer, output),
            Err(message.to_string()),
            "{flags:?} {answer:?} {output:?}"
        );
    }

    /// problemtools' own cases (tests/default_validator_tests), each with
    /// its verdict; the messages are ours.
    #[test]
    fn problemtools_cases() {
        ac("case_sensitive", "Hello\n", "Hello\n");
        wa(
            "case_sensitive",
            "Hello\n",
            "hello\n",
            "line 1, token 1: expected Hello, got hello",
        );
        ac("", "Hello\n", "hello\n");
        ac(
            "case_sensitive space_change_sensitive float_tolerance 0.5",
            "PI is 3.14\n",
            "PI is 3.14\n",
        );
        wa(
            "case_sensitive space_change_sensitive float_tolerance 0.5",
            "PI is 1.0",
            "PI is 2.0",
            "line 1, token 3: expected 1.0, got 2.0: absolute error 1e0, relative error 1e0 \
             (tolerance: absolute 5e-1, relative 5e-1)",
        );
        wa(
            "",
            "Hello World!\n",
            "",
            "line 1: the output is empty where the answer goes on with Hello",
        );
        ac("float_absolute_tolerance 0.5", "1\n", "1.4\n");
        wa(
            "float_absolute_tolerance 0.1",
            "1\n",
            "1.4\n",
            "line 1, token 1: expected 1, got 1.4: absolute error 4e-1, \
             relative error 4e-1 (tolerance: absolute 1e-1, relative none)",
        );
        // inf in the answer is a word, not a number.
        wa(
            "float_tolerance 0.5",
            "inf\n",
            "0\n",
            "line 1, token 1: expected inf, got 0",
        );
        ac("float_relative_tolerance 0.1", "100\n", "105\n");
        wa(
            "float_relative_tolerance 0.01",
            "100\n",
            "105\n",
            "line 1, token 1: expected 100, got 105: absolute error 5e0, relative error 5e-2 \
             (tolerance: absolute none, relative 1e-2)",
        );
        ac("float_tolerance 0.5", "1\n", "1.1\n");
        wa(
            "float_relative_tolerance 0.01",
            "0\n",
            "1\n",
            "line 1, token 1: expected 0, got 1: absolute error 1e0, relative error undefined, \
             the answer is 0 (tolerance: absolute none, relative 1e-2)",
        );
        wa(
            "",
            "Hello World!\n",
            "Hello \n",
            "line 2: the output ended where the answer goes on with World!",
        );
        ac(
            "space_change_sensitive",
            "hello\n world\n",
            "hello\n world\n",
        );
        wa(
            "space_change_sensitive",
            "hello\n world\n",
            "hello\nworld\n",
            "line 2, column 1: expected a space, got 'w'",
        );
        wa(
            "space_change_sensitive",
            "hello\nworld\n",
            "hello\n world\n",
            "line 2, column 1: expected world, got a space",
        );
        wa(
            "",
            "Hello World!\n",
            " \n    \n\n",
            "line 4: the output holds only whitespace where the answer goes on with Hello",
        );
        wa(
            "",
            "Hello World!\n",
            "Hello World! more",
            "line 1, token 3: the answer has ended, the output goes on with more",
        );
    }

    #[test]
    fn whitespace_is_free_unless_asked() {
        ac("", "1 2\n3\n", "1\n2 3");
        ac("", "", " \n\t\r\n");
        ac("", "a", "\x0b a \x0c");
        wa(
            "space_change_sensitive",
            "1 2\n",
            "1 2",
            "line 1, column 4: expected a newline, got the end of the output",
        );
        wa(
            "space_change_sensitive",
            "1 2\n",
            "1 2\n\n",
            "line 2, column 1: expected the end of the output, got a newline",
        );
        wa(
            "space_change_sensitive",
            "1  2\n",
            "1 2\n",
            "line 1, column 3: expected a space, got '2'",
        );
    }

    /// A float tolerance applies to the answer's numbers only; either
    /// tolerance accepts; exactly at the boundary is accepted.
    #[test]
    fn float_edge_cases() {
        // Exponent and other forms strtod reads, on either side.
        ac("float_tolerance 1e-9", "1e3\n", "1000.0000000001\n");
        ac("float_tolerance 1e-9", "1000\n", "1E+3\n");
        ac("float_tolerance 1e-9", "0.5\n", ".5\n");
        ac("float_tolerance 1e-9", "-0\n", "0\n");
        ac("float_tolerance 1e-9", "16\n", "0x10\n");
        // Integers of the answer are numbers too (as in problemtools).
        ac("float_absolute_tolerance 0.5", "3\n", "3.4\n");
        // Exactly at the boundary: accepted (<=).
        ac("float_absolute_tolerance 0.5", "1\n", "1.5\n");
        ac("float_absolute_tolerance 0.25", "1\n", "0.75\n");
        ac("float_relative_tolerance 0.5", "2\n", "3\n");
        // Either tolerance accepts.
        ac(
            "float_absolute_tolerance 0.1 float_relative_tolerance 0.5",
            "100\n",
            "140\n",
        );
        ac(
            "float_absolute_tolerance 50 float_relative_tolerance 0.01",
            "100\n",
            "140\n",
        );
        // A number expected, a word given; nan and inf are not numbers.
        wa(
            "float_tolerance 1",
            "1\n",
            "one\n",
            "line 1, token 1: expected a number (1), got one",
        );
        wa(
            "float_tolerance 1",
            "1\n",
            "nan\n",
            "line 1, token 1: expected a number (1), got nan",
        );
        wa(
            "float_tolerance 1",
            "1\n",
            "inf\n",
            "line 1, token 1: expected a number (1), got inf",
        );
        ac("float_tolerance 1", "nan\n", "NaN\n");
        wa(
            "float_tolerance 1",
            "nan\n",
            "0\n",
            "line 1, token 1: expected nan, got 0",
        );
        // Words stay words under a tolerance; half-numbers are words.
        ac("float_tolerance 1", "YES 1.5x\n", "yes 1.5X\n");
        wa(
            "float_tolerance 1",
            "1.5x\n",
            "1.6x\n",
            "line 1, token 1: expected 1.5x, got 1.6x",
        );
        // Without a tolerance numbers are words.
        wa("", "1.0\n", "1\n", "line 1, token 1: expected 1.0, got 1");
        // Too many or too few tokens.
        wa(
            "float_tolerance 1",
            "1 2\n",
            "1\n",
            "line 2: the output ended where the answer goes on with 2",
        );
        wa(
            "float_tolerance 1",
            "1\n",
            "1 2\n",
            "line 1, token 2: the answer has ended, the output goes on with 2",
        );
    }

    #[test]
    fn positions_name_the_outputs_line_and_token() {
        let f = Flags::default();
        let m = compare(b"a b\nc d e\nf\n", b"a b\nc  x e\nf\n", &f).unwrap_err();
        assert_eq!((m.line, m.column, m.token), (2, 4, 2));
        assert_eq!((m.expected.as_str(), m.got.as_str()), ("d", "x"));
        assert_eq!(m.message, "line 2, token 2: expected d, got x");
        // Long tokens are shortened in messages.
        let long = "z".repeat(100);
        let m = compare(b"a", long.as_bytes(), &f).unwrap_err();
        assert_eq!(m.got, format!("{}...", "z".repeat(30)));
    }

    #[test]
    fn flags_are_read_as_problemtools_reads_them() {
        assert_eq!(
            Flags::parse("float_tolerance 1e-6".split(' ')).unwrap(),
            Flags {
                absolute_tolerance: Some(1e-6),
                relative_tolerance: Some(1e-6),
                ..Flags::default()
            }
        );
        assert!(Flags::parse(["float_tolerance"])
            .unwrap_err()
            .contains("needs a value"));
        assert!(Flags::parse(["float_tolerance", "x"])
            .unwrap_err()
            .contains("not a number"));
        assert!(Flags::parse(["case_insensitive"])
            .unwrap_err()
            .contains("unknown flag"));
    }
}
