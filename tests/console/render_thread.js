// Renders inbox rows with the console's own threadItem() under Node.js, in both languages, on a
// minimal stand-in for the DOM (elements that hold children and text). Input (stdin): {source,
// strings, me, threads}; output: {"en": [text of each row], "zh": [...]}.
const vm = require("vm");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
class FakeNode {
  constructor(tag, text = "") { this.tag = tag; this.text = text; this.children = []; this.attrs = {}; this.className = ""; }
  append(...nodes) { this.children.push(...nodes); }
  setAttribute(k, v) { this.attrs[k] = v; }
  addEventListener() {}
  get textContent() { return this.tag === "#text" ? this.text : this.children.map((c) => c.textContent).join(""); }
  set textContent(v) { this.children = [new FakeNode("#text", String(v))]; }
}
const document = {
  createElement: (tag) => new FakeNode(tag),
  createTextNode: (text) => new FakeNode("#text", text),
  documentElement: {}, querySelector: () => null, querySelectorAll: () => [],
};
const ctx = vm.createContext({ document, Node: FakeNode, sessionStorage: { getItem: () => null }, setTimeout, setInterval: () => 0 });
vm.runInContext(input.source.replace(/\nmain\(\);\s*$/, "\n") + "\nglobalThis.__console = { S, threadItem };", ctx);
const { S, threadItem } = ctx.__console;
S.strings = input.strings;
S.me = input.me;
const out = {};
for (const lang of ["en", "zh"]) {
  S.lang = lang;
  out[lang] = input.threads.map((thread) => threadItem(thread, {}).textContent);
}
process.stdout.write(JSON.stringify(out));
