"""The plugin manager: built-in default plugins, then third-party plugins from entry points, collected
hook by hook with where each component came from (see ARCHITECTURE.md, 'Plugins').

Third-party plugins are modules named in the entry-point group ``tracemine`` (``name = "package.module"``);
detector classes named in the older group ``tracemine.detectors`` (``name = "package.module:Class"``) are
registered through the same ``register_detectors`` hook. A plugin that fails to load, or a hook
implementation that raises, is left out, logged and listed by :func:`load_errors` (``tracemine
plugins``): one broken plugin never stops a run. Loading is lazy (first use) and cached per process;
:func:`reset` forgets it (tests).
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any, TypeVar

import pluggy

from tracemine import hookspecs
from tracemine.hookspecs import HOOKS, PROJECT, hookimpl

ENTRY_POINT_GROUP = "tracemine"
DETECTOR_ENTRY_POINT_GROUP = "tracemine.detectors"
DEFAULT_PLUGINS = (
    "tracemine.default_plugins.detectors",
    "tracemine.default_plugins.readers",
    "tracemine.default_plugins.conventions",
    "tracemine.default_plugins.publishers",
    "tracemine.default_plugins.report_writers",
    "tracemine.default_plugins.embedders",
    "tracemine.default_plugins.summarisers",
)
UNIQUE_NAMES = frozenset({"register_detectors", "register_publishers", "register_report_writers",
                          "register_embedders", "register_summarisers"})
"""Hooks whose components are looked up by name: the first registered under a name wins (built-ins come
first), a later one is left out and listed as a load error."""

log = logging.getLogger("tracemine.plugins")
F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["Origin", "Registered", "components", "hookimpl", "load_errors", "memoized", "registered", "reset"]


@dataclass(frozen=True)
class Origin:
    """Where a plugin came from: a built-in module, or an installed distribution (name and version)."""

    plugin: str
    module: str
    distribution: str | None = None
    version: str | None = None

    @property
    def builtin(self) -> bool:
        return self.distribution is None

    def describe(self) -> str:
        return f"builtin {self.module}" if self.builtin else f"{self.distribution} {self.version} ({self.module})"

    def as_dict(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "module": self.module, "builtin": self.builtin,
                "distribution": self.distribution, "version": self.version}


@dataclass(frozen=True)
class Registered:
    """One component a plugin registered through ``hook``."""

    hook: str
    name: str
    component: Any
    origin: Origin


@dataclass(frozen=True)
class LoadError:
    """A plugin (or one of its hook implementations) that could not be used, and why."""

    origin: Origin
    error: str
    hook: str | None = None


@dataclass
class _State:
    manager: pluggy.PluginManager
    origins: dict[str, Origin] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)
    collected: dict[str, list[Registered]] = field(default_factory=dict)


_state: _State | None = None
_memos: list[Any] = []


def memoized(fn: F) -> F:
    """``functools.cache`` that :func:`reset` clears: for lookups built from the registered components."""
    cached = functools.cache(fn)
    _memos.append(cached)
    return cached  # type: ignore[return-value]


def reset() -> None:
    """Forget the loaded plugins and everything built from them; the next use loads them again."""
    global _state
    _state = None
    for cached in _memos:
        cached.cache_clear()


def manager() -> pluggy.PluginManager:
    """The process's plugin manager, loading the plugins on first use."""
    return _load().manager


def _load() -> _State:
    global _state
    if _state is None:
        pm = pluggy.PluginManager(PROJECT)
        pm.add_hookspecs(hookspecs)
        state = _State(pm)
        for module_name in DEFAULT_PLUGINS:
            _register(state, importlib.import_module(module_name), Origin(module_name, module_name))
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            _register_entry_point(state, entry)
        _register_legacy_detectors(state)
        _state = state
    return _state


def _origin(entry: EntryPoint, plugin: str) -> Origin:
    dist = getattr(entry, "dist", None)
    return Origin(plugin, entry.value.partition(":")[0], dist.name if dist else "unknown",
                  dist.version if dist else "unknown")


def _register_entry_point(state: _State, entry: EntryPoint) -> None:
    origin = _origin(entry, entry.name)
    if state.manager.get_plugin(entry.name) is not None:
        _failed(state, LoadError(origin, f"a plugin named {entry.name!r} is already registered"))
        return
    try:
        plugin = entry.load()
    except Exception as exc:  # a broken plugin is reported, never fatal
        _failed(state, LoadError(origin, f"cannot import {entry.value}: {type(exc).__name__}: {exc}"))
        return
    _register(state, plugin, origin)


