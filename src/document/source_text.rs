//! A source file's bytes as text, decoded as its language's tools decode them: UTF-8,
//! or for Python the encoding that a PEP 263 declaration names on its first or second
//! line (`# -*- coding: latin-1 -*-`). A fix written back is encoded the same way, so a
//! Latin-1 file stays Latin-1.
//!
//! Owns only the bytes-to-text step; the decoding itself is `encoding_rs`'s, except for
//! Latin-1, whose WHATWG label means windows-1252 rather than Python's ISO-8859-1.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::language::Language;

/// How a file's bytes became its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceEncoding {
    Utf8,
    /// ISO-8859-1: every byte is the code point of the same number.
    Latin1,
    /// Only bytes below 0x80.
    Ascii,
    Other(&'static encoding_rs::Encoding),
}

impl SourceEncoding {
    pub fn name(self) -> &'static str {
        match self {
            SourceEncoding::Utf8 => "utf-8",
            SourceEncoding::Latin1 => "latin-1",
            SourceEncoding::Ascii => "ascii",
            SourceEncoding::Other(encoding) => encoding.name(),
        }
    }

    /// Python's codec name (or alias) as this module decodes it; `None` for one it
    /// cannot.
    fn for_python_codec(name: &str) -> Option<SourceEncoding> {
        let normal = name.to_ascii_lowercase().replace('_', "-");
        // Python accepts the Emacs end-of-line suffixes in the declaration.
        let normal = ["-unix", "-dos", "-mac"]
            .iter()
            .find_map(|suffix| normal.strip_suffix(suffix))
            .unwrap_or(&normal);
        match normal {
            "utf-8" | "utf8" | "u8" | "utf" | "utf-8-sig" | "cp65001" => Some(SourceEncoding::Utf8),
            "latin-1" | "latin1" | "latin" | "l1" | "iso-8859-1" | "iso8859-1" | "8859"
            | "cp819" | "iso-ir-100" => Some(SourceEncoding::Latin1),
            "ascii" | "us-ascii" | "646" => Some(SourceEncoding::Ascii),
            other => encoding_rs::Encoding::for_label_no_replacement(other.as_bytes())
                .map(SourceEncoding::Other),
        }
    }
}

/// PEP 263's pattern, on a line of its own that is a comment.
static CODING_DECLARATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)^[ \t\x0c]*#.*?coding[:=][ \t]*([-\w.]+)")
        .unwrap_or_else(|error| unreachable!("a valid pattern: {error}"))
});

/// The encoding a Python file declares, by name, if it declares one: on the first line,
/// or on the second when the first is blank or only a comment.
fn declared_python_encoding(bytes: &[u8]) -> Option<String> {
    let mut lines = bytes.split(|&byte| byte == b'\n');
    let first = lines.next()?;
    let first = first.strip_prefix(b"\xef\xbb\xbf").unwrap_or(first);
    let declared = |line: &[u8]| {
        let captures = CODING_DECLARATION.captures(line)?;
        String::from_utf8(captures.get(1)?.as_bytes().to_vec()).ok()
    };
    if let Some(name) = declared(first) {
        return Some(name);
    }
    let first_is_comment_or_blank = first
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_none_or(|&byte| byte == b'#');
    if !first_is_comment_or_blank {
        return None;
    }
    declared(lines.next()?)
}

