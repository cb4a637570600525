//! The language server: state shared by the handlers and the `LanguageServer` impl,
//! which only delegates, one module per LSP concern:
//!
//! - `capabilities`: what `initialize` answers;
//! - `settings`: config file + editor settings, merged;
//! - `sync`: open/change/close, auditing the newest version and publishing;
//! - `diagnostics`: findings as LSP diagnostics, with the fix in `data`;
//! - `code_action`: quick fixes, ignore comments and fix-all;
//! - `hover`: rule docs plus the before/after of the fix under the cursor;
//! - `workspace`: the index of the workspace folders, kept live, and the re-audits
//!   of open documents when facts they read change;
//! - `pull`: pull diagnostics, of documents and of the whole workspace, for clients
//!   that pull.

mod capabilities;
mod code_action;
mod definition;
mod diagnostics;
mod hover;
mod pull;
mod settings;
mod sync;
mod transport;
mod workspace;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use dashmap::DashMap;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::audit::incremental::AuditCache;
use crate::config::Settings;
use crate::document::Document;
use crate::document::position::Encoding;
use crate::index::WorkspaceIndex;
use crate::rules::Finding;

/// A document, the findings of its last audit (tagged with the version audited) and
/// what that audit learnt for the next one. Cloning it is cheap (rope and tree share
/// their nodes): requests work on a clone, off the document store.
#[derive(Clone)]
pub(crate) struct OpenDocument {
    pub document: Document,
    pub findings: Option<(i32, Arc<Vec<Finding>>)>,
    pub audit_cache: Arc<std::sync::Mutex<AuditCache>>,
    /// The JSON of the diagnostics last published for it, reused where unchanged.
    pub published: Arc<std::sync::Mutex<diagnostics::PublishedJson>>,
    /// How long its last audit and publication took (`Duration::MAX` before the first).
    pub last_audit: std::time::Duration,
    /// Counts the changes applied, so an audit can tell it is still current even when
    /// a client sends a version number that went backwards.
    pub revision: u64,
    /// The file's path below the workspace root (or its full path outside one): rules
    /// about test files and entry points read it.
    pub path: Option<Arc<std::path::Path>>,
    /// Its absolute path, under which the workspace index knows it.
    pub absolute: Option<Arc<std::path::Path>>,
    /// The `revision` whose text the index holds the facts of (`workspace`).
    pub facts_revision: u64,
    /// When it was last opened or changed (`Backend::next_edit_stamp`): the documents
    /// edited longest ago lose their trees first.
    pub last_edited: u64,
}

pub struct Backend {
    client: Client,
    documents: DashMap<Uri, OpenDocument>,
    encoding: OnceLock<Encoding>,
    settings: RwLock<Arc<Settings>>,
    root: RwLock<Option<PathBuf>>,
    /// The editor settings the user set (`initializationOptions`, then each
    /// `didChangeConfiguration` merged key by key), combined with the config file on
    /// every reload.
    client_settings: RwLock<serde_json::Map<String, serde_json::Value>>,
    shutdown_requested: Arc<AtomicBool>,
    /// Whether the client lets us register file watchers (for configuration files).
    can_watch_files: AtomicBool,
    /// Whether the client can fetch a code action's edit later (`codeAction/resolve`).
    client_resolves_edits: AtomicBool,
    /// Held while checking a result is current and sending it (see `sync`).
    publish_lock: tokio::sync::Mutex<()>,
    /// Framed messages written straight to the client, bypassing the framework's
    /// JSON value tree: diagnostics are serialized once, on a blocking thread.
    frames_out: tokio::sync::mpsc::UnboundedSender<Vec<u8>>,
    /// Counts opens and changes, to order documents by when they were last edited.
    edit_stamps: std::sync::atomic::AtomicU64,
    /// The facts of every module of the workspace folders (`workspace`).
    index: Arc<WorkspaceIndex>,
    /// The workspace folders, all of them.
    folders: RwLock<Vec<PathBuf>>,
    /// What the modules import, and the client libraries each reaches through imports.
    imports: std::sync::Mutex<workspace::ImportGraph>,
    /// The client libraries each module reaches through imports, from `imports`.
    libraries_reached: RwLock<Arc<std::collections::HashMap<PathBuf, crate::rules::Libraries>>>,
    /// Whether the client shows `$/progress` (`window.workDoneProgress`).
    shows_progress: AtomicBool,
    /// This backend, for tasks that outlive a handler (indexing, re-audits).
    this: OnceLock<std::sync::Weak<Backend>>,
    /// Pull diagnostics: whether the client pulls, and the reports of unopened files.
    pull: pull::PullState,
    /// Counts the times kept findings were dropped (`sync::forget_findings`): an audit
    /// that began before keeps its findings only if none was dropped meanwhile.
    forgotten: std::sync::atomic::AtomicU64,
}

