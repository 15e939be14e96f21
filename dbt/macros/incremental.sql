{#
    Per-pull-request incremental models.

    The raw table keeps one row per PR, and the load stamps a row's `loaded_at` whenever
    it writes it (new PR, newer version, or a `clear`ed repository reloaded). So every
    model whose rows are a function of one PR's raw row (the fact, the bridges, the
    per-PR intermediates) can be built incrementally with two macros. The config
    (materialized='incremental', incremental_strategy='replace_pull_requests',
    unique_key='pull_request_id', on_schema_change='fail') is set in dbt_project.yml:
    for the whole intermediate folder, and for each per-PR mart by name. The model
    itself only filters its inputs:

        {%- set loaded_since = loaded_since_last_build() %}
        ...
        from {{ ref('stg_github__pull_request_labels') }}
        where {{ loaded_since }}

    and carries the PR's raw `loaded_at` in a `loaded_at` column on every row.

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
    `... where loaded_at > '2026-11-28 01:00:00.123456+00'::timestamptz`: the newest raw
    `loaded_at` the model's last successful build had seen, read when the model runs.

    A literal, not a subquery: DuckDB pushes a literal comparison down to the raw table's
    scan through the staging views (built with `unnest_pull_request_list()` so that it
    can: macros/staging.yml), while a subquery (or a join on PR ids) becomes a join that
    unnests every PR's JSON first. (Unit tests, whose `this` is a fixture, get a
    subquery on it.) The loader keeps a PR's node and events rows on one `loaded_at`, so
    the same literal finds a reloaded PR's rows in every staging view.

    The watermark is the model's own (not another model's): a model whose last build
    failed catches up on the next one. It is recorded by `record_loaded_through()` after
    each build; the model's own newest `loaded_at` is the fallback, but alone it would lag
    behind in a model where the newest PRs have no rows (no spell in draft, no label).
    `>` is safe because one load stamps all its rows with one `loaded_at`, commits them at
    once, and never runs beside dbt (one writer per DuckDB file); the loader keeps
    `loaded_at` increasing from load to load.
#}
{% macro loaded_since_last_build(loaded_at='loaded_at') -%}
    {%- if not is_incremental() -%}
        true
    {%- elif execute and model.resource_type != 'unit_test' -%}
        {%- set found = model_table_state() -%}
        {%- if not found.has_loaded_at -%}
            {#- A table built before the model was incremental: the transform task
                rebuilds everything when it reads this message (transform/dbt.py). -#}
            {{- exceptions.raise_compiler_error(
                    this ~ " has no loaded_at column: rebuild it with --full-refresh") -}}
        {%- endif -%}
        {%- set recorded -%}
            {%- if found.has_watermarks -%}
                select loaded_through from {{ incremental_watermarks() }}
                where model = '{{ this.schema }}.{{ this.identifier }}'
            {%- else -%}
                select null::timestamptz
            {%- endif -%}
        {%- endset -%}
        {%- set newest = run_query(
                "select coalesce((" ~ recorded ~ "), max(loaded_at), "
                ~ "'-infinity'::timestamptz)::varchar from " ~ this).columns[0].values()[0] -%}
        {{ loaded_at }} > '{{ newest }}'::timestamptz
    {%- else -%}
        {{ loaded_at }} > (
            select coalesce(max(loaded_at), '-infinity'::timestamptz) from {{ this }}
        )
    {%- endif -%}
{%- endmacro %}


{#
    The watermarks of the incremental models: one row per model, the newest raw
    `loaded_at` its last successful build processed. Kept in the target schema (`main`),
    out of the analysts' schemas; created by `on-run-start` (dbt_project.yml), before the
    models' threads write to it (two threads creating it at once would conflict).
#}
{% macro incremental_watermarks() -%}
    {{ target.schema }}.incremental_watermarks
{%- endmacro %}


{% macro create_incremental_watermarks() -%}
    create table if not exists {{ incremental_watermarks() }} (
        model varchar primary key,
        loaded_through timestamptz
    )
{%- endmacro %}


{#
    model_table_state(): what `loaded_since_last_build()` needs to know of the catalog, in
    one query: whether the model's table has its `loaded_at` column (`in_catalog`,
    macros/persist_docs.sql), and whether the watermarks table exists (it does after any `run` or `build`; `compile`, `show` or
    `docs generate` run no `on-run-start`).
#}
{% macro model_table_state() -%}
    {%- set row = run_query(
            "select (select count(*) from duckdb_columns() where " ~ in_catalog(this)
            ~ " and column_name = 'loaded_at'), "
            ~ "(select count(*) from duckdb_tables() where schema_name = '" ~ target.schema
            ~ "' and table_name = 'incremental_watermarks')").rows[0] -%}
    {{- return({'has_loaded_at': row[0] > 0, 'has_watermarks': row[1] > 0}) -}}
{%- endmacro %}


{#
    record_loaded_through(): a post-hook of every model (dbt_project.yml), acting on the
    incremental ones: after a successful build, store the newest raw `loaded_at` as the
    model's watermark. A failed build runs no post-hook, so its PRs are picked up again.

    Example (after building analytics.fct_pull_requests):
        insert or replace into main.incremental_watermarks
        select 'analytics.fct_pull_requests', max(loaded_at) from raw.pull_requests
#}
{% macro record_loaded_through() -%}
    {%- if execute and model.config.materialized == 'incremental' -%}
        insert or replace into {{ incremental_watermarks() }}
        select '{{ this.schema }}.{{ this.identifier }}', max(loaded_at)
        from {{ raw_pull_requests() }}
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
