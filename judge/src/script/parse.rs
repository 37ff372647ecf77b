//! The script format, one step per line, and its JSON form.
//!
//! Every mistake is found before anything runs and reported as one line,
//! `FILE:LINE:COL: what is wrong`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Action, Header, Pattern, Piece, RegexSource, Script, Step, Text, DEFAULT_TIMEOUT};
use crate::limits::parse_duration;
use crate::responder::Stream;

/// A script that cannot be run, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.located())]
pub struct ParseError {
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl ParseError {
    /// `FILE:LINE:COL: message`, or `FILE: message` for the file as a
    /// whole (it cannot be read).
    fn located(&self) -> String {
        match self.line {
            0 => format!("{}: {}", self.file, self.message),
            l => format!("{}:{l}:{}: {}", self.file, self.col, self.message),
        }
    }
}

/// Read and parse a script file: the JSON form when its first character
/// (after blanks) is `[`, the line format otherwise.
pub fn parse_file(path: &Path) -> Result<Script, ParseError> {
    let text = read_script(path).map_err(|message| ParseError {
        file: path.display().to_string(),
        line: 0,
        col: 0,
        message,
    })?;
    let text = String::from_utf8(text).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        let line_start = bytes[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        // Characters, as every other column counts.
        let col = String::from_utf8_lossy(&bytes[line_start..at])
            .chars()
            .count() as u32
            + 1;
        ParseError {
            file: path.display().to_string(),
            line,
            col,
            message: "not UTF-8: write other bytes as \\xHH".into(),
        }
    })?;
    parse_str(path, &text)
}

/// The largest script read: a script is text a person or a program
/// wrote, and the judge reads it whole before anything runs.
const MAX_SCRIPT: u64 = 16 << 20;

