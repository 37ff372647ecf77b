//! When to look at a process tree's CPU time next.
//!
//! Reading the cgroup costs a system call; reading it on every event would
//! tax the conversation. A tree with `remaining` CPU time left, running on
//! `parallelism` CPUs, cannot exhaust it sooner than `remaining /
//! parallelism` from now, so that is when we look again: few reads while far
//! from the limit, a tight watch close to it.

/// Never look more often than this.
const MIN_INTERVAL_NS: u64 = 1_000_000;

#[derive(Debug, Clone, Copy)]
pub struct CpuWatch {
    limit_ns: u64,
    parallelism: u64,
    next_ns: u64,
}

impl CpuWatch {
    pub fn new(start_ns: u64, limit_ns: u64, parallelism: u32) -> Self {
        let parallelism = parallelism.max(1) as u64;
        CpuWatch {
            limit_ns,
            parallelism,
            next_ns: start_ns + limit_ns / parallelism,
        }
    }

    /// The next moment to look.
    pub fn next_ns(&self) -> u64 {
        self.next_ns
    }

    /// Record a reading of `used_ns` at `now_ns`; true when over the limit.
    pub fn exceeded(&mut self, now_ns: u64, used_ns: u64) -> bool {
        if used_ns > self.limit_ns {
            return true;
        }
        let wait = ((self.limit_ns - used_ns) / self.parallelism).max(MIN_INTERVAL_NS);
        self.next_ns = now_ns + wait;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_sooner_as_the_limit_nears() {
        let mut w = CpuWatch::new(0, 2_000_000_000, 2);
        assert_eq!(w.next_ns(), 1_000_000_000);
        assert!(!w.exceeded(1_000_000_000, 1_900_000_000));
        assert_eq!(w.next_ns(), 1_050_000_000);
        assert!(!w.exceeded(1_050_000_000, 1_999_999_999));
        assert_eq!(w.next_ns(), 1_051_000_000);
        assert!(w.exceeded(1_051_000_000, 2_000_000_001));
    }
}
