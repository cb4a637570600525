//! The built binary as an editor starts it: stdout carries only the protocol, and the
//! process exits as the spec says.

#![allow(clippy::disallowed_methods)] // Starts the built binary, as a user or an editor does.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::TestClient;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

fn spawn_server() -> (Child, TestClient) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackaudit"))
        .arg("server")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    (child, TestClient::over(stdout, stdin))
}

async fn exit_code(child: &mut Child) -> Option<i32> {
    tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the server exits")
        .expect("wait")
        .code()
}

/// What the server wrote to stderr (read after it exits).
async fn stderr_of(child: &mut Child) -> String {
    use tokio::io::AsyncReadExt;
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .await
        .expect("read stderr");
    stderr
}

#[tokio::test]
async fn shutdown_then_exit_is_a_clean_exit() {
    let (mut child, mut client) = spawn_server();
    client.initialize(&["utf-16"], Value::Null).await;
    client
        .open(
            "file:///w/app.py",
            "python",
            1,
            "import time\nasync def f():\n    time.sleep(1)\n",
        )
        .await;
    assert_eq!(client.diagnostics("file:///w/app.py", 1).await.len(), 1);
    let response = client.request("shutdown", Value::Null).await;
    assert_eq!(response["result"], Value::Null);
    client.notify("exit", Value::Null).await;
    assert_eq!(exit_code(&mut child).await, Some(0));
}

#[tokio::test]
async fn exit_without_shutdown_is_exit_code_one() {
    let (mut child, mut client) = spawn_server();
    client.initialize(&[], Value::Null).await;
    client.notify("exit", Value::Null).await;
    assert_eq!(exit_code(&mut child).await, Some(1));
}

#[tokio::test]
async fn a_client_that_disconnects_does_not_leave_the_server_running() {
    let (mut child, mut client) = spawn_server();
    client.initialize(&[], Value::Null).await;
    drop(client); // closes stdin
    assert_eq!(exit_code(&mut child).await, Some(1));
}

#[tokio::test]
async fn garbage_on_stdin_is_answered_and_logged_to_stderr_only() {
    let (mut child, mut client) = spawn_server();
    client.send_raw(b"this is not a header\r\n\r\n").await;
    let error = client
        .wait_for(|message| message.get("error").is_some())
        .await;
    assert_eq!(error["error"]["code"], -32700);
    let response = client.initialize(&[], Value::Null).await;
    assert_eq!(response["result"]["serverInfo"]["name"], "stackaudit");
    client.request("shutdown", json!(null)).await;
    client.notify("exit", Value::Null).await;
    assert_eq!(exit_code(&mut child).await, Some(0));
    let stderr = stderr_of(&mut child).await;
    assert!(
        stderr.contains("dropped a message from the client"),
        "{stderr}"
    );
}

/// A bug in one rule (a panic injected in the test build) costs only that rule's
/// findings: the others still publish, on every edit, and the failure is logged once.
#[tokio::test]
async fn a_panicking_rule_is_logged_once_and_the_other_rules_still_publish() {
    const URI: &str = "file:///w/app.py";
    // Without the fault, `missing-rollback` reports the handler too.
    let source = "# stackaudit-fault: panic in missing-rollback\nimport time\n\nasync def f(db):\n    time.sleep(1)\n    try:\n        db.commit()\n    except Exception:\n        raise\n";
    let (mut child, mut client) = spawn_server();
    client.initialize(&["utf-16"], Value::Null).await;
    client.open(URI, "python", 1, source).await;
    let rules = |diagnostics: Vec<Value>| -> Vec<String> {
        diagnostics
            .iter()
            .map(|diagnostic| diagnostic["code"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(
        rules(client.diagnostics(URI, 1).await),
        vec!["blocking-io-in-async"]
    );
    for version in 2..=4 {
        let at = json!({"line": 4, "character": 4});
        client
            .change(
                URI,
                version,
                json!([{"range": {"start": at, "end": at}, "text": " "}]),
            )
            .await;
        assert_eq!(
            rules(client.diagnostics(URI, version).await),
            vec!["blocking-io-in-async"]
        );
    }
    client.request("shutdown", json!(null)).await;
    client.notify("exit", Value::Null).await;
    assert_eq!(exit_code(&mut child).await, Some(0));
    let stderr = stderr_of(&mut child).await;
    let failures: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("rule failed"))
        .collect();
    assert_eq!(failures.len(), 1, "{stderr}");
    assert!(
        failures[0].contains("rule=\"missing-rollback\"")
            && failures[0].contains("fault injected into missing-rollback")
            && failures[0].contains("src/audit/mod.rs:"),
        "{stderr}"
    );
    assert!(!stderr.contains("internal error"), "{stderr}");
}

/// The client goes away while a long request (fix-all of a large module) runs: the
/// server exits without finishing it or writing its answer, and is reaped.
#[tokio::test]
async fn a_client_that_disconnects_mid_request_does_not_wait_for_the_answer() {
    const URI: &str = "file:///w/app.py";
    let handler = "\nasync def handler(db):\n    try:\n        db.commit()\n    except Exception:\n        raise\n";
    let module = handler.repeat(4_000);
    let (mut child, mut client) = spawn_server();
    client.initialize(&["utf-16"], Value::Null).await;
    client.open(URI, "python", 1, &module).await;
    assert_eq!(client.diagnostics(URI, 1).await.len(), 4_000);
    let request = common::fix_all_request("slow", URI);
    client.send(request).await;
    client.close_input();
    let after = client.messages_until_closed().await;
    assert!(
        after.iter().all(|message| message["id"] != "slow"),
        "answered a client that had gone: {after:?}"
    );
    assert_eq!(exit_code(&mut child).await, Some(1));
}
