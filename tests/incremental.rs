//! Random incremental edits: after every edit, the document's text must equal an
//! independent reference, and its tree and findings must equal a fresh parse's.

mod oracle;

use oracle::{FRAGMENTS, Session};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use stackaudit::audit::audit;
use stackaudit::audit::incremental::AuditCache;
use stackaudit::config::Settings;
use stackaudit::document::Document;
use stackaudit::document::position::Encoding;
use stackaudit::language::Language;
use stackaudit::rules::projections::Projections;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};

fn random_position(rng: &mut StdRng, text: &str) -> Position {
    let lines = text.split('\n').count() as u32;
    let line = rng.random_range(0..lines + 2); // sometimes past the end
    let character = rng.random_range(0..40);
    Position::new(line, character)
}

fn fuzz(language: Language, seed_text: &str, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for encoding in [Encoding::Utf16, Encoding::Utf8, Encoding::Utf32] {
        let mut session = Session::new(language, encoding, seed_text);
        for _ in 1..=60 {
            let start = random_position(&mut rng, &session.reference);
            let end = if rng.random_bool(0.5) {
                start
            } else {
                random_position(&mut rng, &session.reference)
            };
            let (start, end) = if (start.line, start.character) <= (end.line, end.character) {
                (start, end)
            } else {
                (end, start)
            };
            let text: String = (0..rng.random_range(0..4))
                .map(|_| FRAGMENTS[rng.random_range(0..FRAGMENTS.len())])
                .collect();
            session.apply(TextDocumentContentChangeEvent {
                range: Some(Range::new(start, end)),
                range_length: None,
                text,
            });
        }
    }
}

#[test]
fn python_edits_match_a_fresh_parse() {
    let seeds = [
        include_str!("fixtures/python/missing-rollback.py"),
        include_str!("fixtures/python/blocking-io-in-async.py"),
        include_str!("fixtures/python/redis-key-without-ttl.py"),
    ];
    for (index, seed) in seeds.iter().enumerate() {
        for run in 0..8 {
            fuzz(Language::Python, seed, run + 10 * index as u64);
        }
    }
}

/// The same for rules that read module-level facts (routers, globals, sessions, the
/// module's logger) or other definitions, and rules with fixes that add imports.
#[test]
fn python_edits_match_a_fresh_parse_for_module_level_facts() {
    let seeds = [
        include_str!("fixtures/python/missing-auth-dependency.py"),
        include_str!("fixtures/python/global-mutable-state.py"),
        include_str!("fixtures/python/session-shared-across-requests.py"),
        include_str!("fixtures/python/swallowed-exception.py"),
        include_str!("fixtures/python/sql-injection.py"),
        include_str!("fixtures/python/fk-without-index.py"),
        include_str!("fixtures/python/hardcoded-secret.py"),
        include_str!("fixtures/python/pubsub-without-reconnect.py"),
    ];
    for (index, seed) in seeds.iter().enumerate() {
        for run in 0..4 {
            fuzz(Language::Python, seed, 1000 + run + 10 * index as u64);
        }
    }
}

/// Found by `python_edits_match_a_fresh_parse`: error recovery parsed the same broken
/// definition text (`def f():'import redis`) with and without an import, depending on
/// text further down, so its cached import made a stale finding elsewhere.
#[test]
fn a_broken_definition_is_not_reused_from_the_cache() {
    let before =
        "impoasync def f():'import redis\ncache = redis.Redis()\n\r\ncla(nap(2))is\ndef g():";
    let mut session = Session::new(Language::Python, Encoding::Utf16, before);
    session.apply(TextDocumentContentChangeEvent {
        range: Some(Range::new(Position::new(2, 0), Position::new(2, 0))),
        range_length: None,
        text: "\u{1F600}\t".to_string(),
    });
}

/// A route's finding depends on another definition (its dependency's body): editing that
/// body must change the route's finding although the route's text did not change.
#[test]
fn a_rule_reading_other_definitions_follows_their_edits() {
    let before = "from fastapi import APIRouter, Depends\n\nrouter = APIRouter()\n\n\ndef check(request):\n    return request\n\n\n@router.post(\"/orders\", dependencies=[Depends(check)])\ndef create():\n    return 1\n";
    let mut session = Session::new(Language::Python, Encoding::Utf8, before);
    let rules = |session: &Session| -> Vec<&'static str> {
        let syntax = session.document.syntax.as_ref().expect("parsed");
        audit(
            Language::Python,
            &session.reference,
            syntax,
            &Settings::default(),
            None,
        )
        .iter()
        .map(|finding| finding.rule)
        .collect()
    };
    assert_eq!(rules(&session), ["missing-auth-dependency"]);
    // `return request` -> `return request.user`: now the dependency authenticates.
    session.apply(TextDocumentContentChangeEvent {
        range: Some(Range::new(Position::new(6, 18), Position::new(6, 18))),
        range_length: None,
        text: ".user".to_string(),
    });
    assert!(rules(&session).is_empty());
}

