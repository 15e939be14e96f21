{#
    hours_between(start, end): elapsed hours from `start` to `end` as a double (second
    precision), null when either end is null.
#}
{% macro hours_between(start_ts, end_ts) -%}
    (date_diff('second', {{ start_ts }}, {{ end_ts }}) / 3600.0)
{%- endmacro %}


{#
    week_start(ts): the Monday (a date) of the ISO week holding `ts`, taken in UTC so the
    result does not depend on the session's TimeZone setting.
#}
{% macro week_start(ts) -%}
    cast(date_trunc('week', timezone('UTC', {{ ts }})) as date)
{%- endmacro %}


{#
    seconds_overlapping(start_a, end_a, start_b, end_b): seconds the spans [a] and [b]
    share (0 when they do not meet), null when any bound is null (DuckDB's greatest and
    least skip nulls, hence the explicit check).
#}
{% macro seconds_overlapping(start_a, end_a, start_b, end_b) -%}
    case when {{ start_a }} is not null and {{ end_a }} is not null
              and {{ start_b }} is not null and {{ end_b }} is not null
         then greatest(0, date_diff('second', greatest({{ start_a }}, {{ start_b }}),
                                              least({{ end_a }}, {{ end_b }})))
    end
{%- endmacro %}
