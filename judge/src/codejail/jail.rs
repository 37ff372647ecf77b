//! Named jails: an interpreter, the host folders it needs shown read-only
//! (a virtualenv with a course's libraries), extra environment, default
//! limits and named limit overrides, as CodeJail's `configure`, `LIMITS`
//! and `limit_overrides_context` give them.
//!
//! Layered like the languages of `judge problem`: the built-in `python`
//! (the system's python3), then `~/.config/judge/jails.yaml`, then a file
//! the caller names; a later layer replaces a jail of the same name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::Error;
use crate::limits::Limits;

/// The most a jailed run may write to stdout: past it, OLE (killed, -9).
pub const OUTPUT_MAX: u64 = 16 << 20;

/// CodeJail's limits, in its units and with its meaning of 0 ("no limit",
/// except FSIZE, where 0 means nothing may be written).
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JailLimits {
    /// CPU seconds.
    #[serde(rename = "CPU")]
    pub cpu: Option<f64>,
    /// Wall-clock seconds.
    #[serde(rename = "REALTIME")]
    pub realtime: Option<f64>,
    /// Memory, bytes.
    #[serde(rename = "VMEM")]
    pub vmem: Option<u64>,
    /// Largest file written, bytes.
    #[serde(rename = "FSIZE")]
    pub fsize: Option<u64>,
    /// Processes and threads.
    #[serde(rename = "NPROC")]
    pub nproc: Option<u64>,
}

impl JailLimits {
    /// CodeJail's defaults.
    pub const DEFAULT: JailLimits = JailLimits {
        cpu: Some(1.0),
        realtime: Some(1.0),
        vmem: Some(0),
        fsize: Some(0),
        nproc: Some(15),
    };

    /// `over`'s values where it has them.
    pub fn overlaid(self, over: &JailLimits) -> JailLimits {
        JailLimits {
            cpu: over.cpu.or(self.cpu),
            realtime: over.realtime.or(self.realtime),
            vmem: over.vmem.or(self.vmem),
            fsize: over.fsize.or(self.fsize),
            nproc: over.nproc.or(self.nproc),
        }
    }

    /// As a session's limits. "No limit" is a day of CPU or wall time,
    /// 1 TiB of memory, 4096 processes: a sandbox always has limits.
    pub fn session(&self) -> Result<Limits, String> {
        let secs = |name: &str, v: Option<f64>| -> Result<Duration, String> {
            match v.unwrap_or(0.0) {
                0.0 => Ok(Duration::from_secs(86_400)),
                x if (0.001..=86_400.0).contains(&x) => Ok(Duration::from_secs_f64(x)),
                x => Err(format!(
                    "{name}={x}: seconds from 0.001 to 86400, or 0 for none"
                )),
            }
        };
        let l = Limits {
            cpu_time: secs("CPU", self.cpu)?,
            wall_time: secs("REALTIME", self.realtime)?,
            memory: match self.vmem.unwrap_or(0) {
                0 => 1 << 40,
                m if m < 1 << 20 => {
                    return Err(format!("VMEM={m}: at least 1048576 bytes, or 0 for none"))
                }
                m => m,
            },
            file_size: self.fsize.unwrap_or(0),
            processes: match self.nproc.unwrap_or(0) {
                0 => 4096,
                n => n.min(4_194_304),
            },
            // CodeJail has none; a bound keeps an answer that shows the
            // output (as Python's repr, then in JSON: up to 6x larger)
            // within reason.
            stdout: OUTPUT_MAX,
            ..Limits::default()
        };
        Ok(l)
    }
}

/// One jail.
#[derive(Debug, Clone)]
pub struct Jail {
    pub name: String,
    pub interpreter: PathBuf,
    /// Its arguments before the program's: `-E -B` for a Python, as
    /// CodeJail's `configure` gives them (ignore PYTHON* variables, write
    /// no .pyc).
    pub args: Vec<String>,
    /// Host folders shown read-only at their own paths.
    pub dirs: Vec<PathBuf>,
    pub env: Vec<(String, String)>,
    pub limits: JailLimits,
    /// Named overrides of some limits.
    pub overrides: BTreeMap<String, JailLimits>,
}

