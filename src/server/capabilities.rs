//! `initialize`: negotiate the position encoding, remember the workspace root and the
//! editor's settings, and say what the server can do.

use tower_lsp_server::ls_types::*;

use super::Backend;
use crate::document::position::Encoding;

pub const FIX_ALL_KIND: CodeActionKind = CodeActionKind::new("source.fixAll.stackaudit");

pub(super) fn initialize(backend: &Backend, params: InitializeParams) -> InitializeResult {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|general| general.position_encodings.as_deref());
    let encoding = Encoding::negotiate(offered);
    let _ = backend.encoding.set(encoding);
    let can_watch = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|workspace| workspace.did_change_watched_files.as_ref())
        .and_then(|watched| watched.dynamic_registration)
        .unwrap_or(false);
    let resolves_edits = params
        .capabilities
        .text_document
        .as_ref()
        .and_then(|text| text.code_action.as_ref())
        .and_then(|code_action| code_action.resolve_support.as_ref())
        .is_some_and(|support| support.properties.iter().any(|property| property == "edit"));
    backend
        .client_resolves_edits
        .store(resolves_edits, std::sync::atomic::Ordering::SeqCst);
    backend
        .can_watch_files
        .store(can_watch, std::sync::atomic::Ordering::SeqCst);

    #[allow(deprecated)] // `rootUri` is still what many clients send
    let root_uri = params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .map(|folder| folder.uri.clone())
        .or(params.root_uri.clone());
    let root = root_uri.and_then(|uri| uri.to_file_path().map(|path| path.into_owned()));
    // Every folder is indexed, not only the first.
    let mut folders: Vec<std::path::PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|folder| folder.uri.to_file_path().map(|path| path.into_owned()))
        .collect();
    if folders.is_empty() {
        folders.extend(root.clone());
    }
    if let Ok(mut slot) = backend.folders.write() {
        *slot = folders;
    }
    if let Ok(mut slot) = backend.root.write() {
        *slot = root;
    }
    let pulls = super::pull::client_pulls(&params.capabilities);
    backend.pull.set_client_pulls(pulls);
    let shows_progress = params
        .capabilities
        .window
        .as_ref()
        .and_then(|window| window.work_done_progress)
        .unwrap_or(false);
    backend
        .shows_progress
        .store(shows_progress, std::sync::atomic::Ordering::SeqCst);
    if let (Some(options), Ok(mut known)) = (
        params.initialization_options,
        backend.client_settings.write(),
    ) {
        super::settings::merge_editor_settings(&mut known, &options);
    }
    // Settings are loaded in `initialized`, where messages to the user may be sent.

    InitializeResult {
        capabilities: ServerCapabilities {
            position_encoding: Some(encoding.kind()),
            text_document_sync: Some(TextDocumentSyncCapability::Options(
                TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    ..TextDocumentSyncOptions::default()
                },
            )),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![
                    CodeActionKind::QUICKFIX,
                    CodeActionKind::SOURCE_FIX_ALL,
                    FIX_ALL_KIND,
                ]),
                resolve_provider: Some(true),
                ..CodeActionOptions::default()
            })),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            definition_provider: Some(OneOf::Left(true)),
            diagnostic_provider: pulls.then(super::pull::provider),
            ..ServerCapabilities::default()
        },
        server_info: Some(ServerInfo {
            name: "stackaudit".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
        offset_encoding: None,
    }
}
