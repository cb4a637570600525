// Drives `stackaudit server` with Microsoft's vscode-languageserver-protocol client
// stack (what VS Code's language client is built on), announcing VS Code's client
// capabilities, through a whole session. Run: STACKAUDIT_BIN=... npm test
//
// vscode-client-capabilities.json is what VS Code 1.139.1 (code-server 4.139.1) sent
// in `initialize`, captured from the end-to-end test by pointing `stackaudit.path` at a
// script that tees the server's stdin.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import rpc from 'vscode-languageserver-protocol/node';

const here = path.dirname(fileURLToPath(import.meta.url));
const binary = process.env.STACKAUDIT_BIN ?? path.resolve(here, '../../../target/release/stackaudit');
const capabilities = JSON.parse(readFileSync(path.join(here, 'vscode-client-capabilities.json'), 'utf8'));
const uri = 'file:///workspace/app/handlers.py';
const handler = 'import time\n\nasync def handler():\n    time.sleep(1)\n';

function startServer() {
  const child = spawn(binary, ['server'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const connection = rpc.createProtocolConnection(
    new rpc.StreamMessageReader(child.stdout),
    new rpc.StreamMessageWriter(child.stdin),
  );
  const published = [];
  const waiters = [];
  const registrations = [];
  const refreshes = [];
  connection.onRequest(rpc.DiagnosticRefreshRequest.type, () => {
    refreshes.push(Date.now());
    for (const waiter of [...waiters]) waiter();
    return null;
  });
  connection.onNotification(rpc.PublishDiagnosticsNotification.type, (params) => {
    published.push(params);
    for (const waiter of [...waiters]) waiter();
  });
  connection.onRequest(rpc.RegistrationRequest.type, (params) => {
    registrations.push(...params.registrations);
    for (const waiter of [...waiters]) waiter();
    return null;
  });
  connection.onNotification(rpc.LogMessageNotification.type, () => {});
  connection.onNotification(rpc.ShowMessageNotification.type, () => {});
  connection.listen();
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));

  /// VS Code pulls a document's diagnostics after opening and after each change,
  /// naming the result it holds; the report, in full or `unchanged`.
  let held;
  async function pull() {
    const report = await connection.sendRequest(rpc.DocumentDiagnosticRequest.type, {
      textDocument: { uri },
      identifier: 'stackaudit',
      previousResultId: held,
    });
    held = report.resultId;
    return report;
  }
  /// The diagnostics of the current text, pulled.
  async function diagnostics() {
    const report = await pull();
    assert.equal(report.kind, 'full');
    return report.items;
  }
  /// Resolves once the server has asked for `count` refreshes (waits up to 20 s).
  function refreshed(count) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fewer than ${count} refreshes`)), 20000);
      const check = () => {
        if (refreshes.length >= count) {
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          resolve();
        }
      };
      waiters.push(check);
      check();
    });
  }
  /// The methods the server registered, once it has registered `count` (waits up to 20 s):
  /// registrations and diagnostics travel separately, in no promised order.
  function registered(count) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fewer than ${count} registrations`)), 20000);
      const check = () => {
        if (registrations.length >= count) {
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          resolve(registrations.map((registration) => registration.method));
        }
      };
      waiters.push(check);
      check();
    });
  }
  return { child, connection, diagnostics, pull, refreshes, refreshed, registered, exited, published };
}

function applyEdits(text, edits) {
  const offset = ({ line, character }) => {
    const lines = text.split('\n');
    let at = 0;
    for (let index = 0; index < line; index += 1) at += lines[index].length + 1;
    return at + character;
  };
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  for (const edit of sorted) {
    text = text.slice(0, offset(edit.range.start)) + edit.newText + text.slice(offset(edit.range.end));
  }
  return text;
}

