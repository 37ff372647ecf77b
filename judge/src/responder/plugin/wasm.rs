//! WebAssembly responders in wasmtime. Untrusted: the module imports
//! nothing (no file system, no network, no clock), its linear memory is
//! capped, and every call is interrupted once the responder's time budget
//! is spent (epoch interruption: a process-wide ticker advances the epoch,
//! each call gets a deadline in ticks). A trap, a stray pointer or an
//! exhausted budget ends the session with JE.
//!
//! A module may instead be a WASI command (`_start`, imports from
//! `wasi_snapshot_preview1`): it is compiled and cached here too, and run
//! by [`crate::responder::wasi`].
//!
//! Compiling is the expensive part, so each module is compiled once per
//! process and pre-linked ([`InstancePre`]); a session costs one
//! instantiation.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use wasmtime::{
    Config, Engine, InstancePre, Linker, Memory, Module, ResourceLimiter, Store, Trap, TypedFunc,
};

use super::abi::{self, Reply};
use super::module_cache;
use super::{Guest, GuestResult};
use crate::limits::ResponderLimits;

/// How often the epoch advances: the granularity of the time budget.
pub(crate) const TICK: Duration = Duration::from_millis(5);

/// The largest module file compiled. Compiling runs in the judge, outside
/// any time budget, for a time that grows with the module: this bounds it
/// (a checker or interactor compiled to wasm is well under a megabyte).
const MODULE_MAX: u64 = 16 << 20;

/// Size of `struct judge_reply` on wasm32.
const REPLY_LEN: usize = 32;

/// What the store knows: the memory cap and whether it was hit.
///
/// The cap covers everything the module can make the host allocate: its
/// linear memory and its tables (a `funcref` slot is a pointer here).
/// One total, not a cap per memory or table, or a module would multiply
/// it by declaring more of them.
pub(crate) struct MemoryCap {
    pub(crate) memory_max: usize,
    pub(crate) memory_hit: bool,
    /// Bytes of linear memory and tables now, and at most.
    memory_now: usize,
    pub(crate) memory_peak: usize,
    /// The figures before the last approved growth: a growth the limiter
    /// approved can still fail (the host's allocation), and then it must
    /// not count.
    before_grow: (usize, usize),
}

/// Host bytes per table element.
const TABLE_SLOT: usize = std::mem::size_of::<usize>();

impl MemoryCap {
    pub(crate) fn new(memory_max: u64) -> Self {
        MemoryCap {
            memory_max: usize::try_from(memory_max).unwrap_or(usize::MAX),
            memory_hit: false,
            memory_now: 0,
            memory_peak: 0,
            before_grow: (0, 0),
        }
    }

    fn grow(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if maximum.is_some_and(|m| desired > m) {
            // Fails by the module's own declaration: not ours to count.
            return Ok(false);
        }
        let total = self
            .memory_now
            .saturating_sub(current)
            .saturating_add(desired);
        if total > self.memory_max {
            // An error traps: the module cannot carry on with a failed
            // allocation and be charged nothing for it.
            self.memory_hit = true;
            return Err(wasmtime::format_err!("memory limit reached"));
        }
        self.before_grow = (self.memory_now, self.memory_peak);
        self.memory_now = total;
        self.memory_peak = self.memory_peak.max(total);
        Ok(true)
    }

    fn grow_failed(&mut self) -> wasmtime::Result<()> {
        (self.memory_now, self.memory_peak) = self.before_grow;
        Ok(())
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(current, desired, maximum)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let bytes = |n: usize| n.saturating_mul(TABLE_SLOT);
        self.grow(bytes(current), bytes(desired), maximum.map(bytes))
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.grow_failed()
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.grow_failed()
    }
}

/// The wasm call stack of a WASI command: a process's usual 8 MiB, as the
/// same source has natively (recursion deep enough for a DFS over 10^5
/// nodes). Its fiber is that plus room for the host functions below it.
const WASI_STACK: usize = 8 << 20;

