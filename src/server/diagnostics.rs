//! Findings as LSP diagnostics. The fix travels in `data` with the document version it
//! was computed for, so `codeAction` can use it without auditing again.

use ropey::Rope;
use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::*;

use crate::document::position::{Encoding, range_of};
use crate::rules::{Applicability, Finding, Severity, rule_by_id};

pub const SOURCE: &str = "stackaudit";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DiagnosticData {
    pub rule: String,
    pub version: i32,
    pub fix: Option<FixData>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FixData {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<TextEdit>,
}

fn lsp_severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

pub fn to_diagnostic(
    finding: &Finding,
    rope: &Rope,
    encoding: Encoding,
    version: i32,
) -> Diagnostic {
    let fix = finding.fix.as_ref().map(|fix| FixData {
        title: fix.title.clone(),
        applicability: fix.applicability,
        edits: fix
            .edits
            .iter()
            .map(|edit| {
                TextEdit::new(
                    range_of(rope, edit.range.clone(), encoding),
                    edit.content.clone(),
                )
            })
            .collect(),
    });
    let data = DiagnosticData {
        rule: finding.rule.to_string(),
        version,
        fix,
    };
    let href = rule_by_id(finding.rule).and_then(|rule| rule.url().parse::<Uri>().ok());
    Diagnostic {
        range: range_of(rope, finding.range.clone(), encoding),
        severity: Some(lsp_severity(finding.severity)),
        code: Some(NumberOrString::String(finding.rule.to_string())),
        code_description: href.map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message: finding.message.clone(),
        data: serde_json::to_value(data).ok(),
        ..Diagnostic::default()
    }
}

/// The stackaudit data of a diagnostic a client sent back, if it is ours.
pub fn data_of(diagnostic: &Diagnostic) -> Option<DiagnosticData> {
    if diagnostic.source.as_deref() != Some(SOURCE) {
        return None;
    }
    serde_json::from_value(diagnostic.data.clone()?).ok()
}
