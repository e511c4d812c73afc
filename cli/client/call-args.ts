/**
 * Call arguments from the command line: each is parsed as JSON when it parses (5 → 5, true → true,
 * '{"a":1}' → {a: 1}, '"5"' → the string "5"), and kept as the string it is otherwise (hello →
 * "hello"). An argument that starts with "-" goes after "--".
 */
export function parseCallArgs(args: readonly string[]): unknown[] {
  return args.map((arg) => {
    try {
      return JSON.parse(arg);
    } catch {
      return arg;
    }
  });
}
