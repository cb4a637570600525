//! Fixture tests, one per rule and language: `tests/fixtures/<language>/<rule-id>.*`
//! holds findings first, then a `--- OK:` line, then near-misses that must stay quiet.
//! A first line `# path: tests/test_x.py` says where the fixture pretends to live.
//! Each test snapshots the findings and the text after all fixes, checks that every
//! fix on its own removes its finding and leaves code that parses, and that fixing
//! everything converges.

use std::path::Path;

use ropey::Rope;
use stackaudit::audit::audit_text;
use stackaudit::config::{Options, Settings};
use stackaudit::document::parse_text;
use stackaudit::document::position::line_column_of;
use stackaudit::fix::{apply_edits, fix_all};
use stackaudit::language::Language;
use stackaudit::rules::{Applicability, Finding, rule_by_id};

const OK_MARKER: &str = "--- OK:";
/// After the language's comment opener (`# path: `, `-- path: `).
const PATH_MARKER: &str = " path: ";

fn render(source: &str, findings: &[Finding]) -> String {
    let rope = Rope::from_str(source);
    let mut out = String::new();
    for finding in findings {
        let (line, column) = line_column_of(&rope, finding.range.start);
        let (end_line, end_column) = line_column_of(&rope, finding.range.end);
        out.push_str(&format!(
            "{line}:{column}-{end_line}:{end_column} {} {}: {}\n",
            finding.rule,
            finding.severity.as_str(),
            finding.message
        ));
        match &finding.fix {
            Some(fix) => {
                let safety = if fix.applicability == Applicability::Safe {
                    "safe"
                } else {
                    "unsafe"
                };
                out.push_str(&format!("    fix ({safety}): {}\n", fix.title));
            }
            None => out.push_str("    no fix\n"),
        }
    }
    out
}

fn parses_cleanly(language: Language, source: &str) -> bool {
    parse_text(language, source).is_some_and(|syntax| !syntax.has_error(source))
}

fn check_fixture(language: Language, relative: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{relative}: {error}"));
    // `missing-rollback.alembic.py`: a second fixture of `missing-rollback`.
    let rule = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .and_then(|stem| stem.split('.').next())
        .unwrap_or_default()
        .to_string();
    // The fixture's rule alone, as Ruff's fixture tests do: with two dozen rules, a
    // fixture for one would otherwise have to dodge all the others.
    let settings = Settings::from_options(Options {
        select: Some(vec![rule.clone()]),
        ..Options::default()
    })
    .unwrap_or_else(|error| panic!("{relative}: {error}"));
    // Where the fixture pretends to live in a project (rules about tests and entry points
    // read it): `app/<fixture name>`, or what a first line `# path: <path>` says.
    let comment = language.front_end().comments().new_comment().0;
    let project_path = source
        .lines()
        .next()
        .and_then(|first| first.strip_prefix(comment)?.strip_prefix(PATH_MARKER))
        .map(|path| std::path::PathBuf::from(path.trim()))
        .unwrap_or_else(|| Path::new("app").join(path.file_name().unwrap_or_default()));
    let file = Some(project_path.as_path());
    let findings = audit_text(language, &source, &settings, file);
    let snapshot_name = relative.replace(['/', '.'], "_");

    insta::assert_snapshot!(
        format!("{snapshot_name}__findings"),
        render(&source, &findings)
    );

    assert!(
        !findings.is_empty(),
        "{relative}: the findings section found nothing"
    );
    // Every fix is as safe as the registry (and so `stackaudit rules` and the README) says.
    let declared = rule_by_id(&rule).map(|rule| rule.fix);
    for finding in &findings {
        let Some(fix) = &finding.fix else { continue };
        let safety = declared.and_then(|declared| declared.safety());
        assert!(
            safety.is_some_and(|safety| safety.allows(fix.applicability)),
            "{relative}: a {:?} fix, but the registry says the rule's fix is {:?}",
            fix.applicability,
            declared
        );
    }
    let ok_at = source
        .find(OK_MARKER)
        .unwrap_or_else(|| panic!("{relative} has no `{OK_MARKER}` section"));
    for finding in &findings {
        assert!(
            finding.range.start < ok_at,
            "{relative}: near-miss flagged: {}",
            finding.message
        );
    }

    let parsed_before = parses_cleanly(language, &source);
    for finding in findings.iter().filter(|finding| finding.fix.is_some()) {
        let Some(fix) = &finding.fix else { continue };
        let fixed = apply_edits(&source, &fix.edits);
        let after = audit_text(language, &fixed, &settings, file);
        assert_eq!(
            after.len(),
            findings.len() - 1,
            "{relative}: fixing `{}` did not remove exactly it",
            finding.message
        );
        if parsed_before {
            assert!(
                parses_cleanly(language, &fixed),
                "{relative}: fix `{}` broke the syntax:\n{fixed}",
                fix.title
            );
        }
    }

    let all = fix_all(language, &source, &settings, true, file);
    assert!(all.converged, "{relative}: fixes did not converge");
    if parsed_before {
        assert!(
            parses_cleanly(language, &all.text),
            "{relative}: fix-all broke the syntax"
        );
    }
    let remaining = audit_text(language, &all.text, &settings, file);
    assert!(
        remaining.iter().all(|finding| finding.fix.is_none()),
        "{relative}: a fixable finding survived fix-all"
    );
    assert_eq!(
        fix_all(language, &all.text, &settings, true, file).text,
        all.text,
        "{relative}: fix-all is not idempotent"
    );
    insta::assert_snapshot!(format!("{snapshot_name}__fixed"), all.text);
}

