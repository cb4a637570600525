//! Where a Python module's top-level statements begin, read from the text alone.
//!
//! Why: each top-level statement (an *item*) is parsed on its own (`syntax`), so a
//! keystroke re-parses the item it touched instead of the module. tree-sitter's own
//! incremental re-parse cannot do that for Python: when an edit changes what its
//! external scanner saw before a reused node (its indent stack), it skips the node
//! whole instead of descending into it, and re-lexes up to half a 5,000-line module
//! (tree-sitter-html#23 describes the same limit).
//!
//! An item starts at a line that begins in column 0 with a statement, outside brackets,
//! strings and backslash continuations. `else`, `elif`, `except` and `finally` continue
//! the statement above, decorators belong to what they decorate, and comment or blank
//! lines stay with the item above (leading ones with the first statement). A `def`,
//! `async def` or `class` in column 0 inside brackets left open starts an item too, as
//! error recovery: a `(` typed and not yet closed costs one item, not the rest of the
//! file. Python's grammar is the same whatever precedes a top-level statement, so an
//! item parsed alone gives the same tree as within the module.

pub use super::front_end::ItemStart;

/// Lines that continue the compound statement above them.
const CONTINUATIONS: [&[u8]; 4] = [b"else", b"elif", b"except", b"finally"];

/// Lines that start a definition: items even inside brackets left open.
const DEFINITIONS: [&[u8]; 3] = [b"def", b"class", b"async"];

/// The starts of the items of `text`, in order; the first is always offset 0 (leading
/// comments and blank lines belong to the first statement).
pub fn item_starts(text: &str) -> Vec<ItemStart> {
    let mut starts = Vec::new();
    scan_items(text, ItemStart { byte: 0, line: 0 }, &mut |start| {
        starts.push(start);
        true
    });
    starts
}

/// The comments of `text[range]` (which starts where a statement may: an item start),
/// as byte ranges from `#` to the end of the line (without the `\n`, as the parser has
/// them): read from the text alone, so a rule that reads comments needs no parse.
pub fn comments(text: &str, range: std::ops::Range<usize>) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let end = range.end.min(bytes.len());
    let mut scanner = Scanner::default();
    let mut found = Vec::new();
    let mut at = range.start;
    while at < end {
        let next = scanner.scan_line(bytes, at);
        // A range may end inside a line (where a statement of its own begins).
        if let Some(comment) = scanner.comment.filter(|&comment| comment < end) {
            // A comment ends at a line break: `\n`, `\r\n`, or a lone `\r`, which
            // Python's tokenizer takes for one too.
            let line = &text[comment..next.min(end)];
            found.push(comment..comment + line.find(['\r', '\n']).unwrap_or(line.len()));
        }
        at = next;
    }
    found
}

/// Report the item starts of `text` from `from` on (itself first), which must be an
/// item start (or the text's start), until `found` returns false. An item start is
/// one in any text that agrees from there on, so a re-split after an edit can begin
/// at an unchanged item before it and stop at the first start past it that was a start
/// before.
pub fn scan_items(text: &str, from: ItemStart, found: &mut dyn FnMut(ItemStart) -> bool) {
    let bytes = text.as_bytes();
    if !found(from) {
        return;
    }
    let mut scanner = Scanner::default();
    let (mut at, mut line) = (from.byte, from.line);
    // Whether the current item holds a statement yet, and whether all of its
    // statements so far are decorators.
    let mut has_statement = false;
    let mut only_decorators = false;
    while at < bytes.len() {
        let clean = scanner.is_clean();
        let first = bytes[at];
        let starts_statement = !matches!(first, b' ' | b'\t' | b'\x0c' | b'\r' | b'\n' | b'#');
        let recovers = !clean && scanner.may_recover() && starts_definition(&bytes[at..]);
        if starts_statement && (clean || recovers) {
            if recovers {
                scanner = Scanner::default();
            }
            let decorator = first == b'@';
            let continues = starts_with_keyword(&bytes[at..], &CONTINUATIONS);
            let decorated = only_decorators && !decorator;
            if has_statement && !continues && !(only_decorators && (decorator || decorated)) {
                if !found(ItemStart { byte: at, line }) {
                    return;
                }
                only_decorators = decorator;
            } else if !has_statement {
                only_decorators = decorator;
            } else if decorated {
                only_decorators = false;
            }
            has_statement = true;
        }
        at = scanner.scan_line(bytes, at);
        line += 1;
    }
}

