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

use ruff_python_ast::{Stmt, Suite};
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};
use ruff_text_size::Ranged;

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

/// A parse of an item before an edit, and where the edit starts (from the item's start;
/// the text before it is unchanged): what `parse_item_after_edit` may reuse.
#[derive(Debug)]
pub struct EarlierParse {
    pub ast: Arc<ItemAst>,
    pub edit_start: usize,
    /// Where the edited text ends now (from the item's start).
    pub edit_end: usize,
    /// How many bytes longer the item's text is now.
    pub delta: isize,
}

/// Items shorter than this are parsed whole after an edit (the reuse costs more).
pub const REUSE_HEAD_ABOVE_BYTES: usize = 16 * 1024;

/// Parse an item's text after an edit. A large function or class keeps the statements
/// of its body that end on a line before the edit (a keystroke in a 1,000-line
/// `upgrade()` parses from the edited statement on): they are parsed from text the
/// edit did not touch, at offsets it did not move. The rest is parsed from the item's
/// text with those statements blanked out, so every offset is the fresh parse's.
pub fn parse_item_after_edit(text: &str, earlier: &EarlierParse) -> Option<Arc<ItemAst>> {
    parse_after_kept_head(text, earlier).or_else(|| parse_item(text))
}

fn parse_after_kept_head(text: &str, earlier: &EarlierParse) -> Option<Arc<ItemAst>> {
    let old = &earlier.ast;
    if old.has_error || text.len() < REUSE_HEAD_ABOVE_BYTES {
        return None;
    }
    let [old_statement] = old.body.as_slice() else {
        return None;
    };
    let old_body = body_of(old_statement)?;
    let edited_line = line_start(text, earlier.edit_start.min(text.len()));
    // The kept statements end before the edited line, and the next one starts on a
    // line of its own (not `a; b`): the cut is that line's start. The last statement
    // is never kept, so that the parsed body is never empty (an edit after it, in the
    // item's trailing lines, may add to it).
    let mut kept = old_body
        .partition_point(|statement| end_of(statement) <= edited_line)
        .min(old_body.len() - 1);
    let cut = loop {
        if kept == 0 {
            return None;
        }
        let next_start = old_body
            .get(kept)
            .map_or(edited_line, |next| start_of(next).min(edited_line));
        let cut = line_start(text, next_start);
        if end_of(&old_body[kept - 1]) <= cut {
            break cut;
        }
        kept -= 1;
    };
    // A backslash after the last kept statement could join it to the edited line.
    if text.get(end_of(&old_body[kept - 1])..cut)?.contains('\\') {
        return None;
    }
    let first = start_of(&old_body[0]);
    let mut blanked = text.as_bytes().to_vec();
    for byte in blanked.get_mut(first..cut)? {
        if *byte != b'\n' && *byte != b'\r' {
            *byte = b' ';
        }
    }
    // Whole characters between two character boundaries became spaces.
    let blanked = String::from_utf8(blanked).ok()?;
    // An edit that leaves a syntax error (half the keystrokes) is parsed whole, for the
    // fresh parse's error recovery: the edited statements alone tell, at little cost.
    if let Some(unaffected) = first_unaffected_line(text, old_body, earlier)
        && unaffected > cut
        && parse_item(&blanked[..unaffected]).is_none_or(|edited| edited.has_error)
    {
        return None;
    }
    let mut parsed = parse_item(&blanked)?;
    if parsed.has_error {
        return None;
    }
    let item = Arc::get_mut(&mut parsed)?;
    let [new_statement] = item.body.as_mut_slice() else {
        return None;
    };
    if std::mem::discriminant(new_statement) != std::mem::discriminant(old_statement) {
        return None;
    }
    if body_of(new_statement)?
        .first()
        .is_some_and(|statement| start_of(statement) < cut)
    {
        return None;
    }
    match new_statement {
        Stmt::FunctionDef(function) => put_before(&mut function.body, &old_body[..kept]),
        Stmt::ClassDef(class) => put_before(&mut class.body, &old_body[..kept]),
        _ => return None,
    }
    // The kept statements' depth was counted in the earlier parse.
    item.deepest = item.deepest.max(old.deepest);
    Some(parsed)
}

