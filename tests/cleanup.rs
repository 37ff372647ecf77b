use crate::util::*;
use std::time::Duration;

/// A setsid double-forked daemon is dead when the session ends.
#[test]
fn daemon_dies_with_the_session() {
    let dir = temp_dir("daemon");
    let file = dir.join("beat");
    let tok = token("daemon");
    let v = run()
        .with_dir_rw(&dir)
        .program([prog("daemon"), file.to_str().unwrap().into(), tok.clone()])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert!(
        processes_with(&tok).is_empty(),
        "survivors: {:?}",
        processes_with(&tok)
    );
    let size = std::fs::metadata(&file).unwrap().len();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        std::fs::metadata(&file).unwrap().len(),
        size,
        "the daemon still writes"
    );
}

#[test]
fn killed_tree_leaves_nothing() {
    let tok = token("tree");
    let v = run()
        .with_fixtures()
        .args(["--time-limit", "0.3"])
        .program(["/bin/sh", "-c", &format!("{} 3 {tok}", prog("fork_spin"))])
        .json();
    assert_eq!(v["verdict"], "TLE");
    assert!(
        processes_with(&tok).is_empty(),
        "survivors: {:?}",
        processes_with(&tok)
    );
}

/// No cgroup directory of the judge's is left in any hierarchy.
#[test]
fn no_cgroups_are_left() {
    let d = run()
        .args(["--responder", &interactor("wa_on_eof"), "--json"])
        .program([prog("fork_spin"), "2".into()])
        .args(["--time-limit", "0.2"])
        .exec();
    assert_eq!(d.json()["verdict"], "TLE");
    assert!(
        cgroups_of(d.pid).is_empty(),
        "left behind: {:?}",
        cgroups_of(d.pid)
    );
}

/// Cgroup directories a judge process with this pid created.
fn cgroups_of(pid: u32) -> Vec<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let ns = std::fs::metadata("/proc/self/ns/pid").unwrap().ino();
    let prefixes = [
        format!("judge-{ns}-{pid}-"),
        format!("judge-supervisor-{ns}-{pid}"),
    ];
    let mut left = Vec::new();
    walk(std::path::Path::new("/sys/fs/cgroup"), 0, &mut |p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if prefixes.iter().any(|x| name.starts_with(x.as_str())) {
            left.push(p.to_path_buf());
        }
    });
    left
}

fn walk(dir: &std::path::Path, depth: usize, f: &mut dyn FnMut(&std::path::Path)) {
    if depth > 4 {
        return;
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                f(&e.path());
                walk(&e.path(), depth + 1, f);
            }
        }
    }
}

/// The Kattis feedback directory and testlib files live in a temp dir that
/// is removed afterwards.
#[test]
fn no_temp_dirs_are_left() {
    let tmp = temp_dir("tmpdir");
    for protocol in ["kattis", "testlib"] {
        let v = run()
            .env("TMPDIR", tmp.to_str().unwrap())
            .args([
                "--protocol",
                protocol,
                "--responder",
                &interactor("wa_first"),
            ])
            .program(["/bin/true"])
            .json();
        assert_eq!(
            v["responder"]["verdict"],
            if protocol == "kattis" { "JE" } else { "WA" },
            "{}",
            brief(&v)
        );
    }
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("judge-cpu-locks-"))
        .collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

/// SIGTERM to the judge: it stops the session, reports JE, leaves nothing.
#[test]
fn sigterm_to_the_judge_cleans_up() {
    let tok = token("sigterm");
    let mut cmd = run()
        .with_fixtures()
        .arg("--json")
        .args(["--responder", &format!("{} {tok}", interactor("hang"))])
        .program(["/bin/sh", "-c", &format!("{} 1 {tok}", prog("fork_spin"))])
        .command();
    cmd.stdout(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id() as i32;
    std::thread::sleep(Duration::from_millis(400));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "JE", "{}", brief(&v));
    assert_eq!(
        v["message"],
        "the judge was interrupted by SIGTERM and stopped the session"
    );
    // Neither the program's tree nor the interactor (which carries the token too).
    assert!(
        processes_with(&tok).is_empty(),
        "survivors: {:?}",
        processes_with(&tok)
    );
}

