//! The rule registry and the types every rule shares: what a finding is, what a fix is,
//! and the context a check function reads.
//!
//! One rule per file under `rules/<language>/`, each a `pub const RULE: Rule` with its
//! documentation as the file's `//!` comment (collected by `build.rs`), and one line in
//! `registry` that gives it its `RuleId`. Rules only read the source and tree they are
//! given; they never touch LSP types, files or configuration beyond `Context` (whose
//! `settings` are the resolved `RuleSettings`).

pub mod alembic;
pub mod docker;
pub mod generated;
pub mod postgres;
pub mod prefilter;
pub mod projections;
pub mod python;
pub mod query;
pub mod registry;
pub mod rule_set;
pub mod secrets;
pub mod settings;
pub mod sql;
pub mod words;

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tree_sitter::Node;

use crate::language::Language;
use crate::syntax::Syntax;
use crate::syntax::front_end::{Items, item_starts};
use settings::RuleSettings;

pub use registry::{ALL_RULES, RuleId};

include!(concat!(env!("OUT_DIR"), "/rule_docs.rs"));

/// The sections every rule's documentation has, in order.
pub const DOC_SECTIONS: [&str; 5] = [
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Fix safety",
];

/// Where users read a rule's documentation (the README's rule list anchors).
pub const DOCS_BASE_URL: &str = "https://github.com/stackaudit/stackaudit/blob/main/docs/rules.md#";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Hint => "hint",
        }
    }
}

/// Whether applying a fix can change what the program does beyond removing the finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    Safe,
    Unsafe,
}

/// Whether a rule's findings come with a fix, and how safe its fixes are: the one
/// source for `stackaudit rules`, the docs and the README's table. The fixture tests hold
/// every fix a rule makes to what it declares here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixAvailability {
    None,
    /// Some findings have a fix (others stand where no edit can be made safely).
    Sometimes(FixSafety),
    Always(FixSafety),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixSafety {
    Safe,
    Unsafe,
    /// Safe for some shapes of finding, unsafe for others.
    SafeOrUnsafe,
}

impl FixSafety {
    pub fn allows(self, applicability: Applicability) -> bool {
        matches!(
            (self, applicability),
            (FixSafety::SafeOrUnsafe, _)
                | (FixSafety::Safe, Applicability::Safe)
                | (FixSafety::Unsafe, Applicability::Unsafe)
        )
    }
}

impl FixAvailability {
    /// The words `stackaudit rules`, the docs and the README use.
    pub fn label(self) -> &'static str {
        match self {
            FixAvailability::None => "none",
            FixAvailability::Always(FixSafety::Safe) => "safe",
            FixAvailability::Always(FixSafety::Unsafe) => "unsafe",
            FixAvailability::Always(FixSafety::SafeOrUnsafe) => "safe or unsafe",
            FixAvailability::Sometimes(FixSafety::Safe) => "sometimes (safe)",
            FixAvailability::Sometimes(FixSafety::Unsafe) => "sometimes (unsafe)",
            FixAvailability::Sometimes(FixSafety::SafeOrUnsafe) => "sometimes (safe or unsafe)",
        }
    }

    /// The safety its fixes may have; `None` when it makes none.
    pub fn safety(self) -> Option<FixSafety> {
        match self {
            FixAvailability::None => None,
            FixAvailability::Always(safety) | FixAvailability::Sometimes(safety) => Some(safety),
        }
    }
}

/// A replacement of a byte range of the source. Texts of findings and fixes are shared
/// (`Arc<str>`): the editor's incremental audit copies hundreds of cached findings per
/// keystroke, and copying a pointer beats copying the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    pub range: Range<usize>,
    pub content: Arc<str>,
}

