//! A Python item's statements as Ruff's parser reads them (`ruff_python_parser`): the
//! syntax the Python rules move onto, one at a time, from tree-sitter's (issue 13).
//!
//! Why a second parser: over Django 5.1.4, Ruff's parser reads the source 6-10x faster
//! than tree-sitter-python (BENCHMARKS.md), and the cold `check` budget cannot be met
//! while parsing costs more than Ruff's whole run. Its tree is typed (`Stmt`, `Expr`), so
//! a rule matches on node kinds the compiler checks.
//!
//! Each item is parsed alone from its own text, so its offsets are relative to the
//! item's start: a tree does not depend on where its item stands, and an edit above it
//! moves the item without touching its tree (the item's start is added when a rule
//! reports). An item is parsed the first time a rule asks for it.
//!
//! Ruff's parser grows its own stack as it recurses, but walking or dropping a tree
//! recurses once per level of nesting, and a single statement such as `x = 1 + 1 + ...`
//! nests once per operator. An item with a statement of more than
//! `MAX_STATEMENT_TOKENS` tokens is therefore not parsed (the rules on Ruff's tree
//! report nothing in it; the others still run), which bounds the depth of every tree.
//! The traversal grows its stack as it goes (`rules::python::checker`), and an item's
//! tree is dropped on a stack grown to its depth when the thread's is short; the
//! threads that audit get `AUDIT_STACK_BYTES`, so that they rarely need to.

use std::any::Any;
use std::sync::{Arc, OnceLock};

use ruff_python_ast::Suite;
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};

use super::python_items::Scanner;

/// The most tokens a logical line (one statement, or a compound statement's header) of
/// an item may hold to be parsed. Each level of a tree needs at least one token of its
/// line, so this bounds the depth of its expressions. The longest in Django 5.1.4 and
/// the repositories of our stack is about 3,700 tokens; a chain of 100,000 unary minus
/// signs, the deepest tree this admits, drops within 8 MiB.
pub const MAX_STATEMENT_TOKENS: usize = 100_000;

/// The stack the threads that audit Python get (the CLI's workers, the server's
/// runtime): room to drop the deepest tree `MAX_STATEMENT_TOKENS` admits.
pub const AUDIT_STACK_BYTES: usize = 64 * 1024 * 1024;

/// The byte range in the source of `node` of the item that starts at byte `base` (an
/// item's tree counts its offsets from the item's start).
pub fn source_range(base: usize, node: &impl ruff_text_size::Ranged) -> std::ops::Range<usize> {
    let range = node.range();
    base + usize::from(range.start())..base + usize::from(range.end())
}

/// Items longer than this have their statements' tokens counted (see `parse_item`).
const COUNT_TOKENS_ABOVE_BYTES: usize = 16 * 1024;

/// The stack one level of a tree may take while it is dropped (measured: under 300
/// bytes in a debug build).
const DROP_BYTES_PER_LEVEL: usize = 512;

