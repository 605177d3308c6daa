// Checks a ledger seal in the browser: RFC 9162 inclusion proof with Web Crypto SHA-256, and the
// checkpoint's Ed25519 note signatures (C2SP signed note, cosignature/v1) where SubtleCrypto has
// Ed25519. Without Ed25519 the server's "verified in Python" result stays, plus the proof check.
"use strict";
(function () {
  const enc = new TextEncoder();
  const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const cat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let i = 0;
    for (const p of parts) { out.set(p, i); i += p.length; }
    return out;
  };
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const node = (l, r) => sha256(cat(Uint8Array.of(1), l, r));

  // RFC 9162 §2.1.3.2
  async function rootFromInclusion(index, size, leaf, proof) {
    if (index >= size) throw new Error("index outside tree");
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (sn === 0) throw new Error("proof too long");
      if (fn % 2 === 1 || fn === sn) {
        r = await node(p, r);
        if (fn % 2 === 0) { while (fn !== 0 && fn % 2 === 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
      } else {
        r = await node(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("proof too short");
    return r;
  }

  function parseKey(vkey) {
    const i = vkey.indexOf("+"), j = vkey.indexOf("+", i + 1);
    const raw = b64(vkey.slice(j + 1));
    return { name: vkey.slice(0, i), id: vkey.slice(i + 1, j).toLowerCase(), alg: raw[0], pub: raw.slice(1) };
  }

  function splitNote(text) {
    const at = text.lastIndexOf("\n\n");
    const body = text.slice(0, at + 1);
    const sigs = text.slice(at + 2).split("\n").filter(Boolean).map((line) => {
      const [, name, blob] = line.split(" ");
      const raw = b64(blob);
      return { name, id: Array.from(raw.slice(0, 4), (x) => x.toString(16).padStart(2, "0")).join(""), blob: raw.slice(4) };
    });
    return { body, sigs };
  }

  async function verifySig(key, body, sig) {
    const pub = await crypto.subtle.importKey("raw", key.pub, { name: "Ed25519" }, false, ["verify"]);
    if (key.alg === 4) {
      const ts = new DataView(sig.blob.buffer, sig.blob.byteOffset, 8).getBigUint64(0);
      const msg = enc.encode(`cosignature/v1\ntime ${ts}\n${body}`);
      return crypto.subtle.verify({ name: "Ed25519" }, pub, sig.blob.slice(8), msg);
    }
    return crypto.subtle.verify({ name: "Ed25519" }, pub, sig.blob, enc.encode(body));
  }

  async function check(bundle) {
    const started = performance.now();
    const { body, sigs } = splitNote(bundle.checkpoint);
    const lines = body.split("\n");
    if (Number(lines[1]) !== bundle.tree_size) throw new Error("checkpoint size");
    const root = b64(lines[2]);
    const leaf = await sha256(cat(Uint8Array.of(0), enc.encode(bundle.record)));
    const got = await rootFromInclusion(bundle.leaf_index, bundle.tree_size, leaf, bundle.inclusion_proof.map(b64));
    if (!equal(got, root)) throw new Error("inclusion proof");
    let ed25519 = true, logOk = false, witnesses = 0;
    try {
      for (const vkey of bundle.log_keys) {
        const key = parseKey(vkey);
        for (const s of sigs.filter((s) => s.name === key.name && s.id === key.id)) {
          if (!(await verifySig(key, body, s))) throw new Error("log signature");
          logOk = true;
        }
      }
      for (const vkey of bundle.witness_keys) {
        const key = parseKey(vkey);
        for (const s of sigs.filter((s) => s.name === key.name && s.id === key.id)) {
          if (await verifySig(key, body, s)) witnesses += 1;
        }
      }
      if (!logOk) throw new Error("no log signature");
    } catch (err) {
      if (err instanceof DOMException && (err.name === "NotSupportedError" || err.name === "DataError")) {
        ed25519 = false;
      } else {
        throw err;
      }
    }
    return { ed25519, witnesses, ms: performance.now() - started };
  }

  for (const section of document.querySelectorAll("[data-ledger-seal]")) {
    const data = section.querySelector("[data-ledger-bundle]");
    const out = section.querySelector("[data-ledger-check]");
    if (!data || !out || !window.crypto || !crypto.subtle) continue;
    const bundle = JSON.parse(data.textContent);
    check(bundle).then((result) => {
      out.dataset.browser = result.ed25519 ? "verified" : "fallback";
      out.dataset.witnesses = String(result.witnesses);
      out.dataset.ms = result.ms.toFixed(2);
      out.textContent = result.ed25519 ? out.dataset.msgOk : out.dataset.msgFallback;
    }).catch(() => {
      out.dataset.browser = "failed";
      out.textContent = out.dataset.msgBad;
    });
  }
})();
