//! Per-keystroke cost in the editor: a full open (parse + every rule) and one
//! single-character edit (incremental reparse + every rule) of a 5,000-line Python
//! module with findings. `cargo bench --bench keystroke` prints median and p95.

mod common;

use std::time::{Duration, Instant};

use common::EditPlace;
use common::python_module as module;

use stackaudit::audit::audit;
use stackaudit::audit::incremental::AuditCache;
use stackaudit::config::Settings;
use stackaudit::document::Document;
use stackaudit::document::position::Encoding;
use stackaudit::language::Language;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p95 = samples[samples.len() * 95 / 100];
    println!(
        "{name:<48} median {median:>10.3?}  p95 {p95:>10.3?}  ({} runs)",
        samples.len()
    );
}

fn syntax_of(document: &Document) -> &stackaudit::syntax::Syntax {
    document.syntax.as_ref().expect("parsed")
}

/// Full open and one keystroke (a character typed at the start of `line`, then
/// removed) for a language without the Python-specific breakdown.
fn open_and_type(name: &str, language: Language, text: &str, line: u32) {
    let settings = Settings::default();
    println!(
        "input: {} lines, {} bytes of {name}",
        text.lines().count(),
        text.len()
    );
    let open: Vec<Duration> = (0..50)
        .map(|_| {
            let started = Instant::now();
            let document = Document::new(text, 1, language);
            let mut cache = AuditCache::default();
            let syntax = syntax_of(&document);
            std::hint::black_box(cache.audit(language, text, syntax, &settings, None));
            started.elapsed()
        })
        .collect();
    report(&format!("{name}: full open: parse + all rules"), open);
    let mut document = Document::new(text, 1, language);
    let mut cache = AuditCache::default();
    let mut typed = Vec::new();
    for version in 2..202 {
        let (end, insert) = if version % 2 == 0 { (0, "x") } else { (1, "") };
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(line, 0), Position::new(line, end))),
            range_length: None,
            text: insert.to_string(),
        };
        let started = Instant::now();
        document.apply_changes(&[change], version, Encoding::Utf16);
        let source = document.text();
        let syntax = syntax_of(&document);
        std::hint::black_box(cache.audit(language, &source, syntax, &settings, None));
        typed.push(started.elapsed());
    }
    report(&format!("{name}: keystroke: reparse + all rules"), typed);
}

fn main() {
    let only = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let wants = |name: &str| only.as_deref().is_none_or(|only| name.contains(only));
    if wants("dockerfile") {
        let text = common::large_dockerfile(300);
        open_and_type("Dockerfile", Language::Dockerfile, &text, 150);
    }
    if wants("compose") {
        let text = common::large_compose(1_000);
        open_and_type("compose YAML", Language::Compose, &text, 500);
    }
    if wants("python") {
        python();
    }
}

