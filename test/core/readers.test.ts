import { describe, expect, it } from "vitest";
import { composeStatusDocument, imageInfo, reproduceCommands } from "../../src/core/readers.js";
import { ComposeStatusSchema } from "../../src/schemas/composer.js";
import { SEED_BUILD_EXTRA, SEED_IMAGE_METADATA } from "./seed.js";

const IMAGE = "name-version-release.x86_64.raw.xz";

describe("imageInfo", () => {
  it("reads extra.typeinfo.image first", () => {
    const legacy = { ...SEED_IMAGE_METADATA, arch: "legacy-arch" };
    const build = { extra: { ...SEED_BUILD_EXTRA, image: { [IMAGE]: legacy } } };
    expect(imageInfo(build, IMAGE)).toEqual(SEED_IMAGE_METADATA);
  });

  it("falls back to the legacy extra.image", () => {
    expect(imageInfo({ extra: { image: { [IMAGE]: SEED_IMAGE_METADATA } } }, IMAGE)).toEqual(
      SEED_IMAGE_METADATA,
    );
    expect(
      imageInfo({ extra: { typeinfo: { image: {} }, image: { [IMAGE]: { arch: "a" } } } }, IMAGE),
    ).toEqual({
      arch: "a",
    });
  });

  it("is undefined when neither place has the file", () => {
    expect(imageInfo({ extra: SEED_BUILD_EXTRA }, "other.qcow2")).toBeUndefined();
    expect(imageInfo({ extra: null }, IMAGE)).toBeUndefined();
    expect(imageInfo({}, IMAGE)).toBeUndefined();
  });
});

describe("composeStatusDocument", () => {
  it("has the seed's compose-status.json shape", () => {
    const upload = {
      options: { ami: "ami-02e34403c421dfc17", region: "us-east-1" },
      status: "success",
      type: "aws",
    };
    const status = ComposeStatusSchema.parse({
      id: "c",
      kind: "ComposeStatus",
      href: "/c",
      status: "success",
      image_status: { status: "success", upload_status: upload },
      image_statuses: [{ status: "success", upload_status: upload }],
    });
    const document = composeStatusDocument(status, 1, null);
    expect(document).toEqual({
      image_statuses: [{ status: "success", upload_status: upload }],
      koji_build_id: 1,
      koji_task_id: null,
      status: "success",
    });
    expect(Object.keys(document)).toEqual(["image_statuses", "koji_build_id", "koji_task_id", "status"]);
  });

  it("uses image_status when composer sends no image_statuses, and omits absent upload statuses", () => {
    const status = ComposeStatusSchema.parse({
      id: "c",
      kind: "ComposeStatus",
      href: "/c",
      status: "failure",
      image_status: { status: "failure", error: { id: 10, reason: "boom" } },
    });
    expect(composeStatusDocument(status, null, 42)).toEqual({
      image_statuses: [{ status: "failure" }],
      koji_build_id: null,
      koji_task_id: 42,
      status: "failure",
    });
  });
});

describe("reproduceCommands", () => {
  it("gives the manifest, the osbuild version, the command and the artifact path of each image", () => {
    expect(reproduceCommands({ extra: SEED_BUILD_EXTRA })).toEqual([
      {
        image: IMAGE,
        arch: "x86_64",
        osbuild_version: "93",
        manifest: `${IMAGE}.manifest.json`,
        export_name: "xz",
        export_filename: "image.raw.xz",
        command: `sudo osbuild --output-directory OUTPUT_DIR --store STORE_DIR --export xz ${IMAGE}.manifest.json`,
        artifact_path: "OUTPUT_DIR/xz/image.raw.xz",
      },
    ]);
  });

  it("reads legacy builds and says when there is no manifest", () => {
    const [step] = reproduceCommands({ extra: { image: { [IMAGE]: SEED_IMAGE_METADATA } } });
    expect(step?.manifest).toBeUndefined();
    expect(step?.command).toContain("--export xz MANIFEST_PATH");
  });
});
