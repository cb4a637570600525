//! Document sync: open, incremental change and close, and the audit that follows each.
//!
//! The text and tree are updated synchronously in the notification handler, in the
//! order the client sent the changes. The audit then runs on a blocking thread over a
//! snapshot; if the document moved on meanwhile, its result is dropped, so a stale
//! version is never published and queued edits only cost the newest audit.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use tower_lsp_server::ls_types::*;

use super::{Backend, OpenDocument, diagnostics, pull, workspace};
use crate::audit::audit;
use crate::audit::incremental::AuditCache;
use crate::config::Settings;
use crate::document::{Document, parser_limits};
use crate::index::WorkspaceView;
use crate::language::Language;
use crate::rules::Finding;

/// A document whose last audit took less is audited inline (see `audit_and_publish`).
const AUDIT_INLINE_BELOW: std::time::Duration = std::time::Duration::from_millis(5);

/// Documents at least this large are first parsed on a blocking thread, so opening
/// one does not hold up the messages of every other document (~7 MB/s per core).
const PARSE_IN_BACKGROUND_FROM: usize = 256 * 1024;

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
    let in_background = item.text.len() >= PARSE_IN_BACKGROUND_FROM;
    let document = if in_background {
        Document::new_unparsed(&item.text, item.version, language)
    } else {
        Document::new(&item.text, item.version, language)
    };
    let rope = document.rope.clone();
    // Each opening has its own cache: it also tells this opening from a later one.
    let audit_cache: Arc<Mutex<AuditCache>> = Arc::default();
    let this_opening = Arc::clone(&audit_cache);
    backend.documents.insert(
        item.uri.clone(),
        OpenDocument {
            document,
            findings: None,
            audit_cache,
            published: Arc::default(),
            last_audit: std::time::Duration::MAX,
            revision: 0,
            path: path.as_deref().map(|path| backend.workspace_relative(path)),
            absolute: path.as_deref().map(Arc::from),
            facts_revision: 0,
            last_edited: backend.next_edit_stamp(),
        },
    );
    if in_background {
        // Changes that arrive meanwhile edit the text and are replayed on this tree.
        let parsed =
            tokio::task::spawn_blocking(move || Document::parse_detached(language, &rope)).await;
        let Some(mut open) = backend.documents.get_mut(&item.uri) else {
            return; // closed meanwhile
        };
        if !Arc::ptr_eq(&open.audit_cache, &this_opening) {
            return; // closed and opened again: that opening parses for itself
        }
        open.document.adopt_syntax(parsed.ok().flatten());
        warn_if_not_parsed(&item.uri, &open.document);
    } else if let Some(open) = backend.documents.get(&item.uri) {
        warn_if_not_parsed(&item.uri, &open.document);
    }
    audit_and_publish(backend, item.uri.clone(), None).await;
    evict_idle_trees(backend);
    // Its unsaved text may say other than the file the index read.
    workspace::document_changed(backend, &item.uri);
}

/// Say why a document has no tree (so no findings): its indentation is deeper than
/// its grammar handles safely (`parser_limits`).
fn warn_if_not_parsed(uri: &Uri, document: &Document) {
    if document.syntax.is_some() || document.is_parsing() || document.is_evicted() {
        return;
    }
    let chunks = document.rope.chunks().map(str::as_bytes);
    if let Err(too_deep) = parser_limits::check(document.language, chunks) {
        tracing::warn!(uri = uri.as_str(), "{too_deep}; not audited");
    }
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
        let had_tree = open.document.syntax.is_some();
        open.document
            .apply_changes(&params.content_changes, version, encoding);
        if had_tree {
            warn_if_not_parsed(&uri, &open.document);
        }
        open.findings = None;
        open.revision += 1;
        open.last_edited = backend.next_edit_stamp();
    }
    audit_and_publish(backend, uri.clone(), Some(version)).await;
    evict_idle_trees(backend);
    workspace::document_changed(backend, &uri);
}

/// How many documents keep their trees: the ones being edited. Every other open
/// document keeps its text and findings only (a tree is ~10× the text's memory), not
/// the JSON of its published diagnostics either.
const TREES_KEPT: usize = 16;

