"""A semantic-model draft from a warehouse's catalog (`sourced model draft`).

What the catalog says is written down; what only a person knows is left as a `# DECIDE:` comment.
- sources: every table dated by a date column of its own (or, for a line table without a name,
  by its parent's), with joins along foreign keys (three levels; LEFT JOIN for a nullable key);
- metrics: a count per source, a distinct count of each named parent it references ("customers
  with an invoice"), sums and averages of its numeric measures (averages only for prices and
  rates), and quantity × price when a table has both;
- dimensions: year, quarter and month; every low-cardinality text column (its values listed)
  and every table's name column (`entity`, values read at startup), on each source that reaches
  them; English names from the names, French ones where `model_words` knows the words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agents.sql.catalog import Catalog, Column, Table
from agents.sql.model_words import english, french, french_article_of, french_plural, plural

MAX_DEPTH = 3
MAX_ENTITY_ROWS = 20_000  # more names than this are not loaded at startup
_AVERAGE_ONLY = re.compile(r"price|rate|pct|percent|ratio|discount|score|age|latitude|longitude")
_QUANTITY = re.compile(r"^(quantity|qty|units|unit_count)$")
_PRICE = re.compile(r"^(unit_price|price|unit_amount)$")
_NOT_MEASURE = re.compile(r"(^|_)(id|key|code|year|quarter|month|day|number|no|zip|phone)$")
_NAME = re.compile(r"^(name|title|label|full_name|display_name|[a-z]+_name)$")
_DATE_PREFERENCE = re.compile(r"birth|updated|modified|deleted|closed|end")
# Contact details and identifiers: text, often few values in a small table, never a category.
_NOT_CATEGORY = re.compile(r"e_?mail|phone|fax|address|postal|zip|url|website|first_name|"
                           r"last_name|password|token|hash")

TIME_DIMENSIONS: dict[str, dict[str, Any]] = {
    "year": {"kind": "time", "grain": "year", "names": {"en": "Year", "fr": "Année"},
             "synonyms": {"en": ["year", "yearly", "annual", "per year", "by year"],
                          "fr": ["année", "annuel", "par an", "par année"]}},
    "quarter": {"kind": "time", "grain": "quarter", "names": {"en": "Quarter", "fr": "Trimestre"},
                "synonyms": {"en": ["quarter", "quarterly", "per quarter"],
                             "fr": ["trimestre", "trimestriel", "par trimestre"]}},
    "month": {"kind": "time", "grain": "month", "names": {"en": "Month", "fr": "Mois"},
              "synonyms": {"en": ["month", "monthly", "per month"],
                           "fr": ["mois", "mensuel", "par mois"]}},
}


@dataclass(frozen=True)
class _Node:
    table: Table
    alias: str
    join: str | None  # None for the source's own table
    depth: int
    via: tuple[str, ...] = ()  # the FK columns of the parent that lead here
    required: bool = True  # every key on the path is NOT NULL


@dataclass
class Draft:
    data: dict[str, Any] = field(default_factory=dict)
    comments: dict[tuple[str, ...], list[str]] = field(default_factory=dict)

    def note(self, path: tuple[str, ...], text: str) -> None:
        self.comments.setdefault(path, []).append(text)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fr(phrase: str) -> tuple[str, str]:
    return french(phrase) or (phrase, "m")


def _aliases(catalog: Catalog) -> dict[str, str]:
    """A short alias per table, the same in every source (so dimensions read alike)."""
    taken: set[str] = set()
    found: dict[str, str] = {}
    for table in catalog.tables:
        parts = english(table.name).split() or ["t"]
        candidates = ["".join(p[0] for p in parts), parts[0][:2], parts[0][:3], parts[0]]
        alias = next((c for c in candidates if c not in taken), None)
        n = 2
        while alias is None or alias in taken:
            alias, n = f"{candidates[0]}{n}", n + 1
        taken.add(alias)
        found[table.qualified] = alias
    return found


def _tree(catalog: Catalog, root: Table, aliases: dict[str, str], draft: Draft,
          source_key: str) -> list[_Node]:
    """The source's table and the tables its foreign keys reach, breadth first."""
    nodes = [_Node(root, aliases[root.qualified], None, 0)]
    seen = {root.qualified}
    queue = [nodes[0]]
    while queue:
        node = queue.pop(0)
        if node.depth >= MAX_DEPTH:
            continue
        for fk in node.table.foreign_keys:
            parent = catalog.table(fk.table)
            if parent is None:
                continue
            if parent.qualified in seen:
                if parent.qualified != node.table.qualified:
                    draft.note(("sources", source_key, "joins"),
                               f"DECIDE: {parent.qualified} is also reachable through "
                               f"{node.table.name}.{', '.join(fk.columns)}; only the first "
                               "path is joined.")
                continue
            seen.add(parent.qualified)
            alias = aliases[parent.qualified]
            cols = [node.table.column(c) for c in fk.columns]
            required = node.required and all(c is not None and not c.nullable for c in cols)
            on = " AND ".join(f"{alias}.{r} = {node.alias}.{c}"
                              for c, r in zip(fk.columns, fk.references, strict=False))
            kind = "JOIN" if required else "LEFT JOIN"
            child = _Node(parent, alias, f"{kind} {parent.qualified} {alias} ON {on}",
                          node.depth + 1, fk.columns, required)
            nodes.append(child)
            queue.append(child)
    return nodes


