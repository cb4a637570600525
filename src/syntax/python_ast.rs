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
//! Ruff's parser grows its own stack as it recurses, but dropping or walking a tree
//! recurses once per level of nesting, and a single statement such as `x = 1 + 1 + ...`
//! nests once per operator. A statement longer than `MAX_STATEMENT_BYTES` is therefore
//! not parsed (such an item is left to the rules that read the text), which bounds the
//! depth of every tree well within the stacks of the threads that audit
//! (`AUDIT_STACK_BYTES`).

use std::sync::Arc;

use ruff_python_ast::Suite;
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};

use super::python_items::Scanner;

/// The longest logical line (one statement, or a compound statement's header) an item
/// may hold to be parsed. Each level of a tree needs at least one byte of its line, so
/// this bounds the depth of its expressions. The longest in Django 5.1.4 and the
/// repositories of our stack is about 3,700 tokens; a chain of 100,000
/// unary minus signs, the deepest tree this admits, drops within 8 MiB.
pub const MAX_STATEMENT_BYTES: usize = 100_000;

/// The stack the threads that audit Python get (the CLI's workers, the server's
/// runtime): room for trees `MAX_STATEMENT_BYTES` deep to be walked and dropped.
pub const AUDIT_STACK_BYTES: usize = 64 * 1024 * 1024;

/// An item's statements, with offsets from the item's start.
#[derive(Debug)]
pub struct ItemAst {
    pub body: Suite,
    /// Whether the parser met a syntax error (its tree then holds what it recovered).
    pub has_error: bool,
}

/// Parse the text of one item; `None` when a statement in it is too long to parse
/// safely (see the module docs).
pub fn parse_item(text: &str) -> Option<Arc<ItemAst>> {
    if text.len() > MAX_STATEMENT_BYTES && longest_statement(text) > MAX_STATEMENT_BYTES {
        tracing::debug!(
            bytes = text.len(),
            "an item with a statement too long to parse"
        );
        return None;
    }
    let parsed = parse_unchecked(text, ParseOptions::from(Mode::Module));
    let has_error = !parsed.errors().is_empty();
    let body = parsed.try_into_module()?.into_suite();
    Some(Arc::new(ItemAst { body, has_error }))
}

/// The bytes of the longest logical line of `text` (lines joined by open brackets,
/// strings or backslashes count as one).
fn longest_statement(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut scanner = Scanner::default();
    let (mut at, mut statement_start, mut longest) = (0, 0, 0);
    while at < bytes.len() {
        at = scanner.scan_line_with(bytes, at, &mut |_, _, _| {});
        if scanner.is_clean() {
            longest = longest.max(at - statement_start);
            statement_start = at;
        }
    }
    longest.max(at - statement_start)
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
    /// parsed; the same bytes spread over many statements are.
    #[test]
    fn a_statement_too_long_to_walk_safely_is_not_parsed() {
        let chain = format!("x = {}\n", vec!["1"; MAX_STATEMENT_BYTES / 2].join("+"));
        assert!(parse_item(&chain).is_none());
        let many = "x = 1 + 2\n".repeat(MAX_STATEMENT_BYTES / 5);
        assert!(parse_item(&many).is_some_and(|item| item.body.len() == MAX_STATEMENT_BYTES / 5));
        let in_brackets = format!("x = [\n{}]\n", "1,\n".repeat(MAX_STATEMENT_BYTES));
        assert_eq!(longest_statement(&in_brackets), in_brackets.len());
    }
}
