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
use crate::schema::from_sql::{self, StatementSchema};

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
    /// What it does to the schema and to rows (read from PostgreSQL's tree of the
    /// repaired statement; nothing when that does not parse). Offsets from the
    /// statement's start.
    pub schema: StatementSchema,
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
                schema: StatementSchema::default(),
            };
        }
        let tokens = tokens(text);
        let mysql = constructs(text, &tokens);
        let repaired = Repaired::new(text, &mysql);
        let tree = pg_query::parse(&repaired.text, 0).ok();
        let rejection = match tree {
            Some(_) => None,
            None => statement_rejection(&repaired.text).map(|rejection| {
                let start = repaired.original(rejection.range.start);
                let end = repaired.original(rejection.range.end).max(start);
                Rejection {
                    range: start..end,
                    message: rejection.message,
                }
            }),
        };
        let rejection_as_written = if mysql.is_empty() {
            rejection.clone()
        } else if pg_query::parse(text, 0).is_ok() {
            None
        } else {
            statement_rejection(text)
        };
        let mut schema = tree.map_or_else(StatementSchema::default, |tree| {
            from_sql::read(&tree.protobuf, text, &tokens, &|at| repaired.original(at))
        });
        // What a MySQL construct means in PostgreSQL's terms (`KEY idx (a)` inside the
        // table is an index): part of the schema, pointed at the construct.
        for construct in &mysql {
            let Some(fix) = &construct.fix else {
                continue;
            };
            for statement in &fix.after {
                let Ok(tree) = pg_query::parse(statement, 0) else {
                    continue;
                };
                let added = from_sql::read(
                    &tree.protobuf,
                    statement,
                    &super::sql_tokens::tokens(statement),
                    &|_| 0,
                );
                schema.operations.extend(
                    added
                        .operations
                        .into_iter()
                        .map(|operation| operation.placed_at(construct.range.clone())),
                );
            }
        }
        SqlStatement {
            range,
            terminator,
            tokens,
            mysql,
            rejection,
            rejection_as_written,
            templated: false,
            schema,
        }
    }

    /// The statement's text in `item`.
    pub fn text<'i>(&self, item: &'i str) -> &'i str {
        item.get(self.range.clone()).unwrap_or("")
    }
}

/// A statement with the repairs of its MySQL constructs made, and the way back to the
/// statement's offsets (an offset inside a repaired piece maps to the piece's start).
struct Repaired {
    text: String,
    /// (start in `text`, end in `text`, the statement's range) of each repair.
    anchors: Vec<(usize, usize, Range<usize>)>,
    original_length: usize,
}

impl Repaired {
    fn new(statement: &str, mysql: &[MysqlConstruct]) -> Repaired {
        let mut repairs: Vec<&(Range<usize>, String)> = mysql
            .iter()
            .flat_map(|construct| &construct.repair)
            .collect();
        repairs.sort_by_key(|(range, _)| (range.start, range.end));
        let mut text = String::with_capacity(statement.len());
        let mut anchors = Vec::new();
        let mut copied = 0;
        for (range, replacement) in repairs {
            // Overlapping repairs (a statement dropped whole, and a piece of it): the
            // first one stands.
            if range.start < copied || range.end > statement.len() {
                continue;
            }
            text.push_str(&statement[copied..range.start]);
            let start = text.len();
            text.push_str(replacement);
            anchors.push((start, text.len(), range.clone()));
            copied = range.end;
        }
        text.push_str(&statement[copied..]);
        Repaired {
            text,
            anchors,
            original_length: statement.len(),
        }
    }

    /// The statement's offset for an offset of the repaired text.
    fn original(&self, offset: usize) -> usize {
        let mut shift: isize = 0;
        for (start, end, range) in &self.anchors {
            if offset < *start {
                break;
            }
            if offset < *end {
                return range.start;
            }
            shift = range.end as isize - *end as isize;
        }
        offset
            .saturating_add_signed(shift)
            .min(self.original_length)
    }
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
