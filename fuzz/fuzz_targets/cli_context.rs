//! The CLI's `--context` argument (`keyplane_cli::context::parse_context`): AWS CLI shorthand
//! (`a=1,b=2`) or a JSON object, from any string.
//!
//! Input: the argument's bytes (inputs that are not UTF-8 are skipped: the operating system
//! hands clap a string, and clap refuses one that is not UTF-8).
//!
//! Besides never panicking, whatever the parser accepts it reads exactly: an argument without
//! quotes or backslashes is its pairs joined by `=` and `,`, character for character (so no
//! comma is silently swallowed into a value); the pairs, written back as quoted shorthand and as
//! JSON, parse to the same pairs; and they name no key twice.
#![no_main]

use keyplane::EncryptionContext;
use keyplane_cli::context::parse_context;
use libfuzzer_sys::fuzz_target;

/// The pairs as shorthand with every value quoted, or `None` if a key needs JSON (or there is
/// no pair, or the first key starts with `{`: only JSON writes those).
fn quoted_shorthand(pairs: &[(String, String)]) -> Option<String> {
    if pairs.first().is_none_or(|(k, _)| k.starts_with('{')) {
        return None;
    }
    let mut out = Vec::new();
    for (k, v) in pairs {
        if k.is_empty()
            || k.chars()
                .any(|c| matches!(c, '=' | ',' | '"' | '\'' | '\\') || c.is_whitespace())
        {
            return None;
        }
        let v = v.replace('\\', "\\\\").replace('"', "\\\"");
        out.push(format!("{k}=\"{v}\""));
    }
    Some(out.join(","))
}

fn json(pairs: &[(String, String)]) -> String {
    let members: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}:{}",
                serde_json::to_string(k).expect("a string"),
                serde_json::to_string(v).expect("a string")
            )
        })
        .collect();
    format!("{{{}}}", members.join(","))
}

fuzz_target!(|data: &[u8]| {
    let Ok(arg) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(pairs) = parse_context(arg) else {
        return;
    };
    assert!(!pairs.is_empty() || arg.trim_start().starts_with('{'));
    for (i, (k, _)) in pairs.iter().enumerate() {
        assert!(
            pairs[..i].iter().all(|(earlier, _)| earlier != k),
            "{arg:?}: the key {k:?} twice"
        );
    }
    let shorthand = !arg.trim_start().starts_with('{');
    if shorthand && !arg.contains(['"', '\'', '\\']) {
        let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(joined.join(","), arg, "shorthand read as {pairs:?}");
    }
    if let Some(again) = quoted_shorthand(&pairs) {
        assert_eq!(
            parse_context(&again).as_ref(),
            Ok(&pairs),
            "{arg:?} -> {again:?}"
        );
    }
    let again = json(&pairs);
    assert_eq!(
        parse_context(&again).as_ref(),
        Ok(&pairs),
        "{arg:?} -> {again:?}"
    );
    // What the CLI then does with the pairs.
    let _ = EncryptionContext::new(pairs.iter().map(|(k, v)| (k, v)));
});