def _dates(table: Table) -> list[Column]:
    found = [c for c in table.columns if c.kind == "date" and c.date_range]
    return sorted(found, key=lambda c: (bool(_DATE_PREFERENCE.search(c.name)), c.nullable))


def _name_expr(table: Table, alias: str) -> str | None:
    """The expression naming a row of the table (its name column, or first + last name)."""
    names = {c.name for c in table.columns if c.kind == "text"}
    if {"first_name", "last_name"} <= names:
        return f"{alias}.first_name || ' ' || {alias}.last_name"
    for col in table.columns:
        if col.kind == "text" and _NAME.match(col.name) and col.name not in table.primary_key:
            return f"{alias}.{col.name}"
    return None


def _time(table: Table, nodes: list[_Node]) -> tuple[str, str] | None:
    """(expression, column description) that dates the source's rows, if any."""
    own = _dates(table)
    if own:
        return f"{nodes[0].alias}.{own[0].name}", f"{table.name}.{own[0].name}"
    if _name_expr(table, "x") is not None:
        return None  # a named thing is not dated by what it points to
    for node in nodes[1:]:
        parent_dates = _dates(node.table)
        if node.depth == 1 and node.required and parent_dates:
            column = parent_dates[0].name
            return f"{node.alias}.{column}", f"{node.table.name}.{column}"
    return None


def _is_link_table(table: Table) -> bool:
    keys = {c for fk in table.foreign_keys for c in fk.columns}
    return bool(keys) and all(c.name in keys for c in table.columns)


def _count_metric(table: Table, alias: str, time_desc: str) -> dict[str, Any]:
    singular = english(table.name)
    many = plural(singular)
    fr, _ = _fr(singular)
    fr_many = french_plural(fr)
    de = french_article_of(fr_many)
    pk = table.primary_key
    sql = f"COUNT(DISTINCT {alias}.{pk[0]})" if len(pk) == 1 else "COUNT(*)"
    return {
        "source": table.name, "sql": sql, "format": "count",
        "names": {"en": _cap(many), "fr": _cap(fr_many)},
        "counts": list(dict.fromkeys([many, singular, fr_many, fr])),
        "synonyms": {"en": [many, f"number of {many}", f"how many {many}", f"{singular} count"],
                     "fr": [fr_many, f"nombre {de}{fr_many}", f"combien {de}{fr_many}"]},
        "definition": {"en": f"{_cap(many)} = number of rows of {table.qualified}, dated by "
                             f"{time_desc}",
                       "fr": f"{_cap(fr_many)} = nombre de lignes de {table.qualified}, "
                             f"datées par {time_desc}"},
    }


