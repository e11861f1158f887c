/**
 * Messages from the engine host to its front end. A write can fail after `process.connected` said
 * yes: the front end has closed the channel (Raycast unloaded the command, the job goes on alone)
 * and this process has not read that yet. Without a callback Node reports the failed write (EPIPE)
 * as an 'error' event on `process`, and an unhandled one ends the host — and with it every job it
 * was running for nobody. With a callback it is ours to drop: nobody is left to tell.
 */
export function sendToParent(message: unknown): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
}
