//! What an Alembic migration says: its revision (`revision`, `down_revision` — a
//! string, `None` or a tuple for a merge —, `branch_labels`, `depends_on`) and what its
//! `upgrade()` does to the schema, as the same operations `from_sql` reads from SQL:
//! `op.create_table`, `op.add_column`, `op.drop_column`, `op.alter_column`,
//! `op.create_index`, `op.create_foreign_key`, `op.create_primary_key`,
//! `op.create_unique_constraint`, `op.drop_table`, `op.rename_table`, `op.execute(
//! "...")` with SQL, and the same calls on `batch_op` inside `with
//! op.batch_alter_table("t") as batch_op:`.

use std::ops::Range;
use std::path::Path;

use ruff_python_ast::{Expr, ExprCall, Stmt};
use ruff_text_size::Ranged;

use super::from_models::{
    At, column_of_call, index_of_column, last_name, sql_type, string_of, strings_of, table_of_call,
};
use super::model::FileSchema;
use super::{ColumnType, ForeignKey, Operation, Reference, qualified_name};
use crate::language::Language;
use crate::syntax::Syntax;

/// An Alembic revision's identity and place in the chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Revision {
    pub revision: String,
    /// Where `revision = "..."` is written.
    pub range: Range<usize>,
    /// The revisions it follows: none for the first, two or more for a merge.
    pub down_revisions: Vec<String>,
    /// Where `down_revision = ...` is written.
    pub down_range: Range<usize>,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
}

/// What one migration module says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migration {
    pub revision: Option<Revision>,
    /// What `upgrade()` does to the schema, in order.
    pub upgrade: FileSchema,
}

/// Whether the module at `path` whose text is `text` is an Alembic migration: it
/// stands in a `versions/` folder next to an `env.py` (Alembic's script location, the
/// folder `alembic.ini`'s `script_location` names, always holds its `env.py`), or its
/// text may assign `revision` and `down_revision` at module level (`read` tells).
pub fn is_migration(path: Option<&Path>, text: &str) -> bool {
    may_be_migration(text.as_bytes()) || path.is_some_and(in_versions_folder)
}

/// Whether a text may assign `revision` and `down_revision` at module level: both
/// names start a line (the cheap test of every module the index reads).
pub fn may_be_migration(text: &[u8]) -> bool {
    // Built once: every module's text is asked, by several rules. The search is for
    // the rare word (a line break is no rare byte to look for); where it starts a line
    // is checked at each place found, and `revision` only in the rare text that has it.
    static DOWN_REVISION: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"down_revision"));
    let starts_line = |at: usize| at == 0 || text[at - 1] == b'\n';
    DOWN_REVISION.find_iter(text).any(starts_line)
        && memchr::memmem::find_iter(text, b"revision").any(starts_line)
}

/// Whether `path` stands in a `versions/` folder whose parent holds Alembic's `env.py`.
pub fn in_versions_folder(path: &Path) -> bool {
    let Some(folder) = path.parent() else {
        return false;
    };
    folder.file_name().is_some_and(|name| name == "versions")
        && folder
            .parent()
            .is_some_and(|script_location| script_location.join("env.py").is_file())
}

/// What an Alembic migration says about the schema: `upgrade()`'s operations, as the
/// revision it is (`None` when the module names no revision: not a migration).
pub fn file_schema(text: &str, syntax: &Syntax) -> Option<FileSchema> {
    let migration = read_parsed(text, syntax);
    let revision = migration.revision?;
    Some(migration.upgrade.of_revision(revision))
}

/// Read the migration whose text is `text`.
pub fn read(text: &str) -> Migration {
    match Syntax::parse(Language::Python, text) {
        Some(syntax) => read_parsed(text, &syntax),
        None => Migration::default(),
    }
}

/// `read` of a module already split into items (an open document's).
pub fn read_parsed(text: &str, syntax: &Syntax) -> Migration {
    let operations = upgrade_steps(text, syntax)
        .unwrap_or_default()
        .into_iter()
        .flat_map(|step| step.operations)
        .collect();
    Migration {
        revision: revision_of(text, syntax),
        upgrade: FileSchema::new(operations).read_from(text),
    }
}