/// The start of the line of the first statement of the old body that stands wholly
/// after the edit (where it stands now), when it starts a line after the edit.
fn first_unaffected_line(text: &str, old_body: &[Stmt], earlier: &EarlierParse) -> Option<usize> {
    let old_edit_end = earlier.edit_end.checked_add_signed(-earlier.delta)?;
    let next = old_body.partition_point(|statement| start_of(statement) < old_edit_end);
    let now = start_of(old_body.get(next)?).checked_add_signed(earlier.delta)?;
    let line = line_start(text, now.min(text.len()));
    (line >= earlier.edit_end).then_some(line)
}

fn body_of(statement: &Stmt) -> Option<&[Stmt]> {
    match statement {
        Stmt::FunctionDef(function) => Some(&function.body),
        Stmt::ClassDef(class) => Some(&class.body),
        _ => None,
    }
}

/// `kept` (cloned) then what `body` held.
fn put_before<Body>(body: &mut Body, kept: &[Stmt])
where
    Body: Default + Extend<Stmt> + IntoIterator<Item = Stmt>,
{
    let rest = std::mem::take(body);
    body.extend(kept.iter().cloned());
    body.extend(rest);
}

fn start_of(statement: &Stmt) -> usize {
    usize::from(statement.start())
}

fn end_of(statement: &Stmt) -> usize {
    usize::from(statement.end())
}

/// The start of the line that holds `offset` (`\n`, `\r\n` or `\r` end lines). Not
/// `rules::line_start`: the syntax layer sits below the rules, and Python's tokenizer
/// ends a line at a lone `\r` too, which the cut must respect.
fn line_start(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .and_then(|before| before.rfind(['\n', '\r']))
        .map_or(0, |end| end + 1)
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

    /// An edit in the middle of a large function keeps the statements before it, and
    /// the result is the fresh parse, offsets and all; where the edit leaves a syntax
    /// error, or the old statement before it may run on (a backslash), nothing is kept.
    #[test]
    fn a_large_body_keeps_the_statements_before_an_edit() {
        let body: String = (0..600)
            .map(|index| format!("    op.drop_column(\"t{index}\", \"c\")\n"))
            .collect();
        let before = format!("def upgrade():\n{body}");
        let earlier = |edit_start, edit_end, delta| EarlierParse {
            ast: parse_item(&before).expect("parses"),
            edit_start,
            edit_end,
            delta,
        };
        let edit_start = before.find("\"t300\"").expect("there");
        let after = format!(
            "{}x_{}",
            &before[..edit_start + 1],
            &before[edit_start + 1..]
        );
        let kept = parse_after_kept_head(&after, &earlier(edit_start + 1, edit_start + 3, 2))
            .expect("keeps");
        let fresh = parse_item(&after).expect("parses");
        assert_eq!(format!("{:?}", kept.body), format!("{:?}", fresh.body));
        assert!(!kept.has_error);

        let broken = format!("{}(x{}", &before[..edit_start], &before[edit_start..]);
        assert!(parse_after_kept_head(&broken, &earlier(edit_start, edit_start + 2, 2)).is_none());
        // A line continued onto a blank line: what is typed there joins the statement.
        let continued = before.replacen(
            "    op.drop_column(\"t300\", \"c\")\n",
            "    x = 1 \\\n\n",
            1,
        );
        assert!(!parse_item(&continued).expect("parses").has_error);
        let blank = continued.find("\\\n\n").expect("there") + 2;
        let typed = format!("{}    + 2{}", &continued[..blank], &continued[blank..]);
        let earlier = EarlierParse {
            ast: parse_item(&continued).expect("parses"),
            edit_start: blank,
            edit_end: blank + 7,
            delta: 7,
        };
        assert!(parse_after_kept_head(&typed, &earlier).is_none());
        assert_eq!(
            format!(
                "{:?}",
                parse_item_after_edit(&typed, &earlier).map(|ast| format!("{:?}", ast.body))
            ),
            format!(
                "{:?}",
                parse_item(&typed).map(|ast| format!("{:?}", ast.body))
            )
        );
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
