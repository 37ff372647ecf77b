//! Compiling: a submission in the sandbox, seeing only its own files (its
//! work directory holds them and nothing else of the package is shown),
//! and a package's validators the same way, cached by content hash.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::language::Language;
use crate::limits::{Limits, MIB};
use crate::responder::exec::TempDir;
use crate::session::{IsolationLevel, Session};
use crate::verdict::Verdict;

/// The compiled program's name in the work directory.
const BINARY: &str = "solution";
/// Compiler output kept in a report.
const MESSAGE_CAP: usize = 16 * 1024;

/// A submission ready to run.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Built {
    /// The program: the compiled file on the host (shown at /program), or
    /// an interpreter found on the sandbox's PATH.
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Files to copy into the work directory: (host file, relative name).
    pub files: Vec<(PathBuf, PathBuf)>,
    pub env: Vec<(String, String)>,
    /// Bytes of `files`, so the work directory can make room for them.
    pub bytes: u64,
    /// The language's `memory_error`.
    pub memory_error: Option<String>,
}

/// What compiling said, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct CompileReport {
    pub language: String,
    /// The command as run (none: the language runs its source).
    pub command: Option<Vec<String>>,
    /// AC, or CE.
    pub verdict: Verdict,
    /// The compiler's output (capped), or why it was stopped.
    pub message: String,
    pub cpu_time_ms: u64,
    pub wall_time_ms: u64,
}

/// Limits of a build.
#[derive(Debug, Clone, Copy)]
pub struct BuildLimits {
    pub time: Duration,
    pub memory: u64,
}

/// The placeholders of a language's commands for these files.
struct Names {
    files: Vec<String>,
    mainfile: String,
}

