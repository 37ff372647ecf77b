//! Write a responder for the `judge` once, as an implementation of
//! [`Responder`]; [`export_responder!`] exports it through the judge's
//! responder ABI (version 1, `docs/responder-abi.md`), so that the same
//! crate builds as a native plugin (`crate-type = ["cdylib"]`, loaded with
//! `--responder native:FILE.so`) and as a WebAssembly module (target
//! `wasm32-unknown-unknown`, `--responder wasm:FILE.wasm`).
//!
//! ```
//! use judge_responder::{export_responder, Init, Reply, Responder, Stream};
//!
//! struct Echo;
//!
//! impl Responder for Echo {
//!     fn new(_init: Init<'_>) -> Result<Self, String> {
//!         Ok(Echo)
//!     }
//!     fn on_output(&mut self, stream: Stream, bytes: &[u8], reply: &mut Reply) {
//!         if stream == Stream::Stdout {
//!             reply.send(bytes);
//!         }
//!     }
//!     fn on_exit(&mut self, exit: judge_responder::Exit, reply: &mut Reply) {
//!         reply.accept("the program ended");
//!     }
//! }
//!
//! export_responder!(Echo);
//! ```
//!
//! A panic inside the responder does not cross into the judge: it becomes
//! a `JUDGE_FAIL` reply (JE) with the panic's message, and every later call
//! answers the same. (That holds for native builds. On `wasm32-unknown-unknown`
//! Rust aborts on a panic, which is a trap: still JE, but with the trap's
//! message, not the panic's.) An `Err` from [`Responder::new`] is reported
//! the same way, with its message, at the judge's first call.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// The ABI version this SDK speaks.
pub const ABI_VERSION: u32 = 1;

/// One of the program's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// How the program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    /// Its exit status, or `None` when a signal ended it.
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

/// What a responder is started with.
#[derive(Debug, Clone, Copy)]
pub struct Init<'a> {
    /// The words after the module's path in `--responder`.
    pub args: &'a [&'a str],
    /// The contents of `--input` (empty when not given).
    pub input: &'a [u8],
    /// The contents of `--answer` (empty when not given).
    pub answer: &'a [u8],
}

/// A verdict a responder can give.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    Accepted,
    /// Accepted with a score.
    Points(f64),
    WrongAnswer,
    PresentationError,
    /// The responder itself failed (JE): a bad test, a bug of ours.
    Fail,
}

/// What a call answers: bytes for the program's stdin, maybe a verdict.
#[derive(Debug, Default)]
pub struct Reply {
    send: Vec<u8>,
    verdict: Option<Verdict>,
    message: String,
    close_stdin: bool,
}

impl Reply {
    /// Queue bytes for the program's stdin.
    pub fn send(&mut self, bytes: &[u8]) {
        self.send.extend_from_slice(bytes);
    }

    /// Close the program's stdin after what was sent.
    pub fn close_stdin(&mut self) {
        self.close_stdin = true;
    }

    /// End with this verdict and message.
    pub fn verdict(&mut self, verdict: Verdict, message: impl Into<String>) {
        self.verdict = Some(verdict);
        self.message = message.into();
    }

    pub fn accept(&mut self, message: impl Into<String>) {
        self.verdict(Verdict::Accepted, message);
    }

    pub fn wrong_answer(&mut self, message: impl Into<String>) {
        self.verdict(Verdict::WrongAnswer, message);
    }

    pub fn presentation_error(&mut self, message: impl Into<String>) {
        self.verdict(Verdict::PresentationError, message);
    }

    pub fn fail(&mut self, message: impl Into<String>) {
        self.verdict(Verdict::Fail, message);
    }

    /// Whether a verdict was given.
    pub fn has_verdict(&self) -> bool {
        self.verdict.is_some()
    }
}

