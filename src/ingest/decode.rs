//! Bytes to text: UTF-8 (a leading BOM is dropped), UTF-16 LE/BE with a BOM. Binary content
//! (NUL bytes or many control characters), invalid UTF-8 or UTF-16 and empty documents are
//! refused with a message saying why and where.

/// Share of control characters (other than tab, newline, carriage return, form feed) above which
/// a text is taken for binary.
const MAX_CONTROL_SHARE: f64 = 0.05;

/// Decode `bytes` to a string. The byte-order mark, when there is one, is not part of the result.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    let text = if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        utf16(rest, u16::from_be_bytes)?
    } else {
        // UTF-8, with or without a BOM. A NUL byte says "binary" before anything else does.
        if let Some(at) = bytes.iter().position(|&b| b == 0) {
            return Err(nul_at(at));
        }
        match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
            Some(rest) => utf8(rest, 3)?,
            None => utf8(bytes, 0)?,
        }
    };
    check_text(&text)?;
    Ok(text)
}

fn utf8(bytes: &[u8], offset: usize) -> Result<String, String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(format!(
            "not valid UTF-8 at byte {}",
            e.valid_up_to() + offset
        )),
    }
}

/// The error for a NUL byte at byte `at` of the input (BOM included).
fn nul_at(at: usize) -> String {
    format!("looks binary (NUL byte at byte {at})")
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err("not valid UTF-16: odd number of bytes".into());
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut out = String::with_capacity(bytes.len() / 2);
    // Code units read so far, for the error's byte offset (the BOM counts).
    let mut at = 0;
    for r in char::decode_utf16(units) {
        match r {
            Ok(c) => {
                out.push(c);
                at += c.len_utf16();
            }
            Err(_) => return Err(format!("not valid UTF-16 at byte {}", 2 + 2 * at)),
        }
    }
    Ok(out)
}

fn check_text(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("empty document".into());
    }
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars() {
        total += 1;
        if c == '\0' {
            return Err(format!(
                "looks binary (NUL character at code point {})",
                total - 1
            ));
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}') {
            control += 1;
        }
    }
    if control > 0 && control as f64 / total as f64 > MAX_CONTROL_SHARE {
        return Err(format!(
            "looks binary ({control} control characters in {total})"
        ));
    }
    Ok(())
}

/// `text` as UTF-16 with a byte-order mark, little- or big-endian (for the decoders' tests).
#[cfg(test)]
pub(crate) fn utf16_with_bom(text: &str, little: bool) -> Vec<u8> {
    let mut out = if little { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
    for u in text.encode_utf16() {
        out.extend_from_slice(&if little { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Format;
    use crate::ingest::{ingest, RawDocument};

    fn raw(bytes: Vec<u8>) -> RawDocument {
        RawDocument {
            id: "x".into(),
            origin: "x".into(),
            format: Format::Text,
            bytes,
            title: None,
            url: None,
            published: None,
        }
    }

    #[test]
    fn errors_are_clear() {
        assert_eq!(decode(b"").unwrap_err(), "empty document");
        assert_eq!(decode(b" \n\t \r\n").unwrap_err(), "empty document");
        assert_eq!(
            decode(b"abc\0def").unwrap_err(),
            "looks binary (NUL byte at byte 3)"
        );
        assert_eq!(
            decode(b"\xEF\xBB\xBFab\xC3\0").unwrap_err(),
            "looks binary (NUL byte at byte 6)"
        );
        assert_eq!(
            decode(&[0xFF, 0xFE, b'a', 0, 0, 0]).unwrap_err(),
            "looks binary (NUL character at code point 1)"
        );
        assert_eq!(
            decode(b"abcd\xff\xfe rest").unwrap_err(),
            "not valid UTF-8 at byte 4"
        );
        assert!(decode(b"\x01\x02\x03\x04abc\x05\x06")
            .unwrap_err()
            .starts_with("looks binary"));
        let e = ingest(raw(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec())).unwrap_err();
        assert_eq!(
            (e.stage, e.message.as_str()),
            ("ingest", "looks binary (NUL byte at byte 8)")
        );
        assert_eq!(ingest(raw(vec![])).unwrap_err().message, "empty document");
    }

    #[test]
    fn utf16_with_bom() {
        let text = "Минск – “hello”";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode(&le).unwrap(), text);
        assert_eq!(decode(&be).unwrap(), text);
        assert!(decode(&le[..le.len() - 1])
            .unwrap_err()
            .contains("odd number"));
        // A lone surrogate.
        assert_eq!(
            decode(&[0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00]).unwrap_err(),
            "not valid UTF-16 at byte 2"
        );
        // … after a surrogate pair (two code units, one character).
        let mut pair = vec![0xFF, 0xFE];
        for u in "a😀".encode_utf16() {
            pair.extend_from_slice(&u.to_le_bytes());
        }
        pair.extend_from_slice(&[0x00, 0xDC]);
        assert_eq!(decode(&pair).unwrap_err(), "not valid UTF-16 at byte 8");
        // Empty after the BOM.
        assert_eq!(decode(&[0xFE, 0xFF]).unwrap_err(), "empty document");
    }

    #[test]
    fn utf8_bom_dropped_and_non_english_accepted() {
        assert_eq!(decode(b"\xEF\xBB\xBFabc").unwrap(), "abc");
        assert_eq!(decode("Привет, мир".as_bytes()).unwrap(), "Привет, мир");
        assert_eq!(
            decode(b"\xEF\xBB\xBFab\xC3").unwrap_err(),
            "not valid UTF-8 at byte 5"
        );
    }
}
