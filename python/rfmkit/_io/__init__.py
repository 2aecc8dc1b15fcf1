"""Reading inputs and shaping results: the only package that knows pandas, polars and pyarrow.

- `frames`: which kind of table the caller passed (pandas, polars, pyarrow), its columns
  looked up by name, and the results built back in that kind.
- `columns`: the columns of a transaction table as the core's arrays (customer codes or
  ids, wall-clock ticks, amounts) and the row accounting.
- `dates`: the one date rule (text, numbers, time zones).
- `files`: export files (CSV, Parquet, Excel) read as Arrow tables.
- `sources`: inputs read in batches (files, datasets, readers, lazy frames).
"""
