//! A static stdin file: fed through the stdin queue as the program reads
//! it, so memory stays bounded whatever its size, then end of file.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Finished, Io, ProgramExit, Responder, ResponderError, ResponderReport, Result};

/// Feeds a file to the program's stdin and gives no verdict.
#[derive(Debug)]
pub struct FileInput {
    path: PathBuf,
    file: Option<File>,
    /// Bytes read from the file but not yet taken by the queue.
    pending: Vec<u8>,
    pending_at: usize,
}

const CHUNK: usize = 256 * 1024;

impl FileInput {
    /// A file or a device; not a FIFO, a socket or a terminal, whose reads
    /// wait for a writer while the loop, which reads this file, must not.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::FileTypeExt;
        // Opened without waiting for a FIFO's writer, to be refused.
        let file = super::open_without_waiting(path)?;
        let kind = file.metadata()?.file_type();
        // SAFETY: isatty only inspects the descriptor.
        let terminal = unsafe { libc::isatty(file.as_raw_fd()) } == 1;
        if kind.is_fifo() || kind.is_socket() || terminal {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a FIFO, a socket or a terminal cannot be the program's stdin here (the judge would wait on it); give a file",
            ));
        }
        nix::fcntl::fcntl(
            &file,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
        )
        .map_err(std::io::Error::from)?;
        Ok(FileInput {
            path: path.to_path_buf(),
            file: Some(file),
            pending: Vec::new(),
            pending_at: 0,
        })
    }

    fn feed(&mut self, io: &mut Io<'_>) -> Result<()> {
        loop {
            if self.pending_at < self.pending.len() {
                let n = io.send(&self.pending[self.pending_at..]);
                self.pending_at += n;
                if self.pending_at < self.pending.len() {
                    return Ok(()); // queue full: on_stdin_space resumes
                }
            }
            let file = match self.file.as_mut() {
                Some(f) => f,
                None => return Ok(()),
            };
            if !io.stdin_open() {
                self.file = None;
                return Ok(());
            }
            self.pending.resize(CHUNK, 0);
            self.pending_at = 0;
            let n = file
                .read(&mut self.pending)
                .map_err(|e| ResponderError::io(&format!("reading {}", self.path.display()), e))?;
            self.pending.truncate(n);
            if n == 0 {
                self.file = None;
                io.close_stdin();
                return Ok(());
            }
        }
    }
}

impl Responder for FileInput {
    fn kind(&self) -> &'static str {
        "file"
    }

    fn judges(&self) -> bool {
        false
    }

    fn start(&mut self, io: &mut Io<'_>) -> Result<()> {
        self.feed(io)
    }

    fn on_stdin_space(&mut self, io: &mut Io<'_>) -> Result<()> {
        self.feed(io)
    }

    fn on_program_exit(&mut self, _exit: ProgramExit, _io: &mut Io<'_>) -> Result<()> {
        self.file = None;
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
