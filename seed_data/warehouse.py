"""Deterministic generator of the demo warehouse of Lumen & Co (2017-01-01 to 2025-12-31).

The numbers tell a believable story: growth year on year, a strong Q4 and a quiet August, a dip
in spring 2020, ~3% cancelled and ~5% refunded orders, larger discounts on larger orders and for
larger customers. Everything comes from one seeded random generator, so every run produces the
same rows; the data is loaded with COPY in one transaction.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import psycopg

SEED = 20170101
START = np.datetime64("2017-01-01")
END = np.datetime64("2025-12-31")

REGIONS = ["France", "EMEA", "Americas", "APAC"]
REGION_WEIGHTS = [0.34, 0.30, 0.23, 0.13]
COUNTRIES = {
    "France": ["France"],
    "EMEA": ["Germany", "United Kingdom", "Spain", "Italy", "Netherlands", "Belgium",
             "Switzerland", "Sweden", "Poland", "United Arab Emirates", "South Africa", "Morocco"],
    "Americas": ["United States", "Canada", "Brazil", "Mexico", "Chile"],
    "APAC": ["Japan", "Australia", "Singapore", "India", "South Korea"],
}
SEGMENTS = ["Enterprise", "Mid-Market", "SMB"]
SEGMENT_WEIGHTS = [0.15, 0.35, 0.50]
# How often a customer of each segment orders, relative to an SMB.
SEGMENT_ACTIVITY = {"Enterprise": 4.0, "Mid-Market": 2.0, "SMB": 1.0}
CHANNELS = ["online", "direct", "partner"]
CHANNEL_BY_SEGMENT = {
    "Enterprise": [0.10, 0.65, 0.25],
    "Mid-Market": [0.30, 0.45, 0.25],
    "SMB": [0.62, 0.16, 0.22],
}
MONTH_SEASONALITY = [0.85, 0.9, 1.02, 0.95, 1.0, 1.0, 0.88, 0.68, 1.05, 1.1, 1.18, 1.42]
YEARLY_GROWTH = 1.14
COVID_DIP = {3: 0.7, 4: 0.5, 5: 0.55, 6: 0.7, 7: 0.8, 8: 0.85, 9: 0.9, 10: 0.92, 11: 0.95, 12: 0.95}

PRODUCTS: list[tuple[str, str, float, str]] = [
    # name, category, current list price (EUR), launched_on
    ("Lumen Insight Starter", "Software", 490.0, "2014-03-01"),
    ("Lumen Insight Pro", "Software", 1290.0, "2014-03-01"),
    ("Lumen Insight Enterprise", "Software", 3490.0, "2015-01-15"),
    ("Lumen Dashboards", "Software", 690.0, "2014-09-01"),
    ("Lumen Data Connectors Pack", "Software", 890.0, "2015-06-01"),
    ("Lumen Forecast", "Software", 1590.0, "2016-02-01"),
    ("Lumen Governance", "Software", 2190.0, "2016-10-01"),
    ("Lumen Embedded Analytics", "Software", 2990.0, "2017-09-01"),
    ("Lumen Mobile", "Software", 390.0, "2015-04-01"),
    ("Lumen Alerts", "Software", 290.0, "2016-05-01"),
    ("Lumen Data Catalog", "Software", 1890.0, "2018-04-01"),
    ("Lumen Cloud Storage 1TB", "Software", 240.0, "2016-01-01"),
    ("Lumen AI Assistant", "Software", 1990.0, "2021-03-01"),
    ("Lumen Pipelines", "Software", 1490.0, "2019-05-01"),
    ("Lumen Audit Trail", "Software", 590.0, "2020-02-01"),
    ("Lumen Privacy Shield", "Software", 990.0, "2022-06-01"),
    ("Lumen Edge Appliance S", "Hardware", 4900.0, "2015-02-01"),
    ("Lumen Edge Appliance M", "Hardware", 8900.0, "2015-02-01"),
    ("Lumen Edge Appliance XL", "Hardware", 15900.0, "2016-06-01"),
    ("Lumen Sensor Kit", "Hardware", 1200.0, "2016-03-01"),
    ("Lumen Gateway", "Hardware", 2400.0, "2015-09-01"),
    ("Lumen Rack Server R2", "Hardware", 11900.0, "2017-05-01"),
    ("Lumen Display Wall", "Hardware", 6900.0, "2018-01-15"),
    ("Lumen Backup Unit", "Hardware", 3200.0, "2016-11-01"),
    ("Lumen Edge Appliance Gen2", "Hardware", 9900.0, "2020-09-01"),
    ("Lumen Network Probe", "Hardware", 1800.0, "2019-02-01"),
    ("Lumen Kiosk Terminal", "Hardware", 2900.0, "2021-10-01"),
    ("Lumen GPU Node", "Hardware", 18900.0, "2023-03-01"),
    ("Lumen Onboarding Workshop", "Services", 2400.0, "2014-01-01"),
    ("Lumen Implementation Day", "Services", 1200.0, "2014-01-01"),
    ("Lumen Data Migration", "Services", 6500.0, "2015-03-01"),
    ("Lumen Premium Support", "Services", 3900.0, "2014-06-01"),
    ("Lumen Health Check", "Services", 1800.0, "2016-01-01"),
    ("Lumen Custom Connector", "Services", 4500.0, "2016-09-01"),
    ("Lumen Managed Service", "Services", 5400.0, "2018-06-01"),
    ("Lumen Architecture Review", "Services", 3200.0, "2017-02-01"),
    ("Lumen Dashboard Design Sprint", "Services", 2800.0, "2019-09-01"),
    ("Lumen Security Audit", "Services", 4200.0, "2020-11-01"),
    ("Lumen AI Readiness Assessment", "Services", 3600.0, "2022-01-15"),
    ("Lumen Cloud Migration", "Services", 7900.0, "2021-05-01"),
    ("Lumen Analyst Training", "Training", 890.0, "2014-01-01"),
    ("Lumen Admin Training", "Training", 990.0, "2014-05-01"),
    ("Lumen Developer Training", "Training", 1190.0, "2015-10-01"),
    ("Lumen Executive Briefing", "Training", 590.0, "2016-04-01"),
    ("Lumen Certification Exam", "Training", 290.0, "2017-01-15"),
    ("Lumen Data Literacy Course", "Training", 450.0, "2018-09-01"),
    ("Lumen E-learning Library", "Training", 350.0, "2020-04-01"),
    ("Lumen AI Skills Bootcamp", "Training", 1490.0, "2023-02-01"),
]
COST_RATIO = {"Software": 0.14, "Hardware": 0.64, "Services": 0.55, "Training": 0.38}
QUANTITY_MEAN = {"Software": 3.0, "Hardware": 1.2, "Services": 2.5, "Training": 3.0}

FIRST_NAMES = ["Camille", "Lucas", "Léa", "Hugo", "Manon", "Louis", "Chloé", "Gabriel", "Inès",
               "Jules", "Sarah", "Nathan", "Emma", "Thomas", "Julie", "Antoine", "Laura", "Paul",
               "Anna", "Marco", "Sofia", "Jonas", "Elena", "Daniel", "Olivia", "Kenji", "Priya",
               "Carlos", "Mia", "Noah", "Yuki", "Amira", "Lars", "Ingrid", "Diego", "Aiko"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
              "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Rossi",
              "Müller", "Schmidt", "Smith", "Johnson", "Tanaka", "Sato", "Kumar", "Silva",
              "Novak", "Jansen", "Berg", "Costa", "Nguyen", "Kim", "Fischer", "Lopez"]
NAME_STEMS = ["Nova", "Alti", "Bora", "Cyra", "Delta", "Ecla", "Flux", "Gala", "Hexa", "Iris",
              "Jade", "Kora", "Luma", "Mira", "Nexa", "Orba", "Pyra", "Quan", "Rhea", "Sola",
              "Tera", "Ulma", "Vera", "Wave", "Xeno", "Yara", "Zeta", "Arca", "Bleu", "Cima"]
NAME_TAILS = ["tech", "soft", "data", "logic", "net", "works", "labs", "systems", "media",
              "group", "partners", "retail", "health", "energy", "finance", "foods"]
LEGAL_FORM = {"France": "SAS", "EMEA": "GmbH", "Americas": "Inc.", "APAC": "Ltd"}
DEPARTMENTS = [("Sales", 0.26, 62000), ("Engineering", 0.30, 68000), ("Support", 0.14, 45000),
               ("Marketing", 0.09, 55000), ("Finance", 0.07, 60000), ("HR", 0.05, 52000),
               ("Operations", 0.09, 50000)]
EMPLOYEE_COUNTRIES = ["France", "France", "France", "Germany", "United Kingdom", "Spain",
                      "United States", "Singapore"]

WAREHOUSE_TABLES = ["order_items", "orders", "support_tickets", "revenue_targets", "customers",
                    "products", "sales_reps", "employees"]


def _days(start: np.datetime64, end: np.datetime64) -> np.ndarray:
    return np.arange(start, end + np.timedelta64(1, "D"), dtype="datetime64[D]")


def _day_weights(days: np.ndarray) -> np.ndarray:
    """Relative order volume per day: growth, month seasonality, weekdays, the 2020 dip."""
    years = days.astype("datetime64[Y]").astype(int) + 1970
    months = days.astype("datetime64[M]").astype(int) % 12 + 1
    weekday = (days.astype(int) + 3) % 7  # 0 = Monday
    weight = YEARLY_GROWTH ** (years - 2017)
    weight = weight * np.array(MONTH_SEASONALITY)[months - 1]
    weight = weight * np.where(weekday >= 5, 0.25, 1.0)
    dip = np.array([COVID_DIP.get(m, 1.0) for m in range(1, 13)])
    weight = np.where(years == 2020, weight * dip[months - 1], weight)
    return weight / weight.sum()


def _weighted_pick_among_first(
    rng: np.random.Generator, cumulative: np.ndarray, available: np.ndarray
) -> np.ndarray:
    """For each row, pick an index in [0, available) with probability proportional to weight."""
    available = np.maximum(available, 1)
    totals = cumulative[available - 1]
    targets = rng.random(len(available)) * totals
    picked = np.searchsorted(cumulative, targets, side="right")
    return np.minimum(picked, available - 1)


def generate(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Build every warehouse table as a DataFrame, deterministically from `seed`."""
    rng = np.random.default_rng(seed)
    days = _days(START, END)

    # Products.
    products = pd.DataFrame(PRODUCTS, columns=["name", "category", "unit_price", "launched_on"])
    products.insert(0, "product_id", np.arange(1, len(products) + 1))
    products["unit_cost"] = (
        products["unit_price"]
        * products["category"].map(COST_RATIO)
        * rng.uniform(0.9, 1.1, len(products))
    ).round(2)
    products["launched_on"] = pd.to_datetime(products["launched_on"]).dt.date

    # Customers: a tenth existed before 2017, the rest sign up as the business grows.
    n_customers = 3000
    n_early = 320
    early = rng.choice(_days(np.datetime64("2014-06-01"), np.datetime64("2016-12-31")), n_early)
    later = rng.choice(days, n_customers - n_early, p=_day_weights(days))
    signup = np.sort(np.concatenate([early, later]))
    region = rng.choice(REGIONS, n_customers, p=REGION_WEIGHTS)
    segment = rng.choice(SEGMENTS, n_customers, p=SEGMENT_WEIGHTS)
    country = np.array([rng.choice(COUNTRIES[r]) for r in region])
    names = []
    seen: set[str] = set()
    for i in range(n_customers):
        base = f"{rng.choice(NAME_STEMS)}{rng.choice(NAME_TAILS)}"
        candidate = f"{base} {LEGAL_FORM[region[i]]}"
        if candidate in seen:
            candidate = f"{base} {i:04d} {LEGAL_FORM[region[i]]}"
        seen.add(candidate)
        names.append(candidate)
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(1, n_customers + 1),
            "name": names,
            "segment": segment,
            "country": country,
            "region": region,
            "signup_date": signup.astype("datetime64[D]").astype(object),
        }
    )

    # Sales reps: ten per region, hired over time.
    reps_rows = []
    rep_id = 1
    for r in REGIONS:
        hires = np.sort(rng.choice(_days(np.datetime64("2013-01-01"), np.datetime64("2023-06-30")),
                                   10))
        hires[0] = np.datetime64("2013-03-01")
        for h in hires:
            reps_rows.append((rep_id, f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", r,
                              h.astype(object)))
            rep_id += 1
    sales_reps = pd.DataFrame(reps_rows, columns=["rep_id", "name", "region", "hired_on"])

    # Orders: dates follow the day weights; a customer orders only once signed up.
    n_orders = 120_000
    order_days = np.sort(rng.choice(days, n_orders, p=_day_weights(days)))
    activity = customers["segment"].map(SEGMENT_ACTIVITY).to_numpy() * rng.gamma(2.0, 0.5,
                                                                               n_customers)
    cumulative = np.cumsum(activity)
    available = np.searchsorted(signup, order_days, side="right")
    cust_idx = _weighted_pick_among_first(rng, cumulative, available)
    order_segment = segment[cust_idx]
    order_region = region[cust_idx]
    u = rng.random(n_orders)
    channel = np.empty(n_orders, dtype=object)
    for seg, probs in CHANNEL_BY_SEGMENT.items():
        mask = order_segment == seg
        edges = np.cumsum(probs)
        channel[mask] = np.array(CHANNELS)[np.searchsorted(edges, u[mask], side="right").clip(0, 2)]
    rep = np.full(n_orders, -1)
    for r in REGIONS:
        region_reps = sales_reps[sales_reps["region"] == r]
        hires = region_reps["hired_on"].to_numpy().astype("datetime64[D]")
        ids = region_reps["rep_id"].to_numpy()
        mask = (order_region == r) & (channel != "online")
        hired = np.maximum(np.searchsorted(hires, order_days[mask], side="right"), 1)
        rep[mask] = ids[(rng.random(mask.sum()) * hired).astype(int)]
    years = order_days.astype("datetime64[Y]").astype(int) + 1970
    refund_p = np.where(years == 2020, 0.065, 0.048)
    cancel_p = np.full(n_orders, 0.03)
    s = rng.random(n_orders)
    status = np.where(s < cancel_p, "cancelled", np.where(s < cancel_p + refund_p, "refunded",
                                                          "completed"))
    orders = pd.DataFrame(
        {
            "order_id": np.arange(1, n_orders + 1),
            "customer_id": cust_idx + 1,
            "rep_id": pd.array(np.where(rep > 0, rep, 0), dtype="Int64"),
            "order_date": order_days.astype(object),
            "status": status,
            "channel": channel,
        }
    )
    orders.loc[rep <= 0, "rep_id"] = pd.NA

    # Order lines: products already launched, quantities by category, discounts that grow with
    # quantity and customer size, prices 3% lower for each year before 2025.
    lines_per_order = np.clip(1 + rng.poisson(1.5, n_orders), 1, 8)
    line_order = np.repeat(np.arange(n_orders), lines_per_order)
    line_no = np.concatenate([np.arange(1, k + 1) for k in lines_per_order])
    launched = products["launched_on"].to_numpy().astype("datetime64[D]")
    by_launch = np.argsort(launched, kind="stable")
    popularity = rng.gamma(2.0, 1.0, len(products))[by_launch]
    available_products = np.searchsorted(launched[by_launch], order_days[line_order],
                                         side="right")
    picked = by_launch[_weighted_pick_among_first(rng, np.cumsum(popularity),
                                                   available_products)]
    category = products["category"].to_numpy()[picked]
    qty_mean = np.vectorize(QUANTITY_MEAN.get)(category).astype(float)
    seg_factor = np.vectorize({"Enterprise": 1.8, "Mid-Market": 1.2, "SMB": 0.8}.get)(
        order_segment[line_order]
    ).astype(float)
    quantity = 1 + rng.poisson(np.maximum(qty_mean * seg_factor - 1, 0.1))
    line_year = years[line_order]
    price = (products["unit_price"].to_numpy()[picked] / 1.03 ** (2025 - line_year)).round(2)
    seg_bonus = np.vectorize({"Enterprise": 0.06, "Mid-Market": 0.025, "SMB": 0.0}.get)(
        order_segment[line_order]
    ).astype(float)
    discount = 0.012 * quantity**0.8 + seg_bonus + rng.normal(0, 0.015, len(picked))
    discount = np.where((quantity < 3) & (rng.random(len(picked)) < 0.6), 0.0, discount)
    discount = np.clip(discount, 0, 0.5).round(3)
    order_items = pd.DataFrame(
        {
            "order_id": line_order + 1,
            "line_no": line_no,
            "product_id": products["product_id"].to_numpy()[picked],
            "quantity": quantity,
            "unit_price": price,
            "discount": discount,
        }
    )

    # Revenue targets: set each year a little above or below what each region then achieved.
    completed = orders["status"].to_numpy()[line_order] == "completed"
    line_revenue = quantity * price * (1 - discount)
    frame = pd.DataFrame(
        {
            "region": order_region[line_order][completed],
            "year": line_year[completed],
            "quarter": ((order_days[line_order].astype("datetime64[M]").astype(int) % 12) // 3
                        + 1)[completed],
            "revenue": line_revenue[completed],
        }
    )
    actual = frame.groupby(["region", "year", "quarter"], as_index=False)["revenue"].sum()
    actual["target_amount"] = (
        actual["revenue"] * rng.uniform(0.93, 1.12, len(actual)) / 1000
    ).round() * 1000
    revenue_targets = actual[["region", "year", "quarter", "target_amount"]]

    # Support tickets: more for bigger customers; urgent ones close fast; CSAT follows speed.
    n_tickets = 40_000
    ticket_days = np.sort(rng.choice(days, n_tickets, p=_day_weights(days)))
    t_available = np.searchsorted(signup, ticket_days, side="right")
    t_cust = _weighted_pick_among_first(rng, cumulative, t_available)
    opened = (
        ticket_days.astype("datetime64[s]")
        + (rng.integers(8 * 3600, 19 * 3600, n_tickets)).astype("timedelta64[s]")
    )
    priority = rng.choice(["low", "normal", "high", "urgent"], n_tickets,
                          p=[0.25, 0.48, 0.20, 0.07])
    mean_hours = np.vectorize({"low": 90.0, "normal": 40.0, "high": 16.0, "urgent": 5.0}.get)(
        priority
    ).astype(float)
    hours = rng.exponential(mean_hours) + 0.25
    closed = opened + (hours * 3600).astype("timedelta64[s]")
    recent = ticket_days > np.datetime64("2025-12-10")
    still_open = rng.random(n_tickets) < np.where(recent, 0.45, 0.004)
    csat_raw = 4.7 - 0.012 * hours + rng.normal(0, 0.7, n_tickets)
    csat = np.clip(np.round(csat_raw), 1, 5).astype(int)
    answered = (rng.random(n_tickets) < 0.68) & ~still_open
    support_tickets = pd.DataFrame(
        {
            "ticket_id": np.arange(1, n_tickets + 1),
            "customer_id": t_cust + 1,
            "opened_at": pd.to_datetime(opened).tz_localize("UTC"),
            "closed_at": pd.to_datetime(np.where(still_open, np.datetime64("NaT"), closed))
            .tz_localize("UTC"),
            "priority": priority,
            "csat": pd.array(np.where(answered, csat, 0), dtype="Int64"),
        }
    )
    support_tickets.loc[~answered, "csat"] = pd.NA

    # Employees (restricted to HR).
    n_employees = 400
    dept_names = [d[0] for d in DEPARTMENTS]
    dept = rng.choice(dept_names, n_employees, p=[d[1] for d in DEPARTMENTS])
    hired = rng.choice(_days(np.datetime64("2010-01-01"), END), n_employees)
    base_salary = np.vectorize({d[0]: d[2] for d in DEPARTMENTS}.get)(dept).astype(float)
    seniority = (END - hired).astype(int) / 365.25
    salary = (base_salary * (1 + 0.025 * seniority) * rng.lognormal(0, 0.18, n_employees)).round(
        -2
    )
    employees = pd.DataFrame(
        {
            "employee_id": np.arange(1, n_employees + 1),
            "name": [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                     for _ in range(n_employees)],
            "department": dept,
            "country": rng.choice(EMPLOYEE_COUNTRIES, n_employees),
            "hired_on": hired.astype(object),
            "salary_eur": salary,
        }
    )

    return {
        "customers": customers,
        "products": products[["product_id", "name", "category", "unit_price", "unit_cost",
                              "launched_on"]],
        "sales_reps": sales_reps,
        "orders": orders,
        "order_items": order_items,
        "revenue_targets": revenue_targets,
        "support_tickets": support_tickets,
        "employees": employees,
    }


LOAD_ORDER = ["customers", "products", "sales_reps", "orders", "order_items", "revenue_targets",
              "support_tickets", "employees"]


def is_seeded(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM warehouse.orders)").fetchone()
    return bool(row and row[0])


def load(conn: psycopg.Connection, tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Replace the warehouse rows with `tables` using COPY, in the caller's transaction."""
    from psycopg import sql

    conn.execute(
        sql.SQL("TRUNCATE {} CASCADE").format(
            sql.SQL(", ").join(sql.Identifier("warehouse", t) for t in WAREHOUSE_TABLES)
        )
    )
    counts: dict[str, int] = {}
    for name in LOAD_ORDER:
        frame = tables[name]
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S%z")
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
            sql.Identifier("warehouse", name),
            sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns),
        )
        with conn.cursor() as cur, cur.copy(copy_sql) as copy:
            copy.write(buffer.getvalue())
        counts[name] = len(frame)
    for name in LOAD_ORDER:
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier("warehouse", name)))
    return counts