#[test]
fn missing_rollback() {
    check_fixture(Language::Python, "python/missing-rollback.py");
}

#[test]
fn blocking_io_in_async() {
    check_fixture(Language::Python, "python/blocking-io-in-async.py");
}

#[test]
fn redis_key_without_ttl() {
    check_fixture(Language::Python, "python/redis-key-without-ttl.py");
}

#[test]
fn http_without_timeout() {
    check_fixture(Language::Python, "python/http-without-timeout.py");
}

#[test]
fn redis_client_without_timeout() {
    check_fixture(Language::Python, "python/redis-client-without-timeout.py");
}

#[test]
fn db_pool_without_timeout() {
    check_fixture(Language::Python, "python/db-pool-without-timeout.py");
}

#[test]
fn swallowed_exception() {
    check_fixture(Language::Python, "python/swallowed-exception.py");
}

#[test]
fn broad_except() {
    check_fixture(Language::Python, "python/broad-except.py");
}

#[test]
fn redis_silent_failure() {
    check_fixture(Language::Python, "python/redis-silent-failure.py");
}

#[test]
fn redis_keys_command() {
    check_fixture(Language::Python, "python/redis-keys-command.py");
}

#[test]
fn debug_in_production() {
    check_fixture(Language::Python, "python/debug-in-production.py");
}

#[test]
fn bind_all_interfaces() {
    check_fixture(Language::Python, "python/bind-all-interfaces.py");
}

#[test]
fn sleep_in_test() {
    check_fixture(Language::Python, "python/sleep-in-test.py");
}

#[test]
fn hardcoded_secret() {
    check_fixture(Language::Python, "python/hardcoded-secret.py");
}

#[test]
fn type_ignore_without_reason() {
    check_fixture(Language::Python, "python/type-ignore-without-reason.py");
}

#[test]
fn destructive_migration_in_alembic() {
    check_fixture(Language::Python, "python/destructive-migration.py");
}

#[test]
fn create_index_not_concurrently_in_alembic() {
    check_fixture(Language::Python, "python/create-index-not-concurrently.py");
}

#[test]
fn prefer_timestamptz_in_alembic() {
    check_fixture(Language::Python, "python/prefer-timestamptz.py");
}

#[test]
fn delete_without_where_in_alembic() {
    check_fixture(Language::Python, "python/delete-without-where.py");
}

#[test]
fn update_without_where_in_alembic() {
    check_fixture(Language::Python, "python/update-without-where.py");
}

#[test]
fn missing_downgrade() {
    check_fixture(Language::Python, "python/missing-downgrade.py");
}

