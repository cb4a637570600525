//! Python's front end: `.py` and `.pyi` files, `#` comments, and a module's top-level
//! statements as its items (`python_items`), each parsed by Ruff's parser.

use std::ops::Range;

use super::front_end::{CommentSyntax, FrontEnd, Items};
use super::python_items;

pub struct Python;

static COMMENTS: CommentSyntax = CommentSyntax {
    line: &["#"],
    block: &[],
    trailing: true,
};

impl FrontEnd for Python {
    fn language_ids(&self) -> &'static [&'static str] {
        &["python"]
    }

    fn claims_file_name(&self, lower_name: &str) -> bool {
        lower_name.ends_with(".py") || lower_name.ends_with(".pyi")
    }

    fn comments(&self) -> &'static CommentSyntax {
        &COMMENTS
    }

    fn items(&self) -> Items {
        Items::Statements(python_items::scan_items)
    }

    /// Ruff's parser reads each item (`python_ast`).
    fn grammar(&self) -> Option<tree_sitter::Language> {
        None
    }

    fn comment_ranges(&self, text: &str, range: Range<usize>) -> Vec<Range<usize>> {
        python_items::comments(text, range)
    }
}