/// A script's bytes: a regular file (a FIFO would be waited on forever,
/// `/dev/zero` read forever), at most MAX_SCRIPT bytes.
fn read_script(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let f = crate::responder::open_without_waiting(path)
        .map_err(|e| format!("cannot read the script: {e}"))?;
    let meta = f
        .metadata()
        .map_err(|e| format!("cannot read the script: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_SCRIPT {
        return Err(format!("{} bytes: a script is at most 16 MiB", meta.len()));
    }
    let mut text = Vec::new();
    f.take(MAX_SCRIPT + 1)
        .read_to_end(&mut text)
        .map_err(|e| format!("cannot read the script: {e}"))?;
    if text.len() as u64 > MAX_SCRIPT {
        return Err("a script is at most 16 MiB".into());
    }
    Ok(text)
}

/// Parse a script's text; `path` names it in errors.
pub fn parse_str(path: &Path, text: &str) -> Result<Script, ParseError> {
    // An editor's byte-order mark is not a step.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut b = Builder::new(path);
    let json = text.trim_start().starts_with('[');
    if json {
        json::parse(&mut b, text)?;
    } else {
        for (i, line) in text.lines().enumerate() {
            parse_line(&mut b, i as u32 + 1, line)?;
        }
    }
    // The implicit end is the last line's: of the file, or of the last
    // step in the JSON form.
    let last = if json {
        b.steps.iter().map(|s| s.line).max().unwrap_or(1)
    } else {
        text.lines().count() as u32
    };
    Ok(b.finish(last))
}

/// What a line or a JSON object says, before the checks that span steps.
enum Item {
    Run(Vec<String>),
    Limits(Vec<(String, String)>),
    Pty(Option<(u16, u16)>),
    /// A host file and, if given, its place below /box.
    File(PathBuf, Option<String>),
    Timeout(Duration),
    Expect {
        stream: Stream,
        what: Expected,
        within: Option<Duration>,
        /// The column of the pattern, for errors in it.
        at: u32,
    },
    Send {
        text: Text,
        raw: bool,
        at: u32,
    },
    Close,
}

enum Expected {
    Literal(Text),
    Regex(String),
    Eof,
    Exit(Option<i32>),
    Signal(i32),
}

/// The checks across steps: captures taken before use, headers first,
/// nothing sent after `close`, the current `timeout`.
struct Builder {
    file: String,
    path: PathBuf,
    header: Header,
    steps: Vec<Step>,
    timeout: Duration,
    captures: Vec<String>,
    closed: bool,
    exit_step: bool,
}

impl Builder {
    fn new(path: &Path) -> Builder {
        Builder {
            file: path.display().to_string(),
            path: path.to_path_buf(),
            header: Header::default(),
            steps: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            captures: Vec::new(),
            closed: false,
            exit_step: false,
        }
    }

    fn err(&self, line: u32, col: u32, message: impl Into<String>) -> ParseError {
        ParseError {
            file: self.file.clone(),
            line,
            col,
            message: message.into(),
        }
    }

    fn push(&mut self, line: u32, col: u32, source: String, item: Item) -> Result<(), ParseError> {
        let header = matches!(
            item,
            Item::Run(_) | Item::Limits(_) | Item::Pty(_) | Item::File(..)
        );
        if header && !self.steps.is_empty() {
            return Err(self.err(
                line,
                col,
                "run, limits, pty and file must come before the first step",
            ));
        }
        if self.exit_step && !header && !matches!(item, Item::Timeout(_)) {
            return Err(self.err(line, col, "nothing can follow the program's exit"));
        }
        let action = match item {
            Item::Run(argv) => {
                if self.header.run.is_some() {
                    return Err(self.err(line, col, "a second run step"));
                }
                self.header.run = Some((argv, line));
                return Ok(());
            }
            Item::Limits(l) => {
                self.header.limits.extend(l);
                return Ok(());
            }
            Item::Pty(size) => {
                self.header.pty = Some(size.unwrap_or((80, 24)));
                return Ok(());
            }
            Item::File(p, dest) => {
                self.header.files.push((p, dest, line));
                return Ok(());
            }
            Item::Timeout(d) => {
                self.timeout = d;
                return Ok(());
            }
            Item::Close => {
                if self.closed {
                    return Err(self.err(line, col, "stdin is already closed"));
                }
                self.closed = true;
                Action::Close
            }
            Item::Send { text, raw, at } => {
                if self.closed {
                    return Err(self.err(line, col, "nothing can be sent after close"));
                }
                self.check_captures(line, at, text.captures_used())?;
                Action::Send { text, raw }
            }
            Item::Expect {
                stream,
                what,
                within,
                at,
            } => {
                let within = within.unwrap_or(self.timeout);
                match what {
                    Expected::Literal(text) => {
                        self.check_captures(line, at, text.captures_used())?;
                        Action::Expect {
                            stream,
                            pattern: Pattern::Literal(text),
                            within,
                        }
                    }
                    Expected::Regex(src) => {
                        let regex = self.regex(line, at, &src)?;
                        Action::Expect {
                            stream,
                            pattern: Pattern::Regex(regex),
                            within,
                        }
                    }
                    Expected::Eof => Action::ExpectEof { stream, within },
                    Expected::Exit(code) => {
                        self.exit_step = true;
                        Action::ExpectExit { code, within }
                    }
                    Expected::Signal(signal) => {
                        self.exit_step = true;
                        Action::ExpectSignal { signal, within }
                    }
                }
            }
        };
        self.steps.push(Step {
            line,
            source,
            action,
        });
        Ok(())
    }

    fn check_captures<'a>(
        &self,
        line: u32,
        col: u32,
        used: impl Iterator<Item = &'a str>,
    ) -> Result<(), ParseError> {
        for name in used {
            if !self.captures.iter().any(|c| c == name) {
                return Err(self.err(
                    line,
                    col,
                    format!("unknown capture ${{{name}}}: no earlier expect /.../ has a group (?<{name}>...)"),
                ));
            }
        }
        Ok(())
    }

    /// Split out `${name}`, check the expression compiles (each capture
    /// standing in as a plain word), and learn its named groups.
    fn regex(&mut self, line: u32, col: u32, src: &str) -> Result<RegexSource, ParseError> {
        let pieces = split_regex_captures(src.as_bytes());
        let used: Vec<&str> = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Capture(n) => Some(n.as_str()),
                Piece::Bytes(_) => None,
            })
            .collect();
        self.check_captures(line, col, used.iter().copied())?;
        let trial: String = pieces
            .iter()
            .map(|p| match p {
                Piece::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                // As compile() puts a value: a group, so that a quantifier
                // after it applies to all of it.
                Piece::Capture(_) => "(?:x)".into(),
            })
            .collect();
        let compiled = regex::bytes::Regex::new(&trial).map_err(|e| {
            let why = e.to_string();
            // The crate's message spans lines (a caret under the source);
            // its last line says what is wrong.
            let last = why.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
            self.err(
                line,
                col,
                format!(
                    "invalid regular expression: {}",
                    last.trim().trim_start_matches("error: ")
                ),
            )
        })?;
        let names: Vec<String> = compiled
            .capture_names()
            .flatten()
            .map(String::from)
            .collect();
        for n in &names {
            if !self.captures.contains(n) {
                self.captures.push(n.clone());
            }
        }
        Ok(RegexSource {
            compiled: used.is_empty().then_some(compiled),
            pieces,
            names,
        })
    }

    fn finish(mut self, last_line: u32) -> Script {
        // Without an exit step: close stdin and expect exit code 0.
        if !self.exit_step {
            let line = last_line.max(1);
            if !self.closed {
                self.steps.push(Step {
                    line,
                    source: "close (at the end of the script)".into(),
                    action: Action::Close,
                });
            }
            self.steps.push(Step {
                line,
                source: "expect exit 0 (at the end of the script)".into(),
                action: Action::ExpectExit {
                    code: Some(0),
                    within: self.timeout,
                },
            });
        }
        Script {
            path: self.path,
            header: self.header,
            steps: self.steps,
        }
    }
}

/// `${name}` pieces of a regular expression: `\${` is the expression's own
/// escaped dollar sign, not a capture.
fn split_regex_captures(s: &[u8]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut from = 0;
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' {
            i += 2;
            continue;
        }
        if s[i] == b'$' && s.get(i + 1) == Some(&b'{') {
            if let Some(end) = s[i + 2..].iter().position(|&b| b == b'}') {
                let name = &s[i + 2..i + 2 + end];
                if is_name(name) {
                    if from < i {
                        pieces.push(Piece::Bytes(s[from..i].to_vec()));
                    }
                    pieces.push(Piece::Capture(String::from_utf8_lossy(name).into_owned()));
                    i += 3 + end;
                    from = i;
                    continue;
                }
            }
        }
        i += 1;
    }
    if from < s.len() {
        pieces.push(Piece::Bytes(s[from..].to_vec()));
    }
    pieces
}

