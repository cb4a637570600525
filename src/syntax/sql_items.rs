//! Where a SQL file's statements begin and end, read from the text alone, as psql
//! reads a script: a statement ends at a `;` outside strings (`'...'`, `E'...'`,
//! dollar quotes `$tag$...$tag$`), quoted identifiers, comments (`--`, nested
//! `/* */`), parentheses and `BEGIN ATOMIC ... END` bodies. A line that starts with
//! `\` between statements is a psql meta-command (`\connect`, `\i`), not SQL, and the
//! rows after `COPY ... FROM stdin;` up to a `\.` line are data (pg_dump writes both).
//!
//! An item (`syntax`) starts at the line after one where a statement ended with
//! nothing but comments after its `;`: an edit re-reads the statements of the items it
//! touched. Two statements on one line share an item. The scanner is in the same state
//! at every item start (no string, comment or statement open), so an item start is one
//! whatever text precedes it.

use std::ops::Range;

pub use super::front_end::ItemStart;

/// What the scan met, in text order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    /// A token of a statement (not white space or a comment): its bytes.
    Token(Range<usize>),
    /// A comment.
    Comment(Range<usize>),
    /// The `;` that ends a statement.
    End(usize),
    /// Text that is not SQL: a psql meta-command line or `COPY` data.
    NotSql(Range<usize>),
    /// Where an item may start.
    ItemStart(ItemStart),
}

/// Report the item starts of `text` from `from` (an item start, reported first) on,
/// until `report` says stop (`front_end::ScanItems`).
pub fn scan_items(text: &str, from: ItemStart, report: &mut dyn FnMut(ItemStart) -> bool) {
    if !report(from) {
        return;
    }
    scan(text, from, &mut |event| match event {
        Event::ItemStart(start) => report(start),
        _ => true,
    });
}

/// A statement of a SQL text: its bytes from its first token to its last (no
/// comments around it), and where its `;` stands, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementSpan {
    pub range: Range<usize>,
    pub terminator: Option<usize>,
}

/// The statements of `text[range]` (which starts at an item start); psql
/// meta-commands and `COPY` data are left out.
pub fn statements(text: &str, range: Range<usize>) -> Vec<StatementSpan> {
    let mut found = Vec::new();
    let mut open: Option<Range<usize>> = None;
    let end = range.end.min(text.len());
    scan(
        &text[..end],
        ItemStart {
            byte: range.start,
            line: 0,
        },
        &mut |event| {
            match event {
                Event::Token(token) => {
                    open = Some(match open.take() {
                        Some(statement) => statement.start..token.end,
                        None => token,
                    });
                }
                Event::End(at) => found.extend(open.take().map(|range| StatementSpan {
                    range,
                    terminator: Some(at),
                })),
                Event::NotSql(_) => found.extend(open.take().map(|range| StatementSpan {
                    range,
                    terminator: None,
                })),
                Event::Comment(_) | Event::ItemStart(_) => {}
            }
            true
        },
    );
    found.extend(open.map(|range| StatementSpan {
        range,
        terminator: None,
    }));
    found
}

/// The comments of `text[range]` (which starts at an item start), as byte ranges
/// (a `--` comment without its line break).
pub fn comments(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let end = range.end.min(text.len());
    scan(
        &text[..end],
        ItemStart {
            byte: range.start,
            line: 0,
        },
        &mut |event| {
            if let Event::Comment(comment) = event {
                found.push(comment);
            }
            true
        },
    );
    found
}

