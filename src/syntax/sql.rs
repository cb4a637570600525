//! SQL files' front end: `.sql` files, read as PostgreSQL (the dialect of our stack),
//! `--` and `/* */` comments, and each statement (or line of statements) as an item
//! (`sql_items`), judged by PostgreSQL's own parser the first time a rule asks
//! (`sql_statements`).

use std::ops::Range;

use super::front_end::{CommentSyntax, FrontEnd, Items};
use super::sql_items;

pub struct Sql;

static COMMENTS: CommentSyntax = CommentSyntax {
    line: &["--"],
    block: &[("/*", "*/")],
    trailing: true,
};

impl FrontEnd for Sql {
    fn language_ids(&self) -> &'static [&'static str] {
        &["sql", "pgsql", "postgres", "postgresql"]
    }

    fn claims_file_name(&self, lower_name: &str) -> bool {
        lower_name.ends_with(".sql") || lower_name.ends_with(".pgsql")
    }

    fn comments(&self) -> &'static CommentSyntax {
        &COMMENTS
    }

    fn items(&self) -> Items {
        Items::Statements(sql_items::scan_items)
    }

    /// PostgreSQL's parser reads each item's statements (`sql_statements`).
    fn grammar(&self) -> Option<tree_sitter::Language> {
        None
    }

    fn comment_ranges(&self, text: &str, range: Range<usize>) -> Vec<Range<usize>> {
        sql_items::comments(text, range)
    }
}
