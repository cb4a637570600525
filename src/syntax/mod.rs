//! A source's syntax: its text split into items, each parsed on its own, and the
//! parsing that keeps them (thread-local tree-sitter parsers per language). Each
//! language's front end (`front_end`; `python`, `dockerfile`, `compose`) says how its
//! text splits into items and what parses them.
//!
//! A Python module's items are its top-level statements (`python_items`), found from
//! the text alone; Ruff's parser reads each alone, the first time a rule asks
//! (`python_ast`), with offsets from the item's start. A re-parse after an edit keeps
//! every item whose text is unchanged (its tree moves with it) and re-splits only the
//! text the edit touched. Dockerfiles and compose files are one item with a
//! tree-sitter tree, re-parsed by tree-sitter's own incremental parse.
//!
//! Owns parsing; knows nothing of rules, documents or LSP.

pub mod compose;
pub mod dockerfile;
pub mod front_end;
pub mod python;
pub mod python_ast;
pub mod python_items;
pub mod python_statements;
pub mod sql;
pub mod sql_items;
pub mod sql_mysql;
pub mod sql_statements;
pub mod sql_tokens;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use tree_sitter::{InputEdit, Node, Parser, Point, Tree};
use xxhash_rust::xxh3::xxh3_128;

use crate::document::parser_limits;
use crate::language::Language;
use front_end::{ItemStart, Items};
use python_ast::{EarlierParse, ItemAst};
use sql_statements::SqlItem;

