/**
 * The runtime components a Raycast build fetches on first use (it ships no node_modules), pinned
 * to exact npm registry tarballs by their `sha512` integrity — what `npm ci` would check. Staff and
 * users can trace each one to its registry package.
 *
 * - ffmpeg: the @ffmpeg-installer platform packages (the ones package-lock.json pins for the CLI).
 * - engine: the native addon, published per platform by .github/workflows/prebuild.yml from
 *   `npm run prebuild -- --portable`, which prints the line to add here. A platform without a pin
 *   has no local engine in store builds (COMPONENT_UNAVAILABLE; the cloud engine still works).
 */

export type ComponentId = "engine" | "ffmpeg";

/** How messages and toasts name each component. */
export const COMPONENT_NAMES: Record<ComponentId, string> = { ffmpeg: "ffmpeg", engine: "the transcription engine" };

export interface ComponentPin {
  /** npm package name, e.g. @ffmpeg-installer/darwin-arm64. */
  package: string;
  version: string;
  /** npm's Subresource Integrity string: sha512-<base64>. */
  integrity: string;
  /** The file to use, relative to the package root (tarballs hold it under package/). */
  main: string;
  /** Approximate download size, for the first-run notice. */
  megabytes: number;
}

export type Pins = Record<ComponentId, Partial<Record<string, ComponentPin>>>;

/** The npm scope the engine packages are published under. */
export const ENGINE_SCOPE = "@whisper-fleet";
export const enginePackage = (platformArch: string) => `${ENGINE_SCOPE}/engine-${platformArch}`;

export const PINS: Pins = {
  ffmpeg: {
    "darwin-arm64": {
      package: "@ffmpeg-installer/darwin-arm64",
      version: "4.1.5",
      integrity: "sha512-hYqTiP63mXz7wSQfuqfFwfLOfwwFChUedeCVKkBtl/cliaTM7/ePI9bVzfZ2c+dWu3TqCwLDRWNSJ5pqZl8otA==",
      main: "ffmpeg",
      megabytes: 24,
    },
    "darwin-x64": {
      package: "@ffmpeg-installer/darwin-x64",
      version: "4.1.0",
      integrity: "sha512-Z4EyG3cIFjdhlY8wI9aLUXuH8nVt7E9SlMVZtWvSPnm2sm37/yC2CwjUzyCQbJbySnef1tQwGG2Sx+uWhd9IAw==",
      main: "ffmpeg",
      megabytes: 25,
    },
    "linux-x64": {
      package: "@ffmpeg-installer/linux-x64",
      version: "4.1.0",
      integrity: "sha512-Y5BWhGLU/WpQjOArNIgXD3z5mxxdV8c41C+U15nsE5yF8tVcdCGet5zPs5Zy3Ta6bU7haGpIzryutqCGQA/W8A==",
      main: "ffmpeg",
      megabytes: 28,
    },
  },
  // Filled in by the release workflow once each platform's package is published.
  engine: {},
};
