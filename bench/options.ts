// Command-line option checks shared by the benchmarks' entry points.

/** `text` as an integer within [min, max], or an error naming the flag and what it got. */
export function integerOption(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  return value;
}