/// The server as the LSP framework holds it: handlers see the `Backend`, and tasks
/// that outlive a handler hold it too.
pub struct Handle(Arc<Backend>);

impl std::ops::Deref for Handle {
    type Target = Backend;

    fn deref(&self) -> &Backend {
        &self.0
    }
}

impl Backend {
    pub(crate) fn next_edit_stamp(&self) -> u64 {
        self.edit_stamps
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// `path` below the workspace root, or as it is when outside it (or with no root).
    pub(crate) fn workspace_relative(&self, path: &std::path::Path) -> Arc<std::path::Path> {
        let root = self.root.read().ok().and_then(|root| root.clone());
        let relative = root
            .as_deref()
            .and_then(|root| path.strip_prefix(root).ok())
            .unwrap_or(path);
        Arc::from(relative)
    }
    pub fn new(
        client: Client,
        shutdown_requested: Arc<AtomicBool>,
        frames_out: tokio::sync::mpsc::UnboundedSender<Vec<u8>>,
    ) -> Backend {
        Backend {
            frames_out,
            client,
            documents: DashMap::new(),
            encoding: OnceLock::new(),
            settings: RwLock::new(Arc::new(Settings::default())),
            root: RwLock::new(None),
            client_settings: RwLock::new(serde_json::Map::new()),
            shutdown_requested,
            can_watch_files: AtomicBool::new(false),
            client_resolves_edits: AtomicBool::new(false),
            publish_lock: tokio::sync::Mutex::new(()),
            edit_stamps: std::sync::atomic::AtomicU64::new(0),
            index: Arc::new(WorkspaceIndex::new()),
            folders: RwLock::new(Vec::new()),
            imports: std::sync::Mutex::default(),
            libraries_reached: RwLock::default(),
            shows_progress: AtomicBool::new(false),
            this: OnceLock::new(),
            pull: pull::PullState::default(),
            forgotten: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The backend as a task that outlives the handler holds it.
    pub(crate) fn handle(&self) -> Option<Arc<Backend>> {
        self.this.get().and_then(std::sync::Weak::upgrade)
    }

    pub(crate) fn encoding(&self) -> Encoding {
        self.encoding.get().copied().unwrap_or_default()
    }

    /// The workspace folders, all of them.
    pub(crate) fn folders(&self) -> Vec<PathBuf> {
        self.folders
            .read()
            .map(|folders| folders.clone())
            .unwrap_or_default()
    }

    pub(crate) fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .map(|settings| Arc::clone(&settings))
            .unwrap_or_default()
    }
}

/// What a request about one document reads of the server, copied out so its work can
/// run on a blocking thread without holding the document store.
pub(crate) struct Snapshot {
    pub open: OpenDocument,
    pub settings: Arc<Settings>,
    pub encoding: Encoding,
    /// What the document's audit reads of the workspace.
    pub workspace: Option<crate::index::WorkspaceView>,
}

impl Backend {
    fn snapshot(&self, uri: &Uri) -> Option<Snapshot> {
        let Some(open) = self.documents.get(uri).map(|open| open.clone()) else {
            tracing::debug!(uri = uri.as_str(), "request for a document not open here");
            return None;
        };
        let workspace = open
            .absolute
            .as_deref()
            .map(|absolute| self.workspace_view(absolute));
        Some(Snapshot {
            open,
            settings: self.settings(),
            encoding: self.encoding(),
            workspace,
        })
    }
}

/// Run a request's work on a blocking thread: a long one (fix-all of a large file) holds
/// neither an async thread nor the document store, and `$/cancelRequest`, which drops
/// this future, is answered at once. A panic in the work is an internal error.
async fn off_the_async_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        tracing::error!(%error, "request failed");
        tower_lsp_server::jsonrpc::Error::internal_error()
    })
}