/// `missing-downgrade` on migrations whose body says nothing, and near-misses: a real
/// downgrade, a data-only upgrade, a merge revision, a module that is no migration, a
/// nested `downgrade`. A drop has no mechanical inverse: reported with no fix.
#[test]
fn missing_downgrade_near_misses() {
    let migration = |upgrade: &str, downgrade: &str| {
        format!(
            "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"2b\"\ndown_revision = \"1a\"\n\n\ndef upgrade():\n{upgrade}\n\n\ndef downgrade():\n{downgrade}\n"
        )
    };
    let path = "migrations/versions/2b_change.py";
    let findings = |text: &str| {
        let settings = Settings::from_options(Options {
            select: Some(vec!["missing-downgrade".to_string()]),
            ..Options::default()
        })
        .expect("settings");
        audit_text(Language::Python, text, &settings, Some(Path::new(path)))
            .into_iter()
            .map(|finding| (finding.message.to_string(), finding.fix.is_some()))
            .collect::<Vec<_>>()
    };
    let adds = "    op.add_column(\"users\", sa.Column(\"age\", sa.Integer()))";
    for empty in [
        "    pass",
        "    ...",
        "    \"\"\"Irreversible.\"\"\"",
        "    raise NotImplementedError",
        "    raise NotImplementedError(\"no way back\")",
    ] {
        assert_eq!(
            findings(&migration(adds, empty)),
            [("`downgrade()` does nothing while `upgrade()` adds column `users.age`: `alembic downgrade` would record the older revision and leave the schema as it is".to_string(), true)],
            "{empty}"
        );
    }
    assert_eq!(
        findings(&migration("    op.drop_column(\"users\", \"legacy\")", "    pass")),
        [("`downgrade()` does nothing while `upgrade()` runs `drop_column`: `alembic downgrade` would record the older revision and leave the schema as it is".to_string(), false)]
    );
    let quiet = [
        migration(adds, "    op.drop_column(\"users\", \"age\")"),
        migration(
            "    op.execute(\"UPDATE users SET age = 0 WHERE age IS NULL\")\n    op.bulk_insert(users, [])",
            "    pass",
        ),
        migration("    pass", "    pass"),
        "revision = \"2b\"\ndown_revision = \"1a\"\n\n\ndef upgrade():\n    op.create_table(\"t\")\n\n\nclass Steps:\n    def downgrade(self):\n        pass\n".to_string(),
    ];
    for text in &quiet {
        assert_eq!(findings(text), [], "{text}");
    }
    // The same module outside a migration folder, with no revision: no migration.
    let plain = "def upgrade():\n    op.create_table(\"t\")\n\n\ndef downgrade():\n    pass\n";
    assert_eq!(findings(plain), []);
}

/// The rules of `rules` that report on `text` as the Python module at `path`, one entry
/// per finding, in order: for the rules whose findings depend on what kind of module a
/// file is (a test, a command, a migration).
fn rules_reported(rules: &[&str], text: &str, path: &str) -> Vec<String> {
    let settings = Settings::from_options(Options {
        select: Some(rules.iter().map(|rule| rule.to_string()).collect()),
        ..Options::default()
    })
    .expect("settings");
    audit_text(Language::Python, text, &settings, Some(Path::new(path)))
        .iter()
        .map(|finding| finding.rule.to_string())
        .collect()
}

/// An Alembic migration is one-off code: its row-by-row backfill is no N+1 query, and
/// its models (snapshots of their time) need no index advice. The same module without
/// `op` from `alembic` is reported.
#[test]
fn migrations_are_one_off_code() {
    let migration = r#"import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session, declarative_base

revision = "1a2b3c4d5e6f"
down_revision = None
Base = declarative_base()


class Order(Base):
    __tablename__ = "orders"
    id = sa.Column(sa.Integer, primary_key=True)
    customer_id = sa.Column(sa.Integer, sa.ForeignKey("customers.id"))


def upgrade():
    session = Session(bind=op.get_bind())
    for order in session.query(Order).all():
        session.execute(sa.text("UPDATE lines SET total = 0 WHERE order_id = :id"), {"id": order.id})
"#;
    let rules = ["n-plus-one-query", "fk-without-index"];
    let path = "migrations/versions/1a2b3c4d5e6f_backfill.py";
    let rules_of = |text: &str| rules_reported(&rules, text, path);
    assert_eq!(rules_of(migration), Vec::<String>::new());
    let not_a_migration = migration.replace("from alembic import op\n", "op = None\n");
    assert_eq!(
        rules_of(&not_a_migration),
        ["fk-without-index", "n-plus-one-query"]
    );
}

/// A script's event loop serves nobody else: blocking calls in its `async def` are not
/// reported, while the same module in the application is.
#[test]
fn commands_may_block_their_own_event_loop() {
    let module = "import shutil\n\n\nasync def export(source, target):\n    shutil.copyfile(source, target)\n";
    let count = |path: &str| rules_reported(&["blocking-io-in-async"], module, path).len();
    assert_eq!(count("app/services/export.py"), 1);
    assert_eq!(count("scripts/export.py"), 0);
    assert_eq!(count("app/cli.py"), 0);
}