/// Typing inside one function re-audits that function only, and the findings of the
/// others (moved by the edit) still match a full audit.
#[test]
fn an_edit_inside_one_function_reaudits_only_that_function() {
    let mut source = String::from("import time\n\n");
    for index in 0..20 {
        source.push_str(&format!(
            "\nasync def handler_{index}(db):\n    time.sleep(1)\n    db.commit()\n\n"
        ));
    }
    let settings = Settings::default();
    let mut document = Document::new(&source, 0, Language::Python);
    let mut cache = AuditCache::default();
    let syntax = document.syntax.clone().expect("parsed");
    cache.audit(Language::Python, &source, &syntax, &settings, None);
    assert_eq!(cache.last_reuse(), (0, 20));

    // Insert `text` at `line`:`column`, audit incrementally, check against a full audit.
    let mut type_at = |line: u32, column: u32, text: &str, version: i32| {
        let at = Position::new(line, column);
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(at, at)),
            range_length: None,
            text: text.to_string(),
        };
        document.apply_changes(&[change], version, Encoding::Utf16);
        let source = document.text();
        let syntax = document.syntax.clone().expect("parsed");
        let incremental = cache.audit(Language::Python, &source, &syntax, &settings, None);
        assert_eq!(
            incremental,
            audit(Language::Python, &source, &syntax, &settings, None)
        );
        (incremental, cache.last_reuse())
    };

    // Type in the body of the 6th handler: everything after it moves by one byte.
    let (incremental, reuse) = type_at(2 + 5 * 5 + 2, 4, "x", 1);
    assert_eq!(reuse, (19, 20));
    // 20 commits outside `try` are fine; 19 `time.sleep` (the edited one is `xtime.sleep`).
    assert_eq!(incremental.len(), 19);

    // A new import changes what every function's names mean: nothing is reused.
    let (_, reuse) = type_at(1, 0, "import asyncio\n", 2);
    assert_eq!(reuse, (0, 20));
}

/// A keystroke in one statement of a SQL script re-reads that statement alone
/// (PostgreSQL's parser runs on its item only); every other statement's reading moves
/// with it, and the findings equal a fresh audit's.
#[test]
fn a_keystroke_in_a_sql_script_rereads_only_its_statement() {
    let mut source = String::new();
    for index in 0..100 {
        source.push_str(&format!(
            "CREATE TABLE t{index} (\n  id bigint PRIMARY KEY,\n  at DATETIME\n);\n\n"
        ));
    }
    let settings = Settings::default();
    let mut document = Document::new(&source, 0, Language::Sql);
    let syntax = document.syntax.clone().expect("parsed");
    let runs = stackaudit::syntax::parser_runs_on_this_thread;
    let before = runs();
    assert_eq!(
        audit(Language::Sql, &source, &syntax, &settings, None).len(),
        100
    );
    // One reading per item: each table, and the blank line after the last.
    assert_eq!(syntax.items().len(), 101);
    assert_eq!(runs() - before, 101, "one reading per item");
    // Type in the 40th table, then audit again.
    let at = Position::new(39 * 5 + 1, 2);
    let change = TextDocumentContentChangeEvent {
        range: Some(Range::new(at, at)),
        range_length: None,
        text: "x".to_string(),
    };
    document.apply_changes(&[change], 1, Encoding::Utf16);
    let edited = document.text();
    let syntax = document.syntax.clone().expect("parsed");
    let before = runs();
    let found = audit(Language::Sql, &edited, &syntax, &settings, None);
    assert_eq!(
        runs() - before,
        1,
        "only the edited statement is read again"
    );
    let fresh = Document::new(&edited, 0, Language::Sql)
        .syntax
        .expect("parsed");
    assert_eq!(
        found,
        audit(Language::Sql, &edited, &fresh, &settings, None)
    );
}

