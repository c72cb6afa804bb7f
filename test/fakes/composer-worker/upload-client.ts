import { z } from "zod";
import type { KojiHubConfig } from "../../../src/config/schema.js";
import { sslAuthenticator } from "../../../src/koji/auth.js";
import { KojiClient } from "../../../src/koji/client.js";
import { KojiSession } from "../../../src/koji/session.js";
import { KojiTransport } from "../../../src/koji/transport.js";
import type { XmlRpcDecoded } from "../../../src/koji/xmlrpc/index.js";

/**
 * composer's worker uploads the outputs to Koji; the importer only checks them. The raw upload call therefore
 * lives here, in the fake environment's composer worker, on top of the importer's own session handling.
 */
export class UploadingKojiSession extends KojiSession {
  /** Koji's raw upload: the chunk is the POST body and the file's coordinates are query arguments. */
  rawUpload(query: Record<string, string>, chunk: Uint8Array): Promise<XmlRpcDecoded> {
    // Uploads retry chunk by chunk themselves (upload.ts), so the session does not resend.
    return this.send("rawUpload", chunk, { "Content-Type": "application/octet-stream" }, query, {
      retries: 0,
    });
  }
}

export class UploadClient extends KojiClient {
  declare readonly session: UploadingKojiSession;

  constructor(session: UploadingKojiSession, cgName?: string) {
    super(session, cgName);
  }
}

/** Reply to a raw upload POST. */
export const UploadChunkResultSchema = z.object({
  size: z.number().int().nonnegative(),
  fileverify: z.string(),
  offset: z.number().int().nonnegative(),
  hexdigest: z.string().optional(),
});

/** An upload client for one hub that takes client certificates, as composer's worker would hold one. */
export async function openUploadClient(
  hub: Extract<KojiHubConfig, { auth: "ssl" }>,
  timeoutMs = 60_000,
): Promise<{ client: UploadClient; close(): Promise<void> }> {
  const transport = await KojiTransport.create({
    tls: { certFile: hub.cert_file, keyFile: hub.key_file, caFile: hub.ca_file },
    timeoutMs,
  });
  const client = new UploadClient(
    new UploadingKojiSession({ hubUrl: hub.url, transport, authenticator: sslAuthenticator() }),
  );
  return {
    client,
    async close() {
      await client.logout();
      await transport.close();
    },
  };
}
