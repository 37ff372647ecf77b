//! A job: a submission judged against a package, as `judge problem`
//! judges it. Enqueued once per job id, into a stream capped in length.

use serde::{Deserialize, Serialize};

use super::scripts;
use super::store::{self, Manifest};
use super::Keys;

/// What a worker needs to judge one submission.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// Chosen by the caller (contest/submission/rejudge-generation, say).
    pub id: String,
    /// The package's id (its manifest's SHA-256).
    pub package: String,
    /// The submission's files.
    pub submission: Manifest,
    /// A language id of `judge languages`; by extension if absent.
    pub language: Option<String>,
    /// `judge problem --time-limit`, seconds.
    pub time_limit: Option<f64>,
    /// `judge problem --all`: every test even after a failure.
    pub all: bool,
    /// When it was enqueued (ms since the epoch).
    pub queued_at_ms: u64,
    /// For tests of the worker only: a worker started with
    /// JUDGE_WORKER_TEST_SWITCHES=1 aborts when it starts this job.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test_crash: bool,
}

/// How an enqueue went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// Added: the stream entry's id.
    Added(String),
    /// The job id was enqueued before: the first entry's id (the job is
    /// not added again).
    Already(String),
    /// The stream holds `cap` jobs already.
    Full,
}

/// Upload a package folder and a submission (files or a folder) and
/// enqueue the job in `stream`, unless `cap` jobs wait there already.
pub struct Submit<'a> {
    pub package: &'a std::path::Path,
    pub submission: &'a [std::path::PathBuf],
    pub job_id: &'a str,
    pub stream: &'a str,
    pub language: Option<String>,
    pub time_limit: Option<f64>,
    pub all: bool,
    pub cap: u64,
    pub test_crash: bool,
}

#[derive(Debug)]
pub enum SubmitError {
    Files(String),
    Redis(redis::RedisError),
}

impl From<redis::RedisError> for SubmitError {
    fn from(e: redis::RedisError) -> Self {
        SubmitError::Redis(e)
    }
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubmitError::Files(e) => f.write_str(e),
            SubmitError::Redis(e) => write!(f, "redis: {e}"),
        }
    }
}

pub fn submit(
    con: &mut redis::Connection,
    keys: &Keys,
    s: &Submit,
) -> Result<Enqueued, SubmitError> {
    // Read as a worker will read it: a folder that is no package is said
    // here, to the caller, not found later by a worker as a JE.
    crate::problem::load(s.package).map_err(|e| SubmitError::Files(e.to_string()))?;
    let (manifest, blobs) = store::read_tree(s.package).map_err(SubmitError::Files)?;
    if manifest.files.is_empty() {
        return Err(SubmitError::Files(format!(
            "{}: an empty package",
            s.package.display()
        )));
    }
    let package = store::upload(con, keys, &manifest, &blobs)?;
    let mut files = Vec::new();
    let mut sub_blobs = Vec::new();
    for path in s.submission {
        let (m, b) = store::read_tree(path).map_err(SubmitError::Files)?;
        files.extend(m.files);
        sub_blobs.extend(b);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    if files.windows(2).any(|w| w[0].path == w[1].path) {
        return Err(SubmitError::Files(
            "two submission files of the same name".into(),
        ));
    }
    let submission = Manifest { files };
    // Blobs only: the submission's manifest travels in the job.
    store::upload_blobs(con, keys, &sub_blobs)?;
    let job = Job {
        id: s.job_id.to_string(),
        package,
        submission,
        language: s.language.clone(),
        time_limit: s.time_limit,
        all: s.all,
        queued_at_ms: super::now_ms(),
        test_crash: s.test_crash,
    };
    super::ensure_group(con, keys, s.stream)?;
    Ok(scripts::enqueue(con, keys, s.stream, &job, s.cap)?)
}
