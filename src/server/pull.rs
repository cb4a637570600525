//! Pull diagnostics (LSP 3.17): `textDocument/diagnostic` for a document and
//! `workspace/diagnostic` for every file of the workspace folders, opened or not.
//!
//! A client is served by pull when it announces `textDocument.diagnostic` and can be
//! told to pull again (`workspace.diagnostics.refreshSupport`): findings in one file
//! change with the facts of others, and a pulling client that cannot be told so would
//! keep showing stale ones. Such a client gets no `publishDiagnostics`. Others (Neovim
//! 0.11 announces pull but no refresh; Helix before 25.07 announces neither) are pushed
//! to as before, and are not offered pull, so no document is reported twice.
//!
//! Every report carries a `resultId`: a hash of its diagnostics, so a report that did
//! not change comes back as `unchanged`. The workspace pull answers at once when it has
//! something new, and otherwise waits until something changes (a long poll, as the
//! specification allows): VS Code asks again two seconds after every answer.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ropey::Rope;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

use super::diagnostics::{SOURCE, to_diagnostic};
use super::{Backend, off_the_async_threads, sync, workspace};
use crate::audit::audit_text_in_workspace;
use crate::config::Settings;
use crate::document::position::Encoding;
use crate::document::{parser_limits, source_text};
use crate::index::{WorkspaceLink, WorkspaceRead};
use crate::language::Language;
use crate::rules::Libraries;

/// What the server keeps for pulling clients.
#[derive(Default)]
pub(crate) struct PullState {
    /// Whether the client pulls diagnostics (then nothing is pushed to it).
    client_pulls: AtomicBool,
    /// Counts the changes that may change a report; a workspace pull with nothing new
    /// waits for the next.
    changes: tokio::sync::watch::Sender<u64>,
    /// Whether a workspace pull was answered yet (the first is answered at once).
    answered_workspace: AtomicBool,
    /// Whether the first scan of the workspace is done: until then, what each module
    /// reaches through imports is unknown, and workspace pulls wait for it.
    indexed: AtomicBool,
    /// The last report of each file not open in the editor, and what it was made from.
    on_disk: Mutex<HashMap<PathBuf, Arc<DiskReport>>>,
}

/// The report of a file as it is on disk, and what tells whether it still holds.
pub(crate) struct DiskReport {
    modified: Option<std::time::SystemTime>,
    length: u64,
    hash: u128,
    settings: Arc<Settings>,
    libraries: Libraries,
    reads: Vec<WorkspaceRead>,
    result_id: String,
    diagnostics: Vec<Diagnostic>,
}

/// Whether a client with `capabilities` is served by pull (see the module's docs).
pub(crate) fn client_pulls(capabilities: &ClientCapabilities) -> bool {
    let pulls = capabilities
        .text_document
        .as_ref()
        .is_some_and(|text| text.diagnostic.is_some());
    let refreshes = capabilities
        .workspace
        .as_ref()
        .and_then(|workspace| workspace.diagnostics.as_ref())
        .and_then(|diagnostics| diagnostics.refresh_support)
        .unwrap_or(false);
    pulls && refreshes
}

/// What `initialize` offers a client that pulls.
pub(crate) fn provider() -> DiagnosticServerCapabilities {
    DiagnosticServerCapabilities::Options(DiagnosticOptions {
        identifier: Some(SOURCE.to_string()),
        // A client made in one module changes findings in the modules that import it.
        inter_file_dependencies: true,
        workspace_diagnostics: true,
        work_done_progress_options: WorkDoneProgressOptions::default(),
    })
}

impl PullState {
    pub(crate) fn set_client_pulls(&self, pulls: bool) {
        self.client_pulls.store(pulls, Ordering::SeqCst);
    }

    pub(crate) fn client_pulls(&self) -> bool {
        self.client_pulls.load(Ordering::SeqCst)
    }
}

/// The first scan of the workspace is done: workspace pulls may be answered.
pub(crate) fn workspace_indexed(backend: &Backend) {
    backend.pull.indexed.store(true, Ordering::SeqCst);
    reports_may_have_changed(backend, false);
}

/// Something changed that may change reports (facts, files on disk, settings, a
/// document closed): wake a waiting workspace pull, and with `refresh`, ask the client
/// to pull its documents again. Nothing for a client that is pushed to.
pub(crate) fn reports_may_have_changed(backend: &Backend, refresh: bool) {
    if !backend.pull.client_pulls() {
        return;
    }
    backend.pull.changes.send_modify(|count| *count += 1);
    if refresh {
        let client = backend.client.clone();
        // Not awaited: the answer says nothing, and the handler must not wait for it.
        tokio::spawn(async move {
            if let Err(error) = client.workspace_diagnostic_refresh().await {
                tracing::debug!(%error, "the client did not take a diagnostic refresh");
            }
        });
    }
}