/// A document nobody edits lets go of what only an edit's audit reuses (the server's
/// idle open documents): its next audit runs every rule over every definition, and
/// finds what a full audit finds.
#[test]
fn a_cache_that_forgot_its_reuse_audits_everything_again() {
    let source = service_module(6);
    let settings = Settings::default();
    let syntax = Document::new(&source, 0, Language::Python)
        .syntax
        .expect("parsed");
    let full = audit(Language::Python, &source, &syntax, &settings, None);
    let mut cache = AuditCache::default();
    cache.audit(Language::Python, &source, &syntax, &settings, None);
    assert_eq!(
        cache.audit(Language::Python, &source, &syntax, &settings, None),
        full
    );
    assert_eq!(cache.last_reuse(), (12, 12));

    cache.forget_reuse();
    assert_eq!(
        cache.audit(Language::Python, &source, &syntax, &settings, None),
        full
    );
    assert_eq!(cache.last_reuse(), (0, 12));
    assert!(!full.is_empty());
}

#[test]
fn dockerfile_edits_match_a_fresh_parse() {
    let seed = include_str!("fixtures/dockerfile/docker-hardcoded-secret.dockerfile");
    for run in 0..8 {
        fuzz(Language::Dockerfile, seed, 100 + run);
    }
}

#[test]
fn sql_edits_match_a_fresh_parse() {
    let seeds = [
        include_str!("fixtures/sql/sql-syntax-error.sql"),
        include_str!("fixtures/sql/mysql-syntax-in-postgres.sql"),
    ];
    for (index, seed) in seeds.iter().enumerate() {
        for run in 0..6 {
            fuzz(Language::Sql, seed, 300 + run + 10 * index as u64);
        }
    }
}

#[test]
fn compose_edits_match_a_fresh_parse() {
    let seed = include_str!("fixtures/compose/docker-hardcoded-secret.yml");
    for run in 0..8 {
        fuzz(Language::Compose, seed, 200 + run);
    }
}

/// Replace `line`:`column`..`end` with `text` in the document, audit it with `cache`,
/// and check the result equals a full audit of the same version.
fn replace_and_audit(
    document: &mut Document,
    cache: &mut AuditCache,
    (line, column, end): (u32, u32, u32),
    text: &str,
    version: i32,
) -> Vec<stackaudit::rules::Finding> {
    let settings = Settings::default();
    let change = TextDocumentContentChangeEvent {
        range: Some(Range::new(
            Position::new(line, column),
            Position::new(line, end),
        )),
        range_length: None,
        text: text.to_string(),
    };
    document.apply_changes(&[change], version, Encoding::Utf16);
    let edited = document.text();
    let syntax = document.syntax.clone().expect("parsed");
    let incremental = cache.audit(Language::Python, &edited, &syntax, &settings, None);
    assert_eq!(
        incremental,
        audit(Language::Python, &edited, &syntax, &settings, None),
        "{line}:{column}, version {version}"
    );
    incremental
}

/// A service module in the shape of the keystroke bench's: async handlers with a
/// blocking sleep, a commit outside `try` and a sync Redis write, each followed by a
/// class with two methods; module-level clients, a logger and a session factory.
fn service_module(handlers: usize) -> String {
    let mut source = String::from(
        "import logging\nimport time\n\nimport redis\nfrom app.db import SessionLocal\n\n\
         logger = logging.getLogger(__name__)\ncache = redis.Redis(socket_timeout=2)\n\n",
    );
    for index in 0..handlers {
        source.push_str(&format!(
            "\n\nasync def handler_{index}(user_id: int, db):\n    payload = {{\"id\": user_id}}\n    \
             time.sleep(0.01)\n    db.add(payload)\n    db.commit()\n    cache.set(f\"user:{{user_id}}\", 1)\n\n\n\
             class Repository{index}:\n    def __init__(self, session):\n        self.session = session\n\n    \
             def total(self, values):\n        return sum(values)\n"
        ));
    }
    source
}

