//! Faults over the real protocol: what clients get wrong, what they send that is odd
//! or huge, and how they leave. The server answers, keeps its copy of each document
//! right, and never dies.

mod common;

use common::{TestClient, summarize};
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

const URI: &str = "file:///w/app/handlers.py";

/// A small module with one finding (`blocking-io-in-async` on line 2, 0-based).
const SLEEPER: &str = "import time\nasync def f():\n    time.sleep(1)\n";

async fn started() -> TestClient {
    let mut client = TestClient::in_process();
    client.initialize(&["utf-16"], Value::Null).await;
    client
}

fn rules_and_lines(diagnostics: &[Value]) -> Vec<(String, u64)> {
    summarize(diagnostics)
        .into_iter()
        .map(|(rule, line, ..)| (rule, line))
        .collect()
}

/// A handler whose commit has no rollback (a safe fix) and a blocking call.
fn handler(index: usize) -> String {
    format!(
        "\nasync def handler_{index}(db):\n    time.sleep(1)\n    try:\n        db.commit()\n    except Exception:\n        raise\n"
    )
}

#[tokio::test]
async fn a_slow_request_can_be_cancelled_and_the_server_keeps_serving() {
    let mut client = started().await;
    // Fixing every handler of a module this size takes seconds: long enough for the
    // cancellation, sent right behind the request, to arrive while it runs.
    let module: String = std::iter::once("import time\n".to_string())
        .chain((0..4_000).map(handler))
        .collect();
    client.open(URI, "python", 1, &module).await;
    assert_eq!(client.diagnostics(URI, 1).await.len(), 8_000);

    let request = common::fix_all_request("slow", URI);
    let cancel = json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": "slow"}});
    let mut both = common::frame(&request.to_string());
    both.extend(common::frame(&cancel.to_string()));
    client.send_raw(&both).await;
    let answer = client.wait_for(|message| message["id"] == "slow").await;
    assert_eq!(answer["error"]["code"], -32800, "{answer}");

    // Still serving, and the document is still known.
    let hover = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": URI}, "position": {"line": 3, "character": 6}}),
        )
        .await;
    assert!(
        hover["result"]["contents"]["value"]
            .as_str()
            .is_some_and(|text| text.contains("blocking-io-in-async")),
        "{hover}"
    );
}

#[tokio::test]
async fn a_change_to_a_document_that_is_not_open_is_ignored() {
    let mut client = started().await;
    let at = json!({"line": 0, "character": 0});
    client
        .change(
            URI,
            2,
            json!([{"range": {"start": at, "end": at}, "text": "import time\n"}]),
        )
        .await;
    // No diagnostics for it; the server serves the next document as usual.
    let other = "file:///w/app/other.py";
    client.open(other, "python", 1, SLEEPER).await;
    assert_eq!(
        rules_and_lines(&client.diagnostics(other, 1).await),
        vec![("blocking-io-in-async".to_string(), 2)]
    );
    let code_actions = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": URI}, "range": {"start": at, "end": at}, "context": {"diagnostics": []}}),
        )
        .await;
    assert_eq!(code_actions["result"], Value::Null);
    assert!(
        client
            .drain_backlog()
            .iter()
            .all(|message| message["params"]["uri"] != URI),
        "published diagnostics for a document that is not open"
    );
}

#[tokio::test]
async fn a_version_that_goes_backwards_still_gets_the_new_texts_diagnostics() {
    let mut client = started().await;
    client.open(URI, "python", 5, SLEEPER).await;
    assert_eq!(client.diagnostics(URI, 5).await.len(), 1);
    // The client restarts its numbering: the text it sends is still the truth.
    client
        .change(
            URI,
            3,
            json!([{"text": "import time\n\n\nasync def g():\n    time.sleep(2)\n"}]),
        )
        .await;
    assert_eq!(
        rules_and_lines(&client.diagnostics(URI, 3).await),
        vec![("blocking-io-in-async".to_string(), 4)]
    );
    let at = json!({"line": 4, "character": 4});
    client
        .change(
            URI,
            4,
            json!([{"range": {"start": at, "end": at}, "text": "x"}]),
        )
        .await;
    assert_eq!(client.diagnostics(URI, 4).await, Vec::<Value>::new());
}

