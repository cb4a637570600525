//! ## What it does
//! Finds Alembic migrations whose `downgrade()` does nothing (`pass`, `...`, a
//! docstring alone, or `raise NotImplementedError`) while their `upgrade()` changes
//! the schema: any `op.*` operation but data ones (`op.execute` of `INSERT`, `UPDATE`,
//! `DELETE` or `SELECT`, `op.bulk_insert`). Reported on the body of `downgrade()`.
//!
//! ## Why is this bad?
//! `alembic downgrade` runs the empty function, records the older revision as current
//! and leaves the newer schema in place: the next `upgrade` then fails on tables and
//! columns that already exist, and a rollback after a bad deploy does not roll back.
//!
//! ## Example
//! ```python
//! def upgrade() -> None:
//!     op.add_column("users", sa.Column("nickname", sa.String(50)))
//!     op.create_index("ix_users_nickname", "users", ["nickname"])
//!
//!
//! def downgrade() -> None:
//!     pass
//! ```
//!
//! ## Use instead
//! ```python
//! def downgrade() -> None:
//!     op.drop_index("ix_users_nickname", table_name="users")
//!     op.drop_column("users", "nickname")
//! ```
//!
//! ## Fix safety
//! Where every operation of `upgrade()` has a mechanical inverse (`create_table` →
//! `drop_table`, `add_column` → `drop_column`, `create_index` → `drop_index`, a
//! renamed table or column renamed back, a named foreign key, unique or check
//! constraint dropped, the same in `batch_alter_table` blocks), the fix writes them in
//! reverse order in place of the empty body. It is unsafe: running the downgrade then
//! deletes the data of what the upgrade added, and the author should read it.
//! There is no fix when one operation has no mechanical inverse (a dropped column, a
//! type change, raw SQL).

use ruff_python_ast::{Expr, ExprCall, Stmt, StmtFunctionDef, StmtWith};

use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::python::checker::{Checker, Hooks, TextTest};
use crate::rules::python::helpers::{keyword_with_index, method_name, string_value};
use crate::rules::python::module_scope::module_scope;
use crate::rules::{
    Check, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, indentation_at,
    newline_of,
};

pub const RULE: Rule = Rule {
    id: "missing-downgrade",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "An Alembic `downgrade()` that does nothing while `upgrade()` changes the schema",
    triggers: &["down_revision"],
    python_triggers: None,
    text_test: Some(super::may_be_migration),
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        function: Some(check),
        // The finding stands in `downgrade()`; what it reads of `upgrade()` comes
        // through the module scope.
        item_test: Some(|module| {
            Some(if super::is_migration(module) {
                defines_downgrade as TextTest
            } else {
                |_| false
            })
        }),
        ..Hooks::NONE
    }),
    reads: Projections::MIGRATION,
};

fn defines_downgrade(item: &str) -> bool {
    item.starts_with("def downgrade")
}

fn check<'c>(
    checker: &Checker<'c, '_>,
    function: &'c StmtFunctionDef,
    findings: &mut Vec<Finding>,
) {
    if function.name.as_str() != "downgrade" || !super::is_migration(checker.context()) {
        return;
    }
    let Some(empty) = empty_body(&function.body) else {
        return;
    };
    // The module's own `downgrade()`, not a method or a nested function.
    let scope = module_scope(checker.context());
    let top_level = scope.definitions_named("downgrade").iter().any(
        |definition| matches!(definition.statement, Stmt::FunctionDef(own) if std::ptr::eq(own, function)),
    );
    if !top_level {
        return;
    }
    let Some(upgrade) = scope.definitions_named("upgrade").last() else {
        return;
    };
    let Stmt::FunctionDef(upgrade_function) = upgrade.statement else {
        return;
    };
    let text = ItemText {
        source: checker.source,
        base: upgrade.base,
    };
    let mut changes = Changes::default();
    read_changes(&upgrade_function.body, None, text, &mut changes);
    if changes.described.is_empty() {
        return;
    }
    let what = match &changes.described[..] {
        [one] => one.clone(),
        [first, second] => format!("{first} and {second}"),
        [first, second, rest @ ..] => format!("{first}, {second} and {} more", rest.len()),
        [] => return,
    };
    let body = checker.range(&empty.range);
    let mut finding = RULE.finding(
        body.clone(),
        format!(
            "`downgrade()` does nothing while `upgrade()` {what}: `alembic downgrade` would record the older revision and leave the schema as it is"
        ),
    );
    if let Some(inverse) = changes.inverse.filter(|inverse| !inverse.is_empty()) {
        // Each step is one line, or a `batch_alter_table` block of lines.
        let line_break = format!(
            "{}{}",
            newline_of(checker.source),
            indentation_at(checker.source, body.start)
        );
        let text = inverse
            .iter()
            .rev()
            .map(|step| step.replace('\n', &line_break))
            .collect::<Vec<_>>()
            .join(&line_break);
        let edit = match empty.replaced {
            true => Edit {
                range: body,
                content: text.into(),
            },
            // A docstring alone stays; the operations follow it.
            false => Edit::insert(body.end, format!("{line_break}{text}")),
        };
        finding.fix = Some(Fix::unsafe_(
            "Undo `upgrade()`'s operations in `downgrade()` (deletes what they added)",
            vec![edit],
        ));
    }
    findings.push(finding);
}

