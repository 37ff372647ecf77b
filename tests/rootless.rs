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
        let exists = Command::new("id")
            .arg(USER)
            .output()
            .is_ok_and(|o| o.status.success());
        if !exists {
            let st = Command::new("useradd")
                .args([
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    USER,
                ])
                .status()
                .expect("useradd");
            assert!(st.success(), "useradd {USER} failed");
        }
        true
    });
    ok.then_some(USER)
}

/// The checkout may sit below directories other users cannot enter, so the
/// judge, the fixtures and the interactor are copied to a world-readable
/// directory of their own.
fn shared_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        // Remove what earlier runs left (their test processes are gone).
        if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("judge-rootless-") {
                    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let dir = std::env::temp_dir().join(format!("judge-rootless-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut files = vec![judge_bin().to_string(), fixture("interactors/modes.py")];
        for p in [
            "exit_n",
            "spin",
            "flood",
            "raise",
            "alloc",
            "daemon",
            "orphan_cpu",
            "hostile",
        ] {
            files.push(prog(p));
        }
        for f in files {
            let name = std::path::Path::new(&f).file_name().unwrap().to_owned();
            std::fs::copy(&f, dir.join(name)).unwrap();
        }
        Command::new("chmod")
            .args(["-R", "a+rwX"])
            .arg(&dir)
            .status()
            .unwrap();
        Command::new("chmod")
            .arg("1777")
            .arg(&dir)
            .status()
            .unwrap();
        dir
    })
}

fn shared(name: &str) -> String {
    shared_dir().join(name).to_string_lossy().into_owned()
}

fn as_user(run: Run) -> Done {
    exec_command(user_command(run))
}

fn user_command(run: Run) -> Command {
    let user = user().unwrap();
    let inner = run.command();
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid",
        user,
        "--regid",
        user,
        "--init-groups",
        "--reset-env",
    ]);
    c.arg(shared("judge"));
    c.args(inner.get_args());
    c.current_dir(shared_dir());
    c
}

#[test]
fn rootless_session_is_judged() {
    if user().is_none() {
        return;
    }
    let d = as_user(
        run()
            .arg("--json")
            .program([shared("exit_n"), "0".into(), "hi".into()]),
    );
    let v = d.json();
    assert_eq!(v["verdict"], "AC", "{}\n{}", brief(&v), d.stderr);
    assert_eq!(v["stdout"], "hi\n");
    assert_eq!(v["isolation"]["user_namespace"], true);
    assert_eq!(v["isolation"]["pid_namespace"], true);
}

#[test]
fn rootless_limits_still_hold() {
    if user().is_none() {
        return;
    }
    let v = as_user(
        run()
            .arg("--json")
            .args(["--time-limit", "0.3"])
            .program([shared("spin")]),
    )
    .json();
    assert_eq!(v["verdict"], "TLE", "{}", brief(&v));
    let v = as_user(
        run()
            .arg("--json")
            .args(["--output-limit", "1K"])
            .program([shared("flood")]),
    )
    .json();
    assert_eq!(v["verdict"], "OLE", "{}", brief(&v));
    let v = as_user(run().arg("--json").program([shared("raise")])).json();
    assert_eq!(v["verdict"], "RE", "{}", brief(&v));
    assert_eq!(v["signal_name"], "SIGSEGV");
    let v = as_user(
        run()
            .arg("--json")
            .args(["--memory-limit", "64M"])
            .program([shared("alloc"), "200".into()]),
    )
    .json();
    assert!(
        v["verdict"] == "MLE" || v["verdict"] == "RE",
        "{}",
        brief(&v)
    );
    assert_eq!(
        v["limits"]["memory"]["enforced_by"][0],
        "rlimit",
        "{}",
        brief(&v)
    );
}

#[test]
fn rootless_daemon_dies_too() {
    if user().is_none() {
        return;
    }
    let tok = token("rl-daemon");
    let beat = shared_dir().join(&tok);
    let v = as_user(run().arg("--json").program([
        shared("daemon"),
        beat.to_str().unwrap().into(),
        tok.clone(),
    ]))
    .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert!(processes_with(&tok).is_empty());
}

