//! ## What it does
//! Finds blanket `# type: ignore` comments: no error code in brackets
//! (`# type: ignore[attr-defined]`) and no explanation after them
//! (`# type: ignore  # the stubs lack the v2 API`).
//!
//! ## Why is this bad?
//! A blanket ignore silences every type error on its line, including the ones that
//! appear later when the code around it changes: the checker can no longer catch a
//! wrong argument or a `None` that slipped through, and nobody remembers why the ignore
//! was added or whether it is still needed. An error code keeps the silence narrow, and
//! a reason lets the next reader judge it.
//!
//! ## Example
//! ```python
//! client = boto3.client("s3")  # type: ignore
//! ```
//!
//! ## Use instead
//! ```python
//! client = boto3.client("s3")  # type: ignore[no-untyped-call]  # boto3 has no stubs here
//! ```
//!
//! ## Fix safety
//! No fix: only the author knows which error the comment is for.
//!
//! ## Known problems
//! Tool directives after the comment (`# noqa`, `# pylint: ...`, `# pragma: ...`) do not
//! count as an explanation.

use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, FixAvailability, Rule, Severity, TextContext};

pub const RULE: Rule = Rule {
    id: "type-ignore-without-reason",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::None,
    summary: "A blanket `# type: ignore` with no error code and no reason",
    triggers: &["type: ignore", "type:ignore"],
    python_triggers: None,
    text_test: None,
    workspace_trigger: None,
    check: Check::Text(check),
    reads: Projections::NONE,
};

/// Directives for other tools, which are not an explanation.
const DIRECTIVES: &[&str] = &[
    "noqa",
    "pylint",
    "pragma",
    "fmt:",
    "isort",
    "pyright",
    "mypy",
    "stackaudit",
    "nosec",
];

fn check(context: &TextContext, findings: &mut Vec<Finding>) {
    for comment in context.comments() {
        let Some(text) = context.source.get(comment.clone()) else {
            continue;
        };
        let Some((at, marker_length)) = find_type_ignore(text) else {
            continue;
        };
        let rest = &text[at + marker_length..];
        if rest.starts_with('[') || has_explanation(rest) {
            continue;
        }
        let start = comment.start + at;
        findings.push(RULE.finding(
            start..start + marker_length,
            "`# type: ignore` silences every type error on this line without saying which or why; add `[error-code]` or a reason",
        ));
    }
}

/// Where `type: ignore` (or `type:ignore`) opens a comment's directive, and its length.
fn find_type_ignore(comment: &str) -> Option<(usize, usize)> {
    ["type: ignore", "type:ignore"].iter().find_map(|marker| {
        let at = comment.find(marker)?;
        // It must start a comment: only `#` and white space before it.
        let opens = comment[..at].trim_end().ends_with('#');
        let whole_word =
            !comment[at + marker.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_');
        (opens && whole_word).then_some((at, marker.len()))
    })
}

fn has_explanation(rest: &str) -> bool {
    let words = rest.trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '#' | '-' | ':' | ',' | ';' | '—')
    });
    let first_word = words
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    words.chars().filter(|c| c.is_alphabetic()).count() >= 3
        && !DIRECTIVES
            .iter()
            .any(|directive| first_word.starts_with(directive))
}
