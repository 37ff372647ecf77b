//! `POST /api/v0/code-exec`, as codejail-service answers it: the form's
//! `payload` checked against its schema and its safety rules (the same
//! messages), then one `safe_exec` request for a `judge serve` worker.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::form::Form;
use super::wire::Response;
use judge::codejail::{pyjson, pyrepr};

/// The only name an uploaded file or a `python_path` entry may have, as in
/// codejail-service: anything else could name a host path.
const LIB: &str = "python_lib.zip";

/// The worker request for a form, or the 400 to answer.
pub fn request(form: &Form) -> Result<String, Response> {
    let bad = |m: String| Response::error(400, &m);
    let payload = form
        .field("payload")
        .ok_or_else(|| bad("Missing 'payload' parameter in POST body".into()))?;
    // Python's JSON, as codejail-service reads it: NaN and big integers
    // are globals too (see pyjson). The checks read a sanitized copy; the
    // globals go on as the caller wrote them.
    let clean = pyjson::sanitized(payload);
    let params: Value = serde_json::from_str(&clean)
        .map_err(|e| bad(format!("Unable to parse payload JSON: {e}")))?;
    if let Some(e) = schema_error(&params) {
        return Err(bad(format!(
            "Payload JSON did not match schema at path {e}"
        )));
    }
    let p = params.as_object().expect("the schema says an object");
    let python_path: Vec<&str> = match p.get("python_path") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if python_path.iter().any(|e| *e != LIB) {
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
    if !python_path.is_empty() && files.is_empty() {
        return Err(bad(format!(
            "'python_path' names '{LIB}', but no file of that name was uploaded"
        )));
    }
    if p.get("unsafely") == Some(&Value::Bool(true)) {
        return Err(bad("Refusing codejail execution with unsafely=true".into()));
    }
    let top: BTreeMap<String, &RawValue> =
        serde_json::from_str(&clean).expect("parsed above as an object");
    let globals = pyjson::original(top["globals_dict"], &clean, payload);
    let extra: Vec<Value> = files
        .iter()
        .map(|(n, b)| json!({ "name": n, "base64": judge::transcript::base64(b) }))
        .collect();
    let text = |k: &str| p.get(k).and_then(Value::as_str);
    let rest = json!({
        "command": "python",
        "code": text("code"),
        "python_path": python_path,
        "extra_files": extra,
        "limit_overrides_context": text("limit_overrides_context"),
        "slug": text("slug"),
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

/// The first way `v` breaks codejail-service's payload schema, as
/// jsonschema's `best_match` picks and words it: `PATH: MESSAGE`. A
/// missing required property first (the path `$` is shortest); then, of
/// the properties in error, the one whose name sorts last (best_match
/// takes the greatest path); inside an `anyOf` (python_path), the deepest
/// error, an item that is not a string, if there is one.
fn schema_error(v: &Value) -> Option<String> {
    let Value::Object(p) = v else {
        return Some(format!("$: {} is not of type 'object'", pyrepr::json(v)));
    };
    for key in ["code", "globals_dict"] {
        if !p.contains_key(key) {
            return Some(format!("$: '{key}' is a required property"));
        }
    }
    let not_of_type = |key: &str, kind: &str| {
        format!("$.{key}: {} is not of type '{kind}'", pyrepr::json(&p[key]))
    };
    let no_schema = |key: &str| {
        format!(
            "$.{key}: {} is not valid under any of the given schemas",
            pyrepr::json(&p[key])
        )
    };
    let string_or_null = |v: &Value| v.is_null() || v.is_string();
    // In the order best_match ranks them: names sorting last first.
    for key in [
        "unsafely",
        "slug",
        "python_path",
        "limit_overrides_context",
        "globals_dict",
        "code",
    ] {
        let Some(value) = p.get(key) else { continue };
        let error = match key {
            "unsafely" => (!value.is_boolean()).then(|| not_of_type(key, "boolean")),
            "slug" | "limit_overrides_context" => (!string_or_null(value)).then(|| no_schema(key)),
            "python_path" => match value {
                Value::Null => None,
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .rfind(|(_, item)| !item.is_string())
                    .map(|(i, item)| {
                        format!(
                            "$.python_path[{i}]: {} is not of type 'string'",
                            pyrepr::json(item)
                        )
                    }),
                _ => Some(no_schema(key)),
            },
            "globals_dict" => (!value.is_object()).then(|| not_of_type(key, "object")),
            _ => (!value.is_string()).then(|| not_of_type(key, "string")),
        };
        if error.is_some() {
            return error;
        }
    }
    None
}
