//! The hostile corpus: one attack per row, each with the exact outcome the
//! sandbox must produce (see tests/fixtures/programs/hostile.c).

use crate::util::*;
use std::path::Path;

/// (mode and arguments, verdict, stdout, refused system call)
const ATTACKS: &[(&[&str], &str, &str, Option<&str>)] = &[
    (&["read", "/etc/shadow"], "AC", "ENOENT\n", None),
    (&["read", "/root/.bashrc"], "AC", "ENOENT\n", None),
    // Init carries the judge's command line; other users' processes are hidden.
    (&["read", "/proc/1/cmdline"], "AC", "ENOENT\n", None),
    (&["ls", "/sys"], "AC", "ENOENT\n", None),
    (&["ls", "/home"], "AC", "ENOENT\n", None),
    // The root's file system itself is read-only, not only the binds.
    (&["write", "/etc/x"], "AC", "EROFS\n", None),
    (&["write", "/usr/x"], "AC", "EROFS\n", None),
    (&["write", "/x"], "AC", "EROFS\n", None),
    (
        &["tcp", "127.0.0.1"],
        "AC",
        "socket EPERM\n",
        Some("socket"),
    ),
    (&["tcp", "1.1.1.1"], "AC", "socket EPERM\n", Some("socket")),
    (&["vsock"], "AC", "EPERM\n", Some("socket")),
    (&["abstract"], "AC", "EPERM\n", Some("bind")),
    (&["inotify"], "AC", "EPERM\n", Some("inotify_init1")),
    (&["affinity"], "AC", "EPERM\n", Some("sched_setaffinity")),
    (&["ptrace"], "AC", "EPERM\n", Some("ptrace")),
    (&["mount"], "AC", "EPERM\n", Some("mount")),
    (&["unshare"], "AC", "EPERM\n", Some("unshare")),
    (&["clone_ns"], "AC", "EPERM\n", Some("clone")),
    (&["keyctl"], "AC", "EPERM\n", Some("add_key")),
    (&["io_uring"], "AC", "EPERM\n", Some("io_uring_setup")),
    (&["flock"], "AC", "ENOLCK\n", None),
    (&["kill_all"], "AC", "alive\n", None),
    (&["fds"], "AC", "0 1 2 \n", None),
    (
        &["env"],
        "AC",
        "PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME=/box \n",
        None,
    ),
    (&["open_many"], "AC", "253 EMFILE\n", None),
    (&["symlink_root"], "AC", "ENOENT\n", None),
    // dnotify sees another run's (and the host's) reads of a shared folder.
    (&["dnotify"], "AC", "ENOLCK\n", None),
    (&["lease"], "AC", "ENOLCK\n", None),
    // AIO contexts come out of the machine-wide fs.aio-max-nr.
    (&["aio"], "AC", "EPERM\n", Some("io_setup")),
    // Newer than the first deny list: the host's mounts, a tree's copy.
    (&["syscall", "457"], "AC", "EPERM\n", Some("statmount")),
    (&["syscall", "458"], "AC", "EPERM\n", Some("listmount")),
    (&["syscall", "467"], "AC", "EPERM\n", Some("open_tree_attr")),
    // Calls newer than the filter fail as on an older kernel.
    (&["syscall", "470"], "AC", "ENOSYS\n", None),
    (&["syscall", "1000"], "AC", "ENOSYS\n", None),
    // Huge pages: memory the memory limit never sees.
    (&["huge_mmap"], "AC", "EPERM\n", Some("mmap")),
    (&["huge_memfd"], "AC", "EPERM\n", Some("memfd_create")),
    (&["huge_shm"], "AC", "EPERM\n", Some("shmget")),
    // Whether a shared file's pages are cached: others' reads of it.
    (&["nowait_read"], "AC", "EPERM\n", Some("preadv2")),
    // 1, which the kernel takes as "no core dump" for a pipe core_pattern
    // too (0 does not stop a pipe handler, which runs as root).
    (&["core_limit"], "AC", "1 1\n", None),
    // What the host booted with, and its boot id, are not the program's.
    (&["size", "/proc/cmdline"], "AC", "0\n", None),
    (
        &["size", "/proc/sys/kernel/random/boot_id"],
        "AC",
        "0\n",
        None,
    ),
    // Nor the path of the judge's control group (it names the judge's pid).
    (&["cgroup"], "AC", "root only\n", None),
    (&["int80"], "RE", "", None),
    (&["x32"], "RE", "", None),
];

