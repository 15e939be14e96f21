{#
    as_of(): the SQL expression (timestamptz) used as "now" for every age and every
    "last N days" window in the marts.

    - var `as_of` given, else the environment variable PR_WAREHOUSE_AS_OF (the Airflow
      run sets it to its data interval end, an ISO-8601 timestamp; an environment variable
      rather than a var because a changed var makes dbt re-parse the whole project): that
      instant, cast to timestamptz. Wall-clock time is never used then.
    - neither set, or empty: the newest `loaded_at` in raw.pull_requests (the moment the
      data was last loaded), or current_timestamp when that table is empty.

    The fallback reads the raw table by name rather than through source(), so that it
    adds no edge to the DAG (and unit tests, which set the var, need no raw input).
#}
{% macro as_of() -%}
    {#- dbt_project.yml declares the var (null), so a default given to var() is never used -#}
    {%- set value = (var('as_of', none) or '') | string | trim -%}
    {%- if not value -%}
        {%- set value = env_var('PR_WAREHOUSE_AS_OF', '') | trim -%}
    {%- endif -%}
    {%- if value -%}
        cast('{{ value }}' as timestamptz)
    {%- else -%}
        {%- set raw_prs = api.Relation.create(
                database=target.database, schema='raw', identifier='pull_requests') -%}
        (select coalesce(max(loaded_at), current_timestamp) from {{ raw_prs }})
    {%- endif -%}
{%- endmacro %}
