// The packaged extension: `npm run package` must have produced stackaudit.vsix, and its
// manifest must contribute every setting, command and activation the extension promises.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vsix = path.join(root, 'stackaudit.vsix');

function entry(name) {
  return execFileSync('unzip', ['-p', vsix, name], { encoding: 'utf8' });
}

test('the .vsix contributes every setting and command', () => {
  assert.ok(existsSync(vsix), 'stackaudit.vsix is missing: run `npm run package` first');
  const listing = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  for (const file of ['extension/dist/extension.js', 'extension/package.json', 'extension/readme.md', 'extension/LICENSE.txt']) {
    assert.ok(listing.some((name) => name.toLowerCase() === file.toLowerCase()), `${file} is not packaged: ${listing}`);
  }
  const manifest = JSON.parse(entry('extension/package.json'));
  const properties = manifest.contributes.configuration.properties;
  assert.deepEqual(Object.keys(properties).sort(), [
    'stackaudit.args',
    'stackaudit.ignore',
    'stackaudit.path',
    'stackaudit.redis.defaultTtlSeconds',
    'stackaudit.select',
    'stackaudit.severity',
    'stackaudit.trace.server',
  ]);
  assert.equal(properties['stackaudit.path'].scope, 'machine-overridable');
  assert.deepEqual(
    manifest.contributes.commands.map((command) => command.command).sort(),
    ['stackaudit.fixAll', 'stackaudit.restartServer', 'stackaudit.showOutput'],
  );
  for (const language of ['python', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact', 'sql', 'dockerfile', 'dockercompose']) {
    assert.ok(manifest.activationEvents.includes(`onLanguage:${language}`), language);
  }
  assert.ok(manifest.activationEvents.includes('workspaceContains:**/docker-compose*.{yml,yaml}'));
  // The bundle carries vscode-languageclient and leaves `vscode` to the host.
  const bundle = entry('extension/dist/extension.js');
  assert.match(bundle, /require\("vscode"\)/);
  assert.doesNotMatch(bundle, /require\("vscode-languageclient/);
});
