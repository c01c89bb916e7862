"""Dynamic access to torch modules, and device/dtype keyword dicts.

Real code reaches torch by name at run time: ``getattr(nn, act_name)()``,
``hasattr(F, 'scaled_dot_product_attention')``, ``nn.__dict__[name]``. And layer code
in torch's own style (timm's ``dd``, torch's ``factory_kwargs``) builds
``{'device': device, 'dtype': dtype}`` and splats it into every layer and tensor
factory. What becomes of each:

- ``hasattr(M, 'name')`` asks whether a feature exists, to choose a code path. The
  converted program has it exactly when a rule converts ``M.name``: then the probe
  asks Paddle for the rule's target (``hasattr(paddle.nn.functional,
  'scaled_dot_product_attention')``); else it is ``False`` (``True`` for a torch module
  that rules live under), so the converted program takes the path that works without it.
- ``getattr(M, 'name')`` is ``M.name``; called, a call of it with the rule's argument
  mapping. ``getattr(M, 'name', default)`` with nothing in Paddle is ``default``.
- ``getattr(M, expr)``, ``hasattr(M, expr)``, ``M.__dict__`` look names up in a
  namespace class generated from the rules (``class _paddleport_torch_nn``) that
  ``add_namespaces`` places after the file's imports: the converted program never
  imports paddleport, and converting it again changes nothing. Only rules that at
  most rename and drop arguments, with positions unchanged, are in it: torch's
  positional arguments mean the same to what the lookup finds, a keyword Paddle
  spells differently fails loudly, and a name outside it raises ``AttributeError`` as
  torch does for an unknown name.
- A device/dtype dict becomes ``{}`` and its splats into converted calls go. Paddle's
  layers take neither argument (placement is global, ``paddle.set_device``; parameters
  take the default dtype, ``paddle.set_default_dtype``), and emptying the dict where it
  is built also covers layer classes that reach ``norm_layer(dim, **dd)`` at run time.
  With the values None, as by default, nothing computed changes; a caller passing a
  dtype is what the review note is for. Values with side effects (``kwargs.pop``) still
  run: the dict keeps only its entries that are not None.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable

import libcst as cst

from paddleport.analysis.source import common_prefix, line_starts
from paddleport.analysis.uses import Use
from paddleport.rewrite.arguments import code_of, is_atomic
from paddleport.rewrite.edits import TextEdit, apply_edits
from paddleport.rules.loader import RuleSet
from paddleport.rules.model import Tier

NAMESPACE_PREFIX = "_paddleport_"
# The torch release the rule examples are verified against (pyproject.toml pins it; a test checks).
TORCH_VERSION = "2.13.0"

FACTORY_NOTE = (
    "Paddle layers and tensor factories take no device/dtype: placement is global "
    "(paddle.set_device) and parameters take the default dtype (paddle.set_default_dtype). "
    "Identical while the values are None, as by default; if callers pass a dtype, set it with "
    "paddle.set_default_dtype instead"
)

Result = tuple[str | None, Tier, str]


def namespace_name(module: str) -> str:
    """``torch.nn`` → ``_paddleport_torch_nn``."""
    return NAMESPACE_PREFIX + module.replace(".", "_")


def factory_kwargs(span: str) -> Result:
    """The device/dtype dict where it is built: ``{}``, or its non-None entries when its
    values have side effects (``kwargs.pop('device', None)``) and must still run."""
    try:
        node = cst.parse_expression(span)
    except cst.ParserSyntaxError:
        return None, Tier.MANUAL, "device/dtype dict left as is: could not parse it"
    if isinstance(node, cst.Dict):
        values = [e.value for e in node.elements if isinstance(e, cst.DictElement)]
    elif isinstance(node, cst.Call):
        values = [a.value for a in node.args]
    else:
        return None, Tier.MANUAL, "device/dtype dict left as is: not a dict display or dict() call"
    if all(_plain(v) for v in values):
        all_none = all(isinstance(v, cst.Name) and v.value == "None" for v in values)
        message = "device/dtype dict → {} (its splats into converted calls are dropped)"
        if all_none:
            return "{}", Tier.EXACT, message
        return "{}", Tier.REVIEW, f"{message} — review: {FACTORY_NOTE}"
    kept = f"{{k: v for k, v in {span.strip()}.items() if v is not None}}"
    return kept, Tier.REVIEW, (
        "device/dtype dict → its entries that are not None (its values have side effects, so "
        "they still run; its splats into converted calls are dropped) — review: a device or dtype "
        f"passed on reaches Paddle, which rejects it. {FACTORY_NOTE}"
    )


def _plain(node: cst.BaseExpression) -> bool:
    """A name, constant, attribute or ``.get(...)``: dropping it drops no side effect."""
    if isinstance(node, (cst.Name, cst.BaseNumber, cst.BaseString)):
        return True
    if isinstance(node, cst.Attribute):
        return _plain(node.value)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get":
        return _plain(node.func.value) and all(_plain(a.value) and a.keyword is None for a in node.args)
    return False


def lookup(use: Use, span: str, rules: RuleSet) -> Result:
    """``hasattr``/``getattr``/``dir`` on a torch module, its ``__dict__``, ``'x' in dir(M)``, or a
    torch version check."""
    try:
        node = cst.parse_expression(span)
    except cst.ParserSyntaxError:
        node = cst.parse_expression(f"({span})").with_changes(lpar=[], rpar=[])
    if isinstance(node, cst.Comparison):
        operator_ = node.comparisons[0].operator
        if isinstance(operator_, (cst.In, cst.NotIn)):  # 'silu' in dir(F): a feature probe
            probe, tier, message = _probe(use, rules)
            if isinstance(operator_, cst.NotIn):
                probe = str(probe != "True") if probe in ("True", "False") else f"not {probe}"
            return probe, tier, message
        return version_check(node, use)
    if isinstance(node, cst.Attribute):  # nn.__dict__
        return _runtime(use.api, rules, f"{namespace_name(use.api)}.__dict__")
    assert isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
    if node.func.value == "dir":
        return _runtime(use.api, rules, f"dir({namespace_name(use.api)})")
    name = node.args[1].value
    if not isinstance(name, (cst.SimpleString, cst.ConcatenatedString)):
        target = cst.Arg(value=cst.Name(namespace_name(use.api)), comma=node.args[0].comma)
        new = node.with_changes(args=[target, *node.args[1:]])
        return _runtime(use.api, rules, code_of(new))
    if node.func.value == "getattr":  # with a default, and nothing in Paddle
        value = node.args[2].value
        default = code_of(value)
        if not is_atomic(value):  # `getattr(M, 'f', lambda: False)()`: the default is called
            default = f"({default})"
        return default, Tier.REVIEW, (
            f"`{use.api}` has no Paddle conversion, so the converted program sees it as missing: "
            f"getattr(...) → {default} — review: the code path for a torch without it is taken"
        )
    return _probe(use, rules)


def _probe(use: Use, rules: RuleSet) -> Result:
    """Whether the converted program has ``use.api``, as an expression."""
    rule = use.rule
    converts = (rule is not None and rule.tier is not Tier.MANUAL
                and (rule.paddle is not None or rule.writes_code))  # fmt: skip
    if converts:
        assert rule is not None
        parent, _, last = (rule.paddle or "").rpartition(".")
        if not rule.transform and parent and all(p.isidentifier() for p in (rule.paddle or "").split(".")):
            probe = f"hasattr({parent}, {last!r})"
            return probe, rule.tier, f"feature probe → {probe}: the converted code uses {rule.paddle}"
        return "True", rule.tier, f"feature probe → True: {use.api} converts ({rule.summary()})"
    if rules.is_namespace(use.api):
        return "True", Tier.REVIEW, (
            f"feature probe → True: paddleport has rules under {use.api} — review: check that "
            "the code path it guards converts"
        )
    why = "its rule is manual" if rule is not None else "paddleport has no rule for it"
    return "False", Tier.REVIEW, (
        f"feature probe → False: `{use.api}` does not convert ({why}) — review: the converted "
        "program takes the code path for a torch without it"
    )


def version_check(node: cst.Comparison, use: Use) -> Result:
    """``torch.__version__ >= '2.0'`` → ``True``: evaluated for ``TORCH_VERSION``.

    The rules convert current torch APIs and their examples are verified against that
    release, so the converted program takes the branch written for it. torch compares
    ``__version__`` as a version (``'2.13' > '2.9'``), never as a string; only orderings
    of plain release numbers are folded.
    """
    target = tuple(int(p) for p in TORCH_VERSION.split("."))
    comparison = node.comparisons[0]
    op = type(comparison.operator)
    left_is_version = isinstance(node.left, cst.Attribute)
    other = comparison.comparator if left_is_version else node.left
    release = _release(other)
    guide = (use.rule.guide if use.rule is not None and use.rule.guide
             else "rewrite or remove the torch version check")  # fmt: skip
    if release is None or op not in _ORDER or _padded(release) == _padded(target):
        # the same release: a build's local tag (+cpu) decides, so leave it to a human
        return None, Tier.MANUAL, f"`torch.__version__` needs a manual port: {guide}"
    a, b = (_padded(target), _padded(release)) if left_is_version else (_padded(release), _padded(target))
    value = _ORDER[op](a, b)
    return str(value), Tier.REVIEW, (
        f"torch version check → {value}, evaluated for torch {TORCH_VERSION}, the release "
        "paddleport's rules are verified against — review: the branch for that torch is the one kept"
    )


def _release(node: cst.BaseExpression) -> tuple[int, ...] | None:
    """``'2.0'`` / ``'2.0.1'`` / ``(2, 0)`` as numbers; None for anything else (``'2.1.0a0'``)."""
    if isinstance(node, cst.SimpleString):
        text = node.evaluated_value
        if isinstance(text, str) and text and all(p.isdigit() for p in text.split(".")):
            return tuple(int(p) for p in text.split("."))
        return None
    if isinstance(node, cst.Tuple) and node.elements:
        values = [e.value for e in node.elements]
        if all(isinstance(v, cst.Integer) for v in values):
            return tuple(int(v.value) for v in values if isinstance(v, cst.Integer))
    return None


def _padded(release: tuple[int, ...]) -> tuple[int, ...]:
    return release + (0,) * (4 - len(release))


_ORDER: dict[type, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le,
    cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge,
}


def _runtime(module: str, rules: RuleSet, replacement: str) -> Result:
    names = rules.runtime_names(module)
    if not names:
        return None, Tier.MANUAL, (
            f"`{module}` looked up by name at run time, and none of its rules keeps torch's "
            "arguments: map the names by hand"
        )
    return replacement, Tier.REVIEW, (
        f"runtime lookup in {module} → {namespace_name(module)}, a map of the {len(names)} names "
        "whose Paddle equivalent takes torch's positional arguments (generated after the imports) "
        "— review: other names raise AttributeError; keywords Paddle spells differently (dim=, "
        "inplace=) fail under Paddle"
    )


def namespace_source(module: str, rules: RuleSet) -> str:
    """The generated namespace class for ``module``'s runtime lookups."""
    names = rules.runtime_names(module)
    lines = [
        f"class {namespace_name(module)}:",
        f'    """{module} names whose Paddle equivalent takes the same positional arguments '
        '(generated by paddleport)."""',
        "",
    ]
    lines += [f"    {name} = {paddle}" for name, paddle in names.items()]
    return "\n".join(lines) + "\n"


