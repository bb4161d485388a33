export {
  armError,
  sdkComputeOps,
  type BootDiagnosticsUris,
  type ComputeOps,
  type SnapshotFacts,
  type VmFacts,
} from './compute.js';
export {
  DEFAULT_POLL_INTERVAL_MS,
  connectCompute,
  defaultCredential,
  resolveSubscription,
  staticTokenCredential,
  type ArmConnection,
  type TokenCredentialLike,
} from './client.js';
export { fetchBootDiagnostics, type BootDiagnostics } from './boot-diagnostics.js';
export {
  DEFAULT_SAS_SECONDS,
  defaultSnapshotName,
  withOsDiskSnapshot,
  type SnapshotOutcome,
  type SnapshotSessionOptions,
} from './snapshot-session.js';
export { azureDiagnose, type AzureDiagnoseOptions, type AzureDiagnoseReport } from './diagnose.js';