/// What the scanner remembers of the statement it is in.
#[derive(Default)]
struct Statement {
    /// Whether a token of it has been seen.
    open: bool,
    /// Parentheses open.
    depth: usize,
    /// `BEGIN ATOMIC` bodies open (SQL-standard function bodies hold `;`).
    atomic: usize,
    /// `CASE` expressions open inside such a body (their `END` closes no body).
    cases: usize,
    /// The last word, upper-cased when it is short enough to be a keyword.
    last_word: [u8; 8],
    /// The statement's first word is `COPY` and it reads `FROM STDIN`.
    copy: CopyState,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum CopyState {
    #[default]
    No,
    /// `COPY` first.
    Copy,
    /// `COPY ... FROM`.
    From,
    /// `COPY ... FROM STDIN`: data follows the `;`.
    FromStdin,
}

/// Walk `text` from `from` (a clean start), telling `visit` what it meets until it
/// says stop.
fn scan(text: &str, from: ItemStart, visit: &mut dyn FnMut(Event) -> bool) {
    let bytes = text.as_bytes();
    let mut at = from.byte;
    let mut line = from.line;
    let mut statement = Statement::default();
    // A statement ended on this line; the next line starts an item unless another
    // statement starts on this one. `Some(copy data follows)`.
    let mut ended: Option<bool> = None;
    let mut line_start = true;
    while at < bytes.len() {
        let byte = bytes[at];
        if byte == b'\n' {
            at += 1;
            line += 1;
            line_start = true;
            if let Some(copy_data) = ended.take() {
                if copy_data {
                    let data_end = copy_data_end(bytes, at);
                    if data_end > at && !visit(Event::NotSql(at..data_end)) {
                        return;
                    }
                    line += bytes[at..data_end].iter().filter(|b| **b == b'\n').count();
                    at = data_end;
                }
                if at < bytes.len() && !visit(Event::ItemStart(ItemStart { byte: at, line })) {
                    return;
                }
            }
            continue;
        }
        if byte.is_ascii_whitespace() {
            at += 1;
            continue;
        }
        let was_line_start = std::mem::take(&mut line_start);
        // A psql meta-command: a line of its own between statements.
        if byte == b'\\' && was_line_start && !statement.open {
            let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |nl| at + nl);
            if !visit(Event::NotSql(at..end)) {
                return;
            }
            at = end;
            ended = Some(false);
            continue;
        }
        let token_end = match byte {
            b'-' if bytes.get(at + 1) == Some(&b'-') => {
                let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |nl| at + nl);
                let end = if end > at && bytes[end - 1] == b'\r' && end < bytes.len() {
                    end - 1
                } else {
                    end
                };
                if !visit(Event::Comment(at..end)) {
                    return;
                }
                at = end;
                continue;
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                let end = block_comment_end(bytes, at);
                line += bytes[at..end].iter().filter(|b| **b == b'\n').count();
                if !visit(Event::Comment(at..end)) {
                    return;
                }
                at = end;
                continue;
            }
            b';' if statement.depth == 0 && statement.atomic == 0 => {
                if statement.open && !visit(Event::End(at)) {
                    return;
                }
                ended = Some(statement.copy == CopyState::FromStdin);
                statement = Statement::default();
                at += 1;
                continue;
            }
            b'\'' => quoted_end(bytes, at, b'\'', escapes_backslash(bytes, at)),
            b'"' => quoted_end(bytes, at, b'"', false),
            b'$' => dollar_quote_end(bytes, at).unwrap_or(at + 1),
            b'(' => {
                statement.depth += 1;
                at + 1
            }
            b')' => {
                statement.depth = statement.depth.saturating_sub(1);
                at + 1
            }
            _ if is_word_byte(byte) => {
                let end = at + bytes[at..].iter().take_while(|b| is_word_byte(**b)).count();
                read_word(&mut statement, &bytes[at..end]);
                end
            }
            _ => at + 1,
        };
        line += bytes[at..token_end].iter().filter(|b| **b == b'\n').count();
        if !statement.open {
            statement.open = true;
        }
        // Another statement on the line where one ended: the item goes on.
        if ended.is_some() {
            ended = None;
        }
        if !visit(Event::Token(at..token_end)) {
            return;
        }
        at = token_end;
    }
}

/// Keep what the statement's words say: `BEGIN ATOMIC ... END` bodies, and whether it
/// is a `COPY ... FROM STDIN`.
fn read_word(statement: &mut Statement, word: &[u8]) {
    let mut upper = [0u8; 8];
    if word.len() <= upper.len() {
        for (slot, byte) in upper.iter_mut().zip(word) {
            *slot = byte.to_ascii_uppercase();
        }
    }
    let is = |keyword: &[u8]| upper[..word.len().min(8)] == *keyword && word.len() == keyword.len();
    if is(b"ATOMIC") && statement.last_word.starts_with(b"BEGIN\0") {
        statement.atomic += 1;
    } else if is(b"CASE") && statement.atomic > 0 {
        statement.cases += 1;
    } else if is(b"END") && statement.cases > 0 {
        statement.cases -= 1;
    } else if is(b"END") && statement.atomic > 0 {
        statement.atomic -= 1;
    }
    statement.copy = match statement.copy {
        CopyState::No if !statement.open && is(b"COPY") => CopyState::Copy,
        CopyState::Copy if is(b"FROM") => CopyState::From,
        CopyState::From if is(b"STDIN") => CopyState::FromStdin,
        CopyState::From => CopyState::Copy,
        state => state,
    };
    statement.last_word = upper;
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

/// Whether the string opening at `quote` is an escape string (`E'...'`), where a
/// backslash escapes the quote.
fn escapes_backslash(bytes: &[u8], quote: usize) -> bool {
    quote >= 1
        && matches!(bytes[quote - 1], b'e' | b'E')
        && (quote < 2 || !is_word_byte(bytes[quote - 2]))
}

/// The end of a quoted string or identifier opening at `open` (a doubled quote stands
/// for itself); the end of the text when it is never closed.
fn quoted_end(bytes: &[u8], open: usize, quote: u8, backslash: bool) -> usize {
    let mut at = open + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' if backslash => at += 2,
            byte if byte == quote => {
                if bytes.get(at + 1) == Some(&quote) {
                    at += 2;
                } else {
                    return at + 1;
                }
            }
            _ => at += 1,
        }
    }
    bytes.len()
}

