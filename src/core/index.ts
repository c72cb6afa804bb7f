export { type AssembleInput, assembleCgMetadata, CONTENT_GENERATOR, withBuildId } from "./assemble.js";
export type { ImageExtraInfo, ManifestExtraInfo } from "./outputs.js";
export {
  type ComposeStatusDocument,
  composeStatusDocument,
  imageInfo,
  type ReproduceStep,
  reproduceCommands,
} from "./readers.js";
export { nevra } from "./rpm-components.js";