/// Whether `line` begins with one of `keywords` as a whole word.
pub(crate) fn starts_with_keyword(line: &[u8], keywords: &[&[u8]]) -> bool {
    keywords.iter().any(|keyword| {
        line.starts_with(keyword)
            && line.get(keyword.len()).is_none_or(|next| {
                !(next.is_ascii_alphanumeric() || *next == b'_' || *next >= 0x80)
            })
    })
}

fn starts_definition(line: &[u8]) -> bool {
    starts_with_keyword(line, &DEFINITIONS)
        && (!line.starts_with(b"async") || line[5..].trim_ascii_start().starts_with(b"def"))
}

/// The bytes that change the scanner's state outside strings.
const SIGNIFICANT: [bool; 256] = {
    let mut table = [false; 256];
    let bytes = *b"\n#\\([{)]}\"'";
    let mut index = 0;
    while index < bytes.len() {
        table[bytes[index] as usize] = true;
        index += 1;
    }
    table
};

/// The lexical state carried from one line to the next.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Scanner {
    /// Open brackets.
    depth: usize,
    /// Inside a string: its quote and whether it is triple-quoted.
    string: Option<(u8, bool)>,
    /// The line ended in a backslash outside a string.
    continued: bool,
    /// Where the last line read had a comment.
    comment: Option<usize>,
}

impl Scanner {
    /// At a line start where a new statement may begin.
    pub(crate) fn is_clean(&self) -> bool {
        self.depth == 0 && self.string.is_none() && !self.continued
    }

    /// Only open brackets hold the line (a string or a continuation holds it for sure).
    fn may_recover(&self) -> bool {
        self.string.is_none() && !self.continued
    }

    /// Read the line starting at `at`; returns where the next line starts.
    fn scan_line(&mut self, bytes: &[u8], at: usize) -> usize {
        self.scan::<false>(bytes, at, &mut |_, _, _| {})
    }

    /// `scan_line`, telling `code` of each byte outside strings and comment text, and of
    /// the quote that closes a string, with the bracket depth before it:
    /// `(offset, byte, depth)`.
    pub(crate) fn scan_line_with(
        &mut self,
        bytes: &[u8],
        at: usize,
        code: &mut impl FnMut(usize, u8, usize),
    ) -> usize {
        self.scan::<true>(bytes, at, code)
    }

