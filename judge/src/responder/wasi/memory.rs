//! The module's linear memory as the host functions see it: every
//! address and length checked, every sum of addresses checked, so a wild
//! pointer is EFAULT for the module, never a read or write elsewhere.

use super::errno::{self, Errno};

/// The module's linear memory, bounds-checked.
pub(super) struct Mem<'a>(pub(super) &'a mut [u8]);

impl Mem<'_> {
    pub(super) fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let (p, n) = (ptr as usize, len as usize);
        self.0
            .get(p..p.checked_add(n).ok_or(errno::FAULT)?)
            .ok_or(errno::FAULT)
    }

    pub(super) fn bytes_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let (p, n) = (ptr as usize, len as usize);
        self.0
            .get_mut(p..p.checked_add(n).ok_or(errno::FAULT)?)
            .ok_or(errno::FAULT)
    }

    pub(super) fn u8_at(&self, ptr: u32) -> Result<u8, Errno> {
        Ok(self.bytes(ptr, 1)?[0])
    }

    pub(super) fn u16_at(&self, ptr: u32) -> Result<u16, Errno> {
        Ok(u16::from_le_bytes(self.bytes(ptr, 2)?.try_into().unwrap()))
    }

    pub(super) fn u32_at(&self, ptr: u32) -> Result<u32, Errno> {
        Ok(u32::from_le_bytes(self.bytes(ptr, 4)?.try_into().unwrap()))
    }

    pub(super) fn u64_at(&self, ptr: u32) -> Result<u64, Errno> {
        Ok(u64::from_le_bytes(self.bytes(ptr, 8)?.try_into().unwrap()))
    }

    pub(super) fn put(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Errno> {
        self.bytes_mut(ptr, bytes.len() as u32)?
            .copy_from_slice(bytes);
        Ok(())
    }

    pub(super) fn put_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.put(ptr, &v.to_le_bytes())
    }

    pub(super) fn put_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.put(ptr, &v.to_le_bytes())
    }

    /// An iovec array: (pointer, length) pairs, each region checked.
    pub(super) fn iovecs(&self, ptr: u32, n: u32) -> Result<Vec<(u32, u32)>, Errno> {
        if n > 1024 {
            return Err(errno::INVAL);
        }
        (0..n)
            .map(|i| {
                let at = off(ptr, i * 8)?;
                let (p, l) = (self.u32_at(at)?, self.u32_at(off(at, 4)?)?);
                self.bytes(p, l)?;
                Ok((p, l))
            })
            .collect()
    }

    /// The bytes an iovec array points at, up to `max`, gathered.
    pub(super) fn gather(&self, iovs: &[(u32, u32)], max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        for &(p, l) in iovs {
            let b = self.bytes(p, l)?;
            let take = b.len().min(max - out.len());
            out.extend_from_slice(&b[..take]);
            if out.len() == max {
                break;
            }
        }
        Ok(out)
    }

    /// Scatter `bytes` over an iovec array.
    pub(super) fn scatter(&mut self, iovs: &[(u32, u32)], mut bytes: &[u8]) -> Result<(), Errno> {
        for &(p, l) in iovs {
            if bytes.is_empty() {
                break;
            }
            let n = bytes.len().min(l as usize);
            self.put(p, &bytes[..n])?;
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

/// `base + k` as a guest address: past 4 GiB it is no address (a wrapped
/// sum would point into the module's own low memory).
pub(super) fn off(base: u32, k: u32) -> Result<u32, Errno> {
    base.checked_add(k).ok_or(errno::FAULT)
}

pub(super) fn total(iovs: &[(u32, u32)]) -> usize {
    iovs.iter().map(|&(_, l)| l as usize).sum()
}
