//! The bytes of log lines: hex, decimal and JSON strings, written without allocating beyond
//! the line itself.

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

// The log is built as bytes: every piece is ASCII or already UTF-8, so no check is needed.

pub(super) fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.extend_from_slice(&[
            HEX_DIGITS[usize::from(b >> 4)],
            HEX_DIGITS[usize::from(b & 0x0f)],
        ]);
    }
}

/// `n` in decimal.
pub(super) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// `n` in lower-case hexadecimal, without leading zeros.
pub(super) fn push_hex_u64(out: &mut Vec<u8>, n: u64) {
    let mut text = [0u8; 16];
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1) as usize;
    for (i, d) in text[..digits].iter_mut().rev().enumerate() {
        *d = HEX_DIGITS[((n >> (4 * i)) & 0xf) as usize];
    }
    out.extend_from_slice(&text[..digits]);
}

pub(super) fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        // Nothing to escape: the common case for ids, names and contexts.
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // Only ASCII bytes need escaping; the bytes of a multi-byte character are all >= 0x80.
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b if b < 0x20 => {
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&[
                    HEX_DIGITS[usize::from(b >> 4)],
                    HEX_DIGITS[usize::from(b & 0xf)],
                ]);
            }
            b => out.push(b),
        }
    }
    out.push(b'"');
}