    /// `scan_line_with`; when `code` wants no bytes (`!TELLS_CODE`), the bytes that
    /// change nothing are skipped without a look at each one's meaning.
    fn scan<const TELLS_CODE: bool>(
        &mut self,
        bytes: &[u8],
        mut at: usize,
        code: &mut impl FnMut(usize, u8, usize),
    ) -> usize {
        self.continued = false;
        self.comment = None;
        while at < bytes.len() {
            let byte = bytes[at];
            if let Some((quote, triple)) = self.string {
                // Nothing but a quote, a backslash or a line break matters in a string.
                let Some(skip) = memchr::memchr3(quote, b'\\', b'\n', &bytes[at..]) else {
                    return bytes.len();
                };
                at += skip;
                let byte = bytes[at];
                match byte {
                    // Escapes the next byte; an escaped line break continues the string.
                    b'\\' => match &bytes[at + 1..] {
                        [b'\n', ..] => return at + 2,
                        [b'\r', b'\n', ..] => return at + 3,
                        _ => at += 1,
                    },
                    b'\n' if !triple => {
                        self.string = None; // unterminated: the grammar ends it here too
                        return at + 1;
                    }
                    b'\n' => return at + 1,
                    _ if byte == quote => {
                        if !triple {
                            self.string = None;
                        } else if bytes.get(at + 1..at + 3) == Some(&[quote, quote]) {
                            self.string = None;
                            at += 2;
                        }
                        if self.string.is_none() {
                            code(at, byte, self.depth); // the closing quote
                        }
                    }
                    _ => {}
                }
                at += 1;
                continue;
            }
            if !TELLS_CODE && !SIGNIFICANT[usize::from(byte)] {
                at += 1;
                while at < bytes.len() && !SIGNIFICANT[usize::from(bytes[at])] {
                    at += 1;
                }
                continue;
            }
            code(at, byte, self.depth);
            match byte {
                b'\n' => return at + 1,
                b'#' => {
                    self.comment = Some(at);
                    return match memchr::memchr(b'\n', &bytes[at..]) {
                        Some(offset) => at + offset + 1,
                        None => bytes.len(),
                    };
                }
                b'\\' => {
                    let rest = &bytes[at + 1..];
                    if rest.starts_with(b"\n") || rest.starts_with(b"\r\n") {
                        self.continued = true;
                        return at + 1 + rest.iter().position(|b| *b == b'\n').unwrap_or(0) + 1;
                    }
                }
                b'(' | b'[' | b'{' => self.depth += 1,
                b')' | b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                b'"' | b'\'' => {
                    let triple = bytes.get(at + 1..at + 3) == Some(&[byte, byte]);
                    self.string = Some((byte, triple));
                    if triple {
                        at += 2;
                    }
                }
                _ => {}
            }
            at += 1;
        }
        bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The comments the text scan finds are the comment tokens of Ruff's lexer.
    #[test]
    fn comments_are_the_parsers_comments() {
        let text = "# head\nx = '#not' + \"\"\"\n# inside\n\"\"\"  # after\ndef f(a,  # arg\n      b):\n    return a  # type: ignore\r\ny = f'{1}#' # tail";
        let found: Vec<&str> = comments(text, 0..text.len())
            .into_iter()
            .map(|range| &text[range])
            .collect();
        let parsed = ruff_python_parser::parse_unchecked(
            text,
            ruff_python_parser::ParseOptions::from(ruff_python_parser::Mode::Module),
        );
        let expected: Vec<&str> = parsed
            .tokens()
            .iter()
            .filter(|token| token.kind() == ruff_python_ast::token::TokenKind::Comment)
            .map(|token| {
                let range = ruff_text_size::Ranged::range(token);
                &text[usize::from(range.start())..usize::from(range.end())]
            })
            .collect();
        assert_eq!(found, expected);
        assert_eq!(found.len(), 5);
    }

    fn items(text: &str) -> Vec<&str> {
        let starts = item_starts(text);
        let mut out = Vec::new();
        for (index, start) in starts.iter().enumerate() {
            let end = starts.get(index + 1).map_or(text.len(), |next| next.byte);
            out.push(&text[start.byte..end]);
        }
        out
    }

    #[test]
    fn splits_at_top_level_statements() {
        let text = "# header\nimport os\n\nx = (1,\n2)\n\n@app.get('/')\n# note\n@auth\nasync def f():\n    pass\n# trailing\nclass A:\n    s = '''\nnot: an item\n'''\nif x:\n    pass\nelse:\n    pass\ny = 1 \\\n+ 2\n";
        assert_eq!(
            items(text),
            [
                "# header\nimport os\n\n",
                "x = (1,\n2)\n\n",
                "@app.get('/')\n# note\n@auth\nasync def f():\n    pass\n# trailing\n",
                "class A:\n    s = '''\nnot: an item\n'''\n",
                "if x:\n    pass\nelse:\n    pass\n",
                "y = 1 \\\n+ 2\n",
            ]
        );
        let lines: Vec<usize> = item_starts(text).iter().map(|start| start.line).collect();
        assert_eq!(lines, [0, 3, 6, 12, 16, 20]);
    }

    #[test]
    fn an_open_bracket_holds_until_a_definition() {
        let text = "def f():\n    g(\n\nx = 1\ndef h():\n    pass\n";
        assert_eq!(
            items(text),
            ["def f():\n    g(\n\nx = 1\n", "def h():\n    pass\n"]
        );
    }

    #[test]
    fn strings_hold_brackets_and_comments_hold_quotes() {
        let text = "a = ')' # it's\nb = \"(\"\nc = f\"{d['(']}\"\n";
        assert_eq!(
            items(text),
            ["a = ')' # it's\n", "b = \"(\"\n", "c = f\"{d['(']}\"\n"]
        );
    }

    #[test]
    fn empty_and_comment_only_texts_are_one_item() {
        assert_eq!(items(""), [""]);
        assert_eq!(items("# only\n\n"), ["# only\n\n"]);
    }
}