/// The work a keystroke costs, as a count: how many top-level definitions re-ran the
/// rules, at each of the budget's three edit places. Only the edited definition re-runs;
/// a new top-level statement that binds nothing the rules read re-runs none.
#[test]
fn a_keystroke_reaudits_only_the_definitions_it_touched() {
    let source = service_module(30);
    let definitions = 60;
    let settings = Settings::default();
    // The line of the 11th occurrence of `needle` (in the middle of the module).
    let line_of = |needle: &str| {
        source
            .lines()
            .enumerate()
            .filter(|(_, line)| *line == needle)
            .nth(10)
            .map(|(index, _)| index as u32)
            .expect("line in module")
    };
    let body_line = line_of("        self.session = session");
    let blank_line = source
        .lines()
        .position(|line| line == "class Repository10:")
        .expect("class line") as u32
        - 1;
    assert_eq!(source.lines().nth(blank_line as usize), Some(""));
    let places = [
        // The end of a line inside a function body.
        (body_line, 30, (1, 1)),
        // Column 0 of an indented line: the typed line opens an item, so the class's item
        // ends there (a method with no body left: a syntax error, so never cached) and
        // error recovery makes its next method a top-level function in the new item:
        // two items re-run; deleting the character again brings back the one class.
        (body_line, 0, (2, 1)),
        // A blank line between two definitions: a new top-level statement `x`.
        (blank_line, 0, (0, 0)),
    ];
    for (line, column, rerun) in places {
        let mut document = Document::new(&source, 0, Language::Python);
        let mut cache = AuditCache::default();
        let syntax = document.syntax.clone().expect("parsed");
        cache.audit(Language::Python, &source, &syntax, &settings, None);
        for (version, (end, text)) in [(column, "x"), (column + 1, "")]
            .into_iter()
            .cycle()
            .take(6)
            .enumerate()
        {
            replace_and_audit(
                &mut document,
                &mut cache,
                (line, column, end),
                text,
                version as i32 + 1,
            );
            let (reused, total) = cache.last_reuse();
            let expected = if text.is_empty() { rerun.1 } else { rerun.0 };
            assert_eq!(
                total - reused,
                expected,
                "definitions re-audited after typing at {line}:{column} (version {version}, {total} definitions)"
            );
            assert!(total >= definitions - 1, "{total}");
        }
    }
}

/// What a route's finding reads at module level: the dependencies an `include_router`
/// gives it. Editing that call re-audits the routes, and their findings follow.
#[test]
fn a_module_level_edit_that_guards_a_router_reaudits_its_routes() {
    let before = "from fastapi import APIRouter, Depends, FastAPI\nfrom app.auth import get_current_user\n\napp = FastAPI()\nadmin = APIRouter(prefix=\"/admin\")\n\n\n@admin.delete(\"/users/{user_id}\")\ndef delete_user(user_id: int):\n    return user_id\n\n\napp.include_router(admin)\n";
    let settings = Settings::default();
    let mut document = Document::new(before, 0, Language::Python);
    let mut cache = AuditCache::default();
    let syntax = document.syntax.clone().expect("parsed");
    let found = cache.audit(Language::Python, before, &syntax, &settings, None);
    assert_eq!(
        found.iter().map(|f| f.rule).collect::<Vec<_>>(),
        ["missing-auth-dependency"]
    );
    let line = before
        .lines()
        .position(|l| l.starts_with("app.include_router"))
        .expect("line");
    let change = TextDocumentContentChangeEvent {
        range: Some(Range::new(
            Position::new(line as u32, 24),
            Position::new(line as u32, 24),
        )),
        range_length: None,
        text: ", dependencies=[Depends(get_current_user)]".to_string(),
    };
    document.apply_changes(&[change], 1, Encoding::Utf16);
    let after = document.text();
    assert!(after.contains("app.include_router(admin, dependencies=[Depends(get_current_user)])"));
    let syntax = document.syntax.clone().expect("parsed");
    let found = cache.audit(Language::Python, &after, &syntax, &settings, None);
    assert_eq!(found, Vec::new());
    assert_eq!(cache.last_reuse(), (0, 1));
    // Of the rules the module triggers, only those that read routers ran again.
    let triggered = stackaudit::audit::trigger_words_present(Language::Python, &after);
    let reading_routers = triggered
        .rules()
        .filter(|(_, rule)| rule.reads.contains(Projections::ROUTERS))
        .count();
    assert!(reading_routers < triggered.rules().count());
    assert_eq!(cache.last_work().rule_runs, reading_routers);
}

