//! `judge doctor`: what this host offers, what `judge run` will use, and how
//! to enable what is missing. Every claim comes from the kernel's own files
//! or from a real jailed run, not from assumptions.

use std::process::ExitCode;

use judge::sandbox::{self, CgroupHost, CgroupVersion};
use judge::{IsolationLevel, Session, Verdict};

pub fn report() -> ExitCode {
    // A reader that stops early (`judge doctor | head`) ends the report as
    // it ends any other tool's output, not with a panic on EPIPE.
    // SAFETY: restoring the default disposition of one signal.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    println!("judge doctor: what this host offers, and what `judge run` will use\n");
    // SAFETY: no preconditions.
    let uid = unsafe { libc::geteuid() };
    line(
        "running as",
        if uid == 0 {
            "root: each running session's program gets a uid of its own (60000 up); the empty network namespace and the read-only root template are pinned once".into()
        } else {
            format!("uid {uid}, without root: a user namespace of its own grants the namespaces")
        },
    );

    let max_userns = read("/proc/sys/user/max_user_namespaces");
    let debian_knob = read("/proc/sys/kernel/unprivileged_userns_clone");
    let userns = match (&max_userns, &debian_knob) {
        (Some(n), _) if n == "0" => "disabled (user.max_user_namespaces = 0)".to_string(),
        (_, Some(k)) if k == "0" && uid != 0 => {
            "disabled for unprivileged users (kernel.unprivileged_userns_clone = 0)".to_string()
        }
        (Some(n), _) => format!("available (user.max_user_namespaces = {n})"),
        (None, _) => "unknown (no /proc/sys/user/max_user_namespaces)".to_string(),
    };
    line("user namespaces", userns);

    let host = CgroupHost::get();
    let place = |p: &Option<sandbox::CgroupPlace>, what: &str| match p {
        Some(p) => format!(
            "{what}: {} at {}",
            match p.version {
                CgroupVersion::V1 => "v1",
                CgroupVersion::V2 => "v2",
            },
            p.base.display()
        ),
        None => format!("{what}: none"),
    };
    line("cgroups", place(&host.memory, "memory"));
    line("", place(&host.pids, "pids"));
    line("", place(&host.cpu, "cpu accounting"));
    for n in &host.notes {
        line("", format!("note: {n}"));
    }
    if host.memory.is_none() || host.pids.is_none() {
        line(
            "",
            "without them memory falls back to RLIMIT_AS and processes to RLIMIT_NPROC; \
             as root, mount the controllers; without root, ask for a delegated cgroup v2 \
             subtree (systemd-run --user --scope -p Delegate=yes) and set JUDGE_CGROUP_ROOT"
                .into(),
        );
    }

    // Moving a process between groups takes a global lock whose writer
    // waits for an RCU grace period unless a cgroup2 mount favours dynamic
    // changes: that wait dominates a lone session.
    let cgroup2: Vec<(String, bool)> = sandbox::mountinfo::host()
        .into_iter()
        .filter(|m| m.fstype == "cgroup2")
        .map(|m| {
            let favoured = m.super_options.split(',').any(|x| x == "favordynmods");
            (m.point.display().to_string(), favoured)
        })
        .collect();
    if host.memory.is_some() || host.pids.is_some() || host.cpu.is_some() {
        line(
            "cgroup moves",
            match cgroup2.first() {
                _ if cgroup2.iter().any(|(_, f)| *f) => {
                    "cheap (a cgroup2 mount has favordynmods)".to_string()
                }
                Some((point, _)) => format!(
                    "each run waits for an RCU grace period when its program joins its groups (most of a lone session's time); `mount -o remount,favordynmods {point}` makes that cheap at a small cost to every fork and exit"
                ),
                None => "each run waits for an RCU grace period when its program joins its groups".into(),
            },
        );
    }

    let actions = read("/proc/sys/kernel/seccomp/actions_avail");
    line(
        "seccomp",
        match &actions {
            Some(a) if a.contains("user_notif") => {
                "filters with user notification: refused calls are named in the result".into()
            }
            Some(a) => format!("filters, but no user notification (actions: {a}): kernel too old"),
            None => "no seccomp filters in this kernel (CONFIG_SECCOMP_FILTER)".into(),
        },
    );
    let fs = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    let has = |name: &str| {
        fs.lines()
            .any(|l| l.split_whitespace().last() == Some(name))
    };
    line(
        "file systems",
        format!(
            "tmpfs {}, proc {}, overlay {}",
            yes(has("tmpfs")),
            yes(has("proc")),
            yes(has("overlay"))
        ),
    );
    line(
        "network",
        if uid != 0 {
            "a new namespace per run (only root can pin a shared one)".to_string()
        } else if std::path::Path::new(sandbox::netns::PATH).exists() {
            format!("the empty namespace pinned at {}", sandbox::netns::PATH)
        } else {
            format!(
                "an empty namespace, pinned at {} on first run",
                sandbox::netns::PATH
            )
        },
    );

    line(
        "root",
        match sandbox::rootfs::RootPlan::template_pin(uid == 0) {
            Ok((pin, true)) => format!(
                "the read-only template pinned at {}: each run enters a copy and adds its work area",
                pin.display()
            ),
            Ok((pin, false)) => format!(
                "a read-only template, pinned at {} on first run: each run enters a copy",
                pin.display()
            ),
            Err(why) => format!(
                "built per run: {why}{}",
                if sandbox::rootfs::template::supported() {
                    ""
                } else {
                    "; without mount_setattr host mounts nested below a shown folder keep their own flags"
                }
            ),
        },
    );
    if uid == 0 {
        line(
            "",
            "runs with --dir destinations outside /box, /tmp and /dev/shm build their root per run"
                .into(),
        );
    }

    host_settings();

    // The proof: a real jailed run.
    let probe = Session::new("/bin/true", Vec::<String>::new())
        .isolation(IsolationLevel::Full)
        .run();
    println!();
    match probe {
        Ok(r) if r.verdict == Verdict::AC => {
            line(
                "probe",
                format!(
                    "/bin/true ran in full isolation: AC in {} ms (network: {}; seccomp: {})",
                    r.wall_time_ms,
                    r.isolation.network,
                    yes(r.isolation.seccomp)
                ),
            );
            println!("\njudge run will use: --isolation full (the default)");
            ExitCode::SUCCESS
        }
        Ok(r) => {
            line(
                "probe",
                format!("/bin/true in full isolation: {} ({})", r.verdict, r.message),
            );
            ExitCode::from(1)
        }
        Err(e) => {
            line("probe", format!("full isolation fails here: {e}"));
            println!(
                "\njudge run will refuse to run without --isolation none.\nTo enable it: \
                 allow user namespaces (sysctl user.max_user_namespaces=15000, and on Debian \
                 kernel.unprivileged_userns_clone=1), run on a kernel with seccomp filters, or run \
                 the judge as root."
            );
            ExitCode::from(1)
        }
    }
}