impl Edit {
    pub fn insert(at: usize, content: impl Into<Arc<str>>) -> Edit {
        Edit {
            range: at..at,
            content: content.into(),
        }
    }
    pub fn replace(range: Range<usize>, content: impl Into<Arc<str>>) -> Edit {
        Edit {
            range,
            content: content.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// Imperative title of the quick fix ("Add `db.rollback()` to the handler").
    pub title: Arc<str>,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

impl Fix {
    pub fn safe(title: impl Into<Arc<str>>, edits: Vec<Edit>) -> Fix {
        Fix {
            title: title.into(),
            applicability: Applicability::Safe,
            edits,
        }
    }
    pub fn unsafe_(title: impl Into<Arc<str>>, edits: Vec<Edit>) -> Fix {
        Fix {
            title: title.into(),
            applicability: Applicability::Unsafe,
            edits,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub range: Range<usize>,
    pub message: Arc<str>,
    pub severity: Severity,
    pub fix: Option<Fix>,
}

pub struct Rule {
    pub id: &'static str,
    pub languages: &'static [Language],
    pub default_severity: Severity,
    /// A security rule (secrets, injection, CORS, authentication): it runs in files a
    /// tool generated too (`generated`), where the others keep quiet by default.
    pub security: bool,
    pub fix: FixAvailability,
    /// One line for `stackaudit rules`.
    pub summary: &'static str,
    /// Byte strings (ASCII case-insensitive) of which a file must contain at least one
    /// before the rule can fire there; lets the CLI skip parsing files that cannot match.
    pub triggers: &'static [&'static str],
    /// The trigger words in Python modules, where they differ from `triggers` (a SQL
    /// rule's Alembic form fires in migrations only, which its SQL words do not tell).
    pub python_triggers: Option<&'static [&'static str]>,
    /// A stricter test of a Python module's text, run only when a trigger word is
    /// present, for rules whose trigger words are common (see `prefilter`); it must
    /// never reject a text the rule could report on. Files of the rule's other
    /// languages pass by their trigger words alone.
    pub text_test: Option<fn(&str) -> bool>,
    /// For rules that judge objects made elsewhere (a client imported from another
    /// module): where the audit reads the workspace, the rule also runs when this
    /// admits the module and its trigger words or text test do not (they look for where
    /// the object is made, which is in another file).
    pub workspace_trigger: Option<WorkspaceTrigger>,
    pub check: Check,
    /// What the rule reads of the module outside the definition it reports in (see
    /// `projections`): the editor keeps its findings in an unchanged definition until
    /// one of these changes.
    pub reads: projections::Projections,
}

/// When a rule may report on an object made in another module (`Rule::workspace_trigger`).
#[derive(Clone, Copy)]
pub struct WorkspaceTrigger {
    /// The libraries that make the objects it judges: some module of the workspace
    /// must import one of them.
    pub libraries: Libraries,
    /// A test of the module's own text that every module where the rule may report on
    /// such an object passes (the method calls it judges).
    pub text: fn(&str) -> bool,
}

/// A set of the client libraries whose objects rules judge across modules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Libraries(pub u8);

impl Libraries {
    pub const NONE: Libraries = Libraries(0);
    /// redis-py, aioredis.
    pub const REDIS: Libraries = Libraries(1);
    /// requests, httpx, aiohttp.
    pub const HTTP: Libraries = Libraries(1 << 1);
    /// SQLAlchemy, SQLModel.
    pub const DATABASE: Libraries = Libraries(1 << 2);
    pub const ALL: Libraries = Libraries(0b111);

    const NAMES: &[(&'static str, Libraries)] = &[
        ("redis", Libraries::REDIS),
        ("aioredis", Libraries::REDIS),
        ("requests", Libraries::HTTP),
        ("httpx", Libraries::HTTP),
        ("aiohttp", Libraries::HTTP),
        ("sqlalchemy", Libraries::DATABASE),
        ("sqlmodel", Libraries::DATABASE),
    ];

    pub const fn and(self, other: Libraries) -> Libraries {
        Libraries(self.0 | other.0)
    }

    pub const fn intersects(self, other: Libraries) -> bool {
        self.0 & other.0 != 0
    }

    /// The top-level packages of these libraries, as imports name them.
    pub fn packages(self) -> impl Iterator<Item = &'static str> {
        Libraries::NAMES
            .iter()
            .filter(move |(_, library)| library.intersects(self))
            .map(|(name, _)| *name)
    }

    /// The library whose top-level package `module` (as an import names it) is in:
    /// `redis` of `redis.asyncio` (not `.redis`, a module of the project).
    pub fn of_module(module: &str) -> Libraries {
        let top = module.split('.').next().unwrap_or("");
        Libraries::NAMES
            .iter()
            .find(|(name, _)| *name == top)
            .map_or(Libraries::NONE, |(_, library)| *library)
    }
}

/// What a rule reads, and its check function.
#[derive(Clone, Copy)]
pub enum Check {
    /// The text only (its lines, and the comments its front end finds by a scan), so
    /// `check` runs it without parsing the file.
    Text(fn(&TextContext, &mut Vec<Finding>)),
    /// The syntax tree and the semantic model.
    Tree(fn(&Context, &mut Vec<Finding>)),
    /// Ruff's tree of each item, in the one traversal that hands each rule the node
    /// kinds it names (`python::checker`).
    Ast(python::checker::Hooks),
    /// `Ast` in Python modules, `Tree` in the rule's other languages (a rule that
    /// judges SQLAlchemy models and SQL files alike).
    AstAndTree(python::checker::Hooks, fn(&Context, &mut Vec<Finding>)),
}

impl Check {
    /// What the rule runs on a file of `language`.
    pub fn for_language(self, language: Language) -> Check {
        match (self, language) {
            (Check::AstAndTree(hooks, _), Language::Python) => Check::Ast(hooks),
            (Check::AstAndTree(_, tree), _) => Check::Tree(tree),
            (check, _) => check,
        }
    }
}

impl Rule {
    /// The rule's trigger words in files of `language`.
    pub fn triggers_in(&self, language: Language) -> &'static [&'static str] {
        match (language, self.python_triggers) {
            (Language::Python, Some(words)) => words,
            _ => self.triggers,
        }
    }

    /// Whether the rule needs only the text (`Check::Text`).
    pub fn reads_text_only(&self) -> bool {
        matches!(self.check, Check::Text(_))
    }
}

impl Rule {
    pub fn finding(&self, range: Range<usize>, message: impl Into<Arc<str>>) -> Finding {
        Finding {
            rule: self.id,
            range,
            message: message.into(),
            severity: self.default_severity,
            fix: None,
        }
    }

    pub fn docs(&self) -> &'static str {
        RULE_DOCS
            .iter()
            .find(|(id, _)| *id == self.id)
            .map(|(_, docs)| *docs)
            .unwrap_or("")
    }

    pub fn url(&self) -> String {
        format!("{DOCS_BASE_URL}{}", self.id)
    }

    pub fn applies_to(&self, language: Language) -> bool {
        self.languages.contains(&language)
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule").field("id", &self.id).finish()
    }
}

pub fn rule_by_id(id: &str) -> Option<&'static Rule> {
    ALL_RULES.iter().copied().find(|rule| rule.id == id)
}

