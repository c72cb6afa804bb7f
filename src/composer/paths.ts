/** Where composer's Cloud API v2 lives under a server's origin (the spec's `servers` entry). */
export const COMPOSER_BASE_PATH = "/api/image-builder-composer/v2";

/**
 * Every request the client makes, as the spec spells its path templates. The conformance test reads this table
 * against composer-openapi.v2.yml, so a call added here without a matching spec path fails a test.
 */
export const COMPOSER_ENDPOINTS = {
  status: { method: "GET", path: "/composes/{id}" },
  logs: { method: "GET", path: "/composes/{id}/logs" },
  manifests: { method: "GET", path: "/composes/{id}/manifests" },
  sboms: { method: "GET", path: "/composes/{id}/sboms" },
  download: { method: "GET", path: "/composes/{id}/download" },
} as const;

export type ComposerEndpoint = keyof typeof COMPOSER_ENDPOINTS;

/** The request path for one compose; the id is encoded so an odd id can never climb out of `/composes/`. */
export function composePath(endpoint: ComposerEndpoint, composeId: string): string {
  return COMPOSER_ENDPOINTS[endpoint].path.replace("{id}", encodeURIComponent(composeId));
}

/**
 * The API root for a configured server URL. Deployments name either the origin (`https://composer.example.com`)
 * or the API root itself; both work, so an operator who copies the spec's server URL is not punished.
 */
export function apiRoot(serverUrl: string): URL {
  const url = new URL(serverUrl);
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = path.endsWith(COMPOSER_BASE_PATH) ? path : `${path}${COMPOSER_BASE_PATH}`;
  url.search = "";
  url.hash = "";
  return url;
}