fn check(v: &serde_json::Value, row: &(&[&str], &str, &str, Option<&str>)) {
    let (mode, verdict, out, refused) = row;
    assert_eq!(v["verdict"], *verdict, "{mode:?}: {}", brief(v));
    assert_eq!(v["stdout"], *out, "{mode:?}: {}", brief(v));
    match refused {
        Some(name) => {
            assert_eq!(v["refused_syscalls"][0]["name"], *name, "{mode:?}");
            assert_eq!(v["refused_syscalls"][0]["count"], 1, "{mode:?}");
        }
        None => assert_eq!(v["refused_syscalls"], serde_json::json!([]), "{mode:?}"),
    }
}

#[test]
fn every_attack_is_contained() {
    for row in ATTACKS {
        let mut p = vec![prog("hostile")];
        p.extend(row.0.iter().map(|s| s.to_string()));
        // The judge's own environment must not reach the program.
        let v = run().env("JUDGE_TEST_SECRET", "leak").program(p).json();
        check(&v, row);
        if row.1 == "RE" {
            assert_eq!(v["signal_name"], "SIGSYS", "{:?}", row.0);
        }
    }
}

/// The root holds the system directories, /box, /tmp, /dev, /proc, /etc
/// and the program's own executable as /program: nothing of the host's
/// path to it.
#[test]
fn the_root_shows_only_what_programs_need() {
    let p = prog("hostile");
    let v = run().program([p.clone(), "ls".into(), "/".into()]).json();
    let mut seen: Vec<&str> = v["stdout"].as_str().unwrap().split_whitespace().collect();
    seen.sort();
    let mut want: Vec<&str> = [
        "bin", "box", "dev", "etc", "lib", "lib64", "proc", "program", "sbin", "tmp", "usr",
    ]
    .into_iter()
    .filter(|d| {
        std::path::Path::new("/").join(d).exists()
            || ["box", "dev", "etc", "proc", "program", "tmp"].contains(d)
    })
    .collect();
    want.sort();
    assert_eq!(seen, want, "{}", brief(&v));
}

/// As root, each running session has a uid of its own from 60000 up, the
/// one the result names.
fn sandbox_uid(v: &serde_json::Value) -> u64 {
    let uid = v["isolation"]["uid"].as_u64().unwrap();
    assert!((60000..60256).contains(&uid), "{uid}");
    uid
}

#[test]
fn isolation_is_reported() {
    let v = run().program([prog("hostile"), "ids".into()]).json();
    let uid = sandbox_uid(&v);
    assert_eq!(v["stdout"], format!("{uid} {uid}\n"));
    let iso = &v["isolation"];
    assert_eq!(iso["level"], "full");
    assert_eq!(iso["network"], "shared_empty");
    assert_eq!(iso["capabilities_dropped"], true);
    assert_eq!(iso["seccomp"], true);
}

#[test]
fn on_forbidden_kill_is_re_naming_the_call() {
    let v = run()
        .args(["--on-forbidden", "kill"])
        .program([prog("hostile"), "ptrace".into()])
        .json();
    assert_eq!(v["verdict"], "RE", "{}", brief(&v));
    assert_eq!(
        v["message"],
        "the program made a system call the sandbox forbids (ptrace)"
    );
    assert_eq!(v["stdout"], "");
}

#[test]
fn a_huge_file_is_ole_at_the_file_size_limit() {
    let v = run()
        .args(["--file-size-limit", "8M"])
        .program([prog("hostile"), "big_file".into()])
        .json();
    assert_eq!(v["verdict"], "OLE", "{}", brief(&v));
    assert_eq!(v["signal_name"], "SIGXFSZ");
    // Without that limit the work directory's size stops it, and the
    // program is told so.
    let v = run()
        .args(["--workdir-size", "16M", "--file-size-limit", "1G"])
        .program([prog("hostile"), "big_file".into()])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout"], "ENOSPC after 16 MiB\n");
}