/// What a `Check::Text` function reads: the text, and which parts of it this audit
/// covers (an incremental audit skips the definitions whose findings it knows).
pub struct TextContext<'a> {
    pub source: &'a str,
    pub language: Language,
    pub settings: &'a RuleSettings,
    pub path: Option<&'a std::path::Path>,
    /// The byte ranges to read, in order, each starting where a statement may.
    ranges: Vec<Range<usize>>,
    /// What other modules of the workspace tell, when the audit has a workspace.
    pub(crate) imported:
        Option<std::rc::Rc<dyn crate::semantic::python::bound_kinds::ImportedKinds>>,
}

impl<'a> TextContext<'a> {
    /// The whole of `source`, with no parse (the CLI, when only text rules may fire),
    /// split into items as its front end splits it for parsing.
    pub fn whole(
        source: &'a str,
        language: Language,
        settings: &'a RuleSettings,
        path: Option<&'a std::path::Path>,
    ) -> TextContext<'a> {
        let ranges = match language.front_end().items() {
            Items::Statements(scan) => {
                let starts = item_starts(scan, source);
                let ends = starts.iter().skip(1).map(|next| next.byte);
                starts
                    .iter()
                    .zip(ends.chain([source.len()]))
                    .map(|(start, end)| start.byte..end)
                    .collect()
            }
            Items::Whole => std::iter::once(0..source.len()).collect(),
        };
        TextContext {
            source,
            language,
            settings,
            path,
            ranges,
            imported: None,
        }
    }

    /// The parts of the text to read, each read on its own from a clean start: the
    /// items (as the parser has them), less the statements this audit skips.
    pub fn ranges(&self) -> &[Range<usize>] {
        &self.ranges
    }

    /// The comments of the covered text, in order, as byte ranges.
    pub fn comments(&self) -> Vec<Range<usize>> {
        let front_end = self.language.front_end();
        self.ranges
            .iter()
            .flat_map(|range| front_end.comment_ranges(self.source, range.clone()))
            .collect()
    }
}

