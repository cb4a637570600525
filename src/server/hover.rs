//! `textDocument/hover` over a finding: its message, the lines of this exact fix before
//! and after, and a link to the rule's full documentation. Short on purpose: the docs
//! are one click (or `stackaudit rule <id>`) away, not sixty lines under the cursor.

use tower_lsp_server::ls_types::*;

use super::Snapshot;
use super::sync::current_findings;
use crate::document::position::{offset_of, range_of};
use crate::fix::before_after;
use crate::language::Language;
use crate::rules::{Applicability, Finding, rule_by_id};

pub(super) fn hover(snapshot: &Snapshot, params: HoverParams) -> Option<Hover> {
    let encoding = snapshot.encoding;
    let document = &snapshot.open.document;
    let offset = offset_of(
        &document.rope,
        params.text_document_position_params.position,
        encoding,
    );
    let findings = current_findings(
        &snapshot.open,
        &snapshot.settings,
        snapshot.workspace.as_ref(),
    );
    let under_cursor: Vec<&Finding> = findings
        .iter()
        .filter(|finding| finding.range.start <= offset && offset <= finding.range.end)
        .collect();
    let first = under_cursor.first()?;
    let text = document.text();
    let sections: Vec<String> = under_cursor
        .iter()
        .map(|finding| render(finding, &text, document.language))
        .collect();
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: sections.join("\n\n---\n\n"),
        }),
        range: Some(range_of(&document.rope, first.range.clone(), encoding)),
    })
}

fn fence_language(language: Language) -> &'static str {
    match language {
        Language::Python => "python",
        Language::Dockerfile => "dockerfile",
        Language::Compose => "yaml",
        Language::Sql => "sql",
    }
}

fn render(finding: &Finding, text: &str, language: Language) -> String {
    let Some(rule) = rule_by_id(finding.rule) else {
        return finding.message.to_string();
    };
    let mut out = format!(
        "**stackaudit** [`{}`]({}): {}\n\n",
        rule.id,
        rule.url(),
        finding.message
    );
    if let Some(fix) = &finding.fix {
        let hunks = before_after(text, &fix.edits);
        let join = |pick: fn(&(String, String)) -> &String| -> String {
            hunks
                .iter()
                .map(pick)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n⋮\n")
        };
        let (before, after) = (join(|hunk| &hunk.0), join(|hunk| &hunk.1));
        let fence = fence_language(language);
        let safety = match fix.applicability {
            Applicability::Safe => "safe fix",
            Applicability::Unsafe => "unsafe fix: review before applying",
        };
        out.push_str(&format!(
            "**Fix** ({safety}): {}\n\n**Before**\n```{fence}\n{before}\n```\n**After**\n```{fence}\n{after}\n```\n\n",
            fix.title
        ));
    }
    out.push_str(&format!(
        "[Rule documentation]({}): {}.",
        rule.url(),
        rule.summary
    ));
    out
}
