//! Random incremental edits on documents of every language: after each change (multi-
//! byte characters, CRLF, edits at and past line ends, whole-text replacements), the
//! document's text, tree and findings (full, incremental, without prefilters) must equal
//! those of a fresh parse of the same text (`tests/oracle`, shared with the tests).

#![no_main]

#[path = "../../tests/oracle/mod.rs"]
mod oracle;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use oracle::{FRAGMENTS, Session};
use stackaudit::document::position::Encoding;
use stackaudit::language::Language;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};

/// Documents to start from: the rule fixtures, so edits land among real findings.
const SEEDS: &[(Language, &str)] = &[
    (Language::Python, ""),
    (
        Language::Python,
        include_str!("../../tests/fixtures/python/missing-rollback.py"),
    ),
    (
        Language::Python,
        include_str!("../../tests/fixtures/python/blocking-io-in-async.py"),
    ),
    (
        Language::Python,
        include_str!("../../tests/fixtures/python/redis-key-without-ttl.py"),
    ),
    (
        Language::Dockerfile,
        include_str!("../../tests/fixtures/dockerfile/docker-hardcoded-secret.dockerfile"),
    ),
    (
        Language::Compose,
        include_str!("../../tests/fixtures/compose/docker-hardcoded-secret.yml"),
    ),
];

#[derive(Debug, Arbitrary)]
struct Input {
    seed: u8,
    encoding: u8,
    changes: Vec<Change>,
}

#[derive(Debug, Arbitrary)]
enum Change {
    /// A ranged edit; `end` is relative to `start`, so most ranges are short.
    Ranged {
        start: (u16, u16),
        end: (u8, u8),
        text: Vec<Piece>,
    },
    /// A range-less change: the whole text replaced.
    Whole(Vec<Piece>),
}

#[derive(Debug, Arbitrary)]
enum Piece {
    Fragment(u8),
    Text(String),
}

fn text_of(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Fragment(index) => FRAGMENTS[*index as usize % FRAGMENTS.len()],
            Piece::Text(text) => text.as_str(),
        })
        .collect()
}

fuzz_target!(|input: Input| {
    let (language, seed_text) = SEEDS[input.seed as usize % SEEDS.len()];
    let encoding = [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32][input.encoding as usize % 3];
    let mut session = Session::new(language, encoding, seed_text);
    for change in input.changes.iter().take(32) {
        let event = match change {
            Change::Ranged { start, end, text } => {
                let start = Position::new(u32::from(start.0 % 512), u32::from(start.1 % 512));
                let end_line = start.line + u32::from(end.0 % 4);
                let end_character = if end_line == start.line {
                    start.character + u32::from(end.1)
                } else {
                    u32::from(end.1)
                };
                TextDocumentContentChangeEvent {
                    range: Some(Range::new(start, Position::new(end_line, end_character))),
                    range_length: None,
                    text: text_of(text),
                }
            }
            Change::Whole(text) => TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: text_of(text),
            },
        };
        session.apply(event);
    }
});