/// What a check function reads.
pub struct Context<'a> {
    pub source: &'a str,
    /// The parsed items (a Python module's top-level statements, each its own tree).
    pub syntax: &'a Syntax,
    pub language: Language,
    pub settings: &'a RuleSettings,
    /// Where the file lives, when known (the CLI's path, the editor's file URI).
    pub path: Option<&'a std::path::Path>,
    /// Which top-level statements this audit looks at (all, unless it is incremental).
    pub coverage: &'a Coverage,
    /// A Python module's facts on Ruff's tree, each worked out once per audit by the
    /// first that asks (`python::checker`, `module_scope`, `routes`), shared by the
    /// rules and the editor's projections.
    pub(crate) ruff_imports: std::cell::OnceCell<crate::semantic::python::Imports>,
    pub(crate) ruff_kinds:
        std::cell::OnceCell<crate::semantic::python::bound_kinds::BoundKinds<'a>>,
    /// What other modules of the workspace tell about the names this one imports, when
    /// the audit has a workspace (`index::WorkspaceLink`).
    pub(crate) imported:
        Option<std::rc::Rc<dyn crate::semantic::python::bound_kinds::ImportedKinds>>,
    /// The client libraries the module reaches through the workspace's imports, as far
    /// as the audit knows them (`Checker::reaches`).
    pub(crate) libraries: Libraries,
    pub(crate) ruff_module_scope: std::cell::OnceCell<python::module_scope::ModuleScope<'a>>,
    pub(crate) ruff_routers: std::cell::OnceCell<python::routes::Routers<'a>>,
    /// What rules work out once per audit and read at every node (`Context::memo`).
    memos: std::cell::RefCell<Vec<std::rc::Rc<dyn std::any::Any>>>,
    /// Whether items are let through the rules' item tests (`Hooks::item_test`); off
    /// only to check that those never change what a rule finds.
    pub(crate) item_tests: bool,
}

/// The top-level statements an incremental audit skips because it already knows their
/// findings. Rules judge no node inside a skipped statement; what the module says
/// elsewhere (imports, bindings) is read from every item whatever is skipped.
#[derive(Debug, Default)]
pub struct Coverage {
    /// Byte ranges of skipped top-level statements, in source order.
    pub skipped: Vec<Range<usize>>,
}

impl Coverage {
    pub const WHOLE: &'static Coverage = &Coverage {
        skipped: Vec::new(),
    };
}

impl<'a> Context<'a> {
    pub fn new(
        source: &'a str,
        syntax: &'a Syntax,
        language: Language,
        settings: &'a RuleSettings,
    ) -> Self {
        Context::with_coverage(source, syntax, language, settings, Coverage::WHOLE)
    }

    pub fn with_coverage(
        source: &'a str,
        syntax: &'a Syntax,
        language: Language,
        settings: &'a RuleSettings,
        coverage: &'a Coverage,
    ) -> Self {
        Context {
            source,
            syntax,
            language,
            settings,
            path: None,
            coverage,
            ruff_imports: std::cell::OnceCell::new(),
            ruff_kinds: std::cell::OnceCell::new(),
            imported: None,
            libraries: Libraries::NONE,
            ruff_module_scope: std::cell::OnceCell::new(),
            ruff_routers: std::cell::OnceCell::new(),
            memos: std::cell::RefCell::default(),
            item_tests: true,
        }
    }