/// `${name}` pieces of a text whose escapes are already decoded (the
/// JSON form's strings).
fn split_captures(s: &[u8]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut cur = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'$' && s.get(i + 1) == Some(&b'{') {
            if let Some(end) = s[i + 2..].iter().position(|&b| b == b'}') {
                let name = &s[i + 2..i + 2 + end];
                if is_name(name) {
                    if !cur.is_empty() {
                        pieces.push(Piece::Bytes(std::mem::take(&mut cur)));
                    }
                    pieces.push(Piece::Capture(String::from_utf8_lossy(name).into_owned()));
                    i += 3 + end;
                    continue;
                }
            }
        }
        cur.push(s[i]);
        i += 1;
    }
    if !cur.is_empty() {
        pieces.push(Piece::Bytes(cur));
    }
    pieces
}

fn is_name(n: &[u8]) -> bool {
    !n.is_empty()
        && !n[0].is_ascii_digit()
        && n.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A token of a line and the column (in characters, from 1) it starts at.
#[derive(Debug)]
enum Token {
    Word(String),
    Str(Text),
    Regex(String),
}

fn parse_line(b: &mut Builder, line: u32, text: &str) -> Result<(), ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let first = chars.iter().position(|c| !c.is_whitespace());
    // A `run` line is the rest of the line as shell words, comment and
    // all: its words are the program's, not the script's.
    if let Some(at) = first {
        let verb_end = chars[at..]
            .iter()
            .position(|c| c.is_whitespace())
            .map_or(chars.len(), |n| at + n);
        if chars[at..verb_end].iter().collect::<String>() == "run" {
            let col = at as u32 + 1;
            let after: String = chars[verb_end..].iter().collect();
            let argv = crate::words::split(after.trim()).map_err(|e| b.err(line, col + 4, e))?;
            if argv.is_empty() {
                return Err(b.err(line, col, "run needs a program"));
            }
            let source = chars[at..]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_string();
            return b.push(line, col, source, Item::Run(argv));
        }
    }
    // Only an expect has a /regex/; elsewhere a slash starts a word (a path).
    let regex_ok = first.is_some_and(|at| chars[at..].starts_with(&['e', 'x', 'p', 'e', 'c', 't']));
    let mut tokens: Vec<(u32, Token)> = Vec::new();
    let mut i = 0;
    let mut end = chars.len();
    while i < chars.len() {
        let c = chars[i];
        let col = i as u32 + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '#' {
            end = i;
            break;
        }
        let (tok, next) = match c {
            '"' => {
                let (t, n) = string(&chars, i).map_err(|(at, m)| b.err(line, at as u32 + 1, m))?;
                (Token::Str(t), n)
            }
            '/' if regex_ok => {
                let (r, n) =
                    regex_literal(&chars, i).map_err(|(at, m)| b.err(line, at as u32 + 1, m))?;
                (Token::Regex(r), n)
            }
            _ => {
                let mut j = i;
                while j < chars.len() && !chars[j].is_whitespace() {
                    j += 1;
                }
                (Token::Word(chars[i..j].iter().collect()), j)
            }
        };
        if next < chars.len() && !chars[next].is_whitespace() {
            return Err(b.err(line, next as u32 + 1, "expected a space here"));
        }
        tokens.push((col, tok));
        i = next;
    }
    if tokens.is_empty() {
        return Ok(());
    }
    let source: String = chars[..end].iter().collect::<String>().trim().to_string();
    let (col, verb) = match &tokens[0] {
        (col, Token::Word(w)) => (*col, w.clone()),
        (col, _) => return Err(b.err(line, *col, "a step starts with a verb (expect, send, ...)")),
    };
    let rest = &tokens[1..];
    let item = match verb.as_str() {
        "expect" => expect_line(b, line, col, rest)?,
        "send" | "send-raw" => {
            let raw = verb == "send-raw";
            match rest {
                [(at, Token::Str(t))] => Item::Send {
                    text: t.clone(),
                    raw,
                    at: *at,
                },
                [] => return Err(b.err(line, col, format!("{verb} needs a \"quoted string\""))),
                [(c, Token::Str(_)), ..] => {
                    return Err(b.err(line, rest[1].0.max(*c), "one string per send"))
                }
                [(c, _), ..] => return Err(b.err(line, *c, format!("{verb} needs a \"quoted string\""))),
            }
        }
        "close" => {
            no_more(b, line, rest)?;
            Item::Close
        }
        "timeout" => match rest {
            [(c, Token::Word(w))] => Item::Timeout(parse_duration(w).map_err(|e| b.err(line, *c, e))?),
            [_, (c, _), ..] => return Err(b.err(line, *c, "timeout takes one duration")),
            [(c, _)] => return Err(b.err(line, *c, "timeout takes a duration (2s, 300ms)")),
            [] => return Err(b.err(line, col, "timeout takes a duration (2s, 300ms)")),
        },
        "limits" => {
            let mut l = Vec::new();
            for (c, t) in rest {
                let Token::Word(w) = t else {
                    return Err(b.err(line, *c, "limits takes KEY=VALUE words"));
                };
                let (k, v) = w
                    .split_once('=')
                    .ok_or_else(|| b.err(line, *c, "limits takes KEY=VALUE words"))?;
                check_limit(k, v).map_err(|e| b.err(line, *c, e))?;
                l.push((k.to_string(), v.to_string()));
            }
            if l.is_empty() {
                return Err(b.err(line, col, "limits takes KEY=VALUE words (time=1s memory=64M)"));
            }
            Item::Limits(l)
        }
        "pty" => match rest {
            [] => Item::Pty(None),
            [(c, Token::Word(w))] => Item::Pty(Some(parse_size(w).map_err(|e| b.err(line, *c, e))?)),
            [(c, _), ..] => return Err(b.err(line, *c, "pty takes an optional COLSxROWS")),
        },
        "file" => {
            let word = |(c, t): &(u32, Token)| -> Result<String, ParseError> {
                match t {
                    Token::Word(w) => Ok(w.clone()),
                    Token::Str(t) if t.captures_used().next().is_none() => {
                        Ok(String::from_utf8_lossy(&t.render(&Default::default())).into_owned())
                    }
                    _ => Err(b.err(line, *c, "file takes a path and an optional place in /box")),
                }
            };
            match rest {
                [] => return Err(b.err(line, col, "file needs a path")),
                [src] => Item::File(PathBuf::from(word(src)?), None),
                [src, dest] => {
                    let d = word(dest)?;
                    check_dest(&d).map_err(|e| b.err(line, dest.0, e))?;
                    Item::File(PathBuf::from(word(src)?), Some(d))
                }
                [_, _, (c, _), ..] => {
                    return Err(b.err(line, *c, "file takes a path and an optional place in /box"))
                }
            }
        }
        other => {
            return Err(b.err(
                line,
                col,
                format!(
                    "unknown step {other:?}: expected expect, send, send-raw, close, timeout, run, limits, pty or file"
                ),
            ))
        }
    };
    b.push(line, col, source, item)
}

