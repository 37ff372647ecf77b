//! `judge submit`, `judge worker`, `judge results`, `judge queue`: judging
//! on many machines over Redis Streams (the `redis` feature; see
//! docs/scale-out.md).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use judge::limits::parse_duration;
use judge::scale::jobs::{self, Enqueued};
use judge::scale::{status, worker, Keys};
use judge::IsolationLevel;

#[derive(Debug, Args)]
pub struct RedisArgs {
    /// The Redis server: redis://HOST:PORT[/DB].
    #[arg(long, value_name = "URL")]
    pub redis: String,

    /// The prefix of every key.
    #[arg(long, value_name = "NAME", default_value = "judge")]
    pub prefix: String,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub redis: RedisArgs,

    /// The problem package (a folder, as `judge problem` takes it).
    pub package: PathBuf,

    /// The submission: one or more files, or a folder.
    #[arg(required = true)]
    pub submission: Vec<PathBuf>,

    /// The job's id; enqueueing an id twice is harmless and returns the
    /// first [default: a new one].
    #[arg(long, value_name = "ID")]
    pub job_id: Option<String>,

    /// The stream (queue) to put it in: contest, practice, rejudge, ...
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub stream: String,

    /// The most jobs a stream may hold; past it, "queue full" (exit 1).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub cap: u64,

    /// As `judge problem`: the language, a time limit, every test.
    #[arg(long, value_name = "ID")]
    pub language: Option<String>,
    #[arg(long, value_name = "SECS", value_parser = parse_duration)]
    pub time_limit: Option<Duration>,
    #[arg(long)]
    pub all: bool,

    /// For the worker's own tests: a worker started with
    /// JUDGE_WORKER_TEST_SWITCHES=1 aborts on this job.
    #[arg(long, hide = true)]
    pub test_crash: bool,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub redis: RedisArgs,

    /// Streams to read, round-robin (repeatable).
    #[arg(long = "stream", value_name = "NAME", default_value = "default")]
    pub streams: Vec<String>,

    /// Jobs judged at once [default: the number of CPUs].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub slots: Option<u32>,

    /// This worker's name, stable across its restarts (its own unfinished
    /// jobs are taken up first) and unique among the workers [default: the
    /// host's name].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// How long a job may go without its worker renewing it before another
    /// worker takes it over.
    #[arg(long, value_name = "SECS", value_parser = parse_duration, default_value = "10")]
    pub lease: Duration,

    /// Deliveries without a result before a job is dead-lettered (JE).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub max_deliveries: u64,

    /// The local cache of packages [default: ~/.cache/judge/worker, or
    /// /var/cache/judge/worker as root].
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,

    /// Bytes of blobs the cache keeps.
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 30)]
    pub cache_max: u64,

    #[arg(long, value_name = "full|none", default_value = "full", value_parser = crate::cli::parse_isolation)]
    pub isolation: IsolationLevel,
}

#[derive(Debug, Args)]
pub struct ResultsArgs {
    #[command(flatten)]
    pub redis: RedisArgs,

    /// This job's result only (with --follow: wait for it).
    #[arg(long, value_name = "ID")]
    pub job_id: Option<String>,

    /// Keep printing results as they are published.
    #[arg(long)]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct QueueArgs {
    #[command(flatten)]
    pub redis: RedisArgs,

    /// Streams to show (repeatable).
    #[arg(long = "stream", value_name = "NAME", default_value = "default")]
    pub streams: Vec<String>,
}

fn connect(r: &RedisArgs) -> Result<redis::Connection, ExitCode> {
    let client = redis::Client::open(r.redis.as_str()).map_err(|e| {
        eprintln!("judge: --redis {}: {e}", r.redis);
        ExitCode::from(2)
    })?;
    client.get_connection().map_err(|e| {
        eprintln!("judge: --redis {}: {e}", r.redis);
        ExitCode::from(1)
    })
}

