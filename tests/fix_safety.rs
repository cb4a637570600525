//! Fix safety, for every fixture in the repository (rule fixtures and the example
//! project) and for random modules assembled from their statements:
//!
//! - every quick fix, and fix-all with and without unsafe fixes, leaves code that parses
//!   wherever the original parsed;
//! - fix-all converges within 3 rounds and is idempotent;
//! - a safe fix edits only the statement that holds its finding, plus imports it adds:
//!   every other top-level statement is left byte for byte as it was;
//! - the single edit the server sends for fix-all turns the text into fix-all's result;
//! - no fix uses a name that pyright finds may be unbound or undefined where the
//!   original had no such finding (pyright from `tests/pyright`: `npm ci --prefix
//!   tests/pyright`).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use stackaudit::audit::audit_text;
use stackaudit::config::Settings;
use stackaudit::document::parse_text;
use stackaudit::fix::{apply_edits, fix_all, minimal_edit};
use stackaudit::language::Language;
use stackaudit::rules::{Applicability, Finding, Fix};

const MAX_ROUNDS: usize = 3;

/// Every file under `tests/fixtures` and `examples` that a rule audits.
fn fixtures() -> Vec<(PathBuf, Language)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for top in ["tests/fixtures", "examples"] {
        for entry in ignore::WalkBuilder::new(root.join(top)).build().flatten() {
            let path = entry.path();
            if !entry.file_type().is_some_and(|kind| kind.is_file()) {
                continue;
            }
            // Rule fixtures of a language live in a folder named after it.
            let by_folder = match path.parent().and_then(Path::file_name) {
                Some(name) if name == "compose" => Some(Language::Compose),
                Some(name) if name == "dockerfile" => Some(Language::Dockerfile),
                _ => None,
            };
            if let Some(language) = Language::from_path(path).or(by_folder) {
                files.push((path.to_path_buf(), language));
            }
        }
    }
    files.sort();
    assert!(files.len() >= 8, "fixtures not found: {files:?}");
    files
}

fn parses_cleanly(language: Language, source: &str) -> bool {
    parse_text(language, source).is_some_and(|syntax| !syntax.has_error(source))
}

/// The top-level statements of a Python text as Ruff reads them: byte ranges and
/// whether each is an import.
fn top_level_statements(source: &str) -> Vec<(std::ops::Range<usize>, bool)> {
    use ruff_python_ast::Stmt;
    use ruff_text_size::Ranged;
    let syntax = parse_text(Language::Python, source).expect("parses");
    let mut statements = Vec::new();
    for item in syntax.items() {
        let Some(ast) = item.python_ast(source) else {
            continue;
        };
        for statement in &ast.body {
            let range = statement.range();
            statements.push((
                item.range.start + usize::from(range.start())
                    ..item.range.start + usize::from(range.end()),
                matches!(statement, Stmt::Import(_) | Stmt::ImportFrom(_)),
            ));
        }
    }
    statements
}

/// Byte ranges of the top-level statements (Python) through the end of their last
/// line (a trailing comment belongs to the statement it ends), and of the comments
/// between them.
fn top_level_ranges(source: &str) -> Vec<std::ops::Range<usize>> {
    let line_end = |at: usize| {
        source[at..]
            .find(['\r', '\n'])
            .map_or(source.len(), |offset| at + offset)
    };
    let mut ranges: Vec<std::ops::Range<usize>> = top_level_statements(source)
        .into_iter()
        .map(|(range, _)| range.start..line_end(range.end))
        .collect();
    let comments = Language::Python
        .front_end()
        .comment_ranges(source, 0..source.len());
    for comment in comments {
        if !ranges
            .iter()
            .any(|range| range.start <= comment.start && comment.end <= range.end)
        {
            ranges.push(comment);
        }
    }
    ranges.sort_by_key(|range| range.start);
    ranges
}

fn is_import_only(text: &str) -> bool {
    let statements = top_level_statements(text);
    parses_cleanly(Language::Python, text)
        && !statements.is_empty()
        && statements.iter().all(|(_, import)| *import)
}

