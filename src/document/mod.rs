//! A document as the server holds it: a rope for cheap edits, the tree-sitter tree kept
//! in step with it by incremental re-parsing, the version and the language.
//!
//! Owns parsing (thread-local parsers per language). Must not know about rules or LSP
//! messages beyond the content-change events it applies.

pub mod parser_limits;
pub mod position;
pub mod source_text;

use std::cell::RefCell;
use std::collections::HashMap;

use ropey::Rope;
use tower_lsp_server::ls_types::TextDocumentContentChangeEvent;
use tree_sitter::{InputEdit, Parser, Tree};

use crate::language::Language;
use position::{Encoding, offsets_of, point_of};

thread_local! {
    static PARSERS: RefCell<HashMap<Language, Parser>> = RefCell::new(HashMap::new());
}

/// Parse `read` (a chunk reader) with this thread's parser for `language`.
fn parse_chunks<T: AsRef<[u8]>>(
    language: Language,
    read: &mut impl FnMut(usize, tree_sitter::Point) -> T,
    old_tree: Option<&Tree>,
) -> Option<Tree> {
    PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let parser = match parsers.entry(language) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let mut parser = Parser::new();
                if let Err(error) = parser.set_language(&language.grammar()) {
                    tracing::error!(%error, language = language.name(), "grammar does not load");
                    return None;
                }
                entry.insert(parser)
            }
        };
        parser.parse_with_options(read, old_tree, None)
    })
}

/// Parse a whole string from scratch (the CLI and fresh opens). `None` for a text the
/// grammar cannot take safely (`parser_limits`).
pub fn parse_text(language: Language, text: &str) -> Option<Tree> {
    let bytes = text.as_bytes();
    if let Err(too_deep) = parser_limits::check(language, [bytes]) {
        tracing::debug!(%too_deep, "not parsed");
        return None;
    }
    parse_chunks(
        language,
        &mut |offset, _| bytes.get(offset..).unwrap_or_default(),
        None,
    )
}

fn parse_rope(language: Language, rope: &Rope, old_tree: Option<&Tree>) -> Option<Tree> {
    if let Err(too_deep) = parser_limits::check(language, rope.chunks().map(str::as_bytes)) {
        tracing::debug!(%too_deep, "not parsed");
        return None;
    }
    parse_chunks(
        language,
        &mut |offset, _| {
            if offset >= rope.len_bytes() {
                return &[][..];
            }
            let (chunk, chunk_start, _, _) = rope.chunk_at_byte(offset);
            &chunk.as_bytes()[offset - chunk_start..]
        },
        old_tree,
    )
}

#[derive(Debug, Clone)]
pub struct Document {
    pub rope: Rope,
    pub tree: Option<Tree>,
    pub version: i32,
    pub language: Language,
    /// While a first parse runs elsewhere (`new_unparsed`): the edits made to the text
    /// since, to replay on its tree. `None` once the tree is in step with the text.
    edits_since_parse: Option<Vec<InputEdit>>,
    /// The tree was dropped to save memory (`evict_tree`): the next change parses the
    /// text afresh, and `tree_or_parse` parses it for a one-off use meanwhile.
    evicted: bool,
}

impl Document {
    pub fn new(text: &str, version: i32, language: Language) -> Document {
        let rope = Rope::from_str(text);
        let tree = parse_rope(language, &rope, None);
        Document {
            rope,
            tree,
            version,
            language,
            edits_since_parse: None,
            evicted: false,
        }
    }

    /// A document whose first parse the caller runs elsewhere (`parse_detached` on
    /// another thread, then `adopt_tree`): a large file must not hold up the server.
    pub fn new_unparsed(text: &str, version: i32, language: Language) -> Document {
        Document {
            rope: Rope::from_str(text),
            tree: None,
            version,
            language,
            edits_since_parse: Some(Vec::new()),
            evicted: false,
        }
    }

    /// Whether the first parse is still running elsewhere.
    pub fn is_parsing(&self) -> bool {
        self.edits_since_parse.is_some()
    }

    /// Drop the tree of a document nobody is editing: a tree costs far more memory than
    /// the text (an editor keeps hundreds of documents open). The text stays; the next
    /// change parses it whole.
    pub fn evict_tree(&mut self) {
        if self.tree.is_some() && !self.is_parsing() {
            self.tree = None;
            self.evicted = true;
        }
    }

    /// Whether the tree was evicted (the text was parseable when it was).
    pub fn is_evicted(&self) -> bool {
        self.evicted
    }

