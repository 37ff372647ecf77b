//! The program's root as root builds it: the read-only template every run
//! enters, what each run adds, and that none of it reaches the host.

use std::path::{Path, PathBuf};

use crate::util::*;

/// Held by the tests that change the template's key (ldconfig, a mount
/// under /usr) or read it: in parallel, one would see the other's key.
static KEY: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The host's mount table, one mount per line, without the ids that
/// differ between two readings of the same table.
fn host_mounts() -> Vec<String> {
    let mut m: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .map(|l| l.split(' ').skip(3).collect::<Vec<_>>().join(" "))
        .collect();
    m.sort();
    m
}

/// The pinned templates.
fn pins() -> Vec<PathBuf> {
    let mut p: Vec<PathBuf> = std::fs::read_dir("/run/judge")
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with("root-")
                })
                .collect()
        })
        .unwrap_or_default();
    p.sort();
    p
}

/// A host directory bound onto itself and made shared, as systemd makes
/// every mount: a copy of it inside the sandbox joins its peer group.
struct SharedMount(PathBuf);

impl SharedMount {
    fn new(dir: &Path) -> SharedMount {
        let c = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
        // SAFETY: valid paths; a bind mount of a test directory onto itself.
        unsafe {
            assert_eq!(
                libc::mount(
                    c.as_ptr(),
                    c.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND,
                    std::ptr::null()
                ),
                0
            );
            assert_eq!(
                libc::mount(
                    std::ptr::null(),
                    c.as_ptr(),
                    std::ptr::null(),
                    libc::MS_SHARED,
                    std::ptr::null()
                ),
                0
            );
        }
        SharedMount(dir.to_path_buf())
    }
}

impl SharedMount {
    /// A tmpfs mounted at `dir` (a host mount a test makes and removes).
    fn tmpfs(dir: &Path) -> SharedMount {
        let c = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
        // SAFETY: valid strings; a small tmpfs on a test directory.
        let r = unsafe {
            libc::mount(
                c"judgetest".as_ptr(),
                c.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                c"size=64k".as_ptr().cast(),
            )
        };
        assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
        SharedMount(dir.to_path_buf())
    }
}