/// Engines of tests, migrations and commands live for one run; a command that starts the
/// server with `reload=True` is the developers' way to run it.
#[test]
fn one_run_programs_need_no_pool_timeouts_or_production_switches() {
    let engine = "from sqlalchemy import create_engine\n\nengine = create_engine(URL)\n";
    let reload =
        "import uvicorn\n\n\ndef develop():\n    uvicorn.run(\"app.main:app\", reload=True)\n";
    let rules = ["db-pool-without-timeout", "debug-in-production"];
    let count = |text: &str, path: &str| rules_reported(&rules, text, path).len();
    assert_eq!(count(engine, "app/db.py"), 1);
    assert_eq!(count(engine, "tests/conftest.py"), 0);
    assert_eq!(count(engine, "scripts/wait_for_db.py"), 0);
    let alembic_env = format!("from alembic import context\n{engine}");
    assert_eq!(count(&alembic_env, "migrations/env.py"), 0);
    assert_eq!(count(reload, "app/server.py"), 1);
    assert_eq!(count(reload, "app/cli.py"), 0);
}

/// Tests provoke Redis failures and write keys on purpose: neither is reported there.
#[test]
fn tests_handle_redis_on_purpose() {
    let module = "import redis\n\nclient = redis.Redis(socket_timeout=1)\n\n\ndef test_outage(user):\n    client.set(f\"seen:{user}\", 1)\n    try:\n        client.ping()\n    except redis.ConnectionError:\n        pass\n";
    let rules = ["redis-key-without-ttl", "redis-silent-failure"];
    let rules_in = |path: &str| rules_reported(&rules, module, path);
    assert_eq!(
        rules_in("app/health.py"),
        ["redis-key-without-ttl", "redis-silent-failure"]
    );
    assert_eq!(rules_in("tests/test_health.py"), Vec::<String>::new());
}

/// A module that imports from a module named for another database (a DuckDB query
/// runner and its tests) runs that database's SQL.
#[test]
fn sql_of_a_module_named_for_another_database_is_not_postgresqls() {
    let runner = "def totals(runner):\n    runner.con.execute(\"SELECT sum(total) FROM 'orders.parquet'\")\n";
    let count = |text: &str| rules_reported(&["sql-syntax-in-python"], text, "app/totals.py").len();
    assert_eq!(count(runner), 1);
    let with_import = format!("from app.query_runner.duckdb import DuckDB\n\n\n{runner}");
    assert_eq!(count(&with_import), 0);
}

/// In an Alembic migration a bare commit is fine (a failed migration stops the run); a
/// handler that swallows the failure is not.
#[test]
fn missing_rollback_in_a_migration() {
    check_fixture(Language::Python, "python/missing-rollback.alembic.py");
}

/// In a script a bare commit is fine (a failed script stops); a handler that swallows the
/// failure is not.
#[test]
fn missing_rollback_in_a_command() {
    check_fixture(Language::Python, "python/missing-rollback.command.py");
}

#[test]
fn import_inside_function() {
    check_fixture(Language::Python, "python/import-inside-function.py");
}

#[test]
fn cors_wildcard_credentials() {
    check_fixture(Language::Python, "python/cors-wildcard-credentials.py");
}

#[test]
fn fk_without_index() {
    check_fixture(Language::Python, "python/fk-without-index.py");
}

#[test]
fn sql_injection() {
    check_fixture(Language::Python, "python/sql-injection.py");
}

#[test]
fn sql_syntax_in_python() {
    check_fixture(Language::Python, "python/sql-syntax-in-python.py");
}

#[test]
fn redis_race_condition() {
    check_fixture(Language::Python, "python/redis-race-condition.py");
}

#[test]
fn pubsub_without_reconnect() {
    check_fixture(Language::Python, "python/pubsub-without-reconnect.py");
}

#[test]
fn missing_auth_dependency() {
    check_fixture(Language::Python, "python/missing-auth-dependency.py");
}

#[test]
fn session_shared_across_requests() {
    check_fixture(Language::Python, "python/session-shared-across-requests.py");
}

#[test]
fn global_mutable_state() {
    check_fixture(Language::Python, "python/global-mutable-state.py");
}

#[test]
fn n_plus_one_query() {
    check_fixture(Language::Python, "python/n-plus-one-query.py");
}