/// A safe fix changes nothing outside the statement that holds its finding, except for
/// imports it adds.
fn assert_safe_fix_stays_in_its_statement(
    label: &str,
    source: &str,
    finding: &Finding,
    fix: &Fix,
    fixed: &str,
) {
    let before = top_level_ranges(source);
    let holder = before
        .iter()
        .position(|range| range.start <= finding.range.start && finding.range.end <= range.end)
        .unwrap_or_else(|| panic!("{label}: no statement holds the finding"));
    for edit in &fix.edits {
        let inside =
            before[holder].start <= edit.range.start && edit.range.end <= before[holder].end;
        let adds_an_import = edit.range.is_empty() && is_import_only(&edit.content);
        assert!(
            inside || adds_an_import,
            "{label}: `{}` edits {:?} outside the statement {:?} that holds the finding",
            fix.title,
            edit.range,
            before[holder]
        );
    }
    let before_texts: Vec<&str> = before.iter().map(|range| &source[range.clone()]).collect();
    let after_texts: Vec<&str> = top_level_ranges(fixed)
        .into_iter()
        .map(|range| &fixed[range])
        .filter(|text| before_texts.contains(text) || !is_import_only(text))
        .collect();
    assert_eq!(
        after_texts.len(),
        before_texts.len(),
        "{label}: `{}` added or removed statements:\n{fixed}",
        fix.title
    );
    for (index, (was, now)) in before_texts.iter().zip(&after_texts).enumerate() {
        assert!(
            index == holder || was == now,
            "{label}: `{}` changed another statement:\n{was}\n--- became ---\n{now}",
            fix.title
        );
    }
}

/// The statements of a SQL text: byte ranges through their `;`.
fn sql_statements(source: &str) -> Vec<std::ops::Range<usize>> {
    let syntax = parse_text(Language::Sql, source).expect("SQL parses into statements");
    syntax
        .items()
        .iter()
        .flat_map(|item| {
            item.sql(source).statements.iter().map(move |statement| {
                let end = statement
                    .terminator
                    .map_or(statement.range.end, |at| at + 1);
                item.range.start + statement.range.start..item.range.start + end
            })
        })
        .collect()
}

/// A safe SQL fix edits only the statement that holds its finding, and may add whole
/// statements right after it (`CREATE INDEX ...;`): every other statement is left byte
/// for byte as it was.
fn assert_safe_sql_fix_stays_in_its_statement(
    label: &str,
    source: &str,
    finding: &Finding,
    fix: &Fix,
    fixed: &str,
) {
    let before = sql_statements(source);
    let holder = before
        .iter()
        .position(|range| range.start <= finding.range.start && finding.range.end <= range.end)
        .unwrap_or_else(|| panic!("{label}: no statement holds the finding"));
    let mut added = 0;
    for edit in &fix.edits {
        let inside =
            before[holder].start <= edit.range.start && edit.range.end <= before[holder].end;
        let adds_statements_after = edit.range.is_empty()
            && edit.range.start == before[holder].end
            && edit.content.trim_end().ends_with(';');
        assert!(
            inside || adds_statements_after,
            "{label}: `{}` edits {:?} outside the statement {:?} that holds the finding",
            fix.title,
            edit.range,
            before[holder]
        );
        if adds_statements_after {
            added += edit.content.matches(';').count();
        }
    }
    let texts = |source: &str, ranges: Vec<std::ops::Range<usize>>| -> Vec<String> {
        ranges
            .into_iter()
            .map(|range| source[range].to_string())
            .collect()
    };
    let before_texts = texts(source, before);
    let after_texts = texts(fixed, sql_statements(fixed));
    assert_eq!(
        after_texts.len(),
        before_texts.len() + added,
        "{label}: `{}` added or removed statements:\n{fixed}",
        fix.title
    );
    let kept_before = before_texts[..holder]
        .iter()
        .chain(&before_texts[holder + 1..]);
    let kept_after = after_texts[..holder]
        .iter()
        .chain(&after_texts[holder + 1 + added..]);
    for (was, now) in kept_before.zip(kept_after) {
        assert_eq!(
            was, now,
            "{label}: `{}` changed another statement",
            fix.title
        );
    }
}