/// Drop the trees of all but the `TREES_KEPT` most recently edited (or opened)
/// documents.
fn evict_idle_trees(backend: &Backend) {
    if backend.documents.len() <= TREES_KEPT {
        return;
    }
    let mut with_trees: Vec<(u64, Uri)> = backend
        .documents
        .iter()
        .filter(|open| open.document.syntax.is_some())
        .map(|open| (open.last_edited, open.key().clone()))
        .collect();
    if with_trees.len() <= TREES_KEPT {
        return;
    }
    with_trees.sort_unstable_by_key(|(stamp, _)| std::cmp::Reverse(*stamp));
    for (_, uri) in with_trees.into_iter().skip(TREES_KEPT) {
        if let Some(mut open) = backend.documents.get_mut(&uri) {
            open.document.evict_tree();
            // Its diagnostics' JSON and its audit's reuse only pay while it is edited.
            open.published = Arc::default();
            // A client that pulls asks for the findings of every open document again
            // and again; one that is pushed them has them, and a code action here
            // audits the document again (milliseconds for what nobody is editing).
            if !backend.pull.client_pulls() {
                open.findings = None;
            }
            // A cache in use is an audit under way: this document is busy, not idle.
            if let Ok(mut cache) = open.audit_cache.try_lock() {
                cache.forget_reuse();
            }
        }
    }
}

pub(super) async fn did_close(backend: &Backend, params: DidCloseTextDocumentParams) {
    let uri = params.text_document.uri;
    // Under the publish lock, so no audit that finished earlier publishes after this.
    let publishing = backend.publish_lock.lock().await;
    let closed = backend.documents.remove(&uri);
    if closed.is_some() && !backend.pull.client_pulls() {
        let _ = backend.frames_out.send(diagnostics::publish_frame(
            &uri,
            &[],
            "",
            backend.encoding(),
            None,
            &mut diagnostics::PublishedJson::default(),
        ));
    }
    drop(publishing);
    if let Some(absolute) = closed.and_then(|(_, open)| open.absolute) {
        workspace::document_closed(backend, &absolute).await;
    }
    // Its file on disk is now reported by the workspace pull.
    pull::reports_may_have_changed(backend, false);
}

/// Re-audit every open document (after a settings change); a client that pulls is
/// asked to pull again instead.
pub(super) async fn audit_all(backend: &Backend) {
    let uris: Vec<Uri> = backend
        .documents
        .iter()
        .map(|entry| entry.key().clone())
        .collect();
    if backend.pull.client_pulls() {
        forget_findings(backend, &uris);
        pull::reports_may_have_changed(backend, true);
        return;
    }
    for uri in uris {
        audit_and_publish(backend, uri, None).await;
    }
}

/// Drop the findings kept for `uris`: what they were found from changed (settings,
/// facts of other modules), so the next request audits them again.
pub(super) fn forget_findings(backend: &Backend, uris: &[Uri]) {
    backend
        .forgotten
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    for uri in uris {
        if let Some(mut open) = backend.documents.get_mut(uri) {
            open.findings = None;
        }
    }
}