#[test]
fn rootless_interactive_session() {
    if user().is_none() {
        return;
    }
    let v = as_user(
        run()
            .arg("--json")
            .args([
                "--responder",
                &format!("exec:python3 {} echo", shared("modes.py")),
            ])
            .program([python().as_str(), "-c", "print('hi', flush=True); input()"]),
    )
    .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
}

/// A WASI command module needs nothing of root: it runs inside the judge,
/// compiled by the user's judge (and cached in the user's own cache).
#[test]
fn rootless_wasi_interactor() {
    if user().is_none() {
        return;
    }
    let built = crate::util::responders::c_wasi(&repo().join("tests/fixtures/wasi/upper.c"));
    let module = shared_dir().join("upper.wasm");
    std::fs::copy(&built, &module).unwrap();
    Command::new("chmod")
        .arg("a+r")
        .arg(&module)
        .status()
        .unwrap();
    let v = as_user(
        run()
            .arg("--json")
            .args(["--protocol", "plain"])
            .args(["--responder", &format!("wasm:{}", module.display())])
            .program([
                python().as_str(),
                "-c",
                "print('hi', flush=True); assert input() == 'HI'",
            ]),
    )
    .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["responder"]["kind"], "wasi");
    assert_eq!(v["isolation"]["user_namespace"], true);
}

/// Without a CPU cgroup, CPU burnt by orphans that init reaps still counts.
#[test]
fn rootless_cpu_counts_orphans() {
    if user().is_none() {
        return;
    }
    let v = as_user(
        run()
            .arg("--json")
            .args(["--time-limit", "1"])
            .program([shared("orphan_cpu")]),
    )
    .json();
    assert_eq!(v["verdict"], "TLE", "{}", brief(&v));
    assert_eq!(v["limits"]["cpu_time"]["measured_by"], "proc");
}

