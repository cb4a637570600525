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

/// `front_ends`: the parser skips characters that no Python token holds when it
/// recovers from errors, so `commit\x01\x00\x00 ()` and `commit\u{FFFD}()` (invalid
/// UTF-8, decoded as the CLI decodes it) are still calls of `commit`; the `.commit(`
/// prefilter did not allow them and hid the finding.
#[test]
fn characters_the_parser_skips_between_a_method_and_its_arguments() {
    for input in [
        &include_bytes!("fuzz_inputs/front_ends-control-characters-before-arguments")[..],
        &include_bytes!("fuzz_inputs/front_ends-invalid-utf8-before-arguments")[..],
    ] {
        assert_eq!(input[0], 0, "the first byte selects Python");
        let source = String::from_utf8_lossy(&input[1..]);
        let syntax = parse_text(Language::Python, &source).expect("parses");
        let settings = Settings::default();
        let all = audit_without_prefilter(Language::Python, &source, &syntax, &settings, None);
        assert!(
            all.iter().any(|finding| finding.rule == "missing-rollback"),
            "{all:?}"
        );
        assert_eq!(
            audit(Language::Python, &source, &syntax, &settings, None),
            all
        );
    }
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
