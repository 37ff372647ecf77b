//! The judge run by an ordinary user: a user namespace of its own grants the
//! PID namespace; cgroups are used only where delegated.

use crate::util::*;
use std::process::Command;

const USER: &str = "judge-test";

/// Create the unprivileged test user once; None (and a loud skip) when the
/// tests do not run as root and so cannot.
fn user() -> Option<&'static str> {
    static READY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *READY.get_or_init(|| {
        // SAFETY: no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP rootless tests: not root, cannot create the test user");
            return false;
        }
        let exists = Command::new("id").arg(USER).output().is_ok_and(|o| o.status.success());
        if !exists {
            let st = Command::new("useradd")
                .args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER])
                .status()
                .expect("useradd");
            assert!(st.success(), "useradd {USER} failed");
        }
        true
    });
    ok.then_some(USER)
}

fn as_user(run: Run) -> Done {
    let user = user().unwrap();
    let inner = run.command();
    let mut c = Command::new("setpriv");
    c.args(["--reuid", user, "--regid", user, "--init-groups", "--reset-env"]);
    c.arg(inner.get_program());
    c.args(inner.get_args());
    c.current_dir("/");
    exec_command(c)
}

fn accessible() -> bool {
    // Every directory above the judge binary and the fixtures must be
    // searchable by others for the test user to run them.
    let bin = std::path::Path::new(judge_bin());
    bin.ancestors().skip(1).all(|d| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o001 != 0)
    })
}

#[test]
fn rootless_session_is_judged() {
    if user().is_none() {
        return;
    }
    if !accessible() {
        eprintln!("SKIP rootless: the judge binary is not reachable by other users");
        return;
    }
    let d = as_user(run().arg("--json").program([prog("exit_n"), "0".into(), "hi".into()]));
    let v = d.json();
    assert_eq!(v["verdict"], "AC", "{v}\n{}", d.stderr);
    assert_eq!(v["stdout"], "hi\n");
    assert_eq!(v["isolation"]["user_namespace"], true);
    assert_eq!(v["isolation"]["pid_namespace"], true);
}

#[test]
fn rootless_limits_still_hold() {
    if user().is_none() || !accessible() {
        return;
    }
    let v = as_user(run().arg("--json").args(["--time-limit", "0.3"]).program([prog("spin")])).json();
    assert_eq!(v["verdict"], "TLE", "{v}");
    let v = as_user(run().arg("--json").args(["--output-limit", "1K"]).program([prog("flood")])).json();
    assert_eq!(v["verdict"], "OLE", "{v}");
    let v = as_user(run().arg("--json").program([prog("raise")])).json();
    assert_eq!(v["verdict"], "RE", "{v}");
    assert_eq!(v["signal_name"], "SIGSEGV");
    let v = as_user(run().arg("--json").args(["--memory-limit", "64M"]).program([prog("alloc"), "200".into()])).json();
    assert!(v["verdict"] == "MLE" || v["verdict"] == "RE", "{v}");
    assert_eq!(v["limits"]["memory"]["enforced_by"][0], "rlimit", "{v}");
}

#[test]
fn rootless_daemon_dies_too() {
    if user().is_none() || !accessible() {
        return;
    }
    let dir = temp_dir("rootless-daemon");
    Command::new("chmod").arg("777").arg(&dir).status().unwrap();
    let tok = token("rl-daemon");
    let v = as_user(run().arg("--json").program([prog("daemon"), dir.join("beat").to_str().unwrap().into(), tok.clone()])).json();
    assert_eq!(v["verdict"], "AC", "{v}");
    assert!(processes_with(&tok).is_empty());
}

#[test]
fn rootless_interactive_session() {
    if user().is_none() || !accessible() {
        return;
    }
    let v = as_user(
        run()
            .arg("--json")
            .args(["--responder", &interactor("echo")])
            .program(["python3", "-c", "print('hi', flush=True); input()"]),
    )
    .json();
    assert_eq!(v["verdict"], "AC", "{v}");
}
