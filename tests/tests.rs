//! The judge's integration tests: one binary, real programs (C compiled with
//! gcc at test time, shell, python3), exact verdicts and figures.

mod util;

/// One test per verdict the program can earn on its own.
mod verdicts;
/// CPU, wall, memory, output and process limits, with their figures.
mod limits;
/// Interactors: protocols, precedence policies, misbehaving interactors.
mod interactive;
/// Flags, exit statuses, the JSON result and the transcript.
mod cli;
/// Nothing survives a session: processes, cgroups, temp dirs.
mod cleanup;
/// The unprivileged path: the judge run by an ordinary user.
mod rootless;