test('a VS Code-shaped session against the real server', async () => {
  const { child, connection, diagnostics, pull, refreshes, refreshed, registered, exited, published } = startServer();

  const initialized = await connection.sendRequest(rpc.InitializeRequest.type, {
    processId: process.pid,
    clientInfo: { name: 'code-server', version: '1.139.1' },
    rootUri: 'file:///workspace',
    workspaceFolders: [{ uri: 'file:///workspace', name: 'workspace' }],
    capabilities,
    // What the extension sends when the user has set nothing (see serverSettings).
    initializationOptions: {
      select: null,
      ignore: null,
      severity: null,
      redis: { defaultTtlSeconds: null },
      http: { defaultTimeoutSeconds: null },
      configurationPreference: 'editorFirst',
    },
  });
  assert.equal(initialized.capabilities.positionEncoding, 'utf-16');
  assert.equal(initialized.capabilities.textDocumentSync.change, rpc.TextDocumentSyncKind.Incremental);
  assert.equal(initialized.capabilities.codeActionProvider.resolveProvider, true);
  assert.equal(initialized.serverInfo.name, 'stackaudit');
  // VS Code pulls and can be told to pull again: it is served by pull, never pushed to.
  assert.deepEqual(initialized.capabilities.diagnosticProvider, {
    identifier: 'stackaudit',
    interFileDependencies: true,
    workspaceDiagnostics: true,
  });
  await connection.sendNotification(rpc.InitializedNotification.type, {});

  await connection.sendNotification(rpc.DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: 'python', version: 1, text: handler },
  });
  const [finding] = await diagnostics();
  assert.deepEqual(finding.range, { start: { line: 3, character: 4 }, end: { line: 3, character: 17 } });
  assert.equal(finding.code, 'blocking-io-in-async');
  assert.equal(finding.source, 'stackaudit');
  assert.equal(finding.severity, rpc.DiagnosticSeverity.Warning);
  assert.match(finding.codeDescription.href, /#blocking-io-in-async$/);
  assert.deepEqual(
    await registered(1),
    ['workspace/didChangeWatchedFiles'],
    'VS Code can watch files, so the server asks it to watch its configuration',
  );
  // Nothing changed: the report it holds still stands.
  assert.equal((await pull()).kind, 'unchanged');

  // Type a line above: the finding moves down.
  await connection.sendNotification(rpc.DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text: '# 😀 note\n' }],
  });
  const [moved] = await diagnostics();
  assert.equal(moved.range.start.line, 4);
  let text = 'import time\n# 😀 note\n\nasync def handler():\n    time.sleep(1)\n';

  const actions = await connection.sendRequest(rpc.CodeActionRequest.type, {
    textDocument: { uri },
    range: moved.range,
    context: { diagnostics: [moved], triggerKind: rpc.CodeActionTriggerKind.Invoked },
  });
  assert.deepEqual(
    actions.map((action) => [action.kind, action.title]),
    [
      ['quickfix', 'Replace with `await asyncio.sleep(...)`'],
      ['quickfix', 'Ignore blocking-io-in-async on this line'],
      ['source.fixAll.stackaudit', 'Fix all safe stackaudit findings'],
    ],
  );
  const fixAll = await connection.sendRequest(rpc.CodeActionResolveRequest.type, actions[2]);
  assert.equal(fixAll.edit.changes[uri].length, 1);

  const quickFix = await connection.sendRequest(rpc.CodeActionResolveRequest.type, actions[0]);
  text = applyEdits(text, quickFix.edit.changes[uri]);
  assert.equal(text, 'import asyncio\nimport time\n# 😀 note\n\nasync def handler():\n    await asyncio.sleep(1)\n');

  const hover = await connection.sendRequest(rpc.HoverRequest.type, {
    textDocument: { uri },
    position: { line: 4, character: 8 },
  });
  assert.equal(hover.contents.kind, 'markdown');
  assert.match(hover.contents.value, /\*\*Before\*\*/);
  assert.match(hover.contents.value, /await asyncio\.sleep\(1\)/);

  await connection.sendNotification(rpc.DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 3 },
    contentChanges: [{ text }],
  });
  assert.deepEqual(await diagnostics(), []);

  // Settings change the way the extension sends them: the section under its name.
  await connection.sendNotification(rpc.DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 4 },
    contentChanges: [{ text: handler }],
  });
  assert.equal((await diagnostics()).length, 1);
  const refreshesBefore = refreshes.length;
  await connection.sendNotification(rpc.DidChangeConfigurationNotification.type, {
    settings: { stackaudit: { ignore: ['blocking-io-in-async'] } },
  });
  // The server asks VS Code to pull again; the document's report is empty now.
  await refreshed(refreshesBefore + 1);
  assert.deepEqual(await diagnostics(), []);
  assert.deepEqual(published, [], 'a client that pulls is never pushed to');

  await connection.sendRequest(rpc.ShutdownRequest.type);
  await connection.sendNotification(rpc.ExitNotification.type);
  assert.equal(await exited, 0);
  connection.dispose();
  child.stdin.destroy();
});