impl Jail {
    /// A jail on `interpreter`, as CodeJail's `configure(name, bin_path)`
    /// makes one: the arguments of its kind, and the virtualenv it belongs
    /// to, if any, shown read-only.
    pub fn configured(name: &str, interpreter: &Path) -> Jail {
        let dirs = interpreter
            .parent()
            .and_then(Path::parent)
            .filter(|venv| venv.join("pyvenv.cfg").is_file())
            .map(|venv| vec![venv.to_path_buf()])
            .unwrap_or_default();
        Jail {
            name: name.into(),
            args: default_args(interpreter),
            interpreter: interpreter.into(),
            dirs,
            env: Vec::new(),
            limits: JailLimits::default(),
            overrides: BTreeMap::new(),
        }
    }

    /// The limits in force for a context (CodeJail's
    /// `limit_overrides_context`; an unknown one, as there, means none).
    pub fn limits_for(&self, context: Option<&str>) -> Result<Limits, Error> {
        let mut l = JailLimits::DEFAULT.overlaid(&self.limits);
        if let Some(o) = context.and_then(|c| self.overrides.get(c)) {
            l = l.overlaid(o);
        }
        l.session()
            .map_err(|e| Error::Usage(format!("jail {}: {e}", self.name)))
    }
}

/// `-E -B` for a Python (its file name starts with `python`), nothing for
/// another interpreter.
fn default_args(interpreter: &Path) -> Vec<String> {
    let python = interpreter
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("python"));
    if python {
        vec!["-E".into(), "-B".into()]
    } else {
        Vec::new()
    }
}

/// A jail as a file writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    interpreter: PathBuf,
    args: Option<Vec<String>>,
    #[serde(default)]
    dirs: Vec<PathBuf>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    limits: JailLimits,
    #[serde(default)]
    overrides: BTreeMap<String, JailLimits>,
}

/// Every known jail, and where they came from.
#[derive(Debug, Clone)]
pub struct Jails {
    list: Vec<Jail>,
    pub sources: Vec<String>,
}

impl Jails {
    /// The built-in jails, the user's file, then `extra` if given.
    pub fn load(extra: Option<&Path>) -> Result<Jails, Error> {
        let mut jails = Jails {
            list: vec![Jail::configured("python", Path::new("/usr/bin/python3"))],
            sources: vec!["built in".into()],
        };
        let user = match std::env::var_os("XDG_CONFIG_HOME") {
            Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
            _ => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")),
        }
        .map(|d| d.join("judge/jails.yaml"));
        if let Some(u) = user.filter(|u| u.exists()) {
            jails.apply(&u)?;
        }
        if let Some(e) = extra {
            jails.apply(e)?;
        }
        Ok(jails)
    }

    fn apply(&mut self, file: &Path) -> Result<(), Error> {
        let bad = |what: String| Error::Usage(format!("{}: {what}", file.display()));
        let text =
            std::fs::read_to_string(file).map_err(|e| bad(format!("cannot read it: {e}")))?;
        let layers: BTreeMap<String, Layer> = serde_yaml_ng::from_str(&text).map_err(|e| {
            bad(match e.location() {
                Some(l) => format!("line {} column {}: {e}", l.line(), l.column()),
                None => e.to_string(),
            })
        })?;
        for (name, l) in layers {
            let jail = Jail {
                name: name.clone(),
                args: l.args.unwrap_or_else(|| default_args(&l.interpreter)),
                interpreter: l.interpreter,
                dirs: l.dirs,
                env: l.env.into_iter().collect(),
                limits: l.limits,
                overrides: l.overrides,
            };
            // Checked now, not at the first run.
            for context in
                std::iter::once(None).chain(jail.overrides.keys().map(|k| Some(k.as_str())))
            {
                jail.limits_for(context).map_err(|e| bad(e.to_string()))?;
            }
            self.list.retain(|j| j.name != name);
            self.list.push(jail);
        }
        self.sources.push(file.display().to_string());
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Jail> {
        self.list.iter().find(|j| j.name == name)
    }

    pub fn all(&self) -> &[Jail] {
        &self.list
    }
}
