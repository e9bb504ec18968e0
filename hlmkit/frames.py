"""Multilevel data tools: spida2's ``capply``, ``cvar``, ``dvar``, ``up``, ``tab``, ``some``, ``gicc``.

They move information between levels of a hierarchical data set held in one long DataFrame
(one row per Level-1 unit, e.g. a student, with the Level-2 columns, e.g. the school's, repeated).

* :func:`capply` applies a function within each cluster and returns one value per row;
* :func:`cvar` is the cluster mean (a contextual, Level-2 variable) and :func:`dvar` the deviation
  from it (the centred-within-group, Level-1 variable); both work inside model formulas;
* :func:`up` goes up a level: one row per cluster;
* :func:`tab` tabulates with totals and missing values shown; :func:`some` shows a few random rows;
* :func:`gicc` tells, for each variable, how much of its variation lies between clusters.

Where spida2 has documented bugs (``capply`` recycling a result of the wrong length, ``up``
failing on varying character columns, ``gicc`` with several grouping variables, NA keys forming
a cluster of their own) these functions do the right thing or raise a clear error instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

__all__ = ["capply", "cvar", "dvar", "gicc", "reorder", "some", "tab", "up"]


# --------------------------------------------------------------------------------------------
# grouping helpers
# --------------------------------------------------------------------------------------------


def _as_series(x: Any, name: str = "x") -> pd.Series:
    if isinstance(x, pd.Series):
        return x
    if isinstance(x, pd.DataFrame):
        raise TypeError(f"{name}: expected one column (a Series or array), got a DataFrame")
    arr = np.asarray(x) if not isinstance(x, pd.Categorical) else x
    if getattr(arr, "ndim", 1) != 1:
        raise TypeError(f"{name}: expected a one-dimensional array, got shape {np.shape(arr)}")
    return pd.Series(arr)


def _resolve_by(
    by: Any, n: int, frame: pd.DataFrame | None, index: pd.Index, x_labelled: bool = True
) -> list[pd.Series]:
    """Turn ``by`` (a column name, a Series/array, or a list of those) into aligned Series.

    A Series ``by`` is aligned with ``x`` by index label when ``x`` is a pandas object (the same
    labels in another order are reordered; different labels are an error), and by position when
    ``x`` is an array (it has no labels), as R does with vectors.
    """
    if (
        isinstance(by, (list, tuple))
        and by
        and all(isinstance(b, (str, pd.Series, np.ndarray, list, tuple, pd.Categorical)) for b in by)
        and not (frame is None and all(isinstance(b, str) for b in by))
    ):
        items = list(by)  # several grouping variables
    else:
        items = [by]  # one grouping variable given by its values
    if not items:
        raise ValueError("by: no grouping variable given")
    out = []
    for item in items:
        if isinstance(item, str) and frame is not None:
            if item not in frame.columns:
                raise KeyError(f"by: no column {item!r} in the data")
            s = frame[item]
        elif isinstance(item, str):
            raise TypeError(
                f"by={item!r} is a column name, but x is not a DataFrame; pass the grouping values"
            )
        else:
            s = _as_series(item, "by")
            if len(s) != n:
                raise ValueError(f"by: the grouping variable has {len(s)} values but x has {n}")
            if isinstance(item, pd.Series) and not s.index.equals(index) and len(s) == n:
                if not x_labelled:
                    # x has no labels: align on position, as R does with vectors
                    s = pd.Series(s.to_numpy(), index=index, name=s.name)
                elif (
                    s.index.is_unique
                    and index.is_unique
                    and s.index.sort_values().equals(index.sort_values())
                ):
                    s = s.reindex(index)  # the same rows in another order: align by label
                else:
                    raise ValueError(
                        "by: the grouping Series and x have different index labels, so their rows cannot be "
                        "matched; give them the same index (e.g. by.reindex(x.index)), or pass "
                        "by.to_numpy() to match them by position"
                    )
            else:
                s = pd.Series(
                    s.to_numpy() if not isinstance(s.dtype, pd.CategoricalDtype) else s.array,
                    index=index,
                    name=s.name,
                )
        if len(s) != n:
            raise ValueError(f"by: the grouping variable has {len(s)} values but x has {n}")
        out.append(s)
    return out


def levels_of(
    values: Any, *, unused: bool = False, in_order_given: bool = False, what: str = "the grouping"
) -> list[Any]:
    """The levels of a grouping, in hlmkit's one order for clusters, panels, colours and tables.

    **The rule** is R's ``factor``: a categorical's categories in their order, and for any other
    values the distinct values sorted (numbers numerically, text alphabetically). Missing values
    are not a level. So clusters (``lme``'s ``ranef`` and ``coef``, ``lmlist``, ``influence``),
    panels and colours of the course's plots, and ``tab`` all list levels as R would.

    Parameters
    ----------
    values : Series, Categorical or array
    unused : bool, default False
        Keep the categories that do not occur (R's ``table`` shows them with count 0); by default
        only the levels present are listed.
    in_order_given : bool, default False
        List non-categorical values in their order of first appearance instead of sorted. Only
        for prediction grids (:func:`hlmkit.effect_plot`): their rows come in the order the grid
        was built, as R's ``expand.grid`` makes its factors with the levels in the order given.
    what : str
        What the values are, for the error message.

    Raises
    ------
    TypeError
        Values of several types that cannot be sorted (e.g. numbers and text).

    Examples
    --------
    >>> import pandas as pd
    >>> from hlmkit.frames import levels_of
    >>> levels_of([3, 1, 2, 1]), levels_of(["b", "a", None]), levels_of([3, 1, 2], in_order_given=True)
    ([1, 2, 3], ['a', 'b'], [3, 1, 2])
    >>> levels_of(pd.Categorical(["lo"], categories=["lo", "hi"])), levels_of(
    ...     pd.Categorical(["lo"], categories=["lo", "hi"]), unused=True)
    (['lo'], ['lo', 'hi'])
    """
    s = (
        values
        if isinstance(values, pd.Series)
        else pd.Series(values if isinstance(values, pd.Categorical) else np.asarray(values))
    )
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = list(s.cat.categories)
        if unused:
            return cats
        used = set(s.cat.codes[s.cat.codes >= 0].unique().tolist())
        return [c for k, c in enumerate(cats) if k in used]
    present = s.dropna()
    if present.dtype.kind in "biuf":  # numbers: sorted at C speed, as Python numbers
        arr = present.to_numpy()
        return (pd.unique(arr) if in_order_given else np.unique(arr)).tolist()
    uniq = list(pd.unique(present))
    if in_order_given:
        return uniq
    try:
        return sorted(uniq)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in uniq})
        raise TypeError(
            f"{what} mixes values of different types ({', '.join(kinds)}), which cannot be ordered; "
            "make it one type, e.g. with .astype(str)"
        ) from None


def _group_codes(keys: list[pd.Series], na_group: bool = False) -> tuple[np.ndarray, int]:
    """Integer cluster codes (-1 for a row whose key is missing, unless ``na_group``)."""
    if len(keys) == 1:
        codes, uniques = pd.factorize(keys[0], use_na_sentinel=not na_group)
        return codes.astype(np.intp), len(uniques)
    frame = pd.concat([k.reset_index(drop=True) for k in keys], axis=1)
    frame.columns = pd.RangeIndex(frame.shape[1])
    numbers = frame.groupby(list(frame.columns), dropna=not na_group, sort=False).ngroup().to_numpy()
    multi_codes = np.where(np.isnan(numbers.astype(float)), -1, numbers).astype(np.intp)
    return multi_codes, int(multi_codes.max()) + 1 if len(multi_codes) else 0


def _split_indices(codes: np.ndarray, ngroups: int) -> list[np.ndarray]:
    """The row positions of each group ``0 .. ngroups - 1`` (rows in their order; codes < 0 left out).

    hlmkit's one way to split rows by cluster (capply, lmlist, blue_blup, influence)."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    bounds = np.searchsorted(sorted_codes, np.arange(ngroups + 1))
    return [order[bounds[g] : bounds[g + 1]] for g in range(ngroups)]


# --------------------------------------------------------------------------------------------
# capply, cvar, dvar
# --------------------------------------------------------------------------------------------


def capply(
    x: pd.Series | pd.DataFrame | np.ndarray | Sequence[Any],
    by: Any,
    func: Callable[..., Any] | str,
    *args: Any,
    na_group: bool = False,
    **kw: Any,
) -> pd.Series:
    """Apply ``func`` within each cluster and return a value for every row.

    ``func`` receives the cluster's part of ``x`` (a Series, or a DataFrame when ``x`` is one) and
    may return a scalar, which is repeated over the cluster's rows (a cluster-level, "contextual"
    variable), or a vector as long as the cluster, whose values go back to the cluster's rows in
    order (e.g. a within-cluster rank). Anything else is an error.

    Parameters
    ----------
    x : Series, DataFrame or array
        The values, one per row.
    by : str, array-like or list of them
        The clusters: values aligned with ``x`` or, when ``x`` is a DataFrame, column name(s).
    func : callable or str
        A function, or the name of a pandas reduction (``"mean"``, ``"size"``, ...).
    *args, **kw
        Passed on to ``func``.
    na_group : bool, default False
        Rows whose cluster is missing get NaN (the default) or, if True, form a cluster of their own.

    Returns
    -------
    Series
        Aligned with the rows (and index) of ``x``.

    Examples
    --------
    >>> import pandas as pd
    >>> from hlmkit import capply
    >>> df = pd.DataFrame({"g": [1, 1, 2, 2, 2], "y": [1.0, 3.0, 2.0, 4.0, 9.0]})
    >>> capply(df["y"], df["g"], "mean").tolist()
    [2.0, 2.0, 5.0, 5.0, 5.0]
    >>> capply(df["y"], df["g"], lambda v: v.rank()).tolist()
    [1.0, 2.0, 1.0, 2.0, 3.0]
    >>> capply(df, "g", lambda d: d["y"].max() - d["y"].min()).tolist()
    [2.0, 2.0, 7.0, 7.0, 7.0]
    """
    is_frame = isinstance(x, pd.DataFrame)
    xs: pd.Series | pd.DataFrame = x if isinstance(x, pd.DataFrame) else _as_series(x)
    n = len(xs)
    keys = _resolve_by(
        by,
        n,
        xs if isinstance(xs, pd.DataFrame) else None,
        xs.index,
        x_labelled=isinstance(x, (pd.Series, pd.DataFrame)),
    )
    codes, ngroups = _group_codes(keys, na_group=na_group)
    if isinstance(func, str):
        name = func
        if is_frame:
            raise TypeError("capply: a named reduction needs a single column x, not a DataFrame")

        def func(v: Any, *a: Any, **k: Any) -> Any:
            return getattr(v, name)(*a, **k)

    out = np.full(n, np.nan, dtype=object)
    numeric = True
    for idx in _split_indices(codes, ngroups):
        chunk = xs.iloc[idx]
        res = func(chunk, *args, **kw)
        if isinstance(res, (pd.Series, pd.DataFrame, np.ndarray, list, tuple)):
            vals = np.asarray(res)
            if vals.ndim == 2 and vals.shape[1] == 1:
                vals = vals[:, 0]
            if vals.ndim == 0 or (vals.size == 1 and len(idx) != 1):
                vals = np.repeat(vals.reshape(-1)[0], len(idx))
            elif vals.ndim != 1 or len(vals) != len(idx):
                label = keys[0].iloc[idx[0]] if len(keys) == 1 else tuple(k.iloc[idx[0]] for k in keys)
                raise ValueError(
                    f"capply: func returned {vals.size} values for cluster {label}, which has "
                    f"{len(idx)} rows; it must return one value or one per row"
                )
        else:
            vals = np.repeat(np.asarray(res, dtype=object).reshape(()), len(idx))
        out[idx] = vals
        if numeric and not all(
            isinstance(v, (int, float, np.number, bool, np.bool_)) or v is None for v in vals[:1]
        ):
            numeric = False
    result = pd.Series(out, index=xs.index, name=getattr(x, "name", None) if not is_frame else None)
    if numeric:
        result = pd.to_numeric(result, errors="coerce") if result.dtype == object else result
    else:
        result = result.infer_objects()
    return result


def _dummies(x: pd.Series, all_levels: bool) -> pd.DataFrame:
    cat = x.astype("category") if not isinstance(x.dtype, pd.CategoricalDtype) else x
    levels = list(cat.cat.categories)
    if len(levels) < 2 and not all_levels:
        raise ValueError(
            f"cvar/dvar: the factor {x.name!r} has fewer than two levels ({levels}); "
            "there is no non-reference level to take a proportion of"
        )
    codes = cat.cat.codes.to_numpy()
    keep = levels if all_levels else levels[1:]
    data = {}
    for lev in keep:
        col = (codes == levels.index(lev)).astype(float)
        col[codes < 0] = np.nan
        data[str(lev)] = col
    return pd.DataFrame(data, index=x.index)


def _check_cvar_input(x: pd.Series, fname: str) -> str:
    """Classify x as 'numeric', 'factor'; reject strings with a helpful message."""
    if isinstance(x.dtype, pd.CategoricalDtype):
        return "factor"
    if pd.api.types.is_bool_dtype(x.dtype):
        return "numeric"
    if pd.api.types.is_numeric_dtype(x.dtype):
        return "numeric"
    name = f" {x.name!r}" if x.name is not None else ""
    raise TypeError(
        f"{fname}: the variable{name} holds text ({x.dtype}); convert it to a categorical first "
        f"(e.g. df[col].astype('category')) to get the proportions of its levels"
    )


def cvar(x: Any, by: Any, all: bool = False) -> pd.Series | pd.DataFrame:  # noqa: A002 - spida2 name
    """Cluster mean of ``x``, repeated on every row of the cluster (a contextual variable).

    Missing values of ``x`` are skipped in the mean, and a row with a missing ``x`` still gets its
    cluster's mean; a row whose cluster is missing gets NaN. A logical ``x`` gives the proportion
    TRUE. A categorical ``x`` gives the within-cluster proportion of each non-reference level
    (all levels with ``all=True``): a Series for a two-level factor, a DataFrame with one column
    per level otherwise. Text columns are refused: make them categorical first.

    Usable inside model formulas: ``"mathach ~ ses + cvar(ses, school)"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from hlmkit import cvar
    >>> df = pd.DataFrame({"g": [1, 1, 2, 2], "x": [1.0, 3.0, 2.0, None],
    ...                    "f": pd.Categorical(["a", "b", "b", "b"])})
    >>> cvar(df["x"], df["g"]).tolist()
    [2.0, 2.0, 2.0, 2.0]
    >>> cvar(df["f"], df["g"]).tolist()
    [0.5, 0.5, 1.0, 1.0]
    """
    xs = _as_series(x, "cvar: x")
    keys = _resolve_by(by, len(xs), None, xs.index, x_labelled=isinstance(x, (pd.Series, pd.DataFrame)))
    codes, _ = _group_codes(keys)
    kind = _check_cvar_input(xs, "cvar")
    if kind == "factor":
        dummies = _dummies(xs, all_levels=all)
        means = dummies.groupby(codes).transform("mean")
        means[codes < 0] = np.nan
        means.index = xs.index
        if means.shape[1] == 1 and not all:
            return _named(means.iloc[:, 0], xs.name)
        return means
    values = xs.astype(float)
    mean_values = values.groupby(codes).transform("mean").to_numpy(copy=True)
    mean_values[codes < 0] = np.nan
    return pd.Series(mean_values, index=xs.index, name=xs.name)


def dvar(x: Any, by: Any, all: bool = False) -> pd.Series | pd.DataFrame:  # noqa: A002
    """Deviation of ``x`` from its cluster mean: ``x - cvar(x, by)`` (centred within group).

    A missing ``x`` stays missing. For a categorical ``x`` the level indicators minus their
    cluster proportions. Usable inside model formulas: ``random="~ 1 + dvar(ses, school) | school"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from hlmkit import dvar
    >>> dvar(pd.Series([1.0, 3.0, 2.0, 6.0]), [1, 1, 2, 2]).tolist()
    [-1.0, 1.0, -2.0, 2.0]
    """
    xs = _as_series(x, "dvar: x")
    kind = _check_cvar_input(xs, "dvar")
    if kind == "factor":
        dummies = _dummies(xs, all_levels=all)
        means = cvar(xs, by, all=all)
        if isinstance(means, pd.Series):
            return _named(dummies.iloc[:, 0] - means, xs.name)
        return dummies - means
    mean = cast(pd.Series, cvar(xs, by))  # a numeric x: one cluster mean per row
    return _named(xs.astype(float) - mean, xs.name)


def _named(s: pd.Series, name: Hashable) -> pd.Series:
    """``s`` under the name ``name`` (``Series.rename`` with a scalar)."""
    out = s.copy(deep=False)
    out.name = name
    return out


def reorder(x: Any, score: Any, func: Callable[[pd.Series], float] | str = "mean") -> pd.Categorical:
    """A categorical of ``x`` whose categories are ordered by ``func`` of ``score`` within each (R's ``reorder``).

    Examples
    --------
    >>> from hlmkit import reorder
    >>> list(reorder(["a", "a", "b", "c"], [5, 7, 1, 3]).categories)
    ['b', 'c', 'a']
    """
    xs = _as_series(x, "reorder: x")
    values = np.asarray(score, dtype=float)
    if len(values) != len(xs):
        raise ValueError(f"reorder: score has {len(values)} values but x has {len(xs)}")
    sc = pd.Series(values, index=xs.index)
    stat = sc.groupby(xs.to_numpy(), sort=True).agg(func)
    order = list(stat.sort_values(kind="stable").index)
    return pd.Categorical(xs.to_numpy(), categories=order)


# --------------------------------------------------------------------------------------------
# up
# --------------------------------------------------------------------------------------------


def _mode(values: pd.Series) -> Any:
    """Most frequent non-missing value; ties go to the first category (or the smallest value)."""
    v = values.dropna()
    if v.empty:
        return np.nan
    if isinstance(values.dtype, pd.CategoricalDtype):
        counts = v.value_counts(sort=False)  # in category order
        return counts.idxmax()
    counts = v.value_counts(sort=False).sort_index()
    return counts.idxmax()


def up(
    df: pd.DataFrame,
    by: str | Sequence[str],
    all: bool = False,  # noqa: A002 - spida2 name
    agg: Sequence[str] | None = None,
    freq: str | None = "Freq",
) -> pd.DataFrame:
    """One row per cluster: the columns that are constant within clusters (and, optionally, summaries).

    A column is *invariant* if it takes a single value within every cluster (missing counts as a
    value: NA and NA are equal, NA and 3 differ). With ``all=False`` only the invariant columns
    are kept (the grouping columns among them); with ``all=True`` the varying columns are
    summarised too: numeric and logical columns by their mean (skipping NA), categorical and text
    columns by their mode (ties go to the category, or value, that comes first).

    Parameters
    ----------
    df : DataFrame
    by : str or list of str
        The cluster column(s). Rows with a missing cluster are dropped, with a warning.
    all : bool, default False
        Also summarise the columns that vary within clusters.
    agg : list of str, optional
        Columns to add as within-cluster proportions of *every* level (categorical; columns named
        ``col_level``) or means (numeric), like spida2's ``up(..., agg = ~ Sex)``.
    freq : str or None, default "Freq"
        Name of the column holding the number of rows in each cluster (summed if the data
        already has such a column); None to leave it out.

    Returns
    -------
    DataFrame
        Indexed by cluster (sorted: categories in their order, numbers numerically), columns in
        their original order, then the ``agg`` columns and ``freq``.

    Examples
    --------
    >>> from hlmkit import load_hs, up
    >>> sch = up(load_hs(), "school")
    >>> sch.shape
    (40, 8)
    >>> list(sch.columns)
    ['school', 'sector', 'Size', 'Sector', 'PRACAD', 'DISCLIM', 'HIMINTY', 'Freq']
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise KeyError(f"up: no column(s) {missing} in the data")
    na_key = df[keys].isna().any(axis=1)
    if na_key.any():
        warnings.warn(
            f"up: {int(na_key.sum())} row(s) with a missing value of {keys} were dropped",
            UserWarning,
            stacklevel=2,
        )
        df = df.loc[~na_key]
    grouped = df.groupby(keys if len(keys) > 1 else keys[0], sort=True, observed=True, dropna=True)
    first = grouped.head(1).set_index(keys if len(keys) > 1 else keys[0], drop=False)
    first = first.sort_index(kind="stable")
    counts = grouped.size()

    # a column is invariant if it has one value (NA counting as a value) in every cluster
    nunique = grouped[[c for c in df.columns if c not in keys]].nunique(dropna=False)
    invariant = [c for c in df.columns if c in keys or bool((nunique[c] <= 1).all())]

    out = pd.DataFrame(index=first.index)
    for col in df.columns:
        if col in invariant:
            out[col] = first[col]
        elif all:
            s = df[col]
            if pd.api.types.is_bool_dtype(s.dtype) or (
                pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype)
            ):
                out[col] = grouped[col].mean()
            else:
                modes = grouped[col].agg(_mode)
                if isinstance(s.dtype, pd.CategoricalDtype):
                    out[col] = pd.Categorical(modes, categories=s.cat.categories)
                else:
                    out[col] = modes
    if agg:
        for col in agg:
            if col not in df.columns:
                raise KeyError(f"up: agg column {col!r} is not in the data")
            s = df[col]
            if isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s.dtype):
                dummies = _dummies(s.astype("category"), all_levels=True)
                props = dummies.groupby([df[k] for k in keys], sort=True, observed=True).mean()
                for lev in props.columns:
                    out[f"{col}_{lev}"] = props[lev]
            else:
                out[col] = grouped[col].mean()
    if freq is not None:
        if freq in df.columns:
            out[freq] = grouped[freq].sum()
        else:
            out[freq] = counts
    if len(keys) == 1:
        out.index.name = keys[0]
    return out


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------

NA_LABEL = "<NA>"


def _tab_levels(s: pd.Series) -> tuple[pd.Series, list[Any]]:
    """Labels for tabulation (:func:`levels_of`, unused categories included, as R's ``table``), with
    missing values as their own '<NA>' level (last)."""
    labels = levels_of(s, unused=True, what=f"tab: the column {s.name!r}")
    if s.isna().any():
        s = s.astype(object).where(s.notna(), NA_LABEL)
        labels = labels + [NA_LABEL]
    return s, labels


def tab(
    df: pd.DataFrame,
    *cols: str,
    totals: bool = True,
    pct: str | Sequence[str] | None = None,
    weights: str | None = None,
) -> pd.Series | pd.DataFrame:
    """Frequency table with ``Total`` margins; missing values are counted as a ``<NA>`` level.

    Parameters
    ----------
    df : DataFrame
    *cols : str
        One, two or more columns. The first gives the rows, the second the columns; with three
        or more, the rows are indexed by the later variables then the first ("faces").
    totals : bool, default True
        Add a ``Total`` level to every variable (spida2's ``tab``; ``False`` is ``Tab``).
    pct : str or list of str, optional
        Percentages conditional on these variables: each of their levels sums to 100 over the
        other variables, and their ``Total`` level, relabelled ``All``, holds the marginal
        distribution in percent.
    weights : str, optional
        A numeric column to sum in each cell instead of counting rows.

    Returns
    -------
    Series (one variable) or DataFrame

    Examples
    --------
    >>> from hlmkit import load_hs, tab
    >>> tab(load_hs(), "Sex", "Minority")
    Minority    No  Yes  Total
    Sex
    Female     775  299   1074
    Male       658  245    903
    Total     1433  544   1977
    """
    if not cols:
        raise ValueError("tab: name at least one column")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"tab: no column(s) {missing} in the data")
    labelled = []
    col_levels = []
    for c in cols:
        s, lev = _tab_levels(df[c])
        labelled.append(s)
        col_levels.append(lev)
    shape = [len(lev) for lev in col_levels]
    idx = []
    for s, lev in zip(labelled, col_levels):
        pos = {v: i for i, v in enumerate(lev)}
        idx.append(np.array([pos[v] for v in s.to_numpy()], dtype=np.intp))
    if weights is None:
        w = np.ones(len(df))
    else:
        if weights not in df.columns:
            raise KeyError(f"tab: no weights column {weights!r}")
        w = df[weights].to_numpy(dtype=float)
    counts = np.zeros(shape)
    np.add.at(counts, tuple(idx), w)

    cond = [] if pct is None else ([pct] if isinstance(pct, str) else list(pct))
    bad = [c for c in cond if c not in cols]
    if bad:
        raise ValueError(f"tab: pct names {bad}, which are not among the tabulated columns {list(cols)}")
    cond_axes = [cols.index(c) for c in cond]

    if totals or cond:
        arr = counts
        for ax in range(arr.ndim):
            arr = np.concatenate([arr, arr.sum(axis=ax, keepdims=True)], axis=ax)
        labels = [lev + ["Total"] for lev in col_levels]
    else:
        arr = counts
        labels = [list(lev) for lev in col_levels]
    if cond:
        other = tuple(ax for ax in range(arr.ndim) if ax not in cond_axes)
        # the 'Total' slot along each non-conditioning axis holds the sum over that axis
        denom = arr
        for ax in other:
            denom = np.take(denom, [-1], axis=ax)
        with np.errstate(invalid="ignore", divide="ignore"):
            arr = 100 * arr / denom
        for ax in cond_axes:
            labels[ax][-1] = "All"
    if weights is None and not cond:
        arr = arr.astype(np.int64)

    if len(cols) == 1:
        return pd.Series(
            arr, index=pd.Index(labels[0], name=cols[0]), name="Freq" if weights is None else weights
        )
    if len(cols) == 2:
        return pd.DataFrame(
            arr,
            index=pd.Index(labels[0], name=cols[0]),
            columns=pd.Index(labels[1], name=cols[1]),
        )
    # three or more: rows = (faces..., first variable), columns = second variable
    faces = list(range(2, len(cols)))
    moved = np.moveaxis(arr, faces + [0, 1], list(range(len(cols))))
    row_index = pd.MultiIndex.from_product(
        [labels[a] for a in faces] + [labels[0]], names=[cols[a] for a in faces] + [cols[0]]
    )
    return pd.DataFrame(
        moved.reshape(len(row_index), len(labels[1])),
        index=row_index,
        columns=pd.Index(labels[1], name=cols[1]),
    )


def some(df: pd.DataFrame, n: int = 10, seed: int | np.random.Generator | None = None) -> pd.DataFrame:
    """``n`` randomly chosen rows, shown in their original order (car's ``some``).

    Examples
    --------
    >>> from hlmkit import load_hs, some
    >>> some(load_hs(), 5, seed=1).shape
    (5, 13)
    """
    if n < 0:
        raise ValueError("some: n must be non-negative")
    n = min(n, len(df))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    pos = np.sort(rng.choice(len(df), size=n, replace=False))
    return df.iloc[pos]


# --------------------------------------------------------------------------------------------
# gicc
# --------------------------------------------------------------------------------------------


def _gicc_numeric(x: np.ndarray, codes: np.ndarray, method: str) -> float:
    ok = ~np.isnan(x) & (codes >= 0)
    x, codes = x[ok], codes[ok]
    if method == "rank":
        x = pd.Series(x).rank(method="average").to_numpy()
    s = pd.Series(x).groupby(codes)
    means = s.mean()
    if len(means) < 2:
        return float("nan")
    var_between = float(means.var(ddof=1))
    n_g = s.size()
    v_g = s.var(ddof=1)
    use = n_g > 1
    if not use.any():
        return float("nan")
    var_within = float(((n_g[use] - 1) * v_g[use]).sum() / (n_g[use] - 1).sum())
    total = var_between + var_within
    return var_between / total if total > 0 else float("nan")


def _gini(p: np.ndarray) -> float:
    return float(np.sum(p * (1 - p)))


def _gicc_factor(x: pd.Series, codes: np.ndarray) -> float:
    ok = x.notna().to_numpy() & (codes >= 0)
    xs = x[ok].astype(str).to_numpy()
    cs = codes[ok]
    if len(xs) == 0:
        return float("nan")
    table = pd.crosstab(cs, xs).to_numpy(dtype=float)
    n_g = table.sum(axis=1)
    marginal = table.sum(axis=0) / table.sum()
    v_marg = _gini(marginal)
    if v_marg == 0:
        return float("nan")
    within = sum(n / n_g.sum() * _gini(row / n) for row, n in zip(table, n_g))
    return (v_marg - within) / v_marg


def gicc(df: pd.DataFrame, by: str | Sequence[str], method: str = "rank") -> pd.Series:
    """Generalised intraclass correlation of every column: 1 = constant within clusters.

    For a numeric column: the variance of the (unweighted) cluster means over that variance plus
    the pooled within-cluster variance, computed on ranks (``method="rank"``, the default) or on
    the raw values (``"raw"``). For a categorical or text column: Goodman and Kruskal's tau of the
    column on the clusters. ``method="na"`` applies the categorical formula to "is missing".
    This is a descriptive ratio, not the REML ICC: pure noise gives a value above 0.

    Examples
    --------
    >>> from hlmkit import load_hs, gicc
    >>> float(round(gicc(load_hs(), "school")["ses"], 4))
    0.2838
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise KeyError(f"gicc: no column(s) {missing} in the data")
    if method not in ("rank", "raw", "na"):
        raise ValueError(f"gicc: method must be 'rank', 'raw' or 'na', not {method!r}")
    codes, _ = _group_codes([df[k] for k in keys])
    out: dict[Hashable, float] = {}
    for col in df.columns:
        s = df[col]
        if method == "na":
            out[col] = _gicc_factor(s.isna().astype(str), codes) if s.isna().any() else float("nan")
        elif isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            out[col] = _gicc_factor(s, codes)
        else:
            out[col] = _gicc_numeric(s.to_numpy(dtype=float), codes, method)
    return pd.Series(out, name="gicc")
