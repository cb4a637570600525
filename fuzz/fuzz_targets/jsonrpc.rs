//! JSON-RPC fed to the server over its real transport: malformed headers, arbitrary
//! bodies, wrong types in params, unknown methods, requests before `initialize` and
//! after `shutdown`, and a body cut short by the client going away. The server must
//! answer every request exactly once with a result or one of the spec's error codes,
//! keep serving (a last probe request is answered), and end when its input closes.

#![no_main]

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
});

const METHODS: &[&str] = &[
    "initialize",
    "initialized",
    "shutdown",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didClose",
    "textDocument/codeAction",
    "codeAction/resolve",
    "textDocument/hover",
    "workspace/didChangeConfiguration",
    "workspace/didChangeWatchedFiles",
    "$/cancelRequest",
    "$/setTrace",
    "stackaudit/noSuchMethod",
    "textDocument/completion",
];

/// Field names of LSP params, so arbitrary objects reach past the first type check.
const KEYS: &[&str] = &[
    "textDocument",
    "uri",
    "languageId",
    "version",
    "text",
    "contentChanges",
    "range",
    "start",
    "end",
    "line",
    "character",
    "position",
    "context",
    "diagnostics",
    "only",
    "data",
    "capabilities",
    "settings",
    "stackaudit",
    "id",
    "fixAll",
    "rule",
    "changes",
    "positionEncodings",
    "general",
    "rootUri",
    "workspaceFolders",
    "title",
    "kind",
];

const URIS: &[&str] = &[
    "file:///w/app.py",
    "file:///w/Dockerfile",
    "file:///w/compose.yml",
];
const LANGUAGE_IDS: &[&str] = &["python", "dockerfile", "yaml", "plaintext"];

#[derive(Debug, Arbitrary)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(u8, Json)>),
}