/// The process's two engines, with one epoch ticker for both: ABI modules
/// are called on the caller's thread, whose stack may be small (a worker
/// thread's 2 MiB), so they keep wasmtime's default 512 KiB of wasm stack;
/// a WASI command runs on a fiber of its own, as deep as [`WASI_STACK`].
struct Engines {
    abi: Engine,
    wasi: Engine,
}

fn engines() -> GuestResult<&'static Engines> {
    static ENGINES: OnceLock<Result<Engines, String>> = OnceLock::new();
    ENGINES
        .get_or_init(|| {
            let config = |deep: bool| {
                let mut config = Config::new();
                config.epoch_interruption(true);
                // The ABI has one memory, the exported one: more would only
                // be a way around the accounting.
                config.wasm_multi_memory(false);
                if deep {
                    config.max_wasm_stack(WASI_STACK);
                    config.async_stack_size(WASI_STACK + (1 << 20));
                }
                Engine::new(&config).map_err(|e| format!("starting wasmtime: {e}"))
            };
            let engines = Engines {
                abi: config(false)?,
                wasi: config(true)?,
            };
            let ticking = (engines.abi.clone(), engines.wasi.clone());
            std::thread::Builder::new()
                .name("judge-wasm-epoch".into())
                .spawn(move || loop {
                    std::thread::sleep(TICK);
                    ticking.0.increment_epoch();
                    ticking.1.increment_epoch();
                })
                .map_err(|e| format!("starting the epoch ticker: {e}"))?;
            Ok(engines)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The engine of modules of the event ABI.
pub(crate) fn engine() -> GuestResult<&'static Engine> {
    engines().map(|e| &e.abi)
}

/// Whether a binary module's exports make it a WASI command (`_start`,
/// and not the ABI's first export), read without compiling it, so that it
/// is compiled by the engine it runs on. `None` for text, which is parsed
/// only by compiling.
fn exports_a_command(source: &[u8]) -> Option<bool> {
    use wasmtime::wasmparser::{Parser, Payload};
    let (mut start, mut abi) = (false, false);
    for payload in Parser::new(0).parse_all(source) {
        if let Payload::ExportSection(exports) = payload.ok()? {
            for e in exports {
                let name = e.ok()?.name;
                start |= name == "_start";
                abi |= name == abi::EXPORTS[0];
            }
        }
    }
    Some(start && !abi)
}

/// `source` from the disk cache of `engine`, or compiled by it now.
fn load_or_compile(engine: &Engine, source: &[u8]) -> GuestResult<(Module, Origin)> {
    let disk = module_cache::open(engine);
    if let Some(m) = disk.as_ref().and_then(|c| c.load(engine, source)) {
        return Ok((m, Origin::Disk));
    }
    // Binary or text (.wat): wasmtime tells them apart by content.
    let module = Module::new(engine, source).map_err(|e| {
        if source.starts_with(b"\x7fELF") {
            "is a native executable (ELF), not a WebAssembly module: build it with \
             clang --target=wasm32-wasi (a WASI command) or --target=wasm32 (the responder ABI)"
                .to_string()
        } else {
            format!("not a WebAssembly module: {}", first_line(&e))
        }
    })?;
    if let Some(cache) = &disk {
        cache.store(source, &module);
    }
    Ok((module, Origin::Compiled))
}

/// Modules kept compiled in one process. Each holds its code and a memory
/// image (a descriptor): a long-lived judge (`judge serve`, a grader
/// linking the library) that meets many modules keeps only the ones it
/// used last.
const PROCESS_CACHE_MAX: usize = 16;

/// The process's compiled modules, by path: a changed file replaces its
/// entry.
#[derive(Default)]
struct ProcessCache {
    entries: HashMap<PathBuf, Entry>,
    uses: u64,
}

struct Entry {
    id: FileId,
    loaded: Loaded,
    used: u64,
    /// Where the code came from, until a session has said so: a look at
    /// the module's kind before its session ([`kind_of`]) must not make
    /// that session report it as compiled earlier in this process.
    unreported: Option<Origin>,
}

impl ProcessCache {
    fn get(&mut self, id: &FileId, session: bool) -> Option<(Loaded, Origin)> {
        self.uses += 1;
        let e = self.entries.get_mut(&id.path)?;
        if e.id != *id {
            return None;
        }
        e.used = self.uses;
        let origin = match session {
            true => e.unreported.take(),
            false => None,
        };
        Some((e.loaded.clone(), origin.unwrap_or(Origin::Process)))
    }

    fn insert(&mut self, id: FileId, loaded: Loaded, unreported: Option<Origin>) {
        self.uses += 1;
        if self.entries.len() >= PROCESS_CACHE_MAX && !self.entries.contains_key(&id.path) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(p, _)| p.clone());
            if let Some(p) = oldest {
                self.entries.remove(&p);
            }
        }
        let used = self.uses;
        self.entries.insert(
            id.path.clone(),
            Entry {
                id,
                loaded,
                used,
                unreported,
            },
        );
    }
}

