//! `--transcript FILE`: every chunk of the conversation as one JSON line.
//!
//! ```json
//! {"cpu_ms":0.8,"data":"42\n","len":3,"stream":"stdout","t_ms":1.204}
//! {"cpu_ms":0.8,"data":"higher\n","len":7,"stream":"stdin","t_ms":1.391}
//! {"cpu_ms":1.1,"event":"program_exit","exit_code":0,"signal":null,"signal_name":null,"t_ms":9.5}
//! {"cpu_time_ms":1,"event":"end","message":"...","t_ms":9.812,"verdict":"AC","wall_time_ms":9}
//! ```
//! Keys come in alphabetical order. `data` holds the bytes as text when
//! they are UTF-8, else `data_base64` holds them exactly.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde_json::{json, Value};

pub struct Transcript {
    out: BufWriter<File>,
    start_ns: u64,
    error: Option<io::Error>,
}

impl Transcript {
    pub fn create(path: &Path, start_ns: u64) -> io::Result<Self> {
        Ok(Transcript {
            out: BufWriter::new(File::create(path)?),
            start_ns,
            error: None,
        })
    }

    fn t_ms(&self, at_ns: u64) -> f64 {
        (at_ns.saturating_sub(self.start_ns)) as f64 / 1e6
    }

    /// A chunk of a stream; `stream` is "stdout", "stderr" or "stdin".
    pub fn chunk(&mut self, at_ns: u64, cpu_ns: Option<u64>, stream: &str, bytes: &[u8]) {
        let mut v = json!({
            "t_ms": round3(self.t_ms(at_ns)),
            "cpu_ms": cpu_ns.map(|c| round3(c as f64 / 1e6)),
            "stream": stream,
            "len": bytes.len(),
        });
        match std::str::from_utf8(bytes) {
            Ok(s) => v["data"] = Value::from(s),
            Err(_) => v["data_base64"] = Value::from(base64(bytes)),
        }
        self.line(&v);
    }

    /// Any other event: `fields` must be a JSON object.
    pub fn event(&mut self, at_ns: u64, name: &str, mut fields: Value) {
        let mut v = json!({ "t_ms": round3(self.t_ms(at_ns)), "event": name });
        if let (Some(dst), Some(src)) = (v.as_object_mut(), fields.as_object_mut()) {
            dst.append(src);
        }
        self.line(&v);
    }

    fn line(&mut self, v: &Value) {
        if self.error.is_some() {
            return;
        }
        let r = serde_json::to_writer(&mut self.out, v)
            .map_err(io::Error::from)
            .and_then(|_| self.out.write_all(b"\n"));
        if let Err(e) = r {
            self.error = Some(e);
        }
    }

    /// Times are counted from here (CLOCK_MONOTONIC, ns): the program's start.
    pub fn set_start(&mut self, start_ns: u64) {
        self.start_ns = start_ns;
    }

    /// Flush; reports the first write error, if any.
    pub fn close(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (i, o) in cases {
            assert_eq!(super::base64(i.as_bytes()), o);
        }
    }
}
