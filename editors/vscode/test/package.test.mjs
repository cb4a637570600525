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
    'stackaudit.configurationPreference',
    'stackaudit.generatedFiles',
    'stackaudit.http.defaultTimeoutSeconds',
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
  // Activation follows exactly the languages the server audits.
  assert.deepEqual(
    manifest.activationEvents.filter((event) => event.startsWith('onLanguage:')),
    ['onLanguage:python', 'onLanguage:dockerfile', 'onLanguage:dockercompose', 'onLanguage:sql'],
  );
  // Settings the user has not set are unset (null), never the server's defaults, so the
  // project's stackaudit.toml applies in the editor as it does in `stackaudit check`.
  for (const key of ['select', 'ignore', 'severity', 'redis.defaultTtlSeconds', 'http.defaultTimeoutSeconds', 'generatedFiles']) {
    assert.equal(properties[`stackaudit.${key}`].default, null, key);
  }
  assert.equal(properties['stackaudit.configurationPreference'].default, 'editorFirst');
  assert.equal(manifest.engines.node, '>=22', 'packaging with @vscode/vsce 4.1 needs Node 22');
  assert.ok(manifest.activationEvents.includes('workspaceContains:**/docker-compose*.{yml,yaml}'));
  // The bundle carries vscode-languageclient and leaves `vscode` to the host.
  const bundle = entry('extension/dist/extension.js');
  assert.match(bundle, /require\("vscode"\)/);
  assert.doesNotMatch(bundle, /require\("vscode-languageclient/);
});

test('the packaged README links where the files are', () => {
  const readme = entry('extension/readme.md');
  const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]);
  assert.ok(targets.length > 0, 'the README links nothing');
  for (const target of targets) {
    assert.match(target, /^https:\/\//, `relative link left in the packaged README: ${target}`);
    assert.doesNotMatch(target, /\/\.\.\//, `a link climbs out of the repository: ${target}`);
  }
  const images = targets.filter((target) => target.endsWith('.png'));
  assert.deepEqual(images, [
    'https://github.com/stackaudit/stackaudit/raw/HEAD/editors/vscode/images/squiggles.png',
    'https://github.com/stackaudit/stackaudit/raw/HEAD/editors/vscode/images/quick-fix-menu.png',
  ]);
  for (const image of images) {
    const local = path.join(root, image.split('/editors/vscode/')[1]);
    assert.ok(existsSync(local), `${image} names no file in editors/vscode`);
  }
});
