"""What sb3-behave's docs build adds to Sphinx: three checks and one generated table.

- **Every public name is in the API reference.** A public name is one that a module of
  ``sb3_behave`` lists in its ``__all__``. After reading every page, each must be described by
  some ``py`` object of the docs (under that name or another name of the same object), or the
  build warns (an error under ``-W``).
- **Every public name has a docstring**, and so has every public method and property of a public
  class that sb3-behave defines (inherited docstrings count, as ``help()`` shows them).
- **References resolve.** ``nitpicky`` is on, so every cross-reference must resolve, with two
  exceptions that are not errors of ours: types from packages whose inventories the build has no
  copy of (the standard library, numpy, torch, ...: see ``UNCHECKED_PACKAGES``), and the few
  objects of SB3 / gymnasium / imitation that their own documentation does not describe
  (``UNDOCUMENTED_UPSTREAM``).
- **Code blocks parse**: a ``python`` block must be valid Python, a ``yaml`` block valid YAML.
- ``.. zoo-config-keys::`` (``{zoo-config-keys}`` in Markdown) writes the table of every key a zoo
  config entry takes, per algorithm, from the constructors' signatures and ``:param:`` lines, so
  that the table cannot drift from the code.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from pathlib import Path
from typing import Any, TypeVar

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

PACKAGE = "sb3_behave"
#: Packages whose objects are linked through an inventory in docs/_inventories/: a reference into them must resolve.
CHECKED_PACKAGES = (PACKAGE, "stable_baselines3", "gymnasium", "imitation")
#: Objects that sb3-behave's signatures name but their own project's docs do not describe (so no link can exist).
UNDOCUMENTED_UPSTREAM = re.compile(
    r"^(stable_baselines3\.common\.(type_aliases|buffers|torch_layers|preprocessing|distributions|vec_env\.base_vec_env|"
    r"logger|policies|off_policy_algorithm|on_policy_algorithm)\."
    r"|gymnasium\.(core|spaces\.space|vector|wrappers|envs\.registration)\."
    r"|imitation\.(util|rewards|policies|algorithms\.base|data\.rollout|data\.wrappers)\.)"
)
_PARAM = re.compile(r"^:param (\w+):\s*(.*)$")


def public_modules(root: Path) -> list[str]:
    """The modules of the package whose source assigns ``__all__`` (read without importing them)."""
    names = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(
            isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            for node in tree.body
        ):
            parts = path.relative_to(root.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _resolve(fullname: str) -> Any:
    """The object a dotted name means in Python (attributes first, importing submodules as needed), or ``None``."""
    parts = fullname.split(".")
    try:
        obj: Any = importlib.import_module(parts[0])
    except ImportError:
        return None
    for i, part in enumerate(parts[1:], start=2):
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            return None
    return obj


def api_problems(documented_names: set[str]) -> tuple[list[str], list[str]]:
    """The public names missing from the documented ``py`` objects, and those without a docstring.

    :param documented_names: the full names of every ``py`` object the docs describe
    :return: ``(missing, undocumented)``, each a sorted list of descriptions
    """
    import sb3_behave

    documented_ids = {id(obj) for obj in map(_resolve, documented_names) if obj is not None}
    missing, undocumented = set(), set()
    for module_name in public_modules(Path(sb3_behave.__file__).resolve().parent):
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if name.startswith("__"):
                continue  # __version__
            obj = getattr(module, name)
            fullname = f"{module_name}.{name}"
            value = isinstance(obj, (int, float, str, bool, type(None)))  # equal values are not the same constant
            if fullname not in documented_names and (value or id(obj) not in documented_ids):
                missing.add(fullname)
            if not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj)) and not data_comment(fullname):
                undocumented.add(f"constant {fullname} (a '#:' comment where it is assigned)")
            for what, target in _needs_docstring(obj):
                if not inspect.getdoc(target):
                    undocumented.add(f"{what} {fullname}" + ("" if target is obj else f".{target.__name__}"))
    return sorted(missing), sorted(undocumented)


def check_public_api(app: Sphinx, env: Any) -> None:
    """Warn for each public name the API reference does not describe, or that has no docstring."""
    if not app.config.sb3_behave_check_public_api:
        return
    missing, undocumented = api_problems(set(env.get_domain("py").objects))
    for name in missing:
        logger.warning(
            "public name %s (in its module's __all__) is not in the API reference (a constant needs a '#:' comment)",
            name,
            type="sb3_behave",
            subtype="api",
        )
    for name in undocumented:
        logger.warning("public %s has no docstring", name, type="sb3_behave", subtype="docstring")


def _needs_docstring(obj: Any) -> list[tuple[str, Any]]:
    """The objects behind a public name that must carry a docstring: itself, and a class's own public methods."""
    if inspect.isclass(obj):
        found: list[tuple[str, Any]] = [("class", obj)]
        if obj.__module__.startswith(PACKAGE):
            for attribute, value in vars(obj).items():
                if attribute.startswith("_"):
                    continue
                function = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
                if inspect.isfunction(function):
                    found.append(("method", function))
        return found
    if inspect.isfunction(obj):
        return [("function", obj)]
    return []