def _register(state: _State, plugin: Any, origin: Origin) -> None:
    try:
        state.manager.register(plugin, name=origin.plugin)
    except Exception as exc:  # pluggy.PluginValidationError: a misspelt hook, a wrong signature
        _failed(state, LoadError(origin, f"{type(exc).__name__}: {exc}"))
        return
    state.origins[origin.plugin] = origin


class _EntryPointDetectors:
    """Detector classes named in the ``tracemine.detectors`` group by one distribution, as a plugin."""

    def __init__(self, entries: list[EntryPoint]) -> None:
        self.entries = entries

    @hookimpl
    def register_detectors(self) -> list[Any]:
        return [entry.load() for entry in self.entries]


def _register_legacy_detectors(state: _State) -> None:
    by_dist: dict[str, list[EntryPoint]] = {}
    for entry in entry_points(group=DETECTOR_ENTRY_POINT_GROUP):
        dist = getattr(entry, "dist", None)
        by_dist.setdefault(dist.name if dist else "unknown", []).append(entry)
    for dist_name, entries in by_dist.items():
        name = f"{DETECTOR_ENTRY_POINT_GROUP}:{dist_name}"
        origin = _origin(entries[0], name)
        _register(state, _EntryPointDetectors(entries), Origin(name, DETECTOR_ENTRY_POINT_GROUP,
                                                               origin.distribution, origin.version))


def _failed(state: _State, error: LoadError) -> None:
    log.warning("plugin %s (%s): %s", error.origin.plugin, error.origin.describe(), error.error)
    state.errors.append(error)


def component_name(hook: str, component: Any) -> str:
    """The name a component is listed and looked up by: a reader's ``format``, else its ``name``, else
    (a convention module) the last part of its module name."""
    if hook == "register_readers":
        return str(getattr(component, "format", component))
    name = getattr(component, "name", None)
    if isinstance(name, str) and name:
        return name
    if isinstance(component, ModuleType):
        return component.__name__.rsplit(".", 1)[-1]
    return getattr(component, "__name__", type(component).__name__)


def registered(hook: str) -> list[Registered]:
    """Every component registered through ``hook``, built-ins first, then plugins in load order."""
    state = _load()
    found = state.collected.get(hook)
    if found is None:
        found = state.collected[hook] = _collect(state, hook)
    return found


def _collect(state: _State, hook: str) -> list[Registered]:
    caller = getattr(state.manager.hook, hook)
    found: list[Registered] = []
    names: dict[str, Origin] = {}
    seen: set[int] = set()
    for impl in caller.get_hookimpls():  # registration order (pluggy *calls* them last-registered first)
        origin = state.origins[impl.plugin_name]
        try:
            components = list(impl.function() or ())
        except Exception as exc:  # a plugin's hook failing leaves out its components only
            _failed(state, LoadError(origin, f"{hook} failed: {type(exc).__name__}: {exc}", hook))
            continue
        for component in components:
            name = component_name(hook, component)
            if id(component) in seen:
                continue
            if hook in UNIQUE_NAMES and name in names:
                _failed(state, LoadError(origin, f"{hook}: {name!r} is already registered by "
                                                 f"{names[name].describe()}; this one is left out", hook))
                continue
            seen.add(id(component))
            names.setdefault(name, origin)
            found.append(Registered(hook, name, component, origin))
    return found


def components(hook: str) -> list[Any]:
    """The components of ``hook``, in registration order."""
    return [r.component for r in registered(hook)]


def by_name(hook: str) -> dict[str, Any]:
    """The components of ``hook`` by name (for the hooks in :data:`UNIQUE_NAMES`)."""
    return {r.name: r.component for r in registered(hook)}


def load_errors() -> list[LoadError]:
    """Plugins and hook implementations left out so far, and why (hooks are collected on first use)."""
    state = _load()
    for hook in HOOKS:
        registered(hook)
    return list(state.errors)


def listing() -> list[Registered]:
    """Every registered component of every hook (what ``tracemine plugins`` prints)."""
    return [r for hook in HOOKS for r in registered(hook)]