/// The end of a dollar-quoted string opening at `open` (`$$` or `$tag$`), or `None`
/// when no dollar quote opens there (a parameter `$1`, or `$` inside a word).
fn dollar_quote_end(bytes: &[u8], open: usize) -> Option<usize> {
    if open > 0 && is_word_byte(bytes[open - 1]) {
        return None;
    }
    let tag_length = bytes[open + 1..]
        .iter()
        .take_while(|byte| byte.is_ascii_alphanumeric() || **byte == b'_' || **byte >= 0x80)
        .count();
    let tag_end = open + 1 + tag_length;
    if bytes.get(tag_end) != Some(&b'$') || bytes.get(open + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let tag = &bytes[open..=tag_end];
    let body = tag_end + 1;
    Some(
        memchr::memmem::find(&bytes[body..], tag)
            .map_or(bytes.len(), |found| body + found + tag.len()),
    )
}

/// The end of a (nested) block comment opening at `open`.
fn block_comment_end(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut at = open;
    while at + 1 < bytes.len() {
        match (bytes[at], bytes[at + 1]) {
            (b'/', b'*') => {
                depth += 1;
                at += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                at += 2;
                if depth == 0 {
                    return at;
                }
            }
            _ => at += 1,
        }
    }
    bytes.len()
}

/// Where the `COPY` data starting at `from` ends: after its `\.` line, or at the end
/// of the text.
fn copy_data_end(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while at < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |nl| at + nl);
        let row = &bytes[at..end];
        let row = row.strip_suffix(b"\r").unwrap_or(row);
        at = (end + 1).min(bytes.len());
        if row == b"\\." {
            return at;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item_texts(text: &str) -> Vec<&str> {
        let starts = crate::syntax::front_end::item_starts(scan_items, text);
        let ends = starts.iter().skip(1).map(|start| start.byte);
        starts
            .iter()
            .zip(ends.chain([text.len()]))
            .map(|(start, end)| &text[start.byte..end])
            .collect()
    }

    fn statement_texts(text: &str) -> Vec<&str> {
        statements(text, 0..text.len())
            .into_iter()
            .map(|statement| &text[statement.range])
            .collect()
    }

    #[test]
    fn items_start_after_the_line_that_ends_a_statement() {
        let text = "-- users\nCREATE TABLE users (\n  id int -- ;\n);\n\nSELECT 1; SELECT 2;\nSELECT ';'; /* ; */\n";
        assert_eq!(
            item_texts(text),
            [
                "-- users\nCREATE TABLE users (\n  id int -- ;\n);\n",
                "\nSELECT 1; SELECT 2;\n",
                "SELECT ';'; /* ; */\n",
            ]
        );
        assert_eq!(
            statement_texts(text),
            [
                "CREATE TABLE users (\n  id int -- ;\n)",
                "SELECT 1",
                "SELECT 2",
                "SELECT ';'"
            ]
        );
    }

    #[test]
    fn bodies_in_dollar_quotes_and_atomic_blocks_are_one_statement() {
        let text = "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;\nDO $$ BEGIN PERFORM 1; END $$;\nCREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nSELECT $1, a$b FROM t;\n";
        assert_eq!(statement_texts(text).len(), 4);
        assert_eq!(item_texts(text).len(), 4);
    }

    #[test]
    fn meta_commands_and_copy_data_are_not_sql() {
        let text = "\\connect app\nCOPY public.t (a, b) FROM stdin;\n1\tx; y\n2\t'\n\\.\n\nSELECT E'it\\'s;' ;\n";
        assert_eq!(
            statement_texts(text),
            ["COPY public.t (a, b) FROM stdin", "SELECT E'it\\'s;'"]
        );
        assert_eq!(
            item_texts(text),
            [
                "\\connect app\n",
                "COPY public.t (a, b) FROM stdin;\n1\tx; y\n2\t'\n\\.\n",
                "\nSELECT E'it\\'s;' ;\n"
            ]
        );
    }

    #[test]
    fn comments_are_found_wherever_they_stand() {
        let text = "SELECT 1 -- one\r\n/* a /* nested */ b */ ; -- end\n";
        let found: Vec<&str> = comments(text, 0..text.len())
            .into_iter()
            .map(|range| &text[range])
            .collect();
        assert_eq!(found, ["-- one", "/* a /* nested */ b */", "-- end"]);
    }

    proptest::proptest! {
        /// Item starts found from any earlier item start are those of a scan from the
        /// top, and no text makes the scan panic or loop.
        #[test]
        fn a_scan_from_any_item_start_agrees(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "SELECT", " ", "\n", ";", "'", "\"", "$$", "$a$", "--", "/*", "*/", "(", ")",
                    "\\", "\\.\n", "COPY t FROM stdin", "BEGIN ATOMIC", "END", "E'\\'", "é", "\r\n",
                ]),
                0..40,
            ),
        ) {
            let text = pieces.concat();
            let starts = crate::syntax::front_end::item_starts(scan_items, &text);
            for (index, start) in starts.iter().enumerate() {
                let mut again = Vec::new();
                scan_items(&text, *start, &mut |found| {
                    again.push(found);
                    true
                });
                proptest::prop_assert_eq!(&again[..], &starts[index..]);
            }
            for statement in statements(&text, 0..text.len()) {
                proptest::prop_assert!(text.get(statement.range).is_some());
            }
        }
    }
}