#[test]
fn docker_hardcoded_secret_in_dockerfile() {
    check_fixture(
        Language::Dockerfile,
        "dockerfile/docker-hardcoded-secret.dockerfile",
    );
}

#[test]
fn docker_hardcoded_secret_in_compose() {
    check_fixture(Language::Compose, "compose/docker-hardcoded-secret.yml");
}

#[test]
fn sql_syntax_error() {
    check_fixture(Language::Sql, "sql/sql-syntax-error.sql");
}

#[test]
fn mysql_syntax_in_postgres() {
    check_fixture(Language::Sql, "sql/mysql-syntax-in-postgres.sql");
}

#[test]
fn delete_without_where() {
    check_fixture(Language::Sql, "sql/delete-without-where.sql");
}

#[test]
fn update_without_where() {
    check_fixture(Language::Sql, "sql/update-without-where.sql");
}

#[test]
fn prefer_timestamptz() {
    check_fixture(Language::Sql, "sql/prefer-timestamptz.sql");
}

#[test]
fn destructive_migration() {
    check_fixture(Language::Sql, "sql/destructive-migration.sql");
}

#[test]
fn create_index_not_concurrently() {
    check_fixture(Language::Sql, "sql/create-index-not-concurrently.sql");
}

/// The findings of `rules` on `text` as the SQL file at `path`: (rule, text found).
fn sql_findings(rules: &[&str], text: &str, path: &str) -> Vec<(String, String)> {
    let settings = Settings::from_options(Options {
        select: Some(rules.iter().map(|rule| rule.to_string()).collect()),
        ..Options::default()
    })
    .expect("settings");
    audit_text(Language::Sql, text, &settings, Some(Path::new(path)))
        .iter()
        .map(|finding| {
            (
                finding.rule.to_string(),
                text[finding.range.clone()].to_string(),
            )
        })
        .collect()
}

/// PostgreSQL's grammar is the judge: a corpus of valid DDL and DML (partitions, `DO`
/// blocks, functions in dollar quotes, `CREATE INDEX CONCURRENTLY`, operator classes,
/// `ON CONFLICT`, generated columns, ...) gets no finding of either SQL rule.
#[test]
fn valid_postgresql_gets_no_finding() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/valid-postgresql.sql");
    let text = std::fs::read_to_string(&path).expect("corpus");
    assert_eq!(
        sql_findings(
            &["sql-syntax-error", "mysql-syntax-in-postgres"],
            &text,
            "db/schema.sql"
        ),
        Vec::<(String, String)>::new()
    );
    // It is a corpus of many statements, each judged.
    let syntax = stackaudit::document::parse_text(Language::Sql, &text).expect("parses");
    let statements: usize = syntax
        .items()
        .iter()
        .map(|item| item.sql(&text).statements.len())
        .sum();
    assert!(statements >= 40, "{statements} statements");
}

/// A MySQL construct is reported once, by the MySQL rule, and does not hide a real
/// syntax error behind it; with the MySQL rule off, the statement is judged as written.
#[test]
fn mysql_constructs_are_reported_once_and_hide_no_syntax_error() {
    let text = "CREATE TABLE `users` (\n  id int AUTO_INCREMENT,\n  name varchar(20) NOT NUL\n) ENGINE=InnoDB;\n";
    let both = ["sql-syntax-error", "mysql-syntax-in-postgres"];
    let found = sql_findings(&both, text, "db/schema.sql");
    let syntax: Vec<&(String, String)> = found
        .iter()
        .filter(|(rule, _)| rule == "sql-syntax-error")
        .collect();
    assert_eq!(
        syntax,
        [&("sql-syntax-error".to_string(), "NUL".to_string())]
    );
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(
        sql_findings(&["sql-syntax-error"], text, "db/schema.sql"),
        [("sql-syntax-error".to_string(), "`".to_string())]
    );
    // Fixing every MySQL construct of the fixture leaves statements PostgreSQL accepts,
    // but for those with no mechanical fix.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sql");
    let fixture =
        std::fs::read_to_string(root.join("mysql-syntax-in-postgres.sql")).expect("fixture");
    let settings = Settings::from_options(Options {
        select: Some(both.iter().map(|rule| rule.to_string()).collect()),
        ..Options::default()
    })
    .expect("settings");
    let fixed = fix_all(Language::Sql, &fixture, &settings, true, None);
    let left: Vec<String> = audit_text(Language::Sql, &fixed.text, &settings, None)
        .iter()
        .map(|finding| format!("{} {}", finding.rule, &fixed.text[finding.range.clone()]))
        .collect();
    assert_eq!(
        left,
        [
            "mysql-syntax-in-postgres enum('gold', 'silver')",
            "mysql-syntax-in-postgres INSERT IGNORE"
        ]
    );
}