/// Nothing a run writes is there for the next one.
#[test]
fn tmp_and_work_dir_do_not_outlive_a_run() {
    let sh = |script: &str| run().program(["/bin/sh", "-c", script]).json();
    let v = sh("echo x > /tmp/mark && echo y > /box/mark && ls /tmp /box");
    assert_eq!(v["stdout"], "/box:\nmark\n\n/tmp:\nmark\n", "{}", brief(&v));
    let v = sh("ls -A /tmp /box");
    assert_eq!(v["stdout"], "/box:\n\n/tmp:\n", "{}", brief(&v));
    let v = sh("echo x > /dev/shm/mark && ls /dev/shm");
    assert_eq!(v["stdout"], "mark\n", "{}", brief(&v));
    let v = sh("ls -A /dev/shm");
    assert_eq!(v["stdout"], "", "{}", brief(&v));
}

/// A setuid binary gains nothing: the program's mounts are nosuid and
/// no_new_privs is set.
#[test]
fn setuid_binaries_do_not_elevate() {
    let dir = temp_dir("setuid");
    let bin = dir.join("ids");
    std::fs::copy(prog("hostile"), &bin).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let v = run()
        .program([bin.to_string_lossy().into_owned(), "ids".into()])
        .json();
    let uid = sandbox_uid(&v);
    assert_eq!(v["stdout"], format!("{uid} {uid}\n"), "{}", brief(&v));
}

/// Files in (--file), folders shown (--dir), and what the program may do
/// with each.
#[test]
fn files_and_dirs_are_shown_as_asked() {
    let dir = temp_dir("share");
    std::fs::write(dir.join("data.txt"), "42\n").unwrap();
    let d = dir.to_string_lossy().into_owned();
    let v = run()
        .args(["--file", &format!("{d}/data.txt:in/data.txt")])
        .args(["--dir", &format!("{d}:/data")])
        .program([
            "/bin/sh",
            "-c",
            "cat in/data.txt /data/data.txt; echo z > /data/new 2>/dev/null || echo read-only",
        ])
        .json();
    assert_eq!(v["stdout"], "42\n42\nread-only\n", "{}", brief(&v));
    let v = run()
        .args(["--dir", &format!("{d}:/data:rw")])
        .program(["/bin/sh", "-c", "echo z > /data/new && cat /data/new"])
        .json();
    assert_eq!(v["stdout"], "z\n", "{}", brief(&v));
    assert_eq!(std::fs::read_to_string(dir.join("new")).unwrap(), "z\n");
}

/// A fork bomb under --processes 8: whether the shell itself then fails to
/// fork (RE) or sleeps until the wall limit (ILE) is a race the bomb runs
/// against itself; what must hold is that the judge ends on time and
/// nothing of the bomb survives.
#[test]
fn a_fork_bomb_is_contained() {
    let tok = token("bomb");
    let done = run()
        .arg("--json")
        .args(["--processes", "8", "--time-limit", "0.5"])
        .program([
            "/bin/sh".to_string(),
            "-c".into(),
            format!("b() {{ b | b & }}; b; sleep 5; : {tok}"),
        ])
        .exec();
    let v = done.json();
    assert!(
        ["ILE", "TLE", "RE"].contains(&v["verdict"].as_str().unwrap()),
        "{}",
        brief(&v)
    );
    assert_eq!(v["limits"]["processes"]["limit"], 8);
    assert!(done.elapsed.as_secs() < 10, "{:?}", done.elapsed);
    assert!(
        processes_with(&tok).is_empty(),
        "{:?}",
        processes_with(&tok)
    );
}

/// --keep-workdir copies regular files and folders only: symlinks planted
/// toward host files, FIFOs (which would block a reader) and trees too deep
/// are left behind and named; nothing is followed, nothing hangs.
#[test]
fn keep_workdir_copies_only_what_is_safe() {
    let dest = temp_dir("keep").join("out");
    let script = "mkdir -p a/b && printf hi > a/b/f && ln -s /etc/passwd link \
                  && ln -s / root && mkfifo fifo && printf x > 'new\nline' && truncate -s 60M sparse \
                  && d=deep; for i in $(seq 70); do d=$d/d; done; mkdir -p $d; exit 3";
    let v = run()
        .args(["--keep-workdir", dest.to_str().unwrap()])
        .program(["/bin/sh", "-c", script])
        .json();
    assert_eq!(v["verdict"], "RE", "{}", brief(&v));
    let kept = &v["workdir_kept"];
    assert_eq!(kept["files"], 3, "{kept}");
    assert_eq!(kept["bytes"], 3, "{kept}");
    let skipped: Vec<&str> = kept["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for want in [
        "link: a symbolic link, not copied",
        "root: a symbolic link, not copied",
        "fifo: a FIFO, not copied",
    ] {
        assert!(skipped.contains(&want), "{want} not in {skipped:?}");
    }
    assert!(
        skipped.iter().any(|s| s.ends_with("deeper than 64 levels")),
        "{skipped:?}"
    );
    assert_eq!(std::fs::read_to_string(dest.join("a/b/f")).unwrap(), "hi");
    assert_eq!(
        std::fs::read_to_string(dest.join("new\nline")).unwrap(),
        "x"
    );
    // A file that takes no room inside takes none outside either.
    use std::os::unix::fs::MetadataExt;
    let sparse = std::fs::metadata(dest.join("sparse")).unwrap();
    assert_eq!(sparse.len(), 60 << 20);
    assert!(
        sparse.blocks() * 512 < 1 << 20,
        "{} blocks",
        sparse.blocks()
    );
    assert!(std::fs::symlink_metadata(dest.join("link")).is_err());
    assert!(std::fs::symlink_metadata(dest.join("fifo")).is_err());
}

