//! A test LSP client speaking real `Content-Length` framing to the real service,
//! in-process over `tokio::io::duplex`, or to the built binary over its stdio.

#![allow(dead_code)] // each test binary uses part of this

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// How long any single message may take before a test fails instead of hanging (the
/// 10 MB document takes about 15 s to audit in a debug build).
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestClient {
    writer: Box<dyn AsyncWrite + Unpin + Send>,
    incoming: mpsc::UnboundedReceiver<Value>,
    /// Messages read while waiting for something else.
    backlog: VecDeque<Value>,
    next_id: i64,
}

pub fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// Read framed messages from `reader` into a channel until it closes.
pub fn spawn_reader<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    reader: R,
) -> mpsc::UnboundedReceiver<Value> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut reader = BufReader::new(reader);
        loop {
            let mut length = None;
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(value) = line.strip_prefix("Content-Length: ") {
                    length = value.parse::<usize>().ok();
                }
            }
            let Some(length) = length else { return };
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).await.is_err() {
                return;
            }
            let Ok(message) = serde_json::from_slice::<Value>(&body) else {
                return;
            };
            if sender.send(message).is_err() {
                return;
            }
        }
    });
    receiver
}

impl TestClient {
    /// The real `LspService` in this process, over a duplex pipe.
    pub fn in_process() -> TestClient {
        let (client_side, server_side) = tokio::io::duplex(1 << 20);
        let (server_read, server_write) = tokio::io::split(server_side);
        let (client_read, client_write) = tokio::io::split(client_side);
        tokio::spawn(stackaudit::server::serve(server_read, server_write));
        TestClient::over(client_read, client_write)
    }

    pub fn over<R, W>(reader: R, writer: W) -> TestClient
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        TestClient {
            writer: Box::new(writer),
            incoming: spawn_reader(reader),
            backlog: VecDeque::new(),
            next_id: 1,
        }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.writer
            .write_all(bytes)
            .await
            .expect("server accepts bytes");
        self.writer.flush().await.expect("flush");
    }

    pub async fn send(&mut self, message: Value) {
        self.send_raw(&frame(&message.to_string())).await;
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}))
            .await;
    }

    /// Send a request and wait for its response (other messages are kept for later).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        self.wait_for(|message| {
            message.get("id") == Some(&json!(id)) && message.get("method").is_none()
        })
        .await
    }

    async fn next_message(&mut self) -> Value {
        tokio::time::timeout(MESSAGE_TIMEOUT, self.incoming.recv())
            .await
            .expect("the server answers in time")
            .expect("the server keeps the connection open")
    }

    /// The first message (backlog first) that satisfies `wanted`.
    pub async fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(index) = self.backlog.iter().position(&wanted) {
            return self.backlog.remove(index).expect("index is in range");
        }
        loop {
            let message = self.next_message().await;
            if wanted(&message) {
                return message;
            }
            self.backlog.push_back(message);
        }
    }

    /// Close the server's input, as a client that goes away does.
    pub fn close_input(&mut self) {
        self.writer = Box::new(tokio::io::sink());
    }

    /// Every message still to come, until the server closes its output.
    pub async fn messages_until_closed(&mut self) -> Vec<Value> {
        let mut messages: Vec<Value> = self.backlog.drain(..).collect();
        loop {
            match tokio::time::timeout(MESSAGE_TIMEOUT, self.incoming.recv()).await {
                Ok(Some(message)) => messages.push(message),
                Ok(None) => return messages,
                Err(_) => panic!("the server kept its output open"),
            }
        }
    }

    /// Everything read but not yet consumed, plus what is already waiting.
    pub fn drain_backlog(&mut self) -> Vec<Value> {
        while let Ok(message) = self.incoming.try_recv() {
            self.backlog.push_back(message);
        }
        self.backlog.drain(..).collect()
    }

    /// The diagnostics published for `uri` at `version`; earlier versions are skipped.
    pub async fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let message = self
            .wait_for(|message| {
                message["method"] == "textDocument/publishDiagnostics"
                    && message["params"]["uri"] == uri
                    && message["params"]["version"] == version
            })
            .await;
        message["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The next diagnostics for `uri` whatever their version (a close clears them).
    pub async fn next_diagnostics_for(&mut self, uri: &str) -> Value {
        self.wait_for(|message| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
        })
        .await["params"]
            .clone()
    }

    pub async fn initialize(&mut self, position_encodings: &[&str], options: Value) -> Value {
        let response = self
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": null,
                    "capabilities": {"general": {"positionEncodings": position_encodings}},
                    "initializationOptions": options,
                }),
            )
            .await;
        self.notify("initialized", json!({})).await;
        response
    }

    pub async fn open(&mut self, uri: &str, language_id: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language_id, "version": version, "text": text}}),
        )
        .await;
    }

    pub async fn change(&mut self, uri: &str, version: i64, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}),
        )
        .await;
    }

    /// The code actions offered for `range` with `diagnostics` in context, restricted to
    /// the kinds in `only` when given.
    pub async fn code_actions(
        &mut self,
        uri: &str,
        range: Value,
        diagnostics: Value,
        only: Option<&[&str]>,
    ) -> Vec<Value> {
        let mut context = json!({ "diagnostics": diagnostics });
        if let Some(only) = only {
            context["only"] = json!(only);
        }
        let response = self
            .request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": uri}, "range": range, "context": context}),
            )
            .await;
        response["result"].as_array().cloned().unwrap_or_default()
    }
}

