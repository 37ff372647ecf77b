//! Why a session could not be judged at all. Everything a program or a
//! responder does wrong is a verdict, not an error.

/// A session that could not be judged.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller asked for something impossible: a program or file that does
    /// not exist, an invalid setting. The CLI exits with status 2.
    #[error("{0}")]
    Usage(String),
    /// The host refused to set up the sandbox or the loop.
    #[error("{0}")]
    Setup(String),
    /// The responder could not be started.
    #[error("{0}")]
    Responder(String),
}
