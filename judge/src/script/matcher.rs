//! One output stream as a script reads it: the unread bytes, searched as
//! they arrive, never more than a window of them held.
//!
//! A literal is searched only in what arrived since the last search (plus
//! the needle's length less one, for a match across two reads), so a
//! flood costs one pass over it. What falls out of the window can no longer
//! start a match: a literal keeps its own length's worth of tail, a regular
//! expression matches within the window (1 MiB).

use memchr::memmem;

use super::{Captures, Pattern};

/// Unread bytes held at most.
pub const WINDOW: usize = 1 << 20;
/// Bytes of the unread output a failure message shows from each end.
const SHOWN_HEAD: usize = 1024;
const SHOWN_TAIL: usize = 1536;

#[derive(Default)]
pub struct StreamBuf {
    /// `buf[start..]` is unread.
    buf: Vec<u8>,
    start: usize,
    /// Searched up to here (index into `buf`) by the current literal.
    searched: usize,
    /// The front of the unread output fell out of the window: what is held
    /// no longer starts where the last match ended, so `^` must not match
    /// at its first byte. The byte before it is kept as context.
    cut: bool,
    /// The stream has ended.
    pub eof: bool,
    /// What arrived since the last match on this stream (all unread).
    since_match: Region,
    /// What arrived since the last step of the script passed.
    since_pass: Region,
}

/// Bytes that arrived since some moment: how many, and the first of them
/// (those may have left the window since).
#[derive(Default)]
struct Region {
    total: u64,
    head: Vec<u8>,
}

impl Region {
    fn add(&mut self, bytes: &[u8]) {
        if self.head.len() < SHOWN_HEAD {
            let n = (SHOWN_HEAD - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..n]);
        }
        self.total += bytes.len() as u64;
    }
}

/// A match: where it ends in the unread bytes, and the groups it took.
pub struct Found {
    pub end: usize,
    pub captures: Vec<(String, Vec<u8>)>,
}

impl StreamBuf {
    /// Add bytes the program wrote.
    pub fn push(&mut self, bytes: &[u8]) {
        self.since_match.add(bytes);
        self.since_pass.add(bytes);
        self.buf.extend_from_slice(bytes);
        let unread = self.buf.len() - self.start;
        if unread > WINDOW {
            // Out of the window: it can no longer start a match.
            self.start = self.buf.len() - WINDOW;
            self.cut = true;
        }
        self.compact();
    }

    fn compact(&mut self) {
        // Move the unread part to the front once the read part outweighs
        // it, keeping the byte before it after a cut.
        // (A flood keeps the window full: moved every half window, the
        // buffer stays within twice the window.)
        let keep = usize::from(self.cut);
        let read = self.start.saturating_sub(keep);
        if read > 0 && (read >= self.buf.len() - self.start || read >= WINDOW / 2) {
            let drop = self.start - keep;
            self.buf.drain(..drop);
            self.searched = self.searched.saturating_sub(drop);
            self.start = keep;
        }
    }

    pub fn unread(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// A new step looks at the stream: search from the first unread byte.
    pub fn restart_search(&mut self) {
        self.searched = self.start;
    }

    /// Look for the pattern in the unread bytes.
    pub fn find(
        &mut self,
        pattern: &Pattern,
        captures: &Captures,
        regex: Option<&regex::bytes::Regex>,
    ) -> Option<Found> {
        match pattern {
            Pattern::Literal(text) => {
                let needle = text.render(captures);
                if needle.is_empty() {
                    return Some(Found {
                        end: 0,
                        captures: Vec::new(),
                    });
                }
                let from = self
                    .searched
                    .saturating_sub(needle.len() - 1)
                    .max(self.start);
                let found = memmem::find(&self.buf[from..], &needle);
                self.searched = self.buf.len();
                found.map(|at| Found {
                    end: from + at + needle.len() - self.start,
                    captures: Vec::new(),
                })
            }
            Pattern::Regex(src) => {
                let re = regex?;
                // After a cut, search from the second byte of a haystack that
                // holds the one before: `^` and `\b` then see that the
                // unread output does not begin here.
                let lead = usize::from(self.cut && self.start > 0);
                let hay = &self.buf[self.start - lead..];
                let caps = re.captures_at(hay, lead)?;
                let end = caps.get(0).map_or(lead, |m| m.end()) - lead;
                let captures = src
                    .names
                    .iter()
                    .map(|n| {
                        (
                            n.clone(),
                            caps.name(n).map_or(Vec::new(), |m| m.as_bytes().to_vec()),
                        )
                    })
                    .collect();
                Some(Found { end, captures })
            }
        }
    }

    /// Consume the unread bytes up to `end` (a match's end).
    pub fn consume(&mut self, end: usize) {
        self.start += end;
        self.searched = self.start;
        self.cut = false;
        let rest = self.unread();
        self.since_match = Region {
            total: rest.len() as u64,
            head: rest[..rest.len().min(SHOWN_HEAD)].to_vec(),
        };
        self.compact();
    }

    /// A step passed.
    pub fn mark(&mut self) {
        self.since_pass = Region::default();
    }

    /// What a failure message shows: the unread output (what a step on
    /// this stream searched) or what arrived since the last step passed,
    /// all of it when short, else its first and last bytes with the count
    /// between.
    pub fn shown(&self, unread: bool) -> Shown {
        let region = if unread {
            &self.since_match
        } else {
            &self.since_pass
        };
        let held = self.unread();
        let total = region.total;
        // Both regions end with the newest byte, and only a match consumes.
        if total as usize <= SHOWN_HEAD + SHOWN_TAIL && total as usize <= held.len() {
            return Shown {
                head: held[held.len() - total as usize..].to_vec(),
                skipped: 0,
                tail: Vec::new(),
                total,
            };
        }
        let tail = held[held.len() - held.len().min(SHOWN_TAIL)..].to_vec();
        Shown {
            skipped: total.saturating_sub((region.head.len() + tail.len()) as u64),
            head: region.head.clone(),
            tail,
            total,
        }
    }
}

/// A stream's unread output, cut for a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    pub head: Vec<u8>,
    /// Bytes left out between head and tail.
    pub skipped: u64,
    pub tail: Vec<u8>,
    /// All unread bytes since the last match.
    pub total: u64,
}

