//! End-to-end tests over the real protocol: the real service, real framing, and the
//! JSON a client would receive.

mod common;

use common::{TestClient, action_titled, apply_text_edits, edits_of, summarize};
use serde_json::{Value, json};

const URI: &str = "file:///project/app/handlers.py";

/// An empty range at the start of a document (whole-file actions ask there).
fn start() -> Value {
    json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}})
}

const HANDLER: &str = "import time\n\nasync def handler():\n    time.sleep(1)\n";

fn blocking(line: u64, start: u64, end: u64) -> (String, u64, u64, u64, u64) {
    ("blocking-io-in-async".to_string(), line, start, line, end)
}

async fn started(encodings: &[&str]) -> TestClient {
    let mut client = TestClient::in_process();
    client.initialize(encodings, Value::Null).await;
    client
}

#[tokio::test]
async fn initialize_negotiates_encoding_and_capabilities() {
    let mut client = TestClient::in_process();
    let response = client.initialize(&["utf-16", "utf-8"], Value::Null).await;
    let capabilities = &response["result"]["capabilities"];
    assert_eq!(capabilities["positionEncoding"], "utf-8");
    assert_eq!(
        capabilities["textDocumentSync"]["change"], 2,
        "incremental sync"
    );
    assert_eq!(capabilities["hoverProvider"], true);
    assert_eq!(capabilities["definitionProvider"], true);
    assert_eq!(
        capabilities["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix", "source.fixAll", "source.fixAll.stackaudit"])
    );

    let mut utf16_only = TestClient::in_process();
    let response = utf16_only.initialize(&["utf-16"], Value::Null).await;
    assert_eq!(
        response["result"]["capabilities"]["positionEncoding"],
        "utf-16"
    );
}