/// Every check above, on one text. Returns how many fixes it tried.
fn check_fixes(label: &str, language: Language, source: &str) -> usize {
    let settings = Settings::default();
    let parsed = parses_cleanly(language, source);
    let findings = audit_text(language, source, &settings, None);
    let mut tried = 0;
    for finding in &findings {
        let Some(fix) = &finding.fix else { continue };
        tried += 1;
        let fixed = apply_edits(source, &fix.edits);
        assert!(
            !parsed || parses_cleanly(language, &fixed),
            "{label}: `{}` broke the syntax:\n{fixed}",
            fix.title
        );
        if fix.applicability == Applicability::Safe {
            match language {
                Language::Python => {
                    assert_safe_fix_stays_in_its_statement(label, source, finding, fix, &fixed)
                }
                Language::Sql => {
                    assert_safe_sql_fix_stays_in_its_statement(label, source, finding, fix, &fixed)
                }
                _ => panic!("{label}: a safe fix in another language needs its span check here"),
            }
        }
    }
    for include_unsafe in [false, true] {
        let label = format!("{label} (unsafe fixes: {include_unsafe})");
        let all = fix_all(language, source, &settings, include_unsafe, None);
        assert!(
            all.converged && all.rounds <= MAX_ROUNDS,
            "{label}: fix-all took {} rounds (converged: {})",
            all.rounds,
            all.converged
        );
        assert!(
            !parsed || parses_cleanly(language, &all.text),
            "{label}: fix-all broke the syntax:\n{}",
            all.text
        );
        let again = fix_all(language, &all.text, &settings, include_unsafe, None);
        assert_eq!(
            (again.applied, &again.text),
            (0, &all.text),
            "{label}: fix-all is not idempotent"
        );
        // What the server sends: one edit from the text to fix-all's result.
        let edits: Vec<_> = minimal_edit(source, &all.text).into_iter().collect();
        assert_eq!(
            apply_edits(source, &edits),
            all.text,
            "{label}: minimal edit"
        );
    }
    tried
}

#[test]
fn every_fix_of_every_fixture_is_safe_to_apply() {
    let mut tried = 0;
    for (path, language) in fixtures() {
        let source = std::fs::read_to_string(&path).expect("fixture is UTF-8");
        tried += check_fixes(&path.display().to_string(), language, &source);
    }
    assert!(tried >= 20, "only {tried} fixes tried");
}

/// Top-level statements of the Python fixtures, to assemble random modules from.
fn python_statements() -> Vec<String> {
    let mut statements = Vec::new();
    for (path, language) in fixtures() {
        if language != Language::Python {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("fixture is UTF-8");
        for range in top_level_ranges(&source) {
            let text = &source[range];
            if !text.starts_with('#') {
                statements.push(text.to_string());
            }
        }
    }
    statements
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Statements of different fixtures side by side: names imported in one module and
    /// used in another, handlers with several findings, definitions that shadow others.
    #[test]
    fn fixes_of_assembled_modules_are_safe_and_converge(
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..12),
        crlf in any::<bool>(),
    ) {
        let statements = python_statements();
        let mut module: String = picks
            .iter()
            .map(|pick| format!("{}\n\n\n", pick.get(&statements)))
            .collect();
        if crlf {
            module = module.replace('\n', "\r\n");
        }
        check_fixes("assembled module", Language::Python, &module);
    }
}

/// Rules of pyright that name a use no binding reaches on some path.
const UNBOUND_RULES: [&str; 3] = [
    "reportPossiblyUnboundVariable",
    "reportUnboundVariable",
    "reportUndefinedVariable",
];

/// pyright from `tests/pyright` (`npm ci --prefix tests/pyright`), or `STACKAUDIT_PYRIGHT`.
fn pyright() -> PathBuf {
    if let Some(path) = std::env::var_os("STACKAUDIT_PYRIGHT") {
        return PathBuf::from(path);
    }
    let bundled =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyright/node_modules/.bin/pyright");
    assert!(
        bundled.exists(),
        "pyright is not installed: run `npm ci --prefix tests/pyright` (README, Set up a fresh machine)"
    );
    bundled
}

