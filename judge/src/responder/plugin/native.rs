//! Native plugins: a shared library loaded with dlopen, called through the
//! C ABI. The organiser's code, so trusted: it runs in the judge's process
//! with no memory or time cap (a CPU budget is checked after each call),
//! and a crash inside it is the judge's crash. The Rust SDK catches panics
//! at the boundary and turns them into a JE reply.

use std::collections::HashMap;
use std::ffi::{c_void, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::abi::{self, Reply};
use super::{Guest, GuestResult};

/// `struct judge_reply` in the platform's C layout.
#[repr(C)]
struct RawReply {
    send: *const u8,
    send_len: usize,
    message: *const u8,
    message_len: usize,
    verdict: u32,
    flags: u32,
    points: f64,
}

type Version = unsafe extern "C" fn() -> u32;
type New =
    unsafe extern "C" fn(*const u8, usize, *const u8, usize, *const u8, usize) -> *mut c_void;
type Start = unsafe extern "C" fn(*mut c_void) -> *const RawReply;
type OnOutput = unsafe extern "C" fn(*mut c_void, u32, *const u8, usize) -> *const RawReply;
type OnExit = unsafe extern "C" fn(*mut c_void, i32, i32) -> *const RawReply;
type Free = unsafe extern "C" fn(*mut c_void);

/// The entry points of one loaded library.
#[derive(Clone, Copy)]
struct Entries {
    new: New,
    start: Start,
    on_output: OnOutput,
    on_exit: OnExit,
    free: Free,
}

// SAFETY: plain function pointers into a library that stays loaded.
unsafe impl Send for Entries {}

/// Libraries stay loaded for the life of the process: unloading code that
/// may have registered thread-local destructors or atexit handlers is not
/// safe, and loading the same path again would return the same handle.
static LOADED: Mutex<Option<HashMap<PathBuf, Entries>>> = Mutex::new(None);

pub struct NativeGuest {
    entries: Entries,
    state: *mut c_void,
    made: bool,
}

impl NativeGuest {
    pub fn load(path: &Path) -> GuestResult<NativeGuest> {
        let path = std::fs::canonicalize(path).map_err(|e| e.to_string())?;
        let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
        let map = loaded.get_or_insert_with(HashMap::new);
        let entries = match map.get(&path) {
            Some(e) => *e,
            None => {
                let e = open(&path)?;
                map.insert(path, e);
                e
            }
        };
        Ok(NativeGuest {
            entries,
            state: std::ptr::null_mut(),
            made: false,
        })
    }

    fn reply(&self, raw: *const RawReply) -> GuestResult<Reply<'_>> {
        if raw.is_null() {
            return Ok(Reply::default());
        }
        // SAFETY: the ABI: a reply the responder keeps valid until the next
        // call; native code is trusted to point at what it says.
        let r = unsafe { &*raw };
        Ok(Reply {
            send: unsafe { bytes(r.send, r.send_len, "send")? },
            message: unsafe { bytes(r.message, r.message_len, "message")? },
            verdict: r.verdict,
            flags: r.flags,
            points: r.points,
        })
    }
}

unsafe fn bytes<'a>(p: *const u8, len: usize, what: &str) -> GuestResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() || len > isize::MAX as usize {
        return Err(format!(
            "the reply's {what} is {len} bytes at a null or impossible pointer"
        ));
    }
    Ok(std::slice::from_raw_parts(p, len))
}

fn dl_error() -> String {
    // SAFETY: dlerror returns a thread-local message or null.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown dlopen error".into()
    } else {
        // SAFETY: a NUL-terminated string from the loader.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

fn open(path: &Path) -> GuestResult<Entries> {
    super::open_regular(path).map_err(|e| e.to_string())?;
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: loading runs the library's constructors: trusted code.
    let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(format!("not a loadable shared library: {}", dl_error()));
    }
    let sym = |name: &str| -> GuestResult<*mut c_void> {
        let n = CString::new(name).unwrap();
        // SAFETY: a live handle and a NUL-terminated name.
        let p = unsafe { libc::dlsym(handle, n.as_ptr()) };
        if p.is_null() {
            Err(format!(
                "does not export {name}: not a judge responder (ABI version {})",
                abi::VERSION
            ))
        } else {
            Ok(p)
        }
    };
    let mut found = [std::ptr::null_mut(); abi::EXPORTS.len()];
    for (slot, name) in found.iter_mut().zip(abi::EXPORTS) {
        // A native host passes its own memory and never asks for a buffer:
        // a plugin need not export judge_buffer (the header says so).
        if name == "judge_buffer" {
            continue;
        }
        *slot = sym(name)?;
    }
    // SAFETY: the symbols have the ABI's signatures (the header declares
    // them); a library that lies about them is the organiser's bug.
    unsafe {
        let version: Version = std::mem::transmute(found[0]);
        let v = version();
        if v != abi::VERSION {
            return Err(format!(
                "speaks responder ABI version {v}, this judge speaks version {}",
                abi::VERSION
            ));
        }
        Ok(Entries {
            new: std::mem::transmute::<*mut c_void, New>(found[2]),
            start: std::mem::transmute::<*mut c_void, Start>(found[3]),
            on_output: std::mem::transmute::<*mut c_void, OnOutput>(found[4]),
            on_exit: std::mem::transmute::<*mut c_void, OnExit>(found[5]),
            free: std::mem::transmute::<*mut c_void, Free>(found[6]),
        })
    }
}

impl Guest for NativeGuest {
    fn new_state(&mut self, args: &[u8], input: &[u8], answer: &[u8]) -> GuestResult<()> {
        // SAFETY: the ABI's judge_new with valid slices.
        let s = unsafe {
            (self.entries.new)(
                args.as_ptr(),
                args.len(),
                input.as_ptr(),
                input.len(),
                answer.as_ptr(),
                answer.len(),
            )
        };
        if s.is_null() {
            return Err("returned NULL (the responder could not start)".into());
        }
        self.state = s;
        self.made = true;
        Ok(())
    }

    fn start(&mut self) -> GuestResult<Reply<'_>> {
        // SAFETY: the state judge_new returned.
        let r = unsafe { (self.entries.start)(self.state) };
        self.reply(r)
    }

    fn on_output(&mut self, stream: u32, bytes: &[u8]) -> GuestResult<Reply<'_>> {
        // SAFETY: as above, with a valid slice.
        let r =
            unsafe { (self.entries.on_output)(self.state, stream, bytes.as_ptr(), bytes.len()) };
        self.reply(r)
    }

    fn on_exit(&mut self, exit_code: i32, signal: i32) -> GuestResult<Reply<'_>> {
        // SAFETY: as above.
        let r = unsafe { (self.entries.on_exit)(self.state, exit_code, signal) };
        self.reply(r)
    }

    fn free(&mut self) {
        if std::mem::take(&mut self.made) {
            // SAFETY: the state judge_new returned, freed once.
            unsafe { (self.entries.free)(self.state) };
        }
    }
}