/// A client may ask for code actions with a diagnostic of an older version (it shifts
/// ranges itself while the new diagnostics are on their way): where the range still
/// names a current finding of the rule, the current fix comes back; where it names
/// none, no fix does, only the suppression.
#[tokio::test]
async fn a_diagnostic_of_an_older_version_gets_the_fix_its_range_still_names() {
    let mut client = started(&[]).await;
    client.open(URI, "python", 1, HANDLER).await;
    let old = client.diagnostics(URI, 1).await[0].clone();
    // A line typed below the finding: its range is unchanged.
    client
        .change(
            URI,
            2,
            json!([{"range": {"start": {"line": 4, "character": 0}, "end": {"line": 4, "character": 0}}, "text": "    return 1\n"}]),
        )
        .await;
    assert_eq!(
        summarize(&client.diagnostics(URI, 2).await),
        vec![blocking(3, 4, 17)]
    );
    let actions = client
        .code_actions(URI, old["range"].clone(), json!([old]), Some(&["quickfix"]))
        .await;
    assert_eq!(
        edits_of(&actions[0], URI)[0],
        json!({"range": {"start": {"line": 3, "character": 4}, "end": {"line": 3, "character": 14}}, "newText": "await asyncio.sleep"})
    );
    // Indented by two: the old range names no finding now.
    client
        .change(
            URI,
            3,
            json!([{"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}, "text": "  "}]),
        )
        .await;
    assert_eq!(
        summarize(&client.diagnostics(URI, 3).await),
        vec![blocking(3, 6, 19)]
    );
    let actions = client
        .code_actions(URI, old["range"].clone(), json!([old]), Some(&["quickfix"]))
        .await;
    let titles: Vec<&str> = actions
        .iter()
        .filter_map(|action| action["title"].as_str())
        .collect();
    assert_eq!(titles, ["Ignore blocking-io-in-async on this line"]);
}

#[tokio::test]
async fn open_publishes_versioned_diagnostics_and_the_code_action_carries_the_fix() {
    let mut client = started(&[]).await;
    client.open(URI, "python", 7, HANDLER).await;
    let diagnostics = client.diagnostics(URI, 7).await;
    assert_eq!(summarize(&diagnostics), vec![blocking(3, 4, 17)]);
    let diagnostic = &diagnostics[0];
    assert_eq!(diagnostic["source"], "stackaudit");
    assert_eq!(diagnostic["severity"], 2);
    assert_eq!(
        diagnostic["message"],
        "`time.sleep` blocks the event loop inside `async def handler`"
    );
    assert!(
        diagnostic["codeDescription"]["href"]
            .as_str()
            .unwrap_or("")
            .ends_with("#blocking-io-in-async")
    );
    // The rule travels as its code, nothing else: the fix comes with the code action.
    assert_eq!(diagnostic["code"], "blocking-io-in-async");
    assert_eq!(diagnostic.get("data"), None);
    let actions = client
        .code_actions(
            URI,
            diagnostic["range"].clone(),
            json!([diagnostic]),
            Some(&["quickfix"]),
        )
        .await;
    let fix = &actions[0];
    assert_eq!(fix["isPreferred"], true);
    assert_eq!(
        edits_of(fix, URI)[0],
        json!({"range": {"start": {"line": 3, "character": 4}, "end": {"line": 3, "character": 14}}, "newText": "await asyncio.sleep"})
    );
}

#[tokio::test]
async fn incremental_edits_with_multibyte_text_move_diagnostics() {
    for (encodings, expected_start, expected_end) in
        [(&["utf-16"][..], 14, 27), (&["utf-8"][..], 16, 29)]
    {
        let mut client = started(encodings).await;
        client.open(URI, "python", 1, HANDLER).await;
        assert_eq!(
            summarize(&client.diagnostics(URI, 1).await),
            vec![blocking(3, 4, 17)]
        );

        // A comment line with an emoji above, then `x = "😀"; ` before the call.
        client
            .change(URI, 2, json!([{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "# café 😀\n"}]))
            .await;
        assert_eq!(
            summarize(&client.diagnostics(URI, 2).await),
            vec![blocking(4, 4, 17)]
        );

        client
            .change(URI, 3, json!([{"range": {"start": {"line": 4, "character": 4}, "end": {"line": 4, "character": 4}}, "text": "x = \"😀\"; "}]))
            .await;
        let diagnostics = client.diagnostics(URI, 3).await;
        assert_eq!(
            summarize(&diagnostics),
            vec![blocking(4, expected_start, expected_end)],
            "{encodings:?}"
        );
    }
}

#[tokio::test]
async fn quick_fix_edit_removes_the_finding() {
    let mut client = started(&["utf-16"]).await;
    client.open(URI, "python", 1, HANDLER).await;
    let diagnostics = client.diagnostics(URI, 1).await;
    let range = diagnostics[0]["range"].clone();
    let actions = client
        .code_actions(URI, range, json!(diagnostics), Some(&["quickfix"]))
        .await;
    let titles: Vec<&str> = actions
        .iter()
        .filter_map(|action| action["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        vec![
            "Replace with `await asyncio.sleep(...)`",
            "Ignore blocking-io-in-async on this line"
        ]
    );
    assert_eq!(actions[0]["kind"], "quickfix");
    assert_eq!(actions[0]["isPreferred"], true);

    let fixed = apply_text_edits(HANDLER, &edits_of(&actions[0], URI), false);
    assert_eq!(
        fixed,
        "import asyncio\nimport time\n\nasync def handler():\n    await asyncio.sleep(1)\n"
    );
    client.change(URI, 2, json!([{"text": fixed}])).await;
    assert_eq!(client.diagnostics(URI, 2).await, Vec::<Value>::new());
}

#[tokio::test]
async fn ignore_action_inserts_a_suppression_comment() {
    let mut client = started(&["utf-16"]).await;
    client.open(URI, "python", 1, HANDLER).await;
    let diagnostics = client.diagnostics(URI, 1).await;
    let range = diagnostics[0]["range"].clone();
    let actions = client
        .code_actions(URI, range, json!(diagnostics), None)
        .await;
    let ignore = action_titled(&actions, "Ignore blocking-io-in-async on this line");
    let fixed = apply_text_edits(HANDLER, &edits_of(ignore, URI), false);
    assert_eq!(
        fixed,
        "import time\n\nasync def handler():\n    time.sleep(1)  # stackaudit: ignore[blocking-io-in-async]\n"
    );
    client.change(URI, 2, json!([{"text": fixed}])).await;
    assert_eq!(client.diagnostics(URI, 2).await, Vec::<Value>::new());
}

#[tokio::test]
async fn fix_all_applies_only_safe_fixes() {
    let text = "import time\nimport requests\n\nasync def handler():\n    time.sleep(1)\n    requests.get('u', timeout=1)\n";
    let mut client = started(&["utf-16"]).await;
    client.open(URI, "python", 1, text).await;
    assert_eq!(client.diagnostics(URI, 1).await.len(), 2);
    let actions = client
        .code_actions(URI, start(), json!([]), Some(&["source.fixAll"]))
        .await;
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0]["kind"], "source.fixAll.stackaudit");
    assert_eq!(
        apply_text_edits(text, &edits_of(&actions[0], URI), false),
        "import asyncio\nimport time\nimport requests\n\nasync def handler():\n    await asyncio.sleep(1)\n    requests.get('u', timeout=1)\n"
    );
}

#[tokio::test]
async fn hover_shows_the_message_the_fix_before_and_after_and_a_docs_link() {
    let mut client = started(&["utf-16"]).await;
    client.open(URI, "python", 1, HANDLER).await;
    client.diagnostics(URI, 1).await;
    let response = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": URI}, "position": {"line": 3, "character": 8}}),
        )
        .await;
    let markdown = response["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(response["result"]["contents"]["kind"], "markdown");
    let url =
        "https://github.com/stackaudit/stackaudit/blob/main/docs/rules.md#blocking-io-in-async";
    assert_eq!(
        markdown,
        format!(
            "**stackaudit** [`blocking-io-in-async`]({url}): `time.sleep` blocks the event loop inside `async def handler`\n\n\
             **Fix** (safe fix): Replace with `await asyncio.sleep(...)`\n\n\
             **Before**\n```python\nimport time\n⋮\n    time.sleep(1)\n```\n\
             **After**\n```python\nimport asyncio\nimport time\n⋮\n    await asyncio.sleep(1)\n```\n\n\
             [Rule documentation]({url}): A blocking call (sleep, HTTP, file, subprocess, sync DB/Redis) inside `async def`."
        )
    );

    let nothing = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 2}}),
        )
        .await;
    assert_eq!(nothing["result"], Value::Null);
}