/// The revision a module's module-level assignments name (`None`: no `revision`),
/// with the ranges of its text.
pub fn revision_of(text: &str, syntax: &Syntax) -> Option<Revision> {
    let mut revision = Revision::default();
    let mut has_revision = false;
    for (base, statement) in
        module_statements(text, syntax, &["revision", "branch_labels", "depends_on"])
    {
        let (target, value) = match statement {
            Stmt::Assign(assign) => (assign.targets.first(), Some(&*assign.value)),
            Stmt::AnnAssign(assign) => (Some(&*assign.target), assign.value.as_deref()),
            _ => continue,
        };
        let (Some(Expr::Name(target)), Some(value)) = (target, value) else {
            continue;
        };
        read_revision_field(
            target.id.as_str(),
            value,
            offsets_from(base)(statement),
            &mut revision,
            &mut has_revision,
        );
    }
    has_revision.then_some(revision)
}

/// The module-level statements of the items whose text holds one of `words` (the
/// others are not parsed), each with where its item starts.
fn module_statements<'s>(
    text: &'s str,
    syntax: &'s Syntax,
    words: &'s [&'s str],
) -> impl Iterator<Item = (usize, &'s Stmt)> + 's {
    syntax
        .items()
        .iter()
        .filter(move |item| {
            text.get(item.range.clone()).is_some_and(|item| {
                words
                    .iter()
                    .any(|word| memchr::memmem::find(item.as_bytes(), word.as_bytes()).is_some())
            })
        })
        .filter_map(move |item| Some((item.range.start, item.python_ast(text)?)))
        .flat_map(|(base, ast)| ast.body.iter().map(move |statement| (base, statement)))
}

/// The file's range of a node of an item that starts at `base`.
fn offsets_from(base: usize) -> impl Fn(&dyn Ranged) -> Range<usize> {
    move |node: &dyn Ranged| {
        let range = node.range();
        base + usize::from(range.start())..base + usize::from(range.end())
    }
}

fn read_revision_field(
    name: &str,
    value: &Expr,
    range: Range<usize>,
    revision: &mut Revision,
    has_revision: &mut bool,
) {
    match name {
        "revision" => {
            if let Some(id) = string_of(value) {
                revision.revision = id.to_string();
                revision.range = range;
                *has_revision = true;
            }
        }
        "down_revision" => {
            revision.down_revisions = revisions_of(value);
            revision.down_range = range;
        }
        "branch_labels" => revision.branch_labels = revisions_of(value),
        "depends_on" => revision.depends_on = revisions_of(value),
        _ => {}
    }
}

/// A string, a tuple or list of strings, or `None`.
fn revisions_of(value: &Expr) -> Vec<String> {
    strings_of(std::slice::from_ref(value))
}

/// One operation call of `upgrade()`, as rules judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeStep {
    /// The call (`op.drop_column(...)`).
    pub range: Range<usize>,
    /// The statement that makes the call.
    pub statement: Range<usize>,
    /// What it does to the schema.
    pub operations: Vec<Operation>,
    /// The SQL `op.execute` runs: the string literal's range and its value.
    pub sql: Option<(Range<usize>, String)>,
    /// Called on `batch_op` in a `batch_alter_table` block.
    pub in_batch: bool,
    /// Inside `with op.get_context().autocommit_block():` (outside the migration's
    /// transaction).
    pub in_autocommit: bool,
    /// Where the call's last argument ends (a keyword is added there).
    pub arguments_end: usize,
    /// The tables the call names as strings (`"orders"` of `op.add_column("orders",
    /// ...)`, both tables of `op.create_foreign_key`), each with where it is written.
    pub tables: Vec<(String, Range<usize>)>,
}

/// The operation calls of `upgrade()`, in order (`None`: no such function).
pub fn upgrade_steps(text: &str, syntax: &Syntax) -> Option<Vec<UpgradeStep>> {
    let mut steps = None;
    for (base, statement) in module_statements(text, syntax, &["upgrade"]) {
        if let Stmt::FunctionDef(function) = statement
            && function.name.as_str() == "upgrade"
        {
            let mut found = Vec::new();
            read_body(&function.body, &offsets_from(base), false, &mut found);
            steps = Some(found);
        }
    }
    steps
}

