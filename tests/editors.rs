//! The editor clients ask for exactly the documents the server audits: every language
//! id they list is one the server detects (plain `yaml` only by a compose file's name),
//! and every language the server audits is listed. The lists grow as languages land.

use std::path::Path;

use stackaudit::language::Language;

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative))
        .unwrap_or_else(|error| panic!("{relative}: {error}"))
}

/// The quoted strings between `start` and the next `end` in `text`.
fn quoted_between(text: &str, start: &str, end: &str) -> Vec<String> {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` not found"));
    let rest = &text[from + start.len()..];
    let block = &rest[..rest.find(end).unwrap_or(rest.len())];
    block
        .lines()
        .map(|line| line.split("--").next().unwrap_or(line))
        .flat_map(|line| {
            line.split(['\'', '"'])
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Which language the server makes of a listed id (`yaml` judged as a compose file,
/// the only YAML it audits).
fn audited(language_id: &str) -> Option<Language> {
    let path = (language_id == "yaml").then(|| Path::new("/project/compose.yml"));
    Language::detect(language_id, path)
}

fn assert_lists_exactly_what_is_audited(client: &str, ids: &[String]) {
    assert!(!ids.is_empty(), "{client}: no language ids found");
    for id in ids {
        assert!(
            audited(id).is_some(),
            "{client} asks for `{id}`, which the server does not audit"
        );
    }
    for language in Language::ALL {
        assert!(
            ids.iter().any(|id| audited(id) == Some(*language)),
            "{client} lists no language id for {language:?}"
        );
    }
}

#[test]
fn neovim_filetypes_are_what_the_server_audits() {
    let config = read("editors/neovim/lsp/stackaudit.lua");
    let filetypes = quoted_between(&config, "filetypes = {", "}");
    assert_eq!(
        filetypes,
        ["python", "dockerfile", "yaml.docker-compose", "yaml", "sql"]
    );
    assert_lists_exactly_what_is_audited("editors/neovim/lsp/stackaudit.lua", &filetypes);
}

#[test]
fn vscode_selector_and_activation_are_what_the_server_audits() {
    let extension = read("editors/vscode/src/extension.ts");
    let selector = quoted_between(&extension, "const DOCUMENT_SELECTOR = [\n  ...[", "]");
    assert_lists_exactly_what_is_audited("the VS Code document selector", &selector);
    let manifest: serde_json::Value =
        serde_json::from_str(&read("editors/vscode/package.json")).expect("package.json");
    let activation: Vec<String> = manifest["activationEvents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|event| {
            event
                .as_str()?
                .strip_prefix("onLanguage:")
                .map(str::to_string)
        })
        .collect();
    assert_eq!(
        activation, selector,
        "activation events and document selector differ"
    );
}