    /// The tree, or for an evicted document a fresh parse of its text that is not kept.
    pub fn tree_or_parse(&self) -> Option<std::borrow::Cow<'_, Tree>> {
        match &self.tree {
            Some(tree) => Some(std::borrow::Cow::Borrowed(tree)),
            None if self.evicted => {
                parse_rope(self.language, &self.rope, None).map(std::borrow::Cow::Owned)
            }
            None => None,
        }
    }

    /// The full parse of the current text, for `adopt_tree` (call it off the server's
    /// threads; the rope is a cheap snapshot).
    pub fn parse_detached(language: Language, rope: &Rope) -> Option<Tree> {
        parse_rope(language, rope, None)
    }

    /// Take the tree of a detached parse of this document's text as it was when the
    /// parse began: replay the edits made since on it and re-parse incrementally.
    pub fn adopt_tree(&mut self, tree: Option<Tree>) {
        let Some(edits) = self.edits_since_parse.take() else {
            return; // already parsed
        };
        self.tree = match tree {
            Some(mut tree) if !edits.is_empty() => {
                for edit in &edits {
                    tree.edit(edit);
                }
                parse_rope(self.language, &self.rope, Some(&tree))
            }
            Some(tree) => Some(tree),
            None => parse_rope(self.language, &self.rope, None),
        };
    }

    /// Apply LSP content changes in order (ranged ones incrementally, a range-less one
    /// replaces the text), then re-parse once, reusing the edited old tree.
    pub fn apply_changes(
        &mut self,
        changes: &[TextDocumentContentChangeEvent],
        version: i32,
        encoding: Encoding,
    ) {
        let mut full_reparse = false;
        for change in changes {
            match change.range {
                Some(range) => {
                    let bytes = offsets_of(&self.rope, range, encoding);
                    self.replace(bytes, &change.text);
                }
                None => {
                    let whole = 0..self.rope.len_bytes();
                    if self.is_parsing() {
                        self.replace(whole, &change.text); // recorded for the replay
                    } else {
                        self.rope = Rope::from_str(&change.text);
                        full_reparse = true;
                    }
                }
            }
        }
        self.version = version;
        if self.is_parsing() {
            return; // `adopt_tree` re-parses once the first parse is back
        }
        let old_tree = if full_reparse || self.evicted {
            None
        } else {
            self.tree.as_ref()
        };
        self.tree = parse_rope(self.language, &self.rope, old_tree);
        self.evicted = false;
    }

    /// Replace a byte range in the rope and tell the tree about it (no re-parse).
    pub fn replace(&mut self, bytes: std::ops::Range<usize>, new_text: &str) {
        let start_position = point_of(&self.rope, bytes.start);
        let old_end_position = point_of(&self.rope, bytes.end);
        let start_char = self.rope.byte_to_char(bytes.start);
        let end_char = self.rope.byte_to_char(bytes.end);
        self.rope.remove(start_char..end_char);
        self.rope.insert(start_char, new_text);
        let new_end_byte = bytes.start + new_text.len();
        let edit = InputEdit {
            start_byte: bytes.start,
            old_end_byte: bytes.end,
            new_end_byte,
            start_position,
            old_end_position,
            new_end_position: point_of(&self.rope, new_end_byte),
        };
        if let Some(tree) = self.tree.as_mut() {
            tree.edit(&edit);
        }
        if let Some(edits) = self.edits_since_parse.as_mut() {
            edits.push(edit);
        }
    }

    pub fn text(&self) -> String {
        self.rope.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::ls_types::{Position, Range};

    fn change(start: (u32, u32), end: (u32, u32), text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(
                Position::new(start.0, start.1),
                Position::new(end.0, end.1),
            )),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn incremental_edit_matches_a_fresh_parse() {
        let mut document = Document::new("def f():\n    return 1\n", 1, Language::Python);
        document.apply_changes(&[change((1, 11), (1, 12), "\"😀\"")], 2, Encoding::Utf16);
        let fresh = Document::new(&document.text(), 2, Language::Python);
        assert_eq!(document.text(), "def f():\n    return \"😀\"\n");
        assert_eq!(
            document.tree.as_ref().map(|t| t.root_node().to_sexp()),
            fresh.tree.as_ref().map(|t| t.root_node().to_sexp())
        );
    }

    #[test]
    fn an_evicted_tree_comes_back_on_the_next_change() {
        let mut document = Document::new("def f():\n    return 1\n", 1, Language::Python);
        document.evict_tree();
        assert!(document.tree.is_none() && document.is_evicted());
        let one_off = document
            .tree_or_parse()
            .map(|tree| tree.root_node().to_sexp());
        document.apply_changes(&[change((1, 11), (1, 12), "2")], 2, Encoding::Utf8);
        assert!(!document.is_evicted());
        let fresh = Document::new(&document.text(), 2, Language::Python);
        let sexp = |document: &Document| document.tree.as_ref().map(|t| t.root_node().to_sexp());
        assert_eq!(sexp(&document), sexp(&fresh));
        assert_eq!(one_off, sexp(&fresh));
    }
}
