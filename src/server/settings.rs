//! Settings for the server: the workspace's `stackaudit.toml` / `pyproject.toml` and
//! the editor's settings (`initializationOptions`, then `workspace/didChangeConfiguration`),
//! combined key by key as `configurationPreference` says. Only keys the user set take
//! part: an unset (null or absent) editor key never hides the project's file. Problems
//! are shown to the user once and the server runs on what is valid.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use tower_lsp_server::ls_types::{
    DidChangeConfigurationParams, DidChangeWatchedFilesRegistrationOptions, FileSystemWatcher,
    GlobPattern, MessageType, Registration,
};

use super::{Backend, sync};
use crate::config::{HttpOptions, Options, RedisOptions, Settings, discover, seconds_for_fixes};
use crate::rules::settings::GeneratedFiles;
use crate::rules::{Severity, rule_by_id};

/// Which side wins where the editor and the project's configuration file both set a key
/// (the names and meanings of Ruff's server setting of the same name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ConfigurationPreference {
    /// Editor settings win; the file fills in the keys the editor leaves unset.
    #[default]
    EditorFirst,
    /// The file wins; editor settings fill in the keys the file leaves unset.
    FilesystemFirst,
    /// The file is not read at all.
    EditorOnly,
}

impl ConfigurationPreference {
    fn parse(value: &str) -> Option<ConfigurationPreference> {
        match value {
            "editorFirst" => Some(ConfigurationPreference::EditorFirst),
            "filesystemFirst" => Some(ConfigurationPreference::FilesystemFirst),
            "editorOnly" => Some(ConfigurationPreference::EditorOnly),
            _ => None,
        }
    }
}

/// Sub-tables whose keys are settings of their own (`redis.defaultTtlSeconds`), so a
/// change that names one key of them leaves the others. Every other value, the
/// `severity` map included, is one setting and is replaced whole.
const SECTIONS: [&str; 2] = ["redis", "http"];

/// The stackaudit section of what an editor sent: under `stackaudit` when the client
/// sends its whole configuration, else the value itself.
fn own_section(value: &Value) -> &Value {
    value.get("stackaudit").unwrap_or(value)
}

