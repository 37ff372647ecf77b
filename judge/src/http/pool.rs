//! Sessions for HTTP requests: at most `slots` at once, each in a `judge
//! serve` worker process (forked sessions from one busy multithreaded
//! process cost more, see `judge::worker`); up to `queue` more wait for a
//! slot, and the rest are told the server is busy. A request whose client
//! goes away, waiting or running, is dropped: its session is stopped.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{mpsc, Condvar, Mutex};
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How often a waiting request looks whether its client is still there.
const WAIT_TICK: Duration = Duration::from_millis(100);
/// How long a worker told to stop (SIGTERM) gets to stop its session and
/// clean up before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

pub enum Outcome {
    Answer(String),
    /// Every slot is running and the queue is full.
    Busy,
    /// The client closed its connection before the answer.
    ClientGone,
    Failed(String),
}

struct Worker {
    child: Child,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
}

#[derive(Default)]
struct State {
    running: usize,
    /// Tickets of the requests waiting, in arrival order: a slot goes to
    /// the front one (first come, first served; a condition variable alone
    /// wakes waiters in no order, which made the tail latency 4x the median).
    waiting: VecDeque<u64>,
    next_ticket: u64,
    idle: Vec<Worker>,
}

pub struct Pool {
    pub slots: usize,
    pub queue: usize,
    state: Mutex<State>,
    turn: Condvar,
    spawner: Mutex<mpsc::Sender<mpsc::Sender<Result<Worker, String>>>>,
}

impl Pool {
    pub fn new(slots: usize, queue: usize, program: PathBuf, jails: Option<PathBuf>) -> Pool {
        let (tx, rx) = mpsc::channel::<mpsc::Sender<Result<Worker, String>>>();
        // Workers die with the server (PR_SET_PDEATHSIG), and that signal
        // follows the thread that started them: one thread that lives as
        // long as the server starts them all.
        std::thread::spawn(move || {
            for reply in rx {
                let _ = reply.send(start(&program, jails.as_ref()));
            }
        });
        Pool {
            slots,
            queue,
            state: Mutex::new(State::default()),
            turn: Condvar::new(),
            spawner: Mutex::new(tx),
        }
    }

    /// (running, waiting) now.
    pub fn load(&self) -> (usize, usize) {
        let st = self.state.lock().unwrap();
        (st.running, st.waiting.len())
    }

    /// Run one `judge serve` request line for `client`.
    pub fn run(&self, line: &str, client: &TcpStream) -> Outcome {
        if let Err(outcome) = self.admit(client) {
            return outcome;
        }
        let outcome = self.run_admitted(line, client);
        let mut st = self.state.lock().unwrap();
        st.running -= 1;
        drop(st);
        // Every waiter looks; only the front one of the line proceeds.
        self.turn.notify_all();
        outcome
    }

    /// Take a slot, waiting in line if there is room.
    fn admit(&self, client: &TcpStream) -> Result<(), Outcome> {
        let mut st = self.state.lock().unwrap();
        if st.running < self.slots && st.waiting.is_empty() {
            st.running += 1;
            return Ok(());
        }
        if st.waiting.len() >= self.queue {
            return Err(Outcome::Busy);
        }
        let ticket = st.next_ticket;
        st.next_ticket += 1;
        st.waiting.push_back(ticket);
        loop {
            st = self.turn.wait_timeout(st, WAIT_TICK).unwrap().0;
            if st.running < self.slots && st.waiting.front() == Some(&ticket) {
                st.waiting.pop_front();
                st.running += 1;
                drop(st);
                // The next in line may find a slot free too.
                self.turn.notify_all();
                return Ok(());
            }
            if client_gone(client) {
                st.waiting.retain(|&t| t != ticket);
                drop(st);
                self.turn.notify_all();
                return Err(Outcome::ClientGone);
            }
        }
    }

