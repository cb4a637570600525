//! Random incremental edits: after every edit, the document's text must equal an
//! independent reference, and its tree and findings must equal a fresh parse's.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use stackaudit::audit::incremental::AuditCache;
use stackaudit::audit::{audit, audit_without_prefilter};
use stackaudit::config::Settings;
use stackaudit::document::Document;
use stackaudit::document::position::Encoding;
use stackaudit::language::Language;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};

const FRAGMENTS: &[&str] = &[
    "a",
    "é",
    "😀",
    "漢",
    "e\u{301}",
    "\n",
    "\r\n",
    " ",
    "    ",
    "(",
    ")",
    ":",
    "\"",
    "'",
    "#",
    "=",
    "${X}",
    "time.sleep(1)",
    "async def f():\n    ",
    "await ",
    "db.commit()",
    "try:\n",
    "except Exception:\n    pass\n",
    "r.set(\"k\", 1)",
    "ENV TOKEN=abc\n",
    "ARG KEY=v \\\n",
    "environment:\n  - PASSWORD=x\n",
    "  API_KEY: y\n",
    "import asyncio\n",
    "import redis\n",
    "from time import sleep as nap\n",
    "cache = redis.Redis()\n",
    "\ndef g():\n    import requests\n",
    "\nclass C:\n    r = redis.Redis()\n",
    "nap(2)",
    "async  def h():\n    ",
    "session . commit ()",
    "\\\n",
];

/// Byte offset of an LSP position in `text`, clamped, computed independently of the
/// crate: lines split at `\n`, a trailing `\r` is not part of the line.
fn reference_offset(text: &str, position: Position, encoding: Encoding) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(newline) => line_start += newline + 1,
            None => return text.len(),
        }
    }
    let line = &text[line_start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut units = 0;
    for (index, ch) in line.char_indices() {
        let width = match encoding {
            Encoding::Utf8 => ch.len_utf8(),
            Encoding::Utf16 => ch.len_utf16(),
            Encoding::Utf32 => 1,
        };
        if units + width > position.character as usize {
            return line_start + index;
        }
        units += width;
    }
    line_start + line.len()
}

fn random_position(rng: &mut StdRng, text: &str) -> Position {
    let lines = text.split('\n').count() as u32;
    let line = rng.random_range(0..lines + 2); // sometimes past the end
    let character = rng.random_range(0..40);
    Position::new(line, character)
}

fn tree_signature(document: &Document) -> Vec<(String, usize, usize)> {
    let mut nodes = Vec::new();
    let Some(tree) = document.tree.as_ref() else {
        return nodes;
    };
    stackaudit::rules::walk_tree(tree.root_node(), |node| {
        nodes.push((node.kind().to_string(), node.start_byte(), node.end_byte()));
    });
    nodes
}

fn fuzz(language: Language, seed_text: &str, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let settings = Settings::default();
    for encoding in [Encoding::Utf16, Encoding::Utf8, Encoding::Utf32] {
        let mut document = Document::new(seed_text, 0, language);
        let mut cache = AuditCache::default();
        let mut reference = seed_text.to_string();
        for version in 1..=60 {
            let start = random_position(&mut rng, &reference);
            let end = if rng.random_bool(0.5) {
                start
            } else {
                random_position(&mut rng, &reference)
            };
            let (start, end) = if (start.line, start.character) <= (end.line, end.character) {
                (start, end)
            } else {
                (end, start)
            };
            let text: String = (0..rng.random_range(0..4))
                .map(|_| FRAGMENTS[rng.random_range(0..FRAGMENTS.len())])
                .collect();
            let change = TextDocumentContentChangeEvent {
                range: Some(Range::new(start, end)),
                range_length: None,
                text,
            };

            let from = reference_offset(&reference, start, encoding);
            let to = reference_offset(&reference, end, encoding).max(from);
            reference.replace_range(from..to, &change.text);
            document.apply_changes(std::slice::from_ref(&change), version, encoding);

            assert_eq!(
                document.text(),
                reference,
                "seed {seed}, {encoding:?}, version {version}: text diverged"
            );
            let fresh = Document::new(&reference, version, language);
            assert_eq!(
                tree_signature(&document),
                tree_signature(&fresh),
                "seed {seed}, {encoding:?}, version {version}: tree diverged on {reference:?}"
            );
            let (Some(tree), Some(fresh_tree)) = (document.tree.as_ref(), fresh.tree.as_ref())
            else {
                panic!("grammar failed to parse");
            };
            let full = audit(language, &reference, fresh_tree, &settings);
            assert_eq!(
                full,
                audit_without_prefilter(language, &reference, fresh_tree, &settings),
                "seed {seed}, {encoding:?}, version {version}: a prefilter skipped a rule that fires on {reference:?}"
            );
            assert_eq!(
                audit(language, &reference, tree, &settings),
                full,
                "seed {seed}, {encoding:?}, version {version}: findings diverged"
            );
            assert_eq!(
                cache.audit(language, &reference, tree, &settings),
                full,
                "seed {seed}, {encoding:?}, version {version}: incremental findings diverged on {reference:?}"
            );
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
    cache.audit(Language::Python, &source, &tree, &settings);
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
        let incremental = cache.audit(Language::Python, &source, &tree, &settings);
        assert_eq!(
            incremental,
            audit(Language::Python, &source, &tree, &settings)
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
