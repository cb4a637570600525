//! Facts across files: a client, session or dependency made in one module is known in
//! the modules that import it, in `check` as in the server. The fixture workspaces live
//! in `tests/fixtures/workspaces/`.

#![allow(clippy::disallowed_methods)] // Starts the built binary, as a user does.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{TestClient, summarize};
use serde_json::{Value, json};

fn workspace(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/workspaces")
        .join(name)
}

fn stackaudit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackaudit"))
        .args(args)
        .current_dir(dir)
        .env_remove("STACKAUDIT_LOG")
        .output()
        .expect("the binary runs")
}

/// Each finding of a JSON report as `file:row:column-row:column rule message`.
fn findings_of(output: &Output) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    json.as_array()
        .into_iter()
        .flatten()
        .map(|finding| {
            format!(
                "{}:{}:{}-{}:{} {} {}",
                finding["filename"].as_str().unwrap_or(""),
                finding["location"]["row"],
                finding["location"]["column"],
                finding["end_location"]["row"],
                finding["end_location"]["column"],
                finding["code"].as_str().unwrap_or(""),
                finding["message"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// What `check` finds in the `clients` workspace: every import form, a getter, a client
/// class exported again under another name, a dependency, a class attribute, a pub/sub
/// object, sessions (queried in loops under names that say nothing of sessions) and a
/// Redis error exported again, made in other modules; SQL on a DuckDB connection made in
/// another module is not judged as PostgreSQL's; no finding for the asyncio
/// client, a module that does not exist, a parameter that shadows an imported client,
/// or the second project's own `app.cache` (a dict, not the backend's client).
const CLIENTS_FINDINGS: &[&str] = &[
    "backend/app/services/analytics.py:15:59-15:75 sql-syntax-in-python PostgreSQL would reject this SQL: syntax error at or near \"'orders.parquet'\"",
    "backend/app/services/listener.py:6:20-6:35 pubsub-without-reconnect `events.listen()` loop has no handling of connection errors: when Redis restarts or the connection drops, the subscriber dies and events are lost",
    "backend/app/services/metrics.py:5:12-5:17 redis-client-without-timeout `Cache` (`redis.Redis`) has no `socket_timeout`: when Redis stops answering, every command on it waits forever",
    "backend/app/services/metrics.py:6:10-6:17 redis-client-without-timeout `connect` (`redis.asyncio.from_url`) has no `socket_timeout`: when Redis stops answering, every command on it waits forever",
    "backend/app/services/orders.py:11:12-11:19 session-shared-across-requests `current` is one session created at import time and shared by every request: concurrent requests interleave on it, and one failure breaks it for all",
    "backend/app/services/orders.py:22:5-22:16 missing-rollback `db.commit()` can fail and leave the transaction open: `db` is created here without a `with` block and nothing rolls it back",
    "backend/app/services/profiles.py:11:5-11:21 redis-silent-failure `app.api.deps.CacheDown` is handled silently: nothing logs it, re-raises it or returns an error, so a Redis outage goes unnoticed",
    "backend/app/services/reports.py:10:27-10:60 n-plus-one-query query inside a loop over another query's results (`for order in ...`): one query per row (N+1); load them together with `selectinload`/`joinedload` or one `IN` query",
    "backend/app/services/reports.py:18:19-18:51 n-plus-one-query query inside a loop over another query's results (`for row in ...`): one query per row (N+1); load them together with `selectinload`/`joinedload` or one `IN` query",
    "backend/app/services/routes.py:11:12-11:27 blocking-io-in-async `r.get` blocks the event loop inside `async def visits`",
    "backend/app/services/sessions.py:7:5-7:50 redis-key-without-ttl `redis_client.set` creates key `f\"session:{user_id}\"` with no expiry; it stays in Redis until deleted",
    "backend/app/services/sessions.py:11:5-11:66 redis-key-without-ttl `deps.cache_client.hset` creates key `f\"profile:{user_id}\"` with no expiry; it stays in Redis until deleted",
    "backend/app/services/sessions.py:15:5-15:40 redis-key-without-ttl `store.shared.incr` creates key `f\"visits:{page}\"` with no expiry; it stays in Redis until deleted",
    "backend/app/services/store.py:12:9-12:47 redis-key-without-ttl `self.client.set` creates key `f\"token:{token}\"` with no expiry; it stays in Redis until deleted",
    "backend/app/services/store.py:16:5-16:51 redis-key-without-ttl `get_redis().sadd` creates key `f\"tokens:{token[:2]}\"` with no expiry; it stays in Redis until deleted",
];

/// What `check --no-cache` finds in the fixture workspace `name` (findings: exit 1).
fn fresh_check_of(name: &str) -> Vec<String> {
    let output = stackaudit(
        &workspace(name),
        &["check", "--no-cache", "--output-format", "json", "."],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    findings_of(&output)
}

/// What `check` finds in `dir`, through its cache.
fn cached_check_of(dir: &Path) -> Vec<String> {
    findings_of(&stackaudit(dir, &["check", "--output-format", "json"]))
}

#[test]
fn check_knows_clients_made_in_other_modules() {
    assert_eq!(fresh_check_of("clients"), CLIENTS_FINDINGS);
}

/// What `check` finds in the `auth` workspace: routes whose dependencies authenticate
/// in other modules (a dependency imported by name, a service factory that takes one, an
/// alias, an alias read through its module (`grants.GrantsWriter`) whose dependency is
/// an instance made by a factory, a router made with one, a router included with one,
/// or into a router that is) are not reported; routes whose dependencies only open the database or read a
/// page number are, and so is a router included with none.
const AUTH_FINDINGS: &[&str] = &[
    "app/api/routes/benefits.py:13:2-13:32 missing-auth-dependency `DELETE /benefits/{benefit_id}` changes data and no authentication dependency guards it (on the route, `router` or the app)",
    "app/api/routes/orders.py:25:2-25:30 missing-auth-dependency `DELETE /orders/{order_id}` changes data and no authentication dependency guards it (on the route, `orders` or the app)",
    "app/api/routes/orders.py:30:2-30:25 missing-auth-dependency `POST /orders/reports` changes data and no authentication dependency guards it (on the route, `orders` or the app)",
    "app/api/routes/staff.py:13:2-13:26 missing-auth-dependency `POST /feedback` changes data and no authentication dependency guards it (on the route, `router` or the app)",
    "app/api/routes/webhooks.py:6:2-6:34 missing-auth-dependency `POST /webhooks/payment` changes data and no authentication dependency guards it (on the route, `router` or the app)",
];

#[test]
fn check_knows_dependencies_that_authenticate_in_other_modules() {
    assert_eq!(fresh_check_of("auth"), AUTH_FINDINGS);
}

/// What `check` finds in the `cycles` workspace: imports inside functions that break an
/// import cycle (of two modules, and of three), of optional dependencies (an extra, an
/// undeclared module), in commands (a console script's module, a script, a Click
/// command) and in tests are not reported; the others are.
const CYCLES_FINDINGS: &[&str] = &[
    "shop/audit.py:8:5-8:36 import-inside-function `from shop.reports import totals` inside `summary` hides a dependency and runs on every call; import at module level, or say why in a comment",
    "shop/exports.py:9:5-9:20 import-inside-function `import requests` inside `exchange_rates` hides a dependency and runs on every call; import at module level, or say why in a comment",
    "shop/exports.py:15:5-15:16 import-inside-function `import yaml` inside `read_layout` hides a dependency and runs on every call; import at module level, or say why in a comment",
    "shop/models.py:9:9-9:20 import-inside-function `import json` inside `to_json` hides a dependency and runs on every call; import at module level, or say why in a comment",
    "shop/signals.py:12:5-12:15 import-inside-function `import csv` inside `export` hides a dependency and runs on every call; import at module level, or say why in a comment",
    "shop/tasks.py:19:5-19:36 import-inside-function `from shop.reports import totals` inside `nightly` hides a dependency and runs on every call; import at module level, or say why in a comment",
];

/// What `check` finds in the `schema` workspace: a schema split over SQL files (in a
/// folder, and a seed file elsewhere), judged as one: a reference to a table no file
/// creates and to a column its table lacks, a key of the wrong type, a table keyed
/// unlike most, a table with no key and a foreign key no index leads with. Keys,
/// indexes and tables that other files add are seen (a table a SQLAlchemy model
/// declares too), and a table of another schema that the project does not create
/// (`auth.users`) is not reported.
const SCHEMA_FINDINGS: &[&str] = &[
    "db/schema/002_orders.sql:3:3-3:10 fk-without-index `orders.user_id` references `users` but no index leads with it: deleting or updating a `users` row scans `orders`, and joins on it cannot use an index",
    "db/schema/002_orders.sql:4:34-4:43 missing-referenced-table `campaigns` is referenced here, but no SQL file, migration or model of the workspace creates it",
    "db/schema/002_orders.sql:5:12-5:16 fk-type-mismatch `orders.team_uid` is `uuid` but references `teams.id`, which is `integer`",
    "db/schema/002_orders.sql:14:3-14:5 inconsistent-id-types `invites.id` is a `uuid` key, while 5 of the schema's 6 keyed tables use integer keys (`orders`, `referrals`, `rewards`, ...)",
    "db/schema/003_links.sql:4:95-4:100 missing-referenced-table `users` has no column `uid` (its columns: id, email)",
    "db/schema/003_links.sql:8:14-8:23 missing-primary-key `audit_log` has no primary key: its rows cannot be told apart, updated one by one, or replicated",
];

#[test]
fn check_knows_the_schema_split_over_sql_files() {
    assert_eq!(fresh_check_of("schema"), SCHEMA_FINDINGS);
    // Through the cache, and again once another file creates the missing table.
    let copy = copied_workspace("schema");
    let run = || cached_check_of(copy.path());
    assert_eq!(run(), SCHEMA_FINDINGS);
    assert_eq!(run(), SCHEMA_FINDINGS);
    let seeds = copy.path().join("db/seeds/coupons.sql");
    let text = std::fs::read_to_string(&seeds).expect("readable");
    std::fs::write(
        &seeds,
        format!("{text}CREATE TABLE campaigns (id integer PRIMARY KEY);\n"),
    )
    .expect("write");
    // The reference is answered, and the cached finding about key kinds, which read
    // the whole schema, counts the new table.
    let now = run();
    assert_eq!(now.len(), SCHEMA_FINDINGS.len() - 1, "{now:?}");
    assert!(
        !now.iter()
            .any(|finding| finding.contains("missing-referenced-table `campaigns`")),
        "{now:?}"
    );
    assert!(
        now.iter().any(|finding| finding.contains(
            "`invites.id` is a `uuid` key, while 6 of the schema's 7 keyed tables use integer keys (`campaigns`, `orders`, `referrals`, ...)"
        )),
        "{now:?}"
    );
}

/// What `check` finds in the `sql-migrations` workspace, a history of migrations
/// (Diesel's `up.sql`/`down.sql`): each is judged against the schema its successors
/// leave. A table renamed later is still known to the migration that references it, a
/// column a later migration renamed (and indexed) or retyped is history, while one still
/// `timestamp` and a foreign key still without an index are reported; down migrations
/// are not judged, and a migration may index the table it creates as it likes.
const SQL_MIGRATIONS_FINDINGS: &[&str] = &[
    "migrations/2024-01-01-000000_init/up.sql:10:6-10:15 prefer-timestamptz `at` is `timestamp`, a time with no zone; `TIMESTAMPTZ` stores an instant",
    "migrations/2024-02-01-000000_rename/up.sql:1:1-1:12 destructive-migration Renaming table `user_` to `person` breaks the running version of the app, which still uses the old name",
    "migrations/2024-02-01-000000_rename/up.sql:2:1-2:12 destructive-migration Renaming column `post.user_id` to `person_id` breaks the running version of the app, which still uses the old name",
    "migrations/2024-02-01-000000_rename/up.sql:3:1-3:13 create-index-not-concurrently `CREATE INDEX` on `post` blocks its writes until the index is built; build it `CONCURRENTLY`",
    "migrations/2024-02-01-000000_rename/up.sql:4:48-4:59 destructive-migration Changing the type of `person.published` rewrites the table under an exclusive lock and fails on values the new type cannot hold",
    "migrations/2024-03-01-000000_comments/up.sql:4:3-4:12 fk-without-index `comment.person_id` references `person` but no index leads with it: deleting or updating a `person` row scans `comment`, and joins on it cannot use an index",
];

#[test]
fn check_judges_each_sql_migration_against_the_schema_its_successors_leave() {
    assert_eq!(fresh_check_of("sql-migrations"), SQL_MIGRATIONS_FINDINGS);
    // The fix of a foreign key without an index in a migration converges: the index
    // its own text adds counts at once.
    let copy = copied_workspace("sql-migrations");
    let output = stackaudit(
        copy.path(),
        &["check", "--fix", "--select", "fk-without-index"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let comments = std::fs::read_to_string(
        copy.path()
            .join("migrations/2024-03-01-000000_comments/up.sql"),
    )
    .expect("readable");
    assert_eq!(
        comments.matches("comment_person_id_idx").count(),
        1,
        "{comments}"
    );
}

/// The fix of `fk-without-index` in a SQL file adds the index after the table, and the
/// finding is gone.
#[test]
fn check_fixes_a_foreign_key_without_an_index_in_sql() {
    let copy = copied_workspace("schema");
    let output = stackaudit(
        copy.path(),
        &["check", "--fix", "--select", "fk-without-index"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let orders =
        std::fs::read_to_string(copy.path().join("db/schema/002_orders.sql")).expect("readable");
    assert!(
        orders.contains("  owner_id uuid REFERENCES auth.users (id)\n);\nCREATE INDEX orders_user_id_idx ON orders (user_id);\n"),
        "{orders}"
    );
}

/// What `check` finds in the `alembic` workspace, two Alembic environments and the
/// models of the first: a fork of two revisions after a merge, a parent that no
/// migration is, and in the second environment an id used twice; a model table and a
/// model column that no migration makes, and a column the migrations keep that its
/// model lacks; foreign keys of a model and of a migration to a table nothing creates,
/// and of a model to a column its table lacks. A fork joined by a merge revision, a
/// labelled branch, the second environment's own base, and a model with a mixin
/// (whose columns are open) are not reported.
const ALEMBIC_FINDINGS: &[&str] = &[
    "analytics/alembic/versions/bb22cc33dd44_add_sessions.py:9:1-9:26 alembic-broken-chain Revision id `bb22cc33dd44` is also the id of `cc33dd44ee55_add_referrer.py`: Alembic cannot tell the two apart",
    "analytics/alembic/versions/cc33dd44ee55_add_referrer.py:9:1-9:26 alembic-broken-chain Revision id `bb22cc33dd44` is also the id of `bb22cc33dd44_add_sessions.py`: Alembic cannot tell the two apart",
    "app/models.py:30:5-30:9 migration-model-drift `orders.note` is in the model but no migration leaves it on the table: queries that select it fail on a database migrated to head",
    "app/models.py:44:53-44:79 fk-without-index `coupons.campaign_id` references `campaigns.id` with no index: PostgreSQL does not index foreign keys, so joins on it and deletes from the parent scan the whole table",
    "app/models.py:44:64-44:78 missing-referenced-table `campaigns` is referenced here, but no SQL file, migration or model of the workspace creates it",
    "app/models.py:47:7-47:13 migration-model-drift `refunds` is a model's table that no migration creates: a database migrated to head has no such table (`alembic revision --autogenerate` makes the migration)",
    "app/models.py:51:54-51:66 missing-referenced-table `orders` has no column `uid` (its columns: note, id, user_id, total_cents, status)",
    "migrations/versions/2c4e5f6a7b8c_add_invoices.py:22:9-22:69 migration-model-drift `invoices.legacy_ref` stays on the table after the last migration, but the model of `invoices` has no such column (drop it in a migration, or map it)",
    "migrations/versions/6a7b8c9d0e1f_add_nickname.py:12:1-12:64 alembic-broken-chain Revision `6a7b8c9d0e1f` and `6a8c9d0e1f2a` both follow `5f6a7b8c9d0e` and no merge revision joins them: `alembic upgrade head` fails on multiple heads (run `alembic merge`, or set `branch_labels`)",
    "migrations/versions/6a8c9d0e1f2a_add_order_status.py:12:1-12:64 alembic-broken-chain Revision `6a8c9d0e1f2a` and `6a7b8c9d0e1f` both follow `5f6a7b8c9d0e` and no merge revision joins them: `alembic upgrade head` fails on multiple heads (run `alembic merge`, or set `branch_labels`)",
    "migrations/versions/7d8e9f0a1b2c_add_coupons.py:12:1-12:64 alembic-broken-chain `down_revision` names `0f0f0f0f0f0f`, which no migration of the workspace is: `alembic upgrade` stops here",
    "migrations/versions/7d8e9f0a1b2c_add_coupons.py:21:62-21:76 missing-referenced-table `campaigns` is referenced here, but no SQL file, migration or model of the workspace creates it",
];

#[test]
fn check_follows_the_alembic_revision_chain_and_the_models() {
    assert_eq!(fresh_check_of("alembic"), ALEMBIC_FINDINGS);
    // Through the cache, and again once a merge revision joins the fork and makes
    // what the models lacked: the cached findings that read the chain and the
    // tables follow.
    let copy = copied_workspace("alembic");
    let run = || cached_check_of(copy.path());
    assert_eq!(run(), ALEMBIC_FINDINGS);
    std::fs::write(
        copy.path()
            .join("migrations/versions/9e0f1a2b3c4d_merge_heads.py"),
        concat!(
            "from alembic import op\nimport sqlalchemy as sa\n\n",
            "revision = \"9e0f1a2b3c4d\"\n",
            "down_revision = (\"6a7b8c9d0e1f\", \"6a8c9d0e1f2a\")\n",
            "branch_labels = None\n\n\n",
            "def upgrade():\n",
            "    op.create_table(\"refunds\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"order_id\", sa.Integer()))\n",
            "    op.create_index(\"ix_refunds_order_id\", \"refunds\", [\"order_id\"])\n",
            "    op.add_column(\"orders\", sa.Column(\"note\", sa.String(200)))\n\n\n",
            "def downgrade():\n",
            "    op.drop_column(\"orders\", \"note\")\n",
            "    op.drop_index(\"ix_refunds_order_id\", table_name=\"refunds\")\n",
            "    op.drop_table(\"refunds\")\n",
        ),
    )
    .expect("write");
    let now = run();
    assert_eq!(
        now,
        ALEMBIC_FINDINGS
            .iter()
            .filter(|finding| {
                let model_drift = finding.starts_with("app/models.py")
                    && finding.contains("migration-model-drift");
                !(finding.contains("multiple heads") || model_drift)
            })
            // `orders.note` is now a migration's, made after the table's other columns.
            .map(|finding| finding.replace(
                "note, id, user_id, total_cents, status",
                "id, user_id, total_cents, status, note"
            ))
            .collect::<Vec<_>>()
    );
}

#[test]
fn check_knows_which_imports_inside_functions_break_a_cycle() {
    let copy = copied_workspace("cycles");
    let run = || cached_check_of(copy.path());
    assert_eq!(run(), CYCLES_FINDINGS);
    // From the cache, then again once the cycle is gone: `models.py` no longer imports
    // `signals.py`, whose import of it is then reported (and `audit.py`'s with it).
    assert_eq!(run(), CYCLES_FINDINGS);
    let models = copy.path().join("shop/models.py");
    let text = std::fs::read_to_string(&models).expect("readable");
    std::fs::write(
        &models,
        text.replace(
            "from shop.signals import order_saved",
            "order_saved = print",
        ),
    )
    .expect("write");
    let broken: Vec<String> = run()
        .iter()
        .map(|finding| {
            finding
                .split(" import-inside-function")
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(
        broken,
        [
            "shop/audit.py:2:5-2:34",
            "shop/audit.py:8:5-8:36",
            "shop/exports.py:9:5-9:20",
            "shop/exports.py:15:5-15:16",
            "shop/models.py:9:9-9:20",
            "shop/signals.py:5:5-5:34",
            "shop/signals.py:12:5-12:15",
            "shop/tasks.py:19:5-19:36",
        ]
    );
    std::fs::write(&models, text).expect("write");
    assert_eq!(run(), CYCLES_FINDINGS);
}

/// Cached findings follow the includes of other modules: a router included without
/// its dependency any more is reported, and not once the dependency is back.
#[test]
fn cached_findings_follow_the_routers_other_modules_include() {
    let copy = copied_workspace("auth");
    let run = || cached_check_of(copy.path());
    assert_eq!(run(), AUTH_FINDINGS);
    let including = copy.path().join("app/api/main.py");
    let text = std::fs::read_to_string(&including).expect("readable");
    let without = text.replace(
        "items.router, dependencies=[Depends(require_session_context)])",
        "items.router)",
    );
    assert_ne!(without, text);
    std::fs::write(&including, without).expect("write");
    let items: Vec<String> = run()
        .into_iter()
        .filter(|finding| finding.starts_with("app/api/routes/items.py"))
        .collect();
    assert_eq!(
        items,
        [
            "app/api/routes/items.py:6:2-6:18 missing-auth-dependency `POST /items/` changes data and no authentication dependency guards it (on the route, `router` or the app)",
            "app/api/routes/items.py:11:2-11:29 missing-auth-dependency `DELETE /items/{item_id}` changes data and no authentication dependency guards it (on the route, `router` or the app)",
        ]
    );
    std::fs::write(&including, text).expect("write");
    assert_eq!(run(), AUTH_FINDINGS);
}

/// `check --fix` fixes findings that rest on other modules (an error class exported
/// again, a session factory made elsewhere), as it reports them.
#[test]
fn fixes_apply_to_findings_that_rest_on_other_modules() {
    let copy = copied_workspace("clients");
    let fixed = stackaudit(copy.path(), &["check", "--fix", "--output-format", "json"]);
    assert_eq!(fixed.status.code(), Some(1), "{fixed:?}");
    let remaining = findings_of(&fixed);
    assert!(
        remaining
            .iter()
            .all(|finding| !finding.contains("redis-silent-failure")
                && !finding.contains("missing-rollback")),
        "{remaining:?}"
    );
    let read = |name: &str| std::fs::read_to_string(copy.path().join(name)).expect("readable");
    let profiles = read("backend/app/services/profiles.py");
    assert!(
        profiles.starts_with("import logging\n\nfrom app.api.deps import"),
        "{profiles}"
    );
    assert!(
        profiles.contains(
            "    except CacheDown:\n        logging.exception(\"Redis error in cached_profile\")\n        return None\n"
        ),
        "{profiles}"
    );
    let orders = read("backend/app/services/orders.py");
    assert!(
        orders.contains(
            "    try:\n        db.commit()\n    except Exception:\n        db.rollback()\n        raise\n    db.close()\n"
        ),
        "{orders}"
    );
}

/// The unsafe fix of a client class that another module exports again under its own
/// name: the timeouts go on the call as written, and the findings go.
#[test]
fn unsafe_fixes_apply_to_clients_exported_again() {
    let copy = copied_workspace("clients");
    let fixed = stackaudit(
        copy.path(),
        &[
            "check",
            "--fix",
            "--unsafe-fixes",
            "--output-format",
            "json",
        ],
    );
    let remaining = findings_of(&fixed);
    assert!(
        remaining
            .iter()
            .all(|finding| !finding.contains("redis-client-without-timeout")),
        "{remaining:?}"
    );
    let metrics = std::fs::read_to_string(copy.path().join("backend/app/services/metrics.py"))
        .expect("readable");
    assert!(
        metrics.contains(
            "counters = Cache(host=\"metrics\", socket_timeout=5, socket_connect_timeout=5)\n\
             events = connect(os.environ[\"EVENTS_URL\"], socket_timeout=5, socket_connect_timeout=5)\n"
        ),
        "{metrics}"
    );
}

/// A cached finding that rests on another module's facts goes when those facts
/// change, though its own file did not.
#[test]
fn cached_findings_follow_the_facts_of_other_modules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("pyproject.toml", "[project]\nname = \"p\"\n");
    write("app/__init__.py", "");
    write(
        "app/clients.py",
        "import redis\n\nclient = redis.Redis(socket_timeout=1, socket_connect_timeout=1)\n",
    );
    write(
        "app/use.py",
        "from app.clients import client\n\n\ndef save(key, value):\n    client.set(key, value)\n",
    );
    let run = || cached_check_of(dir.path());
    let first = run();
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].starts_with("app/use.py:5:5-5:27 redis-key-without-ttl"));
    // The client becomes an asyncio client elsewhere: still a Redis client.
    write("app/clients.py", "import redis\n\nclient = {}\n");
    assert_eq!(run(), Vec::<String>::new());
    write(
        "app/clients.py",
        "import redis\n\nclient = redis.Redis(socket_timeout=1, socket_connect_timeout=1)\n",
    );
    assert_eq!(run(), first);
}

/// A copy of a fixture workspace in a temporary folder (the server's tests write
/// files into it).
fn copied_workspace(name: &str) -> tempfile::TempDir {
    let copy = tempfile::tempdir().expect("tempdir");
    let source = workspace(name);
    for entry in walk(&source) {
        let relative = entry.strip_prefix(&source).expect("below the fixture");
        let target = copy.path().join(relative);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("mkdir");
        std::fs::copy(&entry, &target).expect("copy");
    }
    copy
}

fn walk(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).expect("readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn uri_of(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A client that shows progress and watches files, started on `folder`; returns
/// once the server has answered its progress and watcher requests and ended the
/// first scan's progress, with the `$/progress` kinds it sent, in order.
async fn started_on(folder: &Path) -> (TestClient, Vec<String>) {
    let (client, kinds, _) = started_with(folder, json!({})).await;
    (client, kinds)
}

/// `started_on` for a client that announces `more` capabilities besides (per section,
/// e.g. `{"textDocument": {...}}`); also returns the server's capabilities.
async fn started_with(folder: &Path, more: Value) -> (TestClient, Vec<String>, Value) {
    let mut capabilities = json!({
        "window": {"workDoneProgress": true},
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
    });
    for (section, values) in more.as_object().into_iter().flatten() {
        let slot = &mut capabilities[section.as_str()];
        if slot.is_null() {
            *slot = json!({});
        }
        for (key, value) in values.as_object().into_iter().flatten() {
            slot[key.as_str()] = value.clone();
        }
    }
    let mut client = TestClient::in_process();
    let initialized = client
        .request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": null,
                "workspaceFolders": [{"uri": uri_of(folder), "name": "workspace"}],
                "capabilities": capabilities,
            }),
        )
        .await;
    let server_capabilities = initialized["result"]["capabilities"].clone();
    client.notify("initialized", json!({})).await;
    let mut kinds = Vec::new();
    loop {
        let message = client
            .wait_for(|message| {
                message.get("id").is_some() && message.get("method").is_some()
                    || message["method"] == "$/progress"
            })
            .await;
        if let Some(id) = message
            .get("id")
            .filter(|_| message.get("method").is_some())
        {
            // A request of the server's (a progress token, watchers): accepted.
            client
                .send(json!({"jsonrpc": "2.0", "id": id, "result": null}))
                .await;
            continue;
        }
        let kind = message["params"]["value"]["kind"]
            .as_str()
            .unwrap_or("")
            .to_string();
        kinds.push(kind.clone());
        if kind == "end" {
            return (client, kinds, server_capabilities);
        }
    }
}

async fn open_file(client: &mut TestClient, path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("readable");
    let language = match path.extension().and_then(|extension| extension.to_str()) {
        Some("sql") => "sql",
        _ => "python",
    };
    client.open(&uri_of(path), language, 1, &text).await;
    client.diagnostics(&uri_of(path), 1).await
}

/// The next diagnostics the server publishes for `path` unasked (after an edit
/// elsewhere).
async fn republished(client: &mut TestClient, path: &Path) -> Vec<Value> {
    client.next_diagnostics_for(&uri_of(path)).await["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Open `path`, then put `text` in place of columns `from..to` of its line `line`
/// (0-based), unsaved.
async fn open_and_edit(
    client: &mut TestClient,
    path: &Path,
    (line, from, to): (u64, u64, u64),
    text: &str,
) {
    open_file(client, path).await;
    client
        .change(
            &uri_of(path),
            2,
            json!([{
                "range": {"start": {"line": line, "character": from}, "end": {"line": line, "character": to}},
                "text": text,
            }]),
        )
        .await;
}

#[tokio::test]
async fn an_unsaved_edit_in_one_module_changes_findings_in_another() {
    let copy = copied_workspace("clients");
    let (mut client, progress) = started_on(copy.path()).await;
    assert_eq!(progress.first().map(String::as_str), Some("begin"));
    assert_eq!(progress.last().map(String::as_str), Some("end"));

    let routes = copy.path().join("backend/app/services/routes.py");
    assert_eq!(
        summarize(&open_file(&mut client, &routes).await),
        [("blocking-io-in-async".to_string(), 10, 11, 10, 26)]
    );
    // The getter the route depends on now returns an asyncio client (not saved).
    let redis_module = copy.path().join("backend/app/core/redis.py");
    open_and_edit(&mut client, &redis_module, (8, 19, 30), "aioredis.Redis").await;
    assert_eq!(republished(&mut client, &routes).await, Vec::<Value>::new());
}

/// An unsaved `CREATE TABLE` in one SQL file answers a reference to it in another
/// open one, and taking it out again brings the finding back.
#[tokio::test]
async fn an_unsaved_table_in_one_sql_file_answers_a_reference_in_another() {
    let copy = copied_workspace("schema");
    let (mut client, _) = started_on(copy.path()).await;
    let orders = copy.path().join("db/schema/002_orders.sql");
    let missing = ("missing-referenced-table".to_string(), 3, 33, 3, 42);
    assert!(summarize(&open_file(&mut client, &orders).await).contains(&missing));
    let links = copy.path().join("db/schema/003_links.sql");
    open_and_edit(
        &mut client,
        &links,
        (0, 0, 2),
        "CREATE TABLE campaigns (id integer PRIMARY KEY);\n--",
    )
    .await;
    let now = summarize(&republished(&mut client, &orders).await);
    assert!(!now.contains(&missing), "{now:?}");
    client
        .change(
            &uri_of(&links),
            3,
            json!([{
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}},
                "text": "",
            }]),
        )
        .await;
    let again = summarize(&republished(&mut client, &orders).await);
    assert!(again.contains(&missing), "{again:?}");
}

/// Definition and hover on a table's name: from a SQL `REFERENCES` and from a model's
/// `ForeignKey("users.id")` to the `CREATE TABLE` in another file.
#[tokio::test]
async fn a_table_name_leads_to_where_the_table_is_made() {
    let copy = copied_workspace("schema");
    let (mut client, _) = started_on(copy.path()).await;
    let accounts = uri_of(&copy.path().join("db/schema/001_accounts.sql"));
    let users_created =
        json!({"start": {"line": 1, "character": 13}, "end": {"line": 1, "character": 18}});
    let orders = copy.path().join("db/schema/002_orders.sql");
    open_file(&mut client, &orders).await;
    // `users` in `REFERENCES users (id)` on line 3.
    let at_users =
        json!({"textDocument": {"uri": uri_of(&orders)}, "position": {"line": 2, "character": 40}});
    let definition = client
        .request("textDocument/definition", at_users.clone())
        .await;
    assert_eq!(
        definition["result"],
        json!({"uri": accounts, "range": users_created})
    );
    let hover = client.request("textDocument/hover", at_users).await;
    assert_eq!(
        hover["result"]["contents"]["value"],
        "**table `users`**, made in `001_accounts.sql` line 2\n\n- `id` serial, primary key\n- `email` text"
    );
    let models = copy.path().join("app/models.py");
    open_file(&mut client, &models).await;
    let in_foreign_key = json!({"textDocument": {"uri": uri_of(&models)}, "position": {"line": 15, "character": 60}});
    let definition = client
        .request("textDocument/definition", in_foreign_key)
        .await;
    assert_eq!(
        definition["result"],
        json!({"uri": accounts, "range": users_created})
    );
    // Nothing to jump to from a name that is no table's.
    let elsewhere =
        json!({"textDocument": {"uri": uri_of(&orders)}, "position": {"line": 2, "character": 4}});
    let nothing = client.request("textDocument/definition", elsewhere).await;
    assert_eq!(nothing["result"], Value::Null);
}

/// Editing one migration's `down_revision` (unsaved) re-audits the other open
/// migration of the fork: rebased onto its sibling, the fork is gone from both.
#[tokio::test]
async fn an_unsaved_down_revision_mends_a_fork_in_another_open_migration() {
    let copy = copied_workspace("alembic");
    let (mut client, _) = started_on(copy.path()).await;
    let versions = copy.path().join("migrations/versions");
    let nickname = versions.join("6a7b8c9d0e1f_add_nickname.py");
    assert_eq!(
        summarize(&open_file(&mut client, &nickname).await),
        [("alembic-broken-chain".to_string(), 11, 0, 11, 63)]
    );
    let status = versions.join("6a8c9d0e1f2a_add_order_status.py");
    open_and_edit(&mut client, &status, (11, 50, 62), "6a7b8c9d0e1f").await;
    assert_eq!(
        republished(&mut client, &nickname).await,
        Vec::<Value>::new()
    );
    assert_eq!(
        client.diagnostics(&uri_of(&status), 2).await,
        Vec::<Value>::new()
    );
}

/// An unsaved migration that creates the table a model lacked re-audits the open
/// models: the model's finding goes.
#[tokio::test]
async fn an_unsaved_migration_answers_an_open_model() {
    let copy = copied_workspace("alembic");
    let (mut client, _) = started_on(copy.path()).await;
    let models = copy.path().join("app/models.py");
    let refunds = ("migration-model-drift".to_string(), 46, 6, 46, 12);
    assert!(summarize(&open_file(&mut client, &models).await).contains(&refunds));
    let migration = copy
        .path()
        .join("migrations/versions/6a7b8c9d0e1f_add_nickname.py");
    open_and_edit(
        &mut client,
        &migration,
        (17, 4, 4),
        "op.create_table(\"refunds\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"order_id\", sa.Integer()))\n    ",
    )
    .await;
    let now = summarize(&republished(&mut client, &models).await);
    assert!(!now.contains(&refunds), "{now:?}");
}

/// Definition on a table's name in an Alembic op (`op.add_column("users", ...)`, the
/// referent of a `ForeignKeyConstraint`) jumps to the migration that creates it and
/// to its model.
#[tokio::test]
async fn a_table_name_in_an_alembic_op_leads_to_where_the_table_is_made() {
    let copy = copied_workspace("alembic");
    let (mut client, _) = started_on(copy.path()).await;
    let versions = copy.path().join("migrations/versions");
    let created = json!([
        {"uri": uri_of(&copy.path().join("app/models.py")), "range": {"start": {"line": 14, "character": 6}, "end": {"line": 14, "character": 10}}},
        {"uri": uri_of(&versions.join("1a2b3c4d5e6f_create_users.py")), "range": {"start": {"line": 18, "character": 8}, "end": {"line": 18, "character": 15}}},
    ]);
    let nickname = versions.join("6a7b8c9d0e1f_add_nickname.py");
    open_file(&mut client, &nickname).await;
    let in_add_column = json!({"textDocument": {"uri": uri_of(&nickname)}, "position": {"line": 17, "character": 21}});
    let definition = client
        .request("textDocument/definition", in_add_column)
        .await;
    assert_eq!(definition["result"], created);
    let orders = versions.join("2c3d4e5f6a7b_add_orders.py");
    open_file(&mut client, &orders).await;
    // `["users.id"]` in `sa.ForeignKeyConstraint(["user_id"], ["users.id"])`.
    let in_reference = json!({"textDocument": {"uri": uri_of(&orders)}, "position": {"line": 22, "character": 50}});
    let definition = client
        .request("textDocument/definition", in_reference)
        .await;
    assert_eq!(definition["result"], created);
}

/// Sessions made from a factory of another module, under names that say nothing of
/// sessions, are queried once per row in an open module that imports no database
/// library itself; when the factory stops making sessions (unsaved), the findings go.
#[tokio::test]
async fn queries_on_sessions_made_elsewhere_follow_the_factory() {
    let copy = copied_workspace("clients");
    let (mut client, _) = started_on(copy.path()).await;
    let reports = copy.path().join("backend/app/services/reports.py");
    assert_eq!(
        summarize(&open_file(&mut client, &reports).await),
        [
            ("n-plus-one-query".to_string(), 9, 26, 9, 59),
            ("n-plus-one-query".to_string(), 17, 18, 17, 50),
        ]
    );
    let db = copy.path().join("backend/app/core/db.py");
    open_and_edit(&mut client, &db, (4, 11, 36), "dict").await;
    assert_eq!(
        republished(&mut client, &reports).await,
        Vec::<Value>::new()
    );
}

/// An unsaved edit of the module where the caller is authenticated, two imports away,
/// changes which routes are reported; undoing it brings the first findings back.
#[tokio::test]
async fn an_unsaved_edit_of_a_dependency_elsewhere_changes_which_routes_are_guarded() {
    let copy = copied_workspace("auth");
    let (mut client, _) = started_on(copy.path()).await;
    let orders = copy.path().join("app/api/routes/orders.py");
    let guarded = [
        ("missing-auth-dependency".to_string(), 24, 1, 24, 29),
        ("missing-auth-dependency".to_string(), 29, 1, 29, 24),
    ];
    assert_eq!(summarize(&open_file(&mut client, &orders).await), guarded);

    // The session check stops saying it authenticates (not saved).
    let sessions = copy.path().join("app/core/sessions.py");
    open_file(&mut client, &sessions).await;
    // `"Not authenticated"` on line 11 becomes `"Not allowed"`, then again the first.
    let replace = |end: u32, text: &str| {
        json!([{
            "range": {"start": {"line": 10, "character": 52}, "end": {"line": 10, "character": end}},
            "text": text,
        }])
    };
    client
        .change(&uri_of(&sessions), 2, replace(71, "\"Not allowed\""))
        .await;
    let unguarded: Vec<u64> = summarize(&republished(&mut client, &orders).await)
        .into_iter()
        .map(|(_, line, ..)| line)
        .collect();
    assert_eq!(unguarded, [9, 14, 19, 24, 29]);

    client
        .change(&uri_of(&sessions), 3, replace(65, "\"Not authenticated\""))
        .await;
    assert_eq!(summarize(&republished(&mut client, &orders).await), guarded);
}

/// The editor knows which routers other modules include with dependencies: a route
/// module whose router is included into a router that the app includes with a
/// dependency is quiet, and an unsaved edit that drops that dependency, two folders
/// away, reports its route unasked; undoing the edit takes the finding back.
#[tokio::test]
async fn an_unsaved_edit_of_an_include_elsewhere_changes_which_routes_are_guarded() {
    let copy = copied_workspace("auth");
    let (mut client, _) = started_on(copy.path()).await;
    let accounts = copy.path().join("app/api/routes/accounts.py");
    assert_eq!(open_file(&mut client, &accounts).await, Vec::<Value>::new());

    let including = copy.path().join("app/main.py");
    open_file(&mut client, &including).await;
    let text = std::fs::read_to_string(&including).expect("readable");
    let dependencies = ", dependencies=[Depends(require_staff)]";
    let (line, at) = text
        .lines()
        .enumerate()
        .find_map(|(line, content)| Some((line, content.find(dependencies)?)))
        .expect("the include with its dependencies");
    let edit = |start: usize, end: usize, new_text: &str| {
        json!([{
            "range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}},
            "text": new_text,
        }])
    };
    client
        .change(
            &uri_of(&including),
            2,
            edit(at, at + dependencies.len(), ""),
        )
        .await;
    assert_eq!(
        summarize(&republished(&mut client, &accounts).await),
        [("missing-auth-dependency".to_string(), 5, 1, 5, 49)]
    );
    client
        .change(&uri_of(&including), 3, edit(at, at, dependencies))
        .await;
    assert_eq!(
        republished(&mut client, &accounts).await,
        Vec::<Value>::new()
    );
}

/// The editor knows the workspace's import cycles once its first scan is done: an
/// import that breaks one is quiet, and is reported once an unsaved edit elsewhere
/// breaks the cycle.
#[tokio::test]
async fn an_unsaved_edit_that_breaks_an_import_cycle_reports_the_import_that_broke_it() {
    let copy = copied_workspace("cycles");
    let (mut client, _) = started_on(copy.path()).await;
    let signals = copy.path().join("shop/signals.py");
    assert_eq!(
        summarize(&open_file(&mut client, &signals).await),
        [("import-inside-function".to_string(), 11, 4, 11, 14)]
    );
    let models = copy.path().join("shop/models.py");
    open_and_edit(&mut client, &models, (0, 0, 35), "order_saved = print").await;
    assert_eq!(
        summarize(&republished(&mut client, &signals).await),
        [
            ("import-inside-function".to_string(), 4, 4, 4, 33),
            ("import-inside-function".to_string(), 11, 4, 11, 14),
        ]
    );
}

/// The editor reads what the project requires from its manifest: an import of a module
/// it does not require is optional and quiet, and is reported once `pyproject.toml`
/// requires it (the watcher tells of the change).
#[tokio::test]
async fn a_dependency_declared_in_pyproject_makes_its_local_import_reported() {
    let copy = copied_workspace("cycles");
    let (mut client, _) = started_on(copy.path()).await;
    let exports = copy.path().join("shop/exports.py");
    let required = [
        ("import-inside-function".to_string(), 8, 4, 8, 19),
        ("import-inside-function".to_string(), 14, 4, 14, 15),
    ];
    assert_eq!(summarize(&open_file(&mut client, &exports).await), required);
    let pyproject = copy.path().join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).expect("readable");
    std::fs::write(
        &pyproject,
        text.replace("\"requests>=2.31\",", "\"requests>=2.31\", \"tabulate\","),
    )
    .expect("write");
    client
        .notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": uri_of(&pyproject), "type": 2}]}),
        )
        .await;
    let mut now_required = required.to_vec();
    now_required.push(("import-inside-function".to_string(), 20, 4, 20, 33));
    assert_eq!(
        summarize(&republished(&mut client, &exports).await),
        now_required
    );
}

#[tokio::test]
async fn modules_made_and_deleted_on_disk_are_read_when_the_watcher_says_so() {
    let copy = copied_workspace("clients");
    let (mut client, _) = started_on(copy.path()).await;
    let user = copy.path().join("backend/app/services/fresh_user.py");
    std::fs::write(
        &user,
        "from app.core.fresh import fresh_client\n\n\ndef save(key):\n    fresh_client.set(key, 1)\n",
    )
    .expect("write");
    assert_eq!(open_file(&mut client, &user).await, Vec::<Value>::new());

    let fresh = copy.path().join("backend/app/core/fresh.py");
    std::fs::write(
        &fresh,
        "import redis\n\nfresh_client = redis.Redis(socket_timeout=1, socket_connect_timeout=1)\n",
    )
    .expect("write");
    let changed = |kind: u8| json!({"changes": [{"uri": uri_of(&fresh), "type": kind}]});
    client
        .notify("workspace/didChangeWatchedFiles", changed(1))
        .await;
    assert_eq!(
        summarize(&republished(&mut client, &user).await),
        [("redis-key-without-ttl".to_string(), 4, 4, 4, 28)]
    );

    std::fs::remove_file(&fresh).expect("remove");
    client
        .notify("workspace/didChangeWatchedFiles", changed(3))
        .await;
    assert_eq!(republished(&mut client, &user).await, Vec::<Value>::new());
}

/// What VS Code (vscode-languageclient 11) announces of pull diagnostics.
fn vscode_pull() -> Value {
    json!({
        "textDocument": {"diagnostic": {"dynamicRegistration": true, "relatedDocumentSupport": false}},
        "workspace": {"diagnostics": {"refreshSupport": true}},
    })
}

/// A workspace report's items with findings as `check` words them (rows and columns
/// from 1; the fixtures are ASCII), paths below `root`; and each item's result id.
fn workspace_findings(report: &Value, root: &Path) -> (Vec<String>, Vec<(String, String)>) {
    let mut findings = Vec::new();
    let mut result_ids = Vec::new();
    for item in report["result"]["items"].as_array().into_iter().flatten() {
        let uri = item["uri"].as_str().unwrap_or("");
        let path = uri.strip_prefix("file://").unwrap_or(uri);
        let relative = Path::new(path)
            .strip_prefix(root)
            .unwrap_or(Path::new(path))
            .display()
            .to_string();
        result_ids.push((
            uri.to_string(),
            item["resultId"].as_str().unwrap_or("").to_string(),
        ));
        for diagnostic in item["items"].as_array().into_iter().flatten() {
            let at =
                |end: &str, field: &str| diagnostic["range"][end][field].as_u64().unwrap_or(0) + 1;
            findings.push(format!(
                "{relative}:{}:{}-{}:{} {} {}",
                at("start", "line"),
                at("start", "character"),
                at("end", "line"),
                at("end", "character"),
                diagnostic["code"].as_str().unwrap_or(""),
                diagnostic["message"].as_str().unwrap_or("")
            ));
        }
    }
    findings.sort();
    (findings, result_ids)
}

/// Send a workspace pull (request `id`) naming the reports the client holds (`held`:
/// uri and result id), without waiting for its answer.
async fn send_workspace_pull(client: &mut TestClient, id: u64, held: &[(String, String)]) {
    let previous: Vec<Value> = held
        .iter()
        .map(|(uri, value)| json!({"uri": uri, "value": value}))
        .collect();
    let request = json!({"jsonrpc": "2.0", "id": id, "method": "workspace/diagnostic",
                         "params": {"previousResultIds": previous}});
    client.send(request).await;
}

/// The answer to workspace pull `id`: all its items, and those reported in full.
async fn workspace_pull_answer(client: &mut TestClient, id: u64) -> (Vec<Value>, Vec<Value>) {
    let answer = client
        .wait_for(|message| message["id"] == id && message.get("method").is_none())
        .await;
    let items = answer["result"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let full = items
        .iter()
        .filter(|item| item["kind"] == "full")
        .cloned()
        .collect();
    (items, full)
}

/// The same answer everywhere: a workspace pull reports every file nobody opened with
/// exactly the findings `check` reports for it.
#[tokio::test]
async fn a_workspace_pull_reports_files_never_opened_as_check_does() {
    let copy = copied_workspace("clients");
    let (mut client, _, capabilities) = started_with(copy.path(), vscode_pull()).await;
    assert_eq!(
        capabilities["diagnosticProvider"],
        json!({"identifier": "stackaudit", "interFileDependencies": true, "workspaceDiagnostics": true})
    );
    let report = client
        .request("workspace/diagnostic", json!({"previousResultIds": []}))
        .await;
    let (findings, held) = workspace_findings(&report, copy.path());
    let mut expected: Vec<String> = CLIENTS_FINDINGS
        .iter()
        .map(|line| line.to_string())
        .collect();
    expected.sort();
    assert_eq!(findings, expected);

    // A file deleted from disk: the waiting pull answers, taking its findings back.
    send_workspace_pull(&mut client, 901, &held).await;
    let store = copy.path().join("backend/app/services/store.py");
    std::fs::remove_file(&store).expect("remove");
    client
        .notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": uri_of(&store), "type": 3}]}),
        )
        .await;
    let (items, full) = workspace_pull_answer(&mut client, 901).await;
    assert_eq!(full.len(), 1, "{items:?}");
    assert_eq!(full[0]["uri"], uri_of(&store).as_str());
    assert_eq!(full[0]["items"], json!([]));
}

/// The schema's findings in SQL files nobody opened come with a workspace pull, as
/// `check` reports them.
#[tokio::test]
async fn a_workspace_pull_reports_the_schema_of_unopened_sql_files() {
    let copy = copied_workspace("schema");
    let (mut client, _, _) = started_with(copy.path(), vscode_pull()).await;
    let report = client
        .request("workspace/diagnostic", json!({"previousResultIds": []}))
        .await;
    let (findings, _) = workspace_findings(&report, copy.path());
    let mut expected: Vec<String> = SCHEMA_FINDINGS
        .iter()
        .map(|line| line.to_string())
        .collect();
    expected.sort();
    assert_eq!(findings, expected);
}

/// A client that pulls gets no pushes; a report that did not change comes back as
/// `unchanged`; a workspace pull with nothing new waits. An unsaved edit of the module
/// that makes the clients then changes both an open document (the client is asked to
/// pull again) and a file nobody opened (the waiting workspace pull answers).
#[tokio::test]
async fn a_pulling_client_is_answered_unchanged_until_facts_change() {
    let copy = copied_workspace("clients");
    let (mut client, _, _) = started_with(copy.path(), vscode_pull()).await;
    let sessions = copy.path().join("backend/app/services/sessions.py");
    let text = std::fs::read_to_string(&sessions).expect("readable");
    client.open(&uri_of(&sessions), "python", 1, &text).await;
    let pull = |previous: Option<&str>| json!({"textDocument": {"uri": uri_of(&sessions)}, "previousResultId": previous});
    let first = client.request("textDocument/diagnostic", pull(None)).await;
    assert_eq!(first["result"]["kind"], "full");
    let diagnostics = first["result"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        summarize(&diagnostics),
        [
            ("redis-key-without-ttl".to_string(), 6, 4, 6, 49),
            ("redis-key-without-ttl".to_string(), 10, 4, 10, 65),
            ("redis-key-without-ttl".to_string(), 14, 4, 14, 39),
        ]
    );
    let result_id = first["result"]["resultId"]
        .as_str()
        .expect("a result id")
        .to_string();
    let again = client
        .request("textDocument/diagnostic", pull(Some(&result_id)))
        .await;
    assert_eq!(
        again["result"],
        json!({"kind": "unchanged", "resultId": result_id})
    );

    // The workspace: everything reported once, then nothing new, so the pull waits.
    let report = client
        .request("workspace/diagnostic", json!({"previousResultIds": []}))
        .await;
    let (_, held) = workspace_findings(&report, copy.path());
    let routes = uri_of(&copy.path().join("backend/app/services/routes.py"));
    assert!(held.iter().any(|(uri, _)| *uri == routes), "{held:?}");
    assert!(
        held.iter().all(|(uri, _)| *uri != uri_of(&sessions)),
        "open: pulled alone"
    );
    send_workspace_pull(&mut client, 900, &held).await;
    // Unsaved: the module's client is no client (the open `sessions.py` reads it), and
    // the getter returns an asyncio client (the unopened `routes.py` depends on it).
    let redis_module = copy.path().join("backend/app/core/redis.py");
    let redis_text = std::fs::read_to_string(&redis_module).expect("readable");
    client
        .open(&uri_of(&redis_module), "python", 1, &redis_text)
        .await;
    client
        .change(
            &uri_of(&redis_module),
            2,
            json!([
                {
                    "range": {"start": {"line": 8, "character": 19}, "end": {"line": 8, "character": 30}},
                    "text": "aioredis.Redis",
                },
                {
                    "range": {"start": {"line": 3, "character": 0}, "end": {"line": 4, "character": 0}},
                    "text": "redis_client = {}\n",
                },
            ]),
        )
        .await;
    // The unopened modules whose findings rested on the client: both emptied.
    let (items, full) = workspace_pull_answer(&mut client, 900).await;
    let listener = uri_of(&copy.path().join("backend/app/services/listener.py"));
    let emptied: Vec<(&str, &Value)> = full
        .iter()
        .map(|item| (item["uri"].as_str().unwrap_or(""), &item["items"]))
        .collect();
    assert_eq!(
        emptied,
        [
            (listener.as_str(), &json!([])),
            (routes.as_str(), &json!([]))
        ],
        "{items:?}"
    );
    let refresh = client
        .wait_for(|message| message["method"] == "workspace/diagnostic/refresh")
        .await;
    client
        .send(json!({"jsonrpc": "2.0", "id": refresh["id"], "result": null}))
        .await;
    let after = client
        .request("textDocument/diagnostic", pull(Some(&result_id)))
        .await;
    assert_eq!(after["result"]["kind"], "full");
    assert_eq!(after["result"]["items"], json!([]));
    let pushed: Vec<Value> = client
        .drain_backlog()
        .into_iter()
        .filter(|message| message["method"] == "textDocument/publishDiagnostics")
        .collect();
    assert_eq!(pushed, Vec::<Value>::new());
}

/// Each editor's path: Helix (25.07 and later) announces pull and refresh, under the
/// singular `workspace.diagnostic`, and is served by pull; Neovim 0.11 announces pull
/// but no refresh, so findings that change with other files could not reach it: it is
/// pushed to, and offered no pull (it would pull on its own and show both).
#[tokio::test]
async fn each_editor_is_served_the_way_it_can_follow_changes() {
    let copy = copied_workspace("clients");
    let helix = json!({
        "textDocument": {"diagnostic": {"dynamicRegistration": false, "relatedDocumentSupport": true}},
        "workspace": {"diagnostic": {"refreshSupport": true}},
    });
    let (_, _, capabilities) = started_with(copy.path(), helix).await;
    assert_eq!(
        capabilities["diagnosticProvider"]["interFileDependencies"],
        true
    );

    let neovim = json!({
        "textDocument": {"diagnostic": {"dynamicRegistration": false, "tagSupport": {"valueSet": [1, 2]}}},
    });
    let (mut client, _, capabilities) = started_with(copy.path(), neovim).await;
    assert_eq!(capabilities.get("diagnosticProvider"), None);
    let routes = copy.path().join("backend/app/services/routes.py");
    assert_eq!(
        summarize(&open_file(&mut client, &routes).await),
        [("blocking-io-in-async".to_string(), 10, 11, 10, 26)]
    );
}

/// Random edits across two modules (one makes the clients, the other uses them): after
/// every edit, the editor's incremental audit of the user, on an index kept live,
/// equals a fresh audit on a fresh index.
#[test]
fn random_edits_across_two_modules_keep_the_incremental_answer_fresh() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use stackaudit::audit::audit_text_in_workspace;
    use stackaudit::audit::incremental::AuditCache;
    use stackaudit::config::Settings;
    use stackaudit::index::{IndexedFile, WorkspaceIndex, WorkspaceLink, WorkspaceView};
    use stackaudit::language::Language;
    use stackaudit::rules::Libraries;
    use std::rc::Rc;
    use std::sync::Arc;

    // Lines each module may hold; an edit swaps one line for another of its list.
    const MAKER_LINES: &[&str] = &[
        "client = redis.Redis(socket_timeout=1, socket_connect_timeout=1)",
        "client = redis.asyncio.Redis(socket_timeout=1, socket_connect_timeout=1)",
        "client = {}",
        "def get_client() -> redis.Redis:\n    return client",
        "def get_client() -> redis.asyncio.Redis:\n    return client",
        "def get_client():\n    return client",
        "session_factory = sessionmaker()",
        "def require_caller():\n    raise PermissionError(\"not authenticated\")",
        "def require_caller():\n    return None",
        "Caller = Annotated[dict, Depends(require_caller)]",
        "",
    ];
    const USER_LINES: &[&str] = &[
        "def save(key):\n    client.set(key, 1)",
        "async def load(key):\n    return client.get(key)",
        "def remember(key):\n    get_client().sadd(key, 1)",
        "async def fetch(key, r=Depends(get_client)):\n    return r.get(key)",
        "def count(key):\n    makers.client.incr(key)",
        "def query():\n    with makers.session_factory() as db:\n        db.execute(1)\n        db.commit()",
        "@router.post(\"/a\")\ndef create(c=Depends(require_caller)):\n    return c",
        "@router.put(\"/b\")\ndef replace(c: Caller):\n    return c",
        "",
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"p\"\n",
    )
    .expect("write");
    std::fs::create_dir_all(dir.path().join("app")).expect("mkdir");
    std::fs::write(dir.path().join("app/__init__.py"), "").expect("write");
    let maker_path = dir.path().join("app/makers.py");
    let user_path = dir.path().join("app/users.py");
    let maker_text = |lines: &[usize]| {
        let body: Vec<&str> = lines.iter().map(|line| MAKER_LINES[*line]).collect();
        format!(
            "from typing import Annotated\n\nimport redis\nimport redis.asyncio\nfrom fastapi import Depends\nfrom sqlalchemy.orm import sessionmaker\n\n{}\n",
            body.join("\n\n\n")
        )
    };
    let user_text = |lines: &[usize]| {
        let body: Vec<&str> = lines.iter().map(|line| USER_LINES[*line]).collect();
        format!(
            "from fastapi import APIRouter, Depends\n\nfrom app import makers\nfrom app.makers import Caller, client, get_client, require_caller\n\nrouter = APIRouter()\n\n\n{}\n",
            body.join("\n\n\n")
        )
    };
    let settings = Settings::default();
    let mut rng = StdRng::seed_from_u64(14);
    let mut maker = vec![0, 3, 6, 7, 9];
    let mut user = vec![0, 1, 2, 3, 4, 5, 6, 7];
    let live = Arc::new(WorkspaceIndex::new());
    let mut cache = AuditCache::default();
    // The answers the walk met (it must meet many, or it tests nothing).
    let mut answers = std::collections::HashSet::new();
    for step in 0..300 {
        if rng.random_bool(0.5) {
            let at = rng.random_range(0..maker.len());
            maker[at] = rng.random_range(0..MAKER_LINES.len());
        } else {
            let at = rng.random_range(0..user.len());
            user[at] = rng.random_range(0..USER_LINES.len());
        }
        let (maker_source, user_source) = (maker_text(&maker), user_text(&user));
        std::fs::write(&maker_path, &maker_source).expect("write");
        // The editor's view: the maker's unsaved text in the live index.
        live.put_open(
            &maker_path,
            maker_source.as_str().into(),
            IndexedFile::read(&maker_source),
        );
        let syntax =
            stackaudit::document::parse_text(Language::Python, &user_source).expect("parses");
        let view = WorkspaceView {
            index: Arc::clone(&live),
            module: user_path.clone(),
            libraries: Libraries::ALL,
        };
        let incremental = cache.audit_in_workspace(
            Language::Python,
            &user_source,
            &syntax,
            &settings,
            Some(Path::new("app/users.py")),
            Some(&view),
        );
        let fresh_index = Arc::new(WorkspaceIndex::new());
        let fresh = audit_text_in_workspace(
            Language::Python,
            &user_source,
            &settings,
            Some(Path::new("app/users.py")),
            Rc::new(WorkspaceLink::new(fresh_index, user_path.clone())),
            Libraries::ALL,
        );
        assert_eq!(
            incremental, fresh,
            "step {step}: maker {maker:?}, user {user:?}\n{maker_source}\n---\n{user_source}"
        );
        let rules: Vec<&str> = fresh.iter().map(|finding| finding.rule).collect();
        answers.insert(format!("{rules:?}"));
    }
    assert!(
        answers.len() >= 10,
        "only {} answers: {answers:?}",
        answers.len()
    );
}
