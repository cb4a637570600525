//! Whether PostgreSQL's own grammar accepts a piece of SQL, and where it stops if not:
//! libpg_query (the server's parser, through `pg_query`) judges, so only what the
//! server would reject is reported.
//!
//! `pg_query`'s errors carry no position, so one is recovered: the text is split into
//! statements with the server's scanner, the first statement that fails is found, and
//! the token the message names is the first one at which a prefix of the statement
//! fails the same way.
//!
//! Driver placeholders (`:name`, `%s`, `%(name)s`, `?`, expanding `IN :ids`) are not
//! PostgreSQL; they are rewritten to `$n` first, found by the server's scanner so that
//! strings, comments and `::` casts are never touched.

use std::ops::Range;

use pg_query::protobuf::{ScanToken, Token};

/// A statement PostgreSQL rejects: where (bytes of the text given) and the server's
/// message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub range: Range<usize>,
    pub message: String,
}

/// The first statement of `sql` that PostgreSQL rejects, once driver placeholders are
/// read as parameters. `None` when every statement parses.
pub fn first_rejection(sql: &str) -> Option<Rejection> {
    rejection_of(sql, Split::WithScanner)
}

/// What PostgreSQL rejects in `statement`, read as one statement (a file's statements
/// are already split: `syntax::sql_items` knows `BEGIN ATOMIC` bodies, which the
/// server's scanner splits at their `;`).
pub fn statement_rejection(statement: &str) -> Option<Rejection> {
    rejection_of(statement, Split::No)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Split {
    WithScanner,
    No,
}

fn rejection_of(sql: &str, split: Split) -> Option<Rejection> {
    // `?` is also PostgreSQL's JSONB operator: read it as a placeholder only when the
    // text does not parse with it as an operator.
    let as_written = Rewritten::new(sql, false, false)?;
    let rejection = as_written.first_rejection(split)?;
    // In a SQL file `:name` is psql's variable, which psql pastes in as written: a
    // name where the grammar wants one (`CREATE USER :reader`), else a value.
    if split == Split::No
        && as_written.changed_names
        && Rewritten::new(sql, false, true)?
            .first_rejection(split)
            .is_none()
    {
        return None;
    }
    let Some(with_qmarks) = Rewritten::new(sql, true, false).filter(|text| text.changed_qmarks)
    else {
        return Some(rejection);
    };
    with_qmarks.first_rejection(split)
}

/// `sql` with its placeholders rewritten, and the way back to the original's offsets.
struct Rewritten<'s> {
    original: &'s str,
    text: String,
    /// (offset in `text`, offset in `original`) at the start of each rewritten piece.
    anchors: Vec<(usize, usize)>,
    changed_qmarks: bool,
    /// A `:name` placeholder was rewritten.
    changed_names: bool,
}

