// The Azure flow of `azure diagnose` against a local HTTPS TEST DOUBLE of the Compute operations (arm-double.ts)
// and Azurite for the blobs: the right calls in the right order with the right bodies, long-running operations
// polled through Azure-AsyncOperation, 429 + Retry-After waited for, and the snapshot's access revoked and the
// snapshot deleted whichever step fails. Oracle for the disk part: `diagnose` of the local file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDisk, type BuiltDisk } from '../fixtures/index.js';
import { type Azurite, blobSasUrl, startAzurite, uploadPageBlob } from './azurite.js';
import { type ArmDouble, type ArmDoubleOptions, startArmDouble } from './arm-double.js';
import { winrescueAsync } from './cli.js';
import { startFaultProxy } from './fault-proxy.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/testdata.js';
import { renderScreen } from '../diagnose/screens/screens.js';
import { azureDiagnose, connectCompute, staticTokenCredential } from '../../src/azure/index.js';
import { diagnose } from '../../src/api/diagnose.js';
import { isWinrescueError } from '../../src/errors.js';

const SUB = '00000000-1111-2222-3333-444444444444';
const RG = 'rescue-rg';
const VM = 'vm1';
const TOKEN = 'test-token-not-a-secret';
const SERIAL_LOG = [
  '\x1b[2J\x1b[HWindows Boot Manager',
  '',
  'Windows failed to start. A recent hardware or software change might be the cause.',
  '',
  'File: \\Windows\\System32\\drivers\\cng.sys',
  '',
  'Status: 0xc0000102',
  '',
  "Info: The operating system couldn't be loaded because a critical system driver is missing or contains errors.",
  '',
].join('\r\n');

let az: Azurite;
let arm: ArmDouble;
let disk: BuiltDisk;
let diskSas: string;
let logSas: string;
let shotSas: string;
const secrets: string[] = [];

before(async () => {
  disk = await buildDisk({ gen: 1, flavour: 'synthetic', formats: ['vhd'] });
  az = await startAzurite();
  await uploadPageBlob(az, 'snapshots', 'os.vhd', disk.vhd!);
  const diag = az.service.getContainerClient('bootdiagnostics');
  await diag.createIfNotExists();
  await diag.getBlockBlobClient('vm1.serialconsole.log').upload(SERIAL_LOG, SERIAL_LOG.length);
  const bmp = renderScreen({
    id: 1,
    kind: 'boot-manager',
    width: 640,
    height: 480,
    code: 0xc0000102,
    path: '\\Windows\\System32\\drivers\\cng.sys',
    blur: 0,
    noise: 0,
    jpeg: 0,
    format: 'bmp',
  });
  await diag.getBlockBlobClient('vm1.screenshot.bmp').upload(bmp, bmp.length);
  diskSas = blobSasUrl(az, 'snapshots', 'os.vhd');
  logSas = blobSasUrl(az, 'bootdiagnostics', 'vm1.serialconsole.log');
  shotSas = blobSasUrl(az, 'bootdiagnostics', 'vm1.screenshot.bmp');
  for (const u of [diskSas, logSas, shotSas]) secrets.push(new URL(u).searchParams.get('sig')!);
  arm = await startArmDouble({ accessSas: diskSas });
});

after(async () => {
  await arm?.stop();
  await az?.stop();
});

function reset(options: Partial<ArmDoubleOptions>): void {
  arm.calls.length = 0;
  arm.snapshots.clear();
  arm.options = { accessSas: diskSas, serialLogUri: logSas, ...options };
}

async function ops() {
  return connectCompute({
    subscriptionId: SUB,
    credential: staticTokenCredential(TOKEN),
    endpoint: arm.endpoint,
    clientOptions: { tlsOptions: { ca: arm.ca }, retryOptions: { retryDelayInMs: 10, maxRetries: 3 } },
    pollIntervalMs: 10,
  });
}

const FULL_FLOW = [
  'POST retrieveBootDiagnosticsData',
  `GET ${VM}`,
  'PUT snap1',
  'GET snap1',
  'POST beginGetAccess',
  'POST endGetAccess',
  'DELETE snap1',
];