fn no_more(b: &Builder, line: u32, rest: &[(u32, Token)]) -> Result<(), ParseError> {
    match rest.first() {
        Some((c, _)) => Err(b.err(line, *c, "unexpected text after the step")),
        None => Ok(()),
    }
}

fn expect_line(
    b: &Builder,
    line: u32,
    col: u32,
    rest: &[(u32, Token)],
) -> Result<Item, ParseError> {
    let mut rest = rest;
    // `within DURATION` at the end.
    let mut within = None;
    if let [head @ .., (_, Token::Word(w)), (dc, d)] = rest {
        if w == "within" {
            let Token::Word(d) = d else {
                return Err(b.err(line, *dc, "within takes a duration (300ms, 2s)"));
            };
            within = Some(parse_duration(d).map_err(|e| b.err(line, *dc, e))?);
            rest = head;
        }
    }
    if let Some((c, Token::Word(w))) = rest.last() {
        if w == "within" {
            return Err(b.err(line, *c, "within takes a duration (300ms, 2s)"));
        }
    }
    let mut stream = Stream::Stdout;
    if let [(_, Token::Word(w)), tail @ ..] = rest {
        match w.as_str() {
            "stderr" => {
                stream = Stream::Stderr;
                rest = tail;
            }
            "stdout" => rest = tail,
            _ => {}
        }
    }
    let after_stream = rest.first().map_or(col, |(c, _)| *c);
    let what = match rest {
        [] => {
            return Err(b.err(
                line,
                col,
                "expect what? a \"string\", a /regex/, eof, exit N or signal NAME",
            ))
        }
        [(_, Token::Str(t))] => Expected::Literal(t.clone()),
        [(_, Token::Regex(r))] => Expected::Regex(r.clone()),
        [(_, Token::Word(w))] if w == "eof" => Expected::Eof,
        [(c, Token::Word(w)), tail @ ..] if w == "exit" || w == "signal" => {
            if stream == Stream::Stderr {
                return Err(b.err(line, *c, format!("{w} is not a stream's: drop stderr")));
            }
            let Some((vc, Token::Word(v))) = tail.first() else {
                let need = if w == "exit" {
                    "a code or any"
                } else {
                    "a signal name (SEGV) or number"
                };
                return Err(b.err(
                    line,
                    tail.first().map_or(*c, |t| t.0),
                    format!("expect {w} needs {need}"),
                ));
            };
            if let Some((ec, _)) = tail.get(1) {
                return Err(b.err(line, *ec, "unexpected text after the step"));
            }
            if w == "exit" {
                if v == "any" {
                    Expected::Exit(None)
                } else {
                    match v.parse::<i32>() {
                        Ok(n) if (0..=255).contains(&n) => Expected::Exit(Some(n)),
                        _ => {
                            return Err(b.err(
                                line,
                                *vc,
                                format!("invalid exit code {v:?}: expected 0 to 255 or any"),
                            ))
                        }
                    }
                }
            } else {
                Expected::Signal(
                    super::signal_number(v)
                        .ok_or_else(|| b.err(line, *vc, format!("unknown signal {v:?}")))?,
                )
            }
        }
        [(_, Token::Str(_) | Token::Regex(_)), (c, _), ..] => {
            return Err(b.err(
                line,
                *c,
                "unexpected text after the pattern (within DURATION goes last)",
            ))
        }
        [(c, Token::Word(w)), ..] => {
            return Err(b.err(
                line,
                *c,
                format!(
                    "expect what? {w:?} is not a \"string\", a /regex/, eof, exit N or signal NAME"
                ),
            ))
        }
    };
    Ok(Item::Expect {
        stream,
        what,
        within,
        at: after_stream,
    })
}

