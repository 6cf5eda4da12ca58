"""The built-in detectors, one package each (``detect/builtin/<name>/``): the detector class with its typed
parameters (``params_model``), its detection, the text it embeds, what splits its findings, its waste and
facts, and its offline wording (``wording.j2`` beside it). They are registered through the same plugin
hook as third-party detectors (:mod:`tracemine.default_plugins.detectors`). What several detectors share
— the trace view, canonical arguments, result outcomes, tool loops, inferred schemas — stays in
:mod:`tracemine.detect`."""
