{#
    Passes when no two rows share the same values in `combination_of_columns` (the
    grain of a model whose key spans several columns). Rows whose key has a null
    column are compared too (null = null here), so duplicates cannot hide behind a null.
    Written here because no dbt packages (dbt_utils) are installed in this project.
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
