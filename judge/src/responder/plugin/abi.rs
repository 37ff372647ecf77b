//! The responder ABI, version 1, as the host reads it. The C header
//! `responders/include/judge_responder.h` is the authors' side of the same
//! contract; docs/responder-abi.md explains both.

/// The one version this judge speaks.
pub const VERSION: u32 = 1;

pub const STDOUT: u32 = 1;
pub const STDERR: u32 = 2;

pub const CONTINUE: u32 = 0;
pub const AC: u32 = 1;
pub const WA: u32 = 2;
pub const PE: u32 = 3;
pub const FAIL: u32 = 4;

pub const CLOSE_STDIN: u32 = 1;
pub const POINTS: u32 = 2;

/// The largest chunk of output one `judge_on_output` call carries: larger
/// reads are handed over in pieces, so that a module's buffer for them can
/// be static.
pub const CHUNK_MAX: usize = 64 * 1024;

/// A reply's message beyond this is cut: a verdict is a sentence.
pub const MESSAGE_MAX: usize = 4096;

/// One reply sends at most this much: the judge copies a reply out of
/// the responder's memory, and no exchange needs more (the input of a
/// non-interactive test, sent at the start, is the largest).
pub const REPLY_MAX: usize = 64 << 20;

/// The exported functions, by name.
pub const EXPORTS: [&str; 7] = [
    "judge_abi_version",
    "judge_buffer",
    "judge_new",
    "judge_start",
    "judge_on_output",
    "judge_on_exit",
    "judge_free",
];

/// A reply as the responder laid it out, its bytes still in the
/// responder's memory.
#[derive(Debug, Default, Clone, Copy)]
pub struct Reply<'a> {
    pub send: &'a [u8],
    pub message: &'a [u8],
    pub verdict: u32,
    pub flags: u32,
    pub points: f64,
}

/// The args block of `judge_new`: each word followed by a NUL byte.
pub fn args_block(words: &[String]) -> Vec<u8> {
    let mut b = Vec::new();
    for w in words {
        b.extend_from_slice(w.as_bytes());
        b.push(0);
    }
    b
}
