// The line protocol every script here speaks with peers/internal/childproc:
// one JSON request a line on stdin, each answered with one line on stdout,
// marker + the JSON answer, or {"fatal": ...} when handling it threw.
import readline from 'node:readline';

// serveLines answers each request with await handle(request) until stdin
// closes, then resolves.
export async function serveLines(marker, handle) {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let out;
    try {
      out = await handle(JSON.parse(line));
    } catch (e) {
      out = { fatal: String((e && e.stack) || e) };
    }
    process.stdout.write(marker + JSON.stringify(out) + '\n');
  }
}
