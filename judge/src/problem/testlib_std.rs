//! testlib's standard checkers, judged natively.
//!
//! Polygon packages often name one of testlib's standard checkers instead of
//! shipping their own (`<checker name="std::wcmp.cpp">` in problem.xml). We
//! judge those here, in-process, rather than compiling testlib and the
//! checker for every package: no C++ toolchain, no process per test. The
//! verdicts follow what the compiled checker decides (built with g++ and
//! glibc, where `sscanf` has a say in reading doubles); the messages are
//! ours, in testlib's style (`ok 3 numbers`, `wrong answer 2nd numbers differ
//! - expected: '3', found: '4'`).
//!
//! How testlib reads the files, and so do we:
//! - Blanks are space, `\t`, `\n` and `\r` only; a token is a maximal run of
//!   other bytes (so `\v`, `\f` and NUL belong to tokens).
//! - A problem in the contestant's output (a token missing at its end, or of
//!   the wrong kind) is PE; the same problem in the answer is testlib's FAIL,
//!   our JE, since the jury's file is at fault.
//! - Integers are canonical: `0` or `-?[1-9][0-9]*`, within the type's range
//!   (`-0`, `+1` and `007` are not integers).
//! - Doubles may hold only digits, `.`, `e`, `E`, `+` and `-` (no `inf`,
//!   `nan` or hex) and the whole token must be one decimal number; one too
//!   big for a double reads as infinity, and testlib counts any magnitude
//!   above 1e300 as infinite.
//! - Once a checker accepts, anything but blanks left in the output is PE
//!   (testlib's "extra information" check). That is why a second token makes
//!   `icmp` or `yesno` say PE, while `wcmp` and `ncmp` count extra tokens
//!   themselves and say WA.
//!
//! Every checker ignores the test's input, as testlib's do.

use crate::verdict::{Judgement, Verdict};
use std::fmt::Display;

/// The standard checkers this module knows, by the name Polygon gives them without the `std::` prefix and `.cpp` suffix: "wcmp", "lcmp", ...
pub const NAMES: &[&str] = &[
    "wcmp", "lcmp", "fcmp", "hcmp", "ncmp", "icmp", "uncmp", "rcmp", "rcmp4", "rcmp6", "rcmp9",
    "rncmp", "acmp", "dcmp", "yesno", "nyesno", "caseicmp", "casencmp", "casewcmp",
];

/// Is `name` (as written in problem.xml, e.g. "std::wcmp.cpp" or "wcmp") one of ours? Returns the bare name.
pub fn known(name: &str) -> Option<&'static str> {
    let bare = name.trim();
    let bare = bare.strip_prefix("std::").unwrap_or(bare);
    let bare = bare.strip_suffix(".cpp").unwrap_or(bare);
    NAMES.iter().copied().find(|n| *n == bare)
}

/// Judge `output` (the contestant's) against `answer` as testlib's checker
/// `name` would (bare, or as [`known`] takes it; `input` is not read, as
/// no standard checker reads it): AC, WA, or PE where testlib would say
/// "wrong output format" (a token of the wrong kind, the output ending
/// early, data left after an accepted answer). JE where testlib would FAIL
/// (the answer itself malformed) or `name` is not one of [`NAMES`].
///
/// The message is one line in testlib's style: `ok ...`, `wrong answer ...`,
/// `wrong output format ...` or `FAIL ...`, naming the token, line or test
/// case at fault and what was expected and found, each value shortened to
/// at most 64 characters.
pub fn check(name: &str, input: &[u8], output: &[u8], answer: &[u8]) -> Judgement {
    let _ = input; // every standard checker judges without the input
    let Some(name) = known(name) else {
        return fail(format!(
            "'{}' is not a testlib standard checker we know",
            shorten(name)
        ));
    };
    let (mut ans, mut out) = (Stream::new(answer, true), Stream::new(output, false));
    let (a, o) = (&mut ans, &mut out);
    let outcome = match name {
        "wcmp" => wcmp(a, o),
        "lcmp" => lines(a, o, true),
        "fcmp" => lines(a, o, false),
        "hcmp" => hcmp(a, o),
        "ncmp" => ncmp(a, o),
        "icmp" => icmp(a, o),
        "uncmp" => uncmp(a, o),
        "rcmp" | "acmp" => one_double(a, o, |j, p| near(j, p, 1.5e-6)),
        "dcmp" => one_double(a, o, |j, p| close(j, p, 1e-6)),
        "rcmp4" => doubles(a, o, 5, |j, p| close(j, p, 1e-4)),
        "rcmp6" => doubles(a, o, 7, |j, p| close(j, p, 1e-6)),
        "rcmp9" => doubles(a, o, 10, |j, p| close(j, p, 1e-9)),
        "rncmp" => doubles(a, o, 10, |j, p| near(j, p, 1.5e-5)),
        "yesno" => yesno(a, o),
        "nyesno" => nyesno(a, o),
        "caseicmp" => caseicmp(a, o),
        "casencmp" => cases(a, o, true),
        "casewcmp" => cases(a, o, false),
        _ => Err(fail(format!(
            "the standard checker '{name}' has no implementation"
        ))),
    };
    match outcome {
        // testlib's last word on an accepted output: nothing may follow what the checker read.
        Ok(_) if !out.seek_eof() => pe("extra data in the output after the expected answer"),
        Ok(msg) => Judgement::new(Verdict::AC, format!("ok {msg}")),
        Err(judgement) => judgement,
    }
}

/// A checker's conclusion: `Ok` with the message of an accepted output (the
/// extra-data check still to come), `Err` with the judgement it stopped at.
type Outcome = Result<String, Judgement>;

fn wa(msg: impl Display) -> Judgement {
    Judgement::new(Verdict::WA, format!("wrong answer {msg}"))
}