/// Host settings that would weaken the sandbox, and what the judge does
/// about each.
fn host_settings() {
    let pool_mib: u64 = std::fs::read_dir("/sys/kernel/mm/hugepages")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let kib: u64 = name
                .strip_prefix("hugepages-")?
                .strip_suffix("kB")?
                .parse()
                .ok()?;
            // The reserved pool and the surplus the kernel may add to it.
            let pages = |f: &str| -> u64 {
                read(&format!("{}/{f}", e.path().display()))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            Some(kib * (pages("nr_hugepages") + pages("nr_overcommit_hugepages")) / 1024)
        })
        .sum();
    line(
        "huge pages",
        if pool_mib == 0 {
            "no pool reserved".to_string()
        } else {
            format!(
                "a pool of {pool_mib} MiB, which the memory limit does not see: the system call \
                 filter refuses huge pages to programs (MAP_HUGETLB, MFD_HUGETLB, SHM_HUGETLB)"
            )
        },
    );
    line(
        "overcommit",
        match read("/proc/sys/vm/overcommit_memory").as_deref() {
            Some("2") => "strict (vm.overcommit_memory = 2): memory a program reserves but never \
                          touches takes the machine-wide commit charge, which the memory limit \
                          does not see; each process's address space is bounded by the memory \
                          limit as well (RLIMIT_AS)"
                .to_string(),
            Some("1") => {
                "always (vm.overcommit_memory = 1): the memory limit bounds what is touched".into()
            }
            Some(m) => format!(
                "heuristic (vm.overcommit_memory = {m}): the memory limit bounds what is touched"
            ),
            None => "unknown (no /proc/sys/vm/overcommit_memory)".into(),
        },
    );
    let pattern = read("/proc/sys/kernel/core_pattern").unwrap_or_default();
    line(
        "core dumps",
        if let Some(handler) = pattern.strip_prefix('|') {
            format!(
                "piped to {}, which runs as root on a crashed program's memory: programs run \
                 with RLIMIT_CORE 1, which the kernel takes as \"no dump\" for a pipe (0 would \
                 not stop it)",
                handler.split_whitespace().next().unwrap_or("a handler")
            )
        } else if let Some(socket) = pattern.strip_prefix('@') {
            format!(
                "sent to the socket {socket}: programs run with RLIMIT_CORE 1; whether a socket \
                 handler honours it is not promised"
            )
        } else {
            "written as files: programs run with RLIMIT_CORE 1, too small for any dump".into()
        },
    );
}

fn line(label: &str, text: String) {
    println!("  {label:<16} {text}");
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}