test('--read-disk: boot diagnostics, VM, incremental snapshot, read SAS, diagnosis over it, revoke, delete — in that order', async () => {
  reset({});
  const r = await azureDiagnose({
    vm: VM,
    resourceGroup: RG,
    ops: await ops(),
    readDisk: true,
    snapshotName: 'snap1',
    pollIntervalMs: 10,
  });
  assert.deepEqual(arm.steps(), FULL_FLOW);
  const base = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Compute`;
  const put = arm.calls.find((c) => c.method === 'PUT')!;
  assert.equal(put.path, `${base}/snapshots/snap1`);
  assert.deepEqual(put.body, {
    location: 'westeurope',
    properties: {
      incremental: true,
      creationData: { createOption: 'Copy', sourceResourceId: `${base}/disks/${VM}_OsDisk_1` },
    },
  });
  const grant = arm.calls.find((c) => c.path.endsWith('/beginGetAccess'))!;
  assert.deepEqual(grant.body, { access: 'Read', durationInSeconds: 3600 });
  const boot = arm.calls.find((c) => c.path.endsWith('/retrieveBootDiagnosticsData'))!;
  assert.ok(Number(boot.query.sasUriExpirationTimeInMinutes) > 0);
  for (const c of arm.calls) {
    assert.equal(c.authorization, `Bearer ${TOKEN}`);
    assert.ok(c.apiVersion, `${c.method} ${c.path} carries an api-version`);
  }
  assert.ok(arm.calls.filter((c) => c.path.startsWith('/operations/')).length >= 4, 'LROs were polled');
  assert.equal(arm.snapshots.size, 0, 'the snapshot is gone');

  // The disk part equals `diagnose` of the local file; the symptom is the serial log's.
  const local = await diagnose(disk.vhd!, {});
  assert.ok(r.disk);
  assert.deepEqual(r.disk.findings, local.findings);
  assert.deepEqual(r.disk.files, local.files);
  assert.equal(r.diagnosis?.cause, r.disk.cause);
  assert.equal(r.symptom?.stopCode, 0xc0000102);
  assert.equal(r.symptom?.path, '\\Windows\\System32\\drivers\\cng.sys');
  assert.deepEqual(r.snapshot, { name: 'snap1', kept: false });
  assert.ok(r.fraction !== null && r.fraction < 0.01, `fraction ${r.fraction}`);
  console.log(
    `azure diagnose --read-disk fetched ${r.bytesRead} bytes of ${r.diskSize} (${((r.fraction ?? 0) * 100).toFixed(3)}%)`,
  );
  assert.ok(!JSON.stringify(r).includes(secrets[0]!), 'no SAS in the report');
});

test('a 429 with Retry-After on the snapshot PUT is waited for and repeated', async () => {
  reset({ throttle: 'create' });
  const t0 = Date.now();
  await azureDiagnose({ vm: VM, resourceGroup: RG, ops: await ops(), readDisk: true, snapshotName: 'snap1' });
  assert.ok(Date.now() - t0 >= 1000, 'Retry-After: 1 honoured');
  assert.deepEqual(arm.steps(), [FULL_FLOW[0], FULL_FLOW[1], 'PUT snap1', ...FULL_FLOW.slice(2)]);
  assert.equal(arm.snapshots.size, 0);
});

test('cleanup on failure at each step: access revoked once granted, snapshot deleted once created', async () => {
  const cases: [string, Partial<ArmDoubleOptions>, string[], string][] = [
    [
      'create refused',
      { failRequest: 'create' },
      [...FULL_FLOW.slice(0, 3), 'DELETE snap1'],
      'azure.request',
    ],
    [
      'create failed',
      { failOperation: 'create' },
      [...FULL_FLOW.slice(0, 3), 'DELETE snap1'],
      'azure.request',
    ],
    ['grant refused', { failRequest: 'grant' }, FULL_FLOW, 'azure.request'],
    ['grant failed', { failOperation: 'grant' }, FULL_FLOW, 'azure.request'],
    ['disk unreadable', { accessSas: blobSasUrl(az, 'snapshots', 'gone.vhd') }, FULL_FLOW, 'disk.notFound'],
  ];
  for (const [what, options, steps, code] of cases) {
    reset(options);
    await assert.rejects(
      azureDiagnose({ vm: VM, resourceGroup: RG, ops: await ops(), readDisk: true, snapshotName: 'snap1' }),
      (e: unknown) => isWinrescueError(e) && e.code === code,
      what,
    );
    assert.deepEqual(arm.steps(), steps, what);
    assert.equal(arm.snapshots.size, 0, `${what}: nothing left behind`);
  }
  // Revoke refused: the delete is refused too (an active grant), and the error names what is left and how to remove it.
  reset({ failRequest: 'revoke' });
  await assert.rejects(
    azureDiagnose({ vm: VM, resourceGroup: RG, ops: await ops(), readDisk: true, snapshotName: 'snap1' }),
    (e: unknown) =>
      isWinrescueError(e) &&
      e.code === 'azure.cleanup' &&
      /snapshot snap1 in rescue-rg is left behind/.test(e.message) &&
      /az snapshot delete -g rescue-rg -n snap1/.test(e.message),
  );
  assert.deepEqual(arm.steps(), FULL_FLOW);
  // Delete failed (operation Failed): reported, after a successful diagnosis.
  reset({ failOperation: 'delete' });
  await assert.rejects(
    azureDiagnose({ vm: VM, resourceGroup: RG, ops: await ops(), readDisk: true, snapshotName: 'snap1' }),
    { code: 'azure.cleanup' },
  );
  assert.equal(arm.snapshots.get('snap1')?.granted, false, 'access was revoked before the delete');
});

test('--keep-snapshot revokes access and keeps the snapshot; without --read-disk no snapshot is made', async () => {
  reset({});
  const r = await azureDiagnose({
    vm: VM,
    resourceGroup: RG,
    ops: await ops(),
    readDisk: true,
    keepSnapshot: true,
    snapshotName: 'snap1',
  });
  assert.deepEqual(arm.steps(), FULL_FLOW.slice(0, -1));
  assert.deepEqual(r.snapshot, { name: 'snap1', kept: true });
  assert.equal(arm.snapshots.get('snap1')?.granted, false);

  reset({ failRequest: 'bootDiagnostics' });
  const noBoot = await azureDiagnose({
    vm: VM,
    resourceGroup: RG,
    ops: await ops(),
    readDisk: true,
    snapshotName: 'snap1',
  });
  assert.match(noBoot.warnings.join('\n'), /boot diagnostics unavailable: .*HTTP 409 OperationNotAllowed/);
  assert.equal(noBoot.symptom, null);
  assert.ok(noBoot.disk, 'the disk is diagnosed all the same');
  assert.deepEqual(arm.steps(), FULL_FLOW);

  reset({});
  const s = await azureDiagnose({ vm: VM, resourceGroup: RG, ops: await ops() });
  assert.deepEqual(arm.steps(), ['POST retrieveBootDiagnosticsData']);
  assert.equal(s.symptom?.stopCode, 0xc0000102);
  assert.equal(s.disk, null);
  assert.equal(s.snapshot, null);

  // The screenshot alone: read by OCR.
  reset({ screenshotUri: shotSas, serialLogUri: null });
  const shot = await azureDiagnose({ vm: VM, resourceGroup: RG, ops: await ops() });
  assert.deepEqual(shot.bootDiagnostics, { screenshot: true, serialLog: false });
  assert.equal(shot.symptom?.kind, 'boot-manager');
  assert.equal(shot.symptom?.stopCode, 0xc0000102);
  assert.equal(shot.symptom?.path, '\\Windows\\System32\\drivers\\cng.sys');
});

test('a missing VM is azure.notFound; an unmanaged OS disk is azure.unsupported before any snapshot', async () => {
  reset({ serialLogUri: null });
  await assert.rejects(
    azureDiagnose({ vm: 'missing', resourceGroup: RG, ops: await ops(), readDisk: true }),
    { code: 'azure.notFound' },
  );
  reset({ osDiskId: null });
  await assert.rejects(azureDiagnose({ vm: VM, resourceGroup: RG, ops: await ops(), readDisk: true }), {
    code: 'azure.unsupported',
  });
  assert.deepEqual(arm.steps(), ['POST retrieveBootDiagnosticsData', `GET ${VM}`]);
});

test('the CLI: azure diagnose --read-disk --json with the screenshot and serial log; human text; no SAS anywhere', async () => {
  reset({ screenshotUri: shotSas });
  const env = { NODE_EXTRA_CA_CERTS: arm.caFile, WINRESCUE_AZURE_TOKEN: TOKEN };
  const args = [
    'azure',
    'diagnose',
    '--vm',
    VM,
    '-g',
    RG,
    '--subscription',
    SUB,
    '--arm-endpoint',
    arm.endpoint,
    '--poll-interval-ms',
    '10',
  ];
  let t0 = Date.now();
  const json = await winrescueAsync([...args, '--read-disk', '--snapshot-name', 'snap1', '--json'], { env });
  assert.ok(json.status === 0 || json.status === 1, json.stderr);
  const doc = JSON.parse(json.stdout) as Record<string, unknown> & {
    symptom: { stopCode: number; kind: string } | null;
    disk: { findings: unknown[] } | null;
    snapshot: { name: string; kept: boolean };
  };
  for (const k of [
    'vm',
    'resourceGroup',
    'symptom',
    'disk',
    'bytesRead',
    'diskSize',
    'fraction',
    'snapshot',
  ]) {
    assert.ok(k in doc, `--json has ${k}`);
  }
  assert.equal(doc.vm, VM);
  assert.deepEqual(doc.bootDiagnostics, { screenshot: true, serialLog: true });
  assert.deepEqual(doc.snapshot, { name: 'snap1', kept: false });
  assert.equal(doc.symptom?.stopCode, 0xc0000102);
  assert.ok((doc.fraction as number) < 0.01);
  assert.deepEqual(arm.steps(), FULL_FLOW);

  console.log(`CLI --read-disk --json with OCR: ${Date.now() - t0} ms`);
  t0 = Date.now();
  reset({});
  const human = await winrescueAsync([...args, '--read-disk'], { env });
  assert.ok(human.status === 0 || human.status === 1, human.stderr);
  assert.match(human.stdout, /^VM rescue-rg\/vm1: boot screenshot no, serial log yes$/m);
  assert.match(
    human.stdout,
    /fetched [\d.]+ MiB of the [\d.]+ MiB disk over SAS \([\d.]+%\); snapshot vm1-winrescue-\d{8}-\d{6} deleted/,
  );
  assert.match(human.stderr, /revoking access/);

  console.log(`CLI --read-disk human: ${Date.now() - t0} ms`);
  reset({});
  const symptomOnly = await winrescueAsync(args, { env });
  assert.equal(symptomOnly.status, 1, symptomOnly.stderr);
  assert.match(
    symptomOnly.stdout,
    /^symptom: 0xC0000102 on \\Windows\\System32\\drivers\\cng\.sys \(serial text/m,
  );
  assert.match(symptomOnly.stdout, /add --read-disk/);
  assert.deepEqual(arm.steps(), ['POST retrieveBootDiagnosticsData']);

  reset({ failRequest: 'grant' });
  const failed = await winrescueAsync([...args, '--read-disk', '--json'], { env });
  assert.equal(failed.status, 2);
  assert.equal((JSON.parse(failed.stdout) as { error: { code: string } }).error.code, 'azure.request');
  assert.equal(arm.snapshots.size, 0);

  const all = [json, human, symptomOnly, failed].map((r) => r.stdout + r.stderr).join('\n');
  for (const sig of secrets) {
    for (const form of new Set([sig, encodeURIComponent(sig)])) assert.ok(!all.includes(form), 'SAS leaked');
  }
  assert.ok(!all.includes(TOKEN), 'token leaked');
});

test('Ctrl-C during the disk reads: reads abandoned, access revoked, snapshot deleted, exit within seconds', async () => {
  const proxy = await startFaultProxy(az.port);
  try {
    // Every read of the snapshot hangs: the interrupt lands while the diagnosis waits on the network.
    proxy.plan = () => ({ kind: 'delay', ms: 60_000 });
    reset({ accessSas: proxy.via(diskSas) });
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'bin', 'winrescue.js'),
        ...['azure', 'diagnose', '--vm', VM, '-g', RG, '--subscription', SUB, '--arm-endpoint', arm.endpoint],
        ...['--poll-interval-ms', '10', '--read-disk', '--snapshot-name', 'snap1'],
      ],
      {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: arm.caFile, WINRESCUE_AZURE_TOKEN: TOKEN },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout.resume();
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    const deadline = Date.now() + 30_000;
    while (proxy.log.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(proxy.log.length > 0, `the disk read started: ${stderr}`);
    const t0 = Date.now();
    child.kill('SIGINT');
    const status = await exited;
    const took = Date.now() - t0;
    assert.equal(status, 2, stderr);
    assert.ok(took < 10_000, `exited ${took} ms after SIGINT`);
    assert.match(stderr, /interrupted \(SIGINT\)/);
    assert.deepEqual(arm.steps(), FULL_FLOW);
    assert.equal(arm.snapshots.size, 0);
    console.log(`SIGINT to exit: ${took} ms`);
  } finally {
    await proxy.stop();
  }
});