thread_local! {
    static PARSERS: RefCell<HashMap<Language, Parser>> = RefCell::new(HashMap::new());
    /// Parser runs on this thread (the work count tests read).
    static PARSER_RUNS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many times this thread has run a parser: a count of work, for tests that hold
/// the engine to parsing only what it must.
pub fn parser_runs_on_this_thread() -> u64 {
    PARSER_RUNS.get()
}

/// One item: a byte range of the text and its tree.
#[derive(Debug, Clone)]
pub struct SyntaxItem {
    pub range: Range<usize>,
    /// 0-based line of `range.start`.
    pub line: usize,
    /// xxh3 of the item's text.
    pub hash: u128,
    /// The tree-sitter tree of a language parsed by tree-sitter (not Python's).
    pub tree: Option<Tree>,
    /// A Python item's statements as Ruff parses them (`python_ast`), parsed the first
    /// time a rule asks; shared by every later item with the same text (its offsets are
    /// from the item's start, so it moves with the item).
    ast: OnceLock<Option<Arc<ItemAst>>>,
    /// A SQL item's statements as PostgreSQL reads them (`sql_statements`), read the
    /// first time a rule asks; shared like `ast`.
    sql: OnceLock<Arc<SqlItem>>,
    /// The parse of this item before the edit that made it, until `python_ast` reads
    /// it (`python_ast::parse_item_after_edit`).
    earlier: Option<Arc<Mutex<Option<EarlierParse>>>>,
}

impl SyntaxItem {
    /// The item's statements as Ruff's parser reads them, from `text` (the source this
    /// syntax was parsed from); `None` for an item too deep to parse safely.
    pub fn python_ast(&self, text: &str) -> Option<&ItemAst> {
        self.ast
            .get_or_init(|| {
                PARSER_RUNS.set(PARSER_RUNS.get() + 1);
                let text = text.get(self.range.clone())?;
                let earlier = self
                    .earlier
                    .as_ref()
                    .and_then(|earlier| earlier.lock().ok()?.take());
                match earlier {
                    Some(earlier) => python_ast::parse_item_after_edit(text, &earlier),
                    None => python_ast::parse_item(text),
                }
            })
            .as_deref()
    }

    /// The item's SQL statements as PostgreSQL reads them, from `text` (the source
    /// this syntax was parsed from).
    pub fn sql(&self, text: &str) -> &SqlItem {
        self.sql.get_or_init(|| {
            PARSER_RUNS.set(PARSER_RUNS.get() + 1);
            Arc::new(SqlItem::read(text.get(self.range.clone()).unwrap_or("")))
        })
    }
}

#[derive(Debug, Clone)]
pub struct Syntax {
    language: Language,
    /// In text order; together they cover the whole text. Never empty. Shared: the
    /// server snapshots a document for every audit.
    items: Arc<Vec<SyntaxItem>>,
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
        Syntax::reparse_within_limits(language, text, old)
    }

    /// `parse` of a text that `parser_limits::check` has already passed (the CLI checks
    /// every file once, to report the ones it skips).
    pub fn parse_within_limits(language: Language, text: &str) -> Option<Syntax> {
        Syntax::reparse_within_limits(language, text, None)
    }

    fn reparse_within_limits(
        language: Language,
        text: &str,
        old: Option<&Syntax>,
    ) -> Option<Syntax> {
        let old = old.filter(|old| old.language == language);
        let Items::Statements(scan) = language.front_end().items() else {
            let old_tree = old
                .and_then(|old| old.items.first())
                .and_then(|item| item.tree.as_ref());
            let tree = Some(parse_range(language, text, None, old_tree)?);
            let item = SyntaxItem {
                range: 0..text.len(),
                line: 0,
                hash: xxh3_128(text.as_bytes()),
                tree,
                ast: OnceLock::new(),
                sql: OnceLock::new(),
                earlier: None,
            };
            return Some(Syntax {
                language,
                items: Arc::new(vec![item]),
            });
        };
        let reusable = reusable_trees(old.map_or(&[][..], |old| old.items.as_slice()));
        let starts = front_end::item_starts(scan, text);
        let mut items = Vec::with_capacity(starts.len());
        for (index, start) in starts.iter().enumerate() {
            let end = starts.get(index + 1).map_or(text.len(), |next| next.byte);
            items.push(item_at(language, text, *start, end, &reusable)?);
        }
        Some(Syntax {
            language,
            items: Arc::new(items),
        })
    }

    /// Parse `text`, the old syntax's text with the bytes `changed.range` of the new
    /// text in place of what stood there (the new text is `changed.delta` bytes longer):
    /// items before the change keep their trees, items after it keep theirs shifted,
    /// and only the items in between are split and parsed again.
    pub fn reparse_changed(
        language: Language,
        text: &str,
        old: &Syntax,
        changed: &Changed,
    ) -> Option<Syntax> {
        let Items::Statements(scan) = language.front_end().items() else {
            return Syntax::reparse(language, text, Some(old));
        };
        if old.language != language {
            return Syntax::reparse(language, text, Some(old));
        }
        let old_items = &old.items;
        // The item before the first one the change touches may take in what follows
        // it (a line turned into `else:` or a decorator), so the split starts there.
        let touched = old_items.partition_point(|item| item.range.end <= changed.range.start);
        let first = touched.saturating_sub(1).min(old_items.len() - 1);
        let from = ItemStart {
            byte: old_items[first].range.start,
            line: old_items[first].line,
        };
        let mut starts = Vec::new();
        let mut resync: Option<(usize, ItemStart)> = None;
        scan(text, from, &mut |start| {
            if start.byte >= changed.range.end && start.byte > from.byte {
                let old_byte = start.byte.checked_add_signed(-changed.delta);
                let old_index = old_byte.and_then(|old_byte| {
                    old_items
                        .binary_search_by_key(&old_byte, |item| item.range.start)
                        .ok()
                });
                if let Some(old_index) = old_index {
                    resync = Some((old_index, start));
                    return false;
                }
            }
            starts.push(start);
            true
        });
        let split_end = resync.map_or(text.len(), |(_, start)| start.byte);
        // The rest of the text passed this check before and is unchanged.
        if let Err(too_deep) =
            parser_limits::check(language, [&text.as_bytes()[from.byte..split_end]])
        {
            tracing::debug!(%too_deep, "not parsed");
            return None;
        }
        let resync_index = resync.map_or(old_items.len(), |(index, _)| index);
        let reusable = reusable_trees(&old_items[first..resync_index]);
        let mut items = Vec::with_capacity(old_items.len() + starts.len());
        items.extend_from_slice(&old_items[..first]);
        for (index, start) in starts.iter().enumerate() {
            let end = starts.get(index + 1).map_or(split_end, |next| next.byte);
            let mut item = item_at(language, text, *start, end, &reusable)?;
            if item.ast.get().is_none() {
                item.earlier = earlier_parse(&old_items[first..resync_index], &item, changed);
            }
            items.push(item);
        }
        if let Some((old_index, start)) = resync {
            let lines_moved = start.line as isize - old_items[old_index].line as isize;
            for item in &old_items[old_index..] {
                let (Some(byte), Some(line)) = (
                    item.range.start.checked_add_signed(changed.delta),
                    item.line.checked_add_signed(lines_moved),
                ) else {
                    return Syntax::reparse(language, text, Some(old));
                };
                let range = byte..item.range.end.checked_add_signed(changed.delta)?;
                // Error recovery depends on where the text stands (see `reusable_trees`).
                let moved = byte != item.range.start || line != item.line;
                let tree = match &item.tree {
                    Some(tree) if moved && tree.root_node().has_error() => {
                        Some(parse_range(language, text, Some((&range, line)), None)?)
                    }
                    _ => shifted(item, byte, line),
                };
                items.push(SyntaxItem {
                    range,
                    line,
                    hash: item.hash,
                    tree,
                    ast: item.ast.clone(),
                    sql: item.sql.clone(),
                    earlier: item.earlier.clone(),
                });
            }
        }
        Some(Syntax {
            language,
            items: Arc::new(items),
        })
    }

    /// Tell the syntax of an edit of its text before the next `reparse`. Items that are
    /// re-parsed whole need nothing; a single tree re-parsed incrementally is edited.
    pub fn edit(&mut self, edit: &InputEdit) {
        if let Items::Whole = self.language.front_end().items() {
            for item in Arc::make_mut(&mut self.items) {
                if let Some(tree) = item.tree.as_mut() {
                    tree.edit(edit);
                }
            }
        }
    }

    pub fn items(&self) -> &[SyntaxItem] {
        &self.items
    }

    /// The item whose text holds `byte` (the last item for the end of the text).
    pub fn item_at(&self, byte: usize) -> &SyntaxItem {
        let index = self.items.partition_point(|item| item.range.end <= byte);
        &self.items[index.min(self.items.len() - 1)]
    }

    /// The root of the first item's tree-sitter tree: a Dockerfile's or compose file's
    /// whole tree (a Python module has none).
    pub fn root(&self) -> Option<Node<'_>> {
        self.items[0].tree.as_ref().map(Tree::root_node)
    }

    /// Whether the parser met a syntax error in `text` (the text this syntax was
    /// parsed from); a Python item too deep to parse counts as one.
    pub fn has_error(&self, text: &str) -> bool {
        self.items.iter().any(|item| match &item.tree {
            Some(tree) => tree.root_node().has_error(),
            None if self.language == Language::Sql => item
                .sql(text)
                .statements
                .iter()
                .any(|statement| statement.rejection_as_written.is_some()),
            None => item.python_ast(text).is_none_or(|ast| ast.has_error),
        })
    }

    /// What the parser made of `text`, one item a line (tests compare it with a fresh
    /// parse): each tree-sitter tree as an S-expression, each Python item as its range
    /// and Ruff's tree.
    pub fn describe(&self, text: &str) -> String {
        self.items
            .iter()
            .map(|item| match &item.tree {
                Some(tree) => tree.root_node().to_sexp(),
                None if self.language == Language::Sql => format!(
                    "{:?} line {}: {:?}",
                    item.range,
                    item.line,
                    item.sql(text)
                        .statements
                        .iter()
                        .map(|statement| (&statement.range, &statement.rejection))
                        .collect::<Vec<_>>()
                ),
                None => format!(
                    "{:?} line {}: {:?}",
                    item.range,
                    item.line,
                    item.python_ast(text).map(|ast| &ast.body)
                ),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The changed part of a text since its last parse, as `Syntax::reparse_changed` reads
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// Bytes of the new text that replaced old ones (everything before and after it is
    /// the old text, the part after moved by `delta`).
    pub range: Range<usize>,
    pub delta: isize,
}

impl Changed {
    /// The change after `edit` is made too (edits in the order they were made).
    pub fn and(changed: Option<Changed>, edit: &InputEdit) -> Changed {
        let delta = edit.new_end_byte as isize - edit.old_end_byte as isize;
        let Some(changed) = changed else {
            return Changed {
                range: edit.start_byte..edit.new_end_byte,
                delta,
            };
        };
        // Where the end of the changed range went.
        let end = if changed.range.end >= edit.old_end_byte {
            changed.range.end.saturating_add_signed(delta)
        } else {
            changed.range.end.max(edit.new_end_byte)
        };
        Changed {
            range: changed.range.start.min(edit.start_byte)..end.max(edit.new_end_byte),
            delta: changed.delta + delta,
        }
    }
}

/// Old items whose trees a new item with the same text may take, by that text's hash.
/// Tree-sitter trees with syntax errors are parsed again: its error recovery can read
/// the same text differently at another offset (seen: a `return` statement read as a
/// keyword and an expression), and an item must parse as it would in a fresh parse of
/// the whole text. Ruff's parser reads an item alone, wherever it stands.
fn reusable_trees(old: &[SyntaxItem]) -> HashMap<u128, &SyntaxItem> {
    let mut reusable = HashMap::new();
    for item in old {
        if item
            .tree
            .as_ref()
            .is_none_or(|tree| !tree.root_node().has_error())
        {
            reusable.entry(item.hash).or_insert(item);
        }
    }
    reusable
}

/// The item of `text` from `start` to `end`: the tree of an old item with the same text
/// (shifted), else a fresh parse.
fn item_at(
    language: Language,
    text: &str,
    start: ItemStart,
    end: usize,
    reusable: &HashMap<u128, &SyntaxItem>,
) -> Option<SyntaxItem> {
    let range = start.byte..end;
    let hash = xxh3_128(text.as_bytes().get(range.clone())?);
    let (tree, ast, sql, earlier) = match reusable.get(&hash) {
        Some(old) => (
            shifted(old, start.byte, start.line),
            old.ast.clone(),
            old.sql.clone(),
            old.earlier.clone(),
        ),
        None if language.grammar().is_none() => (None, OnceLock::new(), OnceLock::new(), None),
        None => (
            Some(parse_range(
                language,
                text,
                Some((&range, start.line)),
                None,
            )?),
            OnceLock::new(),
            OnceLock::new(),
            None,
        ),
    };
    Some(SyntaxItem {
        range,
        line: start.line,
        hash,
        tree,
        ast,
        sql,
        earlier,
    })
}

/// The parse of the old item that `item` is after an edit within it (the same start,
/// the edit after it): a large item's parse keeps what stands before the edit.
fn earlier_parse(
    old_items: &[SyntaxItem],
    item: &SyntaxItem,
    changed: &Changed,
) -> Option<Arc<Mutex<Option<EarlierParse>>>> {
    // Kept only where it may be read: the old tree lives until the new item is parsed.
    if item.range.len() < python_ast::REUSE_HEAD_ABOVE_BYTES {
        return None;
    }
    let edit_start = changed.range.start.checked_sub(item.range.start)?;
    let edit_end = changed.range.end.checked_sub(item.range.start)?;
    let old = old_items
        .iter()
        .find(|old| old.range.start == item.range.start)?;
    if changed.range.start > old.range.end || changed.range.start > item.range.end {
        return None;
    }
    let ast = old.ast.get()?.clone()?;
    Some(Arc::new(Mutex::new(Some(EarlierParse {
        ast,
        edit_start,
        edit_end,
        delta: changed.delta,
    }))))
}

/// `old`'s tree moved so that its item starts at `byte`, on `line`.
fn shifted(old: &SyntaxItem, byte: usize, line: usize) -> Option<Tree> {
    let mut tree = old.tree.clone()?;
    if byte == old.range.start {
        return Some(tree);
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
    Some(tree)
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
                let Some(grammar) = language.grammar() else {
                    tracing::error!(language = language.name(), "no tree-sitter grammar");
                    return None;
                };
                if let Err(error) = parser.set_language(&grammar) {
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
        PARSER_RUNS.set(PARSER_RUNS.get() + 1);
        parser.parse(text, old_tree)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each item's statements, read alone, are the whole module's statements, at the
    /// same offsets.
    #[test]
    fn items_parse_as_the_whole_module_does() {
        use ruff_python_ast::comparable::ComparableStmt;
        use ruff_text_size::Ranged;
        let text = "import os\n\n\nclass A:\n    def f(self):\n        return os.getcwd()\n\n\n@dec\ndef g(x=(1,\n        2)):\n    pass\n";
        let syntax = Syntax::parse(Language::Python, text).expect("parses");
        assert_eq!(syntax.items().len(), 3);
        let whole = ruff_python_parser::parse_module(text).expect("parses");
        let expected: Vec<(ComparableStmt, usize, usize)> = whole
            .syntax()
            .body
            .iter()
            .map(|statement| {
                let range = statement.range();
                (
                    ComparableStmt::from(statement),
                    usize::from(range.start()),
                    usize::from(range.end()),
                )
            })
            .collect();
        let mut found = Vec::new();
        for item in syntax.items() {
            let ast = item.python_ast(text).expect("parses");
            for statement in &ast.body {
                let range = statement.range();
                found.push((
                    ComparableStmt::from(statement),
                    item.range.start + usize::from(range.start()),
                    item.range.start + usize::from(range.end()),
                ));
            }
        }
        assert_eq!(found, expected);
    }

    /// `text` with `edits` (byte range, new text) made in order, re-split and re-parsed
    /// after each through `reparse_changed`, then compared with a fresh parse.
    fn assert_edits_reparse_as_fresh(text: &str, edits: &[(Range<usize>, &str)]) {
        let mut text = text.to_string();
        let mut syntax = Syntax::parse(Language::Python, &text).expect("parses");
        for (range, insert) in edits {
            let edit = InputEdit {
                start_byte: range.start,
                old_end_byte: range.end,
                new_end_byte: range.start + insert.len(),
                start_position: Point::new(0, 0),
                old_end_position: Point::new(0, 0),
                new_end_position: Point::new(0, 0),
            };
            text.replace_range(range.clone(), insert);
            let changed = Changed::and(None, &edit);
            syntax = Syntax::reparse_changed(Language::Python, &text, &syntax, &changed)
                .expect("parses");
            let fresh = Syntax::parse(Language::Python, &text).expect("parses");
            let ranges = |syntax: &Syntax| -> Vec<Range<usize>> {
                syntax
                    .items()
                    .iter()
                    .map(|item| item.range.clone())
                    .collect()
            };
            assert_eq!(ranges(&syntax), ranges(&fresh), "items of {text:?}");
            assert_eq!(
                syntax.describe(&text),
                fresh.describe(&text),
                "trees of {text:?}"
            );
        }
    }

    #[test]
    fn edits_that_join_or_split_items_reparse_as_fresh() {
        let text = "import os\n\nif os.name:\n    x = 1\n\ny = 2\n\n\ndef f():\n    return 1\n\n\ndef g():\n    return 2\n";
        let y = text.find("y = 2").unwrap_or_default();
        let g = text.find("def g").unwrap_or_default();
        assert_edits_reparse_as_fresh(
            text,
            &[
                (y..y + 1, "else:\n    y"), // the `if` takes in what follows
                (y..y + 12, "y"),           // and gives it back
                (g..g, "@cache\n"),         // a decorator joins `def g`
                (g..g, "x = (\n"),          // an open bracket until the next `def`
                (g..g + 7, ""),
                (0..0, "\n\n\n"), // every item moves
                (0..3, ""),
            ],
        );
    }

    /// A module with a function and a class large enough that an edit inside them
    /// keeps the statements before it (`python_ast::parse_item_after_edit`).
    fn large_definitions() -> String {
        let mut text = String::from(
            "import sqlalchemy as sa\nfrom alembic import op\n\n\ndef upgrade():\n    \"\"\"Docstring.\"\"\"\n",
        );
        for table in 0..150 {
            text.push_str(&format!(
                "    op.create_table(\n        \"t{table}\",\n        sa.Column(\"id\", sa.Integer()),  # key\n    )\n    a = {table}; b = [a,\n 1]\n    x = a + \\\n        b[0]\n    # a comment\n\n    with op.batch_alter_table(\"t{table}\") as batch:\n        batch.drop_column(\"c\")\n    if a:\n        op.execute(f\"DROP TABLE {{a}}\")\n"
            ));
        }
        text.push_str("\n\nclass Model:\n");
        for method in 0..150 {
            text.push_str(&format!(
                "    def m{method}(self, x: int = {method}) -> int:\n        return x * 2\n\n"
            ));
        }
        text.push_str("\ndef downgrade():\n    pass\n");
        text
    }

    #[test]
    fn edits_inside_large_definitions_reparse_as_fresh() {
        let text = large_definitions();
        let at = |needle: &str| text.find(needle).unwrap_or_default();
        let middle = at("\"t75\"");
        let line = text[..middle].rfind('\n').unwrap_or_default() + 1;
        let method = at("    def m90");
        assert_edits_reparse_as_fresh(
            &text,
            &[
                (middle..middle, "x"),    // inside a call's argument
                (middle..middle + 1, ""), // and back
                (line..line, "\n"),       // a new line between two lines of a statement
                (line..line + 1, ""),
                (line..line, "    pass\n"), // a statement inside a call: an error
                (line..line + 9, ""),
                (method..method, "    y = 1\n"), // a statement between two methods
                (method..method, "  "),          // an indentation that matches nothing
                (method..method + 2, ""),
                (method..method, "x"), // dedented: the class ends here
                (method..method + 1, ""),
                (line..line, "("), // an open bracket swallows the rest
                (line..line + 1, ""),
                (line..line, "\"\"\""), // so does a string
                (line..line + 3, ""),
                (middle..middle, "\\\n"), // a backslash inside brackets
                (middle..middle + 2, ""),
                (at("def upgrade()") + 4..at("def upgrade()") + 4, "_"), // the header
            ],
        );
    }

    /// Edits at places chosen by a fixed pseudo-random sequence, of pieces that open,
    /// close and split statements: every reparse equals a fresh parse.
    #[test]
    fn random_edits_inside_large_definitions_reparse_as_fresh() {
        let text = large_definitions();
        let pieces = [
            "x",
            "1",
            " ",
            "\n",
            "    ",
            "(",
            ")",
            "\\",
            ":",
            ";",
            "\"",
            "#",
            "\n    y = 2\n",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound as u64) as usize
        };
        // Each edit is undone by the next, so that most start from code that parses.
        let mut edits = Vec::new();
        for _ in 0..150 {
            let start = next(text.len());
            let piece = pieces[next(pieces.len())];
            edits.push((start..start, piece));
            edits.push((start..start + piece.len(), ""));
        }
        assert_edits_reparse_as_fresh(&text, &edits);
    }

    #[test]
    fn a_reparse_keeps_unchanged_items_where_they_now_stand() {
        let before = "x = 1\n\n\ndef f():\n    return 1\n\n\ndef g():\n    return 2\n";
        let after = "x = 1\n\n\ndef f():\n    return 10\n    # more\n\n\ndef g():\n    return 2\n";
        let old = Syntax::parse(Language::Python, before).expect("parses");
        let old_last = old.items()[2].python_ast(before).expect("parses");
        let new = Syntax::reparse(Language::Python, after, Some(&old)).expect("parses");
        let fresh = Syntax::parse(Language::Python, after).expect("parses");
        assert_eq!(new.describe(after), fresh.describe(after));
        // The unchanged last item kept its tree (offsets from its start), not parsed again.
        let new_last = new.items()[2].python_ast(after).expect("parses");
        assert!(std::ptr::eq(old_last, new_last));
        assert_eq!(
            new.items()[2].range.start,
            after.find("def g").unwrap_or_default()
        );
    }
}
