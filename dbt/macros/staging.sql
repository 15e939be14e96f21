{#
    unnest_pull_request_list(): the body of a staging list view's CTE. The view's own
    `renamed` CTE then only renames and types the item's fields. Why it has exactly
    this shape (an incremental build's `loaded_at` filter must reach the raw scan): see
    staging.yml. If a rewrite stops that filter, the results stay the same and no test
    fails; only the cost grows. Check a change with EXPLAIN.

    Example:
        {{ unnest_pull_request_list('source', "pr -> '$.labels.nodes'", 'label',
                                    unique_by="label ->> '$.name'",
                                    where="label ->> '$.name' is not null",
                                    order_by="label ->> '$.id'") }}
    renders, whitespace aside:
        select node_id, repo, pr_number, loaded_at, label
        from (
            select node_id, repo, pr_number, loaded_at,
                   unnest(cast(pr -> '$.labels.nodes' as json[])) as label
            from source
        )
        where label is not null
          and (label ->> '$.name' is not null)
        qualify row_number() over (
            partition by node_id, loaded_at, label ->> '$.name' order by label ->> '$.id'
        ) = 1
    With `position`, the list is cast once in an inner subquery, so that `unnest` and
    `generate_subscripts` read the same value.
#}
{% macro unnest_pull_request_list(relation, nodes, item, unique_by, where=none,
                                  order_by=none, position=none) -%}
    {%- set unique_by = [unique_by] if unique_by is string else unique_by -%}
    select
        node_id,
        repo,
        pr_number,
        loaded_at,
        {{ item }}
        {%- if position %},
        {{ position }}
        {%- endif %}
    from (

        select
            node_id,
            repo,
            pr_number,
            loaded_at,
        {%- if position %}
            unnest(list_items) as {{ item }},
            generate_subscripts(list_items, 1) as {{ position }}
        from (
            select
                node_id,
                repo,
                pr_number,
                loaded_at,
                cast({{ nodes }} as json[]) as list_items
            from {{ relation }}
        )
        {%- else %}
            unnest(cast({{ nodes }} as json[])) as {{ item }}
        from {{ relation }}
        {%- endif %}

    )
    where {{ item }} is not null
    {%- if where %}
      and ({{ where }})
    {%- endif %}
    qualify row_number() over (
        partition by node_id, loaded_at, {{ unique_by | join(', ') }}
        {%- if order_by %} order by {{ order_by }}{% endif %}
    ) = 1
{%- endmacro %}
