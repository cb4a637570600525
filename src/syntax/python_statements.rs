//! A Python module's statements read from the text alone, with the compound statement
//! each one sits in: enough structure for rules that need no tree (which function an
//! `import` is in, and whether a `try` around it handles `ImportError`).
//!
//! A statement is a simple statement (`import os`, `x = 1`, each part of `a; b`) or a
//! compound statement's header (`def f():`, `except ImportError:`). A body statement's
//! parent is the header of its block (an indented line, or the rest of the header's
//! line); a clause (`elif`, `else`, `except`, `finally`) belongs to the statement it
//! continues, as in the grammar. Lines inside brackets, strings and backslash
//! continuations belong to the statement they continue. Indentation counts a tab as up
//! to the next multiple of 8 columns, as Python's tokenizer does.

use std::ops::Range;

use super::python_items::{Scanner, starts_with_keyword};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// From its first token to the end of its last one (no trailing comment, `;` or
    /// line break); for a compound statement, its header through the `:`.
    pub range: Range<usize>,
    /// The header of the compound statement it belongs to (an index into the list).
    pub parent: Option<usize>,
    /// Whether it is a compound statement's header (or a clause's).
    pub is_header: bool,
}

/// Keywords that open a compound statement or a clause (`match` and `case` are soft:
/// only a header, with its `:`, counts).
const COMPOUND: &[&str] = &[
    "if", "elif", "else", "while", "for", "try", "except", "finally", "with", "def", "class",
    "async", "match", "case",
];

/// Keywords of the clauses that continue a compound statement at its own indentation.
const CLAUSES: &[&str] = &["elif", "else", "except", "finally"];

/// Whether `text` begins with `keyword` as a whole word (the item splitter's test).
pub fn starts_with_word(text: &str, keyword: &str) -> bool {
    starts_with_keyword(text.as_bytes(), &[keyword.as_bytes()])
}

/// The statements of `text[range]` (which starts where a statement may), in order.
pub fn statements(text: &str, range: Range<usize>) -> Vec<Statement> {
    let text = &text[..range.end.min(text.len())];
    let bytes = text.as_bytes();
    let mut found: Vec<Statement> = Vec::new();
    // Open blocks: the indentation of each header's line and the header's index.
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    let mut scanner = Scanner::default();
    let mut at = range.start;
    // Top-level `;` and `:` of a logical line, each with the end of the last significant
    // byte before it (reused from line to line).
    let mut separators: Vec<(usize, u8, usize)> = Vec::new();
    while at < bytes.len() {
        let line_start = at;
        // A logical line: physical lines until brackets, strings and continuations close.
        separators.clear();
        let mut last_end = line_start;
        loop {
            at = scanner.scan_line_with(bytes, at, &mut |offset, byte, depth| match byte {
                b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\\' | b'#' => {}
                b';' | b':' if depth == 0 => {
                    separators.push((offset, byte, last_end));
                    last_end = offset + 1;
                }
                _ => last_end = offset + 1,
            });
            if scanner.is_clean() || at >= bytes.len() {
                break;
            }
        }
        let Some(first) = text[line_start..at]
            .find(|c: char| !matches!(c, ' ' | '\t' | '\x0c' | '\r' | '\n'))
            .map(|offset| line_start + offset)
            .filter(|&first| bytes[first] != b'#')
        else {
            continue; // a blank or comment line
        };
        let indent = columns(&text[line_start..first]);
        let logical_end = at;
        // Where the line's block structure puts its first statement.
        let first_text = &text[first..];
        let is_clause = CLAUSES
            .iter()
            .any(|clause| starts_with_word(first_text, clause));
        while blocks
            .last()
            .is_some_and(|(block_indent, _)| *block_indent > indent)
        {
            blocks.pop();
        }
        let continued = is_clause
            .then(|| {
                blocks
                    .last()
                    .filter(|(block_indent, _)| *block_indent == indent)
            })
            .flatten()
            .map(|&(_, header)| {
                found[header]
                    .parent
                    .filter(|_| is_clause_header(text, &found[header]))
                    .unwrap_or(header)
            });
        let parent = match continued {
            Some(compound) => Some(compound),
            None => {
                while blocks
                    .last()
                    .is_some_and(|(block_indent, _)| *block_indent >= indent)
                {
                    blocks.pop();
                }
                blocks.last().map(|&(_, header)| header)
            }
        };
        if continued.is_some() {
            blocks.pop(); // the clause takes the place of what it continues
        }
        // Split the logical line into its statements.
        let mut start = first;
        let mut owner = parent;
        let mut line_header: Option<usize> = None;
        let mut separators = separators.iter().filter(|(offset, _, _)| *offset >= first);
        while start < logical_end {
            let here = &text[start..];
            let header = COMPOUND
                .iter()
                .any(|keyword| starts_with_word(here, keyword));
            // A header ends at its first top-level `:` (not `:=`); a simple statement at `;`.
            let boundary = separators.by_ref().find(|(offset, byte, _)| {
                *offset >= start
                    && if header {
                        *byte == b':' && bytes.get(offset + 1) != Some(&b'=')
                    } else {
                        *byte == b';'
                    }
            });
            let (end, next) = match boundary {
                Some(&(offset, b':', _)) => (offset + 1, offset + 1),
                Some(&(offset, _, before)) => (before, offset + 1),
                None => (last_end, logical_end),
            };
            let is_header = header && matches!(boundary, Some((_, b':', _)));
            found.push(Statement {
                range: start..end.max(start),
                parent: owner,
                is_header,
            });
            let index = found.len() - 1;
            if is_header {
                // The rest of the line, if any, is its body.
                line_header.get_or_insert(index);
                owner = Some(index);
            }
            // The next statement's first token.
            let rest = &text[next.min(logical_end)..logical_end];
            let skipped = rest.len()
                - rest
                    .trim_start_matches([' ', '\t', '\x0c', '\\', '\r', '\n'])
                    .len();
            start = next + skipped;
            if text[start.min(logical_end)..logical_end].starts_with('#') {
                break;
            }
        }
        if let Some(header) = line_header {
            blocks.push((indent, header));
        }
    }
    found
}

