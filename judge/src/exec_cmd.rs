//! `judge exec`: CodeJail's `safe_exec` from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use judge::codejail::{self, Exec, Jails, Outcome};

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The jail (see --jails; `python` is built in: the system's python3).
    #[arg(default_value = "python")]
    pub jail: String,

    /// The Python code to run.
    #[arg(
        long,
        value_name = "CODE",
        conflicts_with = "code_file",
        required_unless_present = "code_file"
    )]
    pub code: Option<String>,

    /// The code, from a file.
    #[arg(long, value_name = "FILE")]
    pub code_file: Option<PathBuf>,

    /// The globals, a JSON object [default: {}].
    #[arg(long, value_name = "JSON", conflicts_with = "globals_file")]
    pub globals: Option<String>,

    /// The globals, from a file.
    #[arg(long, value_name = "FILE")]
    pub globals_file: Option<PathBuf>,

    /// A host file or folder copied into the work directory (repeatable).
    #[arg(long, value_name = "PATH")]
    pub file: Vec<PathBuf>,

    /// A folder or zip file added to sys.path by its name in the work
    /// directory; a path not among the --file names is shown there too
    /// (repeatable).
    #[arg(long, value_name = "PATH")]
    pub python_path: Vec<PathBuf>,

    /// Print one JSON object, as codejail-service answers:
    /// {"globals_dict": ...} on success, {"emsg": ..., "globals_dict": ...}
    /// (the globals as given) when the code failed; exit 0 either way.
    #[arg(long)]
    pub json: bool,

    /// Use the jail's named limit overrides (CodeJail's
    /// limit_overrides_context); an unknown name means none.
    #[arg(long, value_name = "NAME")]
    pub limits_context: Option<String>,

    /// A jails.yaml laid over the built-in jails and ~/.config/judge/jails.yaml.
    #[arg(long, value_name = "FILE")]
    pub jails: Option<PathBuf>,
}

fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("judge: {e}");
    ExitCode::from(2)
}

pub fn exec(args: ExecArgs) -> ExitCode {
    let jails = match Jails::load(args.jails.as_deref()) {
        Ok(j) => j,
        Err(e) => return usage(e),
    };
    let Some(jail) = jails.get(&args.jail) else {
        let names: Vec<&str> = jails.all().iter().map(|j| j.name.as_str()).collect();
        return usage(format!(
            "no jail named {:?}: known are {}",
            args.jail,
            names.join(", ")
        ));
    };
    let read = |flag: &str, p: &PathBuf| {
        std::fs::read_to_string(p).map_err(|e| format!("{flag} {}: {e}", p.display()))
    };
    let code = match (&args.code, &args.code_file) {
        (Some(c), _) => c.clone(),
        (None, Some(f)) => match read("--code-file", f) {
            Ok(c) => c,
            Err(e) => return usage(e),
        },
        (None, None) => unreachable!("clap requires one"),
    };
    let globals_text = match (&args.globals, &args.globals_file) {
        (Some(g), _) => g.clone(),
        (None, Some(f)) => match read("--globals-file", f) {
            Ok(g) => g,
            Err(e) => return usage(e),
        },
        (None, None) => "{}".into(),
    };
    // Checked as Python's json reads it (NaN, big integers), then passed
    // on as it is.
    let sanitized = judge::codejail::pyjson::sanitized(&globals_text);
    match serde_json::from_str::<serde_json::Value>(&sanitized) {
        Ok(serde_json::Value::Object(_)) => {}
        Ok(_) => return usage("the globals must be a JSON object"),
        Err(e) => return usage(format!("the globals are not JSON: {e}")),
    }
    for f in &args.file {
        if std::fs::symlink_metadata(f).is_err() {
            return usage(format!("--file {}: no such file or folder", f.display()));
        }
    }
    let exec = Exec {
        code,
        globals: globals_text,
        files: args.file.clone(),
        python_path: args.python_path.clone(),
        limits_context: args.limits_context.clone(),
        keep_deleted: true,
        stop_on_signals: true,
        ..Exec::default()
    };
    match codejail::safe_exec(jail, &exec) {
        Ok(outcome) if args.json => {
            println!("{}", codejail::answer_json(&exec, &outcome));
            ExitCode::SUCCESS
        }
        Ok(Outcome::Globals(json)) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Ok(Outcome::Failed { message, run }) => {
            eprintln!("{message}");
            // CodeJail's message says -9 for every limit; say which.
            if !matches!(run.verdict, judge::Verdict::AC | judge::Verdict::RE) {
                eprintln!("judge: {}: {}", run.verdict, run.message);
            }
            ExitCode::from(1)
        }
        Err(e @ (judge::Error::Usage(_) | judge::Error::Isolation(_))) => usage(e),
        Err(e) => {
            eprintln!("judge: JE: {e}");
            ExitCode::from(1)
        }
    }
}