def _candidates(node: Any) -> list[str]:
    """The dotted names a ``py`` reference may mean, as Python would look the name up where it is written.

    That is: the name as written; inside the module (and class) whose documentation holds it; and
    inside the module that defines the documented object, whose imports the object's own
    annotations and docstrings use (an object documented under its package's name is defined in
    a submodule).
    """
    target = node.get("reftarget", "").lstrip("~.")
    module, cls = node.get("py:module"), node.get("py:class")
    names = [target]
    if module:
        names.append(f"{module}.{target}")
        if cls:
            names.append(f"{module}.{cls}.{target}")
    parent = node.parent
    while parent is not None and not isinstance(parent, addnodes.desc):
        parent = parent.parent
    if parent is not None:
        signature = next(iter(parent.findall(addnodes.desc_signature)), None)
        if signature is not None and signature.get("module") and signature.get("fullname"):
            fullname = f"{signature['module']}.{signature['fullname']}"
            documented = _resolve(fullname)
            if documented is None:  # an instance attribute: the class defines it
                documented = _resolve(fullname.rsplit(".", 1)[0])
            defining = getattr(inspect.unwrap(documented), "__module__", None) if documented is not None else None
            if isinstance(documented, property):
                defining = getattr(documented.fget, "__module__", None)
            if defining:
                names.append(f"{defining}.{target}")
    return names


def _documented_names(env: Any) -> dict[int, str]:
    """``{id(object): documented name}`` of every ``py`` object of the docs, built once per build."""
    cache = getattr(env, "_sb3_behave_documented", None)
    if cache is None or cache[0] != len(env.get_domain("py").objects):
        names = sorted(env.get_domain("py").objects, key=len)  # the shortest name of an object wins
        by_id: dict[int, str] = {}
        for name in names:
            obj = _resolve(name)
            if obj is not None and not isinstance(obj, (int, float, str, bool)):
                by_id.setdefault(id(obj), name)
        cache = (len(env.get_domain("py").objects), by_id)
        env._sb3_behave_documented = cache
    return cache[1]


