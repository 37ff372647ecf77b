//! What a caller and an operator read: results (`judge results`) and the
//! state of the queues (`judge queue`).

use std::time::Duration;

use redis::Value;

use super::{reply, Keys};

/// The result of a job, if it has one.
pub fn result(
    con: &mut redis::Connection,
    keys: &Keys,
    job: &str,
) -> redis::RedisResult<Option<String>> {
    redis::cmd("GET").arg(keys.result(job)).query(con)
}

/// The results published after stream entry `after` ("0-0": all), with
/// the entry of the last one; waits up to `block` for the first if given.
pub fn results_after(
    con: &mut redis::Connection,
    keys: &Keys,
    after: &str,
    block: Option<Duration>,
) -> redis::RedisResult<(Vec<(String, String)>, String)> {
    let mut cmd = redis::cmd("XREAD");
    cmd.arg("COUNT").arg(1000);
    if let Some(b) = block {
        cmd.arg("BLOCK").arg(b.as_millis() as u64);
        con.set_read_timeout(Some(b + Duration::from_secs(5)))?;
    }
    let v: Value = cmd
        .arg("STREAMS")
        .arg(keys.results())
        .arg(after)
        .query(con)?;
    let mut last = after.to_string();
    let mut out = Vec::new();
    for (_, entry, fields) in reply::entries(&v) {
        last = entry;
        if let Some(job) = fields.and_then(|f| f.get("job").cloned()) {
            if let Some(r) = result(con, keys, &job)? {
                out.push((job, r));
            }
        }
    }
    Ok((out, last))
}

/// The queues as an operator sees them, as JSON.
pub fn queue(
    con: &mut redis::Connection,
    keys: &Keys,
    streams: &[String],
) -> redis::RedisResult<serde_json::Value> {
    let mut per_stream = serde_json::Map::new();
    for s in streams {
        let key = keys.stream(s);
        let length: u64 = redis::cmd("XLEN").arg(&key).query(con)?;
        // Per consumer: how many entries each holds.
        let summary: redis::RedisResult<Value> = redis::cmd("XPENDING")
            .arg(&key)
            .arg(keys.group())
            .query(con);
        let mut pending = 0u64;
        let mut by_worker = serde_json::Map::new();
        if let Ok(Value::Array(parts)) = summary {
            if let Some(Value::Int(n)) = parts.first() {
                pending = *n as u64;
            }
            if let Some(Value::Array(consumers)) = parts.get(3) {
                for c in consumers {
                    if let Value::Array(pair) = c {
                        if let (Some(Value::BulkString(name)), Some(Value::BulkString(n))) =
                            (pair.first(), pair.get(1))
                        {
                            let n: u64 = String::from_utf8_lossy(n).parse().unwrap_or(0);
                            by_worker.insert(String::from_utf8_lossy(name).into_owned(), n.into());
                        }
                    }
                }
            }
        }
        per_stream.insert(
            s.clone(),
            serde_json::json!({
                "length": length,
                "waiting": length.saturating_sub(pending),
                "pending": pending,
                "pending_by_worker": by_worker,
            }),
        );
    }
    let dead: u64 = redis::cmd("XLEN").arg(keys.dead()).query(con)?;
    let results: u64 = redis::cmd("XLEN").arg(keys.results()).query(con)?;
    let seen: Vec<(String, f64)> = redis::cmd("ZRANGE")
        .arg(keys.workers())
        .arg(0)
        .arg(-1)
        .arg("WITHSCORES")
        .query(con)?;
    let now = super::now_ms() as f64;
    let workers: serde_json::Map<String, serde_json::Value> = seen
        .into_iter()
        .map(|(name, at)| {
            (
                name,
                serde_json::json!({ "seen_ms_ago": (now - at).max(0.0) as u64 }),
            )
        })
        .collect();
    Ok(serde_json::json!({
        "streams": per_stream,
        "dead_letters": dead,
        "results": results,
        "workers": workers,
    }))
}