/// Run pyright once over `files` (name, text) and count, per file, each unbound-name
/// diagnostic by rule and message (`"conn" is possibly unbound`).
#[allow(clippy::disallowed_methods)] // The test starts pyright; stackaudit itself never starts programs.
fn unbound_names(files: &[(String, String)]) -> std::collections::HashMap<String, Vec<String>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = serde_json::json!({ "typeCheckingMode": "off" });
    for rule in UNBOUND_RULES {
        config[rule] = serde_json::json!("error");
    }
    std::fs::write(dir.path().join("pyrightconfig.json"), config.to_string()).expect("config");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let output = std::process::Command::new(pyright())
        .arg("--outputjson")
        .arg("-p")
        .arg(dir.path())
        .output()
        .expect("pyright runs");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "pyright's report is not JSON ({error}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let analyzed = report["summary"]["filesAnalyzed"].as_u64().unwrap_or(0);
    assert_eq!(
        analyzed,
        files.len() as u64,
        "pyright analyzed {analyzed} files"
    );
    let mut found: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for diagnostic in report["generalDiagnostics"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let rule = diagnostic["rule"].as_str().unwrap_or_default();
        if !UNBOUND_RULES.contains(&rule) {
            continue;
        }
        let file = diagnostic["file"].as_str().unwrap_or_default();
        let name = Path::new(file)
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let message = diagnostic["message"].as_str().unwrap_or_default();
        found
            .entry(name)
            .or_default()
            .push(format!("{rule}: {message}"));
    }
    found
}

/// What `fixed` has that `original` has not (each diagnostic counted).
fn added(original: &[String], fixed: &[String]) -> Vec<String> {
    let mut left = original.to_vec();
    let mut new = Vec::new();
    for diagnostic in fixed {
        match left.iter().position(|was| was == diagnostic) {
            Some(index) => {
                left.swap_remove(index);
            }
            None => new.push(diagnostic.clone()),
        }
    }
    new
}

#[test]
fn no_fix_references_a_name_that_may_be_unbound() {
    let settings = Settings::default();
    // (original, fixed, what was applied), as files for one pyright run.
    let mut files = Vec::new();
    let mut variants = Vec::new();
    // A fix that does what issue 12 found (`conn.rollback()` in a handler that runs
    // before `conn` is bound) must be caught: the check itself is checked.
    let bound_late = "def save(engine):\n    try:\n        conn = engine.connect()\n        conn.commit()\n    except Exception:\n        pass\n";
    let planted = bound_late.replace("        pass\n", "        conn.rollback()\n");
    files.push(("planted_0.py".to_string(), bound_late.to_string()));
    files.push(("planted_1.py".to_string(), planted));
    for (index, (path, language)) in fixtures().into_iter().enumerate() {
        if language != Language::Python {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("fixture is UTF-8");
        let original = format!("fixture{index}_0.py");
        files.push((original.clone(), source.clone()));
        let findings = audit_text(
            language,
            &source,
            &settings,
            Some(Path::new("app/module.py")),
        );
        let mut texts: Vec<(String, String)> = findings
            .iter()
            .filter_map(|finding| {
                let fix = finding.fix.as_ref()?;
                Some((fix.title.to_string(), apply_edits(&source, &fix.edits)))
            })
            .collect();
        for include_unsafe in [false, true] {
            let all = fix_all(language, &source, &settings, include_unsafe, None);
            texts.push((format!("fix-all (unsafe: {include_unsafe})"), all.text));
        }
        for (number, (applied, text)) in texts.into_iter().enumerate() {
            let name = format!("fixture{index}_{}.py", number + 1);
            files.push((name.clone(), text));
            variants.push((path.display().to_string(), original.clone(), name, applied));
        }
    }
    assert!(variants.len() >= 40, "only {} fixed texts", variants.len());
    let found = unbound_names(&files);
    let of = |name: &str| found.get(name).cloned().unwrap_or_default();
    assert_eq!(
        added(&of("planted_0.py"), &of("planted_1.py")),
        vec!["reportPossiblyUnboundVariable: \"conn\" is possibly unbound".to_string()],
        "the check must catch a rollback of a name bound later"
    );
    for (fixture, original, fixed, applied) in &variants {
        let new = added(&of(original), &of(fixed));
        assert!(
            new.is_empty(),
            "{fixture}: `{applied}` leaves names that may be unbound: {new:?}"
        );
    }
}
