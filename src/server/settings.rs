//! Settings for the server: the workspace's `stackaudit.toml` / `pyproject.toml`, with
//! the editor's settings (`initializationOptions`, `workspace/didChangeConfiguration`)
//! on top. Problems are shown to the user once and the server runs on what is valid.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use tower_lsp_server::ls_types::{
    DidChangeConfigurationParams, DidChangeWatchedFilesRegistrationOptions, FileSystemWatcher,
    GlobPattern, MessageType, Registration,
};

use super::{Backend, sync};
use crate::config::{HttpOptions, Options, RedisOptions, Settings, discover};
use crate::rules::{Severity, rule_by_id};

/// Read editor settings leniently: keys stackaudit does not know (an editor's own
/// `path`, `trace`, ...) are skipped; bad values become warnings.
pub(crate) fn options_from_client(value: &Value) -> (Options, Vec<String>) {
    let value = value.get("stackaudit").unwrap_or(value);
    let mut warnings = Vec::new();
    let mut ids = |key: &str| -> Option<Vec<String>> {
        let list = value.get(key)?.as_array()?;
        let mut ids = Vec::new();
        for id in list.iter().filter_map(Value::as_str) {
            if rule_by_id(id).is_some() {
                ids.push(id.to_string());
            } else {
                warnings.push(format!("stackaudit: unknown rule id `{id}` in `{key}`"));
            }
        }
        Some(ids)
    };
    let select = ids("select");
    let ignore = ids("ignore");
    let severity = value.get("severity").and_then(Value::as_object).map(|map| {
        let mut severities = BTreeMap::new();
        for (id, level) in map {
            let parsed: Option<Severity> = serde_json::from_value(level.clone()).ok();
            match (rule_by_id(id), parsed) {
                (Some(_), Some(level)) => {
                    severities.insert(id.clone(), level);
                }
                _ => warnings.push(format!(
                    "stackaudit: ignoring severity override `{id}` = {level}"
                )),
            }
        }
        severities
    });
    // A number under either spelling of `section.key` (camelCase from editors).
    let seconds = |section: &str, camel: &str, snake: &str| {
        value
            .get(section)
            .and_then(|table| table.get(camel).or_else(|| table.get(snake)))
            .and_then(Value::as_u64)
    };
    let ttl = seconds("redis", "defaultTtlSeconds", "default_ttl_seconds");
    let http_timeout = seconds("http", "defaultTimeoutSeconds", "default_timeout_seconds");
    let options = Options {
        select,
        ignore,
        severity,
        redis: ttl.map(|ttl| RedisOptions {
            default_ttl_seconds: Some(ttl),
        }),
        http: http_timeout.map(|timeout| HttpOptions {
            default_timeout_seconds: Some(timeout),
        }),
        exclude: None,
    };
    (options, warnings)
}

/// Re-read the config file and the editor settings, then re-audit open documents.
pub(super) async fn reload(backend: &Backend) {
    let root = backend.root.read().ok().and_then(|root| root.clone());
    let mut problems = Vec::new();
    let file_options = match root.as_deref().map(discover) {
        Some(Ok(loaded)) => loaded.options,
        Some(Err(error)) => {
            problems.push(format!("stackaudit: {error}; using default settings"));
            Options::default()
        }
        None => Options::default(),
    };
    let client_value = backend
        .client_settings
        .read()
        .map(|value| value.clone())
        .unwrap_or_default();
    let (client_options, warnings) = options_from_client(&client_value);
    problems.extend(warnings);
    let settings =
        Settings::from_options(file_options.overlay(client_options)).unwrap_or_else(|error| {
            problems.push(format!("stackaudit: {error}; using default settings"));
            Settings::default()
        });
    if let Ok(mut slot) = backend.settings.write() {
        *slot = Arc::new(settings);
    }
    for problem in problems {
        tracing::warn!("{problem}");
        backend
            .client
            .show_message(MessageType::WARNING, problem)
            .await;
    }
    sync::audit_all(backend).await;
}

pub(super) async fn did_change_configuration(
    backend: &Backend,
    params: DidChangeConfigurationParams,
) {
    // Clients that use pull configuration send `null` here; keep what we had then.
    if !params.settings.is_null()
        && let Ok(mut slot) = backend.client_settings.write()
    {
        *slot = params.settings;
    }
    reload(backend).await;
}

/// Ask the client to tell us when a configuration file changes, where it can.
pub(super) async fn watch_config_files(backend: &Backend) {
    if !backend
        .can_watch_files
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        return;
    }
    let watchers = ["**/stackaudit.toml", "**/pyproject.toml"]
        .into_iter()
        .map(|pattern| FileSystemWatcher {
            glob_pattern: GlobPattern::String(pattern.to_string()),
            kind: None,
        })
        .collect();
    let options = DidChangeWatchedFilesRegistrationOptions { watchers };
    let registration = Registration {
        id: "stackaudit-config-files".to_string(),
        method: "workspace/didChangeWatchedFiles".to_string(),
        register_options: serde_json::to_value(options).ok(),
    };
    if let Err(error) = backend.client.register_capability(vec![registration]).await {
        tracing::warn!(%error, "could not watch configuration files; edits to them apply after a restart");
    }
}
