//! Responder modules the tests load, built once per test run from source:
//! C with gcc (native) and clang (wasm32, bare or WASI), Rust with the SDK through rustc
//! (native) and Debian's rustc (wasm32), .wat loaded as text.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::repo;

/// Where the built modules go.
fn out_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("responders");
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

fn run(what: &str, cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "{what}: cannot run {:?}: {e} (.ci/run installs it)",
            cmd.get_program()
        )
    });
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn include() -> PathBuf {
    repo().join("responders/include")
}

/// A C responder as a native plugin.
pub fn c_native(src: &Path) -> String {
    let out = out_dir().join(format!("{}.so", src.file_stem().unwrap().to_string_lossy()));
    run(
        "gcc (native responder)",
        Command::new("gcc")
            .args([
                "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-I",
            ])
            .arg(include())
            .arg("-o")
            .arg(&out)
            .arg(src),
    );
    out.to_string_lossy().into_owned()
}

/// A C responder as a bare wasm32 module (no C library).
pub fn c_wasm(src: &Path) -> String {
    let out = out_dir().join(format!(
        "{}.wasm",
        src.file_stem().unwrap().to_string_lossy()
    ));
    run(
        "clang --target=wasm32 (wasm responder)",
        Command::new("clang")
            .args([
                "--target=wasm32",
                "-nostdlib",
                "-O2",
                "-Wall",
                "-Werror",
                "-I",
            ])
            .arg(include())
            .args(["-Wl,--no-entry", "-Wl,--export-dynamic", "-o"])
            .arg(&out)
            .arg(src),
    );
    out.to_string_lossy().into_owned()
}

/// A C program as a WASI command module (wasm32-wasi, wasi-libc), as an
/// organiser would build a stdio interactor: built once per run, cached by
/// the source's stem as `<stem>.wasi.wasm` (apart from `c_wasm`'s
/// `<stem>.wasm`). Two sources of one stem would overwrite each other's
/// module: asking for both panics. wasi-libc's <signal.h> (SIGPIPE ignored,
/// as interactors do) needs the emulation flag and library.
pub fn c_wasi(src: &Path) -> String {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static BUILT: Mutex<Option<HashMap<String, (PathBuf, String)>>> = Mutex::new(None);
    let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
    // Held while building: one build per stem. A failed build's panic
    // poisons it; the next test builds its own module regardless.
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some((from, out)) = built.get(&stem) {
        assert_eq!(from, src, "two WASI sources share the stem {stem:?}");
        return out.clone();
    }
    let out = out_dir().join(format!("{stem}.wasi.wasm"));
    run(
        "clang --target=wasm32-wasi (WASI module)",
        Command::new("clang")
            .args([
                "--target=wasm32-wasi",
                "-O2",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-D_WASI_EMULATED_SIGNAL",
                "-Wl,--strip-all",
                "-o",
            ])
            .arg(&out)
            .arg(src)
            .arg("-lwasi-emulated-signal"),
    );
    let out = out.to_string_lossy().into_owned();
    built.insert(stem, (src.to_path_buf(), out.clone()));
    out
}

/// The Rust compilers: the toolchain's for native code, Debian's (which
/// ships a wasm32 standard library) for WebAssembly.
#[derive(Clone, Copy, PartialEq)]
pub enum Target {
    Native,
    Wasm,
}

impl Target {
    fn rustc(self) -> &'static str {
        match self {
            Target::Native => "rustc",
            Target::Wasm => "/usr/bin/rustc",
        }
    }

    fn dir(self) -> PathBuf {
        let d = out_dir().join(match self {
            Target::Native => "rust-native",
            Target::Wasm => "rust-wasm",
        });
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn flags(self, c: &mut Command) {
        c.args(["--edition", "2021", "-O"]);
        if self == Target::Wasm {
            c.args([
                "--target",
                "wasm32-unknown-unknown",
                "-C",
                "strip=debuginfo",
            ]);
        }
    }
}

/// The SDK as an rlib for `target`, built once.
fn sdk(target: Target) -> PathBuf {
    static NATIVE: OnceLock<PathBuf> = OnceLock::new();
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    let cell = match target {
        Target::Native => &NATIVE,
        Target::Wasm => &WASM,
    };
    cell.get_or_init(|| {
        let rlib = target.dir().join("libjudge_responder.rlib");
        let mut c = Command::new(target.rustc());
        target.flags(&mut c);
        c.args([
            "--crate-type",
            "rlib",
            "--crate-name",
            "judge_responder",
            "-o",
        ])
        .arg(&rlib)
        .arg(repo().join("responders/sdk/src/lib.rs"));
        run("rustc (the responder SDK)", &mut c);
        rlib
    })
    .clone()
}

/// A Rust responder (one source file using the SDK) for `target`.
pub fn rust(src: &Path, name: &str, target: Target) -> String {
    let sdk = sdk(target);
    let out = target.dir().join(match target {
        Target::Native => format!("lib{name}.so"),
        Target::Wasm => format!("{name}.wasm"),
    });
    let mut c = Command::new(target.rustc());
    target.flags(&mut c);
    c.args(["--crate-type", "cdylib", "--crate-name", name, "--extern"])
        .arg(format!("judge_responder={}", sdk.display()))
        .arg("-o")
        .arg(&out)
        .arg(src);
    run("rustc (a Rust responder)", &mut c);
    out.to_string_lossy().into_owned()
}

/// Build once per run, whatever the number of tests asking.
pub fn once(key: &'static str, build: impl FnOnce() -> String) -> String {
    use std::collections::HashMap;
    use std::sync::Mutex;
    type Builds = HashMap<&'static str, std::sync::Arc<OnceLock<String>>>;
    static BUILT: Mutex<Option<Builds>> = Mutex::new(None);
    let cell = BUILT
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .entry(key)
        .or_default()
        .clone();
    cell.get_or_init(build).clone()
}

pub fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/responders").join(name)
}

pub fn example(rel: &str) -> PathBuf {
    repo().join("responders/examples").join(rel)
}