#[tokio::test]
async fn settings_select_ignore_and_severity_apply_and_reload() {
    let mut client = TestClient::in_process();
    client
        .initialize(&[], json!({"severity": {"blocking-io-in-async": "error"}}))
        .await;
    client.open(URI, "python", 1, HANDLER).await;
    let diagnostics = client.diagnostics(URI, 1).await;
    assert_eq!(diagnostics[0]["severity"], 1);

    client
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": {"stackaudit": {"ignore": ["blocking-io-in-async"]}}}),
        )
        .await;
    assert_eq!(client.diagnostics(URI, 1).await, Vec::<Value>::new());
}

/// Typing a generator's notice into the header quiets the reliability rules at once,
/// in every definition (those the editor had cached too); taking it out brings them
/// back; `generatedFiles: "all"` audits the file as any other.
#[tokio::test]
async fn a_generated_header_keeps_only_the_security_rules() {
    let module = "import time\n\nTOKEN = \"tok-1234567890abcdef\"\n\n\nasync def first():\n    time.sleep(1)\n\n\nasync def second():\n    time.sleep(2)\n";
    let mut client = started(&[]).await;
    client.open(URI, "python", 1, module).await;
    let rules = |diagnostics: &[Value]| -> Vec<(String, u64)> {
        summarize(diagnostics)
            .into_iter()
            .map(|(rule, line, ..)| (rule, line))
            .collect()
    };
    let secret = ("hardcoded-secret".to_string(), 2);
    let every = vec![
        secret.clone(),
        ("blocking-io-in-async".to_string(), 6),
        ("blocking-io-in-async".to_string(), 10),
    ];
    assert_eq!(rules(&client.diagnostics(URI, 1).await), every);

    let top = json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}});
    client
        .change(
            URI,
            2,
            json!([{"range": top, "text": "# @generated by apigen\n"}]),
        )
        .await;
    let shifted = |(rule, line): &(String, u64)| (rule.clone(), line + 1);
    assert_eq!(
        rules(&client.diagnostics(URI, 2).await),
        vec![shifted(&secret)]
    );

    let first_line =
        json!({"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}});
    client
        .change(URI, 3, json!([{"range": first_line, "text": ""}]))
        .await;
    assert_eq!(rules(&client.diagnostics(URI, 3).await), every);

    let mut client = TestClient::in_process();
    client
        .initialize(&[], json!({"generatedFiles": "all"}))
        .await;
    let generated = format!("# @generated by apigen\n{module}");
    client.open(URI, "python", 1, &generated).await;
    assert_eq!(
        rules(&client.diagnostics(URI, 1).await),
        every.iter().map(shifted).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn compose_and_dockerfile_documents_are_audited() {
    let mut client = started(&["utf-16"]).await;
    let compose = "file:///project/docker-compose.yml";
    client
        .open(
            compose,
            "yaml",
            1,
            "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: hunter2\n",
        )
        .await;
    assert_eq!(
        summarize(&client.diagnostics(compose, 1).await),
        vec![("docker-hardcoded-secret".to_string(), 3, 25, 3, 32)]
    );
    let dockerfile = "file:///project/Dockerfile";
    client
        .open(
            dockerfile,
            "dockerfile",
            1,
            "FROM python:3.12\nENV API_TOKEN=abc123\n",
        )
        .await;
    assert_eq!(
        summarize(&client.diagnostics(dockerfile, 1).await),
        vec![("docker-hardcoded-secret".to_string(), 1, 14, 1, 20)]
    );
    let plain_yaml = "file:///project/.github/workflows/ci.yml";
    client
        .open(plain_yaml, "yaml", 1, "env:\n  PASSWORD: x\n")
        .await;
    // Not a compose file: nothing is published for it, and the server still answers.
    let response = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": plain_yaml}, "position": {"line": 1, "character": 4}}),
        )
        .await;
    assert_eq!(response["result"], Value::Null);
}

/// A `.sql` document: statements judged by PostgreSQL's grammar as they are typed, a
/// MySQL index moved out of its table by the quick fix, the hover showing the
/// statement before and after.
#[tokio::test]
async fn sql_documents_are_audited_fixed_and_hovered() {
    let mut client = started(&["utf-16"]).await;
    let uri = "file:///project/db/schema.sql";
    let text = "CREATE TABLE posts (\n  id bigint PRIMARY KEY,\n  author_id bigint,\n  KEY idx_author (author_id)\n);\nSELECT id FROM posts;\n";
    client.open(uri, "sql", 1, text).await;
    let diagnostics = client.diagnostics(uri, 1).await;
    assert_eq!(
        summarize(&diagnostics),
        vec![("mysql-syntax-in-postgres".to_string(), 3, 2, 3, 28)]
    );
    // A typo in the last statement: only it is judged again, and reported.
    let select =
        json!({"start": {"line": 5, "character": 10}, "end": {"line": 5, "character": 14}});
    client
        .change(uri, 2, json!([{"range": select, "text": "FORM"}]))
        .await;
    let diagnostics = client.diagnostics(uri, 2).await;
    assert_eq!(
        summarize(&diagnostics),
        vec![
            ("mysql-syntax-in-postgres".to_string(), 3, 2, 3, 28),
            ("sql-syntax-error".to_string(), 5, 15, 5, 20)
        ]
    );
    assert_eq!(
        diagnostics[1]["message"],
        "PostgreSQL rejects this statement: syntax error at `posts`"
    );
    let actions = client
        .code_actions(
            uri,
            diagnostics[0]["range"].clone(),
            json!([diagnostics[0]]),
            Some(&["quickfix"]),
        )
        .await;
    let title = "Move it to `CREATE INDEX idx_author ON posts (author_id);` after the table";
    let action = action_titled(&actions, title);
    let fixed = apply_text_edits(
        &text.replace("FROM posts", "FORM posts"),
        &edits_of(action, uri),
        false,
    );
    assert_eq!(
        fixed,
        "CREATE TABLE posts (\n  id bigint PRIMARY KEY,\n  author_id bigint\n);\nCREATE INDEX idx_author ON posts (author_id);\nSELECT id FORM posts;\n"
    );
    let hover = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 6}}),
        )
        .await;
    let markdown = hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(
        markdown.contains("**After**\n```sql\n") && markdown.contains("CREATE INDEX idx_author"),
        "{markdown}"
    );
}