/// `textDocument/diagnostic`: an open document's findings for its current text, or a
/// file's on disk when it is not open.
pub(super) async fn document_diagnostic(
    backend: &Backend,
    params: DocumentDiagnosticParams,
) -> Result<DocumentDiagnosticReportResult> {
    let uri = params.text_document.uri;
    let diagnostics = if let Some(snapshot) = backend.snapshot(&uri) {
        off_the_async_threads(move || {
            let findings = sync::current_findings(
                &snapshot.open,
                &snapshot.settings,
                snapshot.workspace.as_ref(),
            );
            let rope = &snapshot.open.document.rope;
            findings
                .iter()
                .map(|finding| to_diagnostic(finding, rope, snapshot.encoding))
                .collect::<Vec<_>>()
        })
        .await?
    } else {
        let absolute = uri.to_file_path().map(|path| path.into_owned());
        let file = absolute.and_then(|absolute| Some((Language::from_path(&absolute)?, absolute)));
        match (backend.handle(), file) {
            (Some(handle), Some((language, absolute))) => {
                let settings = backend.settings();
                let report = off_the_async_threads(move || {
                    disk_report(&handle, &absolute, language, &settings, handle.encoding())
                })
                .await?;
                report.map_or_else(Vec::new, |report| report.diagnostics.clone())
            }
            _ => Vec::new(), // not a file stackaudit audits
        }
    };
    let result_id = result_id_of(&diagnostics);
    if params.previous_result_id.as_deref() == Some(result_id.as_str()) {
        return Ok(DocumentDiagnosticReportResult::Report(
            DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
                related_documents: None,
                unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                    result_id,
                },
            }),
        ));
    }
    Ok(full_document_report(diagnostics, result_id))
}

fn full_document_report(
    diagnostics: Vec<Diagnostic>,
    result_id: String,
) -> DocumentDiagnosticReportResult {
    DocumentDiagnosticReportResult::Report(DocumentDiagnosticReport::Full(
        RelatedFullDocumentDiagnosticReport {
            related_documents: None,
            full_document_diagnostic_report: FullDocumentDiagnosticReport {
                result_id: Some(result_id),
                items: diagnostics,
            },
        },
    ))
}

/// `workspace/diagnostic`: every audited file of the workspace folders that is not open
/// in the editor (open documents are pulled one by one): in full when it has findings
/// and the client holds no report of it, or holds another; `unchanged` when the client
/// holds this one. A file the client holds a report of that has no findings now, or is
/// gone, gets an empty report. With nothing new, the request waits for a change.
pub(super) async fn workspace_diagnostic(
    backend: &Backend,
    params: WorkspaceDiagnosticParams,
) -> Result<WorkspaceDiagnosticReportResult> {
    let previous: Arc<HashMap<Uri, String>> = Arc::new(
        params
            .previous_result_ids
            .into_iter()
            .map(|known| (known.uri, known.value))
            .collect(),
    );
    let mut changes = backend.pull.changes.subscribe();
    loop {
        changes.borrow_and_update();
        if !backend.pull.indexed.load(Ordering::SeqCst) {
            if changes.changed().await.is_err() {
                return Ok(workspace_report(Vec::new()));
            }
            continue;
        }
        let Some(handle) = backend.handle() else {
            return Ok(workspace_report(Vec::new()));
        };
        let known = Arc::clone(&previous);
        let items = off_the_async_threads(move || workspace_items(&handle, &known)).await?;
        let first = !backend.pull.answered_workspace.swap(true, Ordering::SeqCst);
        let news = items
            .iter()
            .any(|item| matches!(item, WorkspaceDocumentDiagnosticReport::Full(_)));
        if first || news || changes.changed().await.is_err() {
            return Ok(workspace_report(items));
        }
    }
}

fn workspace_report(
    items: Vec<WorkspaceDocumentDiagnosticReport>,
) -> WorkspaceDiagnosticReportResult {
    WorkspaceDiagnosticReportResult::Report(WorkspaceDiagnosticReport { items })
}

