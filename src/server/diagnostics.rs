//! Findings as LSP diagnostics, tagged in `data` with their rule and the document
//! version they were computed for.

use std::collections::HashMap;
use std::sync::LazyLock;

use ropey::Rope;
use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::*;

use crate::document::position::{Encoding, range_of};
use crate::rules::{ALL_RULES, Finding, Severity};

pub const SOURCE: &str = "stackaudit";

/// What a diagnostic carries back to `codeAction`: which rule, for which version. The
/// fix itself is looked up in that version's findings, so a keystroke does not send
/// every fix's edits to the client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DiagnosticData {
    pub rule: String,
    pub version: i32,
}

/// The documentation link of each rule, parsed once (parsing a URI per diagnostic per
/// keystroke showed in profiles).
static RULE_LINKS: LazyLock<HashMap<&'static str, Uri>> = LazyLock::new(|| {
    ALL_RULES
        .iter()
        .filter_map(|rule| Some((rule.id, rule.url().parse::<Uri>().ok()?)))
        .collect()
});

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
    let data = serde_json::json!({ "rule": finding.rule, "version": version });
    Diagnostic {
        range: range_of(rope, finding.range.clone(), encoding),
        severity: Some(lsp_severity(finding.severity)),
        code: Some(NumberOrString::String(finding.rule.to_string())),
        code_description: RULE_LINKS
            .get(finding.rule)
            .map(|href| CodeDescription { href: href.clone() }),
        source: Some(SOURCE.to_string()),
        message: finding.message.clone(),
        data: Some(data),
        ..Diagnostic::default()
    }
}

/// A framed `textDocument/publishDiagnostics` notification, serialized straight from
/// the diagnostics (no intermediate JSON tree).
pub fn publish_frame(uri: &Uri, diagnostics: &[Diagnostic], version: Option<i32>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Params<'a> {
        uri: &'a Uri,
        diagnostics: &'a [Diagnostic],
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<i32>,
    }
    #[derive(Serialize)]
    struct Notification<'a> {
        jsonrpc: &'static str,
        method: &'static str,
        params: Params<'a>,
    }
    let notification = Notification {
        jsonrpc: "2.0",
        method: "textDocument/publishDiagnostics",
        params: Params {
            uri,
            diagnostics,
            version,
        },
    };
    match serde_json::to_vec(&notification) {
        Ok(body) => super::transport::frame(&body),
        Err(error) => {
            tracing::error!(%error, "diagnostics do not serialize; sending none");
            let empty = Params {
                diagnostics: &[],
                ..notification.params
            };
            let body = serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": {"uri": empty.uri, "diagnostics": [], "version": empty.version}});
            super::transport::frame(body.to_string().as_bytes())
        }
    }
}

/// The stackaudit data of a diagnostic a client sent back, if it is ours.
pub fn data_of(diagnostic: &Diagnostic) -> Option<DiagnosticData> {
    if diagnostic.source.as_deref() != Some(SOURCE) {
        return None;
    }
    serde_json::from_value(diagnostic.data.clone()?).ok()
}
