export { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryPolicy } from "./backoff.js";
export { type CallOptions, ComposerClient, type StatusOptions } from "./client.js";
export type { ComposeDownload } from "./download.js";
export { ComposerErrorCode } from "./errors.js";
export { OAuthTokenResponseSchema } from "./oauth.js";
export type { ComposerAuthOptions, ComposerClientOptions, ComposerTimeouts, Pem } from "./options.js";
export { COMPOSER_BASE_PATH, COMPOSER_ENDPOINTS, type ComposerEndpoint } from "./paths.js";
