//! Runs the enabled rules of a language over one source: a rule that panics is caught
//! and logged (once per rule) and the other rules' findings still come back; severity
//! overrides and suppression comments are applied here, once, for every front end.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{LazyLock, Mutex};

use aho_corasick::AhoCorasick;
use tree_sitter::Tree;

use crate::config::Settings;
use crate::document::parse_text;
use crate::language::Language;
use crate::rules::{ALL_RULES, Context, Finding};
use crate::suppression::is_suppressed;

/// Rules that have panicked in this process, so each is logged once, not per keystroke.
static PANICKED_RULES: LazyLock<Mutex<HashSet<&'static str>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

pub fn audit(language: Language, source: &str, tree: &Tree, settings: &Settings) -> Vec<Finding> {
    let context = Context::new(source, tree, language, settings);
    let mut findings = Vec::new();
    for rule in ALL_RULES
        .iter()
        .filter(|rule| rule.applies_to(language) && settings.is_enabled(rule))
    {
        let mut found = Vec::new();
        let outcome = catch_unwind(AssertUnwindSafe(|| (rule.check)(&context, &mut found)));
        if let Err(panic) = outcome {
            let first_time = PANICKED_RULES
                .lock()
                .map(|mut seen| seen.insert(rule.id))
                .unwrap_or(false);
            if first_time {
                let reason = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(rule = rule.id, %reason, "rule failed; its findings are skipped, other rules still run");
            }
            continue;
        }
        let severity = settings.severity_of(rule);
        findings.extend(
            found
                .into_iter()
                .filter(|finding| {
                    !is_suppressed(source, language, finding.rule, finding.range.start)
                })
                .map(|finding| Finding {
                    severity,
                    ..finding
                }),
        );
    }
    findings.sort_by(|a, b| {
        (a.range.start, a.range.end, a.rule).cmp(&(b.range.start, b.range.end, b.rule))
    });
    findings
}

/// Whether any rule of `language` could fire on `source`: its bytes contain one of
/// the rules' trigger words. Cheap enough to run before parsing.
pub fn may_have_findings(language: Language, source: &str) -> bool {
    static MATCHERS: LazyLock<Vec<(Language, AhoCorasick)>> = LazyLock::new(|| {
        Language::ALL
            .iter()
            .map(|&language| {
                let triggers: Vec<&str> = ALL_RULES
                    .iter()
                    .filter(|rule| rule.applies_to(language))
                    .flat_map(|rule| rule.triggers.iter().copied())
                    .collect();
                let matcher = AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&triggers)
                    .unwrap_or_else(|error| panic!("trigger words build a matcher: {error}"));
                (language, matcher)
            })
            .collect()
    });
    MATCHERS
        .iter()
        .find(|(candidate, _)| *candidate == language)
        .is_none_or(|(_, matcher)| matcher.is_match(source))
}

/// Parse and audit a whole text (the CLI, fix-all, tests).
pub fn audit_text(language: Language, source: &str, settings: &Settings) -> Vec<Finding> {
    if !may_have_findings(language, source) {
        return Vec::new();
    }
    let Some(tree) = parse_text(language, source) else {
        return Vec::new();
    };
    audit(language, source, &tree, settings)
}