def add_namespaces(code: str, modules: set[str], rules: RuleSet) -> str:
    """Define each used namespace class once, after the imports that precede its first use."""
    if not modules:  # most files: no parse needed
        return code
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    defined = {s.name for s in tree.body if isinstance(s, ast.ClassDef)}
    wanted = sorted(m for m in modules if namespace_name(m) not in defined)
    if not wanted:
        return code
    names = {namespace_name(m) for m in wanted}
    return place_block(code, tree, names, "\n\n".join(namespace_source(m, rules) for m in wanted))


def place_block(code: str, tree: ast.Module, names: set[str], block: str) -> str:
    """Insert ``block`` (definitions of ``names``) after the imports that precede their first use."""
    first_use = len(tree.body)
    # a name the code never spells is used nowhere (the usual case: the block is not there yet)
    for i, stmt in enumerate(tree.body if any(name in code for name in names) else ()):
        if any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(stmt)):
            first_use = i
            break
    anchor = None
    for stmt in tree.body[:first_use]:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            anchor = stmt
    starts = line_starts(code)
    if anchor is not None:
        line = anchor.end_lineno or anchor.lineno
        offset = starts[line] if line < len(starts) else len(code)
        prefix = "" if code[:offset].endswith("\n") else "\n"
        rest = code[offset:]
        blank = len(rest) - len(rest.lstrip("\n"))  # the blank lines already between imports and code
        suffix = "\n" * max(0, 2 - blank)
        return apply_edits(code, [TextEdit(offset, offset, f"{prefix}\n\n{block}{suffix}")])
    if first_use < len(tree.body):
        stmt = tree.body[first_use]
        line = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        offset = starts[line - 1]
        return apply_edits(code, [TextEdit(offset, offset, f"{block}\n\n")])
    return code + ("" if code.endswith("\n") else "\n") + f"\n\n{block}"


