//! MySQL constructs in a statement meant for PostgreSQL, and what PostgreSQL writes
//! instead. Some PostgreSQL's grammar rejects (`AUTO_INCREMENT`, `UNSIGNED`, table
//! options); others it accepts and means something else, so they are found by what
//! they are, not by the parser's verdict: `KEY idx (a, b)` inside `CREATE TABLE`
//! parses as a column named `key` of a made-up type `idx`, `DATETIME` and `TINYINT(1)`
//! as types that do not exist.
//!
//! Each construct carries the edit that writes it as PostgreSQL (when one is
//! mechanical) and a *repair*: the edit that lets PostgreSQL's parser read the rest of
//! the statement, so one MySQL-ism neither hides the statement's real syntax errors
//! nor its tables and columns (`sql_statements`).

use std::ops::Range;

use super::sql_tokens::{SqlToken, TokenKind, closing_parenthesis, list_elements};

/// A MySQL construct in one statement. Offsets are the statement text's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MysqlConstruct {
    pub range: Range<usize>,
    pub message: String,
    pub fix: Option<ConstructFix>,
    /// Edits that let PostgreSQL's parser read the statement past the construct.
    pub repair: Vec<(Range<usize>, String)>,
    /// For `AUTO_INCREMENT`: the table and column, whose explicit inserts decide
    /// between `ALWAYS` and `BY DEFAULT` (`mysql-syntax-in-postgres`).
    pub identity: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstructFix {
    pub title: String,
    pub safe: bool,
    /// Edits of the statement text.
    pub edits: Vec<(Range<usize>, String)>,
    /// Statements to add after this one (`CREATE INDEX ...;`), each without its `;`.
    pub after: Vec<String>,
    /// The fix removes the whole statement (with its `;`).
    pub removes_statement: bool,
}

impl MysqlConstruct {
    /// A construct PostgreSQL writes by leaving it out: the fix and the repair remove
    /// `removal` (the construct, with the white space before it).
    fn removable(
        range: Range<usize>,
        removal: Range<usize>,
        message: String,
        title: String,
        safe: bool,
    ) -> MysqlConstruct {
        MysqlConstruct {
            range,
            message,
            fix: Some(ConstructFix::edit(
                title,
                safe,
                vec![(removal.clone(), String::new())],
            )),
            repair: vec![(removal, String::new())],
            identity: None,
        }
    }

    /// A statement PostgreSQL has no use for (`SET FOREIGN_KEY_CHECKS`, `LOCK TABLES`):
    /// the unsafe fix removes it whole.
    fn whole_statement(statement: &str, range: Range<usize>, message: String) -> MysqlConstruct {
        let written = &statement[range.clone()];
        MysqlConstruct {
            message,
            fix: Some(ConstructFix {
                removes_statement: true,
                ..ConstructFix::edit(
                    format!("Remove the `{written}` statement"),
                    false,
                    Vec::new(),
                )
            }),
            repair: vec![(0..statement.len(), String::new())],
            identity: None,
            range,
        }
    }
}

impl ConstructFix {
    fn edit(title: impl Into<String>, safe: bool, edits: Vec<(Range<usize>, String)>) -> Self {
        ConstructFix {
            title: title.into(),
            safe,
            edits,
            after: Vec::new(),
            removes_statement: false,
        }
    }
}

/// The MySQL constructs of `statement` (whose tokens are `tokens`), in text order.
pub fn constructs(statement: &str, tokens: &[SqlToken]) -> Vec<MysqlConstruct> {
    let mut found = Vec::new();
    backticks(statement, tokens, &mut found);
    let word = |index: usize, keyword: &str| {
        tokens
            .get(index)
            .is_some_and(|token| token.is(statement, keyword))
    };
    if word(0, "CREATE") {
        let mut at = 1;
        while ["TEMPORARY", "TEMP", "UNLOGGED", "GLOBAL", "LOCAL"]
            .iter()
            .any(|keyword| word(at, keyword))
        {
            at += 1;
        }
        if word(at, "TABLE") {
            create_table(statement, tokens, at + 1, &mut found);
        }
    } else if word(0, "ALTER") && word(1, "TABLE") {
        alter_table(statement, tokens, &mut found);
    } else if word(0, "SET") {
        mysql_setting(statement, tokens, &mut found);
    } else if (word(0, "LOCK") && word(1, "TABLES")) || (word(0, "UNLOCK") && word(1, "TABLES")) {
        let range = tokens[0].range.start..tokens[1].range.end;
        let keyword = &statement[range.clone()];
        let message = format!(
            "`{keyword}` is MySQL; PostgreSQL locks with `LOCK TABLE name IN ... MODE` inside a transaction"
        );
        found.push(MysqlConstruct::whole_statement(statement, range, message));
    } else if word(0, "INSERT") || word(0, "REPLACE") {
        insert(statement, tokens, &mut found);
    }
    found.sort_by_key(|construct| construct.range.start);
    found
}

