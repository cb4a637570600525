//! A source's syntax: its text split into items, each with its own tree-sitter tree,
//! and the parsing that keeps them (thread-local parsers per language).
//!
//! A Python module's items are its top-level statements (`python_items`); each is
//! parsed alone, over the whole text with tree-sitter's included ranges, so its nodes
//! carry the module's byte offsets and rows. A re-parse after an edit keeps the tree of
//! every item whose text is unchanged (shifted to where it now stands) and parses only
//! the items the edit touched. Dockerfiles and compose files are one item, re-parsed by
//! tree-sitter's own incremental parse.
//!
//! Owns parsing; knows nothing of rules, documents or LSP.

pub mod python_items;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::{InputEdit, Node, Parser, Point, Tree};
use xxhash_rust::xxh3::xxh3_128;

use crate::document::parser_limits;
use crate::language::Language;

thread_local! {
    static PARSERS: RefCell<HashMap<Language, Parser>> = RefCell::new(HashMap::new());
}

/// One item: a byte range of the text and its tree.
#[derive(Debug, Clone)]
pub struct SyntaxItem {
    pub range: Range<usize>,
    /// 0-based line of `range.start`.
    pub line: usize,
    /// xxh3 of the item's text.
    pub hash: u128,
    pub tree: Tree,
}

#[derive(Debug, Clone)]
pub struct Syntax {
    language: Language,
    /// In text order; together they cover the whole text. Never empty.
    items: Vec<SyntaxItem>,
}

impl Syntax {
    /// Parse a whole text from scratch. `None` for a text the grammar cannot take
    /// safely (`parser_limits`) or a grammar that does not load.
    pub fn parse(language: Language, text: &str) -> Option<Syntax> {
        Syntax::reparse(language, text, None)
    }

    /// Parse `text`, reusing what `old` (the syntax of an earlier text of the same
    /// document, with `Syntax::edit` told of every change since) already parsed.
    pub fn reparse(language: Language, text: &str, old: Option<&Syntax>) -> Option<Syntax> {
        if let Err(too_deep) = parser_limits::check(language, [text.as_bytes()]) {
            tracing::debug!(%too_deep, "not parsed");
            return None;
        }
        let old = old.filter(|old| old.language == language);
        if language != Language::Python {
            let old_tree = old.and_then(|old| old.items.first()).map(|item| &item.tree);
            let tree = parse_range(language, text, None, old_tree)?;
            let item = SyntaxItem {
                range: 0..text.len(),
                line: 0,
                hash: xxh3_128(text.as_bytes()),
                tree,
            };
            return Some(Syntax {
                language,
                items: vec![item],
            });
        }
        // Trees with syntax errors are parsed again: tree-sitter's error recovery can
        // read the same text differently at another offset, and an item must parse as
        // it would in a fresh parse of the whole text.
        let mut reusable: HashMap<u128, &SyntaxItem> = HashMap::new();
        for item in old.map_or(&[][..], |old| &old.items) {
            if !item.tree.root_node().has_error() {
                reusable.entry(item.hash).or_insert(item);
            }
        }
        let starts = python_items::item_starts(text);
        let mut items = Vec::with_capacity(starts.len());
        for (index, start) in starts.iter().enumerate() {
            let end = starts.get(index + 1).map_or(text.len(), |next| next.byte);
            let range = start.byte..end;
            let hash = xxh3_128(&text.as_bytes()[range.clone()]);
            let tree = match reusable.get(&hash) {
                Some(old) => shifted(old, start.byte, start.line),
                None => parse_range(language, text, Some((&range, start.line)), None)?,
            };
            items.push(SyntaxItem {
                range,
                line: start.line,
                hash,
                tree,
            });
        }
        Some(Syntax { language, items })
    }

    /// Tell the syntax of an edit of its text before the next `reparse`. Items that are
    /// re-parsed whole need nothing; a single tree re-parsed incrementally is edited.
    pub fn edit(&mut self, edit: &InputEdit) {
        if self.language != Language::Python {
            for item in &mut self.items {
                item.tree.edit(edit);
            }
        }
    }

    pub fn language(&self) -> Language {
        self.language
    }

    pub fn items(&self) -> &[SyntaxItem] {
        &self.items
    }

    /// The item whose text holds `byte` (the last item for the end of the text).
    pub fn item_at(&self, byte: usize) -> &SyntaxItem {
        let index = self.items.partition_point(|item| item.range.end <= byte);
        &self.items[index.min(self.items.len() - 1)]
    }

