//! Replies of the stream commands (XREADGROUP, XRANGE, XCLAIM, XPENDING),
//! read by hand from RESP2 arrays: the shapes the worker and the status
//! commands need, nothing more.

use std::collections::HashMap;

use redis::Value;

/// A string-like value as text.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

/// An entry's fields, as a map.
pub fn fields(v: &Value) -> Option<HashMap<String, String>> {
    let Value::Array(kv) = v else { return None };
    Some(
        kv.chunks(2)
            .filter_map(|p| Some((text(p.first()?)?, text(p.get(1)?)?)))
            .collect(),
    )
}

/// An XRANGE or XCLAIM reply: (entry, fields; None for a deleted entry).
pub fn claimed(v: &Value) -> Vec<(String, Fields)> {
    let Value::Array(items) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(e) = item else { return None };
            Some((text(e.first()?)?, e.get(1).and_then(fields)))
        })
        .collect()
}

/// An entry's fields; None for an entry deleted since it was delivered.
pub type Fields = Option<HashMap<String, String>>;

/// An XREADGROUP reply: (stream key, entry, fields).
pub fn entries(v: &Value) -> Vec<(String, String, Fields)> {
    let Value::Array(streams) = v else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in streams {
        let Value::Array(pair) = s else { continue };
        let (Some(key), Some(list)) = (pair.first().and_then(text), pair.get(1)) else {
            continue;
        };
        for (entry, f) in claimed(list) {
            out.push((key.clone(), entry, f));
        }
    }
    out
}

/// One pending entry, as XPENDING's extended form gives it.
pub struct Pending {
    pub entry: String,
    pub deliveries: u64,
}

pub fn pending(v: &Value) -> Vec<Pending> {
    let Value::Array(items) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(p) = item else { return None };
            Some(Pending {
                entry: text(p.first()?)?,
                deliveries: text(p.get(3)?)?.parse().ok()?,
            })
        })
        .collect()
}