/// `` `name` ``: one finding per statement, whose fix quotes them all as PostgreSQL does.
fn backticks(statement: &str, tokens: &[SqlToken], found: &mut Vec<MysqlConstruct>) {
    let quoted: Vec<&SqlToken> = tokens
        .iter()
        .filter(|token| token.kind == TokenKind::Backticked)
        .collect();
    let Some(first) = quoted.first() else {
        return;
    };
    let edits: Vec<(Range<usize>, String)> = quoted
        .iter()
        .map(|token| (token.range.clone(), pg_identifier(&token.name(statement))))
        .collect();
    let more = match quoted.len() {
        1 => String::new(),
        count => format!(" ({count} in this statement)"),
    };
    found.push(MysqlConstruct {
        range: first.range.clone(),
        message: format!(
            "`{}` is quoted with backticks, MySQL's identifier quotes{more}; PostgreSQL reads a backtick as an operator and quotes names with double quotes",
            first.name(statement)
        ),
        fix: Some(ConstructFix::edit(
            "Quote identifiers as PostgreSQL does",
            true,
            edits.clone(),
        )),
        repair: edits,
        identity: None,
    });
}

/// `CREATE TABLE name (...) options`, `name` at `at`.
fn create_table(
    statement: &str,
    tokens: &[SqlToken],
    mut at: usize,
    found: &mut Vec<MysqlConstruct>,
) {
    let word = |index: usize, keyword: &str| {
        tokens
            .get(index)
            .is_some_and(|token| token.is(statement, keyword))
    };
    if word(at, "IF") && word(at + 1, "NOT") && word(at + 2, "EXISTS") {
        at += 3;
    }
    let Some(table) = qualified_name(statement, tokens, at) else {
        return;
    };
    let open = table.next;
    if !tokens
        .get(open)
        .is_some_and(|token| token.is_punctuation(b'('))
    {
        return;
    }
    let Some(close) = closing_parenthesis(tokens, open) else {
        return;
    };
    let elements = list_elements(tokens, open, close);
    for (index, element) in elements.iter().enumerate() {
        let removal = element_removal(tokens, &elements, index, open, close);
        table_element(
            statement,
            tokens,
            element.clone(),
            &table.pg_name,
            removal,
            found,
        );
    }
    table_options(statement, tokens, close, found);
}

/// A table's name as written (`schema.name`, any quotes), where it ends, and how
/// PostgreSQL writes it.
struct QualifiedName {
    pg_name: String,
    /// The index of the token after the name.
    next: usize,
}

fn qualified_name(statement: &str, tokens: &[SqlToken], at: usize) -> Option<QualifiedName> {
    let mut parts = Vec::new();
    let mut index = at;
    loop {
        let token = tokens.get(index).filter(|token| token.is_name())?;
        parts.push(token.name(statement));
        index += 1;
        if tokens
            .get(index)
            .is_some_and(|token| token.is_punctuation(b'.'))
        {
            index += 1;
            continue;
        }
        break;
    }
    let pg_name = parts
        .iter()
        .map(|part| pg_identifier(part))
        .collect::<Vec<_>>()
        .join(".");
    Some(QualifiedName {
        pg_name,
        next: index,
    })
}

/// The bytes to remove to drop the list element `index` of `elements` with one of the
/// commas around it.
fn element_removal(
    tokens: &[SqlToken],
    elements: &[Range<usize>],
    index: usize,
    open: usize,
    close: usize,
) -> Range<usize> {
    let element = &elements[index];
    let last_token = element.end.saturating_sub(1).max(element.start);
    let end = tokens[last_token].range.end;
    if index > 0 {
        // From the comma before it (the one after the previous element).
        let comma = elements[index - 1].end;
        return tokens[comma].range.start..end;
    }
    match elements.get(1) {
        Some(next) => tokens[element.start].range.start..tokens[next.start].range.start,
        None => tokens[open].range.end..tokens[close].range.start,
    }
}

/// One element of a `CREATE TABLE` list: a MySQL index, or a column with MySQL types
/// and attributes.
fn table_element(
    statement: &str,
    tokens: &[SqlToken],
    element: Range<usize>,
    table: &str,
    removal: Range<usize>,
    found: &mut Vec<MysqlConstruct>,
) {
    let Some(first) = tokens.get(element.start) else {
        return;
    };
    let word =
        |index: usize, keyword: &str| index < element.end && tokens[index].is(statement, keyword);
    let start = element.start;
    if [
        "CONSTRAINT",
        "PRIMARY",
        "FOREIGN",
        "CHECK",
        "EXCLUDE",
        "LIKE",
    ]
    .iter()
    .any(|keyword| first.is(statement, keyword))
    {
        return;
    }
    if word(start, "UNIQUE") && (word(start + 1, "KEY") || word(start + 1, "INDEX")) {
        unique_key(statement, tokens, element, found);
        return;
    }
    if (word(start, "FULLTEXT") || word(start, "SPATIAL")) && element.len() > 1 {
        let kind = first.text(statement).to_ascii_uppercase();
        found.push(MysqlConstruct {
            range: first.range.start..tokens[element.end - 1].range.end,
            message: format!(
                "`{kind}` indexes are MySQL; PostgreSQL searches text with a GIN index over `to_tsvector(...)` and geometry with GiST"
            ),
            fix: None,
            repair: vec![(removal, String::new())],
            identity: None,
        });
        return;
    }
    if (word(start, "KEY") || word(start, "INDEX")) && is_mysql_index(statement, tokens, &element) {
        mysql_index(statement, tokens, element, table, removal, found);
        return;
    }
    if first.is_name() {
        column(statement, tokens, element, table, found);
    }
}

