//! Parsing one `--context` argument: AWS CLI shorthand (`a=1,b=2`) or a JSON object
//! (`{"a":"1","b":"2"}`), into the pairs it names, in order.
//!
//! The shorthand follows the AWS CLI's for a map of strings, and refuses what the AWS CLI would
//! read differently or not at all, rather than guess:
//!
//! - pairs are separated by commas: `a=1,b=2` is two pairs;
//! - a key is one or more characters other than `=`, `,`, quotes, backslashes and white space
//!   (for any other key, use JSON);
//! - a value runs to the next comma; `\,` in it is a comma, and every other backslash is itself;
//!   `=` may appear in it (`a=x=y` is `a` -> `x=y`);
//! - a value may be quoted, `"..."` (with `\"` and `\\`) or `'...'` (with `\'` and `\\`), to hold
//!   commas, quotes or spaces at either end; a quoted value ends its pair;
//! - refused: a comma not followed by another `KEY=` (`a=1,2`: a list in the AWS CLI; quote or
//!   escape the comma), white space at either end of an unquoted value or around a key (the AWS
//!   CLI drops it), a value starting with `[` or `{` (a list or a nested map), an empty
//!   argument, a trailing comma, and a key given twice.
//!
//! JSON: an object whose values are all strings, each key once.

/// The pairs one `--context` argument names, in the order given.
///
/// # Errors
/// A message saying what is wrong and how to write it instead.
pub fn parse_context(arg: &str) -> Result<Vec<(String, String)>, String> {
    if arg.trim_start().starts_with('{') {
        return parse_json(arg);
    }
    Shorthand { text: arg, at: 0 }.pairs()
}

fn parse_json(arg: &str) -> Result<Vec<(String, String)>, String> {
    use serde::Deserializer as _;
    let mut de = serde_json::Deserializer::from_str(arg);
    let pairs = de
        .deserialize_map(JsonPairs)
        .and_then(|pairs| de.end().map(|()| pairs))
        .map_err(|e| format!("--context is not a JSON object of strings: {e}"))?;
    no_duplicates(&pairs)?;
    Ok(pairs)
}

/// Collects a JSON object's members in order, keeping duplicate keys so they can be refused
/// (a map would keep only the last).
struct JsonPairs;

impl<'de> serde::de::Visitor<'de> for JsonPairs {
    type Value = Vec<(String, String)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object whose values are strings")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, String>()? {
            pairs.push((k, v));
        }
        Ok(pairs)
    }
}

fn no_duplicates(pairs: &[(String, String)]) -> Result<(), String> {
    for (i, (k, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(earlier, _)| earlier == k) {
            return Err(format!("--context gives the key '{k}' twice"));
        }
    }
    Ok(())
}

/// A cursor over one shorthand argument.
struct Shorthand<'a> {
    text: &'a str,
    /// A byte offset, always at a character boundary.
    at: usize,
}

/// Characters a shorthand key cannot hold.
fn ends_key(c: char) -> bool {
    matches!(c, '=' | ',' | '"' | '\'' | '\\') || c.is_whitespace()
}

