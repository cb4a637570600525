//! Editor settings against the project's configuration file, over the real protocol:
//! only keys the user set apply, `configurationPreference` decides who wins where both
//! set a key, and `didChangeConfiguration` changes only what it names.

mod common;

use common::{TestClient, edits_of};
use serde_json::{Value, json};

const URI: &str = "file:///project/app/profiles.py";

/// A sync Redis write in `async def` (blocking-io-in-async and redis-key-without-ttl,
/// whose fix writes the configured TTL), then a blocking `requests` call with no timeout
/// (blocking-io-in-async and http-without-timeout).
const PROFILES: &str = "import redis\nimport requests\n\ncache = redis.Redis(socket_timeout=5)\n\n\nasync def fetch_profile(user_id):\n    cache.set(user_id, 1)\n    return requests.get(\"https://api.example.com/profiles\")\n";

/// The project's file: ignores one rule, lowers one severity, sets the TTL.
const PROJECT_FILE: &str = "ignore = [\"http-without-timeout\"]\n\n[severity]\nblocking-io-in-async = \"hint\"\n\n[redis]\ndefault_ttl_seconds = 900\n";

/// What the VS Code extension sends when the user has set nothing: every key, unset.
fn vscode_unset() -> Value {
    json!({
        "select": null,
        "ignore": null,
        "severity": null,
        "redis": {"defaultTtlSeconds": null},
        "http": {"defaultTimeoutSeconds": null},
        "configurationPreference": null,
        "path": "",
        "args": [],
        "trace": {"server": "off"}
    })
}

struct Session {
    client: TestClient,
    /// Kept alive for the session: the workspace root with its `stackaudit.toml`.
    _workspace: tempfile::TempDir,
    /// The diagnostics published last.
    latest: Vec<Value>,
}

/// A server whose workspace holds `PROJECT_FILE`, started with `init_options`, with
/// `PROFILES` open.
async fn session(init_options: Value) -> Session {
    let workspace = tempfile::tempdir().expect("tempdir");
    std::fs::write(workspace.path().join("stackaudit.toml"), PROJECT_FILE).expect("config");
    let root_uri = format!("file://{}", workspace.path().display());
    let mut client = TestClient::in_process();
    client
        .request(
            "initialize",
            json!({"processId": null, "rootUri": root_uri, "capabilities": {},
                   "initializationOptions": init_options}),
        )
        .await;
    client.notify("initialized", json!({})).await;
    client.open(URI, "python", 1, PROFILES).await;
    let latest = client.diagnostics(URI, 1).await;
    Session {
        client,
        _workspace: workspace,
        latest,
    }
}