impl LanguageServer for Handle {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        Ok(capabilities::initialize(self, params))
    }

    async fn initialized(&self, _: InitializedParams) {
        settings::watch_files(self).await;
        settings::reload(self).await;
        workspace::start_indexing(self);
    }

    async fn shutdown(&self) -> Result<()> {
        self.shutdown_requested.store(true, Ordering::SeqCst);
        // A workspace pull waiting for changes answers now.
        pull::reports_may_have_changed(self, false);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        sync::did_open(self, params).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        sync::did_change(self, params).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        sync::did_close(self, params).await;
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        settings::did_change_configuration(self, params).await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        workspace::did_change_watched_files(self, params).await;
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let Some(snapshot) = self.snapshot(&params.text_document.uri) else {
            return Ok(None);
        };
        let lazy_fix_all = self.client_resolves_edits.load(Ordering::SeqCst);
        off_the_async_threads(move || code_action::code_action(&snapshot, lazy_fix_all, params))
            .await
            .map(Some)
    }

    async fn code_action_resolve(&self, action: CodeAction) -> Result<CodeAction> {
        let Some(snapshot) = code_action::fix_all_uri(&action).and_then(|uri| self.snapshot(&uri))
        else {
            return Ok(action); // other actions already carry their edits
        };
        off_the_async_threads(move || code_action::resolve(&snapshot, action)).await
    }

    async fn diagnostic(
        &self,
        params: DocumentDiagnosticParams,
    ) -> Result<DocumentDiagnosticReportResult> {
        pull::document_diagnostic(self, params).await
    }

    async fn workspace_diagnostic(
        &self,
        params: WorkspaceDiagnosticParams,
    ) -> Result<WorkspaceDiagnosticReportResult> {
        pull::workspace_diagnostic(self, params).await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let uri = &params.text_document_position_params.text_document.uri;
        let Some(snapshot) = self.snapshot(uri) else {
            return Ok(None);
        };
        off_the_async_threads(move || {
            let position = params.text_document_position_params.position;
            hover::hover(&snapshot, params).or_else(|| definition::hover(&snapshot, position))
        })
        .await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let uri = &params.text_document_position_params.text_document.uri;
        let Some(snapshot) = self.snapshot(uri) else {
            return Ok(None);
        };
        off_the_async_threads(move || definition::goto_definition(&snapshot, params)).await
    }
}

/// When stdout is a pipe, make it hold 1 MiB instead of Linux's default 64 KiB: a
/// `publishDiagnostics` of hundreds of findings is a few hundred kilobytes, and with
/// the small pipe the writer and the editor take turns four or more times per message
/// (~0.7 ms on the benchmark machine). Best effort: other systems and failures are left
/// as they are.
pub fn widen_stdout_pipe() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: fcntl on our own stdout descriptor with an integer argument.
        let result = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_SETPIPE_SZ, 1 << 20) };
        if result < 0 {
            tracing::debug!("stdout pipe size unchanged (not a pipe, or not allowed)");
        }
    }
}

/// Serve LSP on `input`/`output` until `exit` (or until the client goes away);
/// returns whether `shutdown` came first (exit code 0 then, 1 otherwise, per the spec).
pub async fn serve<I, O>(input: I, output: O) -> bool
where
    I: tokio::io::AsyncRead + Unpin + Send + 'static,
    O: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    const PIPE_BYTES: usize = 1 << 16;
    let shutdown_requested = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&shutdown_requested);
    let (replies, pending_replies) = tokio::sync::mpsc::unbounded_channel();
    let frames_out = replies.clone();
    let (service, socket) = LspService::new(move |client| {
        let backend = Arc::new(Backend::new(client, flag, frames_out));
        let _ = backend.this.set(Arc::downgrade(&backend));
        Handle(backend)
    });

    let (filtered_input, server_input) = tokio::io::duplex(PIPE_BYTES);
    let (server_output, merged_output) = tokio::io::duplex(PIPE_BYTES);
    let mut input_task = tokio::spawn(transport::filter_input(input, filtered_input, replies));
    let output_task = tokio::spawn(transport::merge_output(
        merged_output,
        output,
        pending_replies,
    ));

    let serving = Server::new(server_input, server_output, socket).serve(service);
    tokio::select! {
        () = serving => {}
        // The client is gone: its requests still running (a fix-all of a large file) are
        // dropped instead of finished, so the process ends at once. Dropping `serving`
        // drops their futures; a blocking computation finishes detached.
        _ = &mut input_task => tracing::info!("the client closed the connection"),
    }
    // `serve` dropped its output pipe: the merger drains what is left and stops.
    let _ = output_task.await;
    input_task.abort();
    shutdown_requested.load(Ordering::SeqCst)
}
