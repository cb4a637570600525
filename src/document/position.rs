//! Conversions between byte offsets (what rules and tree-sitter use) and LSP positions
//! (line + character in the negotiated encoding). Every conversion in the crate goes
//! through here, so encoding bugs have exactly one place to live.
//!
//! Lines end at `\n` (a `\r\n` pair counts as one break, the `\r` never counts as a
//! character of the line). Positions past the end of a line clamp to the line's end and
//! positions past the last line clamp to the end of the document, as the spec asks.

use ropey::Rope;
use tower_lsp_server::ls_types::{Position, PositionEncodingKind, Range};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    Utf8,
    #[default]
    Utf16,
    Utf32,
}

impl Encoding {
    /// UTF-8 when the client offers it (no transcoding at all), else the mandatory UTF-16.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        let offered = offered.unwrap_or_default();
        if offered.contains(&PositionEncodingKind::UTF8) {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
            Encoding::Utf32 => PositionEncodingKind::UTF32,
        }
    }
}

/// Byte offset where the text of `line` ends, before its `\n` or `\r\n`.
fn line_content_end(rope: &Rope, line: usize) -> usize {
    let start = rope.line_to_byte(line);
    let end = if line + 1 < rope.len_lines() {
        rope.line_to_byte(line + 1)
    } else {
        rope.len_bytes()
    };
    let mut content_end = end;
    if content_end > start && rope.byte(content_end - 1) == b'\n' {
        content_end -= 1;
        if content_end > start && rope.byte(content_end - 1) == b'\r' {
            content_end -= 1;
        }
    }
    content_end
}

/// Largest char boundary at or before `byte`.
fn floor_char_boundary(rope: &Rope, byte: usize) -> usize {
    let byte = byte.min(rope.len_bytes());
    rope.char_to_byte(rope.byte_to_char(byte))
}

/// Byte offset of an LSP position, clamped per the spec.
pub fn offset_of(rope: &Rope, position: Position, encoding: Encoding) -> usize {
    let line = position.line as usize;
    if line >= rope.len_lines() {
        return rope.len_bytes();
    }
    let line_start = rope.line_to_byte(line);
    let content_end = line_content_end(rope, line);
    let character = position.character as usize;
    match encoding {
        Encoding::Utf8 => floor_char_boundary(rope, (line_start + character).min(content_end)),
        Encoding::Utf16 => {
            let first = rope.char_to_utf16_cu(rope.byte_to_char(line_start));
            let last = rope.char_to_utf16_cu(rope.byte_to_char(content_end));
            // A position between the two halves of a surrogate pair rounds down.
            let char_index = rope.utf16_cu_to_char((first + character).min(last));
            rope.char_to_byte(char_index)
        }
        Encoding::Utf32 => {
            let first = rope.byte_to_char(line_start);
            let last = rope.byte_to_char(content_end);
            rope.char_to_byte((first + character).min(last))
        }
    }
}

/// LSP position of a byte offset (clamped to the document, rounded down to a char).
/// Counts the line's characters up to the offset directly, instead of converting
/// through char indices (each conversion descends the rope; diagnostics convert
/// hundreds of positions per keystroke).
pub fn position_of(rope: &Rope, byte: usize, encoding: Encoding) -> Position {
    let mut byte = byte.min(rope.len_bytes());
    while byte > 0 && byte < rope.len_bytes() && is_continuation(rope.byte(byte)) {
        byte -= 1;
    }
    let line = rope.byte_to_line(byte);
    let line_start = rope.line_to_byte(line);
    let character = match encoding {
        Encoding::Utf8 => byte - line_start,
        Encoding::Utf16 => count_units(rope, line_start..byte, |lead| {
            if lead >= 0xF0 { 2 } else { 1 } // four-byte characters are surrogate pairs
        }),
        Encoding::Utf32 => count_units(rope, line_start..byte, |_| 1),
    };
    Position::new(line as u32, character as u32)
}

fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

/// Sum of `units(lead byte)` over the characters starting in `bytes` (whole characters:
/// the range ends on a char boundary).
fn count_units(rope: &Rope, bytes: std::ops::Range<usize>, units: impl Fn(u8) -> usize) -> usize {
    let (chunks, mut chunk_start, _, _) = rope.chunks_at_byte(bytes.start);
    let mut count = 0;
    for chunk in chunks {
        if chunk_start >= bytes.end {
            break;
        }
        let chunk = chunk.as_bytes();
        let from = bytes.start.saturating_sub(chunk_start);
        let to = (bytes.end - chunk_start).min(chunk.len());
        count += chunk[from.min(to)..to]
            .iter()
            .filter(|byte| !is_continuation(**byte))
            .map(|lead| units(*lead))
            .sum::<usize>();
        chunk_start += chunk.len();
    }
    count
}

pub fn range_of(rope: &Rope, bytes: std::ops::Range<usize>, encoding: Encoding) -> Range {
    Range::new(
        position_of(rope, bytes.start, encoding),
        position_of(rope, bytes.end, encoding),
    )
}

