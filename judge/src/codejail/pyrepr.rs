//! Python's `repr` of a bytes object: CodeJail's messages show stdout and
//! stderr that way (`b'...'`), and callers match on them.

/// `repr(b)` as CPython writes it.
pub fn bytes(b: &[u8]) -> String {
    // Single quotes unless the bytes hold one and no double quote.
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::with_capacity(b.len() + 3);
    s.push('b');
    s.push(quote);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            c if c as char == quote => {
                s.push('\\');
                s.push(quote);
            }
            0x20..=0x7e => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push(quote);
    s
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn as_cpython_writes_them() {
        assert_eq!(bytes(b""), "b''");
        assert_eq!(bytes(b"a'b"), "b\"a'b\"");
        assert_eq!(bytes(b"a'\"b"), "b'a\\'\"b'");
        assert_eq!(
            bytes(b"\\\t\n\r\x00\x7f\xff~"),
            "b'\\\\\\t\\n\\r\\x00\\x7f\\xff~'"
        );
    }
}
