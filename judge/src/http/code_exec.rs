//! `POST /api/v0/code-exec`, as codejail-service answers it: the form's
//! `payload` checked against its schema and its safety rules (the same
//! messages), then one `safe_exec` request for a `judge serve` worker.
//!
//! The payload is Python's JSON (NaN, big integers: see `pyjson`) and may
//! be large: only its top level is parsed; the globals are checked and
//! passed on as text, never built into a tree.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::form::Form;
use super::wire::Response;
use judge::codejail::{pyjson, pyrepr};

/// The only name an uploaded file or a `python_path` entry may have, as in
/// codejail-service: anything else could name a host path.
const LIB: &str = "python_lib.zip";

/// The largest payload property (other than the code and the globals)
/// built into a tree, to check or show it.
const SMALL: usize = 64 << 10;

/// The worker request for a form, or the 400 to answer.
pub fn request(form: &Form) -> Result<String, Response> {
    let bad = |m: String| Response::error(400, &m);
    let payload = form
        .field("payload")
        .ok_or_else(|| bad("Missing 'payload' parameter in POST body".into()))?;
    // The checks read a sanitized copy; the globals go on as written.
    let clean = pyjson::sanitized(payload);
    let top: BTreeMap<String, &RawValue> = match serde_json::from_str::<&RawValue>(&clean) {
        Err(e) => return Err(bad(format!("Unable to parse payload JSON: {e}"))),
        Ok(raw) if !raw.get().starts_with('{') => {
            return Err(bad(format!(
                "Payload JSON did not match schema at path $: {} is not of type 'object'",
                shown(raw)
            )))
        }
        Ok(raw) => serde_json::from_str(raw.get())
            .map_err(|e| bad(format!("Unable to parse payload JSON: {e}")))?,
    };
    let p = Payload::read(&top)
        .map_err(|e| bad(format!("Payload JSON did not match schema at path {e}")))?;
    if p.python_path.iter().any(|e| e != LIB) {
        return Err(bad(format!(
            "Only allowed entry in 'python_path' is '{LIB}'"
        )));
    }
    // Last wins for a repeated name, as Django's request.FILES.
    let mut files: Vec<(&str, &[u8])> = Vec::new();
    for (name, bytes) in &form.files {
        files.retain(|(n, _)| n != name);
        files.push((name, bytes));
    }
    if files.iter().any(|(n, _)| *n != LIB) {
        return Err(bad(format!(
            "Only allowed name for uploaded file is '{LIB}'"
        )));
    }
    // Never the host's: a path entry must name an uploaded file.
    if !p.python_path.is_empty() && files.is_empty() {
        return Err(bad(format!(
            "'python_path' names '{LIB}', but no file of that name was uploaded"
        )));
    }
    if p.unsafely {
        return Err(bad("Refusing codejail execution with unsafely=true".into()));
    }
    let globals = pyjson::original(top["globals_dict"], &clean, payload);
    let extra: Vec<Value> = files
        .iter()
        .map(|(n, b)| json!({ "name": n, "base64": judge::transcript::base64(b) }))
        .collect();
    let rest = json!({
        "command": "python",
        "code": p.code,
        "python_path": p.python_path,
        "extra_files": extra,
        "limit_overrides_context": p.limit_overrides_context,
        "slug": p.slug,
        // codejail-service answers the caller's globals updated with the
        // jail's.
        "keep_deleted": true,
    })
    .to_string();
    // The globals spliced in as written: `rest` is an object, "{...}".
    Ok(format!(
        "{{\"safe_exec\": {{\"globals_dict\": {globals}, {}}}",
        &rest[1..]
    ))
}

/// The payload's properties, once they match the schema.
struct Payload {
    code: String,
    python_path: Vec<String>,
    limit_overrides_context: Option<String>,
    slug: Option<String>,
    unsafely: bool,
}

impl Payload {
    /// The properties of `top`, or the first way they break
    /// codejail-service's schema, as jsonschema's `best_match` picks and
    /// words it (`PATH: MESSAGE`): a missing required property first (the
    /// path `$` is shortest); then, of the properties in error, the one
    /// whose name sorts last (best_match takes the greatest path); inside
    /// python_path's `anyOf`, the deepest error, the last item that is not
    /// a string, if there is one.
    fn read(top: &BTreeMap<String, &RawValue>) -> Result<Payload, String> {
        for key in ["code", "globals_dict"] {
            if !top.contains_key(key) {
                return Err(format!("$: '{key}' is a required property"));
            }
        }
        let raw = |key: &str| top.get(key).map(|r| r.get());
        let not_of_type =
            |key: &str, kind: &str| format!("$.{key}: {} is not of type '{kind}'", shown(top[key]));
        let no_schema = |key: &str| {
            format!(
                "$.{key}: {} is not valid under any of the given schemas",
                shown(top[key])
            )
        };
        let small = |key: &str| -> Result<Option<Value>, String> {
            match raw(key) {
                None => Ok(None),
                Some(r) if r.len() > SMALL => Err(format!("$.{key}: over {SMALL} bytes")),
                Some(r) => Ok(serde_json::from_str(r).ok()),
            }
        };
        let text_or_null = |key: &str| -> Result<Option<String>, String> {
            match small(key)? {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(no_schema(key)),
            }
        };
        // In the order best_match ranks them: names sorting last first.
        let unsafely = match small("unsafely")? {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(not_of_type("unsafely", "boolean")),
        };
        let slug = text_or_null("slug")?;
        let python_path = match small("python_path")? {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                if let Some((i, item)) = items
                    .iter()
                    .enumerate()
                    .rfind(|(_, item)| !item.is_string())
                {
                    return Err(format!(
                        "$.python_path[{i}]: {} is not of type 'string'",
                        pyrepr::json(item)
                    ));
                }
                items
                    .into_iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            }
            Some(_) => return Err(no_schema("python_path")),
        };
        let limit_overrides_context = text_or_null("limit_overrides_context")?;
        // Checked as text: the globals may be large.
        if !top["globals_dict"].get().starts_with('{') {
            return Err(not_of_type("globals_dict", "object"));
        }
        let code = serde_json::from_str::<String>(top["code"].get())
            .map_err(|_| not_of_type("code", "string"))?;
        Ok(Payload {
            code,
            python_path,
            limit_overrides_context,
            slug,
            unsafely,
        })
    }
}

/// A value as Python shows it in jsonschema's messages; a large one by its
/// kind and size alone.
fn shown(raw: &RawValue) -> String {
    let text = raw.get();
    match (text.len() <= SMALL)
        .then(|| serde_json::from_str::<Value>(text).ok())
        .flatten()
    {
        Some(v) => pyrepr::json(&v),
        None => {
            let kind = match text.as_bytes().first() {
                Some(b'[') => "a list",
                Some(b'{') => "an object",
                Some(b'"') => "a string",
                _ => "a value",
            };
            format!("<{kind} of {} bytes>", text.len())
        }
    }
}
