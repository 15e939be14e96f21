{#
    Composite-key relationships test: every row of `model` whose `columns` are all
    non-null must find a row in `to` with the same values in `fields` (same order).
    Example: bridge (repo, label_name) -> dim_labels (repo, label_name).
#}
{% test relationships_multi_column(model, columns, to, fields) %}

with child as (
    select {{ columns | join(', ') }}
    from {{ model }}
    where {% for c in columns %}{{ c }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
),

parent as (
    select {% for f in fields %}{{ f }} as key_{{ loop.index }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ to }}
)

select child.*
from child
left join parent
    on {% for c in columns %}child.{{ c }} = parent.key_{{ loop.index }}{% if not loop.last %} and {% endif %}{% endfor %}
where parent.key_1 is null

{% endtest %}
