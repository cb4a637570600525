//! Each front end on arbitrary bytes: parse, run every rule (with and without the
//! prefilters), place every finding on LSP positions, and apply every fix. Nothing may
//! panic, hang (libFuzzer's `-timeout`) or grow without bound (`-rss_limit_mb`); the
//! prefilters must never hide a finding in code that parses, and every finding and
//! edit must lie on character boundaries of the text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ropey::Rope;
use stackaudit::audit::{audit, audit_text, audit_without_prefilter};
use stackaudit::config::Settings;
use stackaudit::document::parse_text;
use stackaudit::document::position::{Encoding, PositionSweep, range_of};
use stackaudit::fix::{apply_edits, compatible_edits, fix_all};
use stackaudit::language::Language;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let language = Language::ALL[selector as usize % Language::ALL.len()];
    // Files on disk may be any bytes; the CLI decodes them lossily, editors send UTF-8.
    let source = String::from_utf8_lossy(bytes);
    let settings = Settings::default();

    let Some(syntax) = parse_text(language, &source) else {
        return;
    };
    let findings = audit(language, &source, &syntax, &settings, None);
    // The prefilters must be exact on code that parses. Where the parser recovered from
    // errors in arbitrary bytes it may skip any junk between tokens, and they only try
    // (`edit_sequences` holds them to it on the broken code people type).
    if !syntax.has_error(&source) {
        assert_eq!(
            findings,
            audit_without_prefilter(language, &source, &syntax, &settings, None),
            "a prefilter hid a finding"
        );
    }
    assert_eq!(findings, audit_text(language, &source, &settings, None));

    let rope = Rope::from_str(&source);
    let mut sweep = PositionSweep::new(&source, Encoding::Utf16);
    for finding in &findings {
        assert!(source.is_char_boundary(finding.range.start));
        assert!(source.is_char_boundary(finding.range.end));
        assert_eq!(
            sweep.range(finding.range.clone()),
            range_of(&rope, finding.range.clone(), Encoding::Utf16)
        );
        for edit in finding.fix.iter().flat_map(|fix| &fix.edits) {
            assert!(edit.range.start <= edit.range.end && edit.range.end <= source.len());
            assert!(source.is_char_boundary(edit.range.start));
            assert!(source.is_char_boundary(edit.range.end));
        }
    }
    let edits = compatible_edits(findings.iter().filter_map(|finding| finding.fix.as_ref()));
    apply_edits(&source, &edits);
    fix_all(language, &source, &settings, true, None);
});
