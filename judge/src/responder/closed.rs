//! No responder: the program's stdin is at end of file from the start.

use super::{Finished, Io, Responder, ResponderReport, Result};

/// Closes the program's stdin at once and gives no verdict.
#[derive(Debug, Default)]
pub struct Closed;

impl Responder for Closed {
    fn kind(&self) -> &'static str {
        "closed"
    }

    fn judges(&self) -> bool {
        false
    }

    fn start(&mut self, io: &mut Io<'_>) -> Result<()> {
        io.close_stdin();
        Ok(())
    }

    fn finished(&self) -> Option<&Finished> {
        None
    }

    fn finish(&mut self) -> ResponderReport {
        ResponderReport {
            kind: self.kind(),
            ..Default::default()
        }
    }
}
