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
        let tree = session.document.tree.as_ref().expect("tree");
        audit(
            Language::Python,
            &session.reference,
            tree,
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
    let tree = document.tree.clone().expect("parsed");
    cache.audit(Language::Python, &source, &tree, &settings, None);
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
        let tree = document.tree.clone().expect("parsed");
        let incremental = cache.audit(Language::Python, &source, &tree, &settings, None);
        assert_eq!(
            incremental,
            audit(Language::Python, &source, &tree, &settings, None)
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

#[test]
fn dockerfile_edits_match_a_fresh_parse() {
    let seed = include_str!("fixtures/dockerfile/docker-hardcoded-secret.dockerfile");
    for run in 0..8 {
        fuzz(Language::Dockerfile, seed, 100 + run);
    }
}

#[test]
fn compose_edits_match_a_fresh_parse() {
    let seed = include_str!("fixtures/compose/docker-hardcoded-secret.yml");
    for run in 0..8 {
        fuzz(Language::Compose, seed, 200 + run);
    }
}
