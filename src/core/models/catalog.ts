/**
 * The whisper.cpp models a user would pick, as published in ggerganov/whisper.cpp on Hugging Face.
 * Checksums are upstream's SHA-1 (models/README.md of the pinned whisper.cpp); the downloader
 * also records each file's SHA-256.
 */
export interface CatalogModel {
  name: string;
  file: string;
  diskMB: number;
  /** Rough resident memory with one worker, MB. */
  memoryMB: number;
  multilingual: boolean;
  quantized: boolean;
  sha1: string;
  note: string;
}

const HF = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

export const MODEL_CATALOG: CatalogModel[] = [
  {
    name: "tiny",
    file: "ggml-tiny.bin",
    diskMB: 75,
    memoryMB: 273,
    multilingual: true,
    quantized: false,
    sha1: "bd577a113a864445d4c299885e0cb97d4ba92b5f",
    note: "fastest, rough",
  },
  {
    name: "tiny.en",
    file: "ggml-tiny.en.bin",
    diskMB: 75,
    memoryMB: 273,
    multilingual: false,
    quantized: false,
    sha1: "c78c86eb1a8faa21b369bcd33207cc90d64ae9df",
    note: "fastest, English",
  },
  {
    name: "base",
    file: "ggml-base.bin",
    diskMB: 142,
    memoryMB: 388,
    multilingual: true,
    quantized: false,
    sha1: "465707469ff3a37a2b9b8d8f89f2f99de7299dac",
    note: "fast, good for clear speech",
  },
  {
    name: "base.en",
    file: "ggml-base.en.bin",
    diskMB: 142,
    memoryMB: 388,
    multilingual: false,
    quantized: false,
    sha1: "137c40403d78fd54d454da0f9bd998f78703390c",
    note: "fast, English",
  },
  {
    name: "small",
    file: "ggml-small.bin",
    diskMB: 466,
    memoryMB: 852,
    multilingual: true,
    quantized: false,
    sha1: "55356645c2b361a969dfd0ef2c5a50d530afd8d5",
    note: "balanced; good Korean",
  },
  {
    name: "small.en",
    file: "ggml-small.en.bin",
    diskMB: 466,
    memoryMB: 852,
    multilingual: false,
    quantized: false,
    sha1: "db8a495a91d927739e50b3fc1cc4c6b8f6c2d022",
    note: "balanced, English",
  },
  {
    name: "medium",
    file: "ggml-medium.bin",
    diskMB: 1500,
    memoryMB: 2100,
    multilingual: true,
    quantized: false,
    sha1: "fd9727b6e1217c2f614f9b698455c4ffd82463b4",
    note: "accurate, slower",
  },
  {
    name: "medium.en",
    file: "ggml-medium.en.bin",
    diskMB: 1500,
    memoryMB: 2100,
    multilingual: false,
    quantized: false,
    sha1: "8c30f0e44ce9560643ebd10bbe50cd20eafd3723",
    note: "accurate, English",
  },
  {
    name: "large-v3",
    file: "ggml-large-v3.bin",
    diskMB: 2900,
    memoryMB: 3900,
    multilingual: true,
    quantized: false,
    sha1: "ad82bf6a9043ceed055076d0fd39f5f186ff8062",
    note: "most accurate, slowest",
  },
  {
    name: "large-v3-q5_0",
    file: "ggml-large-v3-q5_0.bin",
    diskMB: 1100,
    memoryMB: 2100,
    multilingual: true,
    quantized: true,
    sha1: "e6e2ed78495d403bef4b7cff42ef4aaadcfea8de",
    note: "large-v3 quantized",
  },
  {
    name: "large-v3-turbo",
    file: "ggml-large-v3-turbo.bin",
    diskMB: 1500,
    memoryMB: 2300,
    multilingual: true,
    quantized: false,
    sha1: "4af2b29d7ec73d781377bfd1758ca957a807e941",
    note: "near large-v3 quality, much faster",
  },
  {
    name: "large-v3-turbo-q5_0",
    file: "ggml-large-v3-turbo-q5_0.bin",
    diskMB: 547,
    memoryMB: 1200,
    multilingual: true,
    quantized: true,
    sha1: "e050f7970618a659205450ad97eb95a18d69c9ee",
    note: "turbo quantized: best speed/quality on Apple Silicon",
  },
];

export function catalogModel(name: string): CatalogModel | undefined {
  return MODEL_CATALOG.find((m) => m.name === name || m.file === name);
}

export function modelUrl(model: CatalogModel, base = process.env.WHISPER_FLEET_MODEL_BASE_URL ?? HF): string {
  return `${base.replace(/\/$/, "")}/${model.file}`;
}
