//! `POST /api/v0/code-exec`, as codejail-service answers it: the form's
//! `payload` checked against its schema and its safety rules (the same
//! messages), then one `safe_exec` request for a `judge serve` worker.

use serde_json::{json, Value};

use super::form::Form;
use super::wire::Response;
use judge::codejail::pyrepr;

/// The only name an uploaded file or a `python_path` entry may have, as in
/// codejail-service: anything else could name a host path.
const LIB: &str = "python_lib.zip";

/// The worker request for a form, or the 400 to answer.
pub fn request(form: &Form) -> Result<String, Response> {
    let bad = |m: String| Response::error(400, &m);
    let payload = form
        .field("payload")
        .ok_or_else(|| bad("Missing 'payload' parameter in POST body".into()))?;
    let params: Value = serde_json::from_str(payload)
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
    let extra: Vec<Value> = files
        .iter()
        .map(|(n, b)| json!({ "name": n, "base64": judge::transcript::base64(b) }))
        .collect();
    let text = |k: &str| p.get(k).and_then(Value::as_str);
    Ok(json!({ "safe_exec": {
        "command": "python",
        "code": text("code"),
        "globals_dict": p["globals_dict"],
        "python_path": python_path,
        "extra_files": extra,
        "limit_overrides_context": text("limit_overrides_context"),
        "slug": text("slug"),
        // codejail-service answers the caller's globals updated with the
        // jail's.
        "keep_deleted": true,
    }})
    .to_string())
}

/// The first way `v` breaks codejail-service's payload schema, as
/// jsonschema words it: `PATH: MESSAGE`.
fn schema_error(v: &Value) -> Option<String> {
    let Value::Object(p) = v else {
        return Some(format!("$: {} is not of type 'object'", pyrepr::json(v)));
    };
    for key in ["code", "globals_dict"] {
        if !p.contains_key(key) {
            return Some(format!("$: '{key}' is a required property"));
        }
    }
    let typed = |key: &str, ok: fn(&Value) -> bool, kind: &str| -> Option<String> {
        let v = p.get(key)?;
        (!ok(v)).then(|| format!("$.{key}: {} is not of type '{kind}'", pyrepr::json(v)))
    };
    let any_of = |key: &str, ok: fn(&Value) -> bool| -> Option<String> {
        let v = p.get(key)?;
        (!ok(v)).then(|| {
            format!(
                "$.{key}: {} is not valid under any of the given schemas",
                pyrepr::json(v)
            )
        })
    };
    typed("code", Value::is_string, "string")
        .or_else(|| typed("globals_dict", Value::is_object, "object"))
        .or_else(|| {
            any_of("python_path", |v| {
                v.is_null() || v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
            })
        })
        .or_else(|| any_of("limit_overrides_context", |v| v.is_null() || v.is_string()))
        .or_else(|| any_of("slug", |v| v.is_null() || v.is_string()))
        .or_else(|| typed("unsafely", Value::is_boolean, "boolean"))
}