def resolve_by_object(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a ``py`` reference written under another name of a documented object.

    The API reference documents each object once, under the name users import it by
    (``sb3_behave.demos.load_demonstrations``), while docstrings name it where it is defined
    (``sb3_behave.demos.storage.load_demonstrations``, or just ``load_demonstrations`` inside its
    module), and SB3's classes under the names they are imported by (``BaseCallback``). Python's
    own lookup decides what the reference means; the documented name of that object is linked.
    """
    if node.get("refdomain") != "py":
        return None
    for name in _candidates(node):
        obj = _resolve(name)
        if obj is None or isinstance(obj, (int, float, str, bool)):
            continue
        documented = _documented_names(env).get(id(obj))
        if documented is None:
            qualified = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
            if qualified.split(".")[0] not in CHECKED_PACKAGES[1:]:
                return None
            documented = qualified  # an object of SB3 / gymnasium / imitation: try its inventory under its own name
        if documented == node["reftarget"]:
            return None
        retry = node.deepcopy()
        retry["reftarget"] = documented
        retry["refspecific"] = False
        domain = env.get_domain("py")
        found = domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], documented, retry, contnode)
        if found is None:
            from sphinx.ext import intersphinx

            found = intersphinx.missing_reference(app, env, retry, contnode)
        return found
    return None


def keep_missing_reference_warning(app: Sphinx, domain: Any, node: Any) -> bool | None:
    """``True`` (no warning) for a reference that no inventory could resolve; ``None`` (warn) for the rest.

    A reference warns when it names something of sb3-behave that the docs do not describe, or
    something that does not exist at all (a typo), or an object of SB3 / gymnasium / imitation
    that their documentation describes under no name. Types of the standard library, numpy and
    torch (no inventory here) and aliases such as ``PathLike`` are left as plain text.
    """
    if domain is None or domain.name != "py":
        return None
    target = node.get("reftarget", "").lstrip("~.")
    objects = [obj for obj in map(_resolve, _candidates(node)) if obj is not None]
    if not objects:
        # Nothing of that name exists where it is written: a typo, unless it is a builtin, a
        # qualified name of a package without inventory, or a type annotation (no source line:
        # autodoc wrote it from a signature, whose names Python and ruff check, not this build).
        root = target.split(".")[0]
        import builtins

        generated = node.source is None and node.line is None
        return True if (generated or (root not in CHECKED_PACKAGES and ("." in target or hasattr(builtins, target)))) else None
    if isinstance(objects[0], TypeVar):
        return True  # SelfBC and the like: a return type that is the class itself
    module = getattr(objects[0], "__module__", None) or getattr(objects[0], "__name__", "")
    root = str(module).split(".")[0]
    if root == PACKAGE:
        return None  # ours, and not described: add it to the API reference
    if root in CHECKED_PACKAGES and not UNDOCUMENTED_UPSTREAM.match(f"{module}.{getattr(objects[0], '__qualname__', '')}"):
        return None
    return True


def _exported_by_packages() -> dict[int, set[str]]:
    """``{id(object): {package, ...}}`` for every object a package of sb3_behave lists in its ``__all__``."""
    import sb3_behave

    exported: dict[int, set[str]] = {}
    for module_name in public_modules(Path(sb3_behave.__file__).resolve().parent):
        module = importlib.import_module(module_name)
        if not Path(module.__file__ or "").name == "__init__.py":
            continue
        for name in module.__all__:
            obj = getattr(module, name)
            if not isinstance(obj, (int, float, str, bool, type(None))):
                exported.setdefault(id(obj), set()).add(module_name)
    return exported


def data_comment(fullname: str) -> list[str]:
    """The ``#:`` comment of a constant, read where it is assigned (a package re-exports it from a submodule)."""
    from sphinx.pycode import ModuleAnalyzer

    package, _, name = fullname.rpartition(".")
    obj = _resolve(fullname)
    ours = [m for m in list(sys.modules) if m == PACKAGE or m.startswith(f"{PACKAGE}.")]
    for module_name in sorted(ours, key=lambda m: (not m.startswith(package), m)):  # the package's own modules first
        if getattr(sys.modules[module_name], name, _MISSING) is not obj:
            continue
        try:
            comment = ModuleAnalyzer.for_module(module_name).find_attr_docs().get(("", name))
        except Exception:  # a module without source
            continue
        if comment:
            return list(comment)
    return []


_MISSING = object()


def skip_what_a_package_exports(app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    """In a module's members, skip what an enclosing package exports: the package's page documents it, once."""
    if what != "module":
        return None
    current = getattr(app.env, "current_document", None)
    module = getattr(current, "autodoc_module", None) or app.env.temp_data.get("autodoc:module")
    if not module:
        return None
    if not hasattr(app.env, "_sb3_behave_exported"):
        app.env._sb3_behave_exported = _exported_by_packages()
    packages = app.env._sb3_behave_exported.get(id(obj), set())
    return True if any(module.startswith(f"{package}.") for package in packages) else None


def fill_data_comment(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """A constant's docstring is its ``#:`` comment where it is assigned (a package re-exports it from a submodule).

    autodoc looks for the comment in the package's own source only, and otherwise shows the
    docstring of the value's type ("Built-in immutable sequence."), which says nothing of the constant.
    """
    if what != "data":
        return
    comment = data_comment(name)
    if comment:
        lines[:] = comment
    elif "\n".join(lines).strip() == (inspect.getdoc(type(obj)) or "").strip():
        lines[:] = []


_ROLE = re.compile(r":(?:py:)?(?:attr|meth|func|class|obj|data|exc|mod):`~?([^`]+)`")


def plain_inherited_references(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """A docstring inherited from SB3 or gymnasium keeps its text, its cross-references become code.

    They name the parent's attributes (``:attr:`env```), which the parent's docs describe, not ours.
    """
    function = obj.fget if isinstance(obj, property) else obj
    if what not in ("method", "property", "attribute") or getattr(function, "__doc__", None) not in (None, ""):
        return
    lines[:] = [_ROLE.sub(r"``\1``", line) for line in lines]


def check_code_blocks(app: Sphinx, doctree: nodes.document) -> None:
    """Warn for a ``python`` block that is not valid Python, and a ``yaml`` block that is not valid YAML.

    Pygments highlights broken Python without complaint, so a snippet with a typo would reach
    the reader; the guide's snippets are also run by ``tests/test_documented_commands.py``.
    """
    import yaml

    for block in doctree.findall(nodes.literal_block):
        language, text = block.get("language", ""), block.astext()
        try:
            if language in ("python", "python3", "py"):
                ast.parse(text)
            elif language == "yaml":
                yaml.safe_load(text)
        except (SyntaxError, yaml.YAMLError) as error:
            logger.warning("a %s block that does not parse: %s", language, str(error).splitlines()[0], location=block)


# --------------------------------------------------------------------------- the zoo's config keys
def _param_docs(cls: type) -> dict[str, str]:
    """``{name: text}`` of the ``:param:`` lines of a class and its bases (the class's own line wins)."""
    docs: dict[str, str] = {}
    for klass in cls.__mro__:
        own: dict[str, str] = {}
        current = None
        for line in inspect.cleandoc(klass.__doc__ or "").splitlines():
            match = _PARAM.match(line)
            if match:
                current = match.group(1)
                own[current] = match.group(2)
            elif current and line.startswith(" "):
                own[current] += " " + line.strip()
            else:
                current = None
        for name, text in own.items():
            docs.setdefault(name, text)
    return docs


class ZooConfigKeys(Directive):
    """``zoo-config-keys``: a section per algorithm of ``sb3_behave.agents.ALGORITHMS`` with the keys its entry takes."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from sb3_behave.agents import ALGORITHMS, algorithm_class
        from sb3_behave.zoo.config import ZOO_KEYS

        result: list[nodes.Node] = []
        for algo in ALGORITHMS:
            cls = algorithm_class(algo)
            parameters = inspect.signature(cls.__init__).parameters
            docs = _param_docs(cls)
            section = nodes.section(ids=[f"zoo-keys-{algo}"])
            section += nodes.title("", "", nodes.literal(text=f"--algo {algo}"))
            target = ALGORITHMS[algo].replace(":", ".")
            paragraph = nodes.paragraph()
            paragraph += nodes.Text("The keys of the class ")
            reference = addnodes.pending_xref("", refdomain="py", reftype="class", reftarget=target, refexplicit=False)
            reference += nodes.literal(text=target)
            paragraph += reference
            paragraph += nodes.Text(":")
            section += paragraph
            rows = []
            for name, parameter in parameters.items():
                skipped_kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
                if name in ("self", "policy", "env", "_init_setup_model") or parameter.kind in skipped_kinds:
                    continue
                default = "required" if parameter.default is inspect.Parameter.empty else repr(parameter.default)
                rows.append((name, default, docs.get(name, "")))
            section += _table(["key", "default", "what it sets"], rows)
            if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
                extra = docs.get(next(n for n, p in parameters.items() if p.kind is inspect.Parameter.VAR_KEYWORD), "")
                paragraph = nodes.paragraph()
                paragraph += nodes.Text("Every other key goes on: " + _plain(extra or "to the inner algorithm") + ".")
                section += paragraph
            result.append(section)
        paragraph = nodes.paragraph()
        paragraph += nodes.Text("Keys the zoo reads itself, in every entry: ")
        for i, key in enumerate(sorted(ZOO_KEYS)):
            if i:
                paragraph += nodes.Text(", ")
            paragraph += nodes.literal(text=key)
        paragraph += nodes.Text(".")
        return [paragraph, *result]


def _table(header: list[str], rows: list[tuple[str, str, str]]) -> nodes.table:
    table = nodes.table()
    group = nodes.tgroup(cols=len(header))
    table += group
    for width in (22, 14, 64):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    head += _row(header, literal=False)
    body = nodes.tbody()
    group += body
    for row in rows:
        body += _row(list(row), literal=True)
    return table


def _row(cells: list[str], literal: bool) -> nodes.row:
    row = nodes.row()
    for i, text in enumerate(cells):
        entry = nodes.entry()
        paragraph = nodes.paragraph()
        paragraph += nodes.literal(text=text) if literal and i < 2 else nodes.Text(_plain(text))
        entry += paragraph
        row += entry
    return row


def _plain(text: str) -> str:
    """A ``:param:`` text as plain words: reST roles and double backquotes dropped."""
    text = re.sub(r":\w+:`~?([^`<]*?)(?:\s*<[^>]*>)?`", lambda m: m.group(1).split(".")[-1], text)
    return text.replace("``", "")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("sb3_behave_check_public_api", True, "env")
    app.connect("env-check-consistency", check_public_api)
    app.connect("doctree-read", check_code_blocks)
    app.connect("autodoc-skip-member", skip_what_a_package_exports)
    app.connect("autodoc-process-docstring", plain_inherited_references)
    app.connect("autodoc-process-docstring", fill_data_comment)
    app.connect("missing-reference", resolve_by_object)
    app.connect("warn-missing-reference", keep_missing_reference_warning)
    app.add_directive("zoo-config-keys", ZooConfigKeys)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
