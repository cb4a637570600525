//! What a SQL statement does to the schema, read from PostgreSQL's own parse tree
//! (libpg_query's, through `pg_query`): `CREATE TABLE` with its columns, keys and
//! foreign keys, `ALTER TABLE` (columns added, dropped, retyped; constraints added),
//! renames, `DROP TABLE`, `CREATE INDEX`; and whether it deletes or updates rows
//! without a `WHERE`.
//!
//! The tree's locations are those of the text parsed (a statement whose MySQL
//! constructs were repaired, `syntax::sql_statements`); `place` turns them into the
//! statement's own offsets. Where the tree has no location (a dropped column), the
//! statement's tokens give one.

use std::ops::Range;

use pg_query::NodeEnum;
use pg_query::protobuf::{
    AlterTableType, ColumnDef, ConstrType, Constraint, Node, ObjectType, RangeVar, TypeName,
};

use super::{Column, ColumnType, ForeignKey, Operation, Reference, RowChange};
use crate::syntax::sql_tokens::SqlToken;

/// What one statement says: its operations and its row change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementSchema {
    pub operations: Vec<Operation>,
    pub rows: RowChange,
}

/// Read the statement whose parse tree is `tree` (one statement), whose text is
/// `statement` and tokens `tokens`; `place` maps a location of the parsed text to the
/// statement's.
pub fn read(
    tree: &pg_query::protobuf::ParseResult,
    statement: &str,
    tokens: &[SqlToken],
    place: &dyn Fn(usize) -> usize,
) -> StatementSchema {
    let reader = Reader {
        statement,
        tokens,
        place,
    };
    let mut schema = StatementSchema::default();
    for raw in &tree.stmts {
        let Some(node) = raw.stmt.as_deref().and_then(|node| node.node.as_ref()) else {
            continue;
        };
        reader.statement(node, &mut schema);
    }
    schema
}

struct Reader<'a> {
    statement: &'a str,
    tokens: &'a [SqlToken],
    place: &'a dyn Fn(usize) -> usize,
}