/// A module file as it was when compiled: a changed file is compiled again.
#[derive(PartialEq, Eq)]
struct FileId {
    path: PathBuf,
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i64,
}

/// A module compiled and linked for this process, by the way it speaks.
#[derive(Clone)]
pub(crate) enum Loaded {
    /// The event ABI of [`abi`]: imports nothing, exports `judge_*`.
    Abi(InstancePre<MemoryCap>),
    /// A WASI preview1 command: exports `_start`, imports only
    /// `wasi_snapshot_preview1` (see [`crate::responder::wasi`]).
    Wasi(InstancePre<crate::responder::wasi::WasiState>),
}

/// How a module speaks to the judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleKind {
    Abi,
    WasiCommand,
}

/// A module compiled for this process, and where its code came from.
pub struct Compiled(pub(crate) Loaded, pub(crate) Origin);

/// Whether the module at `path` speaks the event ABI or is a WASI
/// command: compiled (and cached) to find out, so a module that is neither
/// is refused here with the reason.
pub fn kind_of(path: &Path) -> GuestResult<ModuleKind> {
    Ok(match compile_cached(path, false)?.0 {
        Loaded::Abi(_) => ModuleKind::Abi,
        Loaded::Wasi(_) => ModuleKind::WasiCommand,
    })
}

/// Where a session's compiled module came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Compiled earlier in this process.
    Process,
    /// Loaded from the on-disk cache ([`super::module_cache`]).
    Disk,
    /// Compiled now.
    Compiled,
}

impl Origin {
    pub fn name(self) -> &'static str {
        match self {
            Origin::Process => "process",
            Origin::Disk => "disk",
            Origin::Compiled => "compiled",
        }
    }
}

/// The module at `path`, compiled once per process and, across processes,
/// kept on disk: judging a thousand tests compiles it once.
pub fn compiled(path: &Path) -> GuestResult<Compiled> {
    compile_cached(path, true).map(|(pre, origin)| Compiled(pre, origin))
}

