//! Checking a batch program's output against the test's answer, once the
//! program has ended normally. Uses the session library as any caller
//! would: the session captures the output, a checker judges it.

pub mod diff;
