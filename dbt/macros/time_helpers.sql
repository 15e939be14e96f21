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
