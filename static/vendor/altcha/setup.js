// shixin's glue for the ALTCHA widget (not part of the altcha package).
// Loaded as a module by templates/casework/_altcha.html. It loads the widget only where it
// can work (WebCrypto needs a secure context), so a browser that cannot solve still posts
// the form, without a solution, as a browser without JavaScript does. The PBKDF2 worker is
// a file of this site: no blob: or data: workers, no inline code, nothing from elsewhere.
const base = new URL(".", import.meta.url);
const widgets = document.querySelectorAll("altcha-widget");

if (window.isSecureContext && window.crypto && crypto.subtle && window.customElements && window.Worker) {
  await import(new URL("altcha.min.js", base).href);
  if (document.documentElement.lang.toLowerCase().startsWith("zh")) {
    await import(new URL("zh-cn.js", base).href);
  }
  // The checkbox is ticked for the user when they submit: its label says so, rather than
  // the package's "I'm not a robot", which reads like a puzzle to solve.
  const i18n = globalThis.$altcha.i18n;
  const labels = { "zh-cn": "提交时自动验证，无需操作", en: "Checked automatically when you submit" };
  for (const [language, label] of Object.entries(labels)) {
    const strings = i18n.get(language);
    if (strings) i18n.set(language, { ...strings, label });
  }
  const worker = () => new Worker(new URL("pbkdf2.js", base));
  globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", worker);
} else {
  widgets.forEach((widget) => widget.closest(".altcha-field")?.remove());
}