    /// The root of a tree-sitter tree that holds the whole source (see `Syntax::root`).
    pub fn root(&self) -> Option<Node<'a>> {
        self.syntax.root()
    }

    /// What text rules read of this audit: the items (each read whole and on its own,
    /// as the parser reads it) that hold anything besides the statements it skips.
    /// What an item's text means depends on all of it from its start (an indented line
    /// after a skipped `def` may still be in its block), so an item is read whole or
    /// not at all; findings inside skipped statements are the audit's to drop.
    pub fn text_context(&self) -> TextContext<'a> {
        let mut ranges = Vec::with_capacity(self.syntax.items().len());
        let mut skipped = self.coverage.skipped.iter().peekable();
        for item in self.syntax.items() {
            let mut rest_is_blank = true;
            let mut from = item.range.start;
            while let Some(statement) =
                skipped.next_if(|statement| statement.start < item.range.end)
            {
                rest_is_blank &= is_blank(self.source.get(from..statement.start));
                from = from.max(statement.end);
            }
            let untouched = from == item.range.start;
            rest_is_blank &= is_blank(self.source.get(from..item.range.end));
            if untouched || !rest_is_blank {
                ranges.push(item.range.clone());
            }
        }
        TextContext {
            source: self.source,
            language: self.language,
            settings: self.settings,
            path: self.path,
            ranges,
            imported: self.imported.clone(),
        }
    }

    pub fn with_path(mut self, path: Option<&'a std::path::Path>) -> Self {
        self.path = path;
        self
    }

    /// An audit of a module of a workspace: names imported from other modules are
    /// settled by `imported`, and the module reaches `libraries` through imports.
    pub fn with_workspace(
        mut self,
        workspace: Option<(
            std::rc::Rc<dyn crate::semantic::python::bound_kinds::ImportedKinds>,
            Libraries,
        )>,
    ) -> Self {
        (self.imported, self.libraries) = match workspace {
            Some((imported, libraries)) => (Some(imported), libraries),
            None => (None, Libraries::NONE),
        };
        self
    }

    /// What the workspace's schema says of the table `name` (`Some(None)`: no file
    /// creates it); `None` outside a workspace, or while its schema is not known.
    pub fn table(&self, name: &str) -> Option<Option<Arc<crate::schema::model::Table>>> {
        self.imported.as_ref()?.table(name)
    }

    /// Whether the workspace's schema holds what this file's text says now (it was
    /// read from this very text), so nothing of it need be read again.
    pub fn schema_is_current(&self) -> bool {
        let Some(indexed) = self
            .imported
            .as_ref()
            .and_then(|imported| imported.schema_source())
        else {
            return false;
        };
        indexed == xxhash_rust::xxh3::xxh3_128(self.source.as_bytes())
    }

    /// Every column the table `name` ever had in the workspace's files (`Some(None)`:
    /// no file ever creates it); `None` outside a workspace, or while its schema is not
    /// known.
    pub fn table_history(&self, name: &str) -> Option<Option<Vec<String>>> {
        self.imported.as_ref()?.table_history(name)
    }

    /// The kinds of the schema's single-column primary keys, by table; `None` outside
    /// a workspace, or while its schema is not known.
    pub fn key_kinds(&self) -> Option<Vec<(String, crate::schema::KeyKind)>> {
        self.imported.as_ref()?.key_kinds()
    }

    /// What the workspace's migrations and models each say of the table `name`;
    /// `None` outside a workspace, while its schema is not known, or when it has no
    /// Alembic migration.
    pub fn table_drift(&self, name: &str) -> Option<crate::schema::model::TableDrift> {
        self.imported.as_ref()?.table_drift(name)
    }

    /// What breaks the Alembic chain at this migration, whose revision is `current`;
    /// `None` outside a workspace, or while its schema is not known.
    pub fn revision_chain(
        &self,
        current: &crate::schema::from_alembic::Revision,
    ) -> Option<Vec<crate::schema::revisions::ChainProblem>> {
        self.imported.as_ref()?.revision_chain(current)
    }

    /// Every item walked, whatever the rules' item tests say (see `item_tests`).
    pub fn without_item_tests(mut self) -> Self {
        self.item_tests = false;
        self
    }

    /// A value of type `T` worked out once per audit: the first call computes it, later
    /// ones (from any node of any item) share it. Each rule keys its memo by a type of
    /// its own.
    pub fn memo<T: 'static>(&self, compute: impl FnOnce() -> T) -> std::rc::Rc<T> {
        let known = self
            .memos
            .borrow()
            .iter()
            .find(|memo| memo.is::<T>())
            .and_then(|memo| memo.clone().downcast::<T>().ok());
        if let Some(known) = known {
            return known;
        }
        let computed = std::rc::Rc::new(compute());
        self.memos.borrow_mut().push(computed.clone());
        computed
    }
}

