//! ## What it does
//! Finds statements in `.sql` files that PostgreSQL's own parser (libpg_query, the
//! server's grammar) rejects, and points at the token where it stops, with the server's
//! message. Each statement is judged on its own, so one bad statement does not hide
//! the rest. psql meta-commands (`\connect`, `\i`), `COPY ... FROM stdin` data, psql
//! variables (`:name`) and templates (`{{ }}`, `{% %}`: dbt models) are not judged, nor
//! files whose path names another database (`mysql/`, `schema.sqlite.sql`).
//!
//! MySQL syntax is `mysql-syntax-in-postgres`'s to report: a statement is judged as if
//! its MySQL constructs were written the PostgreSQL way, so a MySQL-ism is not reported
//! twice and does not hide a real error behind it (with that rule turned off, the
//! statement is judged as written).
//!
//! ## Why is this bad?
//! A migration or seed script that the server rejects stops halfway: the schema is left
//! between versions, and a deploy that runs it fails. The parser finds it before the
//! server does.
//!
//! ## Example
//! ```sql
//! SELECT id, email FORM users;
//! CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2) NOT NUL);
//! ```
//!
//! ## Use instead
//! ```sql
//! SELECT id, email FROM users;
//! CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2) NOT NULL);
//! ```
//!
//! ## Fix safety
//! There is no fix: what was meant is for the author to say.

use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, RuleId, Severity};

use super::{is_for_another_database, statements};

pub const RULE: Rule = Rule {
    id: "sql-syntax-error",
    languages: &[Language::Sql],
    default_severity: Severity::Error,
    security: false,
    fix: FixAvailability::None,
    summary: "Statements in `.sql` files that PostgreSQL's own grammar (libpg_query) rejects, pointed at the token",
    triggers: &[],
    python_triggers: None,
    text_test: None,
    workspace_trigger: None,
    check: Check::Tree(check),
    reads: Projections::NONE,
};

fn check(context: &Context, findings: &mut Vec<Finding>) {
    if is_for_another_database(context.path) {
        return;
    }
    // MySQL constructs are the other rule's, when it runs.
    let mysql_reported = context.settings.is_enabled(RuleId::MysqlSyntaxInPostgres);
    for (item_start, statement) in statements(context) {
        let rejection = if mysql_reported {
            &statement.rejection
        } else {
            &statement.rejection_as_written
        };
        let Some(rejection) = rejection else {
            continue;
        };
        let start = item_start + statement.range.start;
        let range = start + rejection.range.start..start + rejection.range.end;
        findings.push(RULE.finding(range, readable(&rejection.message)));
    }
}

/// The server's message, with the token it names in code quotes.
fn readable(message: &str) -> String {
    let message = match message.rsplit_once(" at or near \"") {
        Some((what, near)) => {
            let near = near.strip_suffix('"').unwrap_or(near);
            format!("{what} at `{}`", crate::rules::shorten(near, 40))
        }
        None => message.to_string(),
    };
    format!("PostgreSQL rejects this statement: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_quote_the_token() {
        assert_eq!(
            readable("syntax error at or near \"FORM\""),
            "PostgreSQL rejects this statement: syntax error at `FORM`"
        );
        assert_eq!(
            readable("syntax error at end of input"),
            "PostgreSQL rejects this statement: syntax error at end of input"
        );
    }
}