/// Part of the hostile corpus, run by an ordinary user: the jail holds
/// without root (a user namespace of its own, a network namespace per run).
#[test]
fn rootless_jail_contains_attacks() {
    if user().is_none() {
        return;
    }
    let uid = String::from_utf8(
        Command::new("id")
            .args(["-u", USER])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let ids = format!("{uid} {uid}\n");
    let rows: &[(&[&str], &str, Option<&str>)] = &[
        (&["read", "/etc/shadow"], "ENOENT\n", None),
        (&["write", "/usr/x"], "EROFS\n", None),
        (&["tcp", "127.0.0.1"], "socket EPERM\n", Some("socket")),
        (&["ptrace"], "EPERM\n", Some("ptrace")),
        (&["mount"], "EPERM\n", Some("mount")),
        (&["unshare"], "EPERM\n", Some("unshare")),
        (&["kill_all"], "alive\n", None),
        (&["fds"], "0 1 2 \n", None),
        (&["ids"], ids.as_str(), None),
        (&["dnotify"], "ENOLCK\n", None),
        (&["lease"], "ENOLCK\n", None),
        (&["aio"], "EPERM\n", Some("io_setup")),
        (&["huge_mmap"], "EPERM\n", Some("mmap")),
        (&["core_limit"], "1 1\n", None),
        (&["size", "/proc/cmdline"], "0\n", None),
        (&["cgroup"], "root only\n", None),
    ];
    for (mode, out, refused) in rows {
        let mut p = vec![shared("hostile")];
        p.extend(mode.iter().map(|s| s.to_string()));
        let d = as_user(run().arg("--json").program(p));
        let v = d.json();
        assert_eq!(v["verdict"], "AC", "{mode:?}: {}\n{}", brief(&v), d.stderr);
        assert_eq!(v["stdout"], *out, "{mode:?}: {}", brief(&v));
        assert_eq!(v["isolation"]["network"], "private", "{mode:?}");
        match refused {
            Some(name) => assert_eq!(v["refused_syscalls"][0]["name"], *name, "{mode:?}"),
            None => assert_eq!(v["refused_syscalls"], serde_json::json!([]), "{mode:?}"),
        }
    }
}

/// Without root the program owns its root directory, so it can swap /box
/// for a symlink toward the host's files before it ends: the copy-out must
/// not follow it.
#[test]
fn rootless_keep_workdir_does_not_follow_a_swapped_box() {
    if user().is_none() {
        return;
    }
    let dest = shared_dir().join(token("rl-keep"));
    let d = as_user(
        run()
            .arg("--json")
            .args(["--keep-workdir", dest.to_str().unwrap()])
            .program([
                "/bin/sh",
                "-c",
                "cd / && mv box old && ln -s /etc box && echo swapped",
            ]),
    );
    let v = d.json();
    assert_eq!(v["stdout"], "swapped\n", "{}", brief(&v));
    assert_eq!(v["workdir_kept"], serde_json::Value::Null, "{}", brief(&v));
    let warned = v["warnings"].as_array().unwrap();
    assert!(
        warned
            .iter()
            .any(|w| w.as_str().unwrap().contains("copying the work directory")),
        "{warned:?}"
    );
    assert!(std::fs::read_dir(&dest).map_or(true, |mut r| r.next().is_none()));
}

/// Rootless, the judge's terminal is dropped as with root; a terminal in
/// exclusive mode (which only root may open again, so /dev/tty cannot be
/// used to let go of it) makes init take a session of its own instead.
#[test]
fn rootless_programs_have_no_terminal() {
    if user().is_none() {
        return;
    }
    for (terminal, expected) in [(Terminal::Plain, "1 0 0"), (Terminal::Exclusive, "1 1 0")] {
        let mut c = user_command(
            run()
                .arg("--json")
                .program(["/bin/sh", "-c", TERMINAL_PROBE]),
        );
        with_terminal(&mut c, terminal);
        let d = exec_command(c);
        let v = d.json();
        assert_eq!(
            v["verdict"],
            "AC",
            "{terminal:?}: {}\n{}",
            brief(&v),
            d.stderr
        );
        assert_eq!(
            v["stdout"].as_str().unwrap().trim(),
            expected,
            "{terminal:?}"
        );
    }
}

/// Without root too, a host mount nested below a shown folder is read-only
/// inside (mount_setattr in the judge's own user namespace).
#[test]
fn rootless_nested_mounts_are_read_only() {
    if user().is_none() {
        return;
    }
    let dir = shared_dir().join(token("rl-nested"));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let d = dir.to_string_lossy().into_owned();
    let mut cmd = user_command(
        run()
            .arg("--json")
            .args(["--dir", &format!("{d}:/data")])
            .program([
                "/bin/sh",
                "-c",
                "echo x > /data/sub/f 2>/dev/null && echo wrote || echo refused",
            ]),
    );
    with_mounts_below(&mut cmd, &[&dir.join("sub")]);
    let v = exec_command(cmd).json();
    assert_eq!(v["stdout"], "refused\n", "{}", brief(&v));
}

/// Conversation scripts, a terminal and `judge test` without root: the
/// terminal is the judge's to open, the sandbox built in a user namespace.
#[test]
fn rootless_conversation_on_a_terminal() {
    if user().is_none() {
        return;
    }
    let dir = shared_dir().join(format!("conv-{}", token("c")));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        repo().join("examples/conversations/calc.py"),
        dir.join("calc.py"),
    )
    .unwrap();
    std::fs::write(
        dir.join("t.conv"),
        "file calc.py\nrun python3 calc.py\npty\n\nexpect /calc 1.0.*\\n/\nexpect \"[0 names] > \"\n\
         send \"let a = 5\"\nexpect \"a = 5\"\nsend \"x\"\nexpect stderr \"unknown name x\"\nclose\nexpect \"bye\"\n",
    )
    .unwrap();
    Command::new("chmod")
        .args(["-R", "a+rwX"])
        .arg(&dir)
        .status()
        .unwrap();
    let script = dir.join("t.conv").to_string_lossy().into_owned();
    let calc = dir.join("calc.py").to_string_lossy().into_owned();
    let v = as_user(
        run()
            .args([
                "--json",
                "--pty",
                "--responder",
                &format!("script:{script}"),
                "--file",
                &calc,
            ])
            .program(["python3", "calc.py"]),
    )
    .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["isolation"]["user_namespace"], true);

    let user = user().unwrap();
    let mut t = Command::new("setpriv");
    t.args([
        "--reuid",
        user,
        "--regid",
        user,
        "--init-groups",
        "--reset-env",
    ])
    .arg(shared("judge"))
    .args(["test", "--json", &script])
    .current_dir(shared_dir());
    let done = exec_command(t);
    assert_eq!(done.status, 0, "{}{}", done.stdout, done.stderr);
    assert_eq!(done.json()["passed"], 1);
}
