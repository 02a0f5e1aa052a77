// shixin's glue for the ALTCHA widget (not part of the altcha package).
// Loaded as a module by templates/casework/_altcha.html. It loads the widget only where it
// can work (WebCrypto needs a secure context), so a browser that cannot solve still posts
// the form, without a solution, as a browser without JavaScript does. The PBKDF2 worker is
// a file of this site: no blob: or data: workers, no inline code, nothing from elsewhere.
// The page names each file under its content-hashed address (portal/static_assets.py) in
// this script's data attributes; the plain names beside this file are the fallback.
const base = new URL(".", import.meta.url);
const script = document.querySelector("script[data-widget]");
const asset = (key, name) => new URL(script?.dataset[key] || name, script?.dataset[key] ? document.baseURI : base).href;
const widgets = document.querySelectorAll("altcha-widget");

if (window.isSecureContext && window.crypto && crypto.subtle && window.customElements && window.Worker) {
  await import(asset("widget", "altcha.min.js"));
  if (document.documentElement.lang.toLowerCase().startsWith("zh")) {
    await import(asset("zh", "zh-cn.js"));
  }
  // The checkbox is ticked for the user when they submit: its label says so, rather than
  // the package's "I'm not a robot", which reads like a puzzle to solve.
  const i18n = globalThis.$altcha.i18n;
  const labels = { "zh-cn": "提交时自动验证，无需操作", en: "Checked automatically when you submit" };
  for (const [language, label] of Object.entries(labels)) {
    const strings = i18n.get(language);
    if (strings) i18n.set(language, { ...strings, label });
  }
  const worker = () => new Worker(asset("worker", "pbkdf2.js"));
  globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", worker);
} else {
  widgets.forEach((widget) => widget.closest(".altcha-field")?.remove());
}
