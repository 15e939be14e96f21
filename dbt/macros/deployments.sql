{#
    is_production_environment(env): true when `env` is one of the production environments
    (var `production_environments`, compared case-insensitively).

    Example: with the default var, `{{ is_production_environment('environment') }}`
    renders `(lower(environment) in ('production', 'prod', 'live'))`.
#}
{% macro is_production_environment(env) -%}
    {%- set names = var('production_environments') or ['production', 'prod', 'live'] -%}
    (lower({{ env }}) in ({% for name in names %}'{{ name | lower | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %}))
{%- endmacro %}


{#
    configured_deploy_source(repo): the deploy source the var `deploy_sources` names for
    `repo` ('deployment' or 'release'), else null.

    Example: with `{"acme/docs": "release"}` it renders
    `(case lower(repo) when 'acme/docs' then 'release' end)`.
#}
{% macro configured_deploy_source(repo) -%}
    {%- set sources = var('deploy_sources') or {} -%}
    {%- if sources -%}
        (case lower({{ repo }}){% for name, source in sources.items() %} when '{{ name | lower | replace("'", "''") }}' then '{{ source }}'{% endfor %} end)
    {%- else -%}
        cast(null as varchar)
    {%- endif -%}
{%- endmacro %}


{#
    awaiting_deployment(): in fct_pull_request_cycle_time's incremental filter, the merged
    PRs that had no deployment at the last build. A deployment never changes the PR's
    raw row (its updatedAt), so these are rebuilt on every run until one ships them, like
    open PRs; `false` on a full build, or when the table predates the deployment columns
    (then on_schema_change rebuilds it all).
#}
{% macro awaiting_deployment() -%}
    {%- if not is_incremental() -%}
        false
    {%- elif execute and model.resource_type != 'unit_test' -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- if 'deployed_at' in columns -%}
            pull_request_id in (select pull_request_id from {{ this }}
                                where merged_at is not null and deployed_at is null)
        {%- else -%}
            false
        {%- endif -%}
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