impl Reader<'_> {
    fn statement(&self, node: &NodeEnum, schema: &mut StatementSchema) {
        match node {
            NodeEnum::CreateStmt(create) => {
                let Some(relation) = &create.relation else {
                    return;
                };
                let mut columns = Vec::new();
                let mut primary_key = Vec::new();
                let mut unique = Vec::new();
                let mut foreign_keys = Vec::new();
                let mut derived = create.partbound.is_some() || create.of_typename.is_some();
                for element in create.table_elts.iter().chain(&create.constraints) {
                    match element.node.as_ref() {
                        Some(NodeEnum::ColumnDef(column)) => columns.extend(self.column(column)),
                        Some(NodeEnum::Constraint(constraint)) => match contype(constraint) {
                            ConstrType::ConstrPrimary => primary_key = names(&constraint.keys),
                            ConstrType::ConstrUnique => unique.push(names(&constraint.keys)),
                            ConstrType::ConstrForeign => {
                                foreign_keys.extend(self.foreign_key(constraint))
                            }
                            _ => {}
                        },
                        Some(NodeEnum::TableLikeClause(_)) => derived = true,
                        _ => {}
                    }
                }
                schema.operations.push(Operation::CreateTable {
                    table: qualified(relation),
                    range: self.name_range(relation),
                    columns,
                    primary_key,
                    unique,
                    foreign_keys,
                    derived,
                    temporary: relation.relpersistence == "t",
                });
            }
            // `CREATE TABLE ... AS SELECT`, `CREATE MATERIALIZED VIEW`: a table whose
            // columns come from a query.
            NodeEnum::CreateTableAsStmt(create) => {
                let Some(relation) = create.into.as_ref().and_then(|into| into.rel.as_ref()) else {
                    return;
                };
                schema.operations.push(Operation::CreateTable {
                    table: qualified(relation),
                    range: self.name_range(relation),
                    columns: Vec::new(),
                    primary_key: Vec::new(),
                    unique: Vec::new(),
                    foreign_keys: Vec::new(),
                    derived: true,
                    temporary: relation.relpersistence == "t",
                });
            }
            NodeEnum::IndexStmt(index) => {
                let Some(relation) = &index.relation else {
                    return;
                };
                let columns = index
                    .index_params
                    .iter()
                    .map_while(|param| match param.node.as_ref() {
                        Some(NodeEnum::IndexElem(element)) if !element.name.is_empty() => {
                            Some(element.name.clone())
                        }
                        _ => None,
                    })
                    .collect();
                schema.operations.push(Operation::CreateIndex {
                    table: qualified(relation),
                    range: self.name_range(relation),
                    columns,
                    unique: index.unique,
                    concurrently: index.concurrent,
                });
            }
            NodeEnum::AlterTableStmt(alter) => {
                let Some(relation) = &alter.relation else {
                    return;
                };
                if alter.objtype != ObjectType::ObjectTable as i32 {
                    return;
                }
                let table = &qualified(relation);
                for command in &alter.cmds {
                    let Some(NodeEnum::AlterTableCmd(command)) = command.node.as_ref() else {
                        continue;
                    };
                    self.alter_table_command(table, command, schema);
                }
            }
            NodeEnum::RenameStmt(rename) => {
                let Some(relation) = &rename.relation else {
                    return;
                };
                let range = self.statement_head();
                if rename.rename_type == ObjectType::ObjectTable as i32 {
                    schema.operations.push(Operation::RenameTable {
                        from: qualified(relation),
                        to: rename.newname.clone(),
                        range,
                    });
                } else if rename.rename_type == ObjectType::ObjectColumn as i32 {
                    schema.operations.push(Operation::RenameColumn {
                        table: qualified(relation),
                        from: rename.subname.clone(),
                        to: rename.newname.clone(),
                        range,
                    });
                }
            }
            NodeEnum::DropStmt(drop) if drop.remove_type == ObjectType::ObjectTable as i32 => {
                for object in &drop.objects {
                    let Some(NodeEnum::List(list)) = object.node.as_ref() else {
                        continue;
                    };
                    let parts = names(&list.items);
                    let Some(name) = parts.last() else {
                        continue;
                    };
                    let in_schema = parts
                        .len()
                        .checked_sub(2)
                        .map_or("", |at| parts[at].as_str());
                    let table = super::qualified_name(in_schema, name);
                    schema.operations.push(Operation::DropTable {
                        range: self.named_token(name).unwrap_or(self.statement_head()),
                        table,
                    });
                }
            }
            NodeEnum::TruncateStmt(_) => schema.rows = RowChange::Truncate,
            NodeEnum::DeleteStmt(delete) => {
                schema.rows = RowChange::Delete {
                    table: relation_name(delete.relation.as_ref()),
                    has_where: delete.where_clause.is_some(),
                }
            }
            NodeEnum::UpdateStmt(update) => {
                let columns = update
                    .target_list
                    .iter()
                    .filter_map(|target| match target.node.as_ref() {
                        Some(NodeEnum::ResTarget(target)) => Some(target.name.clone()),
                        _ => None,
                    })
                    .collect();
                schema.rows = RowChange::Update {
                    table: relation_name(update.relation.as_ref()),
                    columns,
                    has_where: update.where_clause.is_some(),
                }
            }
            _ => {}
        }
    }

    fn alter_table_command(
        &self,
        table: &str,
        command: &pg_query::protobuf::AlterTableCmd,
        schema: &mut StatementSchema,
    ) {
        let table = table.to_string();
        let definition = command.def.as_deref().and_then(|node| node.node.as_ref());
        let subtype = command.subtype;
        if subtype == AlterTableType::AtAddColumn as i32 {
            if let Some(NodeEnum::ColumnDef(column)) = definition
                && let Some(column) = self.column(column)
            {
                schema
                    .operations
                    .push(Operation::AddColumn { table, column });
            }
        } else if subtype == AlterTableType::AtDropColumn as i32 {
            schema.operations.push(Operation::DropColumn {
                range: self
                    .named_token(&command.name)
                    .unwrap_or(self.statement_head()),
                table,
                column: command.name.clone(),
            });
        } else if subtype == AlterTableType::AtAlterColumnType as i32 {
            if let Some(NodeEnum::ColumnDef(column)) = definition
                && let Some(ty) = column.type_name.as_ref().map(|ty| self.column_type(ty))
            {
                schema.operations.push(Operation::AlterColumnType {
                    table,
                    column: command.name.clone(),
                    ty,
                });
            }
        } else if subtype == AlterTableType::AtAddConstraint as i32
            && let Some(NodeEnum::Constraint(constraint)) = definition
        {
            match contype(constraint) {
                ConstrType::ConstrPrimary => schema.operations.push(Operation::AddPrimaryKey {
                    table,
                    columns: names(&constraint.keys),
                }),
                ConstrType::ConstrUnique => schema.operations.push(Operation::AddUnique {
                    table,
                    columns: names(&constraint.keys),
                }),
                ConstrType::ConstrForeign => {
                    if let Some(foreign_key) = self.foreign_key(constraint) {
                        schema
                            .operations
                            .push(Operation::AddForeignKey { table, foreign_key });
                    }
                }
                _ => {}
            }
        }
    }

    fn column(&self, column: &ColumnDef) -> Option<Column> {
        let ty = self.column_type(column.type_name.as_ref()?);
        let mut read = Column {
            name: column.colname.clone(),
            range: self.token_range_at(column.location),
            ty,
            primary_key: false,
            unique: false,
            identity: !column.identity.is_empty(),
            references: None,
        };
        for constraint in &column.constraints {
            let Some(NodeEnum::Constraint(constraint)) = constraint.node.as_ref() else {
                continue;
            };
            match contype(constraint) {
                ConstrType::ConstrPrimary => read.primary_key = true,
                ConstrType::ConstrUnique => read.unique = true,
                ConstrType::ConstrIdentity => read.identity = true,
                ConstrType::ConstrForeign => {
                    read.references = constraint.pktable.as_ref().map(|table| Reference {
                        table: qualified(table),
                        schema: table.schemaname.clone(),
                        columns: names(&constraint.pk_attrs),
                        range: self.name_range(table),
                    });
                }
                _ => {}
            }
        }
        Some(read)
    }

    fn foreign_key(&self, constraint: &Constraint) -> Option<ForeignKey> {
        let table = constraint.pktable.as_ref()?;
        let references = Reference {
            table: qualified(table),
            schema: table.schemaname.clone(),
            columns: names(&constraint.pk_attrs),
            range: self.name_range(table),
        };
        let start = self
            .place_of(constraint.location)
            .unwrap_or(references.range.start);
        Some(ForeignKey {
            columns: names(&constraint.fk_attrs),
            range: start.min(references.range.start)..references.range.end,
            references,
        })
    }

    /// A type's PostgreSQL name and where it is written (through its last word or
    /// modifier, before the column's constraints).
    fn column_type(&self, ty: &TypeName) -> ColumnType {
        let written: Vec<String> = names(&ty.names);
        let name = written
            .last()
            .map(|name| canonical_type(name))
            .unwrap_or_default();
        let start = self.place_of(ty.location).unwrap_or(0);
        ColumnType {
            name,
            range: start..self.type_end(start),
        }
    }

    /// Where a type starting at `start` ends: before the first token that begins a
    /// constraint or closes the column (`NOT`, `DEFAULT`, `,`, a `)` not its own, ...).
    fn type_end(&self, start: usize) -> usize {
        const AFTER_TYPE: &[&str] = &[
            "NOT",
            "NULL",
            "DEFAULT",
            "PRIMARY",
            "REFERENCES",
            "UNIQUE",
            "CHECK",
            "CONSTRAINT",
            "GENERATED",
            "COLLATE",
            "USING",
            "COMPRESSION",
            "STORAGE",
        ];
        let mut depth = 0usize;
        let mut end = start;
        for token in self
            .tokens
            .iter()
            .filter(|token| token.range.start >= start)
        {
            match token.kind {
                crate::syntax::sql_tokens::TokenKind::Punctuation(b'(') => depth += 1,
                crate::syntax::sql_tokens::TokenKind::Punctuation(b')') if depth == 0 => break,
                crate::syntax::sql_tokens::TokenKind::Punctuation(b')') => depth -= 1,
                crate::syntax::sql_tokens::TokenKind::Punctuation(b',' | b';') if depth == 0 => {
                    break;
                }
                _ if depth == 0
                    && token.range.start > start
                    && AFTER_TYPE
                        .iter()
                        .any(|keyword| token.is(self.statement, keyword)) =>
                {
                    break;
                }
                _ => {}
            }
            end = token.range.end;
        }
        end.max(start)
    }

    /// A parse-tree location as an offset of the statement (`None` for none: -1).
    fn place_of(&self, location: i32) -> Option<usize> {
        usize::try_from(location)
            .ok()
            .map(|at| (self.place)(at).min(self.statement.len()))
    }

    /// The token at a location (a name), as a range of the statement.
    fn token_range_at(&self, location: i32) -> Range<usize> {
        let Some(at) = self.place_of(location) else {
            return self.statement_head();
        };
        self.tokens
            .iter()
            .find(|token| token.range.start >= at)
            .map_or(at..at, |token| token.range.clone())
    }

    /// Where a table's name is written: through its last part (`app.users`).
    fn name_range(&self, relation: &RangeVar) -> Range<usize> {
        let first = self.token_range_at(relation.location);
        let mut end = first.end;
        let mut tokens = self
            .tokens
            .iter()
            .skip_while(|token| token.range.start < first.end)
            .peekable();
        // `schema.name`: the name is the part after the dot.
        if !relation.schemaname.is_empty()
            && tokens.next().is_some_and(|dot| dot.is_punctuation(b'.'))
            && let Some(name) = tokens.next()
        {
            end = name.range.end;
        }
        first.start..end
    }

    /// The last token that spells `name`.
    fn named_token(&self, name: &str) -> Option<Range<usize>> {
        self.tokens
            .iter()
            .rev()
            .find(|token| token.is_name() && token.name(self.statement) == name)
            .map(|token| token.range.clone())
    }

    /// The statement's first two tokens (`ALTER TABLE`, `DROP TABLE`).
    fn statement_head(&self) -> Range<usize> {
        let start = self.tokens.first().map_or(0, |token| token.range.start);
        let end = self
            .tokens
            .get(1)
            .or(self.tokens.first())
            .map_or(0, |token| token.range.end);
        start..end
    }
}

