//! Inputs the fuzz targets (`fuzz/`) found failing, kept as tests so they stay fixed.
//! Each names the target and what was wrong.

mod oracle;

use oracle::Session;
use stackaudit::audit::{audit, audit_without_prefilter};
use stackaudit::config::Settings;
use stackaudit::document::parse_text;
use stackaudit::document::position::Encoding;
use stackaudit::language::Language;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};

/// `front_ends`: tree-sitter's error recovery skipped characters that no Python token
/// holds, so `commit\x01\x00\x00 ()` and `commit\u{FFFD}()` (invalid UTF-8, decoded
/// as the CLI decodes it) were calls of `commit`, and the `.commit(` prefilter hid the
/// finding. Ruff's parser reads no call there; the prefilter must still agree with the
/// unfiltered audit on them, and let a form feed (white space to Python) through.
#[test]
fn characters_the_parser_skips_between_a_method_and_its_arguments() {
    let settings = Settings::default();
    let audits_agree = |source: &str| {
        let syntax = parse_text(Language::Python, source).expect("parses");
        let all = audit_without_prefilter(Language::Python, source, &syntax, &settings, None);
        assert_eq!(
            audit(Language::Python, source, &syntax, &settings, None),
            all
        );
        all
    };
    for input in [
        &include_bytes!("fuzz_inputs/front_ends-control-characters-before-arguments")[..],
        &include_bytes!("fuzz_inputs/front_ends-invalid-utf8-before-arguments")[..],
    ] {
        assert_eq!(input[0], 0, "the first byte selects Python");
        audits_agree(&String::from_utf8_lossy(&input[1..]));
    }
    let form_feed = "def save():\n    db = SessionLocal()\n    db.commit\x0c()\n";
    let findings = audits_agree(form_feed);
    assert!(
        findings
            .iter()
            .any(|finding| finding.rule == "missing-rollback" && finding.range == (40..52)),
        "{findings:?}"
    );
}

/// `edit_sequences`: one edit that joins three lines of the Redis fixture made the
/// incremental audit differ from a full one.
#[test]
fn joining_lines_of_the_redis_fixture_keeps_incremental_findings_exact() {
    let mut session = Session::new(
        Language::Python,
        Encoding::Utf16,
        include_str!("fixtures/python/redis-key-without-ttl.py"),
    );
    session.apply(TextDocumentContentChangeEvent {
        range: Some(Range::new(Position::new(33, 244), Position::new(35, 97))),
        range_length: None,
        text: "\t".to_string(),
    });
}
