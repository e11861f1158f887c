/**
 * Plays 16 kHz mono audio a little faster (pure): band-limited resampling, the way Kaldi's speed
 * perturbation and ffmpeg's `asetrate` + `aresample` do it — tempo and pitch rise together by
 * `speed`. The planner uses it to fit a chunk that would spill a few seconds into one more 30-second
 * window (a whole window of whisper compute) into the windows it has (at most a few percent:
 * WHISPER_FLEET_MAX_SPEEDUP). The engine maps every time back by the same factor.
 *
 * Each output sample j is the input at position j × speed, interpolated with a Kaiser-windowed sinc
 * whose cut-off sits below the new Nyquist (8 kHz / speed), so what lies above it is attenuated
 * rather than folded back into the band: flat to ~6 kHz, −60 dB from ~7.7 kHz at a 3% speed-up
 * (whisper's mel bank ends at 8 kHz). The kernel is tabulated at PHASES sub-sample phases, each row
 * normalised to sum to one (a constant stays constant).
 */

/** Zero crossings of the sinc on each side: the kernel's half-width, in its own periods. */
const ZERO_CROSSINGS = 16;
/** Cut-off as a share of the new Nyquist: the transition band ends below it. */
const CUTOFF = 0.92;
/** Kaiser window shape: about 60 dB of stop-band attenuation. */
const BETA = 6;
/** Sub-sample phases tabulated: a phase error of at most 1/(2·PHASES) of a sample. */
const PHASES = 512;

/** Modified Bessel function of the first kind, order 0 (power series). */
function bessel0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50 && term > 1e-12 * sum; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

const tables = new Map<number, { taps: number; half: number; weights: Float32Array }>();

function kernel(speed: number) {
  const key = Math.round(speed * 1e6);
  const cached = tables.get(key);
  if (cached) return cached;
  const cutoff = CUTOFF / speed; // of the input's Nyquist
  const radius = ZERO_CROSSINGS / cutoff; // in input samples
  const half = Math.ceil(radius);
  const taps = 2 * half;
  const weights = new Float32Array(PHASES * taps);
  for (let p = 0; p < PHASES; p++) {
    const frac = p / PHASES;
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      // Input sample (i0 - half + 1 + k) sits at distance d from the output position i0 + frac.
      const d = k - half + 1 - frac;
      const x = d * cutoff;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const u = Math.abs(d) / radius;
      const w = u >= 1 ? 0 : bessel0(BETA * Math.sqrt(1 - u * u)) / bessel0(BETA);
      const h = sinc * w;
      weights[p * taps + k] = h;
      sum += h;
    }
    for (let k = 0; k < taps; k++) weights[p * taps + k] /= sum;
  }
  const made = { taps, half, weights };
  if (tables.size > 16) tables.clear();
  tables.set(key, made);
  return made;
}

/** Samples `samples` becomes when played `speed` times faster. */
export function spedUpLength(samples: number, speed: number): number {
  return Math.max(1, Math.round(samples / speed));
}

/** `samples` played `speed` (≥ 1) times faster; the same array when speed is 1. */
export function speedUp(samples: Float32Array, speed: number): Float32Array {
  if (!(speed >= 1) || !Number.isFinite(speed)) throw new RangeError(`Expected a speed-up of 1 or more but received ${speed}`);
  if (speed === 1 || samples.length === 0) return samples;
  const { taps, half, weights } = kernel(speed);
  const n = samples.length;
  const out = new Float32Array(spedUpLength(n, speed));
  for (let j = 0; j < out.length; j++) {
    const pos = j * speed;
    let i0 = Math.floor(pos);
    let phase = Math.round((pos - i0) * PHASES);
    if (phase === PHASES) {
      phase = 0;
      i0++;
    }
    const row = phase * taps;
    const first = i0 - half + 1;
    let acc = 0;
    if (first >= 0 && first + taps <= n) {
      for (let k = 0; k < taps; k++) acc += samples[first + k] * weights[row + k];
    } else {
      // At the edges the missing neighbours count as silence, the weights still applied.
      for (let k = 0; k < taps; k++) {
        const i = first + k;
        if (i >= 0 && i < n) acc += samples[i] * weights[row + k];
      }
    }
    out[j] = acc;
  }
  return out;
}
