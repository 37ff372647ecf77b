//! Placeholder until the native checkers land.
use crate::verdict::{Judgement, Verdict};
pub const NAMES: &[&str] = &[];
pub fn known(_name: &str) -> Option<&'static str> {
    None
}
pub fn check(_name: &str, _input: &[u8], _output: &[u8], _answer: &[u8]) -> Judgement {
    Judgement::new(Verdict::JE, "not implemented")
}