    /// The node that stands for the whole source: the first item's root. Nodes of
    /// other items have their own roots; rules key the module's scope by this one.
    pub fn root(&self) -> Node<'_> {
        self.items[0].tree.root_node()
    }

    /// The roots of the items, in order.
    pub fn roots(&self) -> impl Iterator<Item = Node<'_>> {
        self.items.iter().map(|item| item.tree.root_node())
    }

    /// The top-level nodes of every item, in order (a module's statements and comments).
    pub fn top_level(&self) -> Vec<Node<'_>> {
        let mut nodes = Vec::with_capacity(self.items.len());
        for root in self.roots() {
            let mut cursor = root.walk();
            nodes.extend(root.children(&mut cursor));
        }
        nodes
    }

    pub fn has_error(&self) -> bool {
        self.roots().any(|root| root.has_error())
    }

    /// The S-expressions of the items' trees, one per line (tests compare them).
    pub fn to_sexp(&self) -> String {
        self.roots()
            .map(|root| root.to_sexp())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `old`'s tree moved so that its item starts at `byte`, on `line`.
fn shifted(old: &SyntaxItem, byte: usize, line: usize) -> Tree {
    let mut tree = old.tree.clone();
    if byte == old.range.start {
        return tree;
    }
    // What precedes the item is replaced, as if its text had changed from the old
    // prefix to the new one: every node moves by the same bytes and rows, and keeps
    // its column (items start in column 0).
    let edit = InputEdit {
        start_byte: 0,
        old_end_byte: old.range.start,
        new_end_byte: byte,
        start_position: Point::new(0, 0),
        old_end_position: Point::new(old.line, 0),
        new_end_position: Point::new(line, 0),
    };
    tree.edit(&edit);
    tree
}

/// Parse `text`, or only `range` of it (starting on `line`) when given, with this
/// thread's parser for `language`.
fn parse_range(
    language: Language,
    text: &str,
    range: Option<(&Range<usize>, usize)>,
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
        let included = match range {
            Some((range, line)) => {
                let item = &text[range.clone()];
                let rows = memchr::memchr_iter(b'\n', item.as_bytes()).count();
                let last_line_start = item.rfind('\n').map_or(0, |newline| newline + 1);
                vec![tree_sitter::Range {
                    start_byte: range.start,
                    end_byte: range.end,
                    start_point: Point::new(line, 0),
                    end_point: Point::new(line + rows, item.len() - last_line_start),
                }]
            }
            None => Vec::new(), // the whole text
        };
        if let Err(error) = parser.set_included_ranges(&included) {
            tracing::error!(%error, "included range rejected");
            return None;
        }
        parser.parse(text, old_tree)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_parse_as_the_whole_module_does() {
        let text = "import os\n\n\nclass A:\n    def f(self):\n        return os.getcwd()\n\n\n@dec\ndef g(x=(1,\n        2)):\n    pass\n";
        let syntax = Syntax::parse(Language::Python, text).expect("parses");
        assert_eq!(syntax.items().len(), 3);
        let mut parser = Parser::new();
        parser
            .set_language(&Language::Python.grammar())
            .expect("loads");
        let whole = parser.parse(text, None).expect("parses");
        let mut cursor = whole.root_node().walk();
        let expected: Vec<(String, Range<usize>, Point)> = whole
            .root_node()
            .children(&mut cursor)
            .map(|node| (node.to_sexp(), node.byte_range(), node.start_position()))
            .collect();
        let found: Vec<(String, Range<usize>, Point)> = syntax
            .top_level()
            .iter()
            .map(|node| (node.to_sexp(), node.byte_range(), node.start_position()))
            .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn a_reparse_keeps_unchanged_items_where_they_now_stand() {
        let before = "x = 1\n\n\ndef f():\n    return 1\n\n\ndef g():\n    return 2\n";
        let after = "x = 1\n\n\ndef f():\n    return 10\n    # more\n\n\ndef g():\n    return 2\n";
        let old = Syntax::parse(Language::Python, before).expect("parses");
        let new = Syntax::reparse(Language::Python, after, Some(&old)).expect("parses");
        let fresh = Syntax::parse(Language::Python, after).expect("parses");
        let shape = |syntax: &Syntax| -> Vec<(String, Range<usize>, Point, Point)> {
            let mut nodes = Vec::new();
            for root in syntax.roots() {
                crate::rules::walk_tree(root, |node| {
                    nodes.push((
                        node.kind().to_string(),
                        node.byte_range(),
                        node.start_position(),
                        node.end_position(),
                    ));
                });
            }
            nodes
        };
        assert_eq!(shape(&new), shape(&fresh));
        // The unchanged last item was shifted, not parsed again.
        assert_eq!(
            new.items()[2]
                .tree
                .root_node()
                .child(0)
                .map(|n| n.start_byte()),
            Some(after.find("def g").unwrap_or_default())
        );
    }
}