/// The empty body of a function: where it is, and whether the fix replaces it (`pass`,
/// `...`, `raise NotImplementedError`) or writes after it (a docstring alone).
struct EmptyBody {
    range: ruff_text_size::TextRange,
    replaced: bool,
}

fn empty_body(body: &[Stmt]) -> Option<EmptyBody> {
    let is_docstring = |statement: &Stmt| matches!(statement, Stmt::Expr(expression) if expression.value.is_string_literal_expr());
    let is_nothing = |statement: &Stmt| match statement {
        Stmt::Pass(_) => true,
        Stmt::Expr(expression) => expression.value.is_ellipsis_literal_expr(),
        Stmt::Raise(raise) => raise.exc.as_deref().is_some_and(|raised| {
            let name = match raised {
                Expr::Call(call) => &*call.func,
                other => other,
            };
            matches!(name, Expr::Name(name) if name.id.as_str() == "NotImplementedError")
        }),
        _ => false,
    };
    let (first, last) = (body.first()?, body.last()?);
    let rest = match first {
        docstring if is_docstring(docstring) => &body[1..],
        _ => body,
    };
    if !rest.iter().all(is_nothing) {
        return None;
    }
    use ruff_text_size::Ranged;
    Some(match (rest.first(), rest.last()) {
        (Some(start), Some(end)) => EmptyBody {
            range: ruff_text_size::TextRange::new(start.start(), end.end()),
            replaced: true,
        },
        _ => EmptyBody {
            range: ruff_text_size::TextRange::new(first.start(), last.end()),
            replaced: false,
        },
    })
}

/// What `upgrade()` changes in the schema: a description of each change, and the
/// inverse of each as source (`None` once one has none).
#[derive(Default)]
struct Changes {
    described: Vec<String>,
    inverse: Option<Vec<String>>,
}

impl Changes {
    fn push(&mut self, description: String, inverse: Option<String>) {
        if self.described.is_empty() {
            self.inverse = Some(Vec::new());
        }
        self.described.push(description);
        match (inverse, self.inverse.as_mut()) {
            (Some(inverse), Some(all)) => all.push(inverse),
            _ => self.inverse = None,
        }
    }
}

/// Read the schema changes of a body: `op.*` calls, and `batch_op.*` calls inside a
/// `with op.batch_alter_table(...) as batch_op:` block (`batch` is its table's
/// argument, as written). Control flow around operations keeps the description but
/// loses the inverse (which branch ran is not known).
fn read_changes<'s>(
    body: &[Stmt],
    batch: Option<(&'s str, &'s str)>,
    text: ItemText<'s>,
    changes: &mut Changes,
) {
    for statement in body {
        match statement {
            Stmt::Expr(expression) => {
                if let Expr::Call(call) = &*expression.value {
                    read_call(call, batch, text, changes);
                }
            }
            Stmt::With(with) if batch.is_none() => match batch_block(with, text) {
                Some((table, alias, header)) => {
                    let mut inner = Changes::default();
                    read_changes(&with.body, Some((table, alias)), text, &mut inner);
                    if inner.described.is_empty() {
                        continue;
                    }
                    let inverse = inner.inverse.map(|steps| {
                        let steps: Vec<String> = steps.into_iter().rev().collect();
                        format!("{header}\n    {}", steps.join("\n    "))
                    });
                    for (at, description) in inner.described.into_iter().enumerate() {
                        // The block is one step of the inverse.
                        let step = (at == 0).then(|| inverse.clone()).flatten();
                        if at == 0 {
                            changes.push(description, step);
                        } else {
                            changes.described.push(description);
                        }
                    }
                }
                None => read_nested(&with.body, text, changes),
            },
            Stmt::If(conditional) => {
                read_nested(&conditional.body, text, changes);
                for clause in &conditional.elif_else_clauses {
                    read_nested(&clause.body, text, changes);
                }
            }
            Stmt::For(each) => read_nested(&each.body, text, changes),
            _ => {}
        }
    }
}