/// Whether a text (a missing one too) holds nothing but white space.
fn is_blank(text: Option<&str>) -> bool {
    text.is_none_or(|text| text.trim().is_empty())
}

/// The source text of a node; empty when the tree and text disagree (never panics).
pub fn node_text<'s>(node: Node, source: &'s str) -> &'s str {
    source.get(node.byte_range()).unwrap_or("")
}

/// Code quoted in a message: on one line, at most `limit` characters (with `…`).
pub fn shorten(text: &str, limit: usize) -> String {
    let single_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if single_line.chars().count() <= limit {
        return single_line;
    }
    let cut: String = single_line.chars().take(limit.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// Byte offset of the start of the line holding `byte`.
pub fn line_start(source: &str, byte: usize) -> usize {
    source
        .get(..byte)
        .and_then(|before| before.rfind('\n'))
        .map_or(0, |newline| newline + 1)
}

/// Byte offset of the end of the line holding `byte` (before `\r\n` or `\n`).
pub fn line_end(source: &str, byte: usize) -> usize {
    let end = source
        .get(byte..)
        .and_then(|after| after.find('\n'))
        .map_or(source.len(), |nl| byte + nl);
    if end > 0 && source.as_bytes().get(end - 1) == Some(&b'\r') {
        end - 1
    } else {
        end
    }
}

/// The leading whitespace of the line holding `byte`.
pub fn indentation_at(source: &str, byte: usize) -> &str {
    let start = line_start(source, byte);
    let line = source.get(start..line_end(source, byte)).unwrap_or("");
    &line[..line.len() - line.trim_start().len()]
}

/// The line break the file already uses, judged by its first line (as editors and
/// Ruff do; scanning the whole file per fix would make fixing quadratic).
pub fn newline_of(source: &str) -> &'static str {
    let first_break = source.find('\n');
    if first_break.is_some_and(|at| at > 0 && source.as_bytes()[at - 1] == b'\r') {
        "\r\n"
    } else {
        "\n"
    }
}

/// The named children of a node (a `Vec`, so callers need no cursor of their own).
pub fn named_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).collect()
}

/// Pre-order walk without recursion (deeply nested input must not overflow the stack).
pub fn walk_tree<'t>(root: Node<'t>, mut visit: impl FnMut(Node<'t>)) {
    let mut cursor = root.walk();
    loop {
        visit(cursor.node());
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node() == root {
                return;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// Whether any node of the subtree of `root` (itself included) satisfies `predicate`:
/// a pre-order walk without recursion that stops at the first one.
pub fn any_in_tree<'t>(root: Node<'t>, mut predicate: impl FnMut(Node<'t>) -> bool) -> bool {
    let mut cursor = root.walk();
    loop {
        if predicate(cursor.node()) {
            return true;
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node() == root {
                return false;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_all_documentation_sections() {
        for rule in ALL_RULES {
            let docs = rule.docs();
            for section in DOC_SECTIONS {
                assert!(docs.contains(section), "{} lacks {section}", rule.id);
            }
        }
    }

    /// The editor matches trigger words item by item (`AuditCache`): a word that
    /// could span a line break could also span two items.
    #[test]
    fn no_trigger_word_spans_lines() {
        for rule in ALL_RULES {
            for word in rule
                .triggers
                .iter()
                .chain(rule.python_triggers.unwrap_or_default())
            {
                assert!(!word.contains(['\n', '\r']), "{}: {word:?}", rule.id);
            }
        }
    }

    #[test]
    fn rule_ids_are_unique_and_match_their_files() {
        let mut ids: Vec<_> = ALL_RULES.iter().map(|rule| rule.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL_RULES.len());
        for (id, _) in RULE_DOCS {
            assert!(rule_by_id(id).is_some(), "docs for {id} but no such rule");
        }
    }
}
