//! Run a program nobody trusts, hold a conversation with it, judge it.
//!
//! A [`Session`] starts the program in a sandboxed process tree (its own PID
//! namespace below an init of ours, a control group where the host has one),
//! drives it and a [`Responder`] from one `mio` event loop, enforces the
//! [`Limits`] and returns a [`Report`] with the [`Verdict`] and exact figures.
//!
//! ```no_run
//! use judge::{Limits, ResponderChoice, Session, Verdict};
//! use std::time::Duration;
//!
//! let report = Session::new("./solution", ["--fast"])
//!     .limits(Limits { cpu_time: Duration::from_secs(1), ..Limits::default() })
//!     .responder(ResponderChoice::File("tests/1.in".into()))
//!     .run()?;
//! assert_eq!(report.verdict, Verdict::AC);
//! println!("{}", serde_json::to_string(&report)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Where things live: `sandbox` starts, measures and kills trees and knows
//! nothing of verdicts; `driver` is the event loop and knows nothing of
//! responder kinds; `responder` holds the trait and its kinds; `precedence`
//! turns what happened into a verdict; `session` wires them together.

pub mod checker;
pub mod codejail;
pub mod cpu_watch;
pub mod driver;
pub mod error;
pub mod limits;
pub mod precedence;
pub mod problem;
mod read_buf;
pub mod report;
pub mod responder;
pub mod sandbox;
#[cfg(feature = "redis")]
pub mod scale;
pub mod script;
pub mod session;
pub mod transcript;
pub mod verdict;
pub mod words;
pub mod worker;

pub use checker::Checker;
pub use error::Error;
pub use limits::{Limits, ResponderLimits};
pub use precedence::Precedence;
pub use report::Report;
pub use responder::{ExecSpec, PluginKind, PluginSpec, Protocol, Responder, WasiSpec};
pub use session::{CpuPlacement, IsolationLevel, OnForbidden, ResponderChoice, Session};
pub use verdict::{Judgement, Verdict};