/// The finding on line `line` (0-based) must be there, exact to the character.
fn blocking_at(line: u64, start: u64) -> (String, u64, u64, u64, u64) {
    (
        "blocking-io-in-async".to_string(),
        line,
        start,
        line,
        start + "time.sleep(1)".len() as u64,
    )
}

#[tokio::test]
async fn a_10_mb_file_is_audited_and_other_documents_are_served_meanwhile() {
    let mut client = started().await;
    let filler = "ROWS.append({'id': 1, 'name': 'x' * 40})  # generated data\n".repeat(175_000);
    let big = format!("import time\nROWS = []\n{filler}async def late():\n    time.sleep(1)\n");
    assert!(big.len() >= 10_000_000, "{}", big.len());
    let last_line = big.lines().count() as u64 - 1;
    let big_uri = "file:///w/app/generated.py";
    client.open(big_uri, "python", 1, &big).await;
    client.open(URI, "python", 1, SLEEPER).await;
    assert_eq!(
        summarize(&client.diagnostics(URI, 1).await),
        vec![blocking_at(2, 4)]
    );
    assert_eq!(
        summarize(&client.diagnostics(big_uri, 1).await),
        vec![blocking_at(last_line, 4)]
    );
    // An edit at its very end is applied to the right place.
    let end = json!({"line": last_line, "character": 4});
    client
        .change(
            big_uri,
            2,
            json!([{"range": {"start": end, "end": end}, "text": "    "}]),
        )
        .await;
    assert_eq!(
        summarize(&client.diagnostics(big_uri, 2).await),
        vec![blocking_at(last_line, 8)]
    );
}

#[tokio::test]
async fn a_line_of_100_000_characters_keeps_positions_exact() {
    let mut client = started().await;
    // Multi-byte characters, so UTF-16 columns differ from bytes: 50,000 `é` + 50,000 `😀`
    // is 100,000 characters, 150,000 UTF-16 units.
    let long = format!("{}{}", "é".repeat(50_000), "😀".repeat(50_000));
    let source = format!("import time\nasync def f():\n    s = \"{long}\"; time.sleep(1)\n");
    client.open(URI, "python", 1, &source).await;
    let column = 4 + "s = \"".len() as u64 + 150_000 + "\"; ".len() as u64;
    assert_eq!(
        summarize(&client.diagnostics(URI, 1).await),
        vec![blocking_at(2, column)]
    );
    // Type at the middle of the line, between two halves of nothing: a whole `😀` in.
    let middle = json!({"line": 2, "character": 4 + 5 + 50_000});
    client
        .change(
            URI,
            2,
            json!([{"range": {"start": middle, "end": middle}, "text": "😀"}]),
        )
        .await;
    assert_eq!(
        summarize(&client.diagnostics(URI, 2).await),
        vec![blocking_at(2, column + 2)]
    );
}