impl Names {
    fn of(files: &[PathBuf]) -> Result<Names, String> {
        let mut names: Vec<String> = files
            .iter()
            .map(|f| {
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        if let Some(n) = names.iter().find(|n| n.starts_with(['-', '@'])) {
            return Err(format!(
                "the file name {n:?} starts with '{}', which a compiler reads as an option",
                &n[..1]
            ));
        }
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != names.len() {
            return Err("two of the submission's files have the same name".into());
        }
        names.sort();
        let mainfile = if names.len() == 1 {
            names[0].clone()
        } else {
            names
                .iter()
                .find(|n| {
                    n.split('.')
                        .next()
                        .is_some_and(|s| s.eq_ignore_ascii_case("main"))
                })
                .unwrap_or(&names[0])
                .clone()
        };
        Ok(Names {
            files: names,
            mainfile,
        })
    }

    /// `template` split into words with the placeholders filled in.
    fn expand(&self, template: &str, memlim_mib: u64) -> Result<Vec<String>, String> {
        let stem = self.mainfile.split('.').next().unwrap_or("").to_string();
        let mut cap = stem.clone();
        if let Some(c) = cap.get_mut(0..1) {
            c.make_ascii_uppercase();
        }
        let mut out = Vec::new();
        for w in crate::words::split(template)? {
            if w == "{files}" {
                out.extend(self.files.iter().cloned());
                continue;
            }
            out.push(
                w.replace("{binary}", BINARY)
                    .replace("{mainfile}", &self.mainfile)
                    .replace("{mainclass}", &stem)
                    .replace("{Mainclass}", &cap)
                    .replace("{memlim}", &memlim_mib.to_string())
                    .replace("{path}", "."),
            );
        }
        Ok(out)
    }
}

/// Compile `files` as `lang` in the sandbox and keep what it leaves in
/// `into` (which must not exist). `Err` is the judge's failure to build at
/// all; a program that does not compile is a CE report.
/// `headers` are copied in beside the sources but not named on the
/// command line (a package's testlib.h).
pub fn compile(
    files: &[PathBuf],
    headers: &[PathBuf],
    lang: &Language,
    into: &Path,
    limits: BuildLimits,
    memlim_mib: u64,
    isolation: IsolationLevel,
) -> Result<(Option<Built>, CompileReport), String> {
    let mut report = CompileReport {
        language: lang.id.clone(),
        command: None,
        verdict: Verdict::AC,
        message: String::new(),
        cpu_time_ms: 0,
        wall_time_ms: 0,
    };
    let names = match Names::of(files) {
        Ok(n) => n,
        Err(e) => {
            report.verdict = Verdict::CE;
            report.message = e;
            return Ok((None, report));
        }
    };
    // In the order of `names.files` (sorted by name), then the headers.
    let mut sorted: Vec<&PathBuf> = files.iter().collect();
    sorted.sort_by_key(|f| f.file_name().map(|n| n.to_os_string()));
    let all: Vec<(&PathBuf, String)> = sorted
        .into_iter()
        .zip(names.files.iter().cloned())
        .chain(headers.iter().map(|h| {
            (
                h,
                h.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            )
        }))
        .collect();
    match &lang.compile {
        None => {
            std::fs::create_dir_all(into).map_err(|e| format!("{}: {e}", into.display()))?;
            for (f, n) in &all {
                copy_regular(f, &into.join(n))?;
            }
        }
        Some(template) => {
            let argv = names.expand(template, memlim_mib)?;
            report.command = Some(argv.clone());
            let cpus = crate::sandbox::cpus::allowed().len().max(1) as u32;
            let mut s = Session::new(&argv[0], &argv[1..])
                .isolation(isolation)
                .limits(Limits {
                    cpu_time: limits.time * cpus,
                    wall_time: limits.time,
                    memory: limits.memory,
                    stdout: MIB,
                    stderr: MIB,
                    processes: 256,
                    file_size: 512 * MIB,
                    work_dir: 512 * MIB,
                    open_files: 1024,
                });
            // Flattened: the placeholders name files in the work directory.
            if isolation == IsolationLevel::None {
                // No jail, no work directory of its own: build in place.
                std::fs::create_dir_all(into).map_err(|e| format!("{}: {e}", into.display()))?;
                for (f, n) in &all {
                    copy_regular(f, &into.join(n))?;
                }
                s = s.cwd(into);
            } else {
                s = s.keep_workdir(into);
                for (f, n) in &all {
                    s = s.file(f, n);
                }
            }
            for (k, v) in &lang.env {
                s = s.env(k, v);
            }
            let r = s
                .run()
                .map_err(|e| format!("compiling with {}: {e}", argv[0]))?;
            report.cpu_time_ms = r.cpu_time_ms;
            report.wall_time_ms = r.wall_time_ms;
            if r.verdict != Verdict::AC {
                let why = match r.verdict {
                    Verdict::TLE | Verdict::ILE => format!(
                        "the compiler was stopped after {} s\n",
                        limits.time.as_secs_f64()
                    ),
                    Verdict::MLE => format!(
                        "the compiler ran out of memory ({} MiB)\n",
                        limits.memory / MIB
                    ),
                    Verdict::OLE => "the compiler wrote too much (more than 1 MiB)\n".into(),
                    _ => String::new(),
                };
                let out = format!("{why}{}{}", r.stderr.text(), r.stdout.text());
                report.verdict = Verdict::CE;
                report.message = cap(out.trim_end());
                return Ok((None, report));
            }
            report.message = cap(format!("{}{}", r.stderr.text(), r.stdout.text()).trim_end());
        }
    }
    let run = names.expand(&lang.run, memlim_mib)?;
    let binary = into.join(BINARY);
    let (program, args) = if lang.run.trim_start().starts_with("{binary}") {
        // Not through a link the compiler may have left in its place.
        if !std::fs::symlink_metadata(&binary).is_ok_and(|m| m.is_file()) {
            report.verdict = Verdict::CE;
            report.message = format!("the compiler left no {BINARY} to run");
            return Ok((None, report));
        }
        (binary.clone(), run[1..].to_vec())
    } else {
        (PathBuf::from(&run[0]), run[1..].to_vec())
    };
    let mut built = Built {
        program,
        args,
        files: Vec::new(),
        env: lang
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        bytes: 0,
        memory_error: lang.memory_error.clone(),
    };
    // Everything the build left but the binary (shown at /program) is
    // copied into each run; a compiled program needs none of its sources.
    let compiled = lang.compile.is_some() && built.program == binary;
    built.files = super::files_below(into)
        .map_err(|e| format!("{}: {e}", into.display()))?
        .into_iter()
        .filter(|(f, rel)| {
            *f != binary && !(compiled && names.files.iter().any(|n| rel == Path::new(n)))
        })
        .collect();
    built.bytes = built
        .files
        .iter()
        .map(|(f, _)| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    Ok((Some(built), report))
}

/// Copy a regular file, never through a symlink (a submission's folder
/// may hold one to a host file, and this copy runs as the judge).
fn copy_regular(from: &Path, to: &Path) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut src = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(from)
        .map_err(|e| format!("{}: {e}", from.display()))?;
    if !src.metadata().is_ok_and(|m| m.is_file()) {
        return Err(format!("{}: not a regular file", from.display()));
    }
    let mut dst = std::fs::File::create(to).map_err(|e| format!("{}: {e}", to.display()))?;
    std::io::copy(&mut src, &mut dst).map_err(|e| format!("{}: {e}", to.display()))?;
    Ok(())
}

fn cap(s: &str) -> String {
    if s.len() <= MESSAGE_CAP {
        return s.to_string();
    }
    let mut end = MESSAGE_CAP;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[... {} more bytes]", &s[..end], s.len() - end)
}

/// A validator (or checker, or interactor) built from a package's source:
/// the command that runs it, outside the sandbox (it is the organiser's and
/// reads the test's files).
pub struct Tool {
    pub argv: Vec<String>,
    /// Holds the build when there is no cache to keep it in.
    pub(crate) _temp: Option<TempDir>,
}

/// Build the package program at `source` (a file or a folder, with
/// `include`d headers) once; reuse an earlier build of the same content.
pub fn tool(
    source: &Path,
    include: &[PathBuf],
    language: Option<&Language>,
    langs: &super::language::Languages,
    limits: BuildLimits,
    isolation: IsolationLevel,
) -> Result<Tool, String> {
    let files: Vec<PathBuf> = if source.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(source)
            .map_err(|e| format!("{}: {e}", source.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && !super::hidden(p))
            .collect();
        v.sort();
        v
    } else {
        vec![source.to_path_buf()]
    };
    // A folder with its own `run` (after an optional `build`) says how.
    if source.is_dir() && (source.join("run").is_file() || source.join("build").is_file()) {
        return scripted(&files, limits);
    }
    let lang = match language {
        Some(l) => l.clone(),
        None => langs
            .detect(&files)
            .cloned()
            .ok_or_else(|| format!("{}: no language this judge knows", source.display()))?,
    };
    // Headers named as sources are headers.
    let (headers, files): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .chain(include.iter().cloned())
        .partition(|f| f.extension().is_some_and(|e| e == "h" || e == "hpp"));
    let mut h = Sha256::new();
    h.update(format!(
        "{:?}\0{:?}\0{}\0",
        lang.compile, lang.env, lang.run
    ));
    for f in files.iter().chain(&headers) {
        h.update(f.file_name().unwrap_or_default().as_encoded_bytes());
        h.update([0]);
        let bytes = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    let key: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let cache = crate::responder::plugin::module_cache::private_dir("builds-v1");
    let (dir, temp) = match &cache {
        Some(c) => (c.join(&key), None),
        None => {
            let t = TempDir::new().map_err(|e| format!("a temporary folder: {e}"))?;
            (t.path().join("build"), Some(t))
        }
    };
    let argv_file = dir.join(".argv");
    if let Ok(text) = std::fs::read_to_string(&argv_file) {
        let argv: Vec<String> = serde_json::from_str(&text).unwrap_or_default();
        if !argv.is_empty() {
            return Ok(Tool { argv, _temp: temp });
        }
    }
    // Built beside the entry, then moved in whole: a reader never sees a
    // half-made build, and two judges building at once both succeed.
    let staging = dir.with_extension(format!("tmp-{}-{:x}", std::process::id(), rand_u64()));
    if let Some(c) = &cache {
        sweep_stale_staging(c);
    }
    let result = compile(&files, &headers, &lang, &staging, limits, 2048, isolation);
    let (built, report) = match result {
        Ok(x) => x,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let Some(built) = built else {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(format!("it does not compile:\n{}", report.message));
    };
    // The command, with the build's files named where they will be.
    let at = |p: &Path| dir.join(p.strip_prefix(&staging).unwrap_or(p));
    let mut argv = vec![if built.program.starts_with(&staging) {
        at(&built.program).display().to_string()
    } else {
        built.program.display().to_string()
    }];
    for a in &built.args {
        let local = staging.join(a);
        // A file of the build, or the build folder itself (a JVM's `-cp .`):
        // the validator runs from anywhere.
        argv.push(if a == "." {
            dir.display().to_string()
        } else if local.is_file() {
            dir.join(a).display().to_string()
        } else {
            a.clone()
        });
    }
    std::fs::write(
        staging.join(".argv"),
        serde_json::to_string(&argv).unwrap_or_default(),
    )
    .map_err(|e| format!("{}: {e}", staging.display()))?;
    if std::fs::rename(&staging, &dir).is_err() {
        // Another judge finished first; theirs is the same build.
        let _ = std::fs::remove_dir_all(&staging);
    }
    Ok(Tool { argv, _temp: temp })
}

/// A validator folder with `build` and/or `run` scripts, run as they are
/// (the organiser's code) in a private copy.
fn scripted(files: &[PathBuf], limits: BuildLimits) -> Result<Tool, String> {
    let temp = TempDir::new().map_err(|e| format!("a temporary folder: {e}"))?;
    let dir = temp.path().join("validator");
    std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for f in files {
        std::fs::copy(f, dir.join(f.file_name().unwrap_or_default()))
            .map_err(|e| format!("{}: {e}", f.display()))?;
    }
    if dir.join("build").is_file() {
        let r = Session::new(dir.join("build"), Vec::<String>::new())
            .isolation(IsolationLevel::None)
            .cwd(&dir)
            .limits(Limits {
                cpu_time: limits.time,
                wall_time: limits.time,
                memory: limits.memory,
                processes: 256,
                ..Limits::default()
            })
            .run()
            .map_err(|e| format!("running its build script: {e}"))?;
        if r.verdict != Verdict::AC {
            return Err(format!(
                "its build script failed ({}): {}",
                r.message,
                r.stderr.text().trim_end()
            ));
        }
    }
    let run = dir.join("run");
    if !run.is_file() {
        return Err("its build script left no run script".into());
    }
    Ok(Tool {
        argv: vec![run.display().to_string()],
        _temp: Some(temp),
    })
}

/// Remove builds left half-made by judges that died while building.
fn sweep_stale_staging(cache: &Path) {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .split_once(".tmp-")
            .and_then(|(_, rest)| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tool").field("argv", &self.argv).finish()
    }
}