fn pe(msg: impl Display) -> Judgement {
    Judgement::new(Verdict::PE, format!("wrong output format {msg}"))
}

fn fail(msg: impl Display) -> Judgement {
    Judgement::new(Verdict::JE, format!("FAIL {msg}"))
}

/// One of the two files, read as testlib's `InStream` reads it (non-strict).
struct Stream<'a> {
    data: &'a [u8],
    pos: usize,
    /// The jury's file: its faults are ours (JE), not the contestant's (PE).
    is_answer: bool,
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> Stream<'a> {
    fn new(data: &'a [u8], is_answer: bool) -> Self {
        Stream {
            data,
            pos: 0,
            is_answer,
        }
    }

    /// The judgement for a fault found reading this file.
    fn bad(&self, msg: impl Display) -> Judgement {
        if self.is_answer {
            fail(format!("{msg} (in the answer)"))
        } else {
            pe(msg)
        }
    }

    fn at_eof(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Skip blanks; is that the end? (testlib's `seekEof`)
    fn seek_eof(&mut self) -> bool {
        while self.data.get(self.pos).is_some_and(|&b| is_blank(b)) {
            self.pos += 1;
        }
        self.at_eof()
    }

    /// The next token, `what` naming it if the file has none left.
    fn token(&mut self, what: &str) -> Result<&'a [u8], Judgement> {
        if self.seek_eof() {
            return Err(self.bad(format!("unexpected end of file - {what} expected")));
        }
        let start = self.pos;
        while self.data.get(self.pos).is_some_and(|&b| !is_blank(b)) {
            self.pos += 1;
        }
        Ok(&self.data[start..self.pos])
    }

    fn long(&mut self) -> Result<i64, Judgement> {
        let t = self.token("int64")?;
        self.long_of(t)
    }

    fn int(&mut self) -> Result<i32, Judgement> {
        let t = self.token("int32")?;
        let v = self.long_of(t)?;
        i32::try_from(v).map_err(|_| self.bad(format!("expected an int32, found '{}'", shorten(t))))
    }

    fn long_of(&self, t: &[u8]) -> Result<i64, Judgement> {
        parse_long(t)
            .ok_or_else(|| self.bad(format!("expected an integer, found '{}'", shorten(t))))
    }

    fn double(&mut self) -> Result<f64, Judgement> {
        let t = self.token("double")?;
        parse_double(t)
            .ok_or_else(|| self.bad(format!("expected a double, found '{}'", shorten(t))))
    }

    /// The next line without its `\n` (testlib's `readString`): empty at the
    /// end of the file. A `\r` before the `\n` belongs to the line ending. A
    /// lone `\r` is dropped and the byte after it kept whatever it is, and a
    /// `\r` ending the file leaves a 0xFF byte (testlib's end-of-file mark
    /// cast to a char): quirks of testlib's reader, kept so that the same
    /// files get the same verdicts.
    fn line(&mut self) -> Vec<u8> {
        let mut line = Vec::new();
        while let Some(&b) = self.data.get(self.pos) {
            self.pos += 1;
            match (b, self.data.get(self.pos)) {
                (b'\n', _) => break,
                (b'\r', Some(b'\n')) => {
                    self.pos += 1;
                    break;
                }
                (b'\r', Some(&next)) => {
                    line.push(next);
                    self.pos += 1;
                }
                (b'\r', None) => line.push(0xFF),
                _ => line.push(b),
            }
        }
        line
    }
}

