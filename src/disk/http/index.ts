export {
  HttpImageFile,
  totalFromContentRange,
  type HttpImageFileOptions,
  type HttpTransferStats,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_CACHE_BYTES,
} from './http-image-file.js';
export { ImageFileDevice } from './image-file-device.js';
export { isHttpUrl, redactUrl, redactText, sasParam } from './redact.js';
export {
  DEFAULT_RETRY,
  abortAllRequests,
  backoffMs,
  isRetryableStatus,
  requestWithRetry,
  retryAfterMs,
  type RetryPolicy,
  type HttpResult,
} from './retry.js';
export { recordTransfer, transferTotals, type TransferTotals } from './stats.js';
export { BlockCache, Limiter } from './block-cache.js';
export { allowRemoteWrites, openRemoteDisk, type OpenRemoteOptions } from './open-remote.js';