/// Lay `change` over the editor settings known so far: a key it names with a value
/// replaces the old one, a key it names with `null` is unset again (the project's file
/// then applies), and a key it leaves out keeps what it had.
pub(crate) fn merge_editor_settings(known: &mut Map<String, Value>, change: &Value) {
    let Some(change) = own_section(change).as_object() else {
        return;
    };
    for (key, value) in change {
        match value {
            Value::Null => {
                known.remove(key);
            }
            Value::Object(inner) if SECTIONS.contains(&key.as_str()) => {
                let slot = known
                    .entry(key.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(section) = slot {
                    merge_editor_settings(section, &Value::Object(inner.clone()));
                    if section.is_empty() {
                        known.remove(key);
                    }
                }
            }
            _ => {
                known.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Read editor settings leniently: keys stackaudit does not know (an editor's own
/// `path`, `trace`, ...) are skipped; bad values become warnings and count as unset.
pub(crate) fn options_from_client(
    value: &Value,
) -> (Options, ConfigurationPreference, Vec<String>) {
    let value = own_section(value);
    let mut warnings = Vec::new();
    let mut ids = |key: &str| -> Option<Vec<String>> {
        let list = value.get(key)?;
        let Some(list) = list.as_array() else {
            if !list.is_null() {
                warnings.push(format!(
                    "stackaudit: `{key}` must be a list of rule ids, not {list}"
                ));
            }
            return None;
        };
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
            if level.is_null() {
                continue;
            }
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
    // A whole number of seconds, at least 1, under either spelling of `section.key`
    // (camelCase from editors); a fix that wrote `ex=0` or `timeout=0` would fail.
    let mut seconds = |section: &str, camel: &str, snake: &str| {
        let raw = value
            .get(section)
            .and_then(|table| table.get(camel).or_else(|| table.get(snake)))
            .filter(|raw| !raw.is_null())?;
        match seconds_for_fixes(raw, raw.as_i64()) {
            Ok(seconds) => Some(seconds),
            Err(problem) => {
                warnings.push(format!(
                    "stackaudit: `{section}.{camel}` {problem}; ignoring it"
                ));
                None
            }
        }
    };
    let ttl = seconds("redis", "defaultTtlSeconds", "default_ttl_seconds");
    let http_timeout = seconds("http", "defaultTimeoutSeconds", "default_timeout_seconds");
    let preference = match value.get("configurationPreference") {
        None | Some(Value::Null) => ConfigurationPreference::default(),
        Some(raw) => match raw.as_str().and_then(ConfigurationPreference::parse) {
            Some(preference) => preference,
            None => {
                warnings.push(format!(
                    "stackaudit: `configurationPreference` is one of \"editorFirst\", \"filesystemFirst\", \"editorOnly\", not {raw}; using \"editorFirst\""
                ));
                ConfigurationPreference::default()
            }
        },
    };
    let generated_files = match value.get("generatedFiles") {
        None | Some(Value::Null) => None,
        Some(raw) => match raw.as_str().and_then(GeneratedFiles::parse) {
            Some(generated) => Some(generated),
            None => {
                warnings.push(format!(
                    "stackaudit: `generatedFiles` is \"security\" or \"all\", not {raw}; ignoring it"
                ));
                None
            }
        },
    };
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
        generated_files,
        // The editor never runs `check`: its cache folder is no editor setting.
        cache_dir: None,
    };
    (options, preference, warnings)
}

/// Re-read the config file and the editor settings, then re-audit open documents.
pub(super) async fn reload(backend: &Backend) {
    let root = backend.root.read().ok().and_then(|root| root.clone());
    let client_value = backend
        .client_settings
        .read()
        .map(|known| Value::Object(known.clone()))
        .unwrap_or_default();
    let (editor_options, preference, mut problems) = options_from_client(&client_value);
    let file_options = match root.as_deref() {
        _ if preference == ConfigurationPreference::EditorOnly => Options::default(),
        None => Options::default(),
        Some(root) => match discover(root) {
            Ok(loaded) => loaded.options,
            Err(error) => {
                problems.push(format!("stackaudit: {error}; using default settings"));
                Options::default()
            }
        },
    };
    let combined = match preference {
        ConfigurationPreference::FilesystemFirst => editor_options.overlay(file_options),
        _ => file_options.overlay(editor_options),
    };
    let settings = Settings::from_options(combined).unwrap_or_else(|error| {
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
    // Clients that use pull configuration send `null` here: that changes nothing.
    if let Ok(mut known) = backend.client_settings.write() {
        merge_editor_settings(&mut known, &params.settings);
    }
    reload(backend).await;
}

/// The files whose changes on disk the server follows: configuration files (settings
/// are read again), Python modules and the manifests that declare a project's
/// requirements (the index reads them again), and the other files
/// it audits (their reports in a workspace pull).
pub(super) const WATCHED: &[&str] = &[
    "**/stackaudit.toml",
    "**/pyproject.toml",
    "**/{setup.py,setup.cfg,Pipfile}",
    "**/requirements*.{txt,in}",
    "**/requirements/*.{txt,in}",
    "**/*.py",
    "**/*.pyi",
    "**/{Dockerfile,Containerfile}*",
    "**/*.{dockerfile,containerfile}",
    "**/*compose*.{yml,yaml}",
    "**/*.{sql,pgsql}",
];

/// Ask the client to tell us when a file of `WATCHED` changes, where it can.
pub(super) async fn watch_files(backend: &Backend) {
    if !backend
        .can_watch_files
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        return;
    }
    let watchers = WATCHED
        .iter()
        .map(|pattern| FileSystemWatcher {
            glob_pattern: GlobPattern::String(pattern.to_string()),
            kind: None,
        })
        .collect();
    let options = DidChangeWatchedFilesRegistrationOptions { watchers };
    let registration = Registration {
        id: "stackaudit-watched-files".to_string(),
        method: "workspace/didChangeWatchedFiles".to_string(),
        register_options: serde_json::to_value(options).ok(),
    };
    if let Err(error) = backend.client.register_capability(vec![registration]).await {
        tracing::warn!(%error, "could not watch files; edits to configuration files and unopened modules apply after a restart");
    }
}