impl Drop for SharedMount {
    fn drop(&mut self) {
        let c = std::ffi::CString::new(self.0.to_str().unwrap()).unwrap();
        // SAFETY: detaching the test's own mount.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
}

/// One template, pinned once, serves every run whatever it adds (files,
/// folders in the work area, a program outside the system directories);
/// the host's mount table is the same after those runs as before; a file
/// the host replaces gets the template rebuilt, the old one unpinned.
/// One test, in order: each part changes what the next one looks at.
#[test]
fn the_template_serves_every_run_and_nothing_reaches_the_host() {
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let _key = KEY.lock().unwrap_or_else(|e| e.into_inner());
    let warm = run().program(["/bin/true"]).json();
    assert_eq!(warm["verdict"], "AC", "{}", brief(&warm));
    let pinned = pins();
    assert_eq!(pinned.len(), 1, "{pinned:?}");
    let before = host_mounts();

    let dir = temp_dir("root-share");
    std::fs::write(dir.join("data.txt"), "42\n").unwrap();
    let out = temp_dir("root-out");
    let (d, o) = (dir.to_string_lossy(), out.to_string_lossy());
    let v = run()
        .args(["--file", &format!("{d}/data.txt:in/data.txt")])
        .args(["--dir", &format!("{d}:/box/data")])
        .args(["--dir", &format!("{o}:/tmp/out:rw")])
        .program([
            "/bin/sh",
            "-c",
            "cat in/data.txt data/data.txt; echo x > data/new 2>/dev/null || echo read-only; \
             echo y > /tmp/out/new && echo written; grep -c . /proc/self/mountinfo; \
             grep ' / / ' /proc/self/mountinfo | cut -d' ' -f 6,8,9",
        ])
        .json();
    // Thirteen mounts: the template's root, /usr, two /etc pieces, the work
    // area's tmpfs and its three parts, /proc and the two files it hides
    // (the kernel command line, the boot id), and the two folders; and one
    // per JDK configuration folder the host has (/etc/java-17-openjdk).
    let jdks = std::fs::read_dir("/etc")
        .unwrap()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("java-") && n.ends_with("-openjdk") && e.path().is_dir()
        })
        .count();
    assert_eq!(
        v["stdout"],
        format!(
            "42\n42\nread-only\nwritten\n{}\nro,nosuid,relatime tmpfs judge\n",
            13 + jdks
        ),
        "{}",
        brief(&v)
    );
    assert_eq!(std::fs::read_to_string(out.join("new")).unwrap(), "y\n");

    // A program outside the system directories: shown alone, at /program.
    let cat = temp_dir("root-cat").join("cat");
    std::fs::copy("/bin/cat", &cat).unwrap();
    let v = run()
        .program([cat.to_str().unwrap(), "/proc/self/mountinfo"])
        .json();
    let mounts = v["stdout"].as_str().unwrap();
    // Where each is mounted and what it is (a bind's line also names its
    // source's path within the host's file system: the kernel's words).
    for line in mounts.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let (at, fstype) = (f[4], f[f.len() - 3]);
        for host_only in ["/sys", "/run", "/work"] {
            assert!(!at.starts_with(host_only), "{line}");
        }
        assert!(
            !["cgroup", "cgroup2", "nsfs", "devtmpfs"].contains(&fstype),
            "{line}"
        );
    }
    assert!(mounts.contains(" /program ro,"), "{mounts}");
    assert_eq!(host_mounts(), before, "the runs changed the host's mounts");
    assert_eq!(pins(), pinned);

    // A folder bound into a shared host mount: were the copy not made
    // private, the inner bind would propagate back to the host.
    let shared_dir = temp_dir("root-shared");
    let shared = SharedMount::new(&shared_dir);
    let with_shared = host_mounts();
    let inner = temp_dir("root-inner");
    std::fs::write(inner.join("f"), "inner\n").unwrap();
    let v = run()
        .args(["--dir", &format!("{}:/box/a:rw", shared_dir.display())])
        .args(["--dir", &format!("{}:/box/a/sub", inner.display())])
        .program(["/bin/cat", "a/sub/f"])
        .json();
    assert_eq!(v["stdout"], "inner\n", "{}", brief(&v));
    assert_eq!(host_mounts(), with_shared, "a mount propagated to the host");
    drop(shared);

    // A mount made under a shown system directory after the template was
    // built is seen by the next run, and so is its removal: the template
    // is rebuilt both times (it binds what was mounted when it was built).
    let under_usr = PathBuf::from("/usr/local/share").join(token("mnt"));
    std::fs::create_dir_all(&under_usr).unwrap();
    let list = |dir: &Path| {
        let v = run().program(["/bin/ls", dir.to_str().unwrap()]).json();
        assert_eq!(v["verdict"], "AC", "{}", brief(&v));
        v["stdout"].as_str().unwrap().to_string()
    };
    assert_eq!(list(&under_usr), "");
    let mounted = SharedMount::tmpfs(&under_usr);
    std::fs::write(under_usr.join("inside"), "").unwrap();
    assert_eq!(list(&under_usr), "inside\n");
    drop(mounted);
    assert_eq!(list(&under_usr), "");
    std::fs::remove_dir(&under_usr).unwrap();
    let now = pins();
    assert_eq!(now.len(), 1, "{now:?}");

    // ldconfig writes a new /etc/ld.so.cache and renames it into place:
    // the template's bind would show the old file, so a new one is built.
    let status = std::process::Command::new("/sbin/ldconfig")
        .status()
        .unwrap();
    assert!(status.success());
    let v = run().program(["/bin/true"]).json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    let now = pins();
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now, pinned, "the template was not rebuilt");
    assert_eq!(host_mounts().len(), before.len());
}