/// Whether a header is a clause that continues another statement (its parent).
fn is_clause_header(text: &str, statement: &Statement) -> bool {
    let header = &text[statement.range.clone()];
    CLAUSES
        .iter()
        .any(|clause| starts_with_word(header, clause))
}

/// Columns of an indentation: a tab goes to the next multiple of 8.
fn columns(indentation: &str) -> usize {
    indentation.chars().fold(0, |column, c| match c {
        '\t' => (column / 8 + 1) * 8,
        _ => column + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> Vec<(String, Option<String>)> {
        let found = statements(text, 0..text.len());
        found
            .iter()
            .map(|statement| {
                (
                    text[statement.range.clone()].to_string(),
                    statement
                        .parent
                        .map(|parent| text[found[parent].range.clone()].to_string()),
                )
            })
            .collect()
    }

    #[test]
    fn blocks_clauses_and_inline_bodies() {
        let text = "import os\ndef f(a: int = {1: 2}) -> dict[str, int]:\n    x = 1; import json  # c\n    if (n := 2):\n        pass\n    elif TYPE_CHECKING:\n        from a import (b,\n                       c)\n    else: import d\n    try:\n        import e\n    except ImportError:\n        pass\nclass C: y = 'a:b'\n";
        let expected: Vec<(&str, Option<&str>)> = vec![
            ("import os", None),
            ("def f(a: int = {1: 2}) -> dict[str, int]:", None),
            ("x = 1", Some("def f(a: int = {1: 2}) -> dict[str, int]:")),
            (
                "import json",
                Some("def f(a: int = {1: 2}) -> dict[str, int]:"),
            ),
            (
                "if (n := 2):",
                Some("def f(a: int = {1: 2}) -> dict[str, int]:"),
            ),
            ("pass", Some("if (n := 2):")),
            ("elif TYPE_CHECKING:", Some("if (n := 2):")),
            (
                "from a import (b,\n                       c)",
                Some("elif TYPE_CHECKING:"),
            ),
            ("else:", Some("if (n := 2):")),
            ("import d", Some("else:")),
            ("try:", Some("def f(a: int = {1: 2}) -> dict[str, int]:")),
            ("import e", Some("try:")),
            ("except ImportError:", Some("try:")),
            ("pass", Some("except ImportError:")),
            ("class C:", None),
            ("y = 'a:b'", Some("class C:")),
        ];
        let found = shape(text);
        let found: Vec<(&str, Option<&str>)> = found
            .iter()
            .map(|(statement, parent)| (statement.as_str(), parent.as_deref()))
            .collect();
        assert_eq!(found, expected);
    }
}