/// `session`: the module is compiled for a session, which reports where
/// its code came from.
fn compile_cached(path: &Path, session: bool) -> GuestResult<(Loaded, Origin)> {
    static CACHE: Mutex<Option<ProcessCache>> = Mutex::new(None);
    // One open file for the identity and the bytes: a path swapped between
    // a stat and a read would cache one file's code under another's id.
    let mut file = super::open_regular(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    let id = FileId {
        path: path.to_path_buf(),
        dev: meta.dev(),
        ino: meta.ino(),
        size: meta.size(),
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
    };
    if let Some(hit) = CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(ProcessCache::default)
        .get(&id, session)
    {
        return Ok(hit);
    }
    // The size as read, not as stated: a file may grow while we read it.
    let mut source = Vec::new();
    (&mut file)
        .take(MODULE_MAX + 1)
        .read_to_end(&mut source)
        .map_err(|e| e.to_string())?;
    if source.len() as u64 > MODULE_MAX {
        return Err(format!(
            "is over {MODULE_MAX} bytes, the most a responder module may have (compiling cannot be interrupted)"
        ));
    }
    let engines = engines()?;
    let command = exports_a_command(&source);
    let first = if command == Some(true) {
        &engines.wasi
    } else {
        &engines.abi
    };
    let (module, origin) = load_or_compile(first, &source)?;
    let mut pre = link(&module)?;
    if matches!(pre, Loaded::Wasi(_)) && command.is_none() {
        // A text module found to be a command once compiled: again, by
        // the engine it runs on.
        let (module, _) = load_or_compile(&engines.wasi, &source)?;
        pre = link(&module)?;
    }
    CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(ProcessCache::default)
        .insert(id, pre.clone(), (!session).then_some(origin));
    Ok((pre, origin))
}

/// Link `module` by the way it speaks: no imports and no `_start` is the
/// event ABI; imports from `wasi_snapshot_preview1` alone (or none) with a
/// `_start` export is a WASI command.
fn link(module: &Module) -> GuestResult<Loaded> {
    let engine = module.engine();
    const WASI: &str = "wasi_snapshot_preview1";
    let abi = module.exports().any(|e| e.name() == abi::EXPORTS[0]);
    let command = !abi && module.exports().any(|e| e.name() == "_start");
    let mut imports = module.imports();
    if let Some(i) = imports.next() {
        if abi {
            return Err(format!(
                "imports {}::{}, but a responder may import nothing (ABI version {})",
                i.module(),
                i.name(),
                abi::VERSION
            ));
        }
        if let Some(i) = std::iter::once(i)
            .chain(imports)
            .find(|i| i.module() != WASI)
        {
            return Err(format!(
                "imports {}::{}: a responder module imports nothing (the event ABI, version {}) \
                 or only {WASI} (a WASI command)",
                i.module(),
                i.name(),
                abi::VERSION
            ));
        }
        if !command {
            return Err(format!(
                "imports {WASI} but exports no _start: a WASI command is needed (a reactor or library cannot be run)"
            ));
        }
    }
    if command {
        let linker = crate::responder::wasi::preview1::linker(engine)
            .map_err(|e| format!("preparing WASI: {}", first_line(&e)))?;
        return linker
            .instantiate_pre(module)
            .map(Loaded::Wasi)
            .map_err(|e| first_line(&e));
    }
    Linker::new(engine)
        .instantiate_pre(module)
        .map(Loaded::Abi)
        .map_err(|e| first_line(&e))
}

/// A failed call or start function, in the responder's terms: the trap
/// if there is one (the error's first line is only "error while
/// executing at wasm backtrace:").
pub(crate) fn trap_message(e: &wasmtime::Error) -> String {
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => "ran past the responder's time limit".into(),
        Some(t) => {
            let text = t.to_string();
            let text = text.strip_prefix("wasm trap: ").unwrap_or(&text);
            match trap_in_c_terms(t) {
                Some(meaning) => format!("trapped: {text} ({meaning})"),
                None => format!("trapped: {text}"),
            }
        }
        None => first_line(e),
    }
}

/// What a trap usually is in the C or Rust source it was compiled from:
/// the organiser reads their own bug, not wasm's words for it.
fn trap_in_c_terms(t: &Trap) -> Option<&'static str> {
    Some(match t {
        Trap::UnreachableCodeReached => "abort(), a failed assert or a Rust panic",
        Trap::MemoryOutOfBounds => "a bad pointer, or a C stack overflow in linear memory",
        Trap::IndirectCallToNull => "a call through a null function pointer, such as a NULL FILE*",
        Trap::StackOverflow => "recursion too deep",
        Trap::IntegerDivisionByZero => "division by zero",
        _ => return None,
    })
}

pub(crate) fn first_line(e: &wasmtime::Error) -> String {
    let s = format!("{e:#}");
    s.lines().next().unwrap_or("").to_string()
}

