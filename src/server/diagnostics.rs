//! Findings as LSP diagnostics. A diagnostic names its rule in `code` and carries no
//! `data`: a code action finds its fix among the current findings by rule and range,
//! and the bytes matter (a keystroke in a noisy module publishes hundreds).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use ropey::Rope;
use serde::Serialize;
use tower_lsp_server::ls_types::*;

use crate::document::position::{Encoding, PositionSweep, range_of};
use crate::rules::{ALL_RULES, Finding, Severity, rule_by_id};

pub const SOURCE: &str = "stackaudit";

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
pub fn to_diagnostic(finding: &Finding, rope: &Rope, encoding: Encoding) -> Diagnostic {
    let wire = wire_diagnostic(finding, range_of(rope, finding.range.clone(), encoding));
    Diagnostic {
        range: wire.range,
        severity: Some(wire.severity),
        code: Some(NumberOrString::String(wire.code.to_string())),
        code_description: wire.code_description.map(|link| CodeDescription {
            href: link.href.clone(),
        }),
        source: Some(wire.source.to_string()),
        message: wire.message.to_string(),
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
}

#[derive(Serialize)]
struct WireLink {
    href: &'static Uri,
}

/// What every diagnostic of a finding says, decided in one place.
fn wire_diagnostic(finding: &Finding, range: Range) -> WireDiagnostic<'_> {
    WireDiagnostic {
        range,
        severity: lsp_severity(finding.severity),
        code: finding.rule,
        code_description: RULE_LINKS.get(finding.rule).map(|href| WireLink { href }),
        source: SOURCE,
        message: &finding.message,
    }
}

/// The JSON of each diagnostic a document last published, by what it shows. A
/// keystroke republishes hundreds of unchanged diagnostics (a cached definition's
/// findings share their message's allocation from one audit to the next), and copying
/// their bytes beats serializing them again.
#[derive(Debug, Default)]
pub struct PublishedJson {
    by_diagnostic: HashMap<DiagnosticKey, Box<[u8]>>,
}

/// What a diagnostic's JSON is made of. The message is compared by allocation: the key
/// holds it, so the address cannot be reused by another text while the entry lives.
#[derive(Debug, PartialEq, Eq, Hash)]
struct DiagnosticKey {
    message: SameAllocation,
    rule: &'static str,
    severity: Severity,
    range: [u32; 4],
}

#[derive(Debug)]
struct SameAllocation(Arc<str>);

impl PartialEq for SameAllocation {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SameAllocation {}

impl std::hash::Hash for SameAllocation {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::ptr::hash(Arc::as_ptr(&self.0).cast::<u8>(), state);
    }
}

/// A framed `textDocument/publishDiagnostics` notification of `findings` of `source`
/// (with no version: clearing a closed document). `published` holds the JSON of the
/// document's last publication; afterwards it holds this one's.
pub fn publish_frame(
    uri: &Uri,
    findings: &[Finding],
    source: &str,
    encoding: Encoding,
    version: Option<i32>,
    published: &mut PublishedJson,
) -> Vec<u8> {
    // Sized up front: growing a buffer of hundreds of kilobytes by doubling showed in
    // profiles. Serializing borrowed strings, numbers and a URI cannot fail.
    let mut body = Vec::with_capacity(256 + findings.len() * 512);
    body.extend_from_slice(
        br#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"#,
    );
    let _ = serde_json::to_writer(&mut body, uri);
    body.extend_from_slice(br#","diagnostics":["#);
    let mut last = std::mem::take(&mut published.by_diagnostic);
    let mut positions = PositionSweep::new(source, encoding);
    for (index, finding) in findings.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        let range = positions.range(finding.range.clone());
        let key = DiagnosticKey {
            message: SameAllocation(Arc::clone(&finding.message)),
            rule: finding.rule,
            severity: finding.severity,
            range: [
                range.start.line,
                range.start.character,
                range.end.line,
                range.end.character,
            ],
        };
        let json = match last.remove(&key) {
            Some(json) => json,
            None => {
                let mut json = Vec::with_capacity(512);
                let _ = serde_json::to_writer(&mut json, &wire_diagnostic(finding, range));
                json.into_boxed_slice()
            }
        };
        body.extend_from_slice(&json);
        published.by_diagnostic.insert(key, json);
    }
    body.push(b']');
    if let Some(version) = version {
        body.extend_from_slice(format!(r#","version":{version}"#).as_bytes());
    }
    body.extend_from_slice(b"}}");
    super::transport::frame(&body)
}

/// The rule of a diagnostic a client sent back, if it is ours.
pub fn rule_of(diagnostic: &Diagnostic) -> Option<&'static str> {
    if diagnostic.source.as_deref() != Some(SOURCE) {
        return None;
    }
    match diagnostic.code.as_ref()? {
        NumberOrString::String(code) => rule_by_id(code).map(|rule| rule.id),
        NumberOrString::Number(_) => None,
    }
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
        let mut published_json = PublishedJson::default();
        let publish = |findings: &[Finding], version: i32, kept: &mut PublishedJson| {
            publish_frame(&uri, findings, source, Encoding::Utf16, Some(version), kept)
        };
        let frame = publish(&findings, 9, &mut published_json);
        let published = body_of(&frame);
        let expected: Vec<Diagnostic> = findings
            .iter()
            .map(|finding| to_diagnostic(finding, &rope, Encoding::Utf16))
            .collect();
        assert_eq!(
            published,
            serde_json::json!({
                "jsonrpc": "2.0",
                "method": "textDocument/publishDiagnostics",
                "params": {"uri": uri.as_str(), "diagnostics": expected, "version": 9},
            })
        );

        // Published again from the kept JSON: the same bytes. Then with the first
        // finding's message in a new allocation and the second moved: the same JSON as
        // a publication from scratch.
        assert_eq!(publish(&findings, 9, &mut published_json), frame);
        let mut changed = findings.clone();
        changed[0].message = Arc::from(format!("{} (edited)", changed[0].message));
        changed[1].range = changed[1].range.start + 1..changed[1].range.end;
        let from_kept = publish(&changed, 10, &mut published_json);
        let from_scratch = publish(&changed, 10, &mut PublishedJson::default());
        assert_eq!(from_kept, from_scratch);
        assert_ne!(body_of(&from_kept), body_of(&frame));
        assert_eq!(published_json.by_diagnostic.len(), findings.len());
        // A closed document: no diagnostics, no version.
        let cleared = publish_frame(&uri, &[], "", Encoding::Utf16, None, &mut published_json);
        assert_eq!(
            body_of(&cleared),
            serde_json::json!({
                "jsonrpc": "2.0",
                "method": "textDocument/publishDiagnostics",
                "params": {"uri": uri.as_str(), "diagnostics": []},
            })
        );
    }

    fn body_of(frame: &[u8]) -> serde_json::Value {
        let body = &frame[frame
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("header")
            + 4..];
        serde_json::from_slice(body).expect("JSON")
    }
}
