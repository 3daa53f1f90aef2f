"""The sample's accepted rows recomputed in pandas from the raw seed CSVs, by the rules the README
states for staging ("The input contract"), so that mart tests do not reuse the models' SQL.

Each row goes through the checks in the README's order (the first failing one rejects it); of
the valid rows sharing a key, one is kept: the first when the copies are ordered by their raw
values (what "the first valid copy wins" means in base_*), which only matters for conflicting
copies."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from conftest import sample_tables

MIN_VALID_TS = pd.Timestamp("1900-01-01")
STATUSES = {"completed", "returned", "cancelled"}
TRUE_TEXT = {"true", "t", "yes", "y", "1"}
FALSE_TEXT = {"false", "f", "no", "n", "0"}


def _text(column: pd.Series) -> pd.Series:
    """Trimmed text, None where blank (seeds load an empty field as null)."""
    trimmed = column.str.strip()
    return trimmed.where(trimmed != "", None)


def _number(column: pd.Series) -> pd.Series:
    return pd.to_numeric(_text(column), errors="coerce")


def _timestamp(column: pd.Series) -> pd.Series:
    return pd.to_datetime(_text(column), format="ISO8601", errors="coerce")


def _keep_first_valid(raw: pd.DataFrame, valid: pd.Series, keys: list[str]) -> pd.DataFrame:
    """The valid rows, one per key: the first by raw values (blanks last, as nulls sort)."""
    rows = raw[valid].copy()
    order = list(raw.columns)
    ranked = rows[order].replace("", None).sort_values(order, na_position="last")
    return rows.loc[ranked.drop_duplicates(keys).index]


def accepted_customer_ids(tables: dict[str, pd.DataFrame]) -> set[str]:
    """Every non-blank customer id, trimmed: one copy of each is accepted."""
    return set(_text(tables["customers"]["customer_id"]).dropna())


def accepted_transactions(tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The accepted transactions with quantity, unit_price, discount, status, net_amount."""
    tables = tables or sample_tables()
    raw = tables["transactions"]
    customers = accepted_customer_ids(tables)
    ts = _timestamp(raw["transaction_ts"])
    quantity = _number(raw["quantity"])
    price = _number(raw["unit_price"])
    discount = _number(raw["discount_amount"])
    status = _text(raw["status"]).str.lower().fillna("completed")
    quantity_or_1 = quantity.where(_text(raw["quantity"]).notna(), 1.0)
    gross = quantity_or_1 * price
    now = pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))
    valid = (
        _text(raw["transaction_id"]).notna()
        & _text(raw["customer_id"]).notna()
        & ts.notna() & (ts <= now) & (ts >= MIN_VALID_TS)
        & (_text(raw["quantity"]).isna() | (quantity > 0))
        & (_text(raw["unit_price"]).isna() | (price > 0))
        & (_text(raw["discount_amount"]).isna()
           | ((discount >= 0) & (price.isna() | (discount <= gross))))
        & status.isin(STATUSES)
        & _text(raw["customer_id"]).isin(customers)
    )
    kept = _keep_first_valid(raw.assign(transaction_id=_text(raw["transaction_id"])),
                             valid, ["transaction_id"])
    index = kept.index
    discount_or_0 = discount.fillna(0.0)
    return pd.DataFrame({
        "transaction_id": kept["transaction_id"],
        "customer_id": _text(raw["customer_id"])[index],
        "transaction_ts": ts[index],
        "quantity": quantity_or_1[index],
        "unit_price": price[index],
        "discount_amount": discount_or_0[index],
        "status": status[index],
        "net_amount": (gross - discount_or_0)[index].round(4),
    })


def accepted_campaign_ids(tables: dict[str, pd.DataFrame]) -> set[str]:
    raw = tables["campaigns"]
    start = pd.to_datetime(_text(raw["start_date"]), format="ISO8601", errors="coerce")
    end = pd.to_datetime(_text(raw["end_date"]), format="ISO8601", errors="coerce")
    valid = (
        _text(raw["campaign_id"]).notna()
        & (_text(raw["start_date"]).isna() | (start >= MIN_VALID_TS))
        & (_text(raw["end_date"]).isna() | (end >= MIN_VALID_TS))
        & ~(end < start)
    )
    return set(_text(raw["campaign_id"])[valid])


def accepted_contacts(tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The accepted campaign contacts: campaign_id, customer_id, responded, response_revenue."""
    tables = tables or sample_tables()
    raw = tables["campaign_contacts"]
    contacted = _timestamp(raw["contacted_at"])
    responded_text = _text(raw["responded"]).str.lower()
    responded = responded_text.map(
        lambda text: True if text in TRUE_TEXT else False if text in FALSE_TEXT else None)
    revenue = _number(raw["response_revenue"])
    now = pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))
    valid = (
        _text(raw["campaign_id"]).notna()
        & _text(raw["customer_id"]).notna()
        & (_text(raw["contacted_at"]).isna()
           | ((contacted >= MIN_VALID_TS) & (contacted <= now)))
        & (responded_text.isna() | responded.notna())
        & (_text(raw["response_revenue"]).isna() | (revenue >= 0))
        & _text(raw["campaign_id"]).isin(accepted_campaign_ids(tables))
        & _text(raw["customer_id"]).isin(accepted_customer_ids(tables))
    )
    keyed = raw.assign(campaign_id=_text(raw["campaign_id"]),
                       customer_id=_text(raw["customer_id"]))
    kept = _keep_first_valid(keyed, valid, ["campaign_id", "customer_id"])
    return pd.DataFrame({
        "campaign_id": kept["campaign_id"],
        "customer_id": kept["customer_id"],
        "responded": responded[kept.index].fillna(False).astype(bool),
        "response_revenue": revenue[kept.index].fillna(0.0),
    })
