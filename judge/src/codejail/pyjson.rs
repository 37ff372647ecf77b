//! JSON as Python's `json` module writes and reads it: `NaN`, `Infinity`
//! and `-Infinity` as bare words, integers of any size. CodeJail's globals
//! travel that way (codejail-service accepts them on purpose), so they
//! pass through the judge as text, never re-encoded: serde_json alone
//! would refuse the words and turn a 30-digit integer into a float.
//!
//! The trick: a copy of the text with each bare word replaced by a
//! number of the same length parses with serde_json, and a value borrowed
//! from the copy (`RawValue`) sits at the same offsets as in the original.

use serde_json::value::RawValue;

/// The text with every bare `NaN`, `Infinity` and `-Infinity` outside
/// strings replaced by a valid number of the same length.
pub fn sanitized(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => escaped = false,
            }
        } else if c == '"' {
            in_string = true;
        } else if let Some((word, number)) = [
            ("-Infinity", "-1.000000"),
            ("Infinity", "1.000000"),
            ("NaN", "0.0"),
        ]
        .into_iter()
        .find(|(w, _)| rest.starts_with(w))
        {
            out.push_str(number);
            rest = &rest[word.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The original text of `raw`, a value borrowed from `sanitized(original)`.
pub fn original<'a>(raw: &RawValue, sanitized: &str, original: &'a str) -> &'a str {
    let start = raw.get().as_ptr() as usize - sanitized.as_ptr() as usize;
    &original[start..start + raw.get().len()]
}

/// `text` is one JSON object as Python's `json` reads it.
pub fn is_object(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && serde_json::from_str::<serde::de::IgnoredAny>(&sanitized(text)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_json_may_hold_nan_and_infinities_outside_strings() {
        assert!(is_object(
            r#"{"a": NaN, "b": [-Infinity, Infinity], "n": 123456789012345678901234567890}"#
        ));
        assert!(is_object(r#"{"NaN": "Infinity \" NaN"}"#));
        assert!(!is_object(r#"{"a": NaNa}"#));
        assert!(!is_object("[1]"));
        assert!(!is_object("{\"a\": 1}\nnoise"));
    }

    #[test]
    fn a_borrowed_value_maps_back_to_the_original_text() {
        let text = r#"{"x": "NaN", "g": {"a": NaN, "b": -Infinity, "n": 1e999, "s": "é"}}"#;
        let clean = sanitized(text);
        assert_eq!(clean.len(), text.len());
        let top: std::collections::BTreeMap<String, &RawValue> =
            serde_json::from_str(&clean).unwrap();
        assert_eq!(
            original(top["g"], &clean, text),
            r#"{"a": NaN, "b": -Infinity, "n": 1e999, "s": "é"}"#
        );
    }
}