/// A place below /box: relative, no `..`, not empty.
fn check_dest(d: &str) -> Result<(), String> {
    let p = std::path::Path::new(d);
    let plain = !d.is_empty()
        && p.is_relative()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if plain {
        Ok(())
    } else {
        Err(format!(
            "{d:?}: a place in /box is a relative path without .."
        ))
    }
}

fn check_limit(key: &str, value: &str) -> Result<(), String> {
    match key {
        "time" | "wall" => parse_duration(value).map(|_| ()),
        "memory" => match crate::limits::parse_size(value)? {
            m if m < 1 << 20 => Err(format!("memory={value}: a memory limit is at least 1M")),
            _ => Ok(()),
        },
        "output" | "stderr" => crate::limits::parse_size(value).map(|_| ()),
        "processes" => value
            .parse::<u64>()
            .ok()
            .filter(|&n| (1..=4_194_304).contains(&n))
            .map(|_| ())
            .ok_or_else(|| format!("invalid processes {value:?}: a number from 1")),
        _ => Err(format!(
            "unknown limit {key:?}: expected time, wall, memory, output, stderr or processes"
        )),
    }
}

fn parse_size(s: &str) -> Result<(u16, u16), String> {
    let bad = || format!("invalid terminal size {s:?}: expected COLSxROWS, such as 80x24");
    let (c, r) = s.split_once('x').ok_or_else(bad)?;
    let c: u16 = c.parse().map_err(|_| bad())?;
    let r: u16 = r.parse().map_err(|_| bad())?;
    if c == 0 || r == 0 {
        return Err(bad());
    }
    Ok((c, r))
}

/// A terminal size as `--pty-size` takes it.
pub fn terminal_size(s: &str) -> Result<(u16, u16), String> {
    parse_size(s)
}