def _parent_count(child: Table, node: _Node, source: str, child_alias: str) -> dict[str, Any]:
    singular, child_many = english(node.table.name), plural(english(child.name))
    many = plural(singular)
    fr, _ = _fr(singular)
    fr_many = french_plural(fr)
    fr_child = french_plural(_fr(english(child.name))[0])
    de = french_article_of(fr_many)
    column = f"{child_alias}.{node.via[0]}"
    return {
        "source": source, "sql": f"COUNT(DISTINCT {column})", "format": "count",
        "names": {"en": _cap(many), "fr": _cap(fr_many)},
        "counts": list(dict.fromkeys([many, fr_many])),
        "synonyms": {"en": [many, f"number of {many}", f"how many {many}"],
                     "fr": [fr_many, f"nombre {de}{fr_many}", f"combien {de}{fr_many}"]},
        "definition": {"en": f"{_cap(many)} = distinct {many} with at least one of the "
                             f"{child_many} counted",
                       "fr": f"{_cap(fr_many)} = {fr_many} distincts ayant au moins une des "
                             f"{fr_child} comptées"},
    }


def _measure(table: Table, col: Column, alias: str, source: str, how: str,
             qualified_only: bool) -> dict[str, Any]:
    phrase = english(col.name)
    owner = english(table.name)
    full = phrase if phrase.startswith(owner) else f"{owner} {phrase}"
    fr, gender = _fr(full)
    bare_fr, bare_gender = _fr(phrase)
    if how == "sum":
        en_name, fr_name = _cap(full), _cap(fr)
        en = [full, f"total {full}", f"sum of {full}"] + ([] if qualified_only else [phrase])
        frs = [fr, f"somme {french_article_of(fr)}{fr}"] + ([] if qualified_only else [bare_fr])
        sql, verb_en, verb_fr = f"SUM({alias}.{col.name})", "sum", "somme"
    else:
        moyen = "moyenne" if gender == "f" else "moyen"
        en_name, fr_name = f"Average {full}", _cap(f"{fr} {moyen}")
        en = [f"average {full}", f"mean {full}", f"avg {full}"] + (
            [] if qualified_only else [f"average {phrase}"])
        frs = [f"{fr} {moyen}", f"moyenne {french_article_of(fr)}{fr}"] + (
            [] if qualified_only else
            [f"{bare_fr} {'moyenne' if bare_gender == 'f' else 'moyen'}"])
        sql, verb_en, verb_fr = f"AVG({alias}.{col.name})", "average", "moyenne"
    note = f" ({col.comment})" if col.comment else ""
    return {
        "source": source, "sql": sql, "format": "number",
        "names": {"en": en_name, "fr": fr_name},
        "synonyms": {"en": list(dict.fromkeys(en)), "fr": list(dict.fromkeys(frs))},
        "definition": {"en": f"{en_name} = {verb_en} of {table.name}.{col.name}{note}",
                       "fr": f"{fr_name} = {verb_fr} de {table.name}.{col.name}"},
    }


def _sources(catalog: Catalog, aliases: dict[str, str],
             draft: Draft) -> dict[str, tuple[Table, list[_Node], str]]:
    """source key -> (table, its join tree, what dates it)."""
    found: dict[str, tuple[Table, list[_Node], str]] = {}
    for table in catalog.tables:
        if _is_link_table(table):
            continue
        nodes = _tree(catalog, table, aliases, draft, table.name)
        dated = _time(table, nodes)
        if dated is None:
            continue
        expression, described = dated
        found[table.name] = (table, nodes, described)
        singular = english(table.name)
        fr, gender = _fr(singular)
        dated_fr = "datées" if gender == "f" else "datés"
        draft.data.setdefault("sources", {})[table.name] = {
            "from": f"{table.qualified} {aliases[table.qualified]}",
            "joins": [n.join for n in nodes if n.join],
            "time": expression,
            "time_label": {"en": f"{plural(singular)} dated",
                           "fr": f"{french_plural(fr)} {dated_fr}"},
        }
        if len(_dates(table)) > 1:
            others = ", ".join(c.name for c in _dates(table)[1:])
            draft.note(("sources", table.name, "time"),
                       f"DECIDE: dated by {described}; other dates: {others}.")
    return found


