// The stackaudit VS Code extension: starts `stackaudit server` and connects it to
// VS Code through vscode-languageclient. All auditing happens in the server; this file
// only finds the binary, passes settings, and adds three commands.

import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
} from 'vscode-languageclient/node';

const SECTION = 'stackaudit';
let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel | undefined;

/// Exactly the documents the server audits (the list grows as languages land): by
/// language id, and by name so compose files work without a compose language extension.
const DOCUMENT_SELECTOR = [
  ...['python', 'dockerfile', 'dockercompose', 'sql'].map((language) => ({ language })),
  { pattern: '**/{docker-compose,compose}*.{yml,yaml}' },
  { pattern: '**/{Dockerfile,Containerfile,Dockerfile.*,*.dockerfile}' },
];

/// The settings the server reads, as `initializationOptions`. Every key is sent, `null`
/// where the user set nothing: the server then takes the project's `stackaudit.toml`,
/// so the editor and `stackaudit check` agree. (Changes travel the same way, as the
/// whole section, through `synchronize.configurationSection`.)
function serverSettings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const setting = (key: string): unknown => config.get<unknown>(key) ?? null;
  return {
    select: setting('select'),
    ignore: setting('ignore'),
    severity: setting('severity'),
    redis: { defaultTtlSeconds: setting('redis.defaultTtlSeconds') },
    http: { defaultTimeoutSeconds: setting('http.defaultTimeoutSeconds') },
    generatedFiles: setting('generatedFiles'),
    configurationPreference: setting('configurationPreference'),
  };
}

/// The binary to start: the `stackaudit.path` setting, else `stackaudit` on PATH.
/// Returns the path tried and whether it exists, for a useful error.
function resolveBinary(): { command: string; found: boolean } {
  const configured = vscode.workspace.getConfiguration(SECTION).get<string>('path', '').trim();
  if (configured) {
    return { command: configured, found: fs.existsSync(configured) };
  }
  const name = process.platform === 'win32' ? 'stackaudit.exe' : 'stackaudit';
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) {
      return { command: candidate, found: true };
    }
  }
  return { command: name, found: false };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const { command, found } = resolveBinary();
  if (!found) {
    void vscode.window.showErrorMessage(
      `stackaudit: the server binary was not found (tried \`${command}\`). ` +
        'Install it with `cargo install --path .` or set `stackaudit.path`.',
    );
    return;
  }
  const args = ['server', ...vscode.workspace.getConfiguration(SECTION).get<string[]>('args', [])];
  const serverOptions: ServerOptions = { command, args };
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_SELECTOR,
    initializationOptions: serverSettings(),
    // Settings changes reach the server as workspace/didChangeConfiguration.
    synchronize: { configurationSection: SECTION },
    outputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
  };
  client = new LanguageClient(SECTION, 'stackaudit', serverOptions, clientOptions);
  output?.info(`starting ${command} ${args.join(' ')}`);
  try {
    await client.start();
    output?.info('server started');
  } catch (error) {
    client = undefined;
    void vscode.window.showErrorMessage(
      `stackaudit: the server at \`${command}\` did not start: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  context.subscriptions.push({ dispose: () => void client?.stop() });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('stackaudit', { log: true });
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('stackaudit.restartServer', async () => {
      if (client) {
        await client.stop();
        client = undefined;
      }
      await start(context);
    }),
    vscode.commands.registerCommand('stackaudit.fixAll', async () => {
      await vscode.commands.executeCommand('editor.action.codeAction', {
        kind: 'source.fixAll.stackaudit',
        apply: 'first',
      });
    }),
    vscode.commands.registerCommand('stackaudit.showOutput', () => output?.show()),
    // Where the binary is, and its arguments, only take effect on a (re)start. Settings
    // that arrive after activation (remote machine settings can) start the server too.
    vscode.workspace.onDidChangeConfiguration(async (change) => {
      if (change.affectsConfiguration('stackaudit.path') || change.affectsConfiguration('stackaudit.args')) {
        await vscode.commands.executeCommand('stackaudit.restartServer');
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