/// Whether `KEY ...`/`INDEX ...` is an index (`KEY idx (a, b)`, `KEY (a)`) rather than
/// a column named `key` (`key varchar(255)`, `key text`).
fn is_mysql_index(statement: &str, tokens: &[SqlToken], element: &Range<usize>) -> bool {
    let Some(second) = tokens.get(element.start + 1).filter(|_| element.len() > 1) else {
        return false;
    };
    if second.is_punctuation(b'(') {
        return true;
    }
    if !second.is_name() || is_type_name(&second.name(statement)) {
        return false;
    }
    let Some(open) = (element.start + 2..element.end).find(|index| {
        let token = &tokens[*index];
        token.is_punctuation(b'(')
    }) else {
        return false;
    };
    let Some(close) = closing_parenthesis(tokens, open).filter(|close| *close < element.end) else {
        return false;
    };
    // An index lists columns; a type's modifiers are numbers.
    list_elements(tokens, open, close).iter().all(|part| {
        tokens
            .get(part.start)
            .is_some_and(|token| token.is_name() && token.kind != TokenKind::Reserved)
    })
}

/// Types a column named `key` or `index` may have.
fn is_type_name(name: &str) -> bool {
    const TYPES: &[&str] = &[
        "int",
        "integer",
        "bigint",
        "smallint",
        "tinyint",
        "mediumint",
        "serial",
        "bigserial",
        "varchar",
        "char",
        "character",
        "text",
        "longtext",
        "mediumtext",
        "tinytext",
        "blob",
        "bytea",
        "uuid",
        "json",
        "jsonb",
        "boolean",
        "bool",
        "date",
        "time",
        "timestamp",
        "timestamptz",
        "datetime",
        "numeric",
        "decimal",
        "real",
        "double",
        "float",
        "enum",
        "binary",
        "varbinary",
        "bit",
        "inet",
        "citext",
    ];
    TYPES.contains(&name.to_ascii_lowercase().as_str())
}

