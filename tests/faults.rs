//! Faults over the real protocol: what clients get wrong, what they send that is odd
//! or huge, and how they leave. The server answers, keeps its copy of each document
//! right, and never dies.

mod common;

use common::TestClient;
use serde_json::{Value, json};

/// Found by the `jsonrpc` fuzz target: a request for a method the spec defines as a
/// notification, sent with an id, must still get an answer, or the client waits forever.
#[tokio::test]
async fn a_notification_method_sent_as_a_request_is_answered() {
    let mut client = TestClient::in_process();
    let before_initialize = client.request("$/setTrace", Value::Null).await;
    assert_eq!(
        before_initialize["error"]["message"],
        "Invalid Request: `$/setTrace` is a notification and takes no `id`"
    );
    client.initialize(&[], Value::Null).await;
    let after = client
        .request(
            "textDocument/didClose",
            json!({"textDocument": {"uri": "file:///a.py"}}),
        )
        .await;
    assert_eq!(after["error"]["code"], -32600, "{after}");
    let served = client.request("stackaudit/noSuchMethod", json!({})).await;
    assert_eq!(served["error"]["code"], -32601);
}
