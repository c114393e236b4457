"""sql_guard: decide whether SQL written by a model or planner may run read-only on Postgres.

Use check(sql, policy) -> GuardResult; build per-user policies with policy_for_groups.
"""

from __future__ import annotations

from sql_guard.groups import policy_for_groups
from sql_guard.guard import check
from sql_guard.result import GuardResult, Policy

__all__ = ["GuardResult", "Policy", "check", "policy_for_groups"]
