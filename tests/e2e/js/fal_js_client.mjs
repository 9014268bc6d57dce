// The official @fal-ai/client (JS), unmodified, in proxy mode against openpika.
// Usage: node fal_js_client.mjs QUEUE_PORT IMAGE.png   (prints one JSON line)
import { createFalClient } from "@fal-ai/client";
import fs from "fs";

const [queuePort, imagePath] = process.argv.slice(2);
const png = fs.readFileSync(imagePath);
const fal = createFalClient({
  credentials: "e2e-key",
  proxyUrl: { url: `https://localhost:${queuePort}/api/fal/proxy`, when: "always" },
});
const endpoint = "fal-ai/pika/v2/turbo/image-to-video";
const input = { image_url: "data:image/png;base64," + png.toString("base64"), prompt: "p", duration: 1 };
const out = { updates: [] };

const streamed = await fal.subscribe(endpoint, {
  input, logs: true, mode: "streaming",
  onQueueUpdate: (update) => out.updates.push([update.status, update.logs ? update.logs.length : null]),
});
out.streamed = streamed.data;
out.requestId = streamed.requestId;
out.polled = (await fal.subscribe(endpoint, { input, pollInterval: 100 })).data;
try {
  await fal.subscribe(endpoint, { input: { prompt: "no image" } });
} catch (error) {
  out.error = { name: error.constructor.name, status: error.status, body: error.body };
}
out.run = (await fal.run(endpoint, { input })).data;
out.uploaded = await fal.storage.upload(new Blob([png], { type: "image/png" }));
console.log(JSON.stringify(out));
