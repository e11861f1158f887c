/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script run with node on the GPU machine */
// GPU check for the opt-in CUDA build (npm run build:native -- --cuda): the addon on a real GPU,
// several whisper_states sharing one model on it, results equal to the CPU path, cancellation, memory.
// Usage: node bench/gpuCheck.cjs ADDON.node RAW_F32_16K_FILE MODEL.bin   (writes $OUT/gpu-check.txt too)
const a = require(process.argv[2]);
const fs = require("fs");
const out = process.env.OUT || "/tmp";
const log = (...x) => {
  console.log(...x);
  fs.appendFileSync(`${out}/gpu-check.txt`, x.join(" ") + "\n");
};
(async () => {
  const info = a.systemInfo();
  log("whisper", info.whisperVersion, "devices", JSON.stringify(info.devices.map((d) => [d.name, d.type, Math.round(d.memoryTotal / 1e9) + "GB"])));
  log("features", info.features);
  const raw = process.argv[3];
  const samples = fs.statSync(raw).size / 4;
  const chunkS = 15,
    n = Math.floor(samples / 16000 / chunkS);
  const chunks = Array.from({ length: n }, (_, i) => ({
    index: i,
    offsetMs: i * chunkS * 1000,
    path: raw,
    sampleOffset: i * chunkS * 16000,
    sampleCount: chunkS * 16000,
  }));
  const results = {};
  for (const [label, useGpu, workers] of [
    ["gpu-1", true, 1],
    ["gpu-2", true, 2],
    ["gpu-4", true, 4],
    ["gpu-8", true, 8],
    ["cpu-4x4", false, 4],
  ]) {
    const m = new a.WhisperModel(process.argv[4], { useGpu });
    const t0 = Date.now();
    const facts = await m.load();
    await m.resize(workers);
    const loadMs = Date.now() - t0;
    await m.transcribe(1, [chunks[0]], { threads: useGpu ? 1 : 4, language: "en" }); // warm-up
    const t1 = Date.now();
    const r = await m.transcribe(2, chunks, { threads: useGpu ? 1 : 4, language: "en" });
    const wall = Date.now() - t1;
    const mem = m.memory();
    const overlap = (() => {
      const iv = r.map((x) => [x.timings.startedAtMs, x.timings.startedAtMs + x.timings.wallMs]);
      let o = 0,
        busy = 0;
      for (let i = 0; i < iv.length; i++) {
        busy += iv[i][1] - iv[i][0];
        for (let j = i + 1; j < iv.length; j++) o += Math.max(0, Math.min(iv[i][1], iv[j][1]) - Math.max(iv[i][0], iv[j][0]));
      }
      return (o / busy).toFixed(2);
    })();
    results[label] = r.sort((x, y) => x.index - y.index).map((x) => x.segments.map((s) => s.text).join("|"));
    log(
      `${label}: useGpu=${facts.useGpu} load ${loadMs} ms, ${n} chunks x ${chunkS}s in ${wall} ms = ${((n * chunkS) / (wall / 1000)).toFixed(1)}x realtime, overlap ${overlap}, weights ${(mem.weightsBytes / 1e6).toFixed(0)} MB, state ${(mem.stateBytes / 1e6).toFixed(0)} MB/worker, workers ${mem.workers}`,
    );
    if (label === "gpu-4") {
      const p = m.transcribe(3, chunks, { threads: 1, language: "en" });
      await new Promise((res) => setTimeout(res, 300));
      const ta = Date.now();
      m.abort(3);
      try {
        await p;
        log("abort: job finished before abort");
      } catch (e) {
        log(`abort on GPU: ${e.code} after ${Date.now() - ta} ms`);
      }
      const again = await m.transcribe(4, [chunks[1]], { threads: 1, language: "en" });
      log(`after abort: ${again[0].segments.length} segments`);
    }
    await m.dispose();
  }
  const same = (x, y) => JSON.stringify(results[x]) === JSON.stringify(results[y]);
  log(`text gpu-1 == gpu-4: ${same("gpu-1", "gpu-4")}; gpu-4 == gpu-8: ${same("gpu-4", "gpu-8")}; gpu-1 == cpu: ${same("gpu-1", "cpu-4x4")}`);
})().catch((e) => {
  log("FAILED", e.code, e.message);
  process.exit(1);
});