/// SQL written for another database, as its path says, is not PostgreSQL's to judge.
#[test]
fn sql_for_another_database_is_not_judged() {
    let text =
        "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB;\nSELECT 1 FORM t;\n";
    let both = ["sql-syntax-error", "mysql-syntax-in-postgres"];
    assert_eq!(sql_findings(&both, text, "db/mysql/schema.sql"), []);
    assert_eq!(sql_findings(&both, text, "schema.sqlite.sql"), []);
    assert_eq!(sql_findings(&both, text, "db/schema.sql").len(), 3);
}

#[test]
fn every_fixture_has_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let this_file = include_str!("rules.rs");
    let workspace_tests = include_str!("workspace.rs");
    for language in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        if language.file_name() == "workspaces" {
            for case in std::fs::read_dir(language.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = case.file_name().to_string_lossy().into_owned();
                assert!(
                    workspace_tests.contains(&format!("workspace(\"{name}\")")),
                    "fixture workspace {name} is not tested"
                );
            }
            continue;
        }
        for fixture in std::fs::read_dir(language.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let relative = format!(
                "{}/{}",
                language.file_name().to_string_lossy(),
                fixture.file_name().to_string_lossy()
            );
            assert!(
                this_file.contains(&format!("\"{relative}\"")),
                "fixture {relative} is not tested"
            );
        }
    }
}

/// Files with Windows line endings: the same findings, and fixes that keep `\r\n`.
#[test]
fn crlf_files_get_the_same_findings_and_crlf_fixes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python");
    let settings = Settings::default();
    for fixture in [
        "missing-rollback.py",
        "blocking-io-in-async.py",
        "redis-key-without-ttl.py",
    ] {
        let unix = std::fs::read_to_string(root.join(fixture)).expect("fixture");
        let windows = unix.replace('\n', "\r\n");
        let rules = |source: &str| -> Vec<(&'static str, usize)> {
            audit_text(Language::Python, source, &settings, None)
                .iter()
                .map(|finding| {
                    (
                        finding.rule,
                        source[..finding.range.start].matches('\n').count(),
                    )
                })
                .collect()
        };
        assert_eq!(rules(&windows), rules(&unix), "{fixture}");
        let fixed = fix_all(Language::Python, &windows, &settings, true, None);
        assert!(parses_cleanly(Language::Python, &fixed.text), "{fixture}");
        assert_eq!(
            fixed.text.matches('\n').count(),
            fixed.text.matches("\r\n").count(),
            "{fixture}: a fix wrote a bare \\n"
        );
        assert_eq!(
            fixed.text.replace("\r\n", "\n"),
            fix_all(Language::Python, &unix, &settings, true, None).text,
            "{fixture}"
        );
    }
}

/// The rules about tests and entry points judge the file's path: the same text is
/// reported in one file and not in another.
#[test]
fn the_file_path_decides_where_path_rules_apply() {
    let settings = Settings::default();
    let rules_in = |path: &str, source: &str| -> Vec<&'static str> {
        let mut rules: Vec<&str> =
            audit_text(Language::Python, source, &settings, Some(Path::new(path)))
                .iter()
                .map(|finding| finding.rule)
                .collect();
        rules.sort();
        rules
    };
    let sleeping_test = "import time\n\ndef test_x():\n    time.sleep(1)\n";
    assert_eq!(
        rules_in("tests/test_x.py", sleeping_test),
        ["sleep-in-test"]
    );
    assert_eq!(rules_in("app/x_test.py", sleeping_test), ["sleep-in-test"]);
    assert!(rules_in("app/jobs.py", sleeping_test).is_empty());

    let server = "import uvicorn\n\nuvicorn.run(\"app:app\", host=\"0.0.0.0\", reload=True)\n";
    assert_eq!(
        rules_in("app/main.py", server),
        ["bind-all-interfaces", "debug-in-production"]
    );
    assert_eq!(rules_in("run_dev.py", server), ["bind-all-interfaces"]);
    assert_eq!(
        rules_in("docker/entrypoint.py", server),
        ["debug-in-production"]
    );
    assert!(rules_in("tests/test_server.py", server).is_empty());
}
