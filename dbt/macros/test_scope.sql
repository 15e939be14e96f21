{#
    Scoping data tests on the staging views to the newest load.

    Staging models are views over the raw JSON: a test on one unnests every PR ever
    loaded, so its cost grows with history, not with the day's change. Tests configured
    with `where: "__newest_load__"` (all the staging tests, in dbt_project.yml) check
    only the rows of the newest load, every row on a `--full-refresh` build. The marts,
    tables built from the same rows, are still tested in full on every build.

    Example: a staging test's relation renders as
        (select * from staging.stg_github__pull_request_labels
         where loaded_at >= (select max(loaded_at) from raw.pull_requests)) dbt_subquery
    (dbt's own `get_where_subquery`, with the placeholder replaced).
#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace('__newest_load__', newest_load_predicate()) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#
    newest_load_predicate(): `loaded_at >= <the newest load's loaded_at>`, or `true` on
    a `--full-refresh` build. The filter reaches the raw scan (the staging views keep
    `loaded_at` filterable), so it costs what the newest load brought.
#}
{% macro newest_load_predicate() -%}
    {%- if flags.FULL_REFRESH -%}
        true
    {%- else -%}
        loaded_at >= (select max(loaded_at) from {{ raw_pull_requests() }})
    {%- endif -%}
{%- endmacro %}


{#
    raw_pull_requests(): the relation of the source `github.pull_requests`, looked up in
    the graph, for macros that run outside a model's own dependencies (a strategy, a
    test's scope) and so cannot call source() there.
#}
{% macro raw_pull_requests() -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.github.pull_requests'] -%}
    {{- api.Relation.create(database=node.database, schema=node.schema,
                            identifier=node.identifier) -}}
{%- endmacro %}