#[tokio::test]
async fn close_clears_diagnostics() {
    let mut client = started(&[]).await;
    client.open(URI, "python", 1, HANDLER).await;
    assert_eq!(client.diagnostics(URI, 1).await.len(), 1);
    client
        .notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": URI}}),
        )
        .await;
    let cleared = client.next_diagnostics_for(URI).await;
    assert_eq!(cleared["diagnostics"], json!([]));
}

#[tokio::test]
async fn queued_edits_publish_the_newest_version_and_never_a_stale_one() {
    let mut client = started(&["utf-16"]).await;
    client.open(URI, "python", 1, HANDLER).await;
    client.diagnostics(URI, 1).await;
    for version in 2..=40 {
        let text = if version % 2 == 0 { "x" } else { "" };
        let range = json!({"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": if version % 2 == 0 { 0 } else { 1 }}});
        client
            .change(URI, version, json!([{"range": range, "text": text}]))
            .await;
    }
    // Version 40 leaves an `x` on line 1; the finding stays at line 3.
    let last = client.diagnostics(URI, 40).await;
    assert_eq!(summarize(&last), vec![blocking(3, 4, 17)]);
    // Any publication that came before it was for an older version, in order.
    let mut previous = 0;
    for message in client.drain_backlog() {
        if message["method"] == "textDocument/publishDiagnostics" {
            let version = message["params"]["version"].as_i64().unwrap_or(0);
            assert!(
                version > previous && version < 40,
                "out of order or stale: {version}"
            );
            previous = version;
        }
    }
}

