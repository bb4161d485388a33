// `winrescue azure diagnose --vm NAME -g RG`: boot screenshot and serial log from Azure, and with --read-disk the
// OS disk read over a read-only SAS on an incremental snapshot (deleted afterwards). Also the program-wide
// --allow-write that lets an http(s) DISK be written. Exit 0 healthy, 1 problems found, 2 bad input / Azure error.
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { AzureDiagnoseReport } from '../../azure/diagnose.js';
import { EXIT_OK, EXIT_PROBLEMS, printJson, printLines, runCommand, warn } from '../output.js';
import { formatDiagnosis } from './diagnose.js';
import { partitionOption } from './stat.js';

interface AzureDiagnoseCli {
  vm: string;
  resourceGroup: string;
  subscription?: string;
  readDisk?: boolean;
  keepSnapshot?: boolean;
  snapshotName?: string;
  sasSeconds?: number;
  armEndpoint?: string;
  pollIntervalMs?: number;
  trustRoot?: string[];
  partition?: number;
  json?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Azure grants disk access for 1 s .. 1 day; a diagnosis needs minutes. */
function sasSecondsOption(text: string): number {
  const n = /^\d{1,6}$/.test(text) ? Number(text) : 0;
  if (n < 60 || n > 86_400) throw new InvalidArgumentError('seconds between 60 and 86400');
  return n;
}

function pollOption(text: string): number {
  const n = /^\d{1,6}$/.test(text) ? Number(text) : 0;
  if (n < 1) throw new InvalidArgumentError('milliseconds (1 or more)');
  return n;
}

export function registerAzure(program: Command): void {
  program.option(
    '--allow-write',
    'let a writing command write to an http(s) DISK (a page blob or disk SAS URL that grants write); without it remote disks are read-only',
  );
  program.hook('preAction', async () => {
    const { allowRemoteWrites } = await import('../../disk/http/index.js');
    allowRemoteWrites(program.opts<{ allowWrite?: boolean }>().allowWrite === true);
  });
  const azure = program
    .command('azure')
    .description(
      'Azure VMs: boot diagnostics and OS-disk reads over SAS (credentials: DefaultAzureCredential, e.g. az login)',
    );
  azure
    .command('diagnose')
    .description(
      'diagnose an Azure VM that does not boot: read its boot screenshot and serial log; with --read-disk also the OS disk, through a read-only SAS on an incremental snapshot (revoked and deleted afterwards). Reads a fraction of a percent of the disk',
    )
    .requiredOption('--vm <name>', 'the virtual machine')
    .requiredOption('-g, --resource-group <rg>', 'its resource group')
    .option('--subscription <id>', 'subscription (default: AZURE_SUBSCRIPTION_ID, else the az CLI default)')
    .option('--read-disk', 'snapshot the OS disk and diagnose it over a read-only SAS')
    .option('--keep-snapshot', 'keep the snapshot afterwards (its access is revoked all the same)')
    .option('--snapshot-name <name>', 'name of the snapshot (default: VM-winrescue-TIMESTAMP)')
    .option('--sas-seconds <n>', 'lifetime of the read SAS (default 3600)', sasSecondsOption)
    .option(
      '--arm-endpoint <url>',
      'Azure Resource Manager endpoint (sovereign clouds); default https://management.azure.com',
    )
    .option(
      '--trust-root <cert>',
      'also trust signatures chaining to this root (PEM or DER); repeatable',
      collect,
    )
    .addOption(
      new Option('--poll-interval-ms <ms>', 'pace of long-running ARM operation polls (tests)')
        .argParser(pollOption)
        .hideHelp(),
    )
    .option('--partition <n>', 'Windows volume (1-based, as inspect lists them)', partitionOption)
    .option(
      '--json',
      'one JSON document on stdout: { vm, resourceGroup, symptom, diagnosis, disk, bytesRead, diskSize, fraction, snapshot }',
    )
    .action(async (opts: AzureDiagnoseCli) =>
      runCommand(opts, async () => {
        const { azureDiagnose, connectCompute, resolveSubscription } = await import('../../azure/index.js');
        const subscriptionId = await resolveSubscription(opts.subscription);
        const ops = await connectCompute({
          subscriptionId,
          ...(opts.armEndpoint !== undefined ? { endpoint: opts.armEndpoint } : {}),
          ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}),
        });
        const r = await azureDiagnose({
          vm: opts.vm,
          resourceGroup: opts.resourceGroup,
          ops,
          ...(opts.readDisk ? { readDisk: true } : {}),
          ...(opts.keepSnapshot ? { keepSnapshot: true } : {}),
          ...(opts.snapshotName !== undefined ? { snapshotName: opts.snapshotName } : {}),
          ...(opts.sasSeconds !== undefined ? { sasSeconds: opts.sasSeconds } : {}),
          ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}),
          diagnose: {
            ...(opts.trustRoot ? { trustRoots: opts.trustRoot } : {}),
            ...(opts.partition !== undefined ? { partition: opts.partition } : {}),
          },
          interruptible: true,
          ...(opts.json ? {} : { onStep: (m: string) => process.stderr.write(`${m}\n`) }),
        });
        if (opts.json) printJson(r);
        else {
          for (const w of [...r.warnings, ...(r.disk?.warnings ?? [])]) warn(w);
          printLines(formatAzureDiagnosis(r));
        }
        return r.diagnosis?.cause === 'healthy' ? EXIT_OK : EXIT_PROBLEMS;
      }),
    );
}

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function formatAzureDiagnosis(r: AzureDiagnoseReport): string[] {
  const have = (b: boolean) => (b ? 'yes' : 'no');
  const lines = [
    `VM ${r.resourceGroup}/${r.vm}: boot screenshot ${have(r.bootDiagnostics.screenshot)}, serial log ${have(r.bootDiagnostics.serialLog)}`,
  ];
  if (r.diagnosis === null) {
    lines.push('no symptom to read and no disk read: nothing to conclude (try --read-disk)');
    return lines;
  }
  if (r.disk !== null) lines.push(...formatDiagnosis(r.disk, undefined));
  else lines.push(...formatSymptomOnly(r));
  if (r.diskSize !== null && r.snapshot !== null) {
    lines.push(
      `fetched ${mib(r.bytesRead)} of the ${mib(r.diskSize)} disk over SAS (${(100 * (r.fraction ?? 0)).toFixed(3)}%); ` +
        `snapshot ${r.snapshot.name} ${r.snapshot.kept ? 'kept (access revoked)' : 'deleted'}`,
    );
  }
  return lines;
}

/** Without the disk: what the screen or log said, and what that alone concludes. */
function formatSymptomOnly(r: AzureDiagnoseReport): string[] {
  const d = r.diagnosis!;
  const s = r.symptom;
  const lines: string[] = [];
  if (s) {
    lines.push(
      `symptom: ${d.stopCode ?? 'no stop code read'}${s.path ? ` on ${s.path}` : ''} (${s.kind} text, confidence ${s.confidence.toFixed(2)})`,
    );
  }
  lines.push(`cause:   ${d.cause}: ${d.summary}`);
  for (const n of d.nextSteps) lines.push(`next: ${n}`);
  lines.push('next: add --read-disk to examine the OS disk itself (over a read-only SAS on a snapshot)');
  return lines;
}