def _metrics(sources: dict[str, tuple[Table, list[_Node], str]], draft: Draft) -> None:
    metrics: dict[str, Any] = draft.data.setdefault("metrics", {})
    measures = [(t, c) for t, _, _ in sources.values() for c in t.columns if _is_measure(t, c)]
    names = [c.name for _, c in measures]
    for key, (table, nodes, described) in sources.items():
        alias = nodes[0].alias
        count_key = "_".join(plural(english(table.name)).split())
        metrics[count_key] = _count_metric(table, alias, described)
        draft.note(("metrics", count_key),
                   f"DECIDE: which {plural(english(table.name))} count? Add a `where` "
                   "(e.g. a status) if some rows should not.")
        for col in (c for c in table.columns if _is_measure(table, c)):
            shared = names.count(col.name) > 1
            base = col.name if col.name.startswith(table.name) else f"{table.name}_{col.name}"
            if not _AVERAGE_ONLY.search(col.name):
                metrics[base] = _measure(table, col, alias, key, "sum", shared)
            metrics[f"average_{base}"] = _measure(table, col, alias, key, "avg", shared)
        _amount(table, alias, key, metrics, draft)
        for node in nodes[1:]:
            if node.depth == 1 and node.table.name not in sources and node.via and \
                    _name_expr(node.table, node.alias):
                parent_key = "_".join(plural(english(node.table.name)).split())
                if parent_key not in metrics:
                    metrics[parent_key] = _parent_count(table, node, key, alias)


def _is_measure(table: Table, col: Column) -> bool:
    keys = {c for fk in table.foreign_keys for c in fk.columns} | set(table.primary_key)
    return col.kind == "number" and col.name not in keys and not _NOT_MEASURE.search(col.name)


def _amount(table: Table, alias: str, source: str, metrics: dict[str, Any],
            draft: Draft) -> None:
    quantity = next((c for c in table.columns if _QUANTITY.match(c.name)), None)
    price = next((c for c in table.columns if _PRICE.match(c.name)), None)
    if quantity is None or price is None:
        return
    owner = english(table.name)
    fr, _ = _fr(f"{owner} amount")
    key = f"{table.name}_amount"
    metrics[key] = {
        "source": source, "sql": f"SUM({alias}.{quantity.name} * {alias}.{price.name})",
        "format": "number", "names": {"en": _cap(f"{owner} amount"), "fr": _cap(fr)},
        "synonyms": {"en": [f"{owner} amount", f"{plural(owner)} amount"], "fr": [fr]},
        "definition": {"en": f"{_cap(owner)} amount = sum of {quantity.name} × {price.name}",
                       "fr": f"{_cap(fr)} = somme de {quantity.name} × {price.name}"},
    }
    draft.note(("metrics", key), "DECIDE: is this what the business calls sales or revenue? "
               "Then add those words to `synonyms`, a `where` for the rows that count, and the "
               "currency (`currency.code`, `format`).")


def _reach(sources: dict[str, tuple[Table, list[_Node], str]], table: Table) -> dict[str, str]:
    """source key -> the alias of `table` in that source, for the sources that reach it."""
    return {key: n.alias for key, (_, nodes, _) in sources.items()
            for n in nodes if n.table.qualified == table.qualified}


def _dimension(phrase: str, columns: dict[str, str]) -> dict[str, Any]:
    fr, _ = _fr(phrase)
    return {
        "column": columns,
        "names": {"en": _cap(phrase), "fr": _cap(fr)},
        "synonyms": {"en": list(dict.fromkeys([phrase, plural(phrase)])),
                     "fr": list(dict.fromkeys([fr, french_plural(fr)]))},
    }


def _indirect(sources: dict[str, tuple[Table, list[_Node], str]], table: Table) -> str | None:
    """How a table is reached when its key column is named for something else (a customer's
    `support_rep_id` leads to an employee): said in a comment, as questions may mean another."""
    for key, (_, nodes, _) in sources.items():
        for node in nodes:
            if node.table.qualified == table.qualified and node.via and \
                    not node.via[0].startswith(english(table.name).split()[0]):
                return f"in source {key}, through the key {', '.join(node.via)}"
    return None