#[tokio::test]
async fn malformed_messages_get_errors_and_the_server_keeps_serving() {
    let mut client = started(&[]).await;
    client.send_raw(&common::frame("{not json")).await;
    let error = client
        .wait_for(|message| message.get("error").is_some())
        .await;
    assert_eq!(error["error"]["code"], -32700);
    let unknown = client.request("stackaudit/noSuchMethod", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32601);
    let bad_params = client
        .request("textDocument/hover", json!({"textDocument": 5}))
        .await;
    assert_eq!(bad_params["error"]["code"], -32602);
    let unknown_document = client
        .request("textDocument/codeAction", json!({"textDocument": {"uri": "file:///nope.py"}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": []}}))
        .await;
    assert_eq!(unknown_document["result"], Value::Null);
    // Out-of-range positions clamp instead of failing.
    client.open(URI, "python", 1, HANDLER).await;
    client.diagnostics(URI, 1).await;
    client
        .change(URI, 2, json!([{"range": {"start": {"line": 99, "character": 5}, "end": {"line": 120, "character": 0}}, "text": "\n"}]))
        .await;
    assert_eq!(
        summarize(&client.diagnostics(URI, 2).await),
        vec![blocking(3, 4, 17)]
    );
}

#[tokio::test]
async fn workspace_config_applies_and_a_broken_one_is_shown_to_the_user() {
    let workspace = tempfile::tempdir().expect("tempdir");
    let config = workspace.path().join("stackaudit.toml");
    std::fs::write(&config, "[severity]\nblocking-io-in-async = \"hint\"\n").expect("write config");
    let root_uri = format!("file://{}", workspace.path().display());
    let mut client = TestClient::in_process();
    client
        .request(
            "initialize",
            json!({"processId": null, "rootUri": root_uri, "capabilities": {}}),
        )
        .await;
    client.notify("initialized", json!({})).await;
    client.open(URI, "python", 1, HANDLER).await;
    assert_eq!(client.diagnostics(URI, 1).await[0]["severity"], 4);

    std::fs::write(&config, "[severity]\nblocking-io-in-async = \"loud\"\n").expect("break config");
    client
        .notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": format!("{root_uri}/stackaudit.toml"), "type": 2}]}),
        )
        .await;
    let shown = client
        .wait_for(|message| message["method"] == "window/showMessage")
        .await;
    let text = shown["params"]["message"].as_str().unwrap_or_default();
    assert!(
        text.starts_with(&format!("stackaudit: {}:2:", config.display())),
        "{text}"
    );
    assert!(text.ends_with("; using default settings"), "{text}");
    // Defaults again: the warning severity.
    assert_eq!(client.diagnostics(URI, 1).await[0]["severity"], 2);
}

#[tokio::test]
async fn fix_all_is_offered_only_where_a_safe_fix_is() {
    // An unsafe fix only (`requests.get` without a timeout), and a safe one that an
    // ignore comment suppresses.
    let text = "import time\nimport requests\n\n\ndef fetch():\n    return requests.get('u')\n\n\nasync def handler():\n    time.sleep(1)  # stackaudit: ignore[blocking-io-in-async]\n";
    let mut client = started(&["utf-16"]).await;
    client.open(URI, "python", 1, text).await;
    let diagnostics = client.diagnostics(URI, 1).await;
    assert_eq!(
        summarize(&diagnostics),
        vec![("http-without-timeout".to_string(), 5, 11, 5, 23)]
    );
    let range = diagnostics[0]["range"].clone();
    let actions = client
        .code_actions(URI, range, json!(diagnostics), None)
        .await;
    let titles: Vec<&str> = actions
        .iter()
        .filter_map(|action| action["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        vec![
            "Set `timeout=10` (seconds) (unsafe)",
            "Ignore http-without-timeout on this line"
        ]
    );
    let fix_all = client
        .code_actions(URI, start(), json!([]), Some(&["source.fixAll"]))
        .await;
    assert_eq!(fix_all, Vec::<Value>::new());
}

#[tokio::test]
async fn fix_all_is_resolved_lazily_for_clients_that_can() {
    let text = "import time\n\nasync def handler():\n    time.sleep(1)\n";
    let mut client = TestClient::in_process();
    client
        .request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {"textDocument": {"codeAction": {
                "dataSupport": true,
                "resolveSupport": {"properties": ["edit"]},
                "codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix", "source.fixAll"]}},
            }}}}),
        )
        .await;
    client.notify("initialized", json!({})).await;
    client.open(URI, "python", 1, text).await;
    client.diagnostics(URI, 1).await;
    let actions = client
        .code_actions(URI, start(), json!([]), Some(&["source.fixAll.stackaudit"]))
        .await;
    let action = actions.first().cloned().unwrap_or_default();
    assert_eq!(action["title"], "Fix all safe stackaudit findings");
    assert_eq!(action.get("edit"), None, "the edit waits for resolve");
    let resolved = client.request("codeAction/resolve", action).await;
    assert_eq!(
        apply_text_edits(text, &edits_of(&resolved["result"], URI), false),
        "import asyncio\nimport time\n\nasync def handler():\n    await asyncio.sleep(1)\n"
    );
}