/// The operation calls of a function body (and of `with op.batch_alter_table(...)`
/// blocks in it), in order.
fn read_body(body: &[Stmt], at: At, in_autocommit: bool, steps: &mut Vec<UpgradeStep>) {
    for statement in body {
        match statement {
            Stmt::Expr(expression) => {
                if let Expr::Call(call) = &*expression.value {
                    steps.extend(step_of(call, at(statement), None, in_autocommit, at));
                }
            }
            // `table = op.create_table(...)` (kept for `op.bulk_insert`).
            Stmt::Assign(assign) => {
                if let Expr::Call(call) = &*assign.value {
                    steps.extend(step_of(call, at(statement), None, in_autocommit, at));
                }
            }
            Stmt::With(with) => {
                let calls = || {
                    with.items
                        .iter()
                        .filter_map(|item| match &item.context_expr {
                            Expr::Call(call) => Some(call),
                            _ => None,
                        })
                };
                let batch = calls().find_map(|call| {
                    (last_name(&call.func) == Some("batch_alter_table"))
                        .then(|| table_argument(call, 0))
                        .flatten()
                });
                let autocommit = in_autocommit
                    || calls().any(|call| last_name(&call.func) == Some("autocommit_block"));
                match batch {
                    Some(table) => {
                        for inner in &with.body {
                            if let Stmt::Expr(expression) = inner
                                && let Expr::Call(call) = &*expression.value
                            {
                                steps.extend(step_of(
                                    call,
                                    at(inner),
                                    Some(&table),
                                    autocommit,
                                    at,
                                ));
                            }
                        }
                    }
                    None => read_body(&with.body, at, autocommit, steps),
                }
            }
            Stmt::If(conditional) => {
                read_body(&conditional.body, at, in_autocommit, steps);
                for clause in &conditional.elif_else_clauses {
                    read_body(&clause.body, at, in_autocommit, steps);
                }
            }
            _ => {}
        }
    }
}

/// The step a call of `upgrade()` is, when it is an operation.
fn step_of(
    call: &ExprCall,
    statement: Range<usize>,
    batch: Option<&String>,
    in_autocommit: bool,
    at: At,
) -> Option<UpgradeStep> {
    let method = last_name(&call.func)?;
    let operations = operation_of(call, batch, at);
    let sql = (method == "execute" && batch.is_none())
        .then(|| executed_sql(call, at))
        .flatten();
    let tables = if batch.is_none() {
        tables_named(call, method, at)
    } else {
        Vec::new()
    };
    if operations.is_empty() && sql.is_none() && tables.is_empty() {
        return None;
    }
    let arguments_end = call
        .arguments
        .args
        .iter()
        .map(|argument| at(argument).end)
        .chain(
            call.arguments
                .keywords
                .iter()
                .map(|keyword| at(keyword).end),
        )
        .max()
        .unwrap_or(at(call).end.saturating_sub(1));
    Some(UpgradeStep {
        range: at(call),
        statement,
        operations,
        sql,
        in_batch: batch.is_some(),
        in_autocommit,
        arguments_end,
        tables,
    })
}

/// The table names an `op.*` call writes as strings, where it writes them.
fn tables_named(call: &ExprCall, method: &str, at: At) -> Vec<(String, Range<usize>)> {
    let positions: &[usize] = match method {
        "create_table"
        | "drop_table"
        | "add_column"
        | "drop_column"
        | "alter_column"
        | "create_table_comment"
        | "drop_table_comment"
        | "bulk_insert" => &[0],
        "rename_table" => &[0, 1],
        "create_index"
        | "create_unique_constraint"
        | "create_primary_key"
        | "create_check_constraint"
        | "drop_constraint"
        | "create_exclude_constraint" => &[1],
        "create_foreign_key" => &[1, 2],
        "drop_index" => &[],
        _ => return Vec::new(),
    };
    let schema = keyword_string(call, "schema").unwrap_or("");
    let mut tables: Vec<(String, Range<usize>)> = positions
        .iter()
        .filter_map(|position| call.arguments.args.get(*position))
        .filter_map(|argument| Some((qualified_name(schema, string_of(argument)?), at(argument))))
        .collect();
    if let Some(table) = keyword(call, "table_name")
        && let Some(name) = string_of(table)
    {
        tables.push((qualified_name(schema, name), at(table)));
    }
    tables
}

/// The SQL `op.execute("...")` or `op.execute(sa.text("..."))` runs, with the range of
/// its string.
fn executed_sql(call: &ExprCall, at: At) -> Option<(Range<usize>, String)> {
    let literal = match call.arguments.args.first()? {
        Expr::Call(inner) => inner.arguments.args.first()?,
        other => other,
    };
    Some((at(literal), string_of(literal)?.to_string()))
}

