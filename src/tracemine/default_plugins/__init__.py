"""The built-in components, registered through the plugin hooks (:mod:`tracemine.hookspecs`) like any
third-party plugin: one module per hook, listed in :data:`tracemine.plugins.DEFAULT_PLUGINS`."""