/// Folders bound outside the work area cannot be mounted on the read-only
/// template: those runs build their root, and show the same tree.
#[test]
fn a_folder_outside_the_work_area_is_shown_by_a_root_built_per_run() {
    let dir = temp_dir("root-outside");
    std::fs::write(dir.join("f"), "outside\n").unwrap();
    let v = run()
        .args(["--dir", &format!("{}:/srv/data", dir.display())])
        .program([
            "/bin/sh",
            "-c",
            "cat /srv/data/f; ls /; grep ' / / ' /proc/self/mountinfo | cut -d' ' -f 6,8",
        ])
        .json();
    let out = v["stdout"].as_str().unwrap();
    assert!(out.starts_with("outside\n"), "{}", brief(&v));
    for d in ["bin", "box", "dev", "etc", "proc", "srv", "tmp", "usr"] {
        assert!(out.lines().any(|l| l == d), "{d}: {out}");
    }
    // Built per run: the root is this run's own tmpfs, not the template.
    assert!(out.ends_with("rw,nosuid,relatime tmpfs\n"), "{out}");
}

/// A folder that holds pinned namespaces (/run, with the judge's own pins)
/// cannot be moved into a run's copy of the template (the kernel refuses
/// the loop): such runs build their root, and the folder shows.
#[test]
fn a_folder_holding_namespace_pins_is_shown_all_the_same() {
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let v = run()
        .args(["--dir", "/run:/box/r"])
        .program(["/bin/ls", "r"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert!(
        v["stdout"].as_str().unwrap().lines().any(|l| l == "judge"),
        "{}",
        brief(&v)
    );
}

/// A file copied into a writable host folder leaves the folder's owner as
/// it was; a program shown at /program is told so by its argv[0].
#[test]
fn host_folders_keep_their_owner_and_argv0_names_program() {
    use std::os::unix::fs::MetadataExt;
    let shared = temp_dir("root-owner");
    let before = std::fs::metadata(&shared).unwrap().uid();
    let file = temp_dir("root-file").join("x");
    std::fs::write(&file, "x\n").unwrap();
    let sh = temp_dir("root-sh").join("mysh");
    std::fs::copy("/bin/sh", &sh).unwrap();
    let v = run()
        .args(["--dir", &format!("{}:/box/d:rw", shared.display())])
        .args(["--file", &format!("{}:d/x", file.display())])
        .program([sh.to_str().unwrap(), "-c", "cat d/x; echo \"$0\""])
        .json();
    assert_eq!(v["stdout"], "x\n/program\n", "{}", brief(&v));
    assert_eq!(std::fs::metadata(&shared).unwrap().uid(), before);
}

/// Whatever is found where the template (or the network namespace) is
/// pinned, a run neither hangs nor fails: a FIFO (an open would wait
/// forever), a directory or a plain file is replaced by the pin. Run in a mount namespace of its own
/// with a fresh /run/judge, so the host's pins are not touched.
#[test]
fn anything_at_the_pin_path_is_replaced_not_waited_on() {
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let _key = KEY.lock().unwrap_or_else(|e| e.into_inner());
    let script = r#"
        set -ex
        mount -t tmpfs judgetest /run/judge
        mkfifo /run/judge/netns
        pin=$("$JUDGE" doctor | sed -n 's|.*\(/run/judge/root-[^: ]*\).*|\1|p' | head -n 1)
        for plant in fifo dir file; do
            umount -l "$pin" 2>/dev/null || true
            rm -rf "$pin"
            case $plant in
                fifo) mkfifo "$pin" ;;
                dir) mkdir -p "$pin/sub" ;;
                file) echo x > "$pin" ;;
            esac
            "$JUDGE" run --json -- /bin/true | grep -q '"verdict":"AC"'
            "$JUDGE" doctor | grep -q "template pinned at $pin"
            echo "$plant ok"
        done
        "$JUDGE" doctor | grep -q "namespace pinned at /run/judge/netns"
        echo "netns ok"
    "#;
    let out = std::process::Command::new("timeout")
        .args([
            "60",
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
        ])
        .env("JUDGE", judge_bin())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "fifo ok\ndir ok\nfile ok\nnetns ok\n",
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