pub fn offsets_of(rope: &Rope, range: Range, encoding: Encoding) -> std::ops::Range<usize> {
    let start = offset_of(rope, range.start, encoding);
    let end = offset_of(rope, range.end, encoding).max(start);
    start..end
}

/// Positions of many offsets of one text, converted by sweeping instead of descending
/// the rope for every offset (publishing converts hundreds of ranges per keystroke).
/// Starts and ends of ranges keep a place each, so converting ranges sorted by start
/// costs the distance between consecutive starts (and between consecutive ends, or
/// from a range's start to its end): a long line with thousands of findings, even
/// nested ones, is crossed a few times, not once per finding. Gives exactly what
/// `position_of` gives on a rope of the same text.
pub struct PositionSweep<'t> {
    text: &'t str,
    encoding: Encoding,
    starts: Place,
    ends: Place,
}

/// A known position: `byte` is on line `line` (which starts at `line_start`) and is
/// `units` code units into it.
#[derive(Clone, Copy, Default)]
struct Place {
    line: usize,
    line_start: usize,
    byte: usize,
    units: usize,
}

impl<'t> PositionSweep<'t> {
    pub fn new(text: &'t str, encoding: Encoding) -> PositionSweep<'t> {
        PositionSweep {
            text,
            encoding,
            starts: Place::default(),
            ends: Place::default(),
        }
    }

    /// The range of `bytes`; cheapest when ranges come in order of their starts.
    pub fn range(&mut self, bytes: std::ops::Range<usize>) -> Range {
        let start = self.position(bytes.start);
        // An end before the last end's line is looked for from this range's start.
        let end_byte = self.char_floor(bytes.end);
        if end_byte < self.ends.line_start {
            self.ends = self.starts;
        }
        let end = Self::advance(self.text, self.encoding, &mut self.ends, end_byte);
        Range::new(start, end)
    }

    pub fn position(&mut self, byte: usize) -> Position {
        let byte = self.char_floor(byte);
        Self::advance(self.text, self.encoding, &mut self.starts, byte)
    }

    fn char_floor(&self, byte: usize) -> usize {
        let mut byte = byte.min(self.text.len());
        while !self.text.is_char_boundary(byte) {
            byte -= 1;
        }
        byte
    }

    /// Move `place` to `byte` (a char boundary) and return its position.
    fn advance(text: &str, encoding: Encoding, place: &mut Place, byte: usize) -> Position {
        if byte < place.line_start {
            *place = Place::default(); // an earlier line: sweep again from the top
        }
        let skipped = &text.as_bytes()[place.line_start..byte];
        if let Some(last_newline) = memchr::memrchr(b'\n', skipped) {
            place.line += memchr::memchr_iter(b'\n', skipped).count();
            place.line_start += last_newline + 1;
            (place.byte, place.units) = (place.line_start, 0);
        }
        let units = |from: usize, to: usize| {
            let part = &text[from..to];
            match encoding {
                Encoding::Utf8 => part.len(),
                Encoding::Utf16 => part.chars().map(char::len_utf16).sum(),
                Encoding::Utf32 => part.chars().count(),
            }
        };
        // Count from the place on this line, forwards or backwards, or from its start.
        let from_mark = byte.abs_diff(place.byte);
        if place.byte < place.line_start || byte - place.line_start < from_mark {
            place.units = units(place.line_start, byte);
        } else if byte >= place.byte {
            place.units += units(place.byte, byte);
        } else {
            place.units -= units(byte, place.byte);
        }
        place.byte = byte;
        Position::new(place.line as u32, place.units as u32)
    }
}

/// 1-based line and 1-based column in characters, as the CLI prints them.
pub fn line_column_of(rope: &Rope, byte: usize) -> (usize, usize) {
    let position = position_of(rope, byte, Encoding::Utf32);
    (position.line as usize + 1, position.character as usize + 1)
}

/// Tree-sitter point of a byte offset: row of `\n`-separated lines, column in bytes.
pub fn point_of(rope: &Rope, byte: usize) -> tree_sitter::Point {
    let byte = byte.min(rope.len_bytes());
    let row = rope.byte_to_line(byte);
    tree_sitter::Point::new(row, byte - rope.line_to_byte(row))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The position of `byte` computed from the string alone, the slow obvious way.
    fn reference_position(text: &str, byte: usize, encoding: Encoding) -> Position {
        let mut byte = byte.min(text.len());
        while !text.is_char_boundary(byte) {
            byte -= 1;
        }
        let before = &text[..byte];
        let line = before.matches('\n').count();
        let line_text = &before[before.rfind('\n').map_or(0, |newline| newline + 1)..];
        let character = match encoding {
            Encoding::Utf8 => line_text.len(),
            Encoding::Utf16 => line_text.encode_utf16().count(),
            Encoding::Utf32 => line_text.chars().count(),
        };
        Position::new(line as u32, character as u32)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Every byte offset of arbitrary Unicode text (CR, LF, astral characters,
        /// long enough to span rope chunks) converts like the reference, and every
        /// char boundary round-trips back to itself.
        #[test]
        fn positions_match_the_reference_and_round_trip(
            text in "(\\PC|\n|\r\n|😀|漢|e\u{301}){0,400}",
            repeat in 1usize..24,
        ) {
            let text = text.repeat(repeat);
            let rope = Rope::from_str(&text);
            for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
                for byte in (0..=text.len()).step_by(1 + text.len() / 200) {
                    let position = position_of(&rope, byte, encoding);
                    prop_assert_eq!(position, reference_position(&text, byte, encoding));
                    if text.is_char_boundary(byte) && !text[..byte].ends_with('\r') {
                        prop_assert_eq!(offset_of(&rope, position, encoding), byte);
                    }
                }
                // The sweep agrees, in order and out of order.
                let mut sweep = PositionSweep::new(&text, encoding);
                let step = 1 + text.len() / 100;
                let offsets = (0..=text.len()).step_by(step).chain((0..=text.len()).rev().step_by(step * 3));
                for byte in offsets {
                    prop_assert_eq!(sweep.position(byte), position_of(&rope, byte, encoding));
                    let end = (byte + step * 2).min(text.len());
                    prop_assert_eq!(sweep.range(byte..end), range_of(&rope, byte..end, encoding));
                }
            }
        }
    }

    /// Nested ranges (starts rising, ends falling), as nested findings give, across
    /// multi-byte text and lines: each equals the rope's conversion.
    #[test]
    fn the_sweep_places_nested_ranges_exactly() {
        let text = format!("a\n{}é😀\n{}\nz", "f(".repeat(300), ")".repeat(300));
        let rope = Rope::from_str(&text);
        for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let mut sweep = PositionSweep::new(&text, encoding);
            for depth in 0..300 {
                let start = 2 + 2 * depth;
                let end = text.len() - 2 - depth;
                assert_eq!(
                    sweep.range(start..end),
                    range_of(&rope, start..end, encoding),
                    "{encoding:?} depth {depth}"
                );
            }
        }
    }