/// A responder: see the crate docs. Calls come in the order `new`,
/// `start`, `on_output`... until a reply carries a verdict, then `on_exit`
/// once the program has ended (unless a verdict came earlier). `on_exit`
/// must give a verdict.
pub trait Responder: Sized {
    fn new(init: Init<'_>) -> Result<Self, String>;

    /// Before any output: speak first here if the protocol says so.
    fn start(&mut self, _reply: &mut Reply) {}

    /// A chunk of the program's output, cut wherever the pipe cut it.
    fn on_output(&mut self, stream: Stream, bytes: &[u8], reply: &mut Reply);

    /// The program has ended and all its output was delivered.
    fn on_exit(&mut self, exit: Exit, reply: &mut Reply);
}

/// `struct judge_reply` of the C header, in this target's layout.
#[doc(hidden)]
#[repr(C)]
pub struct RawReply {
    send: *const u8,
    send_len: usize,
    message: *const u8,
    message_len: usize,
    verdict: u32,
    flags: u32,
    points: f64,
}

/// One session: the responder, its last reply, and whether it panicked.
#[doc(hidden)]
pub struct Slot<R> {
    responder: Option<R>,
    reply: Reply,
    raw: RawReply,
    failure: Option<String>,
}

/// Drop `x`, swallowing a panic in its Drop: nothing may unwind into the
/// host. A second panic's payload is leaked, since dropping it could panic
/// once more.
fn drop_quietly<T>(x: T) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(x))) {
        std::mem::forget(again);
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

impl<R: Responder> Slot<R> {
    /// Run `f` on the responder, catching a panic, and lay the reply out.
    #[doc(hidden)]
    pub fn call(&mut self, f: impl FnOnce(&mut R, &mut Reply)) -> *const RawReply {
        self.reply = Reply::default();
        if self.failure.is_none() {
            let (responder, reply) = (&mut self.responder, &mut self.reply);
            let caught = catch_unwind(AssertUnwindSafe(|| {
                if let Some(r) = responder.as_mut() {
                    f(r, reply)
                }
            }));
            if let Err(p) = caught {
                self.failure = Some(format!("the responder panicked: {}", panic_message(&*p)));
                // No more calls: drop it now, and its Drop may panic too.
                drop_quietly((p, self.responder.take()));
            }
        }
        if let Some(why) = &self.failure {
            self.reply = Reply::default();
            self.reply.fail(why.clone());
        }
        let r = &self.reply;
        let (verdict, points) = match r.verdict {
            None => (0, 0.0),
            Some(Verdict::Accepted) => (1, 0.0),
            Some(Verdict::Points(p)) => (1, p),
            Some(Verdict::WrongAnswer) => (2, 0.0),
            Some(Verdict::PresentationError) => (3, 0.0),
            Some(Verdict::Fail) => (4, 0.0),
        };
        let mut flags = 0;
        if r.close_stdin {
            flags |= 1;
        }
        if let Some(Verdict::Points(_)) = r.verdict {
            flags |= 2;
        }
        self.raw = RawReply {
            send: r.send.as_ptr(),
            send_len: r.send.len(),
            message: r.message.as_ptr(),
            message_len: r.message.len(),
            verdict,
            flags,
            points,
        };
        &self.raw
    }
}

/// The glue behind [`export_responder!`].
#[doc(hidden)]
pub mod glue {
    use super::*;
    use std::sync::Mutex;

    /// judge_buffer: wasm hosts copy arguments and chunks here. One region,
    /// reused: the host never holds two at once. It grows to what is asked:
    /// judge_new's arguments, input and answer come in one piece, as large
    /// as the test's input (a failed allocation aborts: JE).
    static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());

    pub fn buffer(len: usize) -> *mut u8 {
        if cfg!(not(target_family = "wasm")) {
            // Native hosts pass their own memory.
            return std::ptr::null_mut();
        }
        let mut b = match BUFFER.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        };
        if b.len() < len.max(1) {
            b.resize(len.max(1), 0);
        }
        b.as_mut_ptr()
    }

    unsafe fn slice<'a>(p: *const u8, len: usize) -> &'a [u8] {
        if len == 0 || p.is_null() {
            &[]
        } else {
            std::slice::from_raw_parts(p, len)
        }
    }

    /// judge_new: the responder in a heap slot. One that refuses to start
    /// (or panics doing so) still gets a slot, holding why, so that the
    /// judge's first call reports it as the responder's failure: a bare
    /// NULL would lose the message.
    ///
    /// # Safety
    /// The pointers and lengths describe readable memory (the ABI).
    pub unsafe fn new<R: Responder>(
        args: *const u8,
        args_len: usize,
        input: *const u8,
        input_len: usize,
        answer: *const u8,
        answer_len: usize,
    ) -> *mut Slot<R> {
        // Each word ends with a NUL: an empty word keeps its position.
        let args = slice(args, args_len);
        let args = args.strip_suffix(&[0]).unwrap_or(args);
        let words: Vec<&str> = if args_len == 0 {
            Vec::new()
        } else {
            args.split(|&b| b == 0)
                .map(|w| std::str::from_utf8(w).unwrap_or(""))
                .collect()
        };
        let init = Init {
            args: &words,
            input: slice(input, input_len),
            answer: slice(answer, answer_len),
        };
        let (responder, failure) = match catch_unwind(AssertUnwindSafe(|| R::new(init))) {
            Ok(Ok(r)) => (Some(r), None),
            Ok(Err(why)) => (None, Some(format!("could not start: {why}"))),
            Err(p) => {
                let why = format!("the responder panicked: {}", panic_message(&*p));
                drop_quietly(p);
                (None, Some(why))
            }
        };
        Box::into_raw(Box::new(Slot {
            responder,
            reply: Reply::default(),
            raw: RawReply {
                send: std::ptr::null(),
                send_len: 0,
                message: std::ptr::null(),
                message_len: 0,
                verdict: 0,
                flags: 0,
                points: 0.0,
            },
            failure,
        }))
    }

    /// # Safety
    /// `slot` came from [`new`] and was not freed.
    pub unsafe fn start<R: Responder>(slot: *mut Slot<R>) -> *const RawReply {
        (*slot).call(|r, reply| r.start(reply))
    }

    /// # Safety
    /// As [`start`], and the bytes are readable.
    pub unsafe fn on_output<R: Responder>(
        slot: *mut Slot<R>,
        stream: u32,
        bytes: *const u8,
        len: usize,
    ) -> *const RawReply {
        let stream = if stream == 2 {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        let bytes = slice(bytes, len);
        (*slot).call(|r, reply| r.on_output(stream, bytes, reply))
    }

    /// # Safety
    /// As [`start`].
    pub unsafe fn on_exit<R: Responder>(
        slot: *mut Slot<R>,
        code: i32,
        signal: i32,
    ) -> *const RawReply {
        let exit = Exit {
            code: if code == -1 && signal != 0 {
                None
            } else {
                Some(code)
            },
            signal: if signal != 0 { Some(signal) } else { None },
        };
        (*slot).call(|r, reply| r.on_exit(exit, reply))
    }

    /// # Safety
    /// As [`start`]; the slot is gone afterwards.
    pub unsafe fn free<R: Responder>(slot: *mut Slot<R>) {
        if !slot.is_null() {
            // A panic in the responder's Drop must not unwind into the judge.
            drop_quietly(Box::from_raw(slot));
        }
    }
}

