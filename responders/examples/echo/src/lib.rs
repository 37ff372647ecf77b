//! Ping-pong: every byte the program writes to stdout comes back on its
//! stdin. Accepts when the program exits with status 0. The benchmarks use
//! it to measure what a round trip through an in-process responder costs.

use judge_responder::{export_responder, Exit, Init, Reply, Responder, Stream};

pub struct Echo {
    echoed: u64,
}

impl Responder for Echo {
    fn new(_init: Init<'_>) -> Result<Self, String> {
        Ok(Echo { echoed: 0 })
    }

    fn on_output(&mut self, stream: Stream, bytes: &[u8], reply: &mut Reply) {
        if stream == Stream::Stdout {
            self.echoed += bytes.len() as u64;
            reply.send(bytes);
        }
    }

    fn on_exit(&mut self, exit: Exit, reply: &mut Reply) {
        match exit.code {
            Some(0) => reply.accept(format!("echoed {} bytes", self.echoed)),
            _ => reply.wrong_answer(format!("the program ended with {exit:?}")),
        }
    }
}

export_responder!(Echo);
