"""Which functions a query may call: the read-only allowlist and the wording of refusals."""

from __future__ import annotations

from sqlglot import exp

_AGGREGATES = """
count sum avg min max stddev stddev_pop stddev_samp variance var_pop var_samp bool_and bool_or
every string_agg array_agg json_agg jsonb_agg json_object_agg jsonb_object_agg percentile_cont
percentile_disc mode corr covar_pop covar_samp regr_avgx regr_avgy regr_count regr_intercept
regr_r2 regr_slope regr_sxx regr_sxy regr_syy grouping
"""
_WINDOWS = """
row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
"""
_MATH = """
abs round ceil ceiling floor trunc sqrt cbrt power pow exp ln log log10 mod sign greatest least
div width_bucket scale
"""
_STRINGS = """
length char_length character_length octet_length lower upper initcap trim btrim ltrim rtrim
substring substr left right replace concat concat_ws position strpos split_part lpad rpad
regexp_replace regexp_match regexp_matches regexp_like regexp_substr regexp_count
regexp_split_to_array
starts_with format to_char md5 reverse repeat translate string_to_array array_to_string unnest
array_length cardinality array_position array_remove array_append array_prepend array_cat
array_upper array_lower quote_literal quote_ident chr ascii
"""
_DATES = """
now current_date current_time current_timestamp localtime localtimestamp date_trunc date_part
extract age make_date make_interval make_time make_timestamp make_timestamptz to_date to_timestamp
date_bin justify_days justify_hours justify_interval clock_timestamp statement_timestamp
transaction_timestamp isfinite
"""
# They tell the reader its own role and database, nothing about anyone else's.
_IDENTITY = """
current_user session_user current_role current_database current_schema current_catalog
"""
_CASTS_AND_CONDITIONALS = """
cast to_number coalesce nullif case row
"""
_JSON = """
json_extract_path json_extract_path_text jsonb_extract_path jsonb_extract_path_text
jsonb_array_elements jsonb_array_elements_text json_array_elements json_array_elements_text
jsonb_each jsonb_each_text json_each json_each_text jsonb_object_keys json_object_keys
jsonb_typeof json_typeof jsonb_array_length json_array_length to_json to_jsonb jsonb_build_object
json_build_object jsonb_build_array json_build_array row_to_json
"""


def _words(*texts: str) -> frozenset[str]:
    return frozenset(word for text in texts for word in text.split())


BUILTIN_FUNCTIONS: frozenset[str] = _words(
    _AGGREGATES,
    _WINDOWS,
    _MATH,
    _STRINGS,
    _DATES,
    _CASTS_AND_CONDITIONALS,
    _IDENTITY,
    _JSON,
    "generate_series",
)
"""Read-only Postgres functions any query may call (generate_series is further bounded)."""

# sqlglot parses many operators and keywords into typed Func nodes whose SQL names are not
# Postgres function names (CASE, ::, ->>, ARRAY[...], now() as CURRENT_TIMESTAMP ...). They are
# plain SQL, so they are allowed by class name rather than by function name.
_TYPED_CONSTRUCTS: frozenset[str] = _words(
    """
    Cast TryCast Case If Coalesce Nullif Extract Array ArrayAgg ArrayConcat ArraySize ArrayContains
    ArrayContainsAll ArrayOverlaps ArrayFilter ArrayToString StringToArray Struct Explode
    ExplodingGenerateSeries GenerateSeries Unnest Posexplode JSONExtract JSONExtractScalar
    JSONBExtract JSONBExtractScalar JSONBContains JSONBExists JSONFormat JSONObject JSONArray
    JSONArrayAgg JSONObjectAgg JSONBObjectAgg ParseJSON JSONBContainsAnyTopKeys
    JSONBContainsAllTopKeys JSONBDeleteAtPath ToChar ToNumber StrToTime StrToDate TimeToStr
    TsOrDsToDate TsOrDsToTimestamp UnixToTime TimeStrToTime CurrentDate CurrentTime
    CurrentTimestamp Localtime Localtimestamp CurrentTimestampLTZ TimestampTrunc DateTrunc
    TimestampAdd TimestampSub TimestampDiff DateAdd DateSub DateDiff DatetimeAdd DatetimeSub
    DateFromParts TimestampFromParts TimeFromParts StrPosition Substring Length Lower Upper Trim
    Concat ConcatWs Initcap Left Right Pad RegexpReplace RegexpExtract RegexpExtractAll RegexpLike
    RegexpILike RegexpSplit RegexpCount StartsWith SplitPart Reverse Repeat Replace Translate MD5
    Round Floor Ceil Abs Sqrt Cbrt Pow Exp Ln Log Sign Greatest Least Mod SafeDivide IntDiv
    Count Sum Avg Min Max Stddev StddevPop StddevSamp Variance VariancePop Corr CovarPop CovarSamp
    PercentileCont PercentileDisc Mode GroupConcat LogicalAnd LogicalOr ApproxDistinct Quantile
    RowNumber Rank DenseRank PercentRank CumeDist Ntile Lag Lead FirstValue LastValue NthValue
    Grouping Chr Ascii Trunc WidthBucket AtTimeZone Overlay Format MakeInterval
    ToArray ToMap Map VarMap ArrayFirst ArrayLast ArrayUniqueAgg ArrayAppend ArrayPrepend
    ArrayRemove ArrayPosition Date Time Timestamp Datetime ToDays UnixSeconds DateStrToDate
    JustifyDays JustifyHours JustifyInterval Age Collate Bracket RowToJson
    And Or Xor Exists ArrayContainedBy JSONArrayContains JSONBContainsTopKey JSONBPathExists
    RegexpFullMatch Any All
    CurrentUser SessionUser CurrentRole CurrentDatabase CurrentSchema CurrentCatalog
    """
)