/// The ABI's exports, typed.
struct Exports {
    buffer: TypedFunc<i32, i32>,
    new: TypedFunc<(i32, i32, i32, i32, i32, i32), i32>,
    start: TypedFunc<i32, i32>,
    on_output: TypedFunc<(i32, i32, i32, i32), i32>,
    on_exit: TypedFunc<(i32, i32, i32), i32>,
    free: TypedFunc<i32, ()>,
}

pub struct WasmGuest {
    store: Store<MemoryCap>,
    memory: Memory,
    exports: Exports,
    state: i32,
    made: bool,
    origin: Origin,
}

impl WasmGuest {
    /// Instantiate a session's module: run its start function and check
    /// its exports and ABI version.
    pub fn load(module: Compiled, limits: &ResponderLimits) -> GuestResult<WasmGuest> {
        let Compiled(loaded, origin) = module;
        let Loaded::Abi(pre) = loaded else {
            return Err(
                "is a WASI command (it exports _start and imports wasi_snapshot_preview1), not a module of the event ABI"
                    .into(),
            );
        };
        let engine = engine()?;
        let mut store = Store::new(engine, MemoryCap::new(limits.memory));
        store.limiter(|d| d as &mut dyn ResourceLimiter);
        store.set_epoch_deadline(ticks(limits.cpu_time.as_nanos() as u64));
        let instance = pre.instantiate(&mut store).map_err(|e| {
            if store.data().memory_hit {
                format!(
                    "its initial memory and tables are larger than the responder's memory limit of {} bytes",
                    limits.memory
                )
            } else {
                format!("cannot be instantiated: {}", trap_message(&e))
            }
        })?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or("exports no memory named \"memory\"")?;
        let mut typed = |name: &str| {
            instance
                .get_export(&mut store, name)
                .and_then(|e| e.into_func())
                .ok_or_else(|| {
                    format!(
                        "does not export {name}: not a judge responder (ABI version {}), \
                         nor a WASI command (which exports _start)",
                        abi::VERSION
                    )
                })
        };
        let funcs: Vec<_> = abi::EXPORTS
            .iter()
            .map(|n| typed(n))
            .collect::<GuestResult<_>>()?;
        let wrong =
            |name: &'static str| move |_| format!("exports {name} with the wrong signature");
        let version = funcs[0]
            .typed::<(), i32>(&store)
            .map_err(wrong("judge_abi_version"))?;
        let v = version
            .call(&mut store, ())
            .map_err(|e| format!("judge_abi_version: {}", first_line(&e)))? as u32;
        if v != abi::VERSION {
            return Err(format!(
                "speaks responder ABI version {v}, this judge speaks version {}",
                abi::VERSION
            ));
        }
        let exports = Exports {
            buffer: funcs[1].typed(&store).map_err(wrong("judge_buffer"))?,
            new: funcs[2].typed(&store).map_err(wrong("judge_new"))?,
            start: funcs[3].typed(&store).map_err(wrong("judge_start"))?,
            on_output: funcs[4].typed(&store).map_err(wrong("judge_on_output"))?,
            on_exit: funcs[5].typed(&store).map_err(wrong("judge_on_exit"))?,
            free: funcs[6].typed(&store).map_err(wrong("judge_free"))?,
        };
        Ok(WasmGuest {
            store,
            memory,
            exports,
            state: 0,
            made: false,
            origin,
        })
    }

    /// Why a call failed, in the responder's terms.
    fn failed(&self, e: wasmtime::Error) -> String {
        if self.store.data().memory_hit {
            return format!(
                "exceeded the responder's memory limit of {} bytes",
                self.store.data().memory_max
            );
        }
        trap_message(&e)
    }