/// A double-quoted string starting at `chars[at]`: its text and the index
/// after the closing quote. Errors carry the index they point at.
fn string(chars: &[char], at: usize) -> Result<(Text, usize), (usize, String)> {
    let mut pieces = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut i = at + 1;
    let push_char = |cur: &mut Vec<u8>, c: char| {
        let mut buf = [0u8; 4];
        cur.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    loop {
        let Some(&c) = chars.get(i) else {
            return Err((at, "unterminated string: no closing \"".into()));
        };
        match c {
            '"' => break,
            '\\' => {
                let Some(&e) = chars.get(i + 1) else {
                    return Err((i, "unterminated string: no closing \"".into()));
                };
                i += 2;
                match e {
                    'n' => cur.push(b'\n'),
                    't' => cur.push(b'\t'),
                    'r' => cur.push(b'\r'),
                    '0' => cur.push(0),
                    'e' => cur.push(0x1b),
                    'b' => cur.push(0x08),
                    'f' => cur.push(0x0c),
                    '\\' | '"' | '\'' | '/' | '$' => cur.push(e as u8),
                    'x' => {
                        let hex: String = chars.get(i..i + 2).map(|s| s.iter().collect()).unwrap_or_default();
                        let v = u8::from_str_radix(&hex, 16)
                            .ok()
                            .filter(|_| hex.len() == 2)
                            .ok_or((i - 2, "\\x needs two hex digits (\\x1b)".to_string()))?;
                        cur.push(v);
                        i += 2;
                    }
                    'u' => {
                        let (c, n) = unicode_escape(chars, i).map_err(|m| (i - 2, m))?;
                        push_char(&mut cur, c);
                        i = n;
                    }
                    other => {
                        return Err((
                            i - 2,
                            format!("unknown escape \\{other}: use \\n \\t \\r \\0 \\e \\b \\f \\\\ \\\" \\' \\/ \\$ \\xHH \\u{{HEX}} \\uXXXX"),
                        ))
                    }
                }
                continue;
            }
            '$' if chars.get(i + 1) == Some(&'{') => {
                let close = chars[i + 2..].iter().position(|&c| c == '}');
                let name: Option<String> = close.map(|n| chars[i + 2..i + 2 + n].iter().collect());
                match name {
                    Some(n) if is_name(n.as_bytes()) => {
                        if !cur.is_empty() {
                            pieces.push(Piece::Bytes(std::mem::take(&mut cur)));
                        }
                        i += 3 + n.chars().count();
                        pieces.push(Piece::Capture(n));
                        continue;
                    }
                    _ => {
                        return Err((
                            i,
                            "${ starts a capture, ${name} with a name of letters, digits and _; write \\$ for a dollar sign".into(),
                        ))
                    }
                }
            }
            c => push_char(&mut cur, c),
        }
        i += 1;
    }
    if !cur.is_empty() {
        pieces.push(Piece::Bytes(cur));
    }
    Ok((Text(pieces), i + 1))
}

/// `\u{1F600}` or JSON's `\u00e9` (with a surrogate pair for what lies
/// beyond), `at` just after the `u`. Returns the char and the index after.
fn unicode_escape(chars: &[char], at: usize) -> Result<(char, usize), String> {
    let bad = || "\\u needs \\u{HEX} or four hex digits".to_string();
    if chars.get(at) == Some(&'{') {
        let close = chars[at..].iter().position(|&c| c == '}').ok_or_else(bad)?;
        let hex: String = chars[at + 1..at + close].iter().collect();
        let v = u32::from_str_radix(&hex, 16).map_err(|_| bad())?;
        let c = char::from_u32(v).ok_or_else(|| format!("\\u{{{hex}}} is not a character"))?;
        return Ok((c, at + close + 1));
    }
    let four = |i: usize| -> Option<u32> {
        let s: String = chars.get(i..i + 4)?.iter().collect();
        u32::from_str_radix(&s, 16).ok()
    };
    let hi = four(at).ok_or_else(bad)?;
    if (0xD800..0xDC00).contains(&hi) {
        if chars.get(at + 4..at + 6) == Some(&['\\', 'u']) {
            if let Some(lo) = four(at + 6).filter(|lo| (0xDC00..0xE000).contains(lo)) {
                let v = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return Ok((char::from_u32(v).ok_or_else(bad)?, at + 10));
            }
        }
        return Err("a \\u surrogate needs its pair".into());
    }
    Ok((
        char::from_u32(hi).ok_or_else(|| "\\u names no character".to_string())?,
        at + 4,
    ))
}

/// `/regex/` starting at `chars[at]`; `\/` stands for a slash.
fn regex_literal(chars: &[char], at: usize) -> Result<(String, usize), (usize, String)> {
    let mut out = String::new();
    let mut i = at + 1;
    loop {
        match chars.get(i) {
            None => return Err((at, "unterminated regular expression: no closing /".into())),
            Some('/') => break,
            Some('\\') if chars.get(i + 1) == Some(&'/') => {
                out.push('/');
                i += 2;
                continue;
            }
            Some('\\') if chars.get(i + 1).is_some() => {
                out.push('\\');
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            Some(&c) => out.push(c),
        }
        i += 1;
    }
    if out.is_empty() {
        return Err((at, "empty regular expression".into()));
    }
    Ok((out, i + 1))
}

/// The JSON form: an array of objects, one per step, each with its `line`
/// and one verb key. Strings are exact text (JSON's escapes only) in
/// which `${name}` is a capture and `$${` a literal `${`.
mod json {
    use super::*;
    use serde_json::Value;

    pub(super) fn parse(b: &mut Builder, text: &str) -> Result<(), ParseError> {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            b.err(
                e.line() as u32,
                e.column() as u32,
                format!("invalid JSON: {e}"),
            )
        })?;
        let Value::Array(steps) = v else {
            return Err(b.err(1, 1, "the JSON form is an array of steps"));
        };
        // Errors before any line is known point at line 1.
        let mut prev = 1;
        for (i, s) in steps.iter().enumerate() {
            let Value::Object(o) = s else {
                return Err(b.err(prev, 1, format!("step {} is not an object", i + 1)));
            };
            let line = match o.get("line") {
                Some(Value::Number(n)) => n
                    .as_u64()
                    .filter(|&n| n >= 1 && n <= u32::MAX as u64)
                    .ok_or_else(|| {
                        b.err(prev, 1, format!("step {}: line is a number from 1", i + 1))
                    })? as u32,
                _ => return Err(b.err(prev, 1, format!("step {}: needs \"line\": N", i + 1))),
            };
            prev = line;
            let source = serde_json::to_string(s).unwrap_or_default();
            let item = step(b, line, o)?;
            b.push(line, 1, source, item)?;
        }
        Ok(())
    }

    fn text(b: &Builder, line: u32, v: &Value, key: &str) -> Result<Text, ParseError> {
        let s = v
            .as_str()
            .ok_or_else(|| b.err(line, 1, format!("{key} takes a string")))?;
        let mut pieces = Vec::new();
        let mut rest = s.as_bytes();
        // `$${` is a literal `${`: split there, captures in each part.
        while let Some(at) = rest.windows(3).position(|w| w == b"$${") {
            pieces.extend(split_captures(&rest[..at]));
            pieces.push(Piece::Bytes(b"${".to_vec()));
            rest = &rest[at + 3..];
        }
        pieces.extend(split_captures(rest));
        Ok(Text(pieces))
    }

    fn duration(b: &Builder, line: u32, v: &Value, key: &str) -> Result<Duration, ParseError> {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(b.err(
                    line,
                    1,
                    format!("{key} takes a duration (\"300ms\", \"2s\")"),
                ))
            }
        };
        parse_duration(&s).map_err(|e| b.err(line, 1, e))
    }

    const VERBS: &[&str] = &[
        "expect",
        "expect_regex",
        "expect_eof",
        "expect_exit",
        "expect_signal",
        "send",
        "send_raw",
        "close",
        "timeout",
        "run",
        "limits",
        "pty",
        "file",
    ];

    fn step(
        b: &Builder,
        line: u32,
        o: &serde_json::Map<String, Value>,
    ) -> Result<Item, ParseError> {
        let verbs: Vec<&str> = o
            .keys()
            .map(String::as_str)
            .filter(|k| VERBS.contains(k))
            .collect();
        let verb = match verbs.as_slice() {
            [v] => *v,
            [] => return Err(b.err(line, 1, format!("a step needs one of {}", VERBS.join(", ")))),
            _ => {
                return Err(b.err(
                    line,
                    1,
                    format!("one verb per step, not {}", verbs.join(" and ")),
                ))
            }
        };
        let allowed: &[&str] = match verb {
            "expect" | "expect_regex" | "expect_eof" => &["stream", "within"],
            "expect_exit" | "expect_signal" => &["within"],
            _ => &[],
        };
        if let Some(k) = o
            .keys()
            .find(|k| *k != "line" && *k != verb && !allowed.contains(&k.as_str()))
        {
            return Err(b.err(line, 1, format!("unknown key {k:?} for {verb}")));
        }
        let v = &o[verb];
        let within = o
            .get("within")
            .map(|w| duration(b, line, w, "within"))
            .transpose()?;
        let stream = match o.get("stream").map(|s| s.as_str()) {
            None | Some(Some("stdout")) => Stream::Stdout,
            Some(Some("stderr")) => Stream::Stderr,
            Some(_) => return Err(b.err(line, 1, "stream is \"stdout\" or \"stderr\"")),
        };
        let expect = |what| Item::Expect {
            stream,
            what,
            within,
            at: 1,
        };
        Ok(match verb {
            "expect" => expect(Expected::Literal(text(b, line, v, verb)?)),
            "expect_regex" => expect(Expected::Regex(
                v.as_str()
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| b.err(line, 1, "expect_regex takes a non-empty string"))?
                    .to_string(),
            )),
            "expect_eof" => expect(Expected::Eof),
            "expect_exit" => expect(Expected::Exit(match v {
                Value::String(s) if s == "any" => None,
                Value::Number(n) => Some(
                    n.as_i64()
                        .filter(|n| (0..=255).contains(n))
                        .ok_or_else(|| b.err(line, 1, "expect_exit takes 0 to 255 or \"any\""))?
                        as i32,
                ),
                _ => return Err(b.err(line, 1, "expect_exit takes 0 to 255 or \"any\"")),
            })),
            "expect_signal" => {
                let name = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => {
                        return Err(b.err(
                            line,
                            1,
                            "expect_signal takes a name (\"SEGV\") or number",
                        ))
                    }
                };
                expect(Expected::Signal(
                    super::super::signal_number(&name)
                        .ok_or_else(|| b.err(line, 1, format!("unknown signal {name:?}")))?,
                ))
            }
            "send" | "send_raw" => Item::Send {
                text: text(b, line, v, verb)?,
                raw: verb == "send_raw",
                at: 1,
            },
            "close" => Item::Close,
            "timeout" => Item::Timeout(duration(b, line, v, verb)?),
            "run" => {
                let argv: Option<Vec<String>> = v
                    .as_array()
                    .and_then(|a| a.iter().map(|s| s.as_str().map(String::from)).collect());
                match argv {
                    Some(a) if !a.is_empty() => Item::Run(a),
                    _ => {
                        return Err(b.err(
                            line,
                            1,
                            "run takes an array of strings: [\"python3\", \"calc.py\"]",
                        ))
                    }
                }
            }
            "limits" => {
                let Value::Object(m) = v else {
                    return Err(b.err(line, 1, "limits takes an object: {\"time\": \"1s\"}"));
                };
                let mut l = Vec::new();
                for (k, val) in m {
                    let val = match val {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        _ => {
                            return Err(b.err(
                                line,
                                1,
                                format!("limit {k} takes a string or number"),
                            ))
                        }
                    };
                    check_limit(k, &val).map_err(|e| b.err(line, 1, e))?;
                    l.push((k.clone(), val));
                }
                Item::Limits(l)
            }
            "pty" => match v {
                Value::Bool(true) => Item::Pty(None),
                Value::String(s) => Item::Pty(Some(parse_size(s).map_err(|e| b.err(line, 1, e))?)),
                _ => return Err(b.err(line, 1, "pty takes true or \"COLSxROWS\"")),
            },
            "file" => match v {
                Value::String(p) => Item::File(PathBuf::from(p), None),
                Value::Array(a) if a.len() == 2 && a.iter().all(Value::is_string) => {
                    let dest = a[1].as_str().unwrap_or_default().to_string();
                    check_dest(&dest).map_err(|e| b.err(line, 1, e))?;
                    Item::File(PathBuf::from(a[0].as_str().unwrap_or_default()), Some(dest))
                }
                _ => return Err(b.err(line, 1, "file takes a path or [path, place in /box]")),
            },
            _ => unreachable!("every verb is handled"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Script, String> {
        parse_str(Path::new("t.conv"), s).map_err(|e| e.to_string())
    }

    #[test]
    fn steps_and_the_implicit_end() {
        let s = parse("# a comment\n\nexpect \"> \"  # prompt\nsend \"1 + 2\"\nexpect /= (?<sum>\\d+)/ within 300ms\nsend \"${sum}\"\n").unwrap();
        assert_eq!(s.steps.len(), 6);
        assert_eq!(s.steps[0].line, 3);
        assert_eq!(s.steps[0].source, "expect \"> \"");
        match &s.steps[2].action {
            Action::Expect {
                within,
                pattern: Pattern::Regex(r),
                ..
            } => {
                assert_eq!(*within, Duration::from_millis(300));
                assert_eq!(r.names, ["sum"]);
            }
            a => panic!("{a:?}"),
        }
        assert!(matches!(s.steps[4].action, Action::Close));
        assert!(matches!(
            s.steps[5].action,
            Action::ExpectExit { code: Some(0), .. }
        ));
    }

    #[test]
    fn paths_are_words_and_run_is_shell_words() {
        let s = parse("run /usr/bin/python3 '/box/a b.py' # not a comment\nfile /etc/hostname\nexpect /\\$\\{x\\}/\n").unwrap();
        assert_eq!(
            s.header.run.unwrap().0,
            [
                "/usr/bin/python3",
                "/box/a b.py",
                "#",
                "not",
                "a",
                "comment"
            ]
        );
        assert_eq!(s.header.files, [(PathBuf::from("/etc/hostname"), None, 2)]);
        let Action::Expect {
            pattern: Pattern::Regex(r),
            ..
        } = &s.steps[0].action
        else {
            panic!()
        };
        assert!(r.compiled.as_ref().unwrap().is_match(b"${x}"));
    }

    #[test]
    fn escapes() {
        let s = parse(r#"send-raw "a\n\t\x1b\xff\u{e9}\u00e9\$\"\\""#).unwrap();
        let Action::Send { text, raw: true } = &s.steps[0].action else {
            panic!()
        };
        assert_eq!(
            text.render(&Default::default()),
            b"a\n\t\x1b\xff\xc3\xa9\xc3\xa9$\"\\"
        );
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let cases = [
            ("send \"x", "t.conv:1:6: unterminated string: no closing \""),
            ("expect \"a\"\nfrob", "t.conv:2:1: unknown step \"frob\": expected expect, send, send-raw, close, timeout, run, limits, pty or file"),
            ("send \"${nope}\"", "t.conv:1:6: unknown capture ${nope}: no earlier expect /.../ has a group (?<nope>...)"),
            ("expect /(/", "t.conv:1:8: invalid regular expression: unclosed group"),
            ("expect \"a\" within soon", "t.conv:1:19: invalid duration \"soon\": use seconds (2, 0.5s) or milliseconds (500ms)"),
            ("expect exit 300", "t.conv:1:13: invalid exit code \"300\": expected 0 to 255 or any"),
            ("expect signal FOO", "t.conv:1:15: unknown signal \"FOO\""),
            ("close\nsend \"x\"", "t.conv:2:1: nothing can be sent after close"),
            ("send \"a\"\nrun ./x", "t.conv:2:1: run, limits, pty and file must come before the first step"),
            ("send \"a\\q\"", "t.conv:1:8: unknown escape \\q: use \\n \\t \\r \\0 \\e \\b \\f \\\\ \\\" \\' \\/ \\$ \\xHH \\u{HEX} \\uXXXX"),
            ("expect exit 0\nsend \"x\"", "t.conv:2:1: nothing can follow the program's exit"),
            ("limits time=fast", "t.conv:1:8: invalid duration \"fast\": use seconds (2, 0.5s) or milliseconds (500ms)"),
            ("expect \"a\"\"b\"", "t.conv:1:11: expected a space here"),
        ];
        for (src, want) in cases {
            assert_eq!(parse(src).unwrap_err(), want, "{src}");
        }
    }

    #[test]
    fn json_form_is_the_same_steps() {
        let s = parse(
            r#"[{"line": 1, "run": ["python3", "calc.py"]},
                {"line": 2, "expect_regex": "= (?<n>\\d+)", "within": "300ms"},
                {"line": 3, "send": "${n} and $${x}"},
                {"line": 4, "expect": "oops", "stream": "stderr"},
                {"line": 5, "expect_exit": 3}]"#,
        )
        .unwrap();
        assert_eq!(
            s.header.run.map(|r| r.0),
            Some(vec!["python3".to_string(), "calc.py".into()])
        );
        assert_eq!(s.steps.len(), 4);
        let mut c = super::super::Captures::default();
        c.set("n", b"7".to_vec());
        let Action::Send { text, .. } = &s.steps[1].action else {
            panic!()
        };
        assert_eq!(text.render(&c), b"7 and ${x}");
        assert_eq!(
            parse(r#"[{"line": 4, "sned": "x"}]"#).unwrap_err(),
            "t.conv:4:1: a step needs one of expect, expect_regex, expect_eof, expect_exit, expect_signal, send, send_raw, close, timeout, run, limits, pty, file"
        );
    }
}