/// Changes under control flow: described, with no inverse.
fn read_nested<'s>(body: &[Stmt], text: ItemText<'s>, changes: &mut Changes) {
    let mut inner = Changes::default();
    read_changes(body, None, text, &mut inner);
    for description in inner.described {
        changes.push(description, None);
    }
}

/// `with op.batch_alter_table("t", schema=...) as batch_op:`: the table's arguments as
/// written, the alias, and the header to write the inverse under.
fn batch_block<'t>(with: &StmtWith, text: ItemText<'t>) -> Option<(&'t str, &'t str, String)> {
    let [item] = &with.items[..] else {
        return None;
    };
    let Expr::Call(call) = &item.context_expr else {
        return None;
    };
    if method_name(call) != Some("batch_alter_table") {
        return None;
    }
    let Some(Expr::Name(alias)) = item.optional_vars.as_deref() else {
        return None;
    };
    let table = call.arguments.args.first()?;
    let alias = text.of(alias);
    Some((
        text.of(table),
        alias,
        format!("with {} as {alias}:", text.of(call)),
    ))
}

/// One operation call: its description and inverse, or nothing for data operations and
/// calls that are not operations.
fn read_call<'s>(
    call: &ExprCall,
    batch: Option<(&'s str, &'s str)>,
    text: ItemText<'s>,
    changes: &mut Changes,
) {
    let Expr::Attribute(attribute) = &*call.func else {
        return;
    };
    let receiver = text.of(&*attribute.value);
    let expected = batch.map_or("op", |(_, alias)| alias);
    if receiver != expected {
        return;
    }
    let method = attribute.attr.as_str();
    let arguments = &call.arguments.args;
    let argument = |at: usize| arguments.get(at).map(|argument| text.of(argument));
    // A name as the message shows it: a string's value, else the expression.
    // `op.f("ix_name")` (a name Alembic takes as final) is shown as the name.
    let shown = |text: &str| {
        let text = text
            .strip_prefix("op.f(")
            .and_then(|name| name.strip_suffix(')'))
            .unwrap_or(text);
        text.trim_matches(['"', '\'']).to_string()
    };
    // In a batch block the table is the block's: arguments shift by one.
    let shift = usize::from(batch.is_none());
    let table = |at: usize| match batch {
        Some((table, _)) => Some(table),
        None => argument(at),
    };
    let schema = keyword_with_index(&call.arguments, "schema")
        .map(|(_, keyword)| format!(", schema={}", text.of(&keyword.value)))
        .unwrap_or_default();
    let on = |call_text: String| format!("{expected}.{call_text}");
    let (description, inverse) = match method {
        "execute" => {
            let sql = arguments.first().and_then(|argument| match argument {
                Expr::Call(text) => text.arguments.args.first().and_then(string_value),
                other => string_value(other),
            });
            if sql.is_some_and(is_data_only) {
                return;
            }
            ("runs SQL".to_string(), None)
        }
        "bulk_insert" | "get_bind" | "get_context" | "f" | "inline_literal" | "invoke"
        | "implementation_for" | "register_operation" => return,
        "create_table" if batch.is_none() => {
            let Some(name) = argument(0) else { return };
            (
                format!("creates table `{}`", shown(name)),
                Some(on(format!("drop_table({name}{schema})"))),
            )
        }
        "add_column" => {
            let Some(table_name) = table(0) else { return };
            let column = arguments.get(shift).and_then(|column| match column {
                Expr::Call(column) => column.arguments.args.first().map(|name| text.of(name)),
                _ => None,
            });
            let Some(column) = column else {
                changes.push(format!("adds a column to `{}`", shown(table_name)), None);
                return;
            };
            let arguments = match batch {
                Some(_) => column.to_string(),
                None => format!("{table_name}, {column}{schema}"),
            };
            (
                format!("adds column `{}.{}`", shown(table_name), shown(column)),
                Some(on(format!("drop_column({arguments})"))),
            )
        }
        "create_index" => {
            let (Some(name), Some(table_name)) = (argument(0), table(1)) else {
                return;
            };
            let arguments = match batch {
                Some(_) => name.to_string(),
                None => format!("{name}, table_name={table_name}{schema}"),
            };
            (
                format!("creates index `{}`", shown(name)),
                Some(on(format!("drop_index({arguments})"))),
            )
        }
        "create_foreign_key" | "create_unique_constraint" | "create_check_constraint" => {
            let kind = match method {
                "create_foreign_key" => "foreignkey",
                "create_unique_constraint" => "unique",
                _ => "check",
            };
            let name = argument(0).filter(|name| *name != "None");
            let table_name = table(1);
            let inverse = match (name, table_name, batch) {
                (Some(name), _, Some(_)) => {
                    Some(on(format!("drop_constraint({name}, type_=\"{kind}\")")))
                }
                (Some(name), Some(table_name), None) => Some(on(format!(
                    "drop_constraint({name}, {table_name}, type_=\"{kind}\"{schema})"
                ))),
                // An unnamed constraint has a name only the database knows.
                _ => None,
            };
            (
                format!(
                    "adds a {} constraint",
                    kind.replace("foreignkey", "foreign-key")
                ),
                inverse,
            )
        }
        "rename_table" if batch.is_none() => {
            let (Some(from), Some(to)) = (argument(0), argument(1)) else {
                return;
            };
            (
                format!("renames table `{}` to `{}`", shown(from), shown(to)),
                Some(on(format!("rename_table({to}, {from}{schema})"))),
            )
        }
        "alter_column" => {
            let Some(column) = argument(shift) else {
                return;
            };
            let renamed = keyword_with_index(&call.arguments, "new_column_name")
                .map(|(_, keyword)| text.of(&keyword.value));
            let only_renames = call.arguments.keywords.iter().all(|keyword| {
                keyword.arg.as_ref().is_some_and(|arg| {
                    matches!(arg.as_str(), "new_column_name" | "schema" | "existing_type")
                })
            });
            let inverse = match (renamed, only_renames, batch) {
                (Some(to), true, Some(_)) => {
                    Some(on(format!("alter_column({to}, new_column_name={column})")))
                }
                (Some(to), true, None) => table(0).map(|table_name| {
                    on(format!(
                        "alter_column({table_name}, {to}, new_column_name={column}{schema})"
                    ))
                }),
                // The column's type, nullability or default before are not written here.
                _ => None,
            };
            (format!("alters column `{}`", shown(column)), inverse)
        }
        // Drops, type changes, primary keys, comments, sequences, and the operations
        // of plugins: no mechanical inverse.
        _ => (format!("runs `{method}`"), None),
    };
    changes.push(description, inverse);
}

/// Whether SQL only reads or changes rows (no statement changes the schema).
fn is_data_only(sql: &str) -> bool {
    let schema = crate::schema::model::FileSchema::of_sql(sql);
    let words = [
        "insert", "update", "delete", "select", "with", "copy", "merge",
    ];
    schema.is_empty()
        && sql
            .split(';')
            .map(str::trim)
            .filter(|statement| !statement.is_empty())
            .all(|statement| {
                let first = statement
                    .split(|c: char| !c.is_ascii_alphabetic())
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                words.contains(&first.as_str())
            })
}

/// The text of the nodes of the item that starts at `base`.
#[derive(Clone, Copy)]
struct ItemText<'s> {
    source: &'s str,
    base: usize,
}

impl<'s> ItemText<'s> {
    fn of(self, node: &dyn ruff_text_size::Ranged) -> &'s str {
        self.source
            .get(crate::syntax::python_ast::source_range(
                self.base,
                &node.range(),
            ))
            .unwrap_or("")
    }
}