#[tokio::test]
async fn ignore_goes_above_a_line_that_ends_inside_a_string() {
    let text = "import time\n\nasync def handler():\n    time.sleep(len(\"\"\"a\nb\"\"\"))\n";
    let mut client = started(&["utf-16"]).await;
    client.open(URI, "python", 1, text).await;
    let diagnostics = client.diagnostics(URI, 1).await;
    let range = diagnostics[0]["range"].clone();
    let actions = client
        .code_actions(URI, range, json!(diagnostics), None)
        .await;
    let ignore = action_titled(&actions, "Ignore blocking-io-in-async on this line");
    let fixed = apply_text_edits(text, &edits_of(ignore, URI), false);
    assert_eq!(
        fixed,
        "import time\n\nasync def handler():\n    # stackaudit: ignore[blocking-io-in-async]\n    time.sleep(len(\"\"\"a\nb\"\"\"))\n"
    );
    client.change(URI, 2, json!([{"text": fixed}])).await;
    assert_eq!(client.diagnostics(URI, 2).await, Vec::<Value>::new());
}

/// A large document is parsed off the server's threads: edits sent before that parse is
/// back are replayed on its tree, another document is served meanwhile, and the
/// published findings are those of the newest text.
#[tokio::test]
async fn edits_during_the_first_parse_of_a_large_document_are_kept() {
    let mut client = started(&["utf-16"]).await;
    let filler = "value = compute(1, 2, 3)  # keep the module large\n".repeat(8_000);
    let big = format!("{HANDLER}\n{filler}\nasync def late():\n    time.sleep(2)\n");
    assert!(big.len() > 300_000);
    let late_line = big.lines().count() as u64 - 1;
    let big_uri = "file:///project/app/big.py";
    client.open(big_uri, "python", 1, &big).await;
    // Break the first finding (`xtime.sleep`) before the parse can have finished.
    client
        .change(
            big_uri,
            2,
            json!([{"range": {"start": {"line": 3, "character": 4}, "end": {"line": 3, "character": 4}}, "text": "x"}]),
        )
        .await;
    client.open(URI, "python", 1, HANDLER).await;
    assert_eq!(
        summarize(&client.diagnostics(URI, 1).await),
        vec![blocking(3, 4, 17)]
    );
    assert_eq!(
        summarize(&client.diagnostics(big_uri, 2).await),
        vec![blocking(late_line, 4, 17)]
    );
}