/// The columns of an index list, as PostgreSQL writes them: names quoted as needed,
/// MySQL prefix lengths (`name(10)`) dropped, `ASC`/`DESC` kept.
fn index_columns(statement: &str, tokens: &[SqlToken], open: usize, close: usize) -> String {
    list_elements(tokens, open, close)
        .iter()
        .filter_map(|part| {
            let name = tokens.get(part.start).filter(|token| token.is_name())?;
            let mut column = pg_identifier(&name.name(statement));
            for token in &tokens[part.start + 1..part.end] {
                if token.is(statement, "ASC") || token.is(statement, "DESC") {
                    column.push(' ');
                    column.push_str(&token.text(statement).to_ascii_uppercase());
                }
            }
            Some(column)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The index's name (when it has one) and the `(`/`)` of its column list, past
/// `KEY`/`INDEX` at `after`.
fn index_parts(
    statement: &str,
    tokens: &[SqlToken],
    after: usize,
    end: usize,
) -> Option<(Option<String>, usize, usize)> {
    let name = tokens
        .get(after)
        .filter(|token| after < end && token.is_name() && !token.is(statement, "USING"))
        .map(|token| token.name(statement));
    let open = (after..end).find(|index| tokens[*index].is_punctuation(b'('))?;
    let close = closing_parenthesis(tokens, open).filter(|close| *close < end)?;
    Some((name, open, close))
}

/// `KEY idx (a, b)` / `INDEX idx (a)` inside `CREATE TABLE`: moved out to a
/// `CREATE INDEX` after the statement.
fn mysql_index(
    statement: &str,
    tokens: &[SqlToken],
    element: Range<usize>,
    table: &str,
    removal: Range<usize>,
    found: &mut Vec<MysqlConstruct>,
) {
    let first = &tokens[element.start];
    let range = first.range.start..tokens[element.end - 1].range.end;
    let fix = index_parts(statement, tokens, element.start + 1, element.end).map(
        |(name, open, close)| {
            let columns = index_columns(statement, tokens, open, close);
            let name = name.map(|name| format!("{} ", pg_identifier(&name)));
            let create = format!(
                "CREATE INDEX {}ON {table} ({columns})",
                name.unwrap_or_default()
            );
            ConstructFix {
                after: vec![create.clone()],
                ..ConstructFix::edit(
                    format!("Move it to `{create};` after the table"),
                    true,
                    vec![(removal.clone(), String::new())],
                )
            }
        },
    );
    let keyword = first.text(statement).to_ascii_uppercase();
    // As PostgreSQL would quote it: the code span holds no backticks.
    let shown = index_parts(statement, tokens, element.start + 1, element.end).map_or(
        keyword.clone(),
        |(name, open, close)| {
            let name = name.map(|name| format!(" {}", pg_identifier(&name)));
            format!(
                "{keyword}{} ({})",
                name.unwrap_or_default(),
                index_columns(statement, tokens, open, close)
            )
        },
    );
    found.push(MysqlConstruct {
        range,
        message: format!(
            "`{}` declares an index the MySQL way; PostgreSQL reads `{keyword} ...` inside `CREATE TABLE` as a column named \"{}\" and creates indexes with `CREATE INDEX`",
            crate::rules::shorten(&shown, 60),
            keyword.to_ascii_lowercase()
        ),
        fix,
        repair: vec![(removal, String::new())],
        identity: None,
    });
}

/// `UNIQUE KEY name (a)`: PostgreSQL's `CONSTRAINT name UNIQUE (a)`.
fn unique_key(
    statement: &str,
    tokens: &[SqlToken],
    element: Range<usize>,
    found: &mut Vec<MysqlConstruct>,
) {
    let first = &tokens[element.start];
    let range = first.range.start..tokens[element.end - 1].range.end;
    let Some((name, open, close)) = index_parts(statement, tokens, element.start + 2, element.end)
    else {
        return;
    };
    let columns = index_columns(statement, tokens, open, close);
    let replacement = match &name {
        Some(name) => format!("CONSTRAINT {} UNIQUE ({columns})", pg_identifier(name)),
        None => format!("UNIQUE ({columns})"),
    };
    let keyword = statement[first.range.start..tokens[element.start + 1].range.end].to_string();
    found.push(MysqlConstruct {
        range: range.clone(),
        message: format!(
            "`{keyword}` is MySQL; PostgreSQL writes a unique constraint as `{replacement}`"
        ),
        fix: Some(ConstructFix::edit(
            format!("Write it as `{replacement}`"),
            true,
            vec![(range.clone(), replacement.clone())],
        )),
        repair: vec![(range, replacement)],
        identity: None,
    });
}

/// A column definition of `CREATE TABLE` or `ALTER TABLE ... ADD`: MySQL types and
/// attributes.
fn column(
    statement: &str,
    tokens: &[SqlToken],
    element: Range<usize>,
    table: &str,
    found: &mut Vec<MysqlConstruct>,
) {
    let name_token = &tokens[element.start];
    let column = name_token.name(statement);
    let type_at = element.start + 1;
    if type_at >= element.end {
        return;
    }
    column_type(statement, tokens, type_at, element.end, found);
    let auto_increment =
        (type_at..element.end).any(|index| tokens[index].is(statement, "AUTO_INCREMENT"));
    let mut index = type_at;
    while index < element.end {
        let token = &tokens[index];
        let word = |at: usize, keyword: &str| at < element.end && tokens[at].is(statement, keyword);
        if token.is(statement, "UNSIGNED") || token.is(statement, "ZEROFILL") {
            let keyword = token.text(statement).to_ascii_uppercase();
            let removal = with_space_before(statement, token.range.clone());
            let (replacement, title) = if auto_increment || keyword == "ZEROFILL" {
                (String::new(), format!("Remove `{keyword}`"))
            } else {
                let check = format!(" CHECK ({} >= 0)", pg_identifier(&column));
                let title = format!("Write it as `{}`", check.trim());
                (check, title)
            };
            found.push(MysqlConstruct {
                range: token.range.clone(),
                message: if keyword == "ZEROFILL" {
                    "`ZEROFILL` is MySQL; PostgreSQL pads numbers when formatting them (`to_char`, `lpad`)".to_string()
                } else {
                    "`UNSIGNED` is MySQL; PostgreSQL has no unsigned integers (a `CHECK (... >= 0)` constraint keeps negatives out)".to_string()
                },
                fix: Some(ConstructFix::edit(title, true, vec![(removal.clone(), replacement)])),
                repair: vec![(removal, String::new())],
                identity: None,
            });
        } else if token.is(statement, "AUTO_INCREMENT") {
            let identity = "GENERATED ALWAYS AS IDENTITY".to_string();
            found.push(MysqlConstruct {
                range: token.range.clone(),
                message: "`AUTO_INCREMENT` is MySQL; PostgreSQL numbers rows with an identity column (`GENERATED ... AS IDENTITY`)".to_string(),
                fix: Some(ConstructFix::edit(
                    format!("Write it as `{identity}`"),
                    false,
                    vec![(token.range.clone(), identity.clone())],
                )),
                repair: vec![(token.range.clone(), identity)],
                identity: Some((table.to_string(), column.clone())),
            });
        } else if token.is(statement, "ON")
            && word(index + 1, "UPDATE")
            && [
                "CURRENT_TIMESTAMP",
                "NOW",
                "LOCALTIMESTAMP",
                "CURRENT_TIMESTAMP",
            ]
            .iter()
            .any(|keyword| word(index + 2, keyword))
        {
            let mut end = index + 3;
            if tokens
                .get(end)
                .is_some_and(|token| token.is_punctuation(b'('))
                && let Some(close) = closing_parenthesis(tokens, end)
            {
                end = close + 1;
            }
            let end = end.min(element.end);
            let range = token.range.start..tokens[end - 1].range.end;
            let written = statement[range.clone()].to_string();
            let removal = with_space_before(statement, range.clone());
            found.push(MysqlConstruct::removable(
                range,
                removal,
                format!(
                    "`{written}` is MySQL; PostgreSQL sets a column on every update with a `BEFORE UPDATE` trigger"
                ),
                format!("Remove `{written}` (add a trigger to keep it current)"),
                false,
            ));
            index = end;
            continue;
        } else if token.is(statement, "COMMENT")
            && tokens
                .get(index + 1)
                .is_some_and(|next| index + 1 < element.end && next.kind == TokenKind::String)
        {
            let text = tokens[index + 1].text(statement).to_string();
            let range = token.range.start..tokens[index + 1].range.end;
            let removal = with_space_before(statement, range.clone());
            let mut construct = MysqlConstruct::removable(
                range,
                removal,
                "A column's `COMMENT '...'` is MySQL; PostgreSQL writes `COMMENT ON COLUMN table.column IS '...'`".to_string(),
                "Move it to `COMMENT ON COLUMN` after the table".to_string(),
                true,
            );
            if let Some(fix) = construct.fix.as_mut() {
                fix.after.push(format!(
                    "COMMENT ON COLUMN {table}.{} IS {text}",
                    pg_identifier(&column)
                ));
            }
            found.push(construct);
            index += 2;
            continue;
        } else if let Some(length) = character_set(statement, tokens, index, element.end) {
            let range = token.range.start..tokens[index + length - 1].range.end;
            let written = statement[range.clone()].to_string();
            let removal = with_space_before(statement, range.clone());
            let why = if token.is(statement, "COLLATE") {
                "PostgreSQL's collations are named for locales (`\"C\"`, `\"und-x-icu\"`)"
            } else {
                "a PostgreSQL database has one encoding, chosen when it is created"
            };
            found.push(MysqlConstruct::removable(
                range,
                removal,
                format!("`{written}` is MySQL; {why}"),
                format!("Remove `{written}`"),
                true,
            ));
            index += length;
            continue;
        }
        index += 1;
    }
}

/// How many tokens from `at` make a MySQL character set or collation
/// (`CHARACTER SET utf8mb4`, `CHARSET latin1`, `COLLATE utf8mb4_unicode_ci`).
fn character_set(statement: &str, tokens: &[SqlToken], at: usize, end: usize) -> Option<usize> {
    let word = |index: usize, keyword: &str| index < end && tokens[index].is(statement, keyword);
    let value_at = if word(at, "CHARACTER") && word(at + 1, "SET") {
        at + 2
    } else if word(at, "CHARSET") {
        at + 1
    } else if word(at, "COLLATE") {
        let value = tokens.get(at + 1).filter(|_| at + 1 < end)?;
        if !is_mysql_collation(&value.name(statement)) {
            return None;
        }
        at + 1
    } else {
        return None;
    };
    let value = tokens.get(value_at).filter(|_| value_at < end)?;
    matches!(
        value.kind,
        TokenKind::Word | TokenKind::Quoted | TokenKind::Backticked | TokenKind::String
    )
    .then_some(value_at + 1 - at)
}

/// MySQL's collations (`utf8mb4_unicode_ci`, `latin1_bin`, `binary`), not
/// PostgreSQL's (`"C"`, `"en_US"`, `und-x-icu`).
fn is_mysql_collation(name: &str) -> bool {
    let name = name.trim_matches(['\'', '"']).to_ascii_lowercase();
    name == "binary"
        || [
            "utf8", "latin1", "ascii", "ucs2", "utf16", "utf32", "cp1251",
        ]
        .iter()
        .any(|charset| name.starts_with(charset))
            && (name.ends_with("_ci") || name.ends_with("_bin") || name.ends_with("_cs"))
}

/// A MySQL type at `at`: what PostgreSQL calls it.
fn column_type(
    statement: &str,
    tokens: &[SqlToken],
    at: usize,
    end: usize,
    found: &mut Vec<MysqlConstruct>,
) {
    let token = &tokens[at];
    if !matches!(token.kind, TokenKind::Word | TokenKind::Reserved) {
        return;
    }
    let name = token.text(statement).to_ascii_uppercase();
    // The `(...)` after the type, when it has one.
    let modifiers = tokens
        .get(at + 1)
        .filter(|next| at + 1 < end && next.is_punctuation(b'('))
        .and_then(|_| closing_parenthesis(tokens, at + 1))
        .filter(|close| *close < end);
    let modifier_text = modifiers.map(|close| {
        statement[tokens[at + 1].range.start..tokens[close].range.end].replace(' ', "")
    });
    let type_end = modifiers.map_or(token.range.end, |close| tokens[close].range.end);
    let range = token.range.start..type_end;
    let written = statement[range.clone()].to_string();
    let (replacement, safe, why) = match name.as_str() {
        "DATETIME" => (
            format!("TIMESTAMP{}", modifier_text.clone().unwrap_or_default()),
            true,
            "PostgreSQL's date and time type is `TIMESTAMP`",
        ),
        "TINYINT" if modifier_text.as_deref() == Some("(1)") => (
            "BOOLEAN".to_string(),
            false,
            "MySQL's boolean is PostgreSQL's `BOOLEAN`",
        ),
        "TINYINT" => (
            "SMALLINT".to_string(),
            true,
            "PostgreSQL's smallest integer is `SMALLINT`",
        ),
        "MEDIUMINT" => ("INTEGER".to_string(), true, "PostgreSQL has `INTEGER`"),
        "INT" | "INTEGER" | "BIGINT" | "SMALLINT" if modifiers.is_some() => (
            name.clone(),
            true,
            "PostgreSQL's integers take no display width",
        ),
        "DOUBLE"
            if !tokens
                .get(at + 1)
                .is_some_and(|next| next.is(statement, "PRECISION")) =>
        {
            (
                "DOUBLE PRECISION".to_string(),
                true,
                "PostgreSQL's is `DOUBLE PRECISION`",
            )
        }
        "LONGTEXT" | "MEDIUMTEXT" | "TINYTEXT" => (
            "TEXT".to_string(),
            true,
            "PostgreSQL's `TEXT` holds any length",
        ),
        "LONGBLOB" | "MEDIUMBLOB" | "TINYBLOB" | "BLOB" => (
            "BYTEA".to_string(),
            true,
            "PostgreSQL's binary type is `BYTEA`",
        ),
        "ENUM" if modifiers.is_some() => {
            found.push(MysqlConstruct {
                range: range.clone(),
                message: format!(
                    "`{}` is MySQL's inline enum; PostgreSQL needs `CREATE TYPE ... AS ENUM (...)` or a `CHECK (... IN (...))` constraint",
                    crate::rules::shorten(&written, 40)
                ),
                fix: None,
                repair: vec![(range, "TEXT".to_string())],
                identity: None,
            });
            return;
        }
        _ => return,
    };
    let title = format!("Write it as `{replacement}`");
    let mut edits = vec![(range.clone(), replacement.clone())];
    if replacement == "BOOLEAN" {
        edits.extend(boolean_default(statement, tokens, at + 1, end));
    }
    found.push(MysqlConstruct {
        range: range.clone(),
        message: format!("`{written}` is a MySQL type; {why}"),
        fix: Some(ConstructFix::edit(title, safe, edits)),
        repair: vec![(range, replacement)],
        identity: None,
    });
}

/// A column's `DEFAULT 0`/`DEFAULT 1` (tokens `from..end`) written as the boolean it
/// stands for, once the column is `BOOLEAN`.
fn boolean_default(
    statement: &str,
    tokens: &[SqlToken],
    from: usize,
    end: usize,
) -> Option<(Range<usize>, String)> {
    let default = (from..end).find(|index| tokens[*index].is(statement, "DEFAULT"))?;
    let value = tokens.get(default + 1).filter(|_| default + 1 < end)?;
    let text = value.text(statement).trim_matches('\'');
    let boolean = match text {
        "0" => "false",
        "1" => "true",
        _ => return None,
    };
    Some((value.range.clone(), boolean.to_string()))
}

/// `) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 ...` after the table's list at `close`.
fn table_options(
    statement: &str,
    tokens: &[SqlToken],
    close: usize,
    found: &mut Vec<MysqlConstruct>,
) {
    const OPTIONS: &[&str] = &[
        "ENGINE",
        "AUTO_INCREMENT",
        "CHARSET",
        "ROW_FORMAT",
        "COMMENT",
        "CHECKSUM",
        "DELAY_KEY_WRITE",
        "PACK_KEYS",
        "STATS_PERSISTENT",
        "STATS_AUTO_RECALC",
        "STATS_SAMPLE_PAGES",
        "MAX_ROWS",
        "MIN_ROWS",
        "AVG_ROW_LENGTH",
        "KEY_BLOCK_SIZE",
        "INSERT_METHOD",
        "COMPRESSION",
        "TYPE",
    ];
    let mut at = close + 1;
    let mut last = None;
    while at < tokens.len() {
        let word = |index: usize, keyword: &str| {
            tokens
                .get(index)
                .is_some_and(|token| token.is(statement, keyword))
        };
        let name_length =
            if word(at, "DEFAULT") && (word(at + 1, "CHARSET") || word(at + 1, "COLLATE")) {
                2
            } else if word(at, "DEFAULT") && word(at + 1, "CHARACTER") && word(at + 2, "SET") {
                3
            } else if word(at, "CHARACTER") && word(at + 1, "SET") {
                2
            } else if word(at, "COLLATE") || OPTIONS.iter().any(|option| word(at, option)) {
                1
            } else if tokens[at].is_punctuation(b',') && last.is_some() {
                at += 1;
                continue;
            } else {
                break;
            };
        let mut value = at + name_length;
        if tokens
            .get(value)
            .is_some_and(|token| token.is_punctuation(b'='))
        {
            value += 1;
        }
        if value >= tokens.len() {
            break;
        }
        last = Some(value);
        at = value + 1;
    }
    let Some(last) = last else {
        return;
    };
    let range = tokens[close + 1].range.start..tokens[last].range.end;
    let written = crate::rules::shorten(&statement[range.clone()], 60);
    let removal = tokens[close].range.end..tokens[last].range.end;
    found.push(MysqlConstruct::removable(
        range,
        removal,
        format!("`{written}` are MySQL table options; PostgreSQL rejects them"),
        "Remove the MySQL table options".to_string(),
        true,
    ));
}

/// `ALTER TABLE t ADD [COLUMN] name type ...`: MySQL types and attributes of the
/// columns added; `ADD INDEX`/`ADD KEY` (a `CREATE INDEX` in PostgreSQL).
fn alter_table(statement: &str, tokens: &[SqlToken], found: &mut Vec<MysqlConstruct>) {
    let word = |index: usize, keyword: &str| {
        tokens
            .get(index)
            .is_some_and(|token| token.is(statement, keyword))
    };
    let mut at = 2;
    if word(at, "IF") && word(at + 1, "EXISTS") {
        at += 2;
    }
    if word(at, "ONLY") {
        at += 1;
    }
    let Some(table) = qualified_name(statement, tokens, at) else {
        return;
    };
    // The actions, split at commas outside parentheses.
    let mut actions = Vec::new();
    let mut depth = 0usize;
    let mut start = table.next;
    for (index, token) in tokens.iter().enumerate().skip(table.next) {
        match token.kind {
            TokenKind::Punctuation(b'(') => depth += 1,
            TokenKind::Punctuation(b')') => depth = depth.saturating_sub(1),
            TokenKind::Punctuation(b',') if depth == 0 => {
                actions.push(start..index);
                start = index + 1;
            }
            _ => {}
        }
    }
    actions.push(start..tokens.len());
    for action in actions {
        let mut at = action.start;
        if !word(at, "ADD") {
            continue;
        }
        at += 1;
        if word(at, "INDEX") || word(at, "KEY") || word(at, "FULLTEXT") {
            let first = &tokens[action.start];
            let range = first.range.start..tokens[action.end - 1].range.end;
            found.push(MysqlConstruct {
                range: range.clone(),
                message: format!(
                    "`{}` is MySQL; PostgreSQL creates indexes with `CREATE INDEX`",
                    crate::rules::shorten(&statement[range], 50)
                ),
                fix: None,
                repair: Vec::new(),
                identity: None,
            });
            continue;
        }
        if word(at, "COLUMN") {
            at += 1;
        }
        if word(at, "IF") && word(at + 1, "NOT") && word(at + 2, "EXISTS") {
            at += 3;
        }
        let is_constraint = [
            "CONSTRAINT",
            "PRIMARY",
            "FOREIGN",
            "UNIQUE",
            "CHECK",
            "EXCLUDE",
        ]
        .iter()
        .any(|keyword| word(at, keyword));
        if at < action.end && !is_constraint && tokens[at].is_name() {
            column(statement, tokens, at..action.end, &table.pg_name, found);
        }
    }
}

/// `SET FOREIGN_KEY_CHECKS = 0` and other MySQL session settings.
fn mysql_setting(statement: &str, tokens: &[SqlToken], found: &mut Vec<MysqlConstruct>) {
    let Some(setting) = tokens.get(1) else {
        return;
    };
    let name = setting.text(statement).to_ascii_lowercase();
    let is_mysql = matches!(
        name.as_str(),
        "foreign_key_checks"
            | "unique_checks"
            | "sql_mode"
            | "time_zone"
            | "sql_notes"
            | "character_set_client"
            | "character_set_results"
            | "collation_connection"
    ) || name.starts_with('@')
        || (name == "names"
            && tokens.get(2).is_some_and(|value| {
                value.kind == TokenKind::Word
                    && ["utf8", "utf8mb4", "latin1"]
                        .contains(&value.text(statement).to_ascii_lowercase().as_str())
            }));
    if !is_mysql {
        return;
    }
    let range = tokens[0].range.start..setting.range.end;
    let message = format!(
        "`{}` is a MySQL setting; PostgreSQL has no such parameter",
        &statement[range.clone()]
    );
    found.push(MysqlConstruct::whole_statement(statement, range, message));
}

/// `INSERT IGNORE`, `REPLACE INTO` and `ON DUPLICATE KEY UPDATE`: PostgreSQL's
/// `ON CONFLICT`.
fn insert(statement: &str, tokens: &[SqlToken], found: &mut Vec<MysqlConstruct>) {
    let word = |index: usize, keyword: &str| {
        tokens
            .get(index)
            .is_some_and(|token| token.is(statement, keyword))
    };
    if word(0, "REPLACE") && word(1, "INTO") {
        found.push(MysqlConstruct {
            range: tokens[0].range.clone(),
            message: "`REPLACE INTO` is MySQL; PostgreSQL writes `INSERT ... ON CONFLICT (...) DO UPDATE`".to_string(),
            fix: None,
            repair: vec![(tokens[0].range.clone(), "INSERT".to_string())],
            identity: None,
        });
        return;
    }
    if word(1, "IGNORE") {
        found.push(MysqlConstruct {
            range: tokens[0].range.start..tokens[1].range.end,
            message:
                "`INSERT IGNORE` is MySQL; PostgreSQL writes `INSERT ... ON CONFLICT DO NOTHING`"
                    .to_string(),
            fix: None,
            repair: vec![(
                with_space_before(statement, tokens[1].range.clone()),
                String::new(),
            )],
            identity: None,
        });
    }
    if let Some(on) = (0..tokens.len())
        .find(|index| word(*index, "ON") && word(index + 1, "DUPLICATE") && word(index + 2, "KEY"))
    {
        let range = tokens[on].range.start..tokens[(on + 3).min(tokens.len() - 1)].range.end;
        found.push(MysqlConstruct {
            range,
            message: "`ON DUPLICATE KEY UPDATE` is MySQL; PostgreSQL writes `ON CONFLICT (...) DO UPDATE SET ...`".to_string(),
            fix: None,
            repair: vec![(
                with_space_before(statement, tokens[on].range.start..statement.len()),
                String::new(),
            )],
            identity: None,
        });
    }
}

/// `range` with the white space before it, so removing it leaves no double space.
fn with_space_before(statement: &str, range: Range<usize>) -> Range<usize> {
    let before = &statement[..range.start];
    let trimmed = before.trim_end_matches([' ', '\t']);
    trimmed.len()..range.end
}

/// `name` as PostgreSQL writes it: bare when it is a lower-case word that is no
/// reserved keyword, else in double quotes.
pub fn pg_identifier(name: &str) -> String {
    let plain = name
        .bytes()
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first == b'_')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    let reserved = || {
        pg_query::scan(name).is_ok_and(|scanned| {
            scanned.tokens.first().is_some_and(|token| {
                token.keyword_kind == pg_query::protobuf::KeywordKind::ReservedKeyword as i32
            })
        })
    };
    if plain && !reserved() {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::sql_tokens::tokens;

    fn fixed(statement: &str) -> Vec<(String, Option<String>)> {
        constructs(statement, &tokens(statement))
            .into_iter()
            .map(|construct| {
                (
                    statement[construct.range.clone()].to_string(),
                    construct.fix.map(|fix| {
                        let mut text = statement.to_string();
                        let mut edits = fix.edits.clone();
                        edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
                        for (range, replacement) in edits {
                            text.replace_range(range, &replacement);
                        }
                        for after in fix.after {
                            text.push_str(&format!("; {after}"));
                        }
                        text
                    }),
                )
            })
            .collect()
    }

    #[test]
    fn an_index_inside_create_table_moves_out_and_a_key_column_stays() {
        let found = fixed(
            "CREATE TABLE posts (id int, `key` varchar(255), KEY idx_author (author_id, created_at DESC), title text)",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[1].1.as_deref(),
            Some(
                "CREATE TABLE posts (id int, `key` varchar(255), title text); CREATE INDEX idx_author ON posts (author_id, created_at DESC)"
            )
        );
        assert!(
            fixed("CREATE TABLE settings (key text NOT NULL, index integer, value jsonb)")
                .is_empty()
        );
    }

    #[test]
    fn types_attributes_and_options_become_postgresqls() {
        let found = fixed(
            "CREATE TABLE t (id INT(11) UNSIGNED NOT NULL AUTO_INCREMENT, at DATETIME ON UPDATE CURRENT_TIMESTAMP, ok TINYINT(1), n int unsigned) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        );
        let spots: Vec<&str> = found.iter().map(|(spot, _)| spot.as_str()).collect();
        assert_eq!(
            spots,
            [
                "INT(11)",
                "UNSIGNED",
                "AUTO_INCREMENT",
                "DATETIME",
                "ON UPDATE CURRENT_TIMESTAMP",
                "TINYINT(1)",
                "unsigned",
                "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            ]
        );
        assert_eq!(
            found[6].1.as_deref(),
            Some(
                "CREATE TABLE t (id INT(11) UNSIGNED NOT NULL AUTO_INCREMENT, at DATETIME ON UPDATE CURRENT_TIMESTAMP, ok TINYINT(1), n int CHECK (n >= 0)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            )
        );
        assert_eq!(
            found[7].1.as_deref(),
            Some(
                "CREATE TABLE t (id INT(11) UNSIGNED NOT NULL AUTO_INCREMENT, at DATETIME ON UPDATE CURRENT_TIMESTAMP, ok TINYINT(1), n int unsigned)"
            )
        );
    }

    #[test]
    fn postgresql_statements_have_no_mysql_constructs() {
        for statement in [
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz, ref int REFERENCES u (id) ON UPDATE CASCADE, name text COLLATE \"C\", UNIQUE (name))",
            "CREATE TABLE p (a int) PARTITION BY RANGE (a)",
            "ALTER TABLE t ADD COLUMN flag boolean DEFAULT false",
            "SET search_path = app, public",
            "INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO NOTHING",
            "SELECT \"key\", double_value FROM t",
        ] {
            assert_eq!(fixed(statement), [], "{statement}");
        }
    }
}