impl Json {
    fn value(&self, depth: usize) -> Value {
        if depth > 8 {
            return Value::Null;
        }
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => json!(b),
            Json::Int(n) => json!(n),
            Json::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
            Json::Str(s) => json!(s),
            Json::Array(items) => items.iter().map(|item| item.value(depth + 1)).collect(),
            Json::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(key, value)| {
                        (
                            KEYS[*key as usize % KEYS.len()].to_string(),
                            value.value(depth + 1),
                        )
                    })
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// Well-typed params with fuzzed values: documents get opened and edited at any
/// position, code actions asked for any range.
#[derive(Debug, Arbitrary)]
enum Params {
    Any(Json),
    Open {
        uri: u8,
        language: u8,
        version: i32,
        text: String,
    },
    Change {
        uri: u8,
        version: i32,
        range: Option<[u32; 4]>,
        text: String,
    },
    Document {
        uri: u8,
        range: [u32; 4],
    },
}

impl Params {
    fn value(&self) -> Value {
        let uri = |index: &u8| URIS[*index as usize % URIS.len()];
        let range = |r: &[u32; 4]| json!({"start": {"line": r[0], "character": r[1]}, "end": {"line": r[2], "character": r[3]}});
        match self {
            Params::Any(value) => value.value(0),
            Params::Open {
                uri: u,
                language,
                version,
                text,
            } => json!({"textDocument": {
                "uri": uri(u), "languageId": LANGUAGE_IDS[*language as usize % LANGUAGE_IDS.len()],
                "version": version, "text": text}}),
            Params::Change {
                uri: u,
                version,
                range: r,
                text,
            } => {
                let change = match r {
                    Some(r) => json!({"range": range(r), "text": text}),
                    None => json!({"text": text}),
                };
                json!({"textDocument": {"uri": uri(u), "version": version}, "contentChanges": [change]})
            }
            Params::Document { uri: u, range: r } => json!({
                "textDocument": {"uri": uri(u)}, "range": range(r), "position": range(r)["start"],
                "context": {"diagnostics": [], "only": ["quickfix", "source.fixAll.stackaudit"]}}),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Message {
    /// A request with an id of ours; it must be answered.
    Request {
        method: u8,
        params: Option<Params>,
    },
    Notification {
        method: u8,
        params: Option<Params>,
    },
    /// Any bytes as a correctly framed body.
    Body(Vec<u8>),
    /// A header block the server cannot use (no colon, bad or missing length).
    BadHeader(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    messages: Vec<Message>,
    /// Whether the client then goes away in the middle of a body.
    truncate_last: bool,
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    framed.extend_from_slice(body);
    framed
}

fn method(index: u8) -> &'static str {
    METHODS[index as usize % METHODS.len()]
}

/// Error codes the server may answer a request with.
const ALLOWED_ERRORS: &[i64] = &[-32700, -32600, -32601, -32602, -32603, -32002, -32800];

async fn session(input: Input) {
    let (client, server) = tokio::io::duplex(1 << 16);
    let (server_read, server_write) = tokio::io::split(server);
    let (client_read, mut client_write) = tokio::io::split(client);
    let server_task = tokio::spawn(stackaudit::server::serve(server_read, server_write));

    // Everything the client sends, and the ids it expects answers for.
    let mut bytes = Vec::new();
    let mut expected = Vec::new();
    let mut may_exit = false;
    for (index, message) in input.messages.iter().take(64).enumerate() {
        match message {
            Message::Request { method: m, params } => {
                let id = format!("probe-{index}");
                let mut request = json!({"jsonrpc": "2.0", "id": id, "method": method(*m)});
                if let Some(params) = params {
                    request["params"] = params.value();
                }
                bytes.extend(frame(request.to_string().as_bytes()));
                expected.push(id);
            }
            Message::Notification { method: m, params } => {
                let mut notification = json!({"jsonrpc": "2.0", "method": method(*m)});
                if let Some(params) = params {
                    notification["params"] = params.value();
                }
                bytes.extend(frame(notification.to_string().as_bytes()));
            }
            Message::Body(body) => {
                // A body that is an `exit` notification ends the session, as it must.
                may_exit |= serde_json::from_slice::<Value>(body)
                    .is_ok_and(|value| value.get("method") == Some(&json!("exit")));
                bytes.extend(frame(body));
            }
            Message::BadHeader(line) => {
                let line: String = line.chars().filter(|c| *c != '\r' && *c != '\n').collect();
                let header = if line.contains(':') {
                    format!("Content-Length: {line}")
                } else {
                    line
                };
                bytes.extend(format!("{header}\r\n\r\n").into_bytes());
            }
        }
    }
    if input.truncate_last {
        bytes.extend(b"Content-Length: 100\r\n\r\n{\"jsonrpc\": \"2.0\", \"id\": ");
    } else {
        let probe = json!({"jsonrpc": "2.0", "id": "final", "method": "stackaudit/noSuchMethod"});
        bytes.extend(frame(probe.to_string().as_bytes()));
        expected.push("final".to_string());
    }

    let writer = tokio::spawn(async move {
        let _ = client_write.write_all(&bytes).await;
        let _ = client_write.flush().await;
        client_write // closed by the caller, once the answers are in
    });

    let mut reader = BufReader::new(client_read);
    let mut answers: HashMap<String, usize> = HashMap::new();
    let outcome = tokio::time::timeout(Duration::from_secs(30), async {
        while !expected.iter().all(|id| answers.contains_key(id)) {
            let Some(message) = read_message(&mut reader).await else {
                return false; // the server ended its output
            };
            assert_eq!(message["jsonrpc"], "2.0", "{message}");
            if message.get("method").is_some() {
                continue; // a notification or a request of the server's
            }
            if let Some(error) = message.get("error") {
                let code = error["code"].as_i64().expect("error code");
                assert!(ALLOWED_ERRORS.contains(&code), "unexpected error {message}");
            } else {
                assert!(
                    message.get("result").is_some(),
                    "response without result: {message}"
                );
            }
            if let Some(id) = message["id"].as_str() {
                *answers.entry(id.to_string()).or_default() += 1;
            }
        }
        true
    })
    .await
    .expect("the server answers within 30 s");
    if !outcome {
        assert!(
            may_exit || input.truncate_last,
            "the server stopped serving early"
        );
    }
    for (id, count) in &answers {
        assert_eq!(*count, 1, "{id} answered {count} times");
    }
    // The client goes away: the server must end.
    drop(writer.await.expect("writer"));
    drop(reader);
    tokio::time::timeout(Duration::from_secs(30), server_task)
        .await
        .expect("the server ends when its client goes away")
        .expect("the server task does not panic");
}

async fn read_message<R: tokio::io::AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length.expect("every frame has a Content-Length")];
    reader.read_exact(&mut body).await.ok()?;
    Some(serde_json::from_slice(&body).expect("every frame is JSON"))
}

fuzz_target!(|input: Input| {
    RUNTIME.block_on(session(input));
});
