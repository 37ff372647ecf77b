//! Languages: how a submission is recognised, compiled and run.
//!
//! Layered as problemtools layers its languages.yaml: the built-in table
//! (languages.yaml beside this file), then `~/.config/judge/languages.yaml`
//! (`$XDG_CONFIG_HOME`), then `languages.yaml` in the contest folder (the
//! folder holding the problem), each overriding the one before key by key;
//! a language set to `null` is removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::PackageError;

const BUILT_IN: &str = include_str!("languages.yaml");

/// One language of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Language {
    pub id: String,
    pub name: String,
    pub extensions: Vec<String>,
    /// The compile command line, with placeholders; none for a language
    /// run from its source as it is.
    pub compile: Option<String>,
    pub run: String,
    /// Extra environment for compiling and running.
    pub env: BTreeMap<String, String>,
    /// Text in the stderr of a program that failed which means it ran out
    /// of memory below the limit (a JVM's own heap cap): MLE, not RE.
    pub memory_error: Option<String>,
}

/// What a layer may say of a language: any subset of the keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    name: Option<String>,
    extensions: Option<Vec<String>>,
    compile: Option<Option<String>>,
    run: Option<String>,
    env: Option<BTreeMap<String, String>>,
    memory_error: Option<String>,
}

/// The languages configured, in the order they were first named.
#[derive(Debug, Clone)]
pub struct Languages {
    list: Vec<Language>,
    /// The files read, in order, for `judge languages`.
    pub sources: Vec<String>,
}

impl Languages {
    /// The built-in table, then the user's file, then `contest_dir`'s.
    pub fn load(contest_dir: Option<&Path>) -> Result<Languages, PackageError> {
        let mut langs = Languages {
            list: Vec::new(),
            sources: vec!["built in".into()],
        };
        langs.apply(BUILT_IN, Path::new("(built-in languages.yaml)"))?;
        let user = match std::env::var_os("XDG_CONFIG_HOME") {
            Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
            _ => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")),
        }
        .map(|d| d.join("judge/languages.yaml"));
        for file in user
            .into_iter()
            .chain(contest_dir.map(|d| d.join("languages.yaml")))
        {
            match std::fs::read_to_string(&file) {
                Ok(text) => {
                    langs.apply(&text, &file)?;
                    langs.sources.push(file.display().to_string());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(PackageError::at(&file, format!("cannot read it: {e}"))),
            }
        }
        Ok(langs)
    }

    /// Lay one file over the table.
    fn apply(&mut self, text: &str, file: &Path) -> Result<(), PackageError> {
        let layers: BTreeMap<String, Option<Layer>> = serde_yaml_ng::from_str::<Option<_>>(text)
            .map_err(|e| PackageError::yaml(file, &e))?
            .unwrap_or_default();
        // serde_yaml_ng's map is sorted; keep the file's own order for new
        // entries so the table reads as written.
        let order: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with([' ', '\t', '#']) && l.contains(':'))
            .filter_map(|l| l.split(':').next().map(|k| k.trim().to_string()))
            .collect();
        let mut ids: Vec<&String> = layers.keys().collect();
        ids.sort_by_key(|id| order.iter().position(|o| o == *id).unwrap_or(usize::MAX));
        for id in ids {
            let layer = &layers[id];
            let Some(layer) = layer else {
                self.list.retain(|l| &l.id != id);
                continue;
            };
            let i = match self.list.iter().position(|l| &l.id == id) {
                Some(i) => i,
                None => {
                    let (Some(_), Some(_), Some(_)) = (&layer.name, &layer.extensions, &layer.run)
                    else {
                        return Err(PackageError::at(
                            file,
                            format!("the new language {id:?} needs name, extensions and run"),
                        ));
                    };
                    self.list.push(Language {
                        id: id.clone(),
                        name: String::new(),
                        extensions: Vec::new(),
                        compile: None,
                        run: String::new(),
                        env: BTreeMap::new(),
                        memory_error: None,
                    });
                    self.list.len() - 1
                }
            };
            let l = &mut self.list[i];
            if let Some(v) = &layer.name {
                l.name = v.clone();
            }
            if let Some(v) = &layer.extensions {
                l.extensions = v.iter().map(|e| e.trim_start_matches('.').into()).collect();
            }
            if let Some(v) = &layer.compile {
                l.compile = v.clone();
            }
            if let Some(v) = &layer.run {
                l.run = v.clone();
            }
            if let Some(v) = &layer.env {
                l.env.extend(v.clone());
            }
            if let Some(v) = &layer.memory_error {
                l.memory_error = Some(v.clone()).filter(|v| !v.is_empty());
            }
            for (what, cmd) in [("compile", l.compile.as_deref()), ("run", Some(&*l.run))] {
                if let Some(cmd) = cmd {
                    crate::words::split(cmd)
                        .ok()
                        .filter(|w| !w.is_empty())
                        .ok_or_else(|| {
                            PackageError::at(file, format!("{id}: {what} {cmd:?} is not a command"))
                        })?;
                }
            }
        }
        Ok(())
    }