/// The table named by the string argument at `position` (or `table_name=`), with the
/// call's `schema=`.
fn table_argument(call: &ExprCall, position: usize) -> Option<String> {
    let name = call
        .arguments
        .args
        .get(position)
        .and_then(string_of)
        .or_else(|| keyword_string(call, "table_name"))?;
    Some(qualified_name(
        keyword_string(call, "schema").unwrap_or(""),
        name,
    ))
}

fn keyword<'c>(call: &'c ExprCall, name: &str) -> Option<&'c Expr> {
    call.arguments
        .keywords
        .iter()
        .find(|keyword| keyword.arg.as_ref().is_some_and(|arg| arg.as_str() == name))
        .map(|keyword| &keyword.value)
}

fn keyword_string<'c>(call: &'c ExprCall, name: &str) -> Option<&'c str> {
    keyword(call, name).and_then(string_of)
}

fn is_true(value: Option<&Expr>) -> bool {
    matches!(value, Some(Expr::BooleanLiteral(literal)) if literal.value)
}

/// One `op.<operation>(...)` call (or `batch_op.<operation>(...)` on `batch`).
fn operation_of(call: &ExprCall, batch: Option<&String>, at: At) -> Vec<Operation> {
    let Some(method) = last_name(&call.func) else {
        return Vec::new();
    };
    // In a batch, the table is the block's and the arguments shift by one.
    let shift = usize::from(batch.is_none());
    let table = |position: usize| match batch {
        Some(table) => Some(table.clone()),
        None => table_argument(call, position),
    };
    let arguments = &call.arguments.args;
    let range = at(call);
    match method {
        "create_table" if batch.is_none() => table_of_call(call, at),
        "add_column" => {
            let (Some(table), Some(Expr::Call(column))) = (table(0), arguments.get(shift)) else {
                return Vec::new();
            };
            let Some((column, indexed)) = column_of_call(column, at) else {
                return Vec::new();
            };
            let index = indexed.then(|| index_of_column(&table, &column));
            std::iter::once(Operation::AddColumn { table, column })
                .chain(index)
                .collect()
        }
        "drop_column" => {
            let (Some(table), Some(column)) = (table(0), arguments.get(shift).and_then(string_of))
            else {
                return Vec::new();
            };
            vec![Operation::DropColumn {
                table,
                column: column.to_string(),
                range,
            }]
        }
        "alter_column" => {
            let (Some(table), Some(column)) = (table(0), arguments.get(shift).and_then(string_of))
            else {
                return Vec::new();
            };
            let mut operations = Vec::new();
            if let Some(ty) = keyword(call, "type_") {
                operations.push(Operation::AlterColumnType {
                    table: table.clone(),
                    column: column.to_string(),
                    ty: ColumnType {
                        name: sql_type(ty).unwrap_or_default(),
                        range: at(ty),
                    },
                });
            }
            if let Some(to) = keyword_string(call, "new_column_name") {
                operations.push(Operation::RenameColumn {
                    table,
                    from: column.to_string(),
                    to: to.to_string(),
                    range,
                });
            }
            operations
        }
        "create_index" => {
            // `op.create_index(name, table, columns)`; `batch_op.create_index(name, columns)`.
            let (Some(table), Some(columns)) = (table(1), arguments.get(1 + shift)) else {
                return Vec::new();
            };
            let concurrently = is_true(keyword(call, "postgresql_concurrently"));
            vec![Operation::CreateIndex {
                table,
                range,
                columns: strings_of(std::slice::from_ref(columns)),
                unique: is_true(keyword(call, "unique")),
                concurrently,
            }]
        }
        "create_foreign_key" => {
            // `op.create_foreign_key(name, source, referent, local_cols, remote_cols)`.
            let offset = shift;
            let (Some(table), Some(referent), Some(local), Some(remote)) = (
                table(1),
                arguments.get(1 + offset).and_then(string_of),
                arguments.get(2 + offset),
                arguments.get(3 + offset),
            ) else {
                return Vec::new();
            };
            let referent_schema = keyword_string(call, "referent_schema").unwrap_or("");
            vec![Operation::AddForeignKey {
                table,
                foreign_key: ForeignKey {
                    columns: strings_of(std::slice::from_ref(local)),
                    references: Reference {
                        table: qualified_name(referent_schema, referent),
                        schema: referent_schema.to_string(),
                        columns: strings_of(std::slice::from_ref(remote)),
                        range: at(&arguments[1 + offset]),
                    },
                    range,
                },
            }]
        }
        "create_primary_key" | "create_unique_constraint" => {
            let (Some(table), Some(columns)) = (table(1), arguments.get(1 + shift)) else {
                return Vec::new();
            };
            let columns = strings_of(std::slice::from_ref(columns));
            vec![if method == "create_primary_key" {
                Operation::AddPrimaryKey { table, columns }
            } else {
                Operation::AddUnique { table, columns }
            }]
        }
        "drop_table" if batch.is_none() => {
            let Some(table) = table(0) else {
                return Vec::new();
            };
            vec![Operation::DropTable { table, range }]
        }
        "rename_table" if batch.is_none() => {
            let (Some(from), Some(to)) = (table(0), arguments.get(1).and_then(string_of)) else {
                return Vec::new();
            };
            vec![Operation::RenameTable {
                from,
                to: to.to_string(),
                range,
            }]
        }
        "execute" if batch.is_none() => {
            let Some((at_string, sql)) = executed_sql(call, at) else {
                return Vec::new();
            };
            // The operations point at the string (offsets inside it would need the
            // literal's escapes undone).
            FileSchema::of_sql(&sql)
                .operations
                .into_iter()
                .map(|operation| operation.placed_at(at_string.clone()))
                .collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revision_and_its_upgrade() {
        let text = r#"
"""add orders

Revision ID: 2b3c
"""
from alembic import op
import sqlalchemy as sa

revision = "2b3c"
down_revision: Union[str, None] = ("1a2b", "1a2c")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("placed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_orders_user_id"), "orders", ["user_id"], unique=False)
    op.add_column("users", sa.Column("nickname", sa.String(length=50)))
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("legacy")
        batch_op.alter_column("email", new_column_name="login", type_=sa.Text())
    op.execute("CREATE INDEX CONCURRENTLY ix_users_login ON users (login)")


def downgrade() -> None:
    pass
"#;
        let migration = read(text);
        let revision = migration.revision.expect("a revision");
        assert_eq!(revision.revision, "2b3c");
        assert_eq!(revision.down_revisions, ["1a2b", "1a2c"]);
        let summary: Vec<String> = migration
            .upgrade
            .operations
            .iter()
            .map(|operation| match operation {
                Operation::CreateTable {
                    table,
                    columns,
                    primary_key,
                    foreign_keys,
                    ..
                } => format!(
                    "create {table} {} pk {primary_key:?} fk {:?}",
                    columns
                        .iter()
                        .map(|column| format!("{}:{}", column.name, column.ty.name))
                        .collect::<Vec<_>>()
                        .join(","),
                    foreign_keys
                        .iter()
                        .map(|key| format!(
                            "{}->{}.{}",
                            key.columns.join(","),
                            key.references.table,
                            key.references.columns.join(",")
                        ))
                        .collect::<Vec<_>>()
                ),
                Operation::CreateIndex {
                    table,
                    columns,
                    concurrently,
                    ..
                } => format!("index {table} {columns:?} {concurrently}"),
                Operation::AddColumn { table, column } => {
                    format!("add {table}.{}:{}", column.name, column.ty.name)
                }
                Operation::DropColumn { table, column, .. } => format!("drop {table}.{column}"),
                Operation::AlterColumnType { table, column, ty } => {
                    format!("type {table}.{column} {}", ty.name)
                }
                Operation::RenameColumn {
                    table, from, to, ..
                } => format!("rename {table}.{from} {to}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            summary,
            [
                "create orders id:integer,user_id:integer,placed_at:timestamp pk [\"id\"] fk [\"user_id->users.id\"]",
                "index orders [\"user_id\"] false",
                "add users.nickname:varchar",
                "drop users.legacy",
                "type users.email text",
                "rename users.email login",
                "index users [\"login\"] true",
            ]
        );
    }

    /// A table kept for `op.bulk_insert` (`table = op.create_table(...)`) is created
    /// too; a plugin's migration that takes `op` as a parameter is read the same way.
    #[test]
    fn an_assigned_create_table_is_read() {
        let text = "revision = \"3c\"\ndown_revision = \"2b\"\n\n\ndef upgrade(op=None):\n    labels = op.create_table(\"labels\", sa.Column(\"id\", sa.Integer(), primary_key=True))\n    op.bulk_insert(labels, [])\n";
        let migration = read(text);
        assert!(matches!(
            &migration.upgrade.operations[..],
            [Operation::CreateTable { table, .. }] if table == "labels"
        ));
        assert!(may_be_migration(text.as_bytes()));
    }
}
