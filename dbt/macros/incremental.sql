{#
    Per-pull-request incremental models.

    The raw table keeps one row per PR, and the load stamps a row's `loaded_at` whenever
    it writes it (new PR, newer version, or a `clear`ed repository reloaded). So every
    model whose rows are a function of one PR's raw row (the fact, the bridges, the
    per-PR intermediates) can be built incrementally with two macros:

        {{ config(
            materialized='incremental',
            incremental_strategy='replace_pull_requests',
            unique_key='pull_request_id',
            on_schema_change='fail'
        ) }}
        {%- set loaded_since = loaded_since_last_build() %}
        ...
        from {{ ref('stg_github__pull_request_labels') }}
        where {{ loaded_since }}

    and a `loaded_at` column carrying the PR's raw `loaded_at` on every row.

    - `loaded_since_last_build()` selects the PRs loaded after this model's newest
      `loaded_at` (every PR on a first build or `--full-refresh`);
    - the `replace_pull_requests` strategy then deletes, before inserting the new rows,
      every row of the PRs in the batch and every row whose (`pull_request_id`,
      `loaded_at`) is no longer a PR's current raw row: PRs deleted from raw (`clear`),
      and PRs whose list shrank to nothing (a bridge gets no new row for them).
#}


{#
    loaded_since_last_build(loaded_at): a predicate on the `loaded_at` column of the
    relation it filters; `true` when the model is built from scratch.

    Example: `select * from {{ ref('stg_github__pull_requests') }} where
    {{ loaded_since_last_build() }}` renders, on an incremental run, to
    `... where loaded_at > '2026-11-28 01:00:00.123456+00'::timestamptz`: the model's
    newest `loaded_at`, read when the model runs.

    A literal, not a subquery on {{ this }}: DuckDB pushes a literal comparison down to
    the raw table's scan through the staging views, while a subquery repeated in several
    CTEs becomes a join that unnests every PR's JSON first. (Unit tests, whose `this` is a
    fixture, get the subquery.)

    The watermark is the model's own (not another model's): a model whose last build
    failed catches up on the next one. `>` is safe because one load stamps all its rows
    with one `loaded_at`, commits them at once, and never runs beside dbt (one writer per
    DuckDB file); the loader keeps `loaded_at` increasing from load to load.
#}
{% macro loaded_since_last_build(loaded_at='loaded_at') -%}
    {%- if not is_incremental() -%}
        true
    {%- elif execute and model.resource_type != 'unit_test' -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- if 'loaded_at' not in columns -%}
            {#- A table built before the model was incremental: the transform task
                rebuilds everything when it reads this message (transform/dbt.py). -#}
            {{- exceptions.raise_compiler_error(
                    this ~ " has no loaded_at column: rebuild it with --full-refresh") -}}
        {%- endif -%}
        {%- set newest = run_query(
                "select coalesce(max(loaded_at), '-infinity'::timestamptz)::varchar from "
                ~ this).columns[0].values()[0] -%}
        {{ loaded_at }} > '{{ newest }}'::timestamptz
    {%- else -%}
        {{ loaded_at }} > (
            select coalesce(max(loaded_at), '-infinity'::timestamptz) from {{ this }}
        )
    {%- endif -%}
{%- endmacro %}


{#
    The `replace_pull_requests` incremental strategy (dbt looks up
    `get_incremental_<strategy>_sql`). `unique_key` is the PR key column of the model
    (`pull_request_id`), which need not be unique in a bridge.

    Example (a bridge, on an incremental run):
        delete from bridge as target
        where target.pull_request_id in (select pull_request_id from bridge__dbt_tmp)
           or not exists (select 1 from raw.pull_requests as current
                          where current.node_id = target.pull_request_id
                            and current.loaded_at = target.loaded_at);
        insert into bridge (...) select ... from bridge__dbt_tmp
#}
{% macro get_incremental_replace_pull_requests_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] or 'pull_request_id' -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} as target
    where target.{{ key }} in (select {{ key }} from {{ batch }})
       or not exists (
            select 1
            from {{ raw_pull_requests() }} as current_pr
            where current_pr.node_id = target.{{ key }}
              and current_pr.loaded_at = target.loaded_at
       );

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ batch }}
{%- endmacro %}