/// SIGKILL to the judge cannot be handled, but init dies with it
/// (PR_SET_PDEATHSIG), and with init the whole namespace.
#[test]
fn sigkill_to_the_judge_still_kills_the_tree() {
    let tok = token("sigkill");
    let mut cmd = run()
        .with_fixtures()
        .program(["/bin/sh", "-c", &format!("{} 1 {tok}", prog("fork_spin"))])
        .command();
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !processes_with(&tok).is_empty(),
        "the tree should be running"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let mut left = processes_with(&tok);
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        left = processes_with(&tok);
    }
    assert!(left.is_empty(), "survivors: {left:?}");
    // Its cgroups could not be removed by itself; the next judge sweeps
    // them, once they are empty: a process whose command line is gone may
    // still be exiting, and a group with a task in it cannot be removed.
    let killed = child.id();
    for _ in 0..100 {
        let busy = cgroups_of(killed).iter().any(|g| {
            std::fs::read_to_string(g.join("cgroup.procs")).is_ok_and(|p| !p.trim().is_empty())
        });
        if !busy {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    run().program(["/bin/true"]).json();
    assert!(
        cgroups_of(killed).is_empty(),
        "left behind: {:?}",
        cgroups_of(killed)
    );
}

/// The two tests that lock pooled groups from outside take turns.
static POOLS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Reused (pooled) groups start each session from zero and are empty
/// between sessions.
#[test]
fn pooled_groups_start_from_zero_and_end_empty() {
    let _pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    let v = run()
        .args(["--time-limit", "0.3"])
        .program([prog("fork_spin"), "2".into()])
        .json();
    assert_eq!(v["verdict"], "TLE", "{}", brief(&v));
    for _ in 0..3 {
        let v = run().program([prog("exit_n"), "0".into()]).json();
        assert_eq!(v["verdict"], "AC", "{}", brief(&v));
        assert!(v["cpu_time_ms"].as_u64().unwrap() < 50, "{}", brief(&v));
    }
    // Every pooled group, by name (one per hierarchy).
    let mut pooled: std::collections::BTreeMap<String, Vec<std::path::PathBuf>> =
        Default::default();
    walk(std::path::Path::new("/sys/fs/cgroup"), 0, &mut |p| {
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.starts_with("judge-pool-") {
            pooled.entry(name).or_default().push(p.to_path_buf());
        }
    });
    let mut busy = Vec::new();
    for dirs in pooled.values() {
        // The claim is a flock on the pids group (the first pooled
        // hierarchy here); a slot held by another test's session right now
        // is skipped, one nobody holds must be empty.
        let lock = dirs
            .iter()
            .find(|d| d.starts_with("/sys/fs/cgroup/pids"))
            .unwrap_or(&dirs[0]);
        let f = std::fs::File::open(lock).unwrap();
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor we own, released when it closes.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            continue;
        }
        for d in dirs {
            let procs = std::fs::read_to_string(d.join("cgroup.procs")).unwrap_or_default();
            if !procs.trim().is_empty() {
                busy.push(format!("{}: {procs}", d.display()));
            }
        }
    }
    assert!(busy.is_empty(), "{busy:?}");
}

/// An embedder with threads of its own (a thread pool, the WebAssembly
/// epoch ticker) starting jailed sessions: the child of clone must not use
/// glibc calls that wait on the parent's other threads (setgroups,
/// setresuid...), which once hung the session forever.
#[test]
fn sessions_started_among_busy_threads_never_hang() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc};
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::spawn(|| {}).join().unwrap();
            }
        })
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..150 {
            let r = judge::Session::new("/bin/true", Vec::<String>::new())
                .cpus(judge::CpuPlacement::Any)
                .run()
                .expect("a jailed session");
            assert_eq!(r.verdict, judge::Verdict::AC, "{}", r.message);
        }
        tx.send(()).unwrap();
    });
    let finished = rx.recv_timeout(std::time::Duration::from_secs(90));
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
    assert!(
        finished.is_ok(),
        "150 jailed sessions did not finish in 90 s: one hung"
    );
}

/// Pooled groups are named after the judge's PID namespace, so those of a
/// namespace that is gone (a container per job) would stay for good: a
/// judge reclaims those unused for an hour (looking at most hourly).
#[test]
fn pools_of_gone_namespaces_are_reclaimed() {
    use judge::sandbox::CgroupVersion;
    let _pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let host = judge::sandbox::CgroupHost::get();
    if !host
        .pids
        .as_ref()
        .is_some_and(|p| p.version == CgroupVersion::V1)
    {
        return; // pools need a v1 hierarchy to lock on
    }
    let bases: Vec<std::path::PathBuf> = [&host.memory, &host.pids, &host.cpu]
        .into_iter()
        .flatten()
        .filter(|p| p.version == CgroupVersion::V1)
        .map(|p| p.base.clone())
        .collect();
    // Pools of namespaces no process is in: one unused for two hours, one
    // used a minute ago (a sibling container's, perhaps), which stays.
    let ago = |secs: u64| std::time::SystemTime::now() - std::time::Duration::from_secs(secs);
    for b in &bases {
        for (name, secs) in [("judge-pool-1-0", 7200), ("judge-pool-2-0", 60)] {
            let d = b.join(name);
            std::fs::create_dir_all(&d).unwrap();
            let f = std::fs::File::open(&d).unwrap();
            f.set_modified(ago(secs)).unwrap();
        }
    }
    // The last look was long ago (looks are at most hourly).
    let _ = std::fs::remove_file("/run/judge/pools-reclaimed");
    let mut c = std::process::Command::new("unshare");
    c.args([
        "--pid",
        "--fork",
        judge_bin(),
        "run",
        "--json",
        "--",
        "/bin/true",
    ]);
    let d = exec_command(c);
    assert_eq!(d.status, 0, "{}", d.stderr);
    let pids_base = &host.pids.as_ref().unwrap().base;
    assert!(!pids_base.join("judge-pool-1-0").exists());
    assert!(pids_base.join("judge-pool-2-0").exists());
    for b in &bases {
        assert!(!b.join("judge-pool-1-0").exists(), "{}", b.display());
        let _ = std::fs::remove_dir(b.join("judge-pool-2-0"));
    }
}