impl Session {
    /// (rule, severity) of each finding published last, in order.
    fn findings(&self) -> Vec<(String, u64)> {
        self.latest
            .iter()
            .map(|diagnostic| {
                (
                    diagnostic["code"].as_str().unwrap_or_default().to_string(),
                    diagnostic["severity"].as_u64().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Send a configuration change and take the diagnostics its re-audit publishes.
    async fn change_configuration(&mut self, settings: Value) {
        self.client
            .notify(
                "workspace/didChangeConfiguration",
                json!({ "settings": settings }),
            )
            .await;
        self.latest = self.client.diagnostics(URI, 1).await;
    }

    /// The TTL that the Redis quick fix writes (`ex=N`).
    async fn ttl_in_redis_fix(&mut self) -> String {
        let redis: Vec<Value> = self
            .latest
            .iter()
            .filter(|diagnostic| diagnostic["code"] == "redis-key-without-ttl")
            .cloned()
            .collect();
        let range = redis[0]["range"].clone();
        let actions = self
            .client
            .code_actions(URI, range, json!(redis), Some(&["quickfix"]))
            .await;
        let edits: Vec<String> = actions
            .iter()
            .flat_map(|action| edits_of(action, URI))
            .filter_map(|edit| edit["newText"].as_str().map(str::to_string))
            .collect();
        edits
            .iter()
            .find_map(|text| {
                let at = text.find("ex=")?;
                let digits: String = text[at + 3..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                Some(digits)
            })
            .unwrap_or_else(|| panic!("no ex= in the Redis fix: {edits:?}"))
    }
}

const WARNING: u64 = 2;
const ERROR: u64 = 1;
const HINT: u64 = 4;

fn finding(rule: &str, severity: u64) -> (String, u64) {
    (rule.to_string(), severity)
}

#[tokio::test]
async fn unset_editor_keys_leave_the_project_file_in_force() {
    let mut session = session(vscode_unset()).await;
    assert_eq!(
        session.findings(),
        vec![
            finding("blocking-io-in-async", HINT),
            finding("redis-key-without-ttl", WARNING),
            finding("blocking-io-in-async", HINT),
        ]
    );
    assert_eq!(session.ttl_in_redis_fix().await, "900");
}

#[tokio::test]
async fn editor_first_lets_the_keys_the_editor_set_win() {
    let mut session = session(json!({
        "severity": {"blocking-io-in-async": "error"},
        "redis": {"defaultTtlSeconds": 120},
    }))
    .await;
    // The editor's severity and TTL win; the file's `ignore`, which the editor left
    // unset, still holds.
    assert_eq!(
        session.findings(),
        vec![
            finding("blocking-io-in-async", ERROR),
            finding("redis-key-without-ttl", WARNING),
            finding("blocking-io-in-async", ERROR),
        ]
    );
    assert_eq!(session.ttl_in_redis_fix().await, "120");
}

#[tokio::test]
async fn filesystem_first_lets_the_file_win_where_both_set_a_key() {
    let mut session = session(json!({
        "configurationPreference": "filesystemFirst",
        "ignore": [],
        "severity": {"blocking-io-in-async": "error", "redis-key-without-ttl": "info"},
        "redis": {"defaultTtlSeconds": 120},
    }))
    .await;
    // The file's ignore, severity and TTL; the editor's severity for the rule the file
    // says nothing about.
    assert_eq!(
        session.findings(),
        vec![
            finding("blocking-io-in-async", HINT),
            finding("redis-key-without-ttl", 3),
            finding("blocking-io-in-async", HINT),
        ]
    );
    assert_eq!(session.ttl_in_redis_fix().await, "900");
}

#[tokio::test]
async fn editor_only_does_not_read_the_file() {
    let mut session = session(json!({"configurationPreference": "editorOnly"})).await;
    assert_eq!(
        session.findings(),
        vec![
            finding("blocking-io-in-async", WARNING),
            finding("redis-key-without-ttl", WARNING),
            finding("http-without-timeout", WARNING),
            finding("blocking-io-in-async", WARNING),
        ]
    );
    assert_eq!(session.ttl_in_redis_fix().await, "3600");
}

#[tokio::test]
async fn an_empty_configuration_change_keeps_the_init_options() {
    // Neovim sends its config's `settings = { stackaudit = {} }` after start-up.
    let mut session = session(json!({"severity": {"blocking-io-in-async": "error"}})).await;
    let before = session.findings();
    assert_eq!(
        before,
        vec![
            finding("blocking-io-in-async", ERROR),
            finding("redis-key-without-ttl", WARNING),
            finding("blocking-io-in-async", ERROR),
        ]
    );
    session
        .change_configuration(json!({"stackaudit": {}}))
        .await;
    assert_eq!(session.findings(), before);
    session.change_configuration(json!({})).await;
    assert_eq!(session.findings(), before);
}

#[tokio::test]
async fn a_partial_change_changes_only_what_it_names() {
    let mut session = session(json!({
        "severity": {"blocking-io-in-async": "error"},
        "ignore": ["redis-key-without-ttl"],
        "redis": {"defaultTtlSeconds": 120},
    }))
    .await;
    assert_eq!(
        session.findings(),
        vec![
            finding("blocking-io-in-async", ERROR),
            finding("http-without-timeout", WARNING),
            finding("blocking-io-in-async", ERROR),
        ]
    );
    // Unsetting the editor's `ignore` brings back the file's; the severity stays.
    session
        .change_configuration(json!({"stackaudit": {"ignore": null}}))
        .await;
    assert_eq!(
        session.findings(),
        vec![
            finding("blocking-io-in-async", ERROR),
            finding("redis-key-without-ttl", WARNING),
            finding("blocking-io-in-async", ERROR),
        ]
    );
    assert_eq!(session.ttl_in_redis_fix().await, "120");
    // One key of a section: the TTL goes back to the file's.
    session
        .change_configuration(json!({"stackaudit": {"redis": {"defaultTtlSeconds": null}}}))
        .await;
    assert_eq!(session.ttl_in_redis_fix().await, "900");
    // A new value for one key replaces that key only.
    session
        .change_configuration(json!({"stackaudit": {"severity": {"blocking-io-in-async": "info"}}}))
        .await;
    assert_eq!(
        session.findings(),
        vec![
            finding("blocking-io-in-async", 3),
            finding("redis-key-without-ttl", WARNING),
            finding("blocking-io-in-async", 3),
        ]
    );
}

#[tokio::test]
async fn invalid_editor_values_are_reported_and_left_unset() {
    let mut session = session(json!({
        "redis": {"defaultTtlSeconds": 0},
        "configurationPreference": "fileFirst",
    }))
    .await;
    let mut shown = Vec::new();
    for _ in 0..2 {
        let message = session
            .client
            .wait_for(|message| message["method"] == "window/showMessage")
            .await;
        shown.push(
            message["params"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    assert_eq!(
        shown,
        vec![
            "stackaudit: `redis.defaultTtlSeconds` must be a whole number of seconds, at least 1, not 0; ignoring it",
            "stackaudit: `configurationPreference` is one of \"editorFirst\", \"filesystemFirst\", \"editorOnly\", not \"fileFirst\"; using \"editorFirst\"",
        ]
    );
    assert_eq!(session.ttl_in_redis_fix().await, "900");
}
