//! Limits of a session: plain data, no behaviour. Enforcement lives in
//! `sandbox` (kernel limits) and `driver` (clocks and stream caps).

use std::time::Duration;

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * KIB;
pub const GIB: u64 = 1024 * MIB;

/// What the program may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// CPU time of all the program's processes together.
    pub cpu_time: Duration,
    /// Wall-clock time from start to the end of the main process.
    pub wall_time: Duration,
    /// Memory of the whole process tree, in bytes.
    pub memory: u64,
    /// Bytes the program may write to stdout.
    pub stdout: u64,
    /// Bytes the program may write to stderr.
    pub stderr: u64,
    /// Processes and threads alive at once.
    pub processes: u64,
    /// Largest file the program may write (RLIMIT_FSIZE); past it, OLE.
    pub file_size: u64,
    /// Size of the writable file system (work directory and /tmp).
    pub work_dir: u64,
    /// Open files per process (RLIMIT_NOFILE).
    pub open_files: u64,
}

impl Limits {
    /// The wall limit contest judges derive from a CPU limit: 3 x CPU + 1 s,
    /// generous enough for a loaded machine, short enough to catch a sleeper.
    pub fn wall_for(cpu: Duration) -> Duration {
        cpu * 3 + Duration::from_secs(1)
    }
}

impl Default for Limits {
    fn default() -> Self {
        let cpu = Duration::from_secs(2);
        Limits {
            cpu_time: cpu,
            wall_time: Limits::wall_for(cpu),
            memory: 256 * MIB,
            stdout: 64 * MIB,
            stderr: MIB,
            processes: 64,
            file_size: 64 * MIB,
            work_dir: 64 * MIB,
            open_files: 256,
        }
    }
}

/// What a responder process (an interactor) may use. Exceeding any of these
/// is the judge's failure (JE), never charged to the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponderLimits {
    pub cpu_time: Duration,
    /// Counted from the start of the session.
    pub wall_time: Duration,
    pub memory: u64,
    /// Bytes it may send to the program.
    pub output: u64,
    /// Bytes of its stderr that are kept; beyond this it is JE.
    pub stderr: u64,
    /// Processes and threads alive at once.
    pub processes: u64,
}

impl ResponderLimits {
    /// Defaults that follow the program's limits: an interactor gets at least
    /// as long as the program and a second more to give its verdict.
    pub fn following(program: &Limits) -> Self {
        ResponderLimits {
            cpu_time: program.wall_time.max(Duration::from_secs(10)),
            wall_time: program.wall_time + Duration::from_secs(1),
            memory: GIB,
            output: 256 * MIB,
            stderr: MIB,
            processes: 128,
        }
    }
}

/// Parse a size: bytes, or with a K, M or G suffix (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mul) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let mul = match t[i..].to_ascii_uppercase().as_str() {
                "B" => 1,
                "K" | "KB" | "KIB" => KIB,
                "M" | "MB" | "MIB" => MIB,
                "G" | "GB" | "GIB" => GIB,
                _ => return Err(format!("invalid size {s:?}: use a number with K, M or G")),
            };
            (&t[..i], mul)
        }
        None => (t, 1),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("invalid size {s:?}: use a number with K, M or G"))?;
    if !(n.is_finite() && n >= 0.0) {
        return Err(format!("invalid size {s:?}"));
    }
    Ok((n * mul as f64).round() as u64)
}

/// Parse a duration: seconds ("2", "0.5", "2s") or milliseconds ("500ms").
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let bad = || format!("invalid duration {s:?}: use seconds (2, 0.5s) or milliseconds (500ms)");
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num.trim().parse().map_err(|_| bad())?;
    if !v.is_finite() {
        return Err(bad());
    }
    // Below a millisecond no clock here can hold a limit honestly.
    if v * scale < 1e-3 {
        return Err(format!("{s:?} is too short: a time is at least 1 ms"));
    }
    if v * scale > 1e7 {
        return Err(format!("{s:?} is too long: a time is at most 10000000 s"));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert_eq!(parse_size("64M").unwrap(), 64 * MIB);
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        assert_eq!(parse_size("2GiB").unwrap(), 2 * GIB);
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("-1").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("0.5s").unwrap(), Duration::from_millis(500));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn default_wall_is_three_cpu_plus_one() {
        assert_eq!(Limits::default().wall_time, Duration::from_secs(7));
    }
}