    fn run_admitted(&self, line: &str, client: &TcpStream) -> Outcome {
        let idle = self.state.lock().unwrap().idle.pop();
        let was_idle = idle.is_some();
        let mut w = match idle.map_or_else(|| self.spawn(), Ok) {
            Ok(w) => w,
            Err(e) => return Outcome::Failed(e),
        };
        if writeln!(w.to, "{line}")
            .and_then(|()| w.to.flush())
            .is_err()
            && was_idle
        {
            // An idle worker that died (killed from outside): a fresh one
            // takes the request.
            stop(w);
            w = match self.spawn() {
                Ok(w) => w,
                Err(e) => return Outcome::Failed(e),
            };
            if let Err(e) = writeln!(w.to, "{line}").and_then(|()| w.to.flush()) {
                stop(w);
                return Outcome::Failed(format!("a judge serve worker: {e}"));
            }
        }
        // Until the answer: the worker's answer, or the client's hang-up.
        loop {
            match wait_for(w.from.get_ref().as_raw_fd(), client.as_raw_fd(), -1) {
                Err(e) => {
                    stop(w);
                    return Outcome::Failed(format!("waiting for a worker: {e}"));
                }
                Ok((true, _)) => break,
                Ok((false, true)) => {
                    stop(w);
                    return Outcome::ClientGone;
                }
                Ok((false, false)) => {}
            }
        }
        let mut answer = String::new();
        match w.from.read_line(&mut answer) {
            Ok(n) if n > 0 && answer.ends_with('\n') => {
                answer.pop();
                self.state.lock().unwrap().idle.push(w);
                Outcome::Answer(answer)
            }
            _ => {
                stop(w);
                Outcome::Failed("a judge serve worker ended without answering".into())
            }
        }
    }

    fn spawn(&self) -> Result<Worker, String> {
        let (tx, rx) = mpsc::channel();
        self.spawner
            .lock()
            .unwrap()
            .send(tx)
            .map_err(|_| "the worker starter is gone".to_string())?;
        rx.recv()
            .map_err(|_| "the worker starter is gone".to_string())?
    }
}

fn start(program: &PathBuf, jails: Option<&PathBuf>) -> Result<Worker, String> {
    let mut c = Command::new(program);
    c.arg("serve");
    if let Some(j) = jails {
        c.arg("--jails").arg(j);
    }
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    // SAFETY: prctl with plain integer arguments, async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    };
    let mut child = c
        .spawn()
        .map_err(|e| format!("starting {} serve: {e}", program.display()))?;
    let (Some(to), Some(from)) = (child.stdin.take(), child.stdout.take()) else {
        return Err("a worker without pipes".into());
    };
    Ok(Worker {
        child,
        to,
        from: BufReader::new(from),
    })
}

/// Stop a worker mid-session: SIGTERM makes `judge serve` stop its session
/// and clean up (its sandbox, control groups, folders) and exit; SIGKILL
/// if it has not within the grace.
fn stop(mut w: Worker) {
    let pid = w.child.id() as i32;
    // A pidfd turns readable when the process ends: waited for in poll,
    // with the grace as its timeout.
    // SAFETY: pidfd_open takes a pid and flags; the fd returned is ours.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    if pidfd >= 0 {
        // SAFETY: a fresh descriptor nobody else owns.
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        let grace = PollTimeout::try_from(STOP_GRACE).unwrap_or(PollTimeout::MAX);
        if matches!(poll(&mut fds, grace), Ok(n) if n > 0) {
            let _ = w.child.wait();
            return;
        }
    }
    let _ = w.child.kill();
    let _ = w.child.wait();
}

/// Wait up to `timeout_ms` (-1: no end) for `input` to be readable or
/// `client` to hang up: (readable, hung up). Plain poll(2): nix's
/// `PollFd::revents` cannot carry POLLRDHUP, which it does not name.
fn wait_for(input: RawFd, client: RawFd, timeout_ms: i32) -> std::io::Result<(bool, bool)> {
    let gone = libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR;
    let mut fds = [
        libc::pollfd {
            fd: input,
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: client,
            events: libc::POLLRDHUP,
            revents: 0,
        },
    ];
    loop {
        // SAFETY: two valid pollfd entries, owned by this frame.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if n >= 0 {
            return Ok((fds[0].revents != 0, fds[1].revents & gone != 0));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The client closed its side of the connection.
pub fn client_gone(client: &TcpStream) -> bool {
    // No input to watch: the client's own descriptor stands in, its
    // readability ignored.
    matches!(wait_for(-1, client.as_raw_fd(), 0), Ok((_, true)))
}