/// Decode a file of `language`; the error says why it cannot be audited.
pub fn decode(language: Language, bytes: Vec<u8>) -> Result<(String, SourceEncoding), String> {
    let declared = match language {
        Language::Python => declared_python_encoding(&bytes),
        Language::Dockerfile | Language::Compose | Language::Sql => None,
    };
    let encoding = match declared {
        None => SourceEncoding::Utf8,
        Some(ref name) => SourceEncoding::for_python_codec(name).ok_or_else(|| {
            format!("declares the encoding `{name}`, which stackaudit cannot decode")
        })?,
    };
    let text = match encoding {
        SourceEncoding::Utf8 => String::from_utf8(bytes).ok(),
        SourceEncoding::Latin1 => Some(bytes.iter().map(|&byte| char::from(byte)).collect()),
        SourceEncoding::Ascii => String::from_utf8(bytes).ok().filter(|text| text.is_ascii()),
        SourceEncoding::Other(codec) => codec
            .decode_without_bom_handling_and_without_replacement(&bytes)
            .map(Cow::into_owned),
    };
    let text = text.ok_or_else(|| match declared {
        None => "not UTF-8".to_string(),
        Some(name) => format!("not valid {name}, the encoding it declares"),
    })?;
    Ok((text, encoding))
}

/// Encode `text` for writing back in the file's own encoding.
pub fn encode(text: &str, encoding: SourceEncoding) -> Result<Cow<'_, [u8]>, String> {
    let unencodable = || {
        format!(
            "the fixed text has characters {} cannot hold",
            encoding.name()
        )
    };
    match encoding {
        SourceEncoding::Utf8 => Ok(Cow::Borrowed(text.as_bytes())),
        SourceEncoding::Ascii if text.is_ascii() => Ok(Cow::Borrowed(text.as_bytes())),
        SourceEncoding::Ascii => Err(unencodable()),
        SourceEncoding::Latin1 => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect::<Option<Vec<u8>>>()
            .map(Cow::Owned)
            .ok_or_else(unencodable),
        SourceEncoding::Other(codec) => {
            let (bytes, _, unmappable) = codec.encode(text);
            if unmappable {
                Err(unencodable())
            } else {
                Ok(bytes)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(bytes: &[u8]) -> Result<(String, &'static str), String> {
        decode(Language::Python, bytes.to_vec()).map(|(text, encoding)| (text, encoding.name()))
    }

    #[test]
    fn python_files_are_decoded_by_their_declaration() {
        assert_eq!(
            decoded(b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n"),
            Ok((
                "# -*- coding: latin-1 -*-\nname = 'été'\n".to_string(),
                "latin-1"
            ))
        );
        // On the second line, after a shebang.
        assert_eq!(
            decoded(b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx = '\x80'\n")
                .map(|(text, name)| (text.ends_with("x = '€'\n"), name)),
            Ok((true, "windows-1252"))
        );
        assert_eq!(
            decoded(b"# coding=shift_jis\nx = '\x82\xa0'\n").map(|(text, _)| text),
            Ok("# coding=shift_jis\nx = 'あ'\n".to_string())
        );
        // A declaration after a line of code is not one.
        assert_eq!(
            decoded(b"import os\n# coding: latin-1\nx = '\xe9'\n"),
            Err("not UTF-8".to_string())
        );
    }

    #[test]
    fn undecodable_files_say_why() {
        assert_eq!(
            decoded(b"# coding: klingon\n"),
            Err("declares the encoding `klingon`, which stackaudit cannot decode".to_string())
        );
        assert_eq!(
            decoded(b"# coding: ascii\nx = '\xe9'\n"),
            Err("not valid ascii, the encoding it declares".to_string())
        );
        // Dockerfiles have no declarations.
        assert_eq!(
            decode(
                Language::Dockerfile,
                b"# coding: latin-1\nENV A=\xe9\n".to_vec()
            ),
            Err("not UTF-8".to_string())
        );
    }

    #[test]
    fn text_goes_back_in_its_own_encoding() {
        let (text, encoding) = decode(
            Language::Python,
            b"# coding: latin-1\nx = '\xe9'\n".to_vec(),
        )
        .expect("decodes");
        assert_eq!(
            encode(&format!("{text}y = 1\n"), encoding)
                .expect("encodes")
                .as_ref(),
            b"# coding: latin-1\nx = '\xe9'\ny = 1\n"
        );
        assert_eq!(
            encode("x = '€'\n", encoding),
            Err("the fixed text has characters latin-1 cannot hold".to_string())
        );
    }
}
