//! What the engine asks of a language: how its files are recognised, how its comments
//! are written (suppressions are comments), how its text splits into items, and what
//! parses an item. One module per language implements it (`syntax::python`,
//! `syntax::dockerfile`, `syntax::compose`); `Language::front_end` finds it. A language
//! is added by writing its module and naming it there: the document store, the
//! incremental re-parse, suppressions and the CLI's walk read only this interface.

use std::ops::Range;

pub trait FrontEnd: Sync {
    /// LSP `languageId`s of documents in this language.
    fn language_ids(&self) -> &'static [&'static str];

    /// Whether a file of this name (lower-cased, no directories) is in this language.
    fn claims_file_name(&self, lower_name: &str) -> bool;

    /// How comments are written.
    fn comments(&self) -> &'static CommentSyntax;

    /// How the text splits into items, each parsed alone.
    fn items(&self) -> Items;

    /// The tree-sitter grammar that parses an item; `None` for a language whose items
    /// its own parser reads, lazily (Python: Ruff's, `syntax::python_ast`).
    fn grammar(&self) -> Option<tree_sitter::Language>;

    /// The comments of `text[range]` (an item, or several), read from the text alone:
    /// what rules that need no tree read. This default finds whole-line comments only;
    /// a front end whose comments may follow code scans its own tokens.
    fn comment_ranges(&self, text: &str, range: Range<usize>) -> Vec<Range<usize>> {
        let comments = self.comments();
        let mut found = Vec::new();
        let mut line_start = range.start;
        let end = range.end.min(text.len());
        for line in text[range.start..end].split_inclusive('\n') {
            let content = line.trim_end_matches('\n');
            let indent = content.len() - content.trim_start().len();
            if comments
                .line
                .iter()
                .any(|opener| content[indent..].starts_with(opener))
            {
                found.push(line_start + indent..line_start + content.len());
            }
            line_start += line.len();
        }
        found
    }
}

/// How a text splits into items.
#[derive(Debug, Clone, Copy)]
pub enum Items {
    /// Statements found from the text alone (before any parse), each parsed on its own:
    /// an edit re-parses the statements it touched.
    Statements(ScanItems),
    /// The whole text is one item, re-parsed incrementally by its parser.
    Whole,
}

/// Report the item starts of a text from a given item start on (itself first), until
/// the callback says stop. An item start must be one in any text that agrees from
/// there on, so a re-split after an edit can begin at an unchanged item before it and
/// stop at the first start past it that was a start before.
pub type ScanItems = fn(&str, ItemStart, &mut dyn FnMut(ItemStart) -> bool);

/// Where an item starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemStart {
    pub byte: usize,
    /// 0-based line.
    pub line: usize,
}

/// Every item start of `text`.
pub fn item_starts(scan: ScanItems, text: &str) -> Vec<ItemStart> {
    let mut starts = Vec::new();
    scan(text, ItemStart { byte: 0, line: 0 }, &mut |start| {
        starts.push(start);
        true
    });
    starts
}

/// How a language writes comments.
#[derive(Debug)]
pub struct CommentSyntax {
    /// Openers of comments that run to the end of the line (`#`, `--`, `//`).
    pub line: &'static [&'static str],
    /// Openers and closers of comments that end where they say (`/*` `*/`, and JSX's
    /// `{/*` `*/}`).
    pub block: &'static [(&'static str, &'static str)],
    /// Whether a comment may follow code on its line (in a Dockerfile a `#` after an
    /// instruction is part of its arguments).
    pub trailing: bool,
}

impl CommentSyntax {
    /// The opener and closer a new comment is written with: the line comment if there
    /// is one, else the first block comment.
    pub fn new_comment(&self) -> (&'static str, &'static str) {
        match (self.line.first(), self.block.first()) {
            (Some(line), _) => (line, ""),
            (None, Some((open, close))) => (open, close),
            (None, None) => ("", ""),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::language::Language;

    /// The default scan finds whole-line comments, as a Dockerfile has them: a `#` after
    /// an instruction is part of its arguments.
    #[test]
    fn the_default_comment_scan_finds_whole_line_comments() {
        let text =
            "# syntax=docker/dockerfile:1\nFROM python:3.12\n  # indented\r\nRUN echo a # not\n";
        let found: Vec<&str> = Language::Dockerfile
            .front_end()
            .comment_ranges(text, 0..text.len())
            .into_iter()
            .map(|range| &text[range])
            .collect();
        assert_eq!(found, ["# syntax=docker/dockerfile:1", "# indented\r"]);
    }
}