def _dimensions(catalog: Catalog, sources: dict[str, tuple[Table, list[_Node], str]],
                draft: Draft) -> None:
    dims: dict[str, Any] = draft.data.setdefault("dimensions", {})
    dims.update(TIME_DIMENSIONS)
    unreached: list[str] = []
    for table in catalog.tables:
        if _is_link_table(table):
            continue
        reach = _reach(sources, table)
        keys = {c for fk in table.foreign_keys for c in fk.columns} | set(table.primary_key)
        name = _name_expr(table, "{a}")
        owner = english(table.name)
        if name is not None and reach:
            key = "_".join(owner.split())
            low = next((c.values for c in table.columns if f"{{a}}.{c.name}" == name), ())
            dim = _dimension(owner, {s: name.format(a=a) for s, a in reach.items()})
            if low:
                dim["values"] = list(low)
            elif (table.rows or 0) <= MAX_ENTITY_ROWS:
                dim["values_from"] = (f"SELECT DISTINCT {name.format(a='x')} "
                                      f"FROM {table.qualified} x")
            else:
                draft.note(("dimensions", key), f"DECIDE: {table.qualified} has about "
                           f"{table.rows:,} rows; their names are not loaded at startup.")
            dim["entity"] = True
            dims[key] = dim
            path = _indirect(sources, table)
            if path:
                draft.note(("dimensions", key), f"DECIDE: {table.qualified} is reached {path}: "
                           "name it for that role (names, synonyms) or remove it.")
        for col in table.columns:
            if col.kind != "text" or not col.values or col.name in keys or \
                    f"{{a}}.{col.name}" == name or _NOT_CATEGORY.search(col.name):
                continue
            if len(col.values) < 2 or (table.rows and len(col.values) > max(2, table.rows // 2)):
                continue  # one value, or nearly one per row: not a category
            if not reach:
                unreached.append(f"{table.name}.{col.name}")
                continue
            phrase = english(col.name)
            key = "_".join(phrase.split())
            if key in dims:
                key = f"{table.name}_{key}"
                phrase = f"{owner} {phrase}"
            dim = _dimension(phrase, {s: f"{a}.{col.name}" for s, a in reach.items()})
            dim["values"] = list(col.values)
            dims[key] = dim
            if col.comment:
                draft.note(("dimensions", key), f"{table.qualified}.{col.name}: {col.comment}")
    if unreached:
        draft.note(("dimensions",), "No dated source reaches these columns, so they are not "
                   "dimensions: " + ", ".join(unreached) + ".")


def draft_model(catalog: Catalog) -> str:
    """The YAML text of a semantic-model draft of `catalog`."""
    draft = Draft()
    aliases = _aliases(catalog)
    draft.data["currency"] = {"code": "EUR", "names": []}
    draft.note(("currency",), "DECIDE: the currency of the amounts (code, and its own words).")
    sources = _sources(catalog, aliases, draft)
    _metrics(sources, draft)
    _dimensions(catalog, sources, draft)
    metrics = draft.data.get("metrics", {})
    largest = max(sources.values(), key=lambda s: s[0].rows or 0, default=None)
    if largest is not None:
        count_key = "_".join(plural(english(largest[0].name)).split())
        amount = f"{largest[0].name}_amount"
        draft.data["default_metric"] = amount if amount in metrics else count_key
        draft.note(("default_metric",), "DECIDE: what a ranking with no metric ranks by.")
    order = ("currency", "default_metric", "sources", "metrics", "dimensions")
    data = {k: draft.data[k] for k in order if k in draft.data}
    for section in ("sources", "metrics", "dimensions"):
        data.setdefault(section, {})
    from agents.sql.model_yaml import dump_model

    header = [
        f"A semantic-model draft of {', '.join(catalog.schemas)} ({len(catalog.tables)} tables),",
        "written by `sourced model draft`. Search for DECIDE: what a person must decide.",
        "Check it with `sourced model check --model FILE` after editing.",
    ]
    return dump_model(data, draft.comments, header)