/// Export a [`Responder`] through the ABI's C functions. Use once per
/// crate, in a crate built as a `cdylib`.
#[macro_export]
macro_rules! export_responder {
    ($t:ty) => {
        #[no_mangle]
        pub extern "C" fn judge_abi_version() -> u32 {
            $crate::ABI_VERSION
        }

        #[no_mangle]
        pub extern "C" fn judge_buffer(len: usize) -> *mut u8 {
            $crate::glue::buffer(len)
        }

        /// # Safety
        /// Called by the judge as the ABI says.
        #[no_mangle]
        pub unsafe extern "C" fn judge_new(
            args: *const u8,
            args_len: usize,
            input: *const u8,
            input_len: usize,
            answer: *const u8,
            answer_len: usize,
        ) -> *mut $crate::Slot<$t> {
            $crate::glue::new::<$t>(args, args_len, input, input_len, answer, answer_len)
        }

        /// # Safety
        /// Called by the judge as the ABI says.
        #[no_mangle]
        pub unsafe extern "C" fn judge_start(
            slot: *mut $crate::Slot<$t>,
        ) -> *const $crate::RawReply {
            $crate::glue::start(slot)
        }

        /// # Safety
        /// Called by the judge as the ABI says.
        #[no_mangle]
        pub unsafe extern "C" fn judge_on_output(
            slot: *mut $crate::Slot<$t>,
            stream: u32,
            bytes: *const u8,
            len: usize,
        ) -> *const $crate::RawReply {
            $crate::glue::on_output(slot, stream, bytes, len)
        }

        /// # Safety
        /// Called by the judge as the ABI says.
        #[no_mangle]
        pub unsafe extern "C" fn judge_on_exit(
            slot: *mut $crate::Slot<$t>,
            code: i32,
            signal: i32,
        ) -> *const $crate::RawReply {
            $crate::glue::on_exit(slot, code, signal)
        }

        /// # Safety
        /// Called by the judge as the ABI says.
        #[no_mangle]
        pub unsafe extern "C" fn judge_free(slot: *mut $crate::Slot<$t>) {
            $crate::glue::free(slot)
        }
    };
}