/// The work directory is kept after a kill too (the tree dies, init holds
/// the namespace until the copy is done), and nothing is left running.
#[test]
fn keep_workdir_after_tle() {
    let dest = temp_dir("keep-tle").join("out");
    let tok = token("keep-tle");
    let v = run()
        .args([
            "--time-limit",
            "0.2",
            "--keep-workdir",
            dest.to_str().unwrap(),
        ])
        .program([
            "/bin/sh".to_string(),
            "-c".into(),
            format!("echo {tok} > f; (while :; do :; done) & while :; do :; done"),
        ])
        .json();
    assert_eq!(v["verdict"], "TLE", "{}", brief(&v));
    assert_eq!(v["workdir_kept"]["files"], 1);
    assert_eq!(
        std::fs::read_to_string(dest.join("f")).unwrap(),
        format!("{tok}\n")
    );
    assert!(
        processes_with(&tok).is_empty(),
        "{:?}",
        processes_with(&tok)
    );
}

/// Sessions running side by side never share a uid (per-user kernel
/// resources would be shared otherwise).
#[test]
fn concurrent_sessions_get_different_uids() {
    let ids: Vec<u64> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..3)
            .map(|_| {
                sc.spawn(|| {
                    let v = run().program(["/bin/sh", "-c", "sleep 0.5; id -u"]).json();
                    let uid = sandbox_uid(&v);
                    assert_eq!(v["stdout"], format!("{uid}\n"));
                    uid
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "{ids:?}"
    );
}

/// --file neither follows a final symlink (a submission's file list could
/// point at /etc/shadow) nor blocks on a FIFO; --dir cannot replace the
/// root, and one over /tmp leaves the rest of the jail in place.
#[test]
fn files_in_are_not_followed_or_waited_for() {
    let dir = temp_dir("filesin");
    std::os::unix::fs::symlink("/etc/shadow", dir.join("input.txt")).unwrap();
    let fifo = dir.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let d = dir.to_string_lossy().into_owned();
    for (args, why) in [
        (
            vec!["--file".to_string(), format!("{d}/input.txt")],
            "a symbolic link",
        ),
        (
            vec!["--file".to_string(), format!("{d}/fifo")],
            "only regular files",
        ),
        (vec!["--dir".to_string(), format!("{d}:/")], "root itself"),
    ] {
        let done = run().args(args.clone()).program(["/bin/true"]).exec();
        assert_eq!(done.status, 2, "{args:?}: {}", done.stderr);
        assert!(done.stderr.contains(why), "{args:?}: {}", done.stderr);
        assert!(done.elapsed.as_secs() < 5, "{args:?}");
    }
    let v = run()
        .args(["--dir", &format!("{d}:/tmp:rw")])
        .program(["/bin/sh", "-c", "ls /usr >/dev/null && ls /tmp"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout"], "fifo\ninput.txt\n", "{}", brief(&v));
}

/// Signals at the host's processes: their pids mean nothing inside.
#[test]
fn host_pids_are_out_of_reach() {
    let me = std::process::id().to_string();
    let v = run().program([prog("hostile"), "kill".into(), me]).json();
    assert_eq!(v["stdout"], "ESRCH\n", "{}", brief(&v));
}

/// A huge command line (100,000 arguments, 1 MB) is passed whole: the
/// stack limit (the memory limit) allows it. (One argument over the
/// kernel's 128 KiB per-string limit cannot reach the judge at all.)
#[test]
fn huge_argv() {
    let mut p = vec![prog("hostile"), "argc".into()];
    p.extend((0..100_000).map(|i| format!("arg{i:06}")));
    let v = run().program(p).json();
    assert_eq!(v["stdout"], "100002\n", "{}", brief(&v));
}

/// What ordinary programs do keeps working in the jail: processes and
/// threads, pipes, POSIX semaphores (/dev/shm), temporary files.
#[test]
fn ordinary_programs_still_work() {
    let script = r#"
import multiprocessing as mp, subprocess, tempfile, os
def sq(x): return x * x
if __name__ == "__main__":
    with mp.Pool(2) as p: print(sum(p.map(sq, range(100))))
    print(subprocess.run(["echo", "sub"], capture_output=True, text=True).stdout.strip())
    with tempfile.NamedTemporaryFile() as f: print(os.path.dirname(f.name))
    q = mp.Queue(); q.put(1); print(q.get())
"#;
    let v = run()
        .args(["--processes", "32"])
        .program([python(), "-c".into(), script.into()])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout"], "328350\nsub\n/tmp\n1\n", "{}", brief(&v));
    assert_eq!(v["refused_syscalls"], serde_json::json!([]));
    let v = run()
        .program([
            "/bin/sh",
            "-c",
            "seq 1000 | sort -r | head -1 | tee /box/out >/dev/null; cat out",
        ])
        .json();
    assert_eq!(v["stdout"], "999\n", "{}", brief(&v));
}

/// Run by a judge that has a controlling terminal (a pty, as in an
/// interactive shell), the program has none (field 7 of its stat, the
/// terminal, is 0), is in a process group of the sandbox's own (so a
/// Ctrl-C at the terminal is the judge's alone), and leads no session (so
/// it can never take a terminal). Where /dev/tty cannot be used to drop
/// the terminal (here masked by /dev/null), init makes a session of its own
/// instead: still no terminal.
#[test]
fn the_judges_terminal_is_out_of_reach() {
    let cases = [
        ("full", Terminal::Plain, Some("1 0 0")),
        ("none", Terminal::Plain, None),
        ("full", Terminal::DevTtyMasked, Some("1 1 0")),
        ("none", Terminal::DevTtyMasked, None),
    ];
    for (isolation, terminal, expected) in cases {
        let mut cmd = run()
            .args(["--isolation", isolation, "--json"])
            .program(["/bin/sh", "-c", TERMINAL_PROBE])
            .command();
        with_terminal(&mut cmd, terminal);
        let v = exec_command(cmd).json();
        assert_eq!(
            v["verdict"],
            "AC",
            "{isolation} {terminal:?}: {}",
            brief(&v)
        );
        let out = v["stdout"].as_str().unwrap().trim();
        match expected {
            Some(e) => assert_eq!(out, e, "{isolation} {terminal:?}"),
            None => {
                // The host's /proc: no terminal, and a group that is not
                // the session's (the judge's, or init's own session).
                let ids: Vec<&str> = out.split(' ').collect();
                assert_eq!(ids[2], "0", "{isolation} {terminal:?}: {out}");
                assert!(
                    terminal == Terminal::DevTtyMasked || ids[0] != ids[1],
                    "{out}"
                );
            }
        }
    }
}

/// The sandbox's /dev/tty opens the program's controlling terminal, and a
/// program without `--pty` has none, even when the judge has one: the
/// judge's terminal stays out of reach through it too.
#[test]
fn dev_tty_opens_no_terminal_but_the_programs_own() {
    let probe = "echo leak > /dev/tty 2>/dev/null && echo opened || echo refused";
    for isolation in ["full", "none"] {
        let mut cmd = run()
            .args(["--isolation", isolation, "--json"])
            .program(["/bin/sh", "-c", probe])
            .command();
        with_terminal(&mut cmd, Terminal::Plain);
        let v = exec_command(cmd).json();
        assert_eq!(v["stdout"], "refused\n", "{isolation}: {}", brief(&v));
    }
    // With --pty it is the program's own terminal: what it writes there is
    // its output.
    let v = run().arg("--pty").program(["/bin/sh", "-c", probe]).json();
    assert_eq!(v["stdout"], "leak\nopened\n", "{}", brief(&v));
}

/// A host mount nested below a shown folder is read-only, nosuid and
/// nodev inside like the folder itself (the binds are recursive, so must
/// the attributes be), whether the root is built per run (`/data`) or on
/// the template (`/box/data`), and so is one below the system folders.
#[test]
fn nested_host_mounts_are_read_only_too() {
    let dir = temp_dir("nested");
    std::fs::create_dir(dir.join("sub")).unwrap();
    let d = dir.to_string_lossy().into_owned();
    for dest in ["/data", "/box/data"] {
        let script = format!(
            "echo x > {dest}/sub/f 2>/dev/null && echo wrote || echo refused; \
             grep ' {dest}/sub ' /proc/self/mountinfo | cut -d' ' -f6"
        );
        // Shown writable, the nested mount stays writable, without set-id
        // or devices.
        for (mode, want) in [
            ("", "refused\nro,nosuid,nodev,relatime\n"),
            (":rw", "wrote\nrw,nosuid,nodev,relatime\n"),
        ] {
            let mut cmd = run()
                .args(["--json", "--dir", &format!("{d}:{dest}{mode}")])
                .program(["/bin/sh", "-c", &script])
                .command();
            with_mounts_below(&mut cmd, &[&dir.join("sub")]);
            let v = exec_command(cmd).json();
            assert_eq!(v["stdout"], want, "{dest}{mode}: {}", brief(&v));
        }
    }
    // Below /usr: the template's own binds (and one built per run).
    let probe = "echo x > /usr/local/f 2>/dev/null && echo wrote || echo refused";
    for extra in [vec![], vec!["--dir".to_string(), format!("{d}:/data")]] {
        let mut cmd = run()
            .arg("--json")
            .args(extra.clone())
            .program(["/bin/sh", "-c", probe])
            .command();
        with_mounts_below(&mut cmd, &[Path::new("/usr/local")]);
        let v = exec_command(cmd).json();
        assert_eq!(v["stdout"], "refused\n", "{extra:?}: {}", brief(&v));
    }
}

/// --file and --dir follow no symlink anywhere on the source's path: a
/// submission's `upload/d -> /etc` does not turn `upload/d/shadow` into the
/// host's /etc/shadow, nor `upload/d` into the host's /etc.
#[test]
fn sources_follow_no_symlinked_folder() {
    let dir = temp_dir("srclinks");
    std::fs::create_dir(dir.join("upload")).unwrap();
    std::os::unix::fs::symlink("/etc", dir.join("upload/d")).unwrap();
    let d = dir.to_string_lossy().into_owned();
    for args in [
        vec!["--file".to_string(), format!("{d}/upload/d/shadow:shadow")],
        vec!["--file".to_string(), format!("{d}/upload/d/hostname:h")],
        vec!["--dir".to_string(), format!("{d}/upload/d:/data")],
        vec!["--dir".to_string(), format!("{d}/upload/d:/box/data")],
        vec!["--dir".to_string(), format!("{d}/upload/d/ssl:/data")],
    ] {
        let done = run().args(args.clone()).program(["/bin/true"]).exec();
        assert_eq!(done.status, 2, "{args:?}: {}", done.stderr);
        assert!(
            done.stderr.contains("a symbolic link is on the path"),
            "{args:?}: {}",
            done.stderr
        );
        assert_eq!(done.stderr.lines().count(), 1, "{args:?}: {}", done.stderr);
    }
}

/// A file hard-linked many times in /box is copied out once: the other
/// names become hard links, not copies (200 links of 32 MiB were 6.3 GiB of
/// host writes).
#[test]
fn keep_workdir_links_instead_of_copying_again() {
    let dest = temp_dir("keep-links").join("out");
    let script = "head -c 8388608 /dev/zero | tr '\\0' x > f && mkdir d && \
                  for i in $(seq 200); do ln f l$i; done && ln f d/again";
    let v = run()
        .args(["--keep-workdir", dest.to_str().unwrap()])
        .program(["/bin/sh", "-c", script])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    let kept = &v["workdir_kept"];
    assert_eq!(kept["files"], 1, "{kept}");
    assert_eq!(kept["links"], 201, "{kept}");
    assert_eq!(kept["bytes"], 8 << 20, "{kept}");
    assert_eq!(kept["stopped"], serde_json::Value::Null, "{kept}");
    use std::os::unix::fs::MetadataExt;
    let f = std::fs::metadata(dest.join("f")).unwrap();
    assert_eq!(f.nlink(), 202);
    assert_eq!(
        std::fs::metadata(dest.join("d/again")).unwrap().ino(),
        f.ino()
    );
}

/// The destination is made folder by folder, never through a symlink (one
/// planted on its way would send root's copy anywhere), and it may not lie
/// inside a folder the program can write.
#[test]
fn keep_workdir_destination_is_not_redirected() {
    let dir = temp_dir("keep-dest");
    std::fs::create_dir(dir.join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(dir.join("elsewhere"), dir.join("results")).unwrap();
    let dest = dir.join("results/run1");
    let v = run()
        .args(["--keep-workdir", dest.to_str().unwrap()])
        .program(["/bin/sh", "-c", "echo x > f"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["workdir_kept"], serde_json::Value::Null);
    let w = v["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("a symbolic link or a file is on the path"),
        "{w}"
    );
    assert!(!dir.join("elsewhere/run1").exists());

    let shared = dir.join("shared");
    std::fs::create_dir(&shared).unwrap();
    let s = shared.to_string_lossy().into_owned();
    for dest in [shared.join("results/run1"), shared.join("run1")] {
        let done = run()
            .args(["--dir", &format!("{s}:/share:rw")])
            .args(["--keep-workdir", dest.to_str().unwrap()])
            .program(["/bin/true"])
            .exec();
        assert_eq!(done.status, 2, "{}", done.stderr);
        assert!(
            done.stderr
                .contains("inside a folder the program may write"),
            "{}",
            done.stderr
        );
        assert!(!dest.exists());
    }
}

/// A host setting under /proc/sys, set for one test and put back however
/// the test ends.
struct Sysctl {
    path: &'static str,
    old: String,
}

impl Sysctl {
    fn set(path: &'static str, value: &str) -> Sysctl {
        let old = std::fs::read_to_string(path)
            .unwrap()
            .trim_end()
            .to_string();
        std::fs::write(path, value).unwrap();
        Sysctl { path, old }
    }
}

impl Drop for Sysctl {
    fn drop(&mut self) {
        let _ = std::fs::write(self.path, &self.old);
    }
}

/// With a pipe core_pattern (apport, systemd-coredump) the kernel feeds a
/// crash's memory to a handler running as root whatever RLIMIT_CORE 0 says;
/// the judge's RLIMIT_CORE 1 is the kernel's own "no dump" for pipes. The
/// control run (RLIMIT_CORE 0, outside the judge) shows the handler works.
#[test]
fn a_pipe_core_pattern_gets_no_dump() {
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let dir = temp_dir("core");
    let handler = dir.join("handler.sh");
    let marker = dir.join("dumped");
    std::fs::write(
        &handler,
        format!(
            "#!/bin/sh\necho \"$1\" >> {}\ncat >/dev/null\n",
            marker.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&handler, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _pattern = Sysctl::set(
        "/proc/sys/kernel/core_pattern",
        &format!("|{} %p", handler.display()),
    );
    let wait_for_marker = || {
        for _ in 0..50 {
            if marker.exists() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    };
    let v = run().program([prog("hostile"), "segv".into()]).json();
    assert_eq!(v["signal_name"], "SIGSEGV", "{}", brief(&v));
    assert!(!wait_for_marker(), "the judged program's crash was dumped");
    let mut control = std::process::Command::new(prog("hostile"));
    control.arg("segv");
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        control.pre_exec(|| {
            let zero = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &zero);
            Ok(())
        });
    }
    let _ = control.status();
    assert!(wait_for_marker(), "the control crash reached no handler");
}

/// Under strict overcommit (vm.overcommit_memory = 2) memory a program
/// reserves and never touches takes the machine-wide commit charge, which
/// the memory controller does not see: 4 GiB reserved under a 64 MiB limit
/// is refused there (RLIMIT_AS), and allowed where overcommit is not strict
/// (the cgroup bounds what is touched). The setting is the machine's, so
/// it is on for the one run only.
#[test]
fn strict_overcommit_bounds_what_a_program_reserves() {
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let reserve = || {
        run()
            .args(["--memory-limit", "64M"])
            .program([prog("hostile"), "reserve".into()])
            .json()
    };
    let v = {
        let _strict = Sysctl::set("/proc/sys/vm/overcommit_memory", "2");
        reserve()
    };
    assert_eq!(v["stdout"], "ENOMEM\n", "{}", brief(&v));
    let v = reserve();
    if std::fs::read_to_string("/proc/sys/vm/overcommit_memory")
        .unwrap()
        .trim()
        != "2"
    {
        assert_eq!(v["stdout"], "ok\n", "{}", brief(&v));
    }
}

/// 16 MiB of 0xFF, not one byte of it text: the JSON carries it as 16 Mi
/// replacement characters (48 MiB) and as base64 (21 MiB), yet the judge
/// keeps the bytes once and encodes both as it writes them (it held all
/// three at once: 64 MiB made a judge of 354 MB). Its peak is its own
/// VmHWM (`judge_max_rss_kib`; a wait4 figure would include the test
/// process's own memory, which a spawned child inherits until it execs).
#[test]
fn invalid_utf8_output_keeps_the_judge_small() {
    const N: usize = 16 << 20;
    let v = run()
        .args(["--output-limit", "16M", "--json-output-limit", "16M"])
        .program([prog("hostile"), "invalid_utf8".into(), N.to_string()])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout_bytes"], N);
    assert_eq!(v["stdout"].as_str().unwrap().chars().count(), N);
    assert!(v["stdout"]
        .as_str()
        .unwrap()
        .chars()
        .all(|c| c == '\u{FFFD}'));
    assert_eq!(
        v["stdout_base64"].as_str().unwrap().len(),
        N.div_ceil(3) * 4
    );
    let peak_mib = v["judge_max_rss_kib"].as_u64().unwrap() / 1024;
    assert!(
        peak_mib < 40,
        "the judge peaked at {peak_mib} MiB for {} MiB of output",
        N >> 20
    );
}

/// `--file SRC:` and `--file SRC:.` name the work directory itself: a usage
/// error, not an attempt to give `/box` away that then blames the host.
#[test]
fn a_file_needs_a_file_name_inside() {
    for dest in ["", ".", "./", "./."] {
        let done = run()
            .args(["--file", &format!("/etc/hostname:{dest}")])
            .program(["/bin/true"])
            .exec();
        assert_eq!(done.status, 2, "{dest:?}: {}", done.stderr);
        assert!(
            done.stderr.contains("the destination must name a file"),
            "{dest:?}: {}",
            done.stderr
        );
    }
}

/// Empty folders and symlinks cost the run's tmpfs no room at all: the
/// copy-out counts each folder as a block of the host's disk (1 MiB of
/// work area: at most 256 of them), and names at most 100 of the entries
/// it leaves behind.
#[test]
fn keep_workdir_counts_folders_and_bounds_what_it_lists() {
    let dest = temp_dir("keep-folders").join("out");
    let v = run()
        .args([
            "--workdir-size",
            "1M",
            "--keep-workdir",
            dest.to_str().unwrap(),
        ])
        .program([
            "/bin/sh",
            "-c",
            "mkdir l && cd l && for i in $(seq 500); do ln -s /etc s$i; done && cd .. \
             && mkdir d && cd d && mkdir $(seq 3000)",
        ])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    let kept = &v["workdir_kept"];
    assert!(kept["dirs"].as_u64().unwrap() <= 256, "{kept}");
    let stopped = kept["stopped"].as_str().unwrap();
    assert!(
        stopped.contains("stopped at its budget of 1048576 bytes"),
        "{stopped}"
    );
    assert!(v["warnings"][0]
        .as_str()
        .unwrap()
        .contains("stopped at its budget"));
    let skipped = kept["skipped"].as_array().unwrap();
    assert!(skipped.len() <= 101, "{}", skipped.len());
}

/// Files copied out keep their permission bits (an executable stays one),
/// but never set-id bits nor write access for others.
#[test]
fn keep_workdir_keeps_modes_but_no_set_id() {
    let dest = temp_dir("keep-modes").join("out");
    let v = run()
        .args(["--keep-workdir", dest.to_str().unwrap()])
        .program([
            "/bin/sh",
            "-c",
            "echo x > run.sh && chmod 750 run.sh && echo y > open && chmod 666 open \
             && echo z > suid && chmod 4755 suid",
        ])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    use std::os::unix::fs::PermissionsExt;
    let mode = |n: &str| {
        std::fs::metadata(dest.join(n))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("run.sh"), 0o750);
    assert_eq!(mode("open"), 0o644);
    assert_eq!(mode("suid"), 0o755);
}