    fn pos(line: u32, character: u32) -> Position {
        Position::new(line, character)
    }

    #[test]
    fn emoji_and_cjk_in_every_encoding() {
        // "a😀b" : 😀 is 4 bytes, 2 UTF-16 units, 1 char. "漢" is 3 bytes, 1 unit.
        let rope = Rope::from_str("a😀b漢c\nx");
        let b_offset = 1 + 4;
        assert_eq!(offset_of(&rope, pos(0, 5), Encoding::Utf8), b_offset);
        assert_eq!(offset_of(&rope, pos(0, 3), Encoding::Utf16), b_offset);
        assert_eq!(offset_of(&rope, pos(0, 2), Encoding::Utf32), b_offset);
        let c_offset = b_offset + 1 + 3;
        assert_eq!(position_of(&rope, c_offset, Encoding::Utf8), pos(0, 9));
        assert_eq!(position_of(&rope, c_offset, Encoding::Utf16), pos(0, 5));
        assert_eq!(position_of(&rope, c_offset, Encoding::Utf32), pos(0, 4));
    }

    #[test]
    fn combining_marks_count_as_their_own_code_points() {
        // "e\u{301}" is one grapheme but two code points, each one UTF-16 unit.
        let rope = Rope::from_str("e\u{301}x");
        assert_eq!(offset_of(&rope, pos(0, 2), Encoding::Utf16), 3);
        assert_eq!(position_of(&rope, 3, Encoding::Utf16), pos(0, 2));
    }

    #[test]
    fn positions_inside_a_surrogate_pair_or_char_round_down() {
        let rope = Rope::from_str("😀z");
        assert_eq!(offset_of(&rope, pos(0, 1), Encoding::Utf16), 0);
        assert_eq!(offset_of(&rope, pos(0, 2), Encoding::Utf8), 0);
        assert_eq!(position_of(&rope, 2, Encoding::Utf16), pos(0, 0));
    }

    #[test]
    fn clamps_past_line_end_and_document_end() {
        let rope = Rope::from_str("ab\r\ncd\n");
        assert_eq!(
            offset_of(&rope, pos(0, 99), Encoding::Utf16),
            2,
            "before the CRLF"
        );
        assert_eq!(offset_of(&rope, pos(1, 99), Encoding::Utf8), 6);
        assert_eq!(offset_of(&rope, pos(2, 0), Encoding::Utf8), 7);
        assert_eq!(offset_of(&rope, pos(40, 3), Encoding::Utf8), 7);
        assert_eq!(position_of(&rope, 1000, Encoding::Utf16), pos(2, 0));
    }

    #[test]
    fn negotiation_prefers_utf8() {
        let both = [PositionEncodingKind::UTF16, PositionEncodingKind::UTF8];
        assert_eq!(Encoding::negotiate(Some(&both)), Encoding::Utf8);
        assert_eq!(
            Encoding::negotiate(Some(&[PositionEncodingKind::UTF32])),
            Encoding::Utf16
        );
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
    }

    #[test]
    fn tree_sitter_points_use_byte_columns() {
        let rope = Rope::from_str("é\n😀x");
        assert_eq!(point_of(&rope, 7), tree_sitter::Point::new(1, 4));
    }
}