/// A module-level edit re-runs, over every definition, only the rules that read the
/// projection it changed: a new logger binding changes the module's clients, so the
/// rules that read clients run again and the others keep their findings.
#[test]
fn a_module_level_edit_reruns_only_the_rules_that_read_what_it_changed() {
    let source = service_module(30);
    let settings = Settings::default();
    let mut document = Document::new(&source, 0, Language::Python);
    let mut cache = AuditCache::default();
    let syntax = document.syntax.clone().expect("parsed");
    cache.audit(Language::Python, &source, &syntax, &settings, None);
    let line = source
        .lines()
        .position(|line| line.starts_with("cache = "))
        .expect("client line") as u32;
    replace_and_audit(
        &mut document,
        &mut cache,
        (line + 1, 0, 0),
        "audit_log = logging.getLogger(\"audit\")\n",
        1,
    );
    let edited = document.text();
    let triggered = stackaudit::audit::trigger_words_present(Language::Python, &edited);
    let reading = |projection: Projections| {
        triggered
            .rules()
            .filter(|(_, rule)| rule.reads.contains(projection))
            .count()
    };
    let work = cache.last_work();
    assert_eq!(work.definitions, 60);
    assert_eq!(work.reaudited, 60);
    assert_eq!(work.rule_runs, 60 * reading(Projections::CLIENTS));
    assert!(
        reading(Projections::CLIENTS) < triggered.rules().count(),
        "every triggered rule reads clients: the count shows nothing"
    );
    // A constant changes no projection: nothing runs again.
    replace_and_audit(
        &mut document,
        &mut cache,
        (line + 1, 0, 0),
        "RETRIES = 3\n",
        2,
    );
    assert_eq!(cache.last_work().rule_runs, 0);
}

/// On a FastAPI module, a character at column 0 of a route's body line leaves the rest
/// of the body at the top level (`row = db.get(...)` as module-level statements): that
/// binds nothing a rule reads, so only the edited route is audited again.
#[test]
fn body_lines_left_at_the_top_level_keep_the_other_routes_cached() {
    let mut source = String::from(
        "import requests\nfrom fastapi import APIRouter, Depends\nfrom sqlalchemy.orm import Session, sessionmaker\n\n\
         from app.auth import get_current_user\nfrom app.db import engine, get_db\n\n\
         http = requests.Session()\nSessionLocal = sessionmaker(bind=engine)\nrouter = APIRouter(prefix=\"/items\")\n",
    );
    for index in 0..12 {
        source.push_str(&format!(
            "\n\n@router.post(\"/things{index}\")\ndef handle_{index}(db: Session = Depends(get_db)):\n    \
             \"\"\"Route {index}.\"\"\"\n    row = db.get(dict, {index})\n    reply = http.get(\"https://x\", timeout=5)\n    \
             return row, reply\n"
        ));
    }
    let line = source
        .lines()
        .position(|line| line == "    \"\"\"Route 6.\"\"\"")
        .expect("line") as u32;
    let settings = Settings::default();
    let mut document = Document::new(&source, 0, Language::Python);
    let mut cache = AuditCache::default();
    let syntax = document.syntax.clone().expect("parsed");
    let before = cache.audit(Language::Python, &source, &syntax, &settings, None);
    assert_eq!(before.len(), 12, "{before:?}");
    for (version, (end, text)) in [(0, "x"), (1, "")].into_iter().cycle().take(4).enumerate() {
        replace_and_audit(
            &mut document,
            &mut cache,
            (line, 0, end),
            text,
            version as i32 + 1,
        );
        assert_eq!(cache.last_reuse(), (11, 12), "version {version}");
    }
}

/// Module-level statements that change one of the projections rules read (see
/// `rules::projections`): imports, clients, sessions, loggers, containers, routers and
/// their configuring calls, indexes, dependency aliases and authenticating definitions.
const MODULE_LEVEL_LINES: &[&str] = &[
    "import asyncio",
    "import logging",
    "import redis",
    "import requests",
    "from fastapi import APIRouter, Depends, FastAPI",
    "from sqlalchemy import Index, create_engine",
    "from sqlalchemy.orm import Session, sessionmaker",
    "logger = logging.getLogger(__name__)",
    "cache = redis.Redis()",
    "http = requests.Session()",
    "engine = create_engine(\"postgresql://db/app\")",
    "SessionLocal = sessionmaker(bind=engine)",
    "db = SessionLocal()",
    "pubsub = cache.pubsub()",
    "REGISTRY = {}",
    "app = FastAPI(dependencies=[Depends(get_current_user)])",
    "CurrentUser = Annotated[User, Depends(get_current_user)]",
    "Index(\"ix_orders_user_id\", Order.user_id)",
    "def check(request):\n    return request.user\n",
    "if True:\n    session = requests.Session()\n",
];

