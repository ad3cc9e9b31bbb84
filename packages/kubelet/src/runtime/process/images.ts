// The images the process runtime can run without a command. There are no
// image layers here: an "image" is a name mapped to a program on this host.
// A container that gives its own command runs that command whatever its image.
import path from 'node:path';

export interface ImageDefinition {
  /** Default entrypoint (upstream ENTRYPOINT). */
  command: string[];
  /** Default arguments (upstream CMD). */
  args: string[];
  description: string;
}

/** Where the repository's example apps live (examples/apps). */
export function defaultExamplesDirectory(): string {
  // src/runtime/process and dist/runtime/process are both five levels below the repository root.
  return path.resolve(__dirname, '../../../../../examples/apps');
}

/** The built-in images, keyed by normalized name (see normalizeImageName). */
export function builtinImages(examplesDirectory = defaultExamplesDirectory()): Map<string, ImageDefinition> {
  const shell: ImageDefinition = { command: [], args: ['/bin/sh'], description: 'the host shell; give a command to run something else' };
  // One app, several "versions": the version is baked into the entrypoint as a
  // real image would bake it into its ENV, so a rolling update from 1.0 to 2.0
  // changes what every answer reports. $MODEL_VERSION still wins (set in the pod spec).
  const mlServing = (version: string): ImageDefinition => ({
    command: [process.execPath, path.join(examplesDirectory, 'ml-serving', 'server.js'), `--model-version=${version}`],
    args: [],
    description: `the ml-serving sample REST app, model version ${version} (listens on $POD_IP:$PORT, default 80)`,
  });
  return new Map([
    ['ml-serving:1.0', mlServing('1.0')],
    ['ml-serving:2.0', mlServing('2.0')],
    ['ml-serving:latest', mlServing('2.0')],
    ['busybox:latest', shell],
    ['alpine:latest', shell],
    ['debian:latest', shell],
    ['ubuntu:latest', shell],
  ]);
}

/**
 * "busybox" -> "busybox:latest", "docker.io/library/busybox:1.36" -> "busybox:1.36".
 * A shell-like image answers for every tag, so "busybox:1.36" finds "busybox:latest".
 */
export function normalizeImageName(image: string): string {
  let name = image.trim().replace(/@sha256:[0-9a-f]+$/, '');
  name = name.replace(/^(docker\.io|registry-1\.docker\.io|index\.docker\.io)\//, '').replace(/^library\//, '');
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? name : `${name}:latest`;
}

const SHELL_IMAGES = new Set(['busybox', 'alpine', 'debian', 'ubuntu']);

export function findImage(images: Map<string, ImageDefinition>, image: string): ImageDefinition | undefined {
  const name = normalizeImageName(image);
  const exact = images.get(name);
  if (exact) return exact;
  const repository = name.slice(0, name.lastIndexOf(':'));
  return SHELL_IMAGES.has(repository) ? images.get(`${repository}:latest`) : undefined;
}