/// The server judges a file's path below the workspace root: a test file in the
/// workspace gets `sleep-in-test`, while a workspace that itself sits under a `tests`
/// directory does not make its application code a test.
#[tokio::test]
async fn rules_about_test_files_judge_the_path_below_the_workspace_root() {
    let sleeping = "import time\n\ndef test_waits():\n    time.sleep(1)\n";
    let mut client = TestClient::in_process();
    client
        .request(
            "initialize",
            json!({"processId": null, "rootUri": "file:///work/tests/shop", "capabilities": {}}),
        )
        .await;
    client.notify("initialized", json!({})).await;
    let test_file = "file:///work/tests/shop/tests/test_orders.py";
    client.open(test_file, "python", 1, sleeping).await;
    assert_eq!(
        summarize(&client.diagnostics(test_file, 1).await),
        vec![("sleep-in-test".to_string(), 3, 4, 3, 17)]
    );
    let app_file = "file:///work/tests/shop/app/jobs.py";
    client.open(app_file, "python", 1, sleeping).await;
    assert_eq!(client.diagnostics(app_file, 1).await, Vec::<Value>::new());
}

/// Only the documents edited last keep their trees, findings and what an edit's audit
/// reuses (memory); the others keep their text. Changing one of those, asking it for
/// code actions or hovering over a finding works as before.
#[tokio::test]
async fn documents_whose_trees_were_dropped_still_change_and_fix() {
    let mut client = started(&["utf-16"]).await;
    let uri = |index: usize| format!("file:///project/app/module_{index}.py");
    for index in 0..24 {
        client.open(&uri(index), "python", 1, HANDLER).await;
        assert_eq!(
            summarize(&client.diagnostics(&uri(index), 1).await),
            vec![blocking(3, 4, 17)]
        );
    }
    // The first document was opened longest ago: a change parses it afresh.
    client
        .change(
            &uri(0),
            2,
            json!([{"range": {"start": {"line": 4, "character": 0}, "end": {"line": 4, "character": 0}}, "text": "    time.sleep(2)\n"}]),
        )
        .await;
    assert_eq!(
        summarize(&client.diagnostics(&uri(0), 2).await),
        vec![blocking(3, 4, 17), blocking(4, 4, 17)]
    );
    // The second, unchanged since it was opened: its quick fix and its suppression.
    let diagnostic = json!({
        "range": {"start": {"line": 3, "character": 4}, "end": {"line": 3, "character": 17}},
        "source": "stackaudit",
        "code": "blocking-io-in-async",
        "message": "`time.sleep` blocks the event loop inside `async def handler`",
    });
    let actions = client
        .code_actions(
            &uri(1),
            diagnostic["range"].clone(),
            json!([diagnostic]),
            Some(&["quickfix"]),
        )
        .await;
    let titles: Vec<&str> = actions
        .iter()
        .filter_map(|action| action["title"].as_str())
        .collect();
    assert!(
        titles
            .iter()
            .any(|title| title.starts_with("Ignore blocking-io-in-async")),
        "{titles:?}"
    );
    assert_eq!(
        edits_of(&actions[0], &uri(1))[0]["newText"],
        "await asyncio.sleep"
    );
    let hover = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri(2)}, "position": {"line": 3, "character": 8}}),
        )
        .await;
    let markdown = hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(
        markdown.starts_with("**stackaudit** [`blocking-io-in-async`]"),
        "{hover}"
    );
}
