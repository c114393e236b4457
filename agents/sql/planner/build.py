"""From a Plan to SQL, with sqlglot expressions only.

The question's text never reaches the SQL except as literal values it matched against known
ones. One SELECT per metric source (and WHERE of the metric) computes the metrics over the
plan's dimensions, filters and period; several are full-joined on the dimensions; a comparison
joins two periods, a share divides by a total, a ranking orders and limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

import sqlglot
from sqlglot import exp

from agents.messages import say
from agents.sql.planner.explain import explain
from agents.sql.planner.values import Period, Plan
from agents.sql.semantic_model import Dimension, Metric, SemanticModel, Source


class PlanningError(Exception):
    """A plan the model cannot serve (a breakdown or filter its metric's source lacks)."""

    def __init__(self, key: str, metrics: list[Metric], dimension: Dimension) -> None:
        self.key, self.metrics, self.dimension = key, metrics, dimension
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        return say(self.key, lang, metrics=", ".join(m.name(lang) for m in self.metrics),
                   dimension=self.dimension.name(lang))


@dataclass(frozen=True)
class Shaped:
    """The outer query of a plan, the column a ranking sorts on, and the columns it adds."""

    query: exp.Select
    sort_column: str
    labels: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- fragments


def parse_sql(fragment: str) -> exp.Expr:
    return sqlglot.parse_one(fragment, read="postgres")


def base_metrics(model: SemanticModel, keys: tuple[str, ...]) -> list[Metric]:
    """The metrics the SQL computes: a ratio's two parts instead of the ratio."""
    out: list[Metric] = []
    for key in keys:
        metric = model.metrics[key]
        parts = [model.metrics[p] for p in metric.ratio] if metric.ratio else [metric]
        for part in parts:
            if part not in out:
                out.append(part)
    return out


def _time_expr(source_time: exp.Expr, grain: str) -> exp.Expr:
    if grain == "year":
        return exp.cast(exp.Extract(this=exp.var("YEAR"), expression=source_time.copy()), "int")
    fmt = 'YYYY-"Q"Q' if grain == "quarter" else "YYYY-MM"
    return exp.func("to_char", source_time.copy(), exp.Literal.string(fmt))


def _date(day: date) -> exp.Expr:
    return exp.cast(exp.Literal.string(day.isoformat()), "date")


def _ratio(numerator: exp.Expr, denominator: exp.Expr) -> exp.Expr:
    """numerator / denominator in numeric, NULL rather than an error when it is zero."""
    return exp.Div(this=exp.cast(numerator, "numeric"),
                   expression=exp.func("nullif", denominator, exp.Literal.number(0)))


def _same_dimensions(plan: Plan, left: str, right: str) -> exp.Expr | None:
    if not plan.dimensions:
        return None
    return exp.and_(*[exp.EQ(this=exp.column(d, table=left), expression=exp.column(d, table=right))
                      for d in plan.dimensions])


def _join(query: exp.Select, other: exp.Expr, on: exp.Expr | None) -> exp.Select:
    """Full join on the dimensions; a cross join of single-row results when there are none."""
    if on is None:
        return query.join(other, join_type="cross")
    return query.join(other, on=on, join_type="full")


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


# ---------------------------------------------------------------- one source


def _from_source(source: Source) -> exp.Select:
    select = exp.select().from_(source.from_, dialect="postgres")
    for join in source.joins:
        join_expr = sqlglot.parse_one(f"SELECT 1 FROM x {join}", read="postgres").args["joins"][0]
        select = select.join(join_expr)
    return select


def _dimension_expr(dim: Dimension, source_key: str, time_col: exp.Expr,
                    metrics: list[Metric]) -> exp.Expr:
    if dim.is_time:
        return _time_expr(time_col, dim.grain or "year")
    if source_key in dim.columns:
        return parse_sql(dim.columns[source_key])
    raise PlanningError("planner.cannot_break_down", metrics, dim)


def _filter_condition(dim: Dimension, values: tuple[str, ...], source_key: str,
                      metrics: list[Metric]) -> exp.Expr:
    if source_key not in dim.columns:
        raise PlanningError("planner.cannot_filter", metrics, dim)
    column = parse_sql(dim.columns[source_key])
    literals = [exp.Literal.string(v) for v in values]
    if len(literals) == 1:
        return exp.EQ(this=column, expression=literals[0])
    return exp.In(this=column, expressions=literals)


Defaults = tuple[tuple[str, tuple[str, ...]], ...]


def _defaults(plan: Plan, metric: Metric) -> Defaults:
    """The metric's default filters the plan does not override by filtering or grouping."""
    chosen = {*plan.dimensions, *(k for k, _ in plan.filters)}
    return tuple((k, v) for k, v in metric.default_filters.items() if k not in chosen)


def _conditions(plan: Plan, model: SemanticModel, source_key: str, metrics: list[Metric],
                where: str | None, period: Period | None, time_col: exp.Expr) -> list[exp.Expr]:
    conditions: list[exp.Expr] = []
    if plan.ranking:
        # Online orders have no sales rep: that empty group is not a contender in a ranking.
        for dim in (model.dimensions[k] for k in plan.dimensions):
            if not dim.is_time and source_key in dim.columns:
                conditions.append(exp.Not(this=exp.Is(this=parse_sql(dim.columns[source_key]),
                                                      expression=exp.Null())))
    if where:
        conditions.append(parse_sql(where))
    if period:
        conditions.append(exp.GTE(this=time_col.copy(), expression=_date(period.start)))
        conditions.append(exp.LT(this=time_col.copy(), expression=_date(period.end)))
    conditions.extend(_filter_condition(model.dimensions[k], values, source_key, metrics)
                      for k, values in (*plan.filters, *_defaults(plan, metrics[0])))
    return conditions


def _source_select(plan: Plan, model: SemanticModel, source_key: str, metrics: list[Metric],
                   where: str | None, period: Period | None) -> exp.Select:
    """The metrics of one source (and WHERE) over the plan's dimensions, filters and period."""
    time_col = parse_sql(model.sources[source_key].time)
    select = _from_source(model.sources[source_key])
    for dim_key in plan.dimensions:
        expr = _dimension_expr(model.dimensions[dim_key], source_key, time_col, metrics)
        select = select.select(exp.alias_(expr, dim_key))
    for metric in metrics:
        select = select.select(exp.alias_(parse_sql(metric.sql or "NULL"), metric.key))
    conditions = _conditions(plan, model, source_key, metrics, where, period, time_col)
    if conditions:
        select = select.where(exp.and_(*conditions))
    if plan.dimensions:
        # Ordinals, not names: an output name such as `region` would clash with input columns
        # of the same name (customers and sales reps both have one) in GROUP BY.
        select = select.group_by(*[exp.Literal.number(i + 1) for i in range(len(plan.dimensions))])
    return select


# ---------------------------------------------------------------- every metric, one period


def _metric_column(model: SemanticModel, metric_key: str) -> exp.Expr:
    metric = model.metrics[metric_key]
    if metric.ratio:
        num, den = metric.ratio
        return _ratio(exp.column(num), exp.column(den))
    return exp.column(metric.key)


def _source_selects(plan: Plan, model: SemanticModel,
                    period: Period | None) -> list[tuple[str, exp.Select]]:
    """One named SELECT per (source, WHERE) among the plan's base metrics."""
    groups: dict[tuple[str, str | None, Defaults], list[Metric]] = {}
    for metric in base_metrics(model, plan.metrics):
        key = (metric.source or "", metric.where, _defaults(plan, metric))
        groups.setdefault(key, []).append(metric)
    return [
        (f"m{i}", _source_select(plan, model, src, ms, where, period))
        for i, ((src, where, _), ms) in enumerate(groups.items())
    ]


def _values_query(plan: Plan, model: SemanticModel, period: Period | None) -> exp.Select:
    """One row per dimension combination with every requested metric, for one period."""
    ctes = _source_selects(plan, model, period)
    if len(ctes) == 1 and not any(model.metrics[k].ratio for k in plan.metrics):
        return ctes[0][1]
    query = exp.select()
    first = ctes[0][0]
    for dim in plan.dimensions:
        query = query.select(
            exp.alias_(exp.func("coalesce", *[exp.column(dim, table=n) for n, _ in ctes]), dim)
            if len(ctes) > 1
            else exp.column(dim, table=first)
        )
    for metric_key in plan.metrics:
        query = query.select(exp.alias_(_metric_column(model, metric_key), metric_key))
    query = query.from_(ctes[0][1].subquery(first))
    for name, inner in ctes[1:]:
        query = _join(query, inner.subquery(name), _same_dimensions(plan, first, name))
    return query


# ---------------------------------------------------------------- shapes


def _side_by_side(plan: Plan, model: SemanticModel, current: Period, previous: Period,
                  cur_col: str, prev_col: str) -> exp.Select:
    metric_key = plan.metrics[0]
    one_metric = replace(plan, metrics=(metric_key,))
    a = _values_query(one_metric, model, current)
    b = _values_query(one_metric, model, previous)
    query = exp.select()
    for dim in plan.dimensions:
        query = query.select(exp.alias_(
            exp.func("coalesce", exp.column(dim, table="cur"), exp.column(dim, table="prev")),
            dim))
    cur, prev = exp.column(metric_key, table="cur"), exp.column(metric_key, table="prev")
    query = query.select(
        exp.alias_(cur.copy(), cur_col),
        exp.alias_(prev.copy(), prev_col),
        exp.alias_(exp.Sub(this=cur.copy(), expression=prev.copy()), "change"),
        exp.alias_(_ratio(exp.Sub(this=cur.copy(), expression=prev.copy()), prev.copy()),
                   "pct_change"),
    )
    return _join(query.from_(a.subquery("cur")), b.subquery("prev"),
                 _same_dimensions(plan, "cur", "prev"))


def _comparison(plan: Plan, model: SemanticModel, current: Period,
                previous: Period) -> Shaped:
    """The first metric in two periods, side by side, with the change and the change in %."""
    metric, lang = model.metrics[plan.metrics[0]], plan.lang
    cur_col = f"{metric.key}_{_slug(current.label)}"
    prev_col = f"{metric.key}_{_slug(previous.label)}"
    return Shaped(
        _side_by_side(plan, model, current, previous, cur_col, prev_col), cur_col,
        labels={cur_col: f"{metric.name(lang)} {current.label}",
                prev_col: f"{metric.name(lang)} {previous.label}",
                "change": say("planner.label.change", lang),
                "pct_change": say("planner.label.pct_change", lang)},
        formats={cur_col: metric.format, prev_col: metric.format, "change": metric.format,
                 "pct_change": "percent"},
    )


def _share_of_total(plan: Plan, model: SemanticModel) -> Shaped:
    # "What share of revenue came from online?": the filtered figure over the same figure
    # without the filters.
    sort_col = plan.metrics[0]
    part = _values_query(plan, model, plan.period)
    whole = _values_query(replace(plan, filters=()), model, plan.period)
    query = exp.select(
        exp.column(sort_col, table="part"),
        exp.alias_(_ratio(exp.column(sort_col, table="part"),
                          exp.column(sort_col, table="whole")), "share"),
    ).from_(part.subquery("part"))
    return _with_share_column(_join(query, whole.subquery("whole"), None), sort_col, plan.lang)


def _share_of_rows(plan: Plan, model: SemanticModel) -> Shaped:
    """Each row's share of the sum of all rows."""
    sort_col = plan.metrics[0]
    total = exp.Window(this=exp.Sum(this=exp.column(sort_col)))
    query = exp.select(
        "*", exp.alias_(_ratio(exp.column(sort_col), total), "share"),
    ).from_(_values_query(plan, model, plan.period).subquery("v"))
    return _with_share_column(query, sort_col, plan.lang)


def _with_share_column(query: exp.Select, sort_col: str, lang: str) -> Shaped:
    return Shaped(query, sort_col, labels={"share": say("planner.label.share", lang)},
                  formats={"share": "percent"})


def _shape(plan: Plan, model: SemanticModel) -> Shaped:
    if plan.comparison:
        return _comparison(plan, model, *plan.comparison)
    if plan.share and not plan.dimensions:
        return _share_of_total(plan, model)
    if plan.share:
        return _share_of_rows(plan, model)
    return Shaped(_values_query(plan, model, plan.period), plan.metrics[0])


def _ordered(plan: Plan, shaped: Shaped, time_dims: tuple[str, ...]) -> exp.Select:
    query, sort_col = shaped.query, shaped.sort_column
    if plan.ranking and plan.dimensions:
        order = exp.Ordered(this=exp.column(sort_col), desc=plan.ranking.descending,
                            nulls_first=False)
        return query.order_by(order).limit(plan.ranking.limit)
    if time_dims:
        return query.order_by(*[exp.column(d) for d in plan.dimensions])
    if plan.dimensions:
        return query.order_by(exp.Ordered(this=exp.column(sort_col), desc=True,
                                          nulls_first=False))
    return query


def build_sql(plan: Plan, model: SemanticModel) -> Plan:
    """Turn an understood plan into SQL (sqlglot expressions only) and its plain explanation."""
    lang = plan.lang
    labels = {dim: model.dimensions[dim].name(lang) for dim in plan.dimensions}
    labels.update({key: model.metrics[key].name(lang) for key in plan.metrics})
    formats = {key: model.metrics[key].format for key in plan.metrics}
    time_dims = tuple(d for d in plan.dimensions if model.dimensions[d].is_time)
    shaped = _shape(plan, model)
    return replace(
        plan,
        sql=_ordered(plan, shaped, time_dims).sql(dialect="postgres"),
        explanation=explain(plan, model),
        column_labels={**labels, **shaped.labels},
        column_formats={**formats, **shaped.formats},
        time_columns=time_dims,
    )
