//! Responses, printed as JSON (AWS KMS field names, four-space indent) or as AWS CLI-style text.

use std::fmt::Write as _;
use std::io::Write as _;

use zeroize::Zeroizing;

use crate::error::CliError;

/// How responses are printed (`--output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// A JSON object with AWS KMS's field names; binary fields in base64.
    Json,
    /// Values only, tab-separated: one line per object, nested objects on lines of their own
    /// that start with the field name in capitals.
    Text,
    /// `get-public-key` only: the public key as PEM.
    Pem,
    /// `get-public-key` only: the public key as DER bytes.
    Der,
}

/// One value of a response.
#[derive(Debug)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(u64),
    Float(f64, usize),
    Str(String),
    /// A string that holds secret material (base64 of a plaintext or private key).
    Secret(Zeroizing<String>),
    List(Vec<Val>),
    Obj(Obj),
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}

impl From<bool> for Val {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<u64> for Val {
    fn from(n: u64) -> Self {
        Self::Int(n)
    }
}

impl From<u32> for Val {
    fn from(n: u32) -> Self {
        Self::Int(u64::from(n))
    }
}

impl From<Obj> for Val {
    fn from(o: Obj) -> Self {
        Self::Obj(o)
    }
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

impl<T: Into<Val>> From<Vec<T>> for Val {
    fn from(v: Vec<T>) -> Self {
        Self::List(v.into_iter().map(Into::into).collect())
    }
}

impl Val {
    fn size_hint(&self, depth: usize) -> usize {
        match self {
            // Escaping takes at most six bytes per character (\u00XX).
            Self::Str(s) => s.len().saturating_mul(6).saturating_add(2),
            Self::Secret(s) => s.len().saturating_mul(6).saturating_add(2),
            Self::List(items) => items.iter().fold(64, |acc, v| {
                acc.saturating_add(v.size_hint(depth + 1))
                    .saturating_add(4 * depth + 8)
            }),
            Self::Obj(o) => o.size_hint(depth),
            Self::Float(_, places) => places.saturating_add(340),
            _ => 32,
        }
    }
}

/// An object whose fields print in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct Obj(Vec<(&'static str, Val)>);

impl Obj {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds a field.
    #[must_use]
    pub(crate) fn with(mut self, name: &'static str, value: impl Into<Val>) -> Self {
        self.0.push((name, value.into()));
        self
    }

    /// Adds a field in front of the others.
    pub(crate) fn prepend(&mut self, name: &'static str, value: Val) {
        self.0.insert(0, (name, value));
    }

    /// More than the bytes any rendering of this object at nesting `depth` takes.
    fn size_hint(&self, depth: usize) -> usize {
        self.0.iter().fold(64, |acc, (name, v)| {
            acc.saturating_add(name.len().saturating_mul(2))
                .saturating_add(v.size_hint(depth + 1))
                .saturating_add(4 * depth + 64)
        })
    }