fn relation_name(relation: Option<&RangeVar>) -> String {
    relation.map(qualified).unwrap_or_default()
}

/// A table's name as the schema model keys it: `schema.name` in a schema other than
/// `public`, else the name alone (`schema::qualified_name`).
fn qualified(relation: &RangeVar) -> String {
    super::qualified_name(&relation.schemaname, &relation.relname)
}

fn contype(constraint: &Constraint) -> ConstrType {
    ConstrType::try_from(constraint.contype).unwrap_or(ConstrType::Undefined)
}

/// The strings of a list of `String` nodes (column names, a qualified name's parts).
fn names(nodes: &[Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|node| match node.node.as_ref() {
            Some(NodeEnum::String(string)) => Some(string.sval.clone()),
            _ => None,
        })
        .collect()
}

/// PostgreSQL's everyday name for a type the parser spells its own way.
fn canonical_type(name: &str) -> String {
    match name {
        "int4" | "int" => "integer",
        "int8" => "bigint",
        "int2" => "smallint",
        "float8" => "double precision",
        "float4" => "real",
        "bool" => "boolean",
        "bpchar" => "char",
        "timestamptz" => "timestamptz",
        "timetz" => "timetz",
        other => other,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::sql_tokens::tokens;

    fn read_one(statement: &str) -> StatementSchema {
        let tree = pg_query::parse(statement, 0).expect("parses");
        read(&tree.protobuf, statement, &tokens(statement), &|at| at)
    }

    #[test]
    fn a_table_with_keys_and_references() {
        let statement = "CREATE TABLE app.orders (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  account_id uuid NOT NULL REFERENCES accounts (id),\n  placed_at timestamp without time zone DEFAULT now(),\n  code text,\n  UNIQUE (code),\n  CONSTRAINT fk_coupon FOREIGN KEY (code) REFERENCES coupons (code)\n)";
        let schema = read_one(statement);
        let [
            Operation::CreateTable {
                table,
                columns,
                unique,
                foreign_keys,
                ..
            },
        ] = &schema.operations[..]
        else {
            panic!("{schema:?}");
        };
        assert_eq!(table, "app.orders");
        let summary: Vec<(&str, &str, &str, bool, bool)> = columns
            .iter()
            .map(|column| {
                (
                    column.name.as_str(),
                    column.ty.name.as_str(),
                    &statement[column.ty.range.clone()],
                    column.primary_key,
                    column.identity,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("id", "bigint", "bigint", true, true),
                ("account_id", "uuid", "uuid", false, false),
                (
                    "placed_at",
                    "timestamp",
                    "timestamp without time zone",
                    false,
                    false
                ),
                ("code", "text", "text", false, false),
            ]
        );
        let reference = columns[1].references.as_ref().expect("references");
        assert_eq!(
            (
                reference.table.as_str(),
                &statement[reference.range.clone()]
            ),
            ("accounts", "accounts")
        );
        assert_eq!(unique, &[vec!["code".to_string()]]);
        assert_eq!(foreign_keys[0].columns, ["code"]);
        assert_eq!(
            &statement[foreign_keys[0].range.clone()],
            "CONSTRAINT fk_coupon FOREIGN KEY (code) REFERENCES coupons"
        );
    }

    #[test]
    fn alterations_indexes_drops_and_row_changes() {
        let schema = read_one(
            "ALTER TABLE users ADD COLUMN bio text, DROP COLUMN age, ALTER COLUMN id TYPE bigint, ADD CONSTRAINT fk FOREIGN KEY (team_id) REFERENCES teams (id)",
        );
        assert_eq!(schema.operations.len(), 4, "{schema:?}");
        assert!(
            matches!(&schema.operations[1], Operation::DropColumn { column, .. } if column == "age")
        );
        let index =
            read_one("CREATE INDEX CONCURRENTLY ix ON public.orders (account_id, lower(code))");
        assert!(matches!(
            &index.operations[0],
            Operation::CreateIndex { table, columns, concurrently: true, .. } if table == "orders" && columns == &["account_id"]
        ));
        assert_eq!(
            read_one("DELETE FROM sessions").rows,
            RowChange::Delete {
                table: "sessions".into(),
                has_where: false
            }
        );
        assert_eq!(
            read_one("UPDATE users SET x = 1, y = 2 WHERE id = 2").rows,
            RowChange::Update {
                table: "users".into(),
                columns: vec!["x".into(), "y".into()],
                has_where: true
            }
        );
        assert!(
            matches!(&read_one("DROP TABLE IF EXISTS a.b").operations[0], Operation::DropTable { table, .. } if table == "a.b")
        );
    }
}
