//! A document as the server holds it: a rope for cheap edits, its syntax (`syntax`)
//! kept in step with it by re-parsing what each edit touched, the version and the
//! language.
//!
//! Must not know about rules or LSP messages beyond the content-change events it applies.

pub mod parser_limits;
pub mod position;
pub mod source_text;

use ropey::Rope;
use tower_lsp_server::ls_types::TextDocumentContentChangeEvent;
use tree_sitter::InputEdit;

use crate::language::Language;
use crate::syntax::{Changed, Syntax};
use position::{Encoding, offsets_of, point_of};

/// Parse a whole string from scratch (the CLI and fresh opens). `None` for a text the
/// grammar cannot take safely (`parser_limits`).
pub fn parse_text(language: Language, text: &str) -> Option<Syntax> {
    Syntax::parse(language, text)
}

fn parse_rope(language: Language, rope: &Rope, old: Option<&Syntax>) -> Option<Syntax> {
    Syntax::reparse(language, &rope_text(rope), old)
}

#[derive(Debug, Clone)]
pub struct Document {
    pub rope: Rope,
    pub syntax: Option<Syntax>,
    pub version: i32,
    pub language: Language,
    /// While a first parse runs elsewhere (`new_unparsed`): the edits made to the text
    /// since, to replay on its syntax. `None` once the syntax is in step with the text.
    edits_since_parse: Option<Vec<InputEdit>>,
    /// What the edits since the last parse changed (`None` when nothing did).
    changed: Option<Changed>,
    /// The trees were dropped to save memory (`evict_tree`): the next change parses the
    /// text afresh, and `tree_or_parse` parses it for a one-off use meanwhile.
    evicted: bool,
}

impl Document {
    pub fn new(text: &str, version: i32, language: Language) -> Document {
        let rope = Rope::from_str(text);
        let syntax = parse_rope(language, &rope, None);
        Document {
            rope,
            syntax,
            version,
            language,
            edits_since_parse: None,
            changed: None,
            evicted: false,
        }
    }

    /// A document whose first parse the caller runs elsewhere (`parse_detached` on
    /// another thread, then `adopt_syntax`): a large file must not hold up the server.
    pub fn new_unparsed(text: &str, version: i32, language: Language) -> Document {
        Document {
            rope: Rope::from_str(text),
            syntax: None,
            version,
            language,
            edits_since_parse: Some(Vec::new()),
            changed: None,
            evicted: false,
        }
    }

    /// Whether the first parse is still running elsewhere.
    pub fn is_parsing(&self) -> bool {
        self.edits_since_parse.is_some()
    }

    /// Drop the trees of a document nobody is editing: trees cost far more memory than
    /// the text (an editor keeps hundreds of documents open). The text stays; the next
    /// change parses it whole.
    pub fn evict_tree(&mut self) {
        if self.syntax.is_some() && !self.is_parsing() {
            self.syntax = None;
            self.evicted = true;
        }
    }

    /// Whether the trees were evicted (the text was parseable when it was).
    pub fn is_evicted(&self) -> bool {
        self.evicted
    }

    /// The syntax, or for an evicted document a fresh parse of its text that is not kept.
    pub fn syntax_or_parse(&self) -> Option<std::borrow::Cow<'_, Syntax>> {
        match &self.syntax {
            Some(syntax) => Some(std::borrow::Cow::Borrowed(syntax)),
            None if self.evicted => {
                parse_rope(self.language, &self.rope, None).map(std::borrow::Cow::Owned)
            }
            None => None,
        }
    }

    /// The full parse of the current text, for `adopt_syntax` (call it off the server's
    /// threads; the rope is a cheap snapshot).
    pub fn parse_detached(language: Language, rope: &Rope) -> Option<Syntax> {
        parse_rope(language, rope, None)
    }

    /// Take the syntax of a detached parse of this document's text as it was when the
    /// parse began: replay the edits made since on it and re-parse incrementally.
    pub fn adopt_syntax(&mut self, syntax: Option<Syntax>) {
        let Some(edits) = self.edits_since_parse.take() else {
            return; // already parsed
        };
        self.syntax = match syntax {
            Some(mut syntax) if !edits.is_empty() => {
                for edit in &edits {
                    syntax.edit(edit);
                }
                parse_rope(self.language, &self.rope, Some(&syntax))
            }
            Some(syntax) => Some(syntax),
            None => parse_rope(self.language, &self.rope, None),
        };
    }

    /// Apply LSP content changes in order (ranged ones incrementally, a range-less one
    /// replaces the text), then re-parse once, reusing what the edits left unchanged.
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
            return; // `adopt_syntax` re-parses once the first parse is back
        }
        let changed = self.changed.take();
        self.syntax = match (&self.syntax, changed) {
            (Some(old), Some(changed)) if !full_reparse && !self.evicted => {
                Syntax::reparse_changed(self.language, &rope_text(&self.rope), old, &changed)
            }
            (old, _) if !full_reparse && !self.evicted => {
                parse_rope(self.language, &self.rope, old.as_ref())
            }
            _ => parse_rope(self.language, &self.rope, None),
        };
        self.evicted = false;
    }

    /// Replace a byte range in the rope and tell the syntax about it (no re-parse).
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
        if let Some(syntax) = self.syntax.as_mut() {
            syntax.edit(&edit);
            self.changed = Some(Changed::and(self.changed.take(), &edit));
        }
        if let Some(edits) = self.edits_since_parse.as_mut() {
            edits.push(edit);
        }
    }

    pub fn text(&self) -> String {
        rope_text(&self.rope)
    }
}

/// The rope's text in one allocation of the right size (`Rope::to_string` goes through
/// `Display`, growing its buffer chunk by chunk: a tenth of a keystroke's time on a
/// 5,000-line module).
fn rope_text(rope: &Rope) -> String {
    let mut text = String::with_capacity(rope.len_bytes());
    for chunk in rope.chunks() {
        text.push_str(chunk);
    }
    text
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

    /// What the parser made of the document (`Syntax::describe`).
    fn describe(document: &Document) -> Option<String> {
        let text = document.text();
        document
            .syntax
            .as_ref()
            .map(|syntax| syntax.describe(&text))
    }

    #[test]
    fn incremental_edit_matches_a_fresh_parse() {
        let mut document = Document::new("def f():\n    return 1\n", 1, Language::Python);
        document.apply_changes(&[change((1, 11), (1, 12), "\"😀\"")], 2, Encoding::Utf16);
        let fresh = Document::new(&document.text(), 2, Language::Python);
        assert_eq!(document.text(), "def f():\n    return \"😀\"\n");
        assert_eq!(describe(&document), describe(&fresh));
    }

    #[test]
    fn an_evicted_tree_comes_back_on_the_next_change() {
        let mut document = Document::new("def f():\n    return 1\n", 1, Language::Python);
        document.evict_tree();
        assert!(document.syntax.is_none() && document.is_evicted());
        let text = document.text();
        let one_off = document
            .syntax_or_parse()
            .map(|syntax| syntax.describe(&text));
        document.apply_changes(&[change((1, 11), (1, 12), "2")], 2, Encoding::Utf8);
        assert!(!document.is_evicted());
        let fresh = Document::new(&document.text(), 2, Language::Python);
        assert_eq!(describe(&document), describe(&fresh));
        // The one-off parse of the evicted text was that text's.
        assert_eq!(
            one_off,
            describe(&Document::new(&text, 1, Language::Python))
        );
    }
}