impl Shown {
    /// As text, control characters and bytes that are not UTF-8 made
    /// visible (`\n`, `\x1b`), the cut marked.
    pub fn visible(&self) -> String {
        let mut s = visible(&self.head);
        if self.skipped > 0 || !self.tail.is_empty() {
            s.push_str(&format!("[... {} bytes ...]", self.skipped));
            s.push_str(&visible(&self.tail));
        }
        s
    }
}

/// Bytes as one line of text: printable characters as they are, the rest
/// escaped as in the script format.
pub fn visible(bytes: &[u8]) -> String {
    let mut s = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => s.push_str("\\n"),
                '\t' => s.push_str("\\t"),
                '\r' => s.push_str("\\r"),
                '\\' => s.push_str("\\\\"),
                '"' => s.push_str("\\\""),
                c if c.is_control() => {
                    if (c as u32) < 0x80 {
                        s.push_str(&format!("\\x{:02x}", c as u32))
                    } else {
                        s.push_str(&format!("\\u{{{:x}}}", c as u32))
                    }
                }
                c => s.push(c),
            }
        }
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::Text;

    #[test]
    fn a_literal_is_found_across_reads_and_consumed() {
        let mut s = StreamBuf::default();
        let p = Pattern::Literal(Text::literal(b"hello"));
        let c = Captures::default();
        s.push(b"xx hel");
        assert!(s.find(&p, &c, None).is_none());
        s.push(b"lo yy");
        let f = s.find(&p, &c, None).unwrap();
        assert_eq!(f.end, 8);
        s.consume(f.end);
        assert_eq!(s.unread(), b" yy");
    }

    #[test]
    fn a_flood_is_held_to_the_window() {
        let mut s = StreamBuf::default();
        let p = Pattern::Literal(Text::literal(b"never"));
        let chunk = vec![b'a'; 64 << 10];
        for _ in 0..100 {
            s.push(&chunk);
            assert!(s.find(&p, &Captures::default(), None).is_none());
            assert!(s.buf.capacity() <= 3 * WINDOW, "{}", s.buf.capacity());
        }
        let shown = s.shown(true);
        assert_eq!(shown.total, 100 * (64 << 10));
        assert_eq!(shown.head.len(), SHOWN_HEAD);
        assert_eq!(shown.tail.len(), SHOWN_TAIL);
        assert_eq!(
            shown.skipped,
            shown.total - (SHOWN_HEAD + SHOWN_TAIL) as u64
        );
    }

    #[test]
    fn an_anchor_does_not_match_where_the_window_cut() {
        let mut s = StreamBuf::default();
        let re = regex::bytes::Regex::new("^= 3\n").unwrap();
        let p = Pattern::Regex(crate::script::RegexSource {
            pieces: vec![],
            compiled: Some(re.clone()),
            names: vec![],
        });
        s.push(b"ERROR\n");
        for _ in 0..(WINDOW / 4 + 10) {
            s.push(b"= 3\n");
            assert!(s.find(&p, &Captures::default(), Some(&re)).is_none());
        }
    }

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(visible(b"a\n\x1b[0m\xff\"\t"), "a\\n\\x1b[0m\\xff\\\"\\t");
    }
}