    /// Copy `bytes` into a region the module lends for the call.
    fn lend(&mut self, bytes: &[u8]) -> GuestResult<i32> {
        let len = i32::try_from(bytes.len()).map_err(|_| "a chunk too large for wasm32")?;
        let at = self
            .exports
            .buffer
            .call(&mut self.store, len)
            .map_err(|e| format!("judge_buffer: {}", self.failed(e)))?;
        let start = at as u32 as usize;
        let data = self.memory.data_mut(&mut self.store);
        let region = data
            .get_mut(start..start + bytes.len())
            .filter(|_| at != 0 || bytes.is_empty())
            .ok_or_else(|| {
                format!("judge_buffer({len}) returned {start:#x}, not a region of its memory")
            })?;
        region.copy_from_slice(bytes);
        Ok(at)
    }

    fn reply(&self, at: i32) -> GuestResult<Reply<'_>> {
        if at == 0 {
            return Ok(Reply::default());
        }
        let data = self.memory.data(&self.store);
        let start = at as u32 as usize;
        let raw = data
            .get(start..start + REPLY_LEN)
            .ok_or_else(|| format!("the reply at {start:#x} lies outside the module's memory"))?;
        let u32_at = |i: usize| u32::from_le_bytes(raw[i..i + 4].try_into().unwrap());
        let region = |ptr: u32, len: u32, what: &str| -> GuestResult<&[u8]> {
            let (p, n) = (ptr as usize, len as usize);
            data.get(p..p + n).ok_or_else(|| {
                format!("the reply's {what} ({n} bytes at {p:#x}) lies outside the module's memory")
            })
        };
        Ok(Reply {
            send: region(u32_at(0), u32_at(4), "send")?,
            message: region(u32_at(8), u32_at(12), "message")?,
            verdict: u32_at(16),
            flags: u32_at(20),
            points: f64::from_le_bytes(raw[24..32].try_into().unwrap()),
        })
    }
}

/// A budget in epoch ticks, rounded up, never zero.
pub(crate) fn ticks(budget_ns: u64) -> u64 {
    budget_ns / TICK.as_nanos() as u64 + 1
}

impl Guest for WasmGuest {
    fn new_state(&mut self, args: &[u8], input: &[u8], answer: &[u8]) -> GuestResult<()> {
        let all = [args, input, answer].concat();
        let at = self.lend(&all)?;
        let (a, i) = (args.len() as i32, input.len() as i32);
        let s = self
            .exports
            .new
            .call(
                &mut self.store,
                // Wrapping: a module may lend any address, and a region
                // past the top was already refused by `lend`.
                (
                    at,
                    a,
                    at.wrapping_add(a),
                    i,
                    at.wrapping_add(a).wrapping_add(i),
                    answer.len() as i32,
                ),
            )
            .map_err(|e| self.failed(e))?;
        if s == 0 {
            return Err("returned NULL (the responder could not start)".into());
        }
        self.state = s;
        self.made = true;
        Ok(())
    }

    fn start(&mut self) -> GuestResult<Reply<'_>> {
        let r = self
            .exports
            .start
            .call(&mut self.store, self.state)
            .map_err(|e| self.failed(e))?;
        self.reply(r)
    }

    fn on_output(&mut self, stream: u32, bytes: &[u8]) -> GuestResult<Reply<'_>> {
        let at = self.lend(bytes)?;
        let r = self
            .exports
            .on_output
            .call(
                &mut self.store,
                (self.state, stream as i32, at, bytes.len() as i32),
            )
            .map_err(|e| self.failed(e))?;
        self.reply(r)
    }

    fn on_exit(&mut self, exit_code: i32, signal: i32) -> GuestResult<Reply<'_>> {
        let r = self
            .exports
            .on_exit
            .call(&mut self.store, (self.state, exit_code, signal))
            .map_err(|e| self.failed(e))?;
        self.reply(r)
    }

    fn free(&mut self) {
        if std::mem::take(&mut self.made) {
            let _ = self.exports.free.call(&mut self.store, self.state);
        }
    }

    fn set_budget(&mut self, budget_ns: u64) {
        self.store.set_epoch_deadline(ticks(budget_ns));
    }

    fn memory_bytes(&self) -> Option<u64> {
        Some(self.store.data().memory_peak as u64)
    }

    fn module_origin(&self) -> Option<&'static str> {
        Some(self.origin.name())
    }
}
