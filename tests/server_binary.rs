//! The built binary as an editor starts it: stdout carries only the protocol, and the
//! process exits as the spec says.

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
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt;
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .await
        .expect("read stderr");
    assert!(
        stderr.contains("dropped a message from the client"),
        "{stderr}"
    );
}
