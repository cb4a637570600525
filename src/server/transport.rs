//! The stdio transport in front of tower-lsp-server. Its codec ends the whole session
//! at the first message that is not valid JSON-RPC (tokio-util's `FramedRead` stops
//! after a decode error), so a single malformed message from a client would kill the
//! server. This layer reads the client's frames itself, answers malformed ones with
//! the JSON-RPC error the spec asks for, and passes only well-formed messages on.
//! Output frames from the server and these error replies are merged whole, so they
//! never interleave on stdout.

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Larger messages are answered with an error and skipped (a 10 MB file is fine).
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;
const MAX_HEADER_LINE_BYTES: u64 = 8 * 1024;

pub fn frame(body: &[u8]) -> Vec<u8> {
    let header = format!("Content-Length: {}\r\n\r\n", body.len());
    let mut framed = Vec::with_capacity(header.len() + body.len());
    framed.extend_from_slice(header.as_bytes());
    framed.extend_from_slice(body);
    framed
}

pub(crate) enum Frame {
    Message(Vec<u8>),
    /// Something arrived that is not a frame: already skipped, to be answered.
    Invalid(String),
    Closed,
}

/// Read one frame, skipping what cannot be framed.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Frame {
    let mut content_length: Option<usize> = None;
    let mut header_problem = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        match (&mut *reader)
            .take(MAX_HEADER_LINE_BYTES)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(0) | Err(_) => return Frame::Closed,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if saw_header {
                break;
            }
            continue; // stray blank line between messages
        }
        saw_header = true;
        let Some((name, value)) = text.split_once(':') else {
            header_problem = Some(format!(
                "malformed header line `{}`",
                text.chars().take(80).collect::<String>()
            ));
            continue;
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            match value.trim().parse::<usize>() {
                Ok(length) => content_length = Some(length),
                Err(_) => {
                    header_problem = Some(format!("invalid Content-Length `{}`", value.trim()))
                }
            }
        }
    }
    if let Some(problem) = header_problem {
        // Do not trust a length that came with broken headers; the body, if any, will be
        // read as garbage headers and skipped up to the next blank line.
        return Frame::Invalid(problem);
    }
    let Some(length) = content_length else {
        return Frame::Invalid("missing Content-Length header".to_string());
    };
    if length > MAX_MESSAGE_BYTES {
        let mut skipped = (&mut *reader).take(length as u64);
        if tokio::io::copy(&mut skipped, &mut tokio::io::sink())
            .await
            .is_err()
        {
            return Frame::Closed;
        }
        return Frame::Invalid(format!(
            "message of {length} bytes is larger than {MAX_MESSAGE_BYTES}"
        ));
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).await.is_err() {
        return Frame::Closed; // truncated by the client going away
    }
    Frame::Message(body)
}

/// `None` when `body` is a JSON-RPC message the server can take; else the error reply.
pub(crate) fn check_message(body: &[u8]) -> Option<Value> {
    let Ok(message) = serde_json::from_slice::<Value>(body) else {
        return Some(error_reply(
            Value::Null,
            -32700,
            "Parse error: the message is not valid JSON",
        ));
    };
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    let id_is_valid = matches!(id, Value::Null | Value::Number(_) | Value::String(_));
    let reply_id = if id_is_valid { id.clone() } else { Value::Null };
    let Some(object) = message.as_object() else {
        return Some(error_reply(
            Value::Null,
            -32600,
            "Invalid Request: not a JSON object",
        ));
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return Some(error_reply(
            reply_id,
            -32600,
            "Invalid Request: `jsonrpc` must be \"2.0\"",
        ));
    }
    if !id_is_valid {
        return Some(error_reply(
            Value::Null,
            -32600,
            "Invalid Request: `id` must be a number or a string",
        ));
    }
    match object.get("method") {
        // The framework never answers these when they come with an id: the client would
        // wait forever.
        Some(Value::String(method))
            if object.contains_key("id") && NOTIFICATION_METHODS.contains(&method.as_str()) =>
        {
            Some(error_reply(
                reply_id,
                -32600,
                &format!("Invalid Request: `{method}` is a notification and takes no `id`"),
            ))
        }
        Some(Value::String(_)) => {
            let params_ok = object
                .get("params")
                .is_none_or(|params| params.is_object() || params.is_array() || params.is_null());
            if params_ok {
                None
            } else {
                Some(error_reply(
                    reply_id,
                    -32600,
                    "Invalid Request: bad `params`",
                ))
            }
        }
        Some(_) => Some(error_reply(
            reply_id,
            -32600,
            "Invalid Request: `method` must be a string",
        )),
        // A response to one of our requests.
        None if object.contains_key("id")
            && (object.contains_key("result") || object.contains_key("error")) =>
        {
            None
        }
        None => Some(error_reply(
            reply_id,
            -32600,
            "Invalid Request: no `method`",
        )),
    }
}

/// The notifications a client sends a server (LSP 3.17).
const NOTIFICATION_METHODS: &[&str] = &[
    "initialized",
    "exit",
    "$/cancelRequest",
    "$/setTrace",
    "$/progress",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/willSave",
    "textDocument/didSave",
    "textDocument/didClose",
    "notebookDocument/didOpen",
    "notebookDocument/didChange",
    "notebookDocument/didSave",
    "notebookDocument/didClose",
    "workspace/didChangeConfiguration",
    "workspace/didChangeWatchedFiles",
    "workspace/didChangeWorkspaceFolders",
    "workspace/didCreateFiles",
    "workspace/didRenameFiles",
    "workspace/didDeleteFiles",
    "window/workDoneProgress/cancel",
];

