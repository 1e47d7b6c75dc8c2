/**
 * Jest maps every stack trace it formats through source maps (source-map-support), which is
 * right for a failing test's error and ruinous for CDKTF: it captures a complete stack trace,
 * as a plain object, for each token it creates (`creationStack`, read only when a token fails
 * to resolve), and synthesizing the stacks creates thousands. Those plain-object captures
 * get V8's unmapped frames; errors keep their mapped ones.
 */
const mapped = Error.prepareStackTrace;
if (mapped) {
  Error.prepareStackTrace = (target, frames) =>
    target instanceof Error ? mapped(target, frames) : `Error${frames.map((frame) => `\n    at ${String(frame)}`).join('')}`;
}
