"""Load and validate rule files.

Every problem is reported as ``file:rule:field: message`` and loading goes on
with the other rules, so one typo never hides the whole catalogue.
"""

from __future__ import annotations

import ast
import re
import string
import tomllib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from paddleport.analysis.scopes import is_torch_module
from paddleport.files import ReadProblem, read_regular
from paddleport.rules.model import CODE_WRITING_TRANSFORMS, Compare, Example, Kind, Rule, Tier, WeightLayout
from paddleport.rules.safe_code import dotted_name_problem, identifier_problem, target_problem, value_problem
from paddleport.rules.signature import ParamKind, Signature, SignatureError, parse_signature

RULE_KEYS = {
    "api", "paddle", "tier", "kind", "signature", "rename", "drop", "pack", "values",
    "defaults", "unsupported", "transform", "note", "guide", "aliases", "example",
    "examples", "compare", "rtol", "atol", "why", "returns", "needs", "statement", "torch_layout",
    "file_arg", "drop_review", "weights", "by_name", "type_check", "keywords_after", "formula", "index_flag",
    "keyword_aliases",
}  # fmt: skip
EXAMPLE_KEYS = {"code", "compare", "rtol", "atol", "why"}
DEFAULT_RTOL, DEFAULT_ATOL = 1e-5, 1e-6
RULE_FILE_LIMIT = 8 * 1024 * 1024  # the largest shipped rule file is ~300 KB
# Tensor methods whose result is not a tensor: their results are not receivers
# that tensor inference should trust.
NON_TENSOR_METHODS = {
    "item", "tolist", "size", "dim", "numel", "ndimension", "nelement", "element_size",
    "is_contiguous", "is_floating_point", "is_complex", "data_ptr", "get_device",
    "numpy", "stride", "storage_offset", "__len__", "equal", "allclose", "register_hook",
    "backward",
}  # fmt: skip
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
TENSOR_NAMESPACES = ("torch.", "torch.nn.functional.", "torch.linalg.", "torch.fft.",
                     "torch.special.")  # fmt: skip


@dataclass(frozen=True)
class RuleError:
    file: str
    rule: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.rule}:{self.field}: {self.message}"


@dataclass
class RuleSet:
    """All loaded rules, indexed the ways analysis looks them up."""

    rules: dict[str, Rule] = field(default_factory=dict)
    errors: list[RuleError] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    _namespaces: set[str] | None = field(default=None, init=False, repr=False, compare=False)

    has_file_args: bool = False  # some rule has a file_arg: the finder tracks `with open(...)`
    # third-party modules with a torch backend and a Paddle twin (`einops.layers.torch` →
    # `einops.layers.paddle`): whole-file conversion rewrites their imports
    modules: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, Rule] = field(default_factory=dict)  # member attributes the name alone identifies
    member_names: set[str] = field(default_factory=set)  # members of non-tensor torch classes

    def add(self, rule: Rule) -> None:
        self.rules[rule.api] = rule
        self.has_file_args = self.has_file_args or rule.file_arg is not None
        for alias in rule.aliases:
            self.aliases[alias] = rule.api
        self._namespaces = None
        if rule.kind is not Kind.CALLABLE and not rule.api.startswith("torch.Tensor."):
            self.member_names.add(rule.api.rsplit(".", 1)[-1])
        if rule.by_name:
            self.by_name[rule.api.rsplit(".", 1)[-1]] = rule

    def is_namespace(self, path: str) -> bool:
        """True when some rule lives under ``path`` (``torch.nn``): a torch module the rules know."""
        if self._namespaces is None:
            spaces: set[str] = set()
            for api in (*self.rules, *self.aliases):
                parts = api.split(".")
                spaces.update(".".join(parts[:i]) for i in range(1, len(parts)))
            self._namespaces = spaces
        return path in self._namespaces

    def runtime_names(self, module: str) -> dict[str, str]:
        """``{torch name: Paddle name}`` for what a runtime lookup in ``module`` may return.

        ``getattr(F, name)(x)`` passes torch's arguments to whatever it finds, so only rules
        that at most rename and drop arguments qualify, and only where positions still agree
        (no dropped parameter before a kept one): positional calls then mean the same, and a
        keyword Paddle spells differently (``dim=``, ``inplace=``) fails loudly under Paddle.
        Exact rules only: a review rule's note would go unread at run time.
        """
        out: dict[str, str] = {}
        prefix = module + "."
        for rule in self.rules.values():
            if (rule.tier is not Tier.EXACT or rule.paddle is None or rule.kind is Kind.METHOD
                    or not _DOTTED.fullmatch(rule.paddle) or rule.pack or rule.values
                    or rule.defaults or rule.transform or rule.unsupported
                    or not _positions_agree(rule)):  # fmt: skip
                continue
            for api in (rule.api, *rule.aliases):
                name = api[len(prefix):]
                if api.startswith(prefix) and name.isidentifier() and not name.startswith("_"):
                    out[name] = rule.paddle
        return dict(sorted(out.items()))

    def get(self, api: str) -> Rule | None:
        return self.rules.get(self.aliases.get(api, api))

    def method(self, name: str) -> Rule | None:
        return self.rules.get(f"torch.Tensor.{name}")

    def member(self, mro: Sequence[str], name: str) -> Rule | None:
        """The rule for member ``name`` of a class whose ancestry is ``mro`` (most derived first)."""
        if name not in self.member_names:
            return None
        for cls in mro:
            rule = self.rules.get(f"{cls}.{name}")
            if rule is not None and rule.kind is not Kind.CALLABLE:
                return rule
        return None

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules.values())


