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
    /// The jail cannot be built on this host (user namespaces disabled,
    /// no seccomp, ...). The CLI exits with status 2: run `judge doctor`,
    /// or choose `--isolation none` knowingly.
    #[error("the sandbox cannot be set up on this host: {0}; `judge doctor` tells why and how to enable it, and --isolation none runs without file system, network and user isolation")]
    Isolation(String),
    /// The responder could not be started.
    #[error("{0}")]
    Responder(String),
}
