use crate::util::*;

/// CPU time is the whole tree's: four processes burning together are
/// stopped when their sum reaches the limit.
#[test]
fn tle_counts_every_process_of_the_tree() {
    let v = run()
        .args(["--time-limit", "1", "--cpus", "any"])
        .program([prog("fork_spin"), "3".into()])
        .json();
    assert_eq!(v["verdict"], "TLE", "{}", brief(&v));
    let cpu = ms(&v["cpu_time_ms"]);
    assert!((1000..=1100).contains(&cpu), "cpu {cpu} ms");
    let by = v["limits"]["cpu_time"]["measured_by"].as_str().unwrap();
    assert!(
        by.starts_with("cgroup"),
        "the tree's CPU time comes from a cgroup here, not {by}"
    );
}

#[test]
fn closing_stdout_and_computing_is_tle() {
    let v = run()
        .args(["--time-limit", "0.3"])
        .program([prog("close_stdout_spin")])
        .json();
    assert_eq!(v["verdict"], "TLE", "{}", brief(&v));
    assert_eq!(v["stdout"], "bye\n");
}

#[test]
fn process_limit_caps_forks() {
    let v = run()
        .args(["--processes", "8"])
        .program([prog("forks"), "20".into()])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    // Eight tasks: the program and seven children.
    assert_eq!(v["stdout"], "7\n");
    let by = v["limits"]["processes"]["enforced_by"][0].as_str().unwrap();
    assert!(by.starts_with("cgroup"), "{by}");
}

#[test]
fn wall_limit_defaults_to_three_cpu_plus_one() {
    let v = run()
        .args(["--time-limit", "0.5"])
        .program(["/bin/true"])
        .json();
    assert_eq!(v["limits"]["wall_time"]["limit"], 2500);
    assert_eq!(v["limits"]["memory"]["limit"], 256u64 << 20);
    assert_eq!(v["limits"]["stdout"]["limit"], 64u64 << 20);
    assert_eq!(v["limits"]["stderr"]["limit"], 1u64 << 20);
}

#[test]
fn report_names_the_mechanisms() {
    let v = run().program(["/bin/true"]).json();
    let iso = &v["isolation"];
    assert_eq!(iso["pid_namespace"], true);
    for key in ["memory", "processes", "cpu_accounting"] {
        assert!(iso[key].as_str().unwrap().starts_with("cgroup"), "{iso}");
    }
    assert_eq!(v["limits"]["wall_time"]["measured_by"], "loop");
}

/// The descriptor limit is the program's: the judge's own set-up (the
/// seccomp listener it receives) happens before it applies.
#[test]
fn a_low_open_files_limit_still_starts_the_program() {
    let v = run()
        .args(["--open-files", "8"])
        .program(["/bin/sh", "-c", "ulimit -n"])
        .json();
    assert_eq!(v["verdict"], "AC", "{}", brief(&v));
    assert_eq!(v["stdout"], "8\n");
}