/// The items of a workspace report, against what the client holds (`previous`).
fn workspace_items(
    backend: &Backend,
    previous: &HashMap<Uri, String>,
) -> Vec<WorkspaceDocumentDiagnosticReport> {
    use rayon::iter::{IntoParallelIterator, ParallelIterator};
    let settings = backend.settings();
    let encoding = backend.encoding();
    let open: HashSet<Uri> = backend
        .documents
        .iter()
        .map(|open| open.key().clone())
        .collect();
    let mut files = Vec::new();
    workspace::walk_folders(&backend.folders(), &settings, |absolute, language| {
        files.push((absolute, language));
    });
    files.sort();
    files.dedup();
    // Reports of files gone from the workspace are not kept.
    if let Ok(mut reports) = backend.pull.on_disk.lock() {
        let walked: HashSet<&Path> = files.iter().map(|(path, _)| path.as_path()).collect();
        reports.retain(|path, _| walked.contains(path.as_path()));
    }
    let reports: Vec<(Uri, Option<Arc<DiskReport>>)> = files
        .into_par_iter()
        .filter_map(|(absolute, language)| {
            let uri = Uri::from_file_path(&absolute)?;
            if open.contains(&uri) {
                return None;
            }
            let report = disk_report(backend, &absolute, language, &settings, encoding);
            Some((uri, report))
        })
        .collect();
    let mut reported = HashSet::new();
    let mut items = Vec::new();
    for (uri, report) in reports {
        let (result_id, diagnostics) = match &report {
            Some(report) => (report.result_id.clone(), report.diagnostics.as_slice()),
            None => (result_id_of(&[]), &[][..]),
        };
        let held = previous.get(&uri);
        if diagnostics.is_empty() && held.is_none() {
            continue; // nothing to say of it, and nothing to take back
        }
        reported.insert(uri.clone());
        items.push(workspace_item(uri, result_id, diagnostics, held));
    }
    // Files the client holds reports of that are gone (or now excluded): emptied.
    let empty = result_id_of(&[]);
    for (uri, held) in previous {
        if !reported.contains(uri) && !open.contains(uri) {
            items.push(workspace_item(uri.clone(), empty.clone(), &[], Some(held)));
        }
    }
    items
}

fn workspace_item(
    uri: Uri,
    result_id: String,
    diagnostics: &[Diagnostic],
    held: Option<&String>,
) -> WorkspaceDocumentDiagnosticReport {
    if held == Some(&result_id) {
        return WorkspaceDocumentDiagnosticReport::Unchanged(
            WorkspaceUnchangedDocumentDiagnosticReport {
                uri,
                version: None,
                unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                    result_id,
                },
            },
        );
    }
    WorkspaceDocumentDiagnosticReport::Full(WorkspaceFullDocumentDiagnosticReport {
        uri,
        version: None,
        full_document_diagnostic_report: FullDocumentDiagnosticReport {
            result_id: Some(result_id),
            items: diagnostics.to_vec(),
        },
    })
}

/// The report of the file at `absolute` as it is on disk, audited as `check` audits it
/// (`None`: unreadable, not text, or nested deeper than the parser takes). Kept, and
/// reused while the file, the settings, the answers its audit read of other modules
/// and the client libraries it reaches are all the same.
fn disk_report(
    backend: &Backend,
    absolute: &Path,
    language: Language,
    settings: &Arc<Settings>,
    encoding: Encoding,
) -> Option<Arc<DiskReport>> {
    let metadata = std::fs::metadata(absolute).ok()?;
    let (modified, length) = (metadata.modified().ok(), metadata.len());
    let view = backend.workspace_view(absolute);
    let kept = backend
        .pull
        .on_disk
        .lock()
        .ok()
        .and_then(|reports| reports.get(absolute).cloned());
    let still_holds = |report: &DiskReport| {
        Arc::ptr_eq(&report.settings, settings)
            && report.libraries == view.libraries
            && report
                .reads
                .iter()
                .all(|read| read.holds(&backend.index, absolute))
    };
    if let Some(report) = &kept
        && report.modified == modified
        && report.length == length
        && still_holds(report)
    {
        return kept;
    }
    let bytes = std::fs::read(absolute).ok()?;
    let hash = xxh3_128(&bytes);
    if let Some(report) = kept.filter(|report| report.hash == hash && still_holds(report)) {
        return Some(report); // touched, not changed
    }
    let (source, _) = source_text::decode(language, bytes).ok()?;
    parser_limits::check(language, [source.as_bytes()]).ok()?;
    let link = std::rc::Rc::new(WorkspaceLink::new(
        Arc::clone(&backend.index),
        absolute.to_path_buf(),
    ));
    let relative = backend.workspace_relative(absolute);
    let findings = audit_text_in_workspace(
        language,
        &source,
        settings,
        Some(&relative),
        link.clone(),
        view.libraries,
    );
    let rope = Rope::from_str(&source);
    let diagnostics: Vec<Diagnostic> = findings
        .iter()
        .map(|finding| to_diagnostic(finding, &rope, encoding))
        .collect();
    let report = Arc::new(DiskReport {
        modified,
        length,
        hash,
        settings: Arc::clone(settings),
        libraries: view.libraries,
        reads: link.reads(),
        result_id: result_id_of(&diagnostics),
        diagnostics,
    });
    if let Ok(mut reports) = backend.pull.on_disk.lock() {
        reports.insert(absolute.to_path_buf(), Arc::clone(&report));
    }
    Some(report)
}

/// A report's id: the hash of what it says, so the same diagnostics get the same id.
fn result_id_of(diagnostics: &[Diagnostic]) -> String {
    let bytes = serde_json::to_vec(diagnostics).unwrap_or_default();
    format!("{:016x}", xxh3_64(&bytes))
}
