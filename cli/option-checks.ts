// Checks of command-line option values. A bad value is a UsageError: main prints it as one line,
// `itchain: <message>`, and exits 1.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function integerOption(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function networkIdOption(flag: string, text: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text)) {
    throw new UsageError(`${flag} must be 1 to 64 letters, digits, ".", "_" or "-"`);
  }
  return text;
}

export function organizationOption(flag: string, text: string): string {
  // X.509 caps an organization name at 64 characters.
  if (text.trim() === '' || text.length > 64) throw new UsageError(`${flag} must be 1 to 64 characters`);
  return text;
}