    fn is_scalar(v: &Val) -> bool {
        match v {
            Val::Obj(_) => false,
            Val::List(items) => !items.iter().any(|i| matches!(i, Val::Obj(_))),
            _ => true,
        }
    }
}

/// Prints `obj` to stdout in `format` (JSON for `pem`/`der`, which only `get-public-key` uses).
pub(crate) fn print(obj: &Obj, format: Format) -> Result<(), CliError> {
    // Sized up front so that the string never reallocates (and leaves an unwiped copy of a
    // secret field behind).
    let mut out = Zeroizing::new(String::with_capacity(obj.size_hint(1)));
    match format {
        Format::Json | Format::Pem | Format::Der => {
            json_obj(obj, 0, &mut out);
            out.push('\n');
        }
        Format::Text => text_obj(None, obj, &mut out),
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::Io(format!("cannot write standard output: {e}")))
}

fn indent(level: usize, out: &mut String) {
    for _ in 0..level {
        out.push_str("    ");
    }
}

fn json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_val(v: &Val, level: usize, out: &mut String) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Val::Float(x, places) if x.is_finite() => {
            let _ = write!(out, "{x:.places$}");
        }
        Val::Float(..) => out.push_str("null"),
        Val::Str(s) => json_str(s, out),
        Val::Secret(s) => json_str(s, out),
        Val::List(items) if items.is_empty() => out.push_str("[]"),
        Val::List(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(level + 1, out);
                json_val(item, level + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            indent(level, out);
            out.push(']');
        }
        Val::Obj(obj) => json_obj(obj, level, out),
    }
}

fn json_obj(obj: &Obj, level: usize, out: &mut String) {
    if obj.0.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (i, (name, value)) in obj.0.iter().enumerate() {
        indent(level + 1, out);
        json_str(name, out);
        out.push_str(": ");
        json_val(value, level + 1, out);
        out.push_str(if i + 1 < obj.0.len() { ",\n" } else { "\n" });
    }
    indent(level, out);
    out.push('}');
}

fn text_scalar(v: &Val, out: &mut String) {
    match v {
        Val::Null => out.push_str("None"),
        Val::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        Val::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Val::Float(x, places) => {
            let _ = write!(out, "{x:.places$}");
        }
        Val::Str(s) => out.push_str(s),
        Val::Secret(s) => out.push_str(s),
        Val::List(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                text_scalar(item, out);
            }
        }
        Val::Obj(_) => {}
    }
}

/// AWS CLI-style text: the object's scalar fields as one tab-separated line (prefixed by the
/// capitalised field name for nested objects), then each nested object on lines of its own.
fn text_obj(name: Option<&str>, obj: &Obj, out: &mut String) {
    let mut line = Vec::new();
    if let Some(name) = name {
        line.push(name.to_ascii_uppercase());
    }
    let scalars: Vec<&Val> = obj
        .0
        .iter()
        .map(|(_, v)| v)
        .filter(|v| Obj::is_scalar(v))
        .collect();
    if !scalars.is_empty() {
        let mut first = true;
        for part in &line {
            out.push_str(part);
            first = false;
        }
        for v in scalars {
            if !first {
                out.push('\t');
            }
            first = false;
            text_scalar(v, out);
        }
        out.push('\n');
    }
    for (field, v) in &obj.0 {
        match v {
            Val::Obj(inner) => text_obj(Some(field), inner, out),
            Val::List(items) if !Obj::is_scalar(v) => {
                for item in items {
                    if let Val::Obj(inner) = item {
                        text_obj(Some(field), inner, out);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_and_orders_fields() {
        let obj = Obj::new()
            .with("B", "a\"b\\c\n\u{1}")
            .with("A", 3u32)
            .with("L", vec!["x", "y"])
            .with("E", Vec::<String>::new())
            .with("N", None::<String>)
            .with("O", Obj::new().with("T", true));
        let mut out = String::new();
        json_obj(&obj, 0, &mut out);
        assert_eq!(
            out,
            "{\n    \"B\": \"a\\\"b\\\\c\\n\\u0001\",\n    \"A\": 3,\n    \"L\": [\n        \"x\",\n        \"y\"\n    ],\n    \"E\": [],\n    \"N\": null,\n    \"O\": {\n        \"T\": true\n    }\n}"
        );
    }

    #[test]
    fn text_puts_scalars_on_one_line_and_nested_objects_below() {
        let obj = Obj::new()
            .with("KeyId", "k1")
            .with("Aliases", vec!["alias/a", "alias/b"])
            .with(
                "Versions",
                vec![
                    Obj::new().with("Version", 1u32),
                    Obj::new().with("Version", 2u32),
                ],
            );
        let mut out = String::new();
        text_obj(None, &obj, &mut out);
        assert_eq!(out, "k1\talias/a,alias/b\nVERSIONS\t1\nVERSIONS\t2\n");
    }
}