/// 10,000 levels of brackets, parentheses, calls and YAML/Dockerfile nesting: no stack
/// overflow, and the findings beside them are still reported. (10,000 levels of
/// indentation are refused before parsing: see the next test.)
#[tokio::test]
async fn ten_thousand_levels_of_nesting_do_not_overflow_the_stack() {
    let mut client = started().await;
    let depth = 10_000;
    let brackets = format!("{}1{}", "[(".repeat(depth / 2), ")]".repeat(depth / 2));
    let python = format!("import time\nDATA = {brackets}\nasync def f():\n    time.sleep(1)\n");
    client.open(URI, "python", 1, &python).await;
    assert_eq!(
        summarize(&client.diagnostics(URI, 1).await),
        vec![blocking_at(3, 4)]
    );

    let blocks: String = (0..depth)
        .map(|level| format!("{}if x:\n", " ".repeat(level)))
        .collect();
    let deep_blocks = format!(
        "import time\nasync def f():\n    time.sleep(1)\n{blocks}{}pass\n",
        " ".repeat(depth)
    );
    let blocks_uri = "file:///w/app/deep.py";
    client.open(blocks_uri, "python", 1, &deep_blocks).await;
    assert_eq!(
        client.diagnostics(blocks_uri, 1).await,
        Vec::<Value>::new(),
        "refused: deeper than the Python grammar handles safely"
    );

    // Rules that look through parentheses and `.pipeline()` calls to a Redis client, at
    // 10,000 levels: both overflowed the stack before `handle_of` became a loop.
    let wrapped = format!("{}r{}", "(".repeat(depth), ")".repeat(depth));
    let pipelines = ".pipeline()".repeat(depth);
    let redis = format!(
        "import redis\nr = redis.Redis(socket_timeout=1)\ndef f(x):\n    {wrapped}.set(f\"k:{{x}}\", 1)\n    r{pipelines}.set(f\"k:{{x}}\", 2)\n"
    );
    let redis_uri = "file:///w/app/cache.py";
    client.open(redis_uri, "python", 1, &redis).await;
    assert_eq!(
        rules_and_lines(&client.diagnostics(redis_uri, 1).await),
        vec![
            ("redis-key-without-ttl".to_string(), 3),
            ("redis-key-without-ttl".to_string(), 4)
        ]
    );

    // 370 levels, within the limit: a finding at the bottom is found.
    let levels = 370;
    let ifs: String = (0..levels)
        .map(|level| format!("{}if x:\n", " ".repeat(4 + level)))
        .collect();
    let deep_finding = format!(
        "import time\nasync def f():\n{ifs}{}time.sleep(1)\n",
        " ".repeat(4 + levels)
    );
    let deep_finding_uri = "file:///w/app/deep_finding.py";
    client
        .open(deep_finding_uri, "python", 1, &deep_finding)
        .await;
    assert_eq!(
        summarize(&client.diagnostics(deep_finding_uri, 1).await),
        vec![blocking_at(2 + levels as u64, 4 + levels as u64)]
    );

    let compose_uri = "file:///w/compose.yml";
    let nested_yaml = format!(
        "services:\n  api:\n    environment:\n      - PASSWORD=hunter2\n    labels: {}x{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    client.open(compose_uri, "yaml", 1, &nested_yaml).await;
    assert_eq!(
        rules_and_lines(&client.diagnostics(compose_uri, 1).await),
        vec![("docker-hardcoded-secret".to_string(), 3)]
    );

    let dockerfile_uri = "file:///w/Dockerfile";
    let continued = "RUN echo \\\n".repeat(depth);
    let dockerfile = format!("FROM python:3.12\nENV API_TOKEN=abc123\n{continued}  done\n");
    client
        .open(dockerfile_uri, "dockerfile", 1, &dockerfile)
        .await;
    assert_eq!(
        rules_and_lines(&client.diagnostics(dockerfile_uri, 1).await),
        vec![("docker-hardcoded-secret".to_string(), 1)]
    );
}

#[tokio::test]
async fn requests_before_initialize_and_after_shutdown_get_the_specs_errors() {
    let mut client = TestClient::in_process();
    let early = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}),
        )
        .await;
    assert_eq!(early["error"]["code"], -32002, "{early}");
    client.initialize(&["utf-16"], Value::Null).await;
    client.open(URI, "python", 1, SLEEPER).await;
    assert_eq!(client.diagnostics(URI, 1).await.len(), 1);
    assert_eq!(
        client.request("shutdown", Value::Null).await["result"],
        Value::Null
    );
    let late = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": URI}, "position": {"line": 2, "character": 6}}),
        )
        .await;
    assert_eq!(late["error"]["code"], -32600, "{late}");
    let again = client.request("shutdown", Value::Null).await;
    assert_eq!(again["error"]["code"], -32600, "{again}");
}