/// An item's statements, with offsets from the item's start.
#[derive(Debug)]
pub struct ItemAst {
    pub body: Suite,
    /// Whether the parser met a syntax error (its tree then holds what it recovered).
    pub has_error: bool,
    /// How deep its tree may be: the tokens of its longest statement, or its bytes.
    deepest: usize,
    /// What the layers above read of the item, kept with it (`summary`).
    summary: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl ItemAst {
    /// What `compute` reads of this item, computed once and kept with its tree: an edit
    /// elsewhere in the module reuses it (one type per item: the Python rules' summary).
    pub fn summary<T: Any + Send + Sync>(&self, compute: impl FnOnce(&ItemAst) -> T) -> Option<&T> {
        self.summary
            .get_or_init(|| Box::new(compute(self)))
            .downcast_ref::<T>()
    }
}

impl Drop for ItemAst {
    /// Dropping recurses once per level: a tree deeper than what is left of this
    /// thread's stack is dropped on a stack of its own.
    fn drop(&mut self) {
        let body = std::mem::take(&mut self.body);
        let needed = self.deepest.saturating_mul(DROP_BYTES_PER_LEVEL) + 64 * 1024;
        stacker::maybe_grow(needed, needed, || drop(body));
    }
}

/// Parse the text of one item; `None` when a statement in it is too long to parse
/// safely (see the module docs).
pub fn parse_item(text: &str) -> Option<Arc<ItemAst>> {
    // A line holds fewer tokens than bytes: most items need no count. Large items are
    // counted even under the limit, so that the depth their drop prepares for is their
    // longest statement's, not their length (a 100 KB class of short statements).
    let deepest = if text.len() > COUNT_TOKENS_ABOVE_BYTES {
        let tokens = most_tokens_in_a_statement(text);
        if tokens > MAX_STATEMENT_TOKENS {
            tracing::debug!(tokens, "an item with a statement too long to parse");
            return None;
        }
        tokens
    } else {
        text.len()
    };
    let parsed = parse_unchecked(text, ParseOptions::from(Mode::Module));
    let has_error = !parsed.errors().is_empty();
    // The parse's tokens and errors are dropped here, its tree with them if not a module.
    let stack = deepest.saturating_mul(DROP_BYTES_PER_LEVEL) + 64 * 1024;
    let body = stacker::maybe_grow(stack, stack, || {
        parsed.try_into_module().map(|module| module.into_suite())
    })?;
    Some(Arc::new(ItemAst {
        body,
        has_error,
        deepest,
        summary: OnceLock::new(),
    }))
}

/// The tokens of the logical line of `text` that has the most (lines joined by open
/// brackets, strings or backslashes count as one): a run of name or number characters
/// is one, each other character outside strings and comments one, each string two (its
/// quotes): an upper bound of the tokens Python reads.
fn most_tokens_in_a_statement(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut scanner = Scanner::default();
    let (mut at, mut tokens, mut most) = (0, 0, 0);
    // Where the last name or number character stood, so a run counts once.
    let mut word_end = usize::MAX;
    while at < bytes.len() {
        at = scanner.scan_line_with(bytes, at, &mut |offset, byte, _| {
            let word = byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80;
            if word {
                if word_end != offset {
                    tokens += 1;
                }
                word_end = offset + 1;
            } else if !byte.is_ascii_whitespace() && byte != b'\\' && byte != b'#' {
                tokens += 1;
            }
        });
        if scanner.is_clean() {
            most = most.max(tokens);
            tokens = 0;
        }
    }
    most.max(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_parsed_with_offsets_from_its_start() {
        let item = parse_item("def f():\n    return g(1)\n").expect("parses");
        assert!(!item.has_error);
        assert_eq!(item.body.len(), 1);
        assert_eq!(
            u32::from(ruff_text_size::Ranged::range(&item.body[0]).start()),
            0
        );
        let broken = parse_item("def f(:\n    pass\n").expect("parses what it can");
        assert!(broken.has_error);
    }

    /// A statement nested once per operator, far deeper than any real code, is not
    /// parsed; the same tokens spread over many statements are, and a long chain of
    /// method calls (several tokens per level) is too.
    #[test]
    fn a_statement_too_long_to_walk_safely_is_not_parsed() {
        let chain = format!(
            "x = {}\n",
            vec!["1"; MAX_STATEMENT_TOKENS / 2 + 1].join("+")
        );
        assert!(parse_item(&chain).is_none());
        let many = "x = 1 + 2\n".repeat(MAX_STATEMENT_TOKENS / 5);
        assert!(parse_item(&many).is_some_and(|item| item.body.len() == MAX_STATEMENT_TOKENS / 5));
        let calls = format!(
            "r{}.set(1)\n",
            ".pipeline()".repeat(MAX_STATEMENT_TOKENS / 5)
        );
        assert!(calls.len() > MAX_STATEMENT_TOKENS && parse_item(&calls).is_some());
        let in_brackets = format!("x = [\n{}]\n", "1,\n".repeat(MAX_STATEMENT_TOKENS));
        assert_eq!(
            most_tokens_in_a_statement(&in_brackets),
            2 * MAX_STATEMENT_TOKENS + 4
        );
        let strings = format!("x = [{}]\n", "'a long string, one token', ".repeat(1_000));
        assert_eq!(most_tokens_in_a_statement(&strings), 3_000 + 4);
    }
}