impl<'a> Shorthand<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn error(&self, what: &str) -> String {
        format!(
            "--context '{}': {what} (at character {}). Write KEY=VALUE[,KEY=VALUE...]; quote a \
             value that holds a comma (a=\"1,2\") or escape the comma (a=1\\,2), or give a JSON \
             object ('{{\"a\":\"1,2\"}}')",
            self.text,
            self.text[..self.at].chars().count() + 1
        )
    }

    fn pairs(mut self) -> Result<Vec<(String, String)>, String> {
        if self.text.is_empty() {
            return Err(self.error("empty"));
        }
        let mut pairs = Vec::new();
        loop {
            let key = self.key(!pairs.is_empty())?;
            let value = self.value()?;
            pairs.push((key, value));
            match self.peek() {
                None => break,
                Some(',') => {
                    self.at += 1;
                    if self.peek().is_none() {
                        return Err(self.error("a comma with no KEY=VALUE after it"));
                    }
                }
                Some(_) => return Err(self.error("expected a comma after a quoted value")),
            }
        }
        no_duplicates(&pairs)?;
        Ok(pairs)
    }

    /// A key and its `=` (`after_comma`: the pair follows another's comma).
    fn key(&mut self, after_comma: bool) -> Result<String, String> {
        let rest = self.rest();
        let len = rest.find(ends_key).unwrap_or(rest.len());
        let key = &rest[..len];
        self.at += len;
        match self.peek() {
            Some('=') if !key.is_empty() => {
                self.at += 1;
                Ok(key.to_owned())
            }
            Some('=') => Err(self.error("a pair with no key")),
            Some(c) if c.is_whitespace() => {
                Err(self
                    .error("white space around a key (for a key with spaces, give a JSON object)"))
            }
            Some(',') | None if !key.is_empty() && after_comma => Err(self.error(&format!(
                "'{key}' is not KEY=VALUE (after a comma, a new pair must start: a comma inside \
                 a value must be quoted or escaped)"
            ))),
            Some(',') | None if !key.is_empty() => {
                Err(self.error(&format!("expected KEY=VALUE, not '{key}'")))
            }
            Some(_) if !key.is_empty() => Err(self.error(
                "a key may not hold quotes or backslashes (for such a key, give a JSON object)",
            )),
            _ => Err(self.error("expected KEY=VALUE")),
        }
    }

    /// A value, up to (not including) the comma that ends its pair.
    fn value(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(quote @ ('"' | '\'')) => self.quoted(quote),
            Some('[' | '{') => Err(self.error(
                "a list or nested map is not a context value (quote the value if it is text)",
            )),
            _ => self.unquoted(),
        }
    }

    fn quoted(&mut self, quote: char) -> Result<String, String> {
        self.at += quote.len_utf8();
        let mut value = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.clone().next() {
                    Some((_, next)) if next == quote || next == '\\' => {
                        value.push(next);
                        chars.next();
                    }
                    _ => value.push('\\'),
                },
                c if c == quote => {
                    self.at += i + c.len_utf8();
                    return Ok(value);
                }
                c => value.push(c),
            }
        }
        self.at = self.text.len();
        Err(self.error("a quoted value with no closing quote"))
    }

    fn unquoted(&mut self) -> Result<String, String> {
        let start = self.at;
        let mut value = String::new();
        let mut chars = self.rest().char_indices().peekable();
        let mut end = self.rest().len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' if chars.peek().is_some_and(|&(_, next)| next == ',') => {
                    value.push(',');
                    chars.next();
                }
                ',' => {
                    end = i;
                    break;
                }
                '"' | '\'' => {
                    self.at += i;
                    return Err(self.error(
                        "a quote inside an unquoted value (quote the whole value, escaping the \
                         quote: a=\"x\\\"y\")",
                    ));
                }
                c => value.push(c),
            }
        }
        if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
            self.at = start;
            return Err(self
                .error("white space at an end of an unquoted value (quote the value to keep it)"));
        }
        self.at += end;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_context;

    fn ok(arg: &str) -> Vec<(String, String)> {
        parse_context(arg).unwrap_or_else(|e| panic!("{arg}: {e}"))
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn shorthand_reads_as_the_aws_cli_does() {
        for (arg, expected) in [
            ("a=1", &[("a", "1")][..]),
            ("a=1,b=2", &[("a", "1"), ("b", "2")]),
            (
                "tenant=acme,table=orders,x=",
                &[("tenant", "acme"), ("table", "orders"), ("x", "")],
            ),
            ("a=x=y,b=2", &[("a", "x=y"), ("b", "2")]),
            ("a=1\\,2", &[("a", "1,2")]),
            ("a=C:\\dir", &[("a", "C:\\dir")]),
            ("a=\"1,2\",b='3,4'", &[("a", "1,2"), ("b", "3,4")]),
            ("a=\" padded \"", &[("a", " padded ")]),
            ("a=\"say \\\"hi\\\" \\\\o/\"", &[("a", "say \"hi\" \\o/")]),
            ("a='it\\'s'", &[("a", "it's")]),
            ("a=my app", &[("a", "my app")]),
            ("k.x/y:z-1_2=é 日本", &[("k.x/y:z-1_2", "é 日本")]),
            ("a=,b=", &[("a", ""), ("b", "")]),
        ] {
            assert_eq!(ok(arg), pairs(expected), "{arg}");
        }
    }

    #[test]
    fn json_objects_of_strings_are_read_too() {
        assert_eq!(
            ok(r#"{"a":"1,2","b c":"=","":"x"}"#),
            pairs(&[("a", "1,2"), ("b c", "="), ("", "x")])
        );
        assert_eq!(ok(" {} "), pairs(&[]));
        for bad in [
            r#"{"a":1}"#,
            r#"{"a":["1"]}"#,
            r#"{"a":"1","a":"2"}"#,
            r#"{"a":"1"} x"#,
            r#"{"a":"1""#,
            "[\"a\"]",
        ] {
            assert!(parse_context(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn anything_ambiguous_is_refused_with_a_way_to_write_it() {
        for (arg, says) in [
            ("a=1,2", "'2' is not KEY=VALUE"),
            ("a=1,b=2,3", "'3' is not KEY=VALUE"),
            ("a=1,", "a comma with no KEY=VALUE after it"),
            ("", "empty"),
            ("a", "expected KEY=VALUE, not 'a'"),
            ("a,b=1", "expected KEY=VALUE, not 'a'"),
            ("=1", "a pair with no key"),
            ("a=1,a=2", "the key 'a' twice"),
            ("a =1", "white space around a key"),
            ("a= 1", "white space at an end"),
            ("a=1 ,b=2", "white space at an end"),
            ("a=[1,2]", "a list or nested map"),
            ("a={b=1}", "a list or nested map"),
            ("a=\"open", "no closing quote"),
            ("a=\"x\"y", "expected a comma after a quoted value"),
            ("a=x\"y", "a quote inside an unquoted value"),
            ("\"a\"=1", "expected KEY=VALUE"),
            ("a\\b=1", "quotes or backslashes"),
        ] {
            let error = parse_context(arg).expect_err(arg);
            assert!(error.contains(says), "{arg}: {error}");
            assert!(error.contains("quote a value that holds a comma") || arg.contains("a=1,a"));
        }
    }

    #[test]
    fn no_input_panics() {
        // Every short string over the characters that matter, and some long ones.
        let alphabet = ['a', '=', ',', '"', '\'', '\\', ' ', '{', '[', 'é'];
        let mut inputs = vec![String::new()];
        for _ in 0..4 {
            inputs = inputs
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .chain(inputs.iter().cloned())
                .collect();
            inputs.sort();
            inputs.dedup();
        }
        for input in &inputs {
            let _ = parse_context(input);
        }
        let _ = parse_context(&"a=b,".repeat(10_000));
        let _ = parse_context(&"\\".repeat(10_000));
    }
}
