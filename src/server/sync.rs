//! Document sync: open, incremental change and close, and the audit that follows each.
//!
//! The text and tree are updated synchronously in the notification handler, in the
//! order the client sent the changes. The audit then runs on a blocking thread over a
//! snapshot; if the document moved on meanwhile, its result is dropped, so a stale
//! version is never published and queued edits only cost the newest audit.

use std::sync::Arc;

use tower_lsp_server::ls_types::*;

use super::{Backend, OpenDocument, diagnostics};
use crate::audit::audit;
use crate::config::Settings;
use crate::document::Document;
use crate::language::Language;
use crate::rules::Finding;

pub(super) async fn did_open(backend: &Backend, params: DidOpenTextDocumentParams) {
    let item = params.text_document;
    let path = item.uri.to_file_path();
    let Some(language) = Language::detect(&item.language_id, path.as_deref()) else {
        tracing::debug!(
            uri = item.uri.as_str(),
            language_id = item.language_id,
            "not a language stackaudit audits"
        );
        return;
    };
    let document = Document::new(&item.text, item.version, language);
    backend.documents.insert(
        item.uri.clone(),
        OpenDocument {
            document,
            findings: None,
        },
    );
    audit_and_publish(backend, item.uri, Some(item.version)).await;
}

pub(super) async fn did_change(backend: &Backend, params: DidChangeTextDocumentParams) {
    let uri = params.text_document.uri;
    let version = params.text_document.version;
    let encoding = backend.encoding();
    {
        let Some(mut open) = backend.documents.get_mut(&uri) else {
            tracing::debug!(
                uri = uri.as_str(),
                "change for a document that is not open here; ignored"
            );
            return;
        };
        if version <= open.document.version {
            tracing::warn!(
                uri = uri.as_str(),
                version,
                previous = open.document.version,
                "document version went backwards"
            );
        }
        open.document
            .apply_changes(&params.content_changes, version, encoding);
        open.findings = None;
    }
    audit_and_publish(backend, uri, Some(version)).await;
}

pub(super) async fn did_close(backend: &Backend, params: DidCloseTextDocumentParams) {
    let uri = params.text_document.uri;
    if backend.documents.remove(&uri).is_some() {
        backend
            .client
            .publish_diagnostics(uri, Vec::new(), None)
            .await;
    }
}

/// Re-audit every open document (after a settings change).
pub(super) async fn audit_all(backend: &Backend) {
    let uris: Vec<Uri> = backend
        .documents
        .iter()
        .map(|entry| entry.key().clone())
        .collect();
    for uri in uris {
        audit_and_publish(backend, uri, None).await;
    }
}

/// Audit `uri` at `version` (`None`: whatever is current) and publish the result,
/// unless a newer version arrives first: the change that made it audits it instead.
pub(super) async fn audit_and_publish(backend: &Backend, uri: Uri, version: Option<i32>) {
    // Let edits already queued behind this one land first: then only the newest is audited.
    tokio::task::yield_now().await;
    let Some(snapshot) = backend
        .documents
        .get(&uri)
        .map(|open| open.document.clone())
    else {
        return;
    };
    if version.is_some_and(|version| version != snapshot.version) {
        return;
    }
    let version = snapshot.version;
    let settings = backend.settings();
    let audited = tokio::task::spawn_blocking(move || {
        let findings = audit_document(&snapshot, &settings);
        (snapshot, findings)
    })
    .await;
    let (snapshot, findings) = match audited {
        Ok(result) => result,
        Err(error) => {
            tracing::error!(uri = uri.as_str(), %error, "audit task failed");
            return;
        }
    };
    let encoding = backend.encoding();
    // Check-and-send under one lock, so an older audit cannot publish after a newer one.
    let _publishing = backend.publish_lock.lock().await;
    let diagnostics = {
        let Some(mut open) = backend.documents.get_mut(&uri) else {
            return;
        };
        if open.document.version != version {
            return;
        }
        let diagnostics: Vec<Diagnostic> = findings
            .iter()
            .map(|finding| diagnostics::to_diagnostic(finding, &snapshot.rope, encoding, version))
            .collect();
        open.findings = Some((version, Arc::new(findings)));
        diagnostics
    };
    backend
        .client
        .publish_diagnostics(uri, diagnostics, Some(version))
        .await;
}

pub(crate) fn audit_document(document: &Document, settings: &Settings) -> Vec<Finding> {
    let Some(tree) = document.tree.as_ref() else {
        return Vec::new();
    };
    let text = document.text();
    audit(document.language, &text, tree, settings)
}

/// The findings of the document's current version: from the last audit when it is
/// current, else computed now.
pub(crate) fn current_findings(open: &OpenDocument, settings: &Settings) -> Arc<Vec<Finding>> {
    match &open.findings {
        Some((version, findings)) if *version == open.document.version => Arc::clone(findings),
        _ => Arc::new(audit_document(&open.document, settings)),
    }
}
