//! Time and chance as a WASI module sees them: virtual clocks, a fixed
//! random stream, and `poll_oneoff`, where a wait for input suspends the
//! module and a sleep moves the virtual clock on at once.

use super::errno::{self, Errno};
use super::files::Fd;
use super::machine::{Shared, Wait, STDOUT_PENDING_MAX};
use super::memory::{off, Mem};
use super::preview1::{fd_of, Done, Fail};

pub(super) fn poll_oneoff(
    s: &mut Shared,
    m: &mut Mem<'_>,
    subs: i32,
    events: i32,
    n: i32,
    out: i32,
) -> Done {
    if n <= 0 || n > 1024 {
        return Err(errno::INVAL.into());
    }
    let mut ready: Vec<[u8; 32]> = Vec::new();
    let event = |userdata: u64, error: Errno, kind: u8, nbytes: u64, hangup: bool| {
        let mut e = [0u8; 32];
        e[0..8].copy_from_slice(&userdata.to_le_bytes());
        e[8..10].copy_from_slice(&error.to_le_bytes());
        e[10] = kind;
        e[16..24].copy_from_slice(&nbytes.to_le_bytes());
        e[24..26].copy_from_slice(&u16::from(hangup).to_le_bytes());
        e
    };
    let mut soonest: Option<(u64, u64)> = None; // (deadline, userdata)
    let mut wait = None;
    for i in 0..n as u32 {
        let at = off(subs as u32, i * 48)?;
        let userdata = m.u64_at(at)?;
        match m.u8_at(off(at, 8)?)? {
            0 => {
                let timeout = m.u64_at(off(at, 24)?)?;
                let absolute = m.u16_at(off(at, 40)?)? & 1 != 0;
                let deadline = if absolute {
                    timeout
                } else {
                    s.clock_ns.saturating_add(timeout)
                };
                if soonest.is_none_or(|(d, _)| deadline < d) {
                    soonest = Some((deadline, userdata));
                }
            }
            kind @ (1 | 2) => {
                let fd = m.u32_at(off(at, 16)?)? as i32;
                match (kind, fd_of(s, fd)) {
                    (_, Err(e)) => ready.push(event(userdata, e, kind, 0, false)),
                    (1, Ok(Fd::Stdin)) => {
                        let left = s.stdin_left() as u64;
                        if left > 0 || s.stdin_eof {
                            ready.push(event(userdata, 0, kind, left, left == 0));
                        } else {
                            wait = Some(Wait::Stdin);
                        }
                    }
                    (2, Ok(Fd::Stdout)) => {
                        let room = STDOUT_PENDING_MAX.saturating_sub(s.stdout_left().len());
                        if s.peer_gone {
                            ready.push(event(userdata, errno::PIPE, kind, 0, true));
                        } else if room > 0 {
                            ready.push(event(userdata, 0, kind, room as u64, false));
                        } else {
                            wait.get_or_insert(Wait::Stdout);
                        }
                    }
                    (1, Ok(Fd::File { node, pos, .. })) => {
                        let (node, pos) = (*node, *pos);
                        let left = s.files.len(node).saturating_sub(pos);
                        ready.push(event(userdata, 0, kind, left, false));
                    }
                    (_, Ok(Fd::Dir { .. })) => {
                        ready.push(event(userdata, errno::BADF, kind, 0, false))
                    }
                    _ => ready.push(event(userdata, 0, kind, 0, false)),
                }
            }
            _ => return Err(errno::INVAL.into()),
        }
    }
    if ready.is_empty() {
        match (wait, soonest) {
            // A timeout already over (`poll(fds, n, 0)`: a look, not a
            // wait) is over now, input or not.
            (_, Some((deadline, userdata))) if deadline <= s.clock_ns => {
                ready.push(event(userdata, 0, 0, 0, false));
            }
            // Input is the only thing that can come from outside: a
            // timeout beside a wait for it is waited out by the input (the
            // virtual clock does not run while the module waits).
            (Some(w), _) => {
                s.waiting = Some(w);
                return Err(Fail::Wait);
            }
            // A sleep: the virtual clock moves on to its end at once.
            (None, Some((deadline, userdata))) => {
                s.clock_ns = s.clock_ns.max(deadline);
                ready.push(event(userdata, 0, 0, 0, false));
            }
            (None, None) => return Err(errno::INVAL.into()),
        }
    }
    for (i, e) in ready.iter().enumerate() {
        m.put(off(events as u32, i as u32 * 32)?, e)?;
    }
    Ok(m.put_u32(out as u32, ready.len() as u32)?)
}

/// SplitMix64: the module's randomness, the same on every run.
pub(super) fn random(s: &mut Shared, m: &mut Mem<'_>, buf: i32, len: i32) -> Done {
    let out = m.bytes_mut(buf as u32, len as u32)?;
    for chunk in out.chunks_mut(8) {
        s.random = s.random.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s.random;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
    }
    Ok(())
}

/// Every clock reads one virtual time: it starts at 0 (1970-01-01 for the
/// real-time clock) and moves 1 µs per reading (and to the end of a sleep),
/// so a module learns nothing of the host and runs the same every time.
pub(super) const CLOCK_STEP_NS: u64 = 1_000;