    pub fn all(&self) -> &[Language] {
        &self.list
    }

    pub fn get(&self, id: &str) -> Option<&Language> {
        self.list.iter().find(|l| l.id == id)
    }

    /// The language most of `files` are written in, by extension (ties go
    /// to the language listed first).
    pub fn detect(&self, files: &[PathBuf]) -> Option<&Language> {
        let ext = |f: &PathBuf| {
            f.extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let mut best: Option<(&Language, usize)> = None;
        for l in &self.list {
            let n = files
                .iter()
                .filter(|f| l.extensions.contains(&ext(f)))
                .count();
            if n > 0 && best.is_none_or(|(_, m)| n > m) {
                best = Some((l, n));
            }
        }
        best.map(|(l, _)| l)
    }
}

impl Language {
    /// The commands this language needs that the sandbox cannot find.
    pub fn missing_commands(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for cmd in self.compile.iter().chain([&self.run]) {
            let Some(first) = crate::words::split(cmd)
                .ok()
                .and_then(|w| w.into_iter().next())
            else {
                continue;
            };
            if first.contains('{') {
                continue; // the compiled binary
            }
            let path = std::ffi::OsStr::new(crate::session::SANDBOX_PATH);
            if crate::sandbox::resolve_program_in(Path::new(&first), Some(path)).is_err()
                && !missing.contains(&first)
            {
                missing.push(first);
            }
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built_in() -> Languages {
        let mut l = Languages {
            list: vec![],
            sources: vec![],
        };
        l.apply(BUILT_IN, Path::new("x")).unwrap();
        l
    }

    #[test]
    fn detects_by_extension_and_layers_override_key_by_key() {
        let mut l = built_in();
        let c = l.detect(&["a.c".into(), "b.h".into()]).unwrap();
        assert_eq!(c.id, "c");
        assert_eq!(l.detect(&["Main.java".into()]).unwrap().id, "java");
        assert!(l.detect(&["x.pas".into()]).is_none());
        l.apply(
            "c:\n  compile: clang -o {binary} {files}\npython3: null\n",
            Path::new("y"),
        )
        .unwrap();
        let c = l.get("c").unwrap();
        assert_eq!(c.compile.as_deref(), Some("clang -o {binary} {files}"));
        assert_eq!(c.run, "{binary}");
        assert!(l.get("python3").is_none());
        let e = l
            .apply("pascal:\n  name: Pascal\n", Path::new("z"))
            .unwrap_err();
        assert!(
            e.to_string().contains("needs name, extensions and run"),
            "{e}"
        );
        let e = l.apply("c:\n  nmae: C\n", Path::new("w")).unwrap_err();
        assert!(e.to_string().starts_with("w:2:"), "{e}");
    }
}