/// A `textDocument/codeAction` request for fix-all on `uri`, with id `id`: the most
/// expensive request a client can make (fault tests cancel it or walk away from it).
pub fn fix_all_request(id: &str, uri: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/codeAction", "params": {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        "context": {"diagnostics": [], "only": ["source.fixAll"]}}})
}

/// The text edits an action (or resolved action) makes to `uri`; none when it has none.
pub fn edits_of(action: &Value, uri: &str) -> Vec<Value> {
    action["edit"]["changes"][uri]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The action titled `title` among `actions`, or `Null`.
pub fn action_titled<'a>(actions: &'a [Value], title: &str) -> &'a Value {
    actions
        .iter()
        .find(|action| action["title"] == title)
        .unwrap_or(&Value::Null)
}

/// `(rule, start line, start character, end line, end character)` of diagnostics.
pub fn summarize(diagnostics: &[Value]) -> Vec<(String, u64, u64, u64, u64)> {
    diagnostics
        .iter()
        .map(|diagnostic| {
            let range = &diagnostic["range"];
            (
                diagnostic["code"].as_str().unwrap_or_default().to_string(),
                range["start"]["line"].as_u64().unwrap_or(u64::MAX),
                range["start"]["character"].as_u64().unwrap_or(u64::MAX),
                range["end"]["line"].as_u64().unwrap_or(u64::MAX),
                range["end"]["character"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect()
}

/// Apply LSP text edits (UTF-16 or UTF-8 positions) to `text`.
pub fn apply_text_edits(text: &str, edits: &[Value], utf8: bool) -> String {
    let offset = |position: &Value| -> usize {
        let line = position["line"].as_u64().unwrap_or(0) as usize;
        let character = position["character"].as_u64().unwrap_or(0) as usize;
        let line_start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let line_text = text[line_start..].split('\n').next().unwrap_or("");
        let mut units = 0;
        for (index, ch) in line_text.char_indices() {
            if units >= character {
                return line_start + index;
            }
            units += if utf8 { ch.len_utf8() } else { ch.len_utf16() };
        }
        line_start + line_text.len()
    };
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|edit| {
            (
                offset(&edit["range"]["start"]),
                offset(&edit["range"]["end"]),
                edit["newText"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|span| std::cmp::Reverse(span.0));
    let mut out = text.to_string();
    for (start, end, new_text) in spans {
        out.replace_range(start..end, &new_text);
    }
    out
}
