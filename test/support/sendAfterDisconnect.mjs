// A child for the engine-host test: it is busy while its parent disconnects, then sends through the
// host's own helper before it has read the disconnect — the race a Raycast command's unload opens.
import { sendToParent } from "../../src/host/parentChannel.ts";

process.on("message", () => {
  const until = Date.now() + 1000;
  while (Date.now() < until); // the parent disconnects meanwhile
  const connected = process.connected;
  sendToParent({ type: "progress" });
  setTimeout(() => {
    process.stderr.write(connected ? "sent while still connected\n" : "saw the disconnect first\n");
    process.exit(0);
  }, 200);
});
sendToParent("ready");