pub fn submit(args: SubmitArgs) -> ExitCode {
    let mut con = match connect(&args.redis) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let keys = Keys::new(&args.redis.prefix);
    let job_id = args
        .job_id
        .clone()
        .unwrap_or_else(|| format!("{}-{}", judge::scale::now_ms(), std::process::id()));
    let s = jobs::Submit {
        package: &args.package,
        submission: &args.submission,
        job_id: &job_id,
        stream: &args.stream,
        language: args.language.clone(),
        time_limit: args.time_limit.map(|d| d.as_secs_f64()),
        all: args.all,
        cap: args.cap,
        test_crash: args.test_crash,
    };
    match jobs::submit(&mut con, &keys, &s) {
        Ok(e) => {
            let (state, entry) = match &e {
                Enqueued::Added(id) => ("queued", Some(id)),
                Enqueued::Already(id) => ("already queued", Some(id)),
                Enqueued::Full => ("queue full", None),
            };
            println!(
                "{}",
                serde_json::json!({ "job_id": job_id, "state": state, "entry": entry, "stream": args.stream })
            );
            if e == Enqueued::Full {
                eprintln!(
                    "judge: stream {} holds {} jobs, its cap",
                    args.stream, args.cap
                );
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(jobs::SubmitError::Files(e)) => {
            eprintln!("judge: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("judge: {e}");
            ExitCode::from(1)
        }
    }
}

pub fn worker(args: WorkerArgs) -> ExitCode {
    let slots = args.slots.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n as usize,
    );
    let name = args.name.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "worker".into())
    });
    let cache = args.cache.clone().unwrap_or_else(|| {
        if nix::unistd::geteuid().is_root() {
            PathBuf::from("/var/cache/judge/worker")
        } else {
            std::env::var_os("XDG_CACHE_HOME")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(|| PathBuf::from("/tmp"))
                .join("judge/worker")
        }
    });
    if let Err(e) = redis::Client::open(args.redis.redis.as_str()) {
        eprintln!("judge: --redis {}: {e}", args.redis.redis);
        return ExitCode::from(2);
    }
    let opts = worker::Options {
        redis: args.redis.redis.clone(),
        keys: Keys::new(&args.redis.prefix),
        streams: args.streams.clone(),
        name,
        slots,
        lease: args.lease,
        max_deliveries: args.max_deliveries.max(1),
        cache,
        cache_max: args.cache_max,
        isolation: args.isolation,
    };
    match worker::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("judge: {e}");
            ExitCode::from(2)
        }
    }
}

pub fn results(args: ResultsArgs) -> ExitCode {
    let mut con = match connect(&args.redis) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let keys = Keys::new(&args.redis.prefix);
    let fail = |e: redis::RedisError| {
        eprintln!("judge: redis: {e}");
        ExitCode::from(1)
    };
    if let Some(job) = &args.job_id {
        // Waiting for one job: the results stream says when it arrives.
        let mut after = "$".to_string();
        loop {
            match status::result(&mut con, &keys, job) {
                Ok(Some(r)) => {
                    println!("{r}");
                    return ExitCode::SUCCESS;
                }
                Ok(None) if !args.follow => {
                    eprintln!("judge: no result for job {job} yet");
                    return ExitCode::from(1);
                }
                Ok(None) => {}
                Err(e) => return fail(e),
            }
            if after == "$" {
                after = last_result_entry(&mut con, &keys).unwrap_or_else(|| "0-0".into());
            }
            match status::results_after(&mut con, &keys, &after, Some(Duration::from_secs(5))) {
                Ok((_, last)) => after = last,
                Err(e) => return fail(e),
            }
        }
    }
    let mut after = "0-0".to_string();
    loop {
        let block = args.follow.then_some(Duration::from_secs(5));
        match status::results_after(&mut con, &keys, &after, block) {
            Ok((found, last)) => {
                for (_, r) in &found {
                    println!("{r}");
                }
                // The end of the stream: nothing more was read.
                if last == after && !args.follow {
                    return ExitCode::SUCCESS;
                }
                after = last;
            }
            Err(e) => return fail(e),
        }
    }
}

fn last_result_entry(con: &mut redis::Connection, keys: &Keys) -> Option<String> {
    let v: Vec<(String, Vec<(String, String)>)> = redis::cmd("XREVRANGE")
        .arg(keys.results())
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query(con)
        .ok()?;
    v.into_iter().next().map(|(id, _)| id)
}

pub fn queue(args: QueueArgs) -> ExitCode {
    let mut con = match connect(&args.redis) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let keys = Keys::new(&args.redis.prefix);
    match status::queue(&mut con, &keys, &args.streams) {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("judge: redis: {e}");
            ExitCode::from(1)
        }
    }
}
