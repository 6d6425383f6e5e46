/**
 * Output policy (docs/architecture.md#cli): data on stdout, logs and progress on stderr, `--json` for every
 * command that prints data, no colour off a TTY, with NO_COLOR, or under --json.
 */
export interface Output {
  json: boolean;
  data(text: string): void;
  json_(value: unknown): void;
  log(text: string): void;
  color: boolean;
}

export function createOutput(options: { json?: boolean } = {}): Output {
  const json = options.json ?? false;
  const color = !json && process.stderr.isTTY === true && !process.env.NO_COLOR;
  return {
    json,
    color,
    data: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    json_: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    log: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

/**
 * How every command prints its result: the value as JSON under --json, else `text` (data lines on
 * stdout; nothing when undefined). The one place that chooses between the two.
 */
export function emit<T>(out: Output, value: T, text?: string | ((value: T) => string | undefined)): T {
  if (out.json) out.json_(value);
  else {
    const shown = typeof text === 'function' ? text(value) : text;
    if (shown !== undefined) out.data(shown);
  }
  return value;
}

export const dim = (out: Output, text: string): string => (out.color ? `\x1b[2m${text}\x1b[0m` : text);
export const bold = (out: Output, text: string): string => (out.color ? `\x1b[1m${text}\x1b[0m` : text);