/// `0` or `-?[1-9][0-9]*`: the only spellings testlib takes for an integer.
fn is_integer(t: &[u8]) -> bool {
    let digits = t.strip_prefix(b"-").unwrap_or(t);
    match digits {
        [b'0'] => t.len() == 1,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

fn parse_long(t: &[u8]) -> Option<i64> {
    if !is_integer(t) {
        return None;
    }
    std::str::from_utf8(t).ok()?.parse().ok()
}

/// testlib first screens the token's characters, then has C's `sscanf` read
/// it whole. glibc's reads an exponent mark without digits at the end (`1e`,
/// `2.5E+`) as no exponent; otherwise its grammar for decimal numbers is
/// Rust's, so `parse` does the rest.
fn parse_double(t: &[u8]) -> Option<f64> {
    let count = |set: &[u8]| t.iter().filter(|b| set.contains(b)).count();
    let screened = t.iter().all(|b| b.is_ascii_digit() || b".eE+-".contains(b))
        && count(b"0123456789") > 0
        && count(b"-") <= 2
        && count(b"+") <= 2
        && count(b".") <= 1
        && count(b"eE") <= 1;
    if !screened {
        return None;
    }
    let t = match t {
        [m @ .., b'e' | b'E'] | [m @ .., b'e' | b'E', b'+' | b'-'] => m,
        _ => t,
    };
    std::str::from_utf8(t).ok()?.parse().ok()
}

/// Within `eps` absolutely. testlib asks whether the difference is too big,
/// which NaN is not: an infinity matches itself (their difference is NaN).
fn near(expected: f64, found: f64, eps: f64) -> bool {
    let d = (found - expected).abs();
    d <= eps + 1e-15 || d.is_nan()
}

/// testlib's notion of infinity: beyond ±1e300.
fn infinite(x: f64) -> bool {
    x.abs() > 1e300
}

/// testlib's `doubleCompare`: within `eps` absolutely or relatively to the
/// expected value (NaN never comes out of `parse_double`).
fn close(expected: f64, found: f64, eps: f64) -> bool {
    let eps = eps + 1e-15;
    if infinite(expected) {
        return infinite(found) && (found > 0.0) == (expected > 0.0);
    }
    if infinite(found) {
        return false;
    }
    if (found - expected).abs() <= eps {
        return true;
    }
    let (a, b) = (expected * (1.0 - eps), expected * (1.0 + eps));
    a.min(b) <= found && found <= a.max(b)
}

/// testlib's `doubleDelta`: the smaller of the absolute and relative errors.
fn delta(expected: f64, found: f64) -> f64 {
    let abs = (found - expected).abs();
    if expected.abs() <= 1e-9 {
        return abs;
    }
    abs.min((abs / expected).abs())
}

/// `x` with `digits` decimals, as C's `%.Nf` prints it.
fn fixed(x: f64, digits: usize) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    shorten(format!("{x:.digits$}"))
}

/// A value as the messages show it: at most 64 characters (the first 30,
/// `...`, the last 31, as testlib shortens), control characters as `~` so
/// the message stays on one line.
fn shorten(v: impl AsRef<[u8]>) -> String {
    let chars: Vec<char> = String::from_utf8_lossy(v.as_ref())
        .chars()
        .map(|c| if c.is_control() && c != '\t' { '~' } else { c })
        .collect();
    if chars.len() <= 64 {
        return chars.into_iter().collect();
    }
    let (head, tail) = (&chars[..30], &chars[chars.len() - 31..]);
    format!("{}...{}", String::from_iter(head), String::from_iter(tail))
}

/// 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 111th, ...
fn ordinal(n: usize) -> String {
    let suffix = match (n % 100 / 10, n % 10) {
        (1, _) => "th",
        (_, 1) => "st",
        (_, 2) => "nd",
        (_, 3) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// "1 number", "3 numbers".
fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// A sequence for a message: all of it up to five items, else the first
/// three and the last two.
fn summary<T: AsRef<[u8]>>(items: &[T]) -> String {
    let show = |s: &[T]| {
        s.iter()
            .map(|t| String::from_utf8_lossy(t.as_ref()).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let text = if items.len() <= 5 {
        show(items)
    } else {
        format!(
            "{} ... {}",
            show(&items[..3]),
            show(&items[items.len() - 2..])
        )
    };
    format!("'{}'", shorten(text))
}

/// "3 numbers: '1 2 3'"; "0 numbers".
fn listed<T: AsRef<[u8]>>(noun: &str, items: &[T]) -> String {
    if items.is_empty() {
        return plural(0, noun);
    }
    format!("{}: {}", plural(items.len(), noun), summary(items))
}

/// Token by token, exactly; a length mismatch is WA.
fn wcmp(ans: &mut Stream, out: &mut Stream) -> Outcome {
    let mut n = 0;
    let mut last: &[u8] = b"";
    while !ans.seek_eof() && !out.seek_eof() {
        n += 1;
        let (j, p) = (ans.token("token")?, out.token("token")?);
        if j != p {
            return Err(wa(format!(
                "{} words differ - expected: '{}', found: '{}'",
                ordinal(n),
                shorten(j),
                shorten(p)
            )));
        }
        last = j;
    }
    match (ans.seek_eof(), out.seek_eof()) {
        (true, true) if n == 1 => Ok(format!("'{}'", shorten(last))),
        (true, true) => Ok(plural(n, "token")),
        (true, false) => Err(wa(format!(
            "extra tokens in the output after the expected {}",
            plural(n, "token")
        ))),
        _ => Err(wa(format!(
            "unexpected EOF in the output after {}: the answer has more",
            plural(n, "token")
        ))),
    }
}

/// Line by line, for as many lines as the answer has: `lcmp` compares each
/// pair as token sequences, `fcmp` byte for byte.
fn lines(ans: &mut Stream, out: &mut Stream, as_tokens: bool) -> Outcome {
    let mut n = 0;
    let mut shown = Vec::new();
    while !ans.at_eof() {
        let j = ans.line();
        // An empty line that ends the answer is not compared: a final
        // newline, or one blank line after the last, asks nothing of the output.
        if j.is_empty() && ans.at_eof() {
            break;
        }
        let p = out.line();
        n += 1;
        let same = if as_tokens {
            words(&j) == words(&p)
        } else {
            j == p
        };
        if !same {
            return Err(wa(format!(
                "{} lines differ - expected: '{}', found: '{}'",
                ordinal(n),
                shorten(&j),
                shorten(&p)
            )));
        }
        // testlib's lcmp quotes the output's line, fcmp the answer's.
        shown = if as_tokens { p } else { j };
    }
    if n == 1 {
        return Ok(format!("single line: '{}'", shorten(&shown)));
    }
    Ok(plural(n, "line"))
}

/// lcmp's words of a line: split where C's `isspace` does, `\v` and `\f` too.
fn words(line: &[u8]) -> Vec<&[u8]> {
    line.split(|b| b" \t\n\x0b\x0c\r".contains(b))
        .filter(|w| !w.is_empty())
        .collect()
}

/// One integer of any size, compared as text.
fn hcmp(ans: &mut Stream, out: &mut Stream) -> Outcome {
    let j = ans.token("token")?;
    let p = out.token("token")?;
    if !is_integer(j) {
        return Err(fail(format!(
            "'{}' in the answer is not a valid integer",
            shorten(j)
        )));
    }
    if !ans.seek_eof() {
        return Err(fail("the answer has more than one token"));
    }
    if !is_integer(p) {
        return Err(pe(format!("'{}' is not a valid integer", shorten(p))));
    }
    if j != p {
        return Err(wa(format!(
            "expected '{}', found '{}'",
            shorten(j),
            shorten(p)
        )));
    }
    Ok(format!("answer is '{}'", shorten(j)))
}

/// Sequences of int64, in order; a length mismatch is WA.
fn ncmp(ans: &mut Stream, out: &mut Stream) -> Outcome {
    let (mut n, mut first) = (0, Vec::new());
    while !ans.seek_eof() && !out.seek_eof() {
        n += 1;
        let (j, p) = (ans.long()?, out.long()?);
        if j != p {
            return Err(wa(format!(
                "{} numbers differ - expected: '{j}', found: '{p}'",
                ordinal(n)
            )));
        }
        if n <= 5 {
            first.push(j.to_string());
        }
    }
    // The rest of either file must still be numbers (else JE or PE) before
    // the lengths are compared.
    let (more_ans, more_out) = (rest(ans, Stream::long)?, rest(out, Stream::long)?);
    if more_ans > 0 {
        return Err(wa(format!(
            "the answer has {}, the output only {n}",
            plural(n + more_ans, "number")
        )));
    }
    if more_out > 0 {
        return Err(wa(format!(
            "the output has {}, the answer only {n}",
            plural(n + more_out, "number")
        )));
    }
    Ok(if n <= 5 {
        listed("number", &first)
    } else {
        plural(n, "number")
    })
}

/// How many more items `read` finds in `s`, up to its end.
fn rest<'a, T>(
    s: &mut Stream<'a>,
    read: impl Fn(&mut Stream<'a>) -> Result<T, Judgement>,
) -> Result<usize, Judgement> {
    let mut k = 0;
    while !s.seek_eof() {
        read(s)?;
        k += 1;
    }
    Ok(k)
}

/// One int32.
fn icmp(ans: &mut Stream, out: &mut Stream) -> Outcome {
    let (j, p) = (ans.int()?, out.int()?);
    if j != p {
        return Err(wa(format!("expected {j}, found {p}")));
    }
    Ok(format!("answer is {j}"))
}

/// Sequences of int64 as multisets.
fn uncmp(ans: &mut Stream, out: &mut Stream) -> Outcome {
    let all = |s: &mut Stream| -> Result<Vec<i64>, Judgement> {
        let mut v = Vec::new();
        while !s.seek_eof() {
            v.push(s.long()?);
        }
        v.sort_unstable();
        Ok(v)
    };
    let (j, p) = (all(ans)?, all(out)?);
    if j.len() != p.len() {
        return Err(wa(format!(
            "expected {}, found {}",
            plural(j.len(), "number"),
            p.len()
        )));
    }
    if let Some(i) = (0..j.len()).find(|&i| j[i] != p[i]) {
        return Err(wa(format!(
            "the output is not the answer reordered: sorted, their {} numbers differ - expected: '{}', found: '{}'",
            ordinal(i + 1),
            j[i],
            p[i]
        )));
    }
    let sorted: Vec<String> = j.iter().map(i64::to_string).collect();
    Ok(listed("sorted number", &sorted))
}

/// One double, compared by `ok`.
fn one_double(ans: &mut Stream, out: &mut Stream, ok: impl Fn(f64, f64) -> bool) -> Outcome {
    let (j, p) = (ans.double()?, out.double()?);
    if !ok(j, p) {
        return Err(wa(format!(
            "expected {}, found {}",
            fixed(j, 10),
            fixed(p, 10)
        )));
    }
    Ok(format!("answer is {}", fixed(j, 10)))
}

/// As many doubles as the answer has, compared by `ok`, shown with
/// `digits` decimals. A short output is PE (a double expected at its end).
fn doubles(
    ans: &mut Stream,
    out: &mut Stream,
    digits: usize,
    ok: impl Fn(f64, f64) -> bool,
) -> Outcome {
    let (mut n, mut j, mut p) = (0, 0.0, 0.0);
    while !ans.seek_eof() {
        n += 1;
        (j, p) = (ans.double()?, out.double()?);
        if !ok(j, p) {
            return Err(wa(format!(
                "{} numbers differ - expected: '{}', found: '{}', error = '{}'",
                ordinal(n),
                fixed(j, digits),
                fixed(p, digits),
                fixed(delta(j, p), digits)
            )));
        }
    }
    if n == 1 {
        let (j, p, e) = (
            fixed(j, digits),
            fixed(p, digits),
            fixed(delta(j, p), digits),
        );
        return Ok(format!("found '{p}', expected '{j}', error '{e}'"));
    }
    Ok(plural(n, "number"))
}

/// `t` upper-cased if it is YES or NO in any letter case; anything else is
/// `s`'s fault.
fn yes_no(s: &Stream, t: &[u8], nth: &str) -> Result<String, Judgement> {
    let t = t.to_ascii_uppercase();
    if t != b"YES" && t != b"NO" {
        return Err(s.bad(format!(
            "YES or NO expected, but '{}' found{nth}",
            shorten(&t)
        )));
    }
    Ok(String::from_utf8_lossy(&t).into_owned())
}

/// One YES or NO. Both tokens are read before either is judged, as in
/// testlib: an empty output is PE even when the answer is malformed.
fn yesno(ans: &mut Stream, out: &mut Stream) -> Outcome {
    let (j, p) = (ans.token("token")?, out.token("token")?);
    let (j, p) = (yes_no(ans, j, "")?, yes_no(out, p, "")?);
    if j != p {
        return Err(wa(format!("expected {j}, found {p}")));
    }
    Ok(format!("answer is {j}"))
}

/// Sequences of YES or NO; a length mismatch is WA.
fn nyesno(ans: &mut Stream, out: &mut Stream) -> Outcome {
    let (mut n, mut yes, mut last) = (0, 0, String::new());
    while !ans.seek_eof() && !out.seek_eof() {
        n += 1;
        let nth = format!(" [{} token]", ordinal(n));
        let (j, p) = (ans.token("token")?, out.token("token")?);
        let (j, p) = (yes_no(ans, j, &nth)?, yes_no(out, p, &nth)?);
        if j != p {
            return Err(wa(format!("expected {j}, found {p}{nth}")));
        }
        yes += usize::from(p == "YES");
        last = p;
    }
    let token = |s: &mut Stream| s.token("token").map(drop);
    let (more_ans, more_out) = (rest(ans, token)?, rest(out, token)?);
    if more_ans > 0 {
        return Err(wa(format!(
            "the answer has {}, the output only {n}",
            plural(n + more_ans, "token")
        )));
    }
    if more_out > 0 {
        return Err(wa(format!(
            "the output has {}, the answer only {n}",
            plural(n + more_out, "token")
        )));
    }
    Ok(match n {
        0 => "empty output".to_string(),
        1 => last,
        _ => format!("{}: {yes} YES, {} NO", plural(n, "token"), n - yes),
    })
}

/// `Case k:` opening test case `k` (1-based); without reading `Case` unless
/// `read_case` (casencmp and casewcmp read it only for the first case: the
/// later ones' was read by the loop that ended the case before).
fn case_header(s: &mut Stream, k: usize, read_case: bool) -> Result<(), Judgement> {
    if read_case {
        let t = s.token("token")?;
        if t != b"Case" {
            return Err(s.bad(format!(
                "expected 'Case', found '{}' [test case {k}]",
                shorten(t)
            )));
        }
    }
    let want = format!("{k}:");
    let t = s.token("token")?;
    if t != want.as_bytes() {
        return Err(s.bad(format!(
            "expected '{want}', found '{}' [test case {k}]",
            shorten(t)
        )));
    }
    Ok(())
}

/// `Case k: <int64>` lines; the whole answer is read, then the output.
fn caseicmp(ans: &mut Stream, out: &mut Stream) -> Outcome {
    let all = |s: &mut Stream| -> Result<Vec<i64>, Judgement> {
        let mut v = Vec::new();
        while !s.seek_eof() {
            case_header(s, v.len() + 1, true)?;
            v.push(s.long()?);
        }
        Ok(v)
    };
    let (j, p) = (all(ans)?, all(out)?);
    if let Some(i) = (0..j.len().min(p.len())).find(|&i| j[i] != p[i]) {
        return Err(wa(format!(
            "expected {}, found {} [test case {}]",
            j[i],
            p[i],
            i + 1
        )));
    }
    // Only after every common case agrees does a count mismatch matter, and it is PE.
    if j.len() != p.len() {
        return Err(pe(format!(
            "expected {}, found {}",
            plural(j.len(), "test case"),
            p.len()
        )));
    }
    let shown: Vec<String> = j.iter().map(i64::to_string).collect();
    Ok(listed("test case", &shown))
}

/// `Case k: <token> <token> ...` (int64 tokens for `casencmp`), a case
/// running to the next `Case` token; as many cases as the answer has.
fn cases(ans: &mut Stream, out: &mut Stream, numbers: bool) -> Outcome {
    // The tokens of case k. Integers are canonical, so comparing their
    // spellings compares their values.
    let case = |s: &mut Stream<'_>, k: usize| -> Result<Vec<Vec<u8>>, Judgement> {
        case_header(s, k, k == 1)?;
        let mut v = Vec::new();
        while !s.seek_eof() {
            let t = s.token("token")?;
            if t == b"Case" {
                break;
            }
            if numbers {
                s.long_of(t)?;
            }
            v.push(t.to_vec());
        }
        Ok(v)
    };
    let mut k = 0;
    while !ans.seek_eof() {
        k += 1;
        let (j, p) = (case(ans, k)?, case(out, k)?);
        if j != p {
            return Err(wa(format!(
                "test case {k} differs - expected: {} [{}], found: {} [{}]",
                summary(&j),
                plural(j.len(), "token"),
                summary(&p),
                plural(p.len(), "token")
            )));
        }
    }
    Ok(plural(k, "test case"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verdict and message of checker `name` on `output` against `answer`.
    fn run(name: &str, output: &str, answer: &str) -> (Verdict, String) {
        let j = check(name, b"", output.as_bytes(), answer.as_bytes());
        assert!(!j.message.contains('\n'), "one line: {:?}", j.message);
        (j.verdict, j.message)
    }

    fn verdict(name: &str, output: &str, answer: &str) -> Verdict {
        run(name, output, answer).0
    }

    use Verdict::{AC, JE, PE, WA};

    #[test]
    fn names() {
        assert_eq!(known("std::wcmp.cpp"), Some("wcmp"));
        assert_eq!(known("wcmp"), Some("wcmp"));
        assert_eq!(known("rcmp9.cpp"), Some("rcmp9"));
        assert_eq!(known("std::testlib.h"), None);
        assert_eq!(known("WCMP"), None);
        assert!(NAMES
            .iter()
            .all(|n| known(&format!("std::{n}.cpp")) == Some(*n)));
        // Every name has an implementation: an empty output for an empty answer is judged, not JE.
        for n in NAMES {
            assert_ne!(
                run(n, "", "").1,
                format!("FAIL the standard checker '{n}' has no implementation")
            );
        }
        assert_eq!(verdict("std::nope.cpp", "1", "1"), JE);
    }

    #[test]
    fn helpers() {
        let o: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112, 1000]
            .map(ordinal)
            .to_vec();
        assert_eq!(
            o,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd",
                "101st", "111th", "112th", "1000th"
            ]
        );
        assert_eq!(shorten("a\0b\rc"), "a~b~c");
        let long: String = (0..100).map(|i| char::from(b'a' + i % 26)).collect();
        let short = shorten(&long);
        assert_eq!(short.chars().count(), 64);
        assert!(
            short.starts_with(&long[..30]) && short.ends_with(&long[69..]) && short.contains("...")
        );
        assert_eq!(shorten("é".repeat(64)), "é".repeat(64));
        assert_eq!(summary(&["1", "2", "3", "4", "5", "6"]), "'1 2 3 ... 5 6'");
        assert_eq!(listed("number", &[] as &[&str]), "0 numbers");
    }

    #[test]
    fn wcmp() {
        assert_eq!(
            run("wcmp", "1 2\n3", "1\n2 3\n\n"),
            (AC, "ok 3 tokens".into())
        );
        assert_eq!(
            run("wcmp", " hello\r\n", "hello"),
            (AC, "ok 'hello'".into())
        );
        assert_eq!(verdict("wcmp", "", ""), AC);
        assert_eq!(
            run("wcmp", "a c", "a b"),
            (
                WA,
                "wrong answer 2nd words differ - expected: 'b', found: 'c'".into()
            )
        );
        let (v, m) = run("wcmp", "a b c", "a b");
        assert_eq!(v, WA);
        assert!(m.contains("extra tokens in the output"), "{m}");
        let (v, m) = run("wcmp", "a", "a b");
        assert_eq!(v, WA);
        assert!(m.contains("unexpected EOF in the output"), "{m}");
        // Only space, \t, \r and \n separate tokens.
        assert_eq!(verdict("wcmp", "a\x0bb", "a b"), WA);
        assert_eq!(verdict("wcmp", "A", "a"), WA);
        let long = "x".repeat(1000);
        let (_, m) = run("wcmp", &long, "y");
        assert!(m.len() < 150, "{m}");
    }

    #[test]
    fn lcmp() {
        assert_eq!(
            run("lcmp", "1   2\n 3\n", "1 2\n3"),
            (AC, "ok 2 lines".into())
        );
        assert_eq!(
            run("lcmp", "a  b", "a b\n"),
            (AC, "ok single line: 'a  b'".into())
        );
        // Inside a line, C's whitespace separates words: \v and \f too.
        assert_eq!(verdict("lcmp", "a\x0bb", "a b"), AC);
        assert_eq!(
            run("lcmp", "1\n2 3\n", "1 2\n3\n"),
            (
                WA,
                "wrong answer 1st lines differ - expected: '1 2', found: '1'".into()
            )
        );
        assert_eq!(verdict("lcmp", "1\n", "1\n2\n"), WA);
        // Lines beyond the answer's: blank ones are fine, others extra data.
        assert_eq!(verdict("lcmp", "1\n\n  \n\n", "1\n"), AC);
        assert_eq!(verdict("lcmp", "1\n2\n", "1\n"), PE);
        // An answer line of blanks is met by an output that has ended.
        assert_eq!(verdict("lcmp", "1", "1\n  \n"), AC);
    }

    #[test]
    fn fcmp() {
        assert_eq!(
            run("fcmp", "a b\r\nc\r\n", "a b\nc"),
            (AC, "ok 2 lines".into())
        );
        assert_eq!(
            run("fcmp", "a b \n", "a b\n"),
            (
                WA,
                "wrong answer 1st lines differ - expected: 'a b', found: 'a b '".into()
            )
        );
        assert_eq!(verdict("fcmp", "a  b", "a b"), WA);
        assert_eq!(verdict("fcmp", " a", "a"), WA);
        // The final newline, and one empty line after it, ask nothing of the output.
        assert_eq!(verdict("fcmp", "a", "a\n\n"), AC);
        assert_eq!(verdict("fcmp", "a\nb", "a\n\n\n"), WA);
        assert_eq!(verdict("fcmp", "a\n", "a\n\n\n"), AC);
        assert_eq!(verdict("fcmp", "a\nb\n", "a\n"), PE);
        assert_eq!(run("fcmp", "", ""), (AC, "ok 0 lines".into()));
        // A lone \r is dropped; one ending the file is testlib's stray 0xFF.
        assert_eq!(verdict("fcmp", "ab", "a\rb"), AC);
        assert_eq!(verdict("fcmp", "a", "a\r"), WA);
        assert_eq!(verdict("fcmp", "a\r", "a\r"), AC);
    }

    #[test]
    fn hcmp() {
        let big = "-123456789012345678901234567890123456789";
        assert_eq!(run("hcmp", big, big), (AC, format!("ok answer is '{big}'")));
        assert_eq!(verdict("hcmp", "0", "0"), AC);
        assert_eq!(
            run("hcmp", "124", "123"),
            (WA, "wrong answer expected '123', found '124'".into())
        );
        assert_eq!(verdict("hcmp", "0123", "123"), PE);
        assert_eq!(verdict("hcmp", "-0", "0"), PE);
        assert_eq!(verdict("hcmp", "+5", "5"), PE);
        assert_eq!(verdict("hcmp", "5.0", "5"), PE);
        assert_eq!(verdict("hcmp", "", "5"), PE);
        assert_eq!(verdict("hcmp", "5 5", "5"), PE);
        assert_eq!(verdict("hcmp", "5", "05"), JE);
        assert_eq!(verdict("hcmp", "5", "5 6"), JE);
    }

    #[test]
    fn ncmp() {
        assert_eq!(
            run("ncmp", "1 2\n3", "1 2 3"),
            (AC, "ok 3 numbers: '1 2 3'".into())
        );
        assert_eq!(
            run("ncmp", "1 2 3 4 5 6", "1 2 3 4 5 6"),
            (AC, "ok 6 numbers".into())
        );
        assert_eq!(
            run("ncmp", "1 4 3", "1 3 3"),
            (
                WA,
                "wrong answer 2nd numbers differ - expected: '3', found: '4'".into()
            )
        );
        let (v, m) = run("ncmp", "1 2", "1 2 3");
        assert_eq!(v, WA);
        assert!(m.contains("answer has 3 numbers"), "{m}");
        let (v, m) = run("ncmp", "1 2 3", "1 2");
        assert_eq!(v, WA);
        assert!(m.contains("output has 3 numbers"), "{m}");
        // An extra token that is no number is PE before the lengths count.
        assert_eq!(verdict("ncmp", "1 2 x", "1 2"), PE);
        let (v, m) = run("ncmp", "1 two", "1 2");
        assert_eq!(
            (v, m.as_str()),
            (PE, "wrong output format expected an integer, found 'two'")
        );
        assert_eq!(
            verdict(
                "ncmp",
                "-9223372036854775808 9223372036854775807",
                "-9223372036854775808 9223372036854775807"
            ),
            AC
        );
        assert_eq!(verdict("ncmp", "9223372036854775808", "1"), PE);
        assert_eq!(verdict("ncmp", "-0", "0"), PE);
        assert_eq!(verdict("ncmp", "01", "1"), PE);
        assert_eq!(verdict("ncmp", "1", "1.0"), JE);
        assert_eq!(verdict("ncmp", "", ""), AC);
    }

    #[test]
    fn icmp() {
        assert_eq!(run("icmp", " 5\n", "5"), (AC, "ok answer is 5".into()));
        assert_eq!(
            run("icmp", "6", "5"),
            (WA, "wrong answer expected 5, found 6".into())
        );
        assert_eq!(verdict("icmp", "-2147483648", "-2147483648"), AC);
        assert_eq!(verdict("icmp", "2147483648", "5"), PE);
        assert_eq!(verdict("icmp", "5 5", "5"), PE);
        assert_eq!(verdict("icmp", "", "5"), PE);
        assert_eq!(verdict("icmp", "five", "5"), PE);
        // Only the answer's first token is read.
        assert_eq!(verdict("icmp", "5", "5 6"), AC);
        assert_eq!(verdict("icmp", "5", "2147483648"), JE);
        assert_eq!(verdict("icmp", "5", ""), JE);
    }

    #[test]
    fn uncmp() {
        assert_eq!(
            run("uncmp", "3 1 2", "1 2 3"),
            (AC, "ok 3 sorted numbers: '1 2 3'".into())
        );
        assert_eq!(verdict("uncmp", "", ""), AC);
        let (v, m) = run("uncmp", "1 1 2", "1 2 2");
        assert_eq!(v, WA);
        assert!(m.contains("expected: '2', found: '1'"), "{m}");
        assert_eq!(
            run("uncmp", "1 2", "1 2 3"),
            (WA, "wrong answer expected 3 numbers, found 2".into())
        );
        assert_eq!(verdict("uncmp", "1 2 x", "1 2 3"), PE);
        assert_eq!(verdict("uncmp", "1", "x"), JE);
    }

    #[test]
    fn rcmp_and_acmp() {
        for name in ["rcmp", "acmp"] {
            assert_eq!(
                run(name, "0.0000015", "0"),
                (AC, "ok answer is 0.0000000000".into())
            );
            assert_eq!(
                run(name, "0.0000016", "0"),
                (
                    WA,
                    "wrong answer expected 0.0000000000, found 0.0000016000".into()
                )
            );
            // Absolute error only: a large answer gets no relative slack.
            assert_eq!(verdict(name, "1000000001", "1000000000"), WA);
            assert_eq!(verdict(name, "-0", "0"), AC);
            assert_eq!(verdict(name, "1e400", "1e500"), AC);
            assert_eq!(verdict(name, "1e400", "1"), WA);
            assert_eq!(verdict(name, "1.", ".9999999"), AC);
            assert_eq!(verdict(name, "1e", "1"), AC);
            for bad in ["nan", "inf", "0x1p0", "1,5", "1-2", "--1", ""] {
                assert_eq!(verdict(name, bad, "1"), PE, "{bad:?}");
            }
            assert_eq!(verdict(name, "1 2", "1"), PE);
            assert_eq!(verdict(name, "1", "one"), JE);
        }
    }

    #[test]
    fn rcmp_sequences() {
        // Relative error: 1e6 against 1e6 + 1 is off by exactly 1e-6.
        assert_eq!(verdict("rcmp6", "1000001", "1000000"), AC);
        assert_eq!(verdict("rcmp9", "1000001", "1000000"), WA);
        assert_eq!(verdict("rcmp4", "1000100", "1000000"), AC);
        assert_eq!(verdict("rcmp4", "1000101", "1000000"), WA);
        // Absolute error near zero.
        assert_eq!(verdict("rcmp4", "0.0001", "0"), AC);
        assert_eq!(verdict("rcmp4", "0.00010001", "0"), WA);
        assert_eq!(verdict("rcmp9", "-0.000000001", "0"), AC);
        assert_eq!(verdict("rcmp9", "0.0000000011", "0"), WA);
        assert_eq!(
            run("rcmp6", "1 2.5", "1 2"),
            (WA, "wrong answer 2nd numbers differ - expected: '2.0000000', found: '2.5000000', error = '0.2500000'".into())
        );
        assert_eq!(
            run("rcmp4", "1.00001", "1"),
            (
                AC,
                "ok found '1.00001', expected '1.00000', error '0.00001'".into()
            )
        );
        assert_eq!(run("rcmp9", "1 2 3", "1 2 3"), (AC, "ok 3 numbers".into()));
        // Too few numbers: a number was expected at the output's end (PE); too many: extra data (PE).
        assert_eq!(verdict("rcmp6", "1", "1 2"), PE);
        assert_eq!(verdict("rcmp6", "1 2 3", "1 2"), PE);
        assert_eq!(verdict("rcmp6", "", ""), AC);
        assert_eq!(verdict("rcmp6", "1", ""), PE);
        // testlib's infinity is anything beyond 1e300, of the right sign.
        assert_eq!(verdict("rcmp9", "2e301", "1e301"), AC);
        assert_eq!(verdict("rcmp9", "-1e400", "1e400"), WA);
        assert_eq!(verdict("rcmp9", "1e300", "1e400"), WA);
        assert_eq!(verdict("rcmp9", "x", "1"), PE);
        assert_eq!(verdict("rcmp9", "1", "1 x"), JE);
        // rncmp: absolute error 1.5e-5 only.
        assert_eq!(verdict("rncmp", "0.000015 1", "0 1"), AC);
        assert_eq!(verdict("rncmp", "0.000016 1", "0 1"), WA);
        assert_eq!(verdict("rncmp", "1000001", "1000000"), WA);
    }

    #[test]
    fn dcmp() {
        assert_eq!(
            run("dcmp", "1000001", "1000000"),
            (AC, "ok answer is 1000000.0000000000".into())
        );
        assert_eq!(verdict("dcmp", "1000002", "1000000"), WA);
        assert_eq!(verdict("dcmp", "0.000001", "0"), AC);
        assert_eq!(verdict("dcmp", "0.0000011", "0"), WA);
        assert_eq!(verdict("dcmp", "1 1", "1"), PE);
    }

    #[test]
    fn yesno() {
        assert_eq!(
            run("yesno", "yEs\n", "YES"),
            (AC, "ok answer is YES".into())
        );
        assert_eq!(
            run("yesno", "no", "Yes"),
            (WA, "wrong answer expected YES, found NO".into())
        );
        assert_eq!(verdict("yesno", "Y", "YES"), PE);
        assert_eq!(verdict("yesno", "", "YES"), PE);
        assert_eq!(verdict("yesno", "YES YES", "YES"), PE);
        assert_eq!(verdict("yesno", "YES", "maybe"), JE);
        // The output is read before the answer is judged.
        assert_eq!(verdict("yesno", "", "maybe"), PE);
    }

    #[test]
    fn nyesno() {
        assert_eq!(
            run("nyesno", "yes\nNO yes", "YES no Yes"),
            (AC, "ok 3 tokens: 2 YES, 1 NO".into())
        );
        assert_eq!(run("nyesno", "no", "NO"), (AC, "ok NO".into()));
        assert_eq!(verdict("nyesno", "", ""), AC);
        assert_eq!(
            run("nyesno", "YES YES", "YES NO"),
            (WA, "wrong answer expected NO, found YES [2nd token]".into())
        );
        assert_eq!(verdict("nyesno", "YES", "YES NO"), WA);
        assert_eq!(verdict("nyesno", "YES NO maybe", "YES NO"), WA);
        assert_eq!(verdict("nyesno", "YES maybe", "YES NO"), PE);
        assert_eq!(verdict("nyesno", "YES NO", "YES maybe"), JE);
    }

    #[test]
    fn caseicmp() {
        let ans = "Case 1: 5\nCase 2: -7\n";
        assert_eq!(
            run("caseicmp", "Case 1: 5\nCase 2: -7", ans),
            (AC, "ok 2 test cases: '5 -7'".into())
        );
        assert_eq!(
            run("caseicmp", "Case 1: 5\nCase 2: 7", ans),
            (WA, "wrong answer expected -7, found 7 [test case 2]".into())
        );
        assert_eq!(verdict("caseicmp", "Case 1: 5", ans), PE);
        assert_eq!(verdict("caseicmp", "Case 1: 5\nCase 3: -7", ans), PE);
        assert_eq!(verdict("caseicmp", "case 1: 5\nCase 2: -7", ans), PE);
        assert_eq!(verdict("caseicmp", "Case 1: 5\nCase 2: x", ans), PE);
        assert_eq!(verdict("caseicmp", "Case 1: 5", "Case 1 5"), JE);
    }

    #[test]
    fn casencmp_and_casewcmp() {
        let ans = "Case 1: 1 2 3\nCase 2:\nCase 3: 4\n";
        assert_eq!(
            run("casencmp", "Case 1: 1 2\n3 Case 2: Case 3: 4", ans),
            (AC, "ok 3 test cases".into())
        );
        assert_eq!(
            run("casencmp", "Case 1: 1 2 3\nCase 2: 9\nCase 3: 4", ans),
            (
                WA,
                "wrong answer test case 2 differs - expected: '' [0 tokens], found: '9' [1 token]"
                    .into()
            )
        );
        assert_eq!(
            verdict("casencmp", "Case 1: 1 2 03\nCase 2:\nCase 3: 4", ans),
            PE
        );
        assert_eq!(
            verdict("casencmp", "Case 1: 1 2 3\nCase 3:\nCase 3: 4", ans),
            PE
        );
        assert_eq!(verdict("casencmp", "Case 1: 1 2 3\nCase 2:", ans), PE);
        // testlib's quirk: a lone `Case` after the last case goes unnoticed.
        assert_eq!(
            verdict("casencmp", "Case 1: 1 2 3\nCase 2:\nCase 3: 4\nCase", ans),
            AC
        );
        assert_eq!(verdict("casencmp", "Case 1: 1", "Case 1: x"), JE);

        let ans = "Case 1: hello world\nCase 2: bye\n";
        assert_eq!(
            verdict("casewcmp", "Case 1: hello\nworld Case 2: bye", ans),
            AC
        );
        assert_eq!(
            verdict("casewcmp", "Case 1: hello world\nCase 2: Bye", ans),
            WA
        );
        assert_eq!(
            verdict("casewcmp", "Case 1: hello world bye\nCase 2:", ans),
            WA
        );
        assert_eq!(verdict("casewcmp", "Case 1: hello world", ans), PE);
    }
}