/// What a module-level name may be bound to instead (rebinding one the definitions use).
const REBOUND_VALUES: &[&str] = &[
    "None",
    "redis.Redis()",
    "redis.asyncio.Redis()",
    "requests.Session()",
    "sessionmaker()",
    "logging.getLogger(\"x\")",
    "[]",
    "APIRouter(prefix=\"/admin\", dependencies=[Depends(verify_token)])",
];

/// Warm a cache on `before`, then audit `after` and `before` again with it: each must
/// equal a full audit of the same text.
fn assert_incremental_follows(before: &str, after: &str, path: &std::path::Path, what: &str) {
    let settings = Settings::default();
    let mut cache = AuditCache::default();
    for (version, text) in [before, after, before].into_iter().enumerate() {
        let document = Document::new(text, version as i32, Language::Python);
        let syntax = document.syntax.clone().expect("parsed");
        let incremental = cache.audit(Language::Python, text, &syntax, &settings, Some(path));
        let full = audit(Language::Python, text, &syntax, &settings, Some(path));
        assert_eq!(incremental, full, "{what} (version {version}):\n{text}");
    }
}

/// Every rule's fixture, edited at module level where each projection lives: a
/// statement deleted, each line of `MODULE_LEVEL_LINES` added before the first
/// definition and at the end, each module-level name rebound and each included in an
/// app with and without a guard. A rule that reads a projection it does not declare
/// keeps a stale finding here.
#[test]
fn every_rule_follows_module_level_edits() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python");
    let mut fixtures: Vec<_> = std::fs::read_dir(&root)
        .expect("fixtures")
        .map(|entry| entry.expect("entry").path())
        .collect();
    fixtures.sort();
    for fixture in fixtures {
        let source = std::fs::read_to_string(&fixture).expect("fixture");
        let path = source
            .lines()
            .next()
            .and_then(|first| first.strip_prefix("# path:"))
            .map(|path| std::path::PathBuf::from(path.trim()))
            .unwrap_or_else(|| {
                std::path::Path::new("app").join(fixture.file_name().expect("name"))
            });
        let lines: Vec<&str> = source.lines().collect();
        let is_statement_start =
            |line: &&str| !line.is_empty() && !line.starts_with([' ', '\t', '#', ')', ']', '}']);
        let is_definition = |line: &str| {
            ["def ", "async def ", "class ", "@"]
                .iter()
                .any(|start| line.starts_with(start))
        };
        let first_definition = lines
            .iter()
            .position(|line| is_definition(line))
            .unwrap_or(lines.len());
        let with_line_at = |at: usize, added: &str| -> String {
            let mut edited: Vec<&str> = lines.clone();
            edited.insert(at, added);
            edited.join("\n") + "\n"
        };
        let name = fixture.display().to_string();
        let mut edits: Vec<(String, String)> = Vec::new();
        // Each module-level statement deleted (its first line: the rest, if any, is
        // then broken code at the top level, which must be followed too).
        for (index, line) in lines.iter().enumerate() {
            if is_statement_start(line) && !is_definition(line) {
                let mut edited = lines.clone();
                edited.remove(index);
                edits.push((
                    format!("{name}: line {} deleted", index + 1),
                    edited.join("\n") + "\n",
                ));
            }
        }
        for added in MODULE_LEVEL_LINES {
            for at in [first_definition, lines.len()] {
                edits.push((
                    format!("{name}: `{added}` at line {}", at + 1),
                    with_line_at(at, added),
                ));
            }
        }
        let module_names: std::collections::BTreeSet<&str> = lines
            .iter()
            .filter(|line| is_statement_start(line) && !is_definition(line))
            .filter_map(|line| line.split_once(" = ").map(|(target, _)| target.trim()))
            .filter(|target| target.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .collect();
        for module_name in module_names {
            let mut added: Vec<String> = REBOUND_VALUES
                .iter()
                .map(|value| format!("{module_name} = {value}"))
                .collect();
            added.push(format!(
                "app.include_router({module_name}, dependencies=[Depends(get_current_user)])"
            ));
            added.push(format!(
                "app.include_router({module_name}, prefix=\"/admin\")"
            ));
            for line in added {
                edits.push((
                    format!("{name}: `{line}` at the end"),
                    with_line_at(lines.len(), &line),
                ));
            }
        }
        for (what, edited) in edits {
            assert_incremental_follows(&source, &edited, &path, &what);
        }
    }
}
