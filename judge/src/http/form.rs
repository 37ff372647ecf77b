//! The form of a `POST /api/v0/code-exec`: urlencoded or multipart, as
//! codejail-service's parsers take it. Fields are text; files (multipart
//! parts with a filename) are bytes, by the name of their field, as
//! Django's `request.FILES` names them.

/// A parsed form.
#[derive(Debug, Default)]
pub struct Form {
    pub fields: Vec<(String, String)>,
    pub files: Vec<(String, Vec<u8>)>,
}

impl Form {
    /// The last value of a field, as Django's `QueryDict.get` gives it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parse a body by its Content-Type; Err is the message of a 400 or 415
/// (with the status).
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Form, (u16, String)> {
    let ct = content_type.unwrap_or("");
    let (mime, params) = ct.split_once(';').unwrap_or((ct, ""));
    match mime.trim().to_ascii_lowercase().as_str() {
        "application/x-www-form-urlencoded" => Ok(Form {
            fields: form_urlencoded::parse(body).into_owned().collect(),
            files: Vec::new(),
        }),
        "multipart/form-data" => {
            let boundary = params
                .split(';')
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
                .map(|(_, v)| v.trim_matches('"'))
                .filter(|b| !b.is_empty())
                .ok_or((400, "multipart/form-data without a boundary".to_string()))?;
            multipart(boundary.as_bytes(), body)
                .map_err(|e| (400, format!("Multipart form parse error - {e}")))
        }
        _ => Err((415, format!("Unsupported media type \"{ct}\" in request."))),
    }
}

/// RFC 7578: parts between `--boundary` lines, each with headers, a blank
/// line and its content; `--boundary--` ends them.
fn multipart(boundary: &[u8], body: &[u8]) -> Result<Form, String> {
    let delimiter = [b"--", boundary].concat();
    let next_delimiter = [b"\r\n--", boundary].concat();
    let mut form = Form::default();
    let start = memchr::memmem::find(body, &delimiter).ok_or("no boundary in the body")?;
    let mut rest = &body[start + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Ok(form);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or("a boundary not followed by a line end")?;
        let head_end = memchr::memmem::find(rest, b"\r\n\r\n")
            .ok_or("a part without the end of its headers")?;
        let head = std::str::from_utf8(&rest[..head_end])
            .map_err(|_| "part headers that are not UTF-8")?;
        rest = &rest[head_end + 4..];
        let end = memchr::memmem::find(rest, &next_delimiter)
            .ok_or("a part without its closing boundary")?;
        let content = &rest[..end];
        rest = &rest[end + next_delimiter.len()..];
        let disposition = head
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
            .map(|(_, v)| v)
            .ok_or("a part without Content-Disposition")?;
        let params = parameters(disposition);
        let param = |key: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
        };
        let name = param("name").ok_or("a part without a name")?;
        if param("filename").is_some() {
            form.files.push((name, content.to_vec()));
        } else {
            let text = String::from_utf8(content.to_vec())
                .map_err(|_| format!("field {name:?} is not UTF-8"))?;
            form.fields.push((name, text));
        }
    }
}

/// The `key=value` parameters after a header's first word, values quoted
/// or not (RFC 7578 §4.2: quoted strings, where `;` is text and `\"` a
/// quote).
fn parameters(header: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = match header.split_once(';') {
        Some((_, r)) => r,
        None => return out,
    };
    loop {
        rest = rest.trim_start();
        let Some(eq) = rest.find('=') else {
            return out;
        };
        let key = rest[..eq].trim().to_string();
        rest = rest[eq + 1..].trim_start();
        let mut value = String::new();
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, next)) = chars.next() {
                            value.push(next);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            rest = &quoted[end..];
            rest = rest.split_once(';').map_or("", |(_, r)| r);
        } else {
            let (v, r) = rest.split_once(';').unwrap_or((rest, ""));
            value = v.trim().to_string();
            rest = r;
        }
        out.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn urlencoded_and_multipart() {
        let f = parse(
            Some("application/x-www-form-urlencoded"),
            b"payload=%7B%22a%22%3A+1%7D&x=1",
        )
        .unwrap();
        assert_eq!(f.field("payload"), Some("{\"a\": 1}"));
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"payload\"\r\n\r\n{}\r\n\
                     --XyZ\r\nContent-Disposition: form-data; name=\"python_lib.zip\"; filename=\"python_lib.zip\"\r\n\
                     Content-Type: application/zip\r\n\r\nPK\x03\x04\r\n--X\r\n--XyZ--\r\n";
        let f = parse(Some("multipart/form-data; boundary=XyZ"), body).unwrap();
        assert_eq!(f.field("payload"), Some("{}"));
        assert_eq!(
            f.files,
            vec![("python_lib.zip".to_string(), b"PK\x03\x04\r\n--X".to_vec())]
        );
        assert!(parse(
            Some("multipart/form-data; boundary=XyZ"),
            b"--XyZ\r\nbroken"
        )
        .is_err());
        assert_eq!(parse(Some("text/plain"), b"").unwrap_err().0, 415);
        // A quoted name holds its ';' and its escaped quote.
        assert_eq!(
            super::parameters(r#"form-data; name="pay;load"; filename="a\"b.zip""#),
            vec![
                ("name".to_string(), "pay;load".to_string()),
                ("filename".to_string(), "a\"b.zip".to_string())
            ]
        );
    }
}
