//! The reference an edited document is checked against, shared by the randomized test
//! (`tests/incremental.rs`) and the `edit_sequences` fuzz target (which includes this
//! file by path): apply an LSP change to a plain string with an offset computed
//! independently of the crate, apply it to the `Document` as the server does, and
//! require text, tree and findings (full, incremental, without prefilters) to equal
//! those of a fresh parse of the same text. Panics (with the text) on the first
//! difference.

#![allow(dead_code)] // each includer uses part of it

use stackaudit::audit::incremental::AuditCache;
use stackaudit::audit::{audit, audit_without_prefilter};
use stackaudit::config::Settings;
use stackaudit::document::Document;
use stackaudit::document::position::Encoding;
use stackaudit::language::Language;
use tower_lsp_server::ls_types::{Position, TextDocumentContentChangeEvent};

/// Pieces of text that edits insert: multi-byte characters, CRLF, brackets and quotes
/// that open and close constructs, and the words the rules look for.
pub const FRAGMENTS: &[&str] = &[
    "a",
    "é",
    "😀",
    "漢",
    "e\u{301}",
    "\n",
    "\r\n",
    "\r",
    " ",
    "    ",
    "\t",
    "(",
    ")",
    ":",
    "\"",
    "'",
    "#",
    "=",
    "${X}",
    "time.sleep(1)",
    ";",
    "$$",
    "--",
    "/*",
    "*/",
    "\\.\n",
    "BEGIN ATOMIC ",
    "`",
    "KEY idx (a)",
    "async def f():\n    ",
    "await ",
    "db.commit()",
    "try:\n",
    "except Exception:\n    pass\n",
    "r.set(\"k\", 1)",
    "ENV TOKEN=abc\n",
    "ARG KEY=v \\\n",
    "environment:\n  - PASSWORD=x\n",
    "  API_KEY: y\n",
    "import asyncio\n",
    "import redis\n",
    "from time import sleep as nap\n",
    "cache = redis.Redis()\n",
    "\ndef g():\n    import requests\n",
    "\nclass C:\n    r = redis.Redis()\n",
    "nap(2)",
    "async  def h():\n    ",
    "session . commit ()",
    "\\\n",
    "# stackaudit: ignore\n",
];

/// Byte offset of an LSP position in `text`, clamped as the spec asks (a character past
/// the line's end means the end of the line; a line past the last means the end of the
/// text): lines split at `\n`, and the `\r` of a `\r\n` is not part of the line. A lone
/// `\r` is a character, as in Neovim's buffers (LSP would have it end a line; see
/// RELIABILITY.md).
pub fn reference_offset(text: &str, position: Position, encoding: Encoding) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(newline) => line_start += newline + 1,
            None => return text.len(),
        }
    }
    let rest = &text[line_start..];
    let line = match rest.find('\n') {
        Some(newline) => {
            let line = &rest[..newline];
            line.strip_suffix('\r').unwrap_or(line)
        }
        None => rest,
    };
    let mut units = 0;
    for (index, ch) in line.char_indices() {
        let width = match encoding {
            Encoding::Utf8 => ch.len_utf8(),
            Encoding::Utf16 => ch.len_utf16(),
            Encoding::Utf32 => 1,
        };
        if units + width > position.character as usize {
            return line_start + index;
        }
        units += width;
    }
    line_start + line.len()
}

/// What the parser made of the document (`Syntax::describe`): every tree-sitter node,
/// every Python item's range and Ruff's tree.
pub fn tree_signature(document: &Document) -> String {
    document
        .syntax
        .as_ref()
        .map(|syntax| syntax.describe(&document.text()))
        .unwrap_or_default()
}

/// An open document and the plain string it must always equal.
pub struct Session {
    pub language: Language,
    pub encoding: Encoding,
    pub document: Document,
    pub reference: String,
    pub cache: AuditCache,
    pub settings: Settings,
}

impl Session {
    pub fn new(language: Language, encoding: Encoding, text: &str) -> Session {
        let mut session = Session {
            language,
            encoding,
            document: Document::new(text, 0, language),
            reference: text.to_string(),
            cache: AuditCache::default(),
            settings: Settings::default(),
        };
        session.check("open");
        session
    }

    /// Apply `change` as the next version to both, then compare everything.
    pub fn apply(&mut self, change: TextDocumentContentChangeEvent) {
        let version = self.document.version + 1;
        match change.range {
            Some(range) => {
                let from = reference_offset(&self.reference, range.start, self.encoding);
                let to = reference_offset(&self.reference, range.end, self.encoding).max(from);
                self.reference.replace_range(from..to, &change.text);
            }
            None => self.reference = change.text.clone(),
        }
        let label = format!("version {version}, {:?}, change {change:?}", self.encoding);
        self.document
            .apply_changes(std::slice::from_ref(&change), version, self.encoding);
        self.check(&label);
    }

    fn check(&mut self, label: &str) {
        if std::env::var("ORACLE_DEBUG").is_ok() {
            eprintln!("=== {label}\n{:?}", self.reference);
        }
        let (language, settings, reference) = (self.language, &self.settings, &self.reference);
        assert_eq!(&self.document.text(), reference, "{label}: text diverged");
        let fresh = Document::new(reference, 0, language);
        assert_eq!(
            tree_signature(&self.document),
            tree_signature(&fresh),
            "{label}: tree diverged on {reference:?}"
        );
        let (Some(tree), Some(fresh_tree)) = (self.document.syntax.as_ref(), fresh.syntax.as_ref())
        else {
            panic!("{label}: the grammar gave no tree for {reference:?}");
        };
        let full = audit(language, reference, fresh_tree, settings, None);
        assert_eq!(
            full,
            audit_without_prefilter(language, reference, fresh_tree, settings, None),
            "{label}: a prefilter skipped a rule that fires on {reference:?}"
        );
        assert_eq!(
            audit(language, reference, tree, settings, None),
            full,
            "{label}: findings on the edited tree diverged on {reference:?}"
        );
        assert_eq!(
            self.cache.audit(language, reference, tree, settings, None),
            full,
            "{label}: incremental findings diverged on {reference:?}"
        );
    }
}