_DENIED_REASONS: tuple[tuple[str, str], ...] = (
    ("pg_sleep", "it makes the server wait"),
    ("pg_read_", "it reads files on the database server"),
    ("pg_ls_", "it lists files on the database server"),
    ("pg_stat_file", "it reads files on the database server"),
    ("lo_", "it reads or writes large objects on the server"),
    ("dblink", "it connects to other databases"),
    ("set_config", "it changes server settings"),
    ("current_setting", "it reads server settings"),
    ("nextval", "it advances a sequence"),
    ("setval", "it changes a sequence"),
    ("currval", "it reads sequence state of the session"),
    ("lastval", "it reads sequence state of the session"),
    ("pg_advisory", "it takes locks"),
    ("pg_try_advisory", "it takes locks"),
    ("pg_terminate_backend", "it stops other sessions"),
    ("pg_cancel_backend", "it stops other sessions"),
    ("pg_reload_conf", "it administers the server"),
    ("pg_rotate_logfile", "it administers the server"),
    ("pg_switch_wal", "it administers the server"),
    ("pg_notify", "it sends notifications"),
    ("txid_current", "it assigns a transaction id"),
    ("pg_current_xact_id", "it assigns a transaction id"),
    ("query_to_xml", "it runs SQL hidden in a string"),
    ("cursor_to_xml", "it runs SQL hidden in a string"),
    ("table_to_xml", "it runs SQL hidden in a string"),
    ("schema_to_xml", "it runs SQL hidden in a string"),
    ("database_to_xml", "it runs SQL hidden in a string"),
    ("pg_logical_", "it writes to replication slots"),
    ("pg_create_", "it creates server objects"),
)


def function_refusal(name: str) -> str:
    """Return the refusal sentence for a call of function `name` (as written, maybe qualified)."""
    base = name.rsplit(".", 1)[-1]
    for prefix, why in _DENIED_REASONS:
        if base.startswith(prefix):
            return f"calls {name}, which is not a read-only function ({why})"
    return f"calls {name}, which is not a read-only function"


_typed_verdicts: dict[type, bool] = {}


def typed_function_allowed(node: exp.Expr) -> bool:
    """Whether a typed (non-Anonymous) sqlglot function node stands for an allowed construct.

    In: a node that is an instance of exp.Func. Out: True when its class is a plain SQL construct
    or one of its SQL names is in the built-in allowlist. Verdicts are cached per class.
    """
    cls = type(node)
    verdict = _typed_verdicts.get(cls)
    if verdict is None:
        verdict = cls.__name__ in _TYPED_CONSTRUCTS or any(
            n.lower() in BUILTIN_FUNCTIONS for n in _sql_names(cls)
        )
        _typed_verdicts[cls] = verdict
    return verdict


# Typed nodes whose sqlglot name differs from the Postgres function a user writes.
_POSTGRES_NAMES: dict[str, str] = {
    "ExplodingGenerateSeries": "generate_series",
    "GenerateSeries": "generate_series",
    "Explode": "unnest",
    "Unnest": "unnest",
    "Rand": "random",
    "CurrentTimestamp": "now",
    "StrPosition": "strpos",
    "TimestampTrunc": "date_trunc",
}


def typed_function_name(node: exp.Expr) -> str:
    """The lowercase Postgres name of a typed function node, for policies and refusals."""
    known = _POSTGRES_NAMES.get(type(node).__name__)
    if known is not None:
        return known
    names = _sql_names(type(node))
    return names[0].lower() if names else type(node).__name__.lower()


def _sql_names(cls: type) -> list[str]:
    try:
        return list(cls.sql_names())  # type: ignore[attr-defined]
    except Exception:  # abstract Func classes raise: they simply have no name
        return []
