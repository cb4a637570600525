//! Findings as LSP diagnostics, tagged in `data` with their rule and the document
//! version they were computed for.

use std::collections::HashMap;
use std::sync::LazyLock;

use ropey::Rope;
use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::*;

use crate::document::position::{Encoding, PositionSweep, range_of};
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

/// A finding as an owned LSP diagnostic (for code actions): the same content as the
/// published JSON, from the same `wire_diagnostic`.
pub fn to_diagnostic(
    finding: &Finding,
    rope: &Rope,
    encoding: Encoding,
    version: i32,
) -> Diagnostic {
    let wire = wire_diagnostic(
        finding,
        range_of(rope, finding.range.clone(), encoding),
        version,
    );
    Diagnostic {
        range: wire.range,
        severity: Some(wire.severity),
        code: Some(NumberOrString::String(wire.code.to_string())),
        code_description: wire.code_description.map(|link| CodeDescription {
            href: link.href.clone(),
        }),
        source: Some(wire.source.to_string()),
        message: wire.message.to_string(),
        data: serde_json::to_value(&wire.data).ok(),
        ..Diagnostic::default()
    }
}

/// A diagnostic as it goes over the wire, borrowing from its finding: publishing
/// serializes hundreds of these per keystroke, and building owned `Diagnostic`s first
/// cost more than the audit.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireDiagnostic<'a> {
    range: Range,
    severity: DiagnosticSeverity,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_description: Option<WireLink>,
    source: &'static str,
    message: &'a str,
    data: WireData<'a>,
}

#[derive(Serialize)]
struct WireLink {
    href: &'static Uri,
}

#[derive(Serialize)]
struct WireData<'a> {
    rule: &'a str,
    version: i32,
}

/// What every diagnostic of a finding says, decided in one place.
fn wire_diagnostic(finding: &Finding, range: Range, version: i32) -> WireDiagnostic<'_> {
    WireDiagnostic {
        range,
        severity: lsp_severity(finding.severity),
        code: finding.rule,
        code_description: RULE_LINKS.get(finding.rule).map(|href| WireLink { href }),
        source: SOURCE,
        message: &finding.message,
        data: WireData {
            rule: finding.rule,
            version,
        },
    }
}

/// A framed `textDocument/publishDiagnostics` notification of `findings` of `source`
/// (with no version: clearing a closed document).
pub fn publish_frame(
    uri: &Uri,
    findings: &[Finding],
    source: &str,
    encoding: Encoding,
    version: Option<i32>,
) -> Vec<u8> {
    #[derive(Serialize)]
    struct Params<'a> {
        uri: &'a Uri,
        diagnostics: Vec<WireDiagnostic<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<i32>,
    }
    #[derive(Serialize)]
    struct Notification<'a> {
        jsonrpc: &'static str,
        method: &'static str,
        params: Params<'a>,
    }
    let mut positions = PositionSweep::new(source, encoding);
    let diagnostics = findings
        .iter()
        .map(|finding| {
            let range = positions.range(finding.range.clone());
            wire_diagnostic(finding, range, version.unwrap_or_default())
        })
        .collect();
    let notification = Notification {
        jsonrpc: "2.0",
        method: "textDocument/publishDiagnostics",
        params: Params {
            uri,
            diagnostics,
            version,
        },
    };
    // Sized up front: growing a buffer of hundreds of kilobytes by doubling showed in
    // profiles. Serializing borrowed strings, numbers and a URI cannot fail.
    let mut body = Vec::with_capacity(256 + findings.len() * 512);
    let _ = serde_json::to_writer(&mut body, &notification);
    super::transport::frame(&body)
}

/// The stackaudit data of a diagnostic a client sent back, if it is ours.
pub fn data_of(diagnostic: &Diagnostic) -> Option<DiagnosticData> {
    if diagnostic.source.as_deref() != Some(SOURCE) {
        return None;
    }
    serde_json::from_value(diagnostic.data.clone()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::language::Language;

    #[test]
    fn published_json_equals_the_lsp_diagnostics() {
        let source = include_str!("../../tests/fixtures/python/missing-rollback.py");
        let findings =
            crate::audit::audit_text(Language::Python, source, &Settings::default(), None);
        assert!(findings.len() > 3);
        let rope = Rope::from_str(source);
        let uri: Uri = "file:///app/handlers.py".parse().expect("uri");
        let frame = publish_frame(&uri, &findings, source, Encoding::Utf16, Some(9));
        let body = &frame[frame
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("header")
            + 4..];
        let published: serde_json::Value = serde_json::from_slice(body).expect("JSON");
        let expected: Vec<Diagnostic> = findings
            .iter()
            .map(|finding| to_diagnostic(finding, &rope, Encoding::Utf16, 9))
            .collect();
        assert_eq!(
            published,
            serde_json::json!({
                "jsonrpc": "2.0",
                "method": "textDocument/publishDiagnostics",
                "params": {"uri": uri.as_str(), "diagnostics": expected, "version": 9},
            })
        );
    }
}