/// Audit `uri` at `version` (`None`: whatever is current) and publish the result,
/// unless a newer version arrives first: the change that made it audits it instead.
pub(super) async fn audit_and_publish(backend: &Backend, uri: Uri, version: Option<i32>) {
    // Let edits already queued behind this one land first: then only the newest is audited.
    tokio::task::yield_now().await;
    let Some((snapshot, cache, published, revision, path, last_audit, absolute)) =
        backend.documents.get(&uri).map(|open| {
            (
                open.document.clone(),
                Arc::clone(&open.audit_cache),
                Arc::clone(&open.published),
                open.revision,
                open.path.clone(),
                open.last_audit,
                open.absolute.clone(),
            )
        })
    else {
        return;
    };
    let forgotten = backend.forgotten.load(std::sync::atomic::Ordering::SeqCst);
    let workspace = absolute.map(|absolute| backend.workspace_view(&absolute));
    if version.is_some_and(|version| version != snapshot.version) || snapshot.is_parsing() {
        return; // a newer change, or the end of the first parse, audits it
    }
    let version = snapshot.version;
    let settings = backend.settings();
    let encoding = backend.encoding();
    // A client that pulls asks for the findings itself (`pull`); they are kept for it.
    let push = !backend.pull.client_pulls();
    // Audit and convert off the async threads: both scale with the document.
    let target = uri.clone();
    let opening = Arc::clone(&cache);
    let idle = snapshot.is_evicted();
    let audit = move || {
        let started = std::time::Instant::now();
        let text = snapshot.text();
        let findings = audit_with_cache(
            &snapshot,
            &text,
            &settings,
            &cache,
            path.as_deref(),
            workspace.as_ref(),
        );
        let frame = push.then(|| {
            let mut published = published
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // What nobody edits keeps no JSON to republish from (`evict_idle_trees`).
            let mut unkept = diagnostics::PublishedJson::default();
            diagnostics::publish_frame(
                &target,
                &findings,
                &text,
                encoding,
                Some(version),
                if idle { &mut unkept } else { &mut published },
            )
        });
        (findings, frame, started.elapsed())
    };
    // A document whose last audit was quick is audited on the thread that just applied
    // the edit, whose caches hold the new tree: the handoff to another thread cost more
    // than a keystroke's audit of a 5,000-line module. This holds up the messages
    // behind it, so anything slower (an opening, a large file) goes to the blocking
    // pool. A single-threaded runtime (in-process tests) always hands it over.
    let multi_threaded = matches!(
        tokio::runtime::Handle::current().runtime_flavor(),
        tokio::runtime::RuntimeFlavor::MultiThread
    );
    let audited = if multi_threaded && last_audit < AUDIT_INLINE_BELOW {
        catch_unwind(AssertUnwindSafe(|| tokio::task::block_in_place(audit)))
            .map_err(|_| "the audit panicked".to_string())
    } else {
        tokio::task::spawn_blocking(audit)
            .await
            .map_err(|error| error.to_string())
    };
    let (findings, frame, took) = match audited {
        Ok(result) => result,
        Err(error) => {
            tracing::error!(uri = uri.as_str(), %error, "audit task failed");
            return;
        }
    };
    // Check-and-send under one lock, so an older audit cannot publish after a newer one.
    let _publishing = backend.publish_lock.lock().await;
    {
        let Some(mut open) = backend.documents.get_mut(&uri) else {
            return;
        };
        if open.revision != revision || !Arc::ptr_eq(&open.audit_cache, &opening) {
            return; // changed, or closed and opened again, meanwhile
        }
        // Found from settings or facts that changed meanwhile: not kept (a pulling
        // client's next pull audits again; a pushed one is audited again already).
        let current = backend.forgotten.load(std::sync::atomic::Ordering::SeqCst) == forgotten;
        // Kept for a pulling client's next pull, and while the document is edited.
        let keep = current && !(idle && push);
        open.findings = keep.then(|| (version, Arc::new(findings)));
        open.last_audit = took;
    }
    if let Some(frame) = frame
        && backend.frames_out.send(frame).is_err()
    {
        tracing::debug!("the client is gone; diagnostics not sent");
    }
}

/// Audit a document with its cache (a poisoned cache, left by a panic mid-audit, is
/// dropped and rebuilt).
fn audit_with_cache(
    document: &Document,
    text: &str,
    settings: &Settings,
    cache: &Mutex<AuditCache>,
    path: Option<&std::path::Path>,
    workspace: Option<&WorkspaceView>,
) -> Vec<Finding> {
    let Some(syntax) = document.syntax_or_parse() else {
        return Vec::new();
    };
    let syntax = syntax.as_ref();
    let mut cache = cache.lock().unwrap_or_else(|poisoned| {
        let mut cache = poisoned.into_inner();
        *cache = AuditCache::default();
        cache
    });
    let audited = catch_unwind(AssertUnwindSafe(|| {
        let findings =
            cache.audit_in_workspace(document.language, text, syntax, settings, path, workspace);
        if document.is_evicted() {
            // Nobody edits it (`evict_idle_trees`): nothing to reuse at the next audit.
            cache.forget_reuse();
        }
        findings
    }));
    audited.unwrap_or_else(|_| {
        tracing::error!("incremental audit failed; auditing the whole document");
        *cache = AuditCache::default();
        audit(document.language, text, syntax, settings, path)
    })
}

/// The findings of the document's current version: from the last audit when it is
/// current, else computed now.
pub(crate) fn current_findings(
    open: &OpenDocument,
    settings: &Settings,
    workspace: Option<&WorkspaceView>,
) -> Arc<Vec<Finding>> {
    match &open.findings {
        Some((version, findings)) if *version == open.document.version => Arc::clone(findings),
        _ => {
            let text = open.document.text();
            Arc::new(audit_with_cache(
                &open.document,
                &text,
                settings,
                &open.audit_cache,
                open.path.as_deref(),
                workspace,
            ))
        }
    }
}
