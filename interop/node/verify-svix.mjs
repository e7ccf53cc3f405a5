// Verifies webhook deliveries with the svix npm package, as a Node.js app
// receiving Clerk webhooks would. Reads JSON from stdin:
//   {"secret":"whsec_...","deliveries":[{"body":"...","headers":{"svix-id":...}}]}
// and prints one JSON line per delivery: {"ok":true,"type":...} or
// {"ok":false,"error":...}. Exits 1 if any failed.
import { Webhook } from 'svix';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { secret, deliveries } = JSON.parse(input);
const wh = new Webhook(secret);
let failed = false;
for (const d of deliveries) {
  try {
    wh.verify(d.body, d.headers); // throws unless the signature holds
    const event = JSON.parse(d.body);
    console.log(JSON.stringify({ ok: true, type: event.type }));
  } catch (err) {
    failed = true;
    console.log(JSON.stringify({ ok: false, error: String(err.message || err) }));
  }
}
process.exit(failed ? 1 : 0);