impl<'s> Rewritten<'s> {
    /// `qmarks`: `?` is a placeholder; `names_as_identifiers`: `:name` stands for the
    /// name `name` (psql pastes its variable in), not a parameter.
    fn new(original: &'s str, qmarks: bool, names_as_identifiers: bool) -> Option<Rewritten<'s>> {
        // A NUL byte cannot reach the C parser, and is no SQL either.
        if original.contains('\0') {
            return None;
        }
        let tokens = tokens_of(original);
        let mut rewritten = Rewritten {
            original,
            text: String::with_capacity(original.len() + 8),
            anchors: vec![(0, 0)],
            changed_qmarks: false,
            changed_names: false,
        };
        let mut copied_to = 0;
        let mut number = 0;
        let mut index = 0;
        while index < tokens.len() {
            // psql's `:'name'` and `:"name"` (a variable as a string or a name): the
            // string or name itself stands for it.
            if let Some(quoted) = psql_quoted_variable(original, &tokens[index..]) {
                let colon = token_start(&tokens[index]);
                rewritten.replace(copied_to..colon, colon..colon + 1, "");
                copied_to = colon + 1;
                index += 1 + quoted;
                continue;
            }
            let Some((length, is_qmark)) = placeholder_at(original, &tokens[index..], qmarks)
            else {
                index += 1;
                continue;
            };
            let (start, end) = (
                token_start(&tokens[index]),
                token_end(&tokens[index + length - 1]),
            );
            let is_name = original.get(start..start + 1) == Some(":");
            rewritten.changed_names |= is_name;
            if is_name && names_as_identifiers {
                rewritten.replace(copied_to..start, start..start + 1, "");
                copied_to = start + 1;
                index += length;
                continue;
            }
            let after_in = index > 0 && tokens[index - 1].token == Token::InP as i32;
            number += 1;
            let parameter = if after_in {
                format!("(${number})")
            } else {
                format!("${number}")
            };
            rewritten.replace(copied_to..start, start..end, &parameter);
            rewritten.changed_qmarks |= is_qmark;
            copied_to = end;
            index += length;
        }
        rewritten.text.push_str(original.get(copied_to..)?);
        Some(rewritten)
    }

    /// Copy `kept` of the original, then put `replacement` for `replaced`.
    fn replace(&mut self, kept: Range<usize>, replaced: Range<usize>, replacement: &str) {
        // Token offsets are on character boundaries; `get` keeps a surprise from panicking.
        self.text
            .push_str(self.original.get(kept).unwrap_or_default());
        self.anchors.push((self.text.len(), replaced.start));
        self.text.push_str(replacement);
        // Past the replacement, offsets line up with the original again.
        self.anchors.push((self.text.len(), replaced.end));
    }

    /// The original's offset for an offset of the rewritten text.
    fn original_offset(&self, offset: usize) -> usize {
        let (text_at, original_at) = self
            .anchors
            .iter()
            .rev()
            .find(|(text_at, _)| *text_at <= offset)
            .copied()
            .unwrap_or((0, 0));
        (original_at + (offset - text_at)).min(self.original.len())
    }

    fn first_rejection(&self, split: Split) -> Option<Rejection> {
        let text = self.text.as_str();
        let split = match split {
            Split::WithScanner => pg_query::split_with_scanner(text).ok(),
            Split::No => None,
        };
        let statements = match split {
            Some(statements) if !statements.is_empty() => statements,
            // One statement, or the scanner itself fails (an unterminated string):
            // judge the whole text.
            _ => vec![text],
        };
        for statement in statements {
            let Err(error) = pg_query::parse(statement, 0) else {
                continue;
            };
            let message = match error {
                pg_query::Error::Parse(message) | pg_query::Error::Scan(message) => message,
                _ => continue,
            };
            let statement_start = statement.as_ptr() as usize - text.as_ptr() as usize;
            let within = locate(statement, &message);
            let start = self.original_offset(statement_start + within.start);
            let end = self
                .original_offset(statement_start + within.end)
                .max(start);
            return Some(Rejection {
                range: start..end,
                message,
            });
        }
        None
    }
}

/// The server scanner's tokens (none where it fails). Through `pg_query::scan`, not
/// `scan_tokens`: pg_query 18.1's `scan_tokens` builds a slice from a null pointer when
/// the text has no token (undefined behaviour; a debug build aborts).
fn tokens_of(sql: &str) -> Vec<ScanToken> {
    pg_query::scan(sql)
        .map(|result| result.tokens)
        .unwrap_or_default()
}

fn token_start(token: &ScanToken) -> usize {
    usize::try_from(token.start).unwrap_or(0)
}

fn token_end(token: &ScanToken) -> usize {
    usize::try_from(token.end).unwrap_or(0)
}

/// `Some(1)` when `tokens` start with psql's `:'name'` or `:"name"`: a `:` right
/// before a string or a quoted name.
fn psql_quoted_variable(sql: &str, tokens: &[ScanToken]) -> Option<usize> {
    let (colon, quoted) = (tokens.first()?, tokens.get(1)?);
    let is_colon = sql.get(token_start(colon)..token_end(colon)) == Some(":");
    let starts_quoted = sql
        .get(token_start(quoted)..)
        .is_some_and(|rest| rest.starts_with('\'') || rest.starts_with('"'));
    (is_colon && token_end(colon) == token_start(quoted) && starts_quoted).then_some(1)
}

/// How many tokens from `tokens[0]` make a driver placeholder, and whether it is a `?`.
fn placeholder_at(sql: &str, tokens: &[ScanToken], qmarks: bool) -> Option<(usize, bool)> {
    let text = |index: usize| -> Option<&str> {
        let token = tokens.get(index)?;
        sql.get(token_start(token)..token_end(token))
    };
    let adjacent = |index: usize| -> bool {
        matches!((tokens.get(index), tokens.get(index + 1)), (Some(left), Some(right)) if token_end(left) == token_start(right))
    };
    let is_word = |index: usize| -> bool {
        text(index).is_some_and(|word| {
            word.starts_with(|c: char| c.is_alphabetic() || c == '_')
                && word.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
    };
    match text(0)? {
        // SQLAlchemy's and many drivers' `:name`.
        ":" if adjacent(0) && is_word(1) => Some((2, false)),
        // psycopg's `%s` (also `%b`, `%t`) and `%(name)s`.
        "%" if adjacent(0) && matches!(text(1), Some("s" | "b" | "t")) => Some((2, false)),
        "%" if (0..4).all(adjacent)
            && text(1) == Some("(")
            && is_word(2)
            && text(3) == Some(")")
            && matches!(text(4), Some("s" | "b" | "t")) =>
        {
            Some((5, false))
        }
        "?" if qmarks => Some((1, true)),
        _ => None,
    }
}

/// Where in `statement` the server's `message` points: the token it names, found as the
/// first token at which the statement's prefix fails with that message; the end of the
/// statement for "at end of input".
fn locate(statement: &str, message: &str) -> Range<usize> {
    let tokens = tokens_of(statement);
    let last_token = tokens
        .iter()
        .rev()
        .find(|token| !is_comment(token))
        .map(|token| token_start(token)..token_end(token));
    let Some(near) = near_text(message) else {
        return last_token.unwrap_or(0..statement.len());
    };
    let candidates: Vec<Range<usize>> = tokens
        .iter()
        .filter(|token| statement.get(token_start(token)..token_end(token)) == Some(near))
        .map(|token| token_start(token)..token_end(token))
        .collect();
    let first_candidate = candidates.first().cloned();
    // A prefix that ends before the rejected token parses or fails at its end; one that
    // ends at it or after fails at it: the first such candidate is found by halving
    // (a long statement may hold thousands of `(` or `,`).
    let fails_there = |range: &Range<usize>| {
        statement.get(..range.end).is_some_and(|prefix| {
            pg_query::parse(prefix, 0)
                .err()
                .is_some_and(|error| error.to_string().contains(message))
        })
    };
    let first_failing = candidates.partition_point(|range| !fails_there(range));
    if let Some(range) = candidates.get(first_failing) {
        return range.clone();
    }
    first_candidate
        .or_else(|| {
            // Scanner errors quote the rest of the text from where they start.
            // The quoted text up to its first white space (Unicode's: PostgreSQL's
            // scanner takes a no-break space as part of a word), at least one whole
            // character.
            statement.find(near).map(|at| {
                let first = near.chars().next().map_or(0, char::len_utf8);
                let length = near
                    .find(char::is_whitespace)
                    .unwrap_or(near.len())
                    .max(first);
                at..at + length
            })
        })
        .or(last_token)
        .unwrap_or(0..statement.len())
}

/// `X` of `... at or near "X"`.
fn near_text(message: &str) -> Option<&str> {
    let (_, rest) = message.rsplit_once(" at or near \"")?;
    rest.strip_suffix('"')
}

fn is_comment(token: &ScanToken) -> bool {
    token.token == Token::SqlComment as i32 || token.token == Token::CComment as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(sql: &str) -> Option<(&str, String)> {
        first_rejection(sql).map(|rejection| (&sql[rejection.range], rejection.message))
    }

    #[test]
    fn valid_postgresql_is_accepted_with_every_placeholder_style() {
        for sql in [
            "SELECT * FROM users WHERE id = :id AND created_at > now() - interval '1 day'",
            "SELECT * FROM users WHERE id = %s AND name = %(name)s AND note LIKE 'a%%'",
            "SELECT * FROM users WHERE id = $1",
            "SELECT * FROM users WHERE id = ? AND team = ?",
            "SELECT * FROM users WHERE id IN :ids",
            "SELECT data ? 'key', id::text, '10:30'::time FROM events -- :not_a_param\n",
            "CREATE INDEX ix ON items USING hnsw (embedding public.vector_cosine_ops)",
            "DROP INDEX CONCURRENTLY IF EXISTS ix_users_email",
            "INSERT INTO t (c) VALUES (1) ON CONFLICT (c) WHERE c > 0 DO UPDATE SET c = excluded.c",
            "ALTER INDEX IF EXISTS ix_old RENAME TO ix_new",
            "ALTER TABLE t ALTER COLUMN id DROP IDENTITY IF EXISTS",
            "ALTER TABLE t RESET (fillfactor)",
            "SELECT 1; SELECT 2;",
            "SELECT * FROM t WHERE slug = :'tenant' AND x = :name",
            "CREATE SCHEMA IF NOT EXISTS :\"schema\"",
        ] {
            assert_eq!(rejected(sql), None, "{sql}");
        }
    }

    #[test]
    fn rejections_point_at_the_token() {
        assert_eq!(
            rejected("SELECT * FORM users"),
            Some(("FORM", "syntax error at or near \"FORM\"".to_string()))
        );
        // The third `users`, where the grammar stops, not the first two.
        assert_eq!(
            first_rejection("SELECT users.id users users FROM users").map(|r| r.range),
            Some(22..27)
        );
        // In the second statement; PostgreSQL reads a backtick as an operator.
        assert_eq!(
            rejected("SELECT 1; SELECT `id` FROM t"),
            Some(("FROM", "syntax error at or near \"FROM\"".to_string()))
        );
        // A no-break space is no white space to the scanner: the range keeps it whole.
        assert_eq!(first_rejection("\u{a0}'").map(|r| r.range), Some(0..2));
        assert_eq!(
            rejected("SELECT id FROM"),
            Some(("FROM", "syntax error at end of input".to_string()))
        );
        // After a rewritten placeholder, offsets are the original's.
        assert_eq!(
            first_rejection("SELECT * FROM t WHERE a IN :ids FORM").map(|r| r.range),
            Some(32..36)
        );
        assert_eq!(
            first_rejection("SELECT * FROM t WHERE a = ? AND b = ? LIMIT").map(|r| r.range),
            Some(38..43)
        );
    }

    proptest::proptest! {
        /// Any text, SQL-like or not: a rejection's range lies inside it, on character
        /// boundaries (the finding is cut from it), and nothing panics.
        #[test]
        fn rejections_stay_inside_the_text(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "SELECT", "FROM", "WHERE", "IN", ":ids", "%s", "%(n)s", "?", "$1", "'é'",
                    "\"x\"", "--c\n", "/*", "*/", "(", ")", ",", ";", "::", "é", "日本", "`", "=",
                ]),
                0..24,
            ),
            tail in "\\PC{0,12}",
        ) {
            let sql = format!("{}{tail}", words.join(" "));
            if let Some(rejection) = first_rejection(&sql) {
                proptest::prop_assert!(rejection.range.start <= rejection.range.end);
                proptest::prop_assert!(sql.get(rejection.range.clone()).is_some(), "{:?} in {sql:?}", rejection.range);
            }
        }
    }
}
