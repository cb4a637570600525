//! What PostgreSQL makes of the statements of one SQL item: each statement's tokens,
//! its MySQL constructs (`sql_mysql`), and whether PostgreSQL's own parser
//! (libpg_query, `rules::postgres`) accepts it, both as written and once its MySQL
//! constructs read as PostgreSQL (so a real syntax error behind a MySQL-ism is still
//! found, and a MySQL-ism alone is not reported twice).
//!
//! Worked out the first time a rule asks, and kept with the item (`SyntaxItem::sql`):
//! an edit re-reads only the items it touched. Offsets are the item's, so an item's
//! reading moves with it.

use std::ops::Range;

use super::sql_items::statements;
use super::sql_mysql::{MysqlConstruct, constructs};
use super::sql_tokens::{SqlToken, tokens};
use crate::rules::postgres::{Rejection, statement_rejection};

/// The statements of one item.
#[derive(Debug, Default)]
pub struct SqlItem {
    pub statements: Vec<SqlStatement>,
}

#[derive(Debug)]
pub struct SqlStatement {
    /// Bytes of the item, from the first token to the last (no `;`).
    pub range: Range<usize>,
    /// Where its `;` stands in the item, if it has one.
    pub terminator: Option<usize>,
    /// Its tokens; offsets from the statement's start.
    pub tokens: Vec<SqlToken>,
    /// Its MySQL constructs; offsets from the statement's start.
    pub mysql: Vec<MysqlConstruct>,
    /// What PostgreSQL rejects once the MySQL constructs read as PostgreSQL; offsets
    /// from the statement's start.
    pub rejection: Option<Rejection>,
    /// What it rejects as written (`rejection` when there is no MySQL construct).
    pub rejection_as_written: Option<Rejection>,
    /// A template (Jinja's `{{ }}`, `{% %}`: dbt models), not SQL yet: not judged.
    pub templated: bool,
}

impl SqlItem {
    /// Read the statements of `item` (an item's text).
    pub fn read(item: &str) -> SqlItem {
        let statements = statements(item, 0..item.len())
            .into_iter()
            .map(|span| SqlStatement::read(item, span.range, span.terminator))
            .collect();
        SqlItem { statements }
    }
}

impl SqlStatement {
    fn read(item: &str, range: Range<usize>, terminator: Option<usize>) -> SqlStatement {
        let text = &item[range.clone()];
        if text.contains("{{") || text.contains("{%") {
            return SqlStatement {
                range,
                terminator,
                tokens: Vec::new(),
                mysql: Vec::new(),
                rejection: None,
                rejection_as_written: None,
                templated: true,
            };
        }
        let tokens = tokens(text);
        let mysql = constructs(text, &tokens);
        let rejection_as_written = statement_rejection(text);
        let rejection = match (&rejection_as_written, mysql.is_empty()) {
            (None, _) => None,
            (Some(rejection), true) => Some(rejection.clone()),
            (Some(_), false) => rejection_once_repaired(text, &mysql),
        };
        SqlStatement {
            range,
            terminator,
            tokens,
            mysql,
            rejection,
            rejection_as_written,
            templated: false,
        }
    }

    /// The statement's text in `item`.
    pub fn text<'i>(&self, item: &'i str) -> &'i str {
        item.get(self.range.clone()).unwrap_or("")
    }
}

/// What PostgreSQL rejects in `text` once the repairs of `mysql` are made, at the
/// offsets of `text` (a rejection inside a repaired piece points at the piece).
fn rejection_once_repaired(text: &str, mysql: &[MysqlConstruct]) -> Option<Rejection> {
    let mut repairs: Vec<&(Range<usize>, String)> = mysql
        .iter()
        .flat_map(|construct| &construct.repair)
        .collect();
    repairs.sort_by_key(|(range, _)| (range.start, range.end));
    let mut repaired = String::with_capacity(text.len());
    // (start in `repaired`, end in `repaired`, the original range) of each repair.
    let mut anchors: Vec<(usize, usize, Range<usize>)> = Vec::new();
    let mut copied = 0;
    for (range, replacement) in repairs {
        // Overlapping repairs (a statement dropped whole, and a piece of it): the first
        // one stands.
        if range.start < copied || range.end > text.len() {
            continue;
        }
        repaired.push_str(&text[copied..range.start]);
        let start = repaired.len();
        repaired.push_str(replacement);
        anchors.push((start, repaired.len(), range.clone()));
        copied = range.end;
    }
    repaired.push_str(&text[copied..]);
    let rejection = statement_rejection(&repaired)?;
    let original = |offset: usize| -> usize {
        let mut shift: isize = 0;
        for (start, end, range) in &anchors {
            if offset < *start {
                break;
            }
            if offset < *end {
                return range.start;
            }
            shift = range.end as isize - *end as isize;
        }
        offset.saturating_add_signed(shift).min(text.len())
    };
    let start = original(rejection.range.start);
    let end = original(rejection.range.end).max(start);
    Some(Rejection {
        range: start..end,
        message: rejection.message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_behind_a_mysql_construct_is_still_found() {
        let item = "CREATE TABLE `users` (\n  id int AUTO_INCREMENT,\n  name varchar(20) NOT NUL\n) ENGINE=InnoDB;\n";
        let read = SqlItem::read(item);
        let statement = &read.statements[0];
        assert_eq!(statement.mysql.len(), 3);
        let rejection = statement.rejection.as_ref().expect("rejected");
        assert_eq!(&statement.text(item)[rejection.range.clone()], "NUL");
        let as_written = statement.rejection_as_written.as_ref().expect("rejected");
        assert_eq!(&statement.text(item)[as_written.range.clone()], "`");

        let item = "CREATE TABLE t (id int AUTO_INCREMENT, KEY idx (id)) ENGINE=InnoDB;";
        let read = SqlItem::read(item);
        assert!(read.statements[0].rejection_as_written.is_some());
        assert_eq!(read.statements[0].rejection, None);
    }

    #[test]
    fn templates_are_not_judged() {
        let read = SqlItem::read("SELECT * FROM {{ ref('orders') }} WHERE");
        assert!(read.statements[0].templated);
        assert_eq!(read.statements[0].rejection, None);
    }
}
