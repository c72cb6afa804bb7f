import { type CallOptions, ComposerClient } from "../../../src/composer/client.js";
import { type ComposeSBOMs, ComposeSBOMsSchema } from "../../../src/schemas/composer.js";
import { type ComposeDownload, toComposeDownload } from "./download.js";

/**
 * composer's API as a downloader uses it: the SBOMs and the artifact composer serves itself. The importer reads
 * neither (composer's worker uploads the outputs to Koji); tests and benches of the client's streaming use this.
 */
export class DownloadingComposerClient extends ComposerClient {
  getComposeSBOMs(composeId: string, options: CallOptions = {}): Promise<ComposeSBOMs> {
    return this.getJson("sboms", composeId, ComposeSBOMsSchema, options);
  }

  /**
   * The artifact as a stream. Retries cover getting the response head; once bytes flow, a failure reaches the
   * consumer as a retryable error on the stream.
   */
  downloadCompose(composeId: string, options: CallOptions = {}): Promise<ComposeDownload> {
    const label = this.label("download", composeId);
    return this.exchange("download", composeId, options, "application/octet-stream", async (response) =>
      toComposeDownload(response, label, options.signal),
    );
  }
}