fn error_reply(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// `initialize` with the client's capabilities under the names LSP 3.17 gives them;
/// other messages as they are. Helix sends `workspace.diagnostic` for the spec's
/// `workspace.diagnostics` (its LSP types crate names the field so, with no rename),
/// and without this its support for `workspace/diagnostic/refresh` would go unseen.
fn with_spec_capability_names(body: Vec<u8>) -> Vec<u8> {
    // Only `initialize` is parsed again: every other message passes untouched.
    if memchr::memmem::find(&body, b"\"initialize\"").is_none() {
        return body;
    }
    let Ok(mut message) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    if message["method"] != "initialize" {
        return body;
    }
    let Some(workspace) = message
        .pointer_mut("/params/capabilities/workspace")
        .and_then(Value::as_object_mut)
    else {
        return body;
    };
    if workspace.contains_key("diagnostics") {
        return body;
    }
    let Some(singular) = workspace.get("diagnostic").cloned() else {
        return body;
    };
    workspace.insert("diagnostics".to_string(), singular);
    serde_json::to_vec(&message).unwrap_or(body)
}

/// Copy the client's frames to the server, answering the ones it cannot take.
pub(crate) async fn filter_input<R, W>(
    input: R,
    mut to_server: W,
    replies: mpsc::UnboundedSender<Vec<u8>>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = BufReader::new(input);
    loop {
        let reply = match read_frame(&mut reader).await {
            Frame::Closed => break,
            Frame::Invalid(problem) => {
                tracing::warn!("dropped a message from the client: {problem}");
                Some(error_reply(
                    Value::Null,
                    -32700,
                    &format!("Parse error: {problem}"),
                ))
            }
            Frame::Message(body) => match check_message(&body) {
                Some(reply) => {
                    tracing::warn!(
                        "answered a malformed message from the client: {}",
                        reply["error"]["message"]
                    );
                    Some(reply)
                }
                None => {
                    let body = with_spec_capability_names(body);
                    if to_server.write_all(&frame(&body)).await.is_err()
                        || to_server.flush().await.is_err()
                    {
                        break; // the server has exited
                    }
                    None
                }
            },
        };
        if let Some(reply) = reply
            && replies.send(frame(reply.to_string().as_bytes())).is_err()
        {
            break;
        }
    }
    // Dropping `to_server` tells the server the client is gone.
}

/// Write the server's frames and our error replies to the client, whole, until the
/// server's side closes.
pub(crate) async fn merge_output<R, O>(
    from_server: R,
    mut output: O,
    mut replies: mpsc::UnboundedReceiver<Vec<u8>>,
) where
    R: AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin,
{
    // Frames are read by their own task: `read_frame` must never be cancelled halfway
    // through a frame, which a `select!` arm would do.
    let (server_frames, mut from_server_frames) = mpsc::channel::<Vec<u8>>(64);
    let reader_task = tokio::spawn(async move {
        let mut reader = BufReader::new(from_server);
        loop {
            match read_frame(&mut reader).await {
                Frame::Message(body) => {
                    if server_frames.send(frame(&body)).await.is_err() {
                        break;
                    }
                }
                Frame::Invalid(problem) => {
                    tracing::error!("the server wrote a bad frame: {problem}")
                }
                Frame::Closed => break,
            }
        }
    });
    let mut replies_open = true;
    loop {
        let bytes = tokio::select! {
            biased;
            reply = replies.recv(), if replies_open => match reply {
                Some(bytes) => bytes,
                None => {
                    replies_open = false;
                    continue;
                }
            },
            server_frame = from_server_frames.recv() => match server_frame {
                Some(bytes) => bytes,
                None => break,
            },
        };
        if output.write_all(&bytes).await.is_err() || output.flush().await.is_err() {
            break;
        }
    }
    reader_task.abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(reply: Option<Value>) -> Option<i64> {
        reply.and_then(|reply| reply["error"]["code"].as_i64())
    }

    #[test]
    fn classifies_messages() {
        assert_eq!(
            code(check_message(
                b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}"
            )),
            None
        );
        assert_eq!(
            code(check_message(
                b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}"
            )),
            None
        );
        assert_eq!(code(check_message(b"{oops")), Some(-32700));
        assert_eq!(code(check_message(b"[1, 2]")), Some(-32600));
        assert_eq!(
            code(check_message(
                b"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}"
            )),
            Some(-32600)
        );
        assert_eq!(
            code(check_message(
                b"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}"
            )),
            Some(-32600)
        );
        assert_eq!(
            code(check_message(
                b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":7}"
            )),
            Some(-32600)
        );
        assert_eq!(
            code(check_message(
                b"{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":5}"
            )),
            Some(-32600)
        );
        let reply =
            check_message(b"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":7}").unwrap_or_default();
        assert_eq!(
            reply["id"], 9,
            "the reply names the request when its id is usable"
        );
    }

    #[tokio::test]
    async fn skips_garbage_and_recovers_at_the_next_frame() {
        let input: &[u8] =
            b"garbage\r\n\r\nContent-Length: nope\r\n\r\nContent-Length: 2\r\n\r\n{}";
        let mut reader = BufReader::new(input);
        assert!(matches!(read_frame(&mut reader).await, Frame::Invalid(_)));
        assert!(matches!(read_frame(&mut reader).await, Frame::Invalid(_)));
        assert!(matches!(read_frame(&mut reader).await, Frame::Message(body) if body == b"{}"));
        assert!(matches!(read_frame(&mut reader).await, Frame::Closed));
    }

    #[tokio::test]
    async fn a_truncated_body_means_the_client_is_gone() {
        let mut reader = BufReader::new(&b"Content-Length: 10\r\n\r\n{\"a\""[..]);
        assert!(matches!(read_frame(&mut reader).await, Frame::Closed));
    }
}
