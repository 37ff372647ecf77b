//! Python's `repr`: CodeJail's messages show stdout and stderr as bytes
//! (`b'...'`), and callers match on them; codejail-service's schema errors
//! show the values as Python sees them.

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

/// `repr(s)` of a Python str, as CPython writes it for the printable
/// characters and the common escapes.
pub fn str(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::with_capacity(text.len() + 2);
    s.push(quote);
    for c in text.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '\t' => s.push_str("\\t"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            c if c == quote => {
                s.push('\\');
                s.push(quote);
            }
            c if (c as u32) < 0x20 || c == '\u{7f}' => s.push_str(&format!("\\x{:02x}", c as u32)),
            c => s.push(c),
        }
    }
    s.push(quote);
    s
}

/// `repr` of what Python's `json.loads` makes of `v`.
pub fn json(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => str(s),
        Value::Array(a) => format!("[{}]", a.iter().map(json).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", str(k), json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn json_values_as_python_shows_them() {
        let v = serde_json::json!({"a'": [null, true, 1.5, "x\n"]});
        assert_eq!(super::json(&v), "{\"a'\": [None, True, 1.5, 'x\\n']}");
    }

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
