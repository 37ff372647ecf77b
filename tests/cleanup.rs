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
    // Its cgroups could not be removed by itself; the next judge sweeps them.
    let killed = child.id();
    run().program(["/bin/true"]).json();
    assert!(
        cgroups_of(killed).is_empty(),
        "left behind: {:?}",
        cgroups_of(killed)
    );
}
