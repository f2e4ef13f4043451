"""The operator console: a single-page app served by the node (``static/``: HTML, one ES module,
one stylesheet and the English and Chinese strings; no build step, nothing fetched from the
network), and the verification views it shows (:mod:`detente.console.verification`)."""
