"""Hits as a pandas DataFrame (pandas is optional: only this helper needs it)."""


def dataframe(hits, expand_args=False):
    """A pandas DataFrame of hit dicts (from Client.read_hits, Client.hits, Journal.hits):
    one row per hit, one column per field in the order the hits give them (the hit
    field table's). A task the agent could not identify has pid, tgid and comm None.
    expand_args: the arguments as columns arg0..arg5 (unsigned 64-bit values: object
    columns of Python ints, exact) instead of one column of lists."""
    try:
        import pandas
    except ImportError:
        raise ImportError("hprobe.dataframe needs pandas (pip install pandas, or apt-get install python3-pandas)") \
            from None
    rows = list(hits)
    columns = []
    for h in rows:
        for k in h:
            if k not in columns:
                columns.append(k)
    df = pandas.DataFrame.from_records(rows, columns=columns)
    if expand_args and "args" in df.columns:
        n = max((len(a) for a in df["args"] if isinstance(a, list)), default=0)
        for i in range(n):
            df["arg%d" % i] = pandas.Series([a[i] if isinstance(a, list) and i < len(a) else None
                                             for a in df["args"]], index=df.index, dtype=object)
        df = df.drop(columns=["args"])
    return df