def _positions_agree(rule: Rule) -> bool:
    """No positional parameter the rule drops comes before one it keeps."""
    if not rule.drop or rule.signature is None:
        return True
    names = [p.name for p in rule.signature.positional]
    dropped = [i for i, n in enumerate(names) if n in rule.drop]
    kept = [i for i, n in enumerate(names) if n not in rule.drop]
    return not dropped or not kept or min(dropped) > max(kept)


def builtin_rules_dir() -> Path:
    """The rules shipped in the wheel, or the repository's ``rules/`` in a checkout."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "ruledata"
    return packaged if packaged.is_dir() else here.parent.parent / "rules"


def load_rules(
    dirs: Iterable[Path] | None = None,
    *,
    known_transforms: Collection[str] | None = None,
    require_examples_in: Collection[Path] | None = None,
    include_builtin: bool = True,
    code_templates_in: Collection[Path] = (),
) -> RuleSet:
    """Load the built-in rules, then each folder in ``dirs``; later rules override earlier ones.

    Only the built-in folder (and ``code_templates_in``, for paddleport's own test rules) may hold
    statement templates: they are code, and project folders come from untrusted workspaces.
    """
    builtin = builtin_rules_dir()
    shipped = {builtin.resolve(), *(Path(p).resolve() for p in code_templates_in)}
    folders = [builtin, *(dirs or [])] if include_builtin else list(dirs or [])
    strict = {builtin.resolve(), *(Path(p).resolve() for p in (require_examples_in or []))}
    ruleset = RuleSet()
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            ruleset.errors.append(RuleError(str(folder), "-", "-", "rule folder does not exist"))
            continue
        for path in sorted(folder.glob("*.toml")):
            ruleset.files.append(path)
            load_file(path, ruleset, known_transforms, folder.resolve() in strict,
                      shipped=folder.resolve() in shipped)
    return ruleset


def load_file(
    path: Path,
    ruleset: RuleSet,
    known_transforms: Collection[str] | None = None,
    require_examples: bool = True,
    *,
    shipped: bool = False,
) -> None:
    """Load one rule file into ``ruleset``; ``shipped``: it is one of paddleport's own rules, which
    alone may carry code templates."""
    name = str(path)
    try:
        data = tomllib.loads(read_regular(path, RULE_FILE_LIMIT).decode("utf-8"))
    except ReadProblem as exc:
        ruleset.errors.append(RuleError(name, "-", "-", str(exc)))
        return
    except UnicodeDecodeError:
        ruleset.errors.append(RuleError(name, "-", "-", "not UTF-8 text"))
        return
    except tomllib.TOMLDecodeError as exc:
        ruleset.errors.append(RuleError(name, "-", "-", f"invalid TOML: {exc}"))
        return
    except OSError as exc:
        ruleset.errors.append(RuleError(name, "-", "-", f"cannot read: {exc.strerror}"))
        return
    unknown_top = set(data) - {"rule", "module"}
    for key in sorted(unknown_top):
        ruleset.errors.append(RuleError(name, "-", key, "unknown top-level key (expected [[rule]])"))
    if "module" in data:
        _load_modules(name, data["module"], ruleset, shipped)
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        ruleset.errors.append(RuleError(name, "-", "rule", "must be an array of tables [[rule]]"))
        return
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        errors: list[RuleError] = []
        rule = _build_rule(path, index, entry, errors, known_transforms, require_examples, shipped)
        if rule is not None and rule.api in seen:
            errors.append(RuleError(name, rule.api, "api", "defined twice in this file"))
        ruleset.errors.extend(errors)
        if rule is not None and not errors:
            seen.add(rule.api)
            ruleset.add(rule)


def _load_modules(name: str, entries: Any, ruleset: RuleSet, shipped: bool) -> None:
    """``[[module]]`` tables: ``torch = "einops.layers.torch"``, ``paddle = "einops.layers.paddle"``.

    Shipped rules only: an import rewrite decides which code runs, and project rule folders come
    from workspaces. The Paddle module must keep the torch module's names (same classes, same
    arguments), which is what a library's own Paddle backend does.
    """
    if not shipped:
        ruleset.errors.append(RuleError(name, "-", "module", "allowed in paddleport's own rules only"))
        return
    if not isinstance(entries, list):
        ruleset.errors.append(RuleError(name, "-", "module", "must be an array of tables [[module]]"))
        return
    for index, entry in enumerate(entries):
        label = f"module #{index + 1}"
        if not isinstance(entry, dict) or set(entry) - {"torch", "paddle", "note"}:
            ruleset.errors.append(RuleError(name, label, "-", "expected a table with torch, paddle and note"))
            continue
        torch_mod, paddle_mod = entry.get("torch"), entry.get("paddle")
        problems = [(key, problem) for key, value in (("torch", torch_mod), ("paddle", paddle_mod))
                    if (problem := _module_problem(value)) is not None]  # fmt: skip
        if not isinstance(entry.get("note"), str):
            problems.append(("note", "needs a note saying what the Paddle module is"))
        for key, problem in problems:
            ruleset.errors.append(RuleError(name, label, key, problem))
        if not problems and isinstance(torch_mod, str) and isinstance(paddle_mod, str):
            ruleset.modules[torch_mod] = paddle_mod


def _module_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not _DOTTED.fullmatch(value):
        return f"must be a dotted module name, got {value!r}"
    root = value.split(".", 1)[0]
    if root in ("torch", "paddle"):
        return "torch's own modules are converted by [[rule]] tables"
    return None


def _build_rule(
    path: Path,
    index: int,
    entry: Any,
    errors: list[RuleError],
    known_transforms: Collection[str] | None,
    require_examples: bool,
    shipped: bool = False,
) -> Rule | None:
    file = str(path)
    if not isinstance(entry, dict):
        errors.append(RuleError(file, f"#{index + 1}", "-", "rule must be a table"))
        return None
    api = entry.get("api")
    label = api if isinstance(api, str) else f"#{index + 1}"

    def err(fld: str, message: str) -> None:
        errors.append(RuleError(file, label, fld, message))

    for key in sorted(set(entry) - RULE_KEYS):
        err(key, f"unknown field (known: {', '.join(sorted(RULE_KEYS))})")
    if not isinstance(api, str) or not api.startswith("torch"):
        err("api", "required: the qualified torch name, e.g. 'torch.nn.Conv2d'")
        return None
    root = api.split(".", 1)[0] if is_torch_module(api) else "torch"
    if (problem := dotted_name_problem(api, root, dunders=True)) is not None:
        err("api", problem)
        return None

    tier = _enum(Tier, entry.get("tier", "exact"), "tier", err)
    default_kind = "method" if _is_member(api) else "callable"
    kind = _enum(Kind, entry.get("kind", default_kind), "kind", err)
    paddle = _opt_str(entry, "paddle", err)
    statement = _opt_str(entry, "statement", err)
    if statement is not None and not shipped:
        err("statement", "a statement template is code written into user files: only the shipped rules "
            "may have one (map the API with 'paddle' and argument fields instead)")
        statement = None
    formula = _opt_str(entry, "formula", err)
    if formula is not None and not shipped:
        err("formula", "a formula is code written into user files: only the shipped rules may have one")
        formula = None
    writes_code = entry.get("transform") in CODE_WRITING_TRANSFORMS or formula is not None
    if tier is not None and tier is not Tier.MANUAL and not paddle and not statement and not writes_code:
        err("paddle", "required unless tier = 'manual', the rule has a 'statement' or a transform "
            f"that writes the code ({', '.join(sorted(CODE_WRITING_TRANSFORMS))})")
    if paddle is not None and (problem := target_problem(paddle)) is not None:
        err("paddle", problem)

    signature: Signature | None = None
    sig_text = _opt_str(entry, "signature", err)
    if sig_text is not None:
        try:
            signature = parse_signature(sig_text)
        except SignatureError as exc:
            err("signature", str(exc))
    for param in signature.params if signature else ():
        if param.default is not None and (problem := value_problem(param.default)) is not None:
            err("signature", f"default of {param.name}: {problem}")
            signature = None
            break

    def check_param(fld: str, pname: str) -> None:
        if signature is None:
            err(fld, f"names parameter {pname!r}: the rule needs a 'signature'")
        elif signature.get(pname) is None:
            err(fld, f"{pname!r} is not a parameter of signature {signature.text}")

    rename = _str_map(entry, "rename", err)
    for pname, new in rename.items():
        check_param("rename", pname)
        if (problem := identifier_problem(new)) is not None:
            err("rename", f"{pname}: {problem}")
    drop = _str_list(entry, "drop", err)
    for pname in drop:
        check_param("drop", pname)
    drop_review = _str_map(entry, "drop_review", err)
    for pname in drop_review:
        check_param("drop_review", pname)
    pack = _opt_str(entry, "pack", err)
    if pack is not None:
        check_param("pack", pack)
        p = signature.get(pack) if signature else None
        if p is not None and p.kind is not ParamKind.VAR_POSITIONAL:
            err("pack", f"{pack!r} must be a *varargs parameter")
    values: dict[str, dict[str, str]] = {}
    raw_values = entry.get("values", {})
    if not isinstance(raw_values, dict):
        err("values", "must be a table of parameter = { 'torch literal' = 'paddle literal' }")
    else:
        for pname, mapping in raw_values.items():
            check_param("values", pname)
            if not isinstance(mapping, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
            ):
                err("values", f"{pname}: must map source text to source text")
                continue
            problems = [q for text in (*mapping, *mapping.values()) if (q := value_problem(text))]
            if problems:
                err("values", f"{pname}: {problems[0]}")
            else:
                values[pname] = dict(mapping)
    defaults = _str_map(entry, "defaults", err)
    for pname, src in defaults.items():
        if (problem := identifier_problem(pname) or value_problem(src)) is not None:
            err("defaults", f"{pname}: {problem}")
    unsupported = _str_map(entry, "unsupported", err)
    for key in unsupported:
        pname, _, literal = key.partition("=")
        check_param("unsupported", pname.strip())
        if literal and value_problem(literal) is not None:
            err("unsupported", f"{key!r}: the value after '=' must be a Python literal")
    if statement is not None:
        _check_statement(statement, kind, signature, err)
    torch_layout = _opt_str(entry, "torch_layout", err)
    if torch_layout is not None and (problem := dotted_name_problem(torch_layout, "paddle")) is not None:
        err("torch_layout", problem)
    type_check = _opt_str(entry, "type_check", err)
    if type_check is not None and (problem := dotted_name_problem(type_check, "paddle")) is not None:
        err("type_check", problem)
    file_arg = _opt_str(entry, "file_arg", err)
    if file_arg is not None:
        check_param("file_arg", file_arg)
    transform = _opt_str(entry, "transform", err)
    if formula is not None:
        _check_formula(formula, signature, err, member=kind is not Kind.CALLABLE)
        if transform not in (None, "formula"):
            err("transform", "a rule with a formula is written by the formula transform")
        transform = "formula"
    index_flag = _opt_str(entry, "index_flag", err)
    if index_flag is not None:
        check_param("index_flag", index_flag)
    keywords_after = entry.get("keywords_after")
    if keywords_after is not None and (type(keywords_after) is not int or keywords_after < 0):
        err("keywords_after", "must be a whole number >= 0: the positional arguments kept in place")
        keywords_after = None
    keyword_aliases = _str_map(entry, "keyword_aliases", err)
    for alias_name, target in keyword_aliases.items():
        check_param("keyword_aliases", target)
        if signature is not None and signature.get(alias_name) is not None:
            err("keyword_aliases", f"{alias_name!r} is already a parameter of the signature")
    if transform is not None and known_transforms is not None and transform not in known_transforms:
        err("transform", f"unknown transform {transform!r} (known: {', '.join(sorted(known_transforms))})")
    note = _opt_str(entry, "note", err)
    guide = _opt_str(entry, "guide", err)
    if tier is Tier.REVIEW and not note:
        err("note", "a 'review' rule must say what to review")
    if tier is Tier.MANUAL and not guide:
        err("guide", "a 'manual' rule must say what to do instead")
    aliases = _str_list(entry, "aliases", err)
    for alias in aliases:
        if (problem := dotted_name_problem(alias, alias.split(".", 1)[0], dunders=True)) is not None \
                or not is_torch_module(alias):  # fmt: skip
            problem = problem or f"must be a qualified torch name, got {alias!r}"
            err("aliases", problem)
    examples = _examples(entry, err)
    if require_examples and not examples and tier is not Tier.MANUAL:
        err("example", "every rule needs an example that the tests run under torch and paddle")
    needs = entry.get("needs")
    if needs is not None and needs not in ("gpu", "npu", "torchvision-ops"):
        err("needs", "an example may need only 'gpu', 'npu' or 'torchvision-ops'")
    by_name = entry.get("by_name", False)
    if not isinstance(by_name, bool):
        err("by_name", "must be true or false")
    elif by_name and (kind is not Kind.ATTRIBUTE or api.startswith("torch.Tensor.") or transform is None):
        err("by_name", "only for a member attribute of a torch class whose transform rewrites its uses")
    returns = entry.get("returns")
    if returns is not None and returns not in ("tensor", "other"):
        err("returns", "must be 'tensor' or 'other'")
    raw_weights = entry.get("weights", [])
    weights = [w for raw in (raw_weights if isinstance(raw_weights, list) else [raw_weights])
               if (w := _weights(raw, err)) is not None]  # fmt: skip
    if any(w.layer is None for w in weights) and paddle is None:
        err("weights", "say which Paddle class the layout is for ('layer'): the rule has no 'paddle'")
    if len({w.layer for w in weights}) < len(weights):
        err("weights", "two layouts for the same Paddle class")
    if tier is None or kind is None:
        return None
    returns_tensor = _returns_tensor_by_default(api, kind) if returns is None else returns == "tensor"
    return Rule(
        api=api, paddle=paddle, tier=tier, kind=kind, source=path, signature=signature,
        rename=rename, drop=tuple(drop), drop_review=drop_review, pack=pack, values=values, defaults=defaults,
        unsupported=unsupported, transform=transform, note=note, guide=guide,
        aliases=tuple(aliases), examples=tuple(examples), returns_tensor=returns_tensor,
        needs_gpu=needs == "gpu", needs_npu=needs == "npu", needs_torchvision_ops=needs == "torchvision-ops",
        statement=statement,
        torch_layout=torch_layout,
        file_arg=file_arg, weights=tuple(weights), by_name=by_name is True, type_check=type_check,
        keywords_after=keywords_after, formula=formula, index_flag=index_flag,
        keyword_aliases=keyword_aliases,
    )  # fmt: skip


WEIGHT_KEYS = {"params", "optional", "ndim", "rename", "drop", "transpose", "split", "reshape", "alias",
               "layer", "guess"}  # fmt: skip
_WEIGHT_NAME = re.compile(r"[A-Za-z_{][\w{}]*(\.[A-Za-z_0-9{][\w{}]*)*")


def _weights(raw: Any, err: Any) -> WeightLayout | None:
    """The ``weights`` table; every name checked, so a typo is an error here and not a missing key later."""
    if not isinstance(raw, dict):
        err("weights", "must be a table such as { params = ['weight'], transpose = ['weight'] }")
        return None
    ok = True

    def bad(fld: str, message: str) -> None:
        nonlocal ok
        ok = False
        err(f"weights.{fld}", message)

    for key in sorted(set(raw) - WEIGHT_KEYS):
        bad(key, f"unknown field (known: {', '.join(sorted(WEIGHT_KEYS))})")

    def names(fld: str) -> tuple[str, ...]:
        value = raw.get(fld, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and _WEIGHT_NAME.fullmatch(v)
                                                  for v in value):  # fmt: skip
            bad(fld, "must be a list of parameter names (letters, digits, '_', '.', '{n}')")
            return ()
        return tuple(value)

    def table(fld: str) -> dict[str, Any]:
        value = raw.get(fld, {})
        if not isinstance(value, dict):
            bad(fld, "must be a table")
            return {}
        return dict(value)

    params, optional, drop, transpose = names("params"), names("optional"), names("drop"), names("transpose")
    if not params:
        bad("params", "required: the parameter names every such layer has (how it is recognised by name)")
    known = set(params) | set(optional)
    rename = table("rename")
    split = table("split")
    alias = table("alias")
    ndim = table("ndim")
    reshape = table("reshape")
    for fld, mapping in (("rename", rename), ("alias", alias)):
        for src, dst in mapping.items():
            if not isinstance(dst, str) or not _WEIGHT_NAME.fullmatch(dst):
                bad(fld, f"{src}: must map to a parameter name")
    for fld, mapping in (("rename", rename), ("split", split), ("alias", alias), ("ndim", ndim)):
        for src in mapping:
            if src not in known:
                bad(fld, f"{src!r} is not one of the layer's params/optional names")
    for src in drop:
        if src not in known:
            bad("drop", f"{src!r} is not one of the layer's params/optional names")
    for src, parts in split.items():
        if not isinstance(parts, list) or len(parts) < 2 or not all(isinstance(p, str) for p in parts):
            bad("split", f"{src}: must list two or more Paddle names")
    for src, rank in ndim.items():
        if not isinstance(rank, int) or rank < 0:
            bad("ndim", f"{src}: must be a rank (an integer)")
    for dst, shape in reshape.items():
        if (not isinstance(shape, list) or not all(isinstance(n, int) and n >= -1 for n in shape)
                or sum(n == -1 for n in shape) > 1):  # fmt: skip
            bad("reshape", f"{dst}: must be a shape of integers with at most one -1")
    layer = raw.get("layer")
    if layer is not None and (not isinstance(layer, str) or dotted_name_problem(layer, "paddle") is not None):
        bad("layer", "must be a Paddle class name such as 'paddle.nn.MultiHeadAttention'")
    guess = raw.get("guess", False)
    if not isinstance(guess, bool):
        bad("guess", "must be true or false")
    if not ok:
        return None
    return WeightLayout(
        params=params, optional=optional, ndim={k: int(v) for k, v in ndim.items()}, rename=rename,
        drop=drop, transpose=transpose, split={k: tuple(v) for k, v in split.items()},
        reshape={k: tuple(v) for k, v in reshape.items()}, alias=alias, layer=layer, guess=bool(guess),
    )  # fmt: skip


def _check_statement(text: str, kind: Kind | None, signature: Signature | None, err: Any) -> None:
    """A statement template parses, and its placeholders are ones a use can fill."""
    if kind is Kind.METHOD:
        err("statement", "tensor methods cannot become statements")
        return
    if kind is Kind.ATTRIBUTE:
        allowed = {"value"}
    else:
        allowed = {p.name for p in signature.params} if signature is not None else set()
    try:
        names = template_names(text)
    except ValueError as exc:
        err("statement", f"bad placeholder: {exc}")
        return
    for name in sorted(names - allowed):
        where = "an assignment's $value" if kind is Kind.ATTRIBUTE else "a signature parameter"
        err("statement", f"${name} is not {where}")
    try:
        ast.parse(Template(text).safe_substitute({n: "_x" for n in names}))
    except SyntaxError as exc:
        err("statement", f"does not parse: line {exc.lineno}: {exc.msg}")


def _check_formula(text: str, signature: Signature | None, err: Any, member: bool) -> None:
    """A formula parses as an expression and names only signature parameters as ``{param}``
    (and ``{self}``, the receiver, for a method or attribute)."""
    allowed = {p.name for p in signature.params} if signature is not None else set()
    if member:
        allowed.add("self")
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        err("formula", f"bad placeholder: {exc}")
        return
    for name in sorted(names - allowed):
        err("formula", f"{{{name}}} is not a signature parameter")
    try:
        ast.parse(text.format(**{n: "_x" for n in names}), mode="eval")
    except (SyntaxError, KeyError, IndexError, ValueError) as exc:
        err("formula", f"does not parse as an expression: {exc}")


def template_names(text: str) -> set[str]:
    """The ``$name`` placeholders of a statement template (``$$`` is a literal ``$``)."""
    names: set[str] = set()
    for match in Template.pattern.finditer(text):
        if match.group("invalid") is not None:
            raise ValueError(f"stray '$' at offset {match.start()}")
        name = match.group("named") or match.group("braced")
        if name:
            names.add(name)
    return names


def _is_member(api: str) -> bool:
    """``torch.Tensor.view``, ``torch.nn.Module.named_modules``: a lower-case name on a class."""
    owner, _, name = api.rpartition(".")
    cls = owner.rsplit(".", 1)[-1].lstrip("_")
    return cls[:1].isupper() and not name[:1].isupper()


def _returns_tensor_by_default(api: str, kind: Kind) -> bool:
    name = api.rsplit(".", 1)[-1]
    if kind is Kind.METHOD:
        return api.startswith("torch.Tensor.") and name not in NON_TENSOR_METHODS
    if kind is not Kind.CALLABLE or not name[:1].islower():
        return False
    namespace = api[: len(api) - len(name)]
    return namespace in TENSOR_NAMESPACES and not name.startswith(("is_", "get_", "set_"))


def _examples(entry: Mapping[str, Any], err: Any) -> list[Example]:
    out: list[Example] = []
    rule_level = {k: entry[k] for k in ("compare", "rtol", "atol", "why") if k in entry}
    single = entry.get("example")
    if single is not None:
        out += _example({"code": single, **rule_level}, "example", err)
    many = entry.get("examples", [])
    if not isinstance(many, list):
        err("examples", "must be an array of tables with 'code'")
        return out
    for i, item in enumerate(many):
        fld = f"examples[{i}]"
        if not isinstance(item, dict):
            err(fld, "must be a table with 'code'")
            continue
        for key in sorted(set(item) - EXAMPLE_KEYS):
            err(fld, f"unknown field {key!r}")
        out += _example({**rule_level, **item}, fld, err)
    return out


def _example(data: Mapping[str, Any], fld: str, err: Any) -> list[Example]:
    code = data.get("code")
    if not isinstance(code, str) or not code.strip():
        err(fld, "example code must be a non-empty string")
        return []
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        err(fld, f"example does not parse: line {exc.lineno}: {exc.msg}")
        return []
    if "out" not in _assigned_names(tree.body):
        err(fld, "example must assign its result to a variable named 'out'")
    try:
        compare = Compare(data.get("compare", "values"))
    except ValueError:
        err(fld, "compare must be 'values', 'shape' or 'runs'")
        return []
    rtol, atol = data.get("rtol", DEFAULT_RTOL), data.get("atol", DEFAULT_ATOL)
    if not isinstance(rtol, (int, float)) or not isinstance(atol, (int, float)):
        err(fld, "rtol and atol must be numbers")
        return []
    loosened = rtol > DEFAULT_RTOL or atol > DEFAULT_ATOL
    if (compare is not Compare.VALUES or loosened) and not data.get("why"):
        err(fld, "say 'why' when an example compares less than values at default tolerance")
    return [Example(code=code, compare=compare, rtol=float(rtol), atol=float(atol))]


def _assigned_names(body: list[ast.stmt]) -> set[str]:
    """Plain names that statements assign, in nested blocks too (statements only: loading every
    rule checks thousands of examples, and walking their expressions was a third of start-up)."""
    names: set[str] = set()
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
            continue
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(node, name, None)
            if isinstance(inner, list):
                stack.extend(s for s in inner if isinstance(s, ast.stmt))
        stack.extend(s for h in getattr(node, "handlers", ()) for s in h.body)
        stack.extend(s for c in getattr(node, "cases", ()) for s in c.body)
    return names


def _enum(cls: Any, value: Any, fld: str, err: Any) -> Any:
    try:
        return cls(value)
    except ValueError:
        err(fld, f"{value!r} is not one of {', '.join(m.value for m in cls)}")
        return None


def _opt_str(entry: Mapping[str, Any], fld: str, err: Any) -> str | None:
    value = entry.get(fld)
    if value is not None and not isinstance(value, str):
        err(fld, "must be a string")
        return None
    return value


def _str_list(entry: Mapping[str, Any], fld: str, err: Any) -> list[str]:
    value = entry.get(fld, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        err(fld, "must be a list of strings")
        return []
    return value


def _str_map(entry: Mapping[str, Any], fld: str, err: Any) -> dict[str, str]:
    value = entry.get(fld, {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        err(fld, "must be a table of strings")
        return {}
    return dict(value)

