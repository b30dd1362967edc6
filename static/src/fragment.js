// Programs carried in a link's fragment, so a short program can be shared without storing it:
//   #lang=python&code=<base64url(deflate-raw(UTF-8 text))>[&stdin=<the same encoding>]
// The fragment never reaches the server. docs/embed.md describes the format for other tools.

const CHUNK = 0x8000;

function toBase64Url(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export async function compress(text) {
  const stream = new Blob([new TextEncoder().encode(text)]).stream()
    .pipeThrough(new CompressionStream("deflate-raw"));
  return toBase64Url(new Uint8Array(await new Response(stream).arrayBuffer()));
}

/** The text of `encoded`; throws when it is not valid or inflates past `maxBytes`. */
export async function decompress(encoded, maxBytes = Infinity) {
  const stream = new Blob([fromBase64Url(encoded)]).stream()
    .pipeThrough(new DecompressionStream("deflate-raw"));
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      reader.cancel().catch(() => {});
      throw new Error(`the program in the link is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** "lang=...&code=..." (without the "#") for a program. */
export async function programToFragment({ language, code, stdin }) {
  let fragment = `lang=${encodeURIComponent(language)}&code=${await compress(code)}`;
  if (stdin) fragment += `&stdin=${await compress(stdin)}`;
  return fragment;
}

/** The program in a location hash ("#lang=...&code=..."), or null when it holds none. Throws
 *  when it holds one that cannot be read. */
export async function programFromFragment(hash, limits = {}) {
  const params = new URLSearchParams(String(hash || "").replace(/^#/, ""));
  const encoded = params.get("code");
  if (encoded === null) return null;
  const code = await decompress(encoded, limits.code_limit_bytes || Infinity);
  const stdinEncoded = params.get("stdin");
  const stdin = stdinEncoded ? await decompress(stdinEncoded, limits.stdin_limit_bytes || Infinity) : "";
  return { language: params.get("lang") || "", code, stdin };
}

export function hasProgram(hash) {
  return new URLSearchParams(String(hash || "").replace(/^#/, "")).has("code");
}
