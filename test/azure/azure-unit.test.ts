// The Azure layer's small rules without a server: credential failures and ARM statuses as typed errors, the
// subscription found the way the Azure CLI stores it, snapshot names within ARM's rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { armError, defaultSnapshotName, resolveSubscription } from '../../src/azure/index.js';
import { tempDir } from '../helpers/tools.js';

test('ARM failures become azure.auth / azure.notFound / azure.request, quoting ARM without any SAS', () => {
  const unavailable = Object.assign(new Error('EnvironmentCredential is unavailable'), {
    name: 'CredentialUnavailableError',
  });
  assert.equal(armError('virtualMachines.get rg/vm', unavailable).code, 'azure.auth');
  assert.match(armError('op', unavailable).message, /az login/);
  const rest = (statusCode: number, code: string, message: string) =>
    Object.assign(new Error(message), { name: 'RestError', statusCode, code });
  assert.equal(armError('op', rest(403, 'AuthorizationFailed', 'no')).code, 'azure.auth');
  assert.equal(armError('op', rest(404, 'ResourceNotFound', 'gone')).code, 'azure.notFound');
  const e = armError(
    'snapshots.grantAccess rg/s',
    rest(409, 'Conflict', 'see https://x/y?sv=1&sig=TOPSECRET'),
  );
  assert.equal(e.code, 'azure.request');
  assert.match(e.message, /^snapshots\.grantAccess rg\/s: HTTP 409 Conflict: /);
  assert.ok(!e.message.includes('TOPSECRET'));
  assert.equal(e.exitCode, 2);
});

test('the subscription: --subscription, else AZURE_SUBSCRIPTION_ID, else the az CLI default (file with a BOM)', async () => {
  const t = tempDir();
  const saved = { dir: process.env.AZURE_CONFIG_DIR, sub: process.env.AZURE_SUBSCRIPTION_ID };
  try {
    process.env.AZURE_CONFIG_DIR = t.dir;
    delete process.env.AZURE_SUBSCRIPTION_ID;
    await assert.rejects(resolveSubscription(), { code: 'azure.auth' });
    writeFileSync(
      join(t.dir, 'azureProfile.json'),
      '\uFEFF' +
        JSON.stringify({
          installationId: 'x',
          subscriptions: [
            { id: 'aaaa', isDefault: false },
            { id: 'bbbb', isDefault: true },
          ],
        }),
    );
    assert.equal(await resolveSubscription(), 'bbbb');
    process.env.AZURE_SUBSCRIPTION_ID = 'cccc';
    assert.equal(await resolveSubscription(), 'cccc');
    assert.equal(await resolveSubscription('dddd'), 'dddd');
  } finally {
    if (saved.dir === undefined) delete process.env.AZURE_CONFIG_DIR;
    else process.env.AZURE_CONFIG_DIR = saved.dir;
    if (saved.sub === undefined) delete process.env.AZURE_SUBSCRIPTION_ID;
    else process.env.AZURE_SUBSCRIPTION_ID = saved.sub;
    t.cleanup();
  }
});

test('snapshot names keep to ARM rules (1–80 of letters, digits, _ . -) whatever the VM name', () => {
  assert.equal(
    defaultSnapshotName('vm1', new Date('2026-11-24T22:15:00.123Z')),
    'vm1-winrescue-20261124-221500',
  );
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 100 }),
      fc.date({ noInvalidDate: true, min: new Date(0) }),
      (vm, d) => {
        const n = defaultSnapshotName(vm, d);
        return n.length >= 1 && n.length <= 80 && /^[A-Za-z0-9_.-]+$/.test(n);
      },
    ),
  );
});