def add_class(code: str, cls: str, block: Callable[[], str]) -> str:
    """Define class ``cls`` (``block()``, built only when needed) unless ``code`` does already."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    if any(isinstance(s, ast.ClassDef) and s.name == cls for s in tree.body):
        return code
    return place_block(code, tree, {cls}, block())


def defined_class(text: str, cls: str, tree: ast.Module | None = None) -> ast.ClassDef | None:
    """The module-level class ``cls`` that ``text`` defines already (a file converted before, a quick
    fix applied earlier), or None; ``tree``: ``text`` parsed, when the caller has it (the editor asks
    for every diagnostic that inserts a class, on every keystroke, so the text is searched first)."""
    if f"class {cls}" not in text or not re.search(rf"^class {cls}\b", text, re.M):
        return None
    if tree is None:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return None
    return next((s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == cls), None)


def class_insertion(text: str, cls: str, block: str,
                    tree: ast.Module | None = None) -> tuple[int, str] | None:  # fmt: skip
    """Where and what to insert into ``text`` to define class ``cls`` as ``block`` (a quick fix's
    edit); None when the class is there or the text does not parse. ``tree``: ``text`` parsed,
    when the caller has it."""
    if defined_class(text, cls, tree) is not None:
        return None
    if tree is None:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return None
    new = place_block(text, tree, {cls}, block)
    start = common_prefix(text, new)
    return start, new[start : start + len(new) - len(text)]