fn python() {
    let text = module(5_000);
    let settings = Settings::default();
    println!(
        "input: {} lines, {} bytes of Python",
        text.lines().count(),
        text.len()
    );

    let mut open = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let document = Document::new(&text, 1, Language::Python);
        let findings = document
            .syntax
            .as_ref()
            .map(|syntax| audit(Language::Python, &text, syntax, &settings, None));
        std::hint::black_box(findings);
        open.push(started.elapsed());
    }
    report("full open: parse + all rules", open);

    for (name, module_text) in [
        ("service module", text.clone()),
        ("FastAPI module", common::fastapi_module(5_000)),
        (
            "Alembic migration, 1,000-line upgrade()",
            common::alembic_migration(1_000),
        ),
    ] {
        for place in EditPlace::ALL {
            type_at(name, &module_text, place, &settings);
        }
    }
    let document = Document::new(&text, 1, Language::Python);
    let source = document.text();
    let samples = (0..30)
        .map(|_| {
            let started = Instant::now();
            let context = stackaudit::rules::Context::new(
                &source,
                syntax_of(&document),
                Language::Python,
                &settings.rules,
            );
            let kinds = stackaudit::rules::python::checker::module_kinds(&context);
            std::hint::black_box(
                kinds
                    .kinds_bound_in(stackaudit::semantic::python::bound_kinds::ScopeKey::MODULE)
                    .len(),
            );
            started.elapsed()
        })
        .collect();
    report(
        "module facts on Ruff's trees (imports, bound kinds)",
        samples,
    );
    let samples = (0..30)
        .map(|_| {
            let started = Instant::now();
            let mut nodes = 0usize;
            for item in syntax_of(&document).items() {
                if let Some(ast) = item.python_ast(&source) {
                    stackaudit::rules::python::helpers::any_node(&ast.body, |_| {
                        nodes += 1;
                        false
                    });
                }
            }
            std::hint::black_box(nodes);
            started.elapsed()
        })
        .collect();
    report("one walk over every node of Ruff's trees", samples);

    // Each rule alone over each module, to see where the time goes.
    for (name, module_text) in [
        ("service module", text.clone()),
        ("FastAPI module", common::fastapi_module(5_000)),
        (
            "Alembic migration, 1,000-line upgrade()",
            common::alembic_migration(1_000),
        ),
    ] {
        each_rule_alone(name, &module_text);
    }
}

fn each_rule_alone(name: &str, text: &str) {
    let document = Document::new(text, 1, Language::Python);
    let Some(syntax) = document.syntax.as_ref() else {
        return;
    };
    for rule in stackaudit::rules::ALL_RULES
        .iter()
        .filter(|rule| rule.applies_to(Language::Python))
    {
        let options = stackaudit::config::Options {
            select: Some(vec![rule.id.to_string()]),
            ..Default::default()
        };
        let Ok(only) = Settings::from_options(options) else {
            continue;
        };
        let samples = (0..10)
            .map(|_| {
                let started = Instant::now();
                std::hint::black_box(audit(Language::Python, text, syntax, &only, None));
                started.elapsed()
            })
            .collect();
        report(&format!("{name}, rule alone: {}", rule.id), samples);
    }
}

/// 200 keystrokes at `place` of `text` (a character typed, then deleted), each checked
/// against a full audit of the same version.
fn type_at(name: &str, text: &str, place: EditPlace, settings: &Settings) {
    let mut document = Document::new(text, 1, Language::Python);
    let mut cache = AuditCache::default();
    if let Some(syntax) = document.syntax.as_ref() {
        cache.audit(Language::Python, text, syntax, settings, None); // what didOpen leaves
    }
    let (line, column) = place.position(text);
    let (line, column) = (line as u32, column as u32);
    let (mut reparse, mut rules, mut total, mut whole) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for version in 2..202 {
        // Type a character, then delete it: the text stays realistic.
        let (end, insert) = if version % 2 == 0 {
            (column, "x")
        } else {
            (column + 1, "")
        };
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(
                Position::new(line, column),
                Position::new(line, end),
            )),
            range_length: None,
            text: insert.to_string(),
        };
        let started = Instant::now();
        document.apply_changes(&[change], version, Encoding::Utf16);
        let parsed = started.elapsed();
        let source = document.text();
        let findings = document
            .syntax
            .as_ref()
            .map(|syntax| cache.audit(Language::Python, &source, syntax, settings, None));
        let done = started.elapsed();
        reparse.push(parsed);
        rules.push(done - parsed);
        total.push(done);
        // The same version audited from scratch, for comparison (and as a check).
        let started = Instant::now();
        let full = document
            .syntax
            .as_ref()
            .map(|syntax| audit(Language::Python, &source, syntax, settings, None));
        whole.push(started.elapsed());
        assert_eq!(findings, full, "incremental audit differs from a full one");
    }
    let label = format!("{name}, {}", place.name());
    report(&format!("{label}: reparse"), reparse);
    report(&format!("{label}: text copy + audit"), rules);
    report(&format!("{label}: total"), total);
    report(&format!("{label}: full audit instead"), whole);
}