/// JSON text must be UTF-8: a document sent with other bytes (a Latin-1 file an editor
/// passed through unconverted) is refused as a parse error, and the next one is served.
#[tokio::test]
async fn a_document_that_is_not_utf8_is_refused_and_the_server_keeps_serving() {
    let mut client = started().await;
    let mut body = br#"{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///w/latin1.py", "languageId": "python", "version": 1, "text": "caf"#.to_vec();
    body.extend(b"\xe9 = 1\\nimport time\\nasync def f():\\n    time.sleep(1)\\n\"}}}");
    let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    framed.extend(body);
    client.send_raw(&framed).await;
    let error = client
        .wait_for(|message| message.get("error").is_some())
        .await;
    assert_eq!(error["error"]["code"], -32700, "{error}");
    client.open(URI, "python", 1, SLEEPER).await;
    assert_eq!(
        rules_and_lines(&client.diagnostics(URI, 1).await),
        vec![("blocking-io-in-async".to_string(), 2)]
    );
    assert!(
        client
            .drain_backlog()
            .iter()
            .all(|message| message["params"]["uri"] != "file:///w/latin1.py")
    );
}

/// Indentation deep enough to overflow the grammars' scanner state (a process abort in
/// tree-sitter-python 0.25 and tree-sitter-yaml 0.7.2, upstream issues #350 and #48):
/// the document is not parsed, nothing is published for it, and the server lives on.
#[tokio::test]
async fn indentation_too_deep_for_the_parsers_is_refused_without_a_crash() {
    let mut client = started().await;
    let python: String = (0..600)
        .map(|level| format!("{}if 1:\n", " ".repeat(level)))
        .chain(std::iter::once(format!("{}'a'\n", " ".repeat(600))))
        .collect();
    let python = format!("import time\nasync def f():\n    time.sleep(1)\n{python}");
    let deep_python = "file:///w/app/deep_python.py";
    client.open(deep_python, "python", 1, &python).await;
    assert_eq!(
        client.diagnostics(deep_python, 1).await,
        Vec::<Value>::new()
    );

    let yaml: String = (0..300)
        .map(|level| format!("{}a:\n", " ".repeat(level)))
        .collect();
    let deep_yaml = "file:///w/compose.yml";
    client
        .open(
            deep_yaml,
            "yaml",
            1,
            &format!("services:\n  api:\n    environment:\n      - PASSWORD=x\n{yaml}"),
        )
        .await;
    assert_eq!(client.diagnostics(deep_yaml, 1).await, Vec::<Value>::new());

    // Typing the indentation away makes it auditable again.
    let start = json!({"line": 3, "character": 0});
    let end = json!({"line": 700, "character": 0});
    client
        .change(
            deep_python,
            2,
            json!([{"range": {"start": start, "end": end}, "text": ""}]),
        )
        .await;
    assert_eq!(
        summarize(&client.diagnostics(deep_python, 2).await),
        vec![blocking_at(2, 4)]
    );
}

/// Call chains and nests of 5,000 calls that each hold a finding, or each look like
/// one: auditing them is linear (it was quadratic: every call climbed the tree or
/// copied its arguments, minutes for these), so they are published like any file.
#[tokio::test]
async fn thousands_of_nested_or_chained_calls_are_audited_in_linear_time() {
    let mut client = started().await;
    let depth = 5_000;
    let source = format!(
        "import time\nimport redis\nr = redis.Redis(socket_timeout=1)\nasync def f(db):\n    x = {}1{}\n    db{}\n    r{}\n",
        "time.sleep(".repeat(depth),
        ")".repeat(depth),
        ".commit()".repeat(depth),
        ".set(f\"k:{db}\", 1)".repeat(depth),
    );
    client.open(URI, "python", 1, &source).await;
    let diagnostics = client.diagnostics(URI, 1).await;
    let count = |rule: &str, line: u64| {
        rules_and_lines(&diagnostics)
            .iter()
            .filter(|found| found.0 == rule && found.1 == line)
            .count()
    };
    // Every nested sleep blocks. Only the first `.set` of the chain is called on the
    // client (the others on what it returned): it blocks and creates a key. The commits
    // are on a session the function was given.
    assert_eq!(count("blocking-io-in-async", 4), depth);
    assert_eq!(count("blocking-io-in-async", 6), 1);
    assert_eq!(count("redis-key-without-ttl", 6), 1);
    assert_eq!(diagnostics.len(), depth + 2);
}
