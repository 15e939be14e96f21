{#
    actor_login(login) / actor_kind(login, kind): how the marts show an actor. GitHub returns
    a deleted account as null; the marts show it as GitHub's own placeholder login `ghost`
    with kind `ghost`, so no row is ever dropped or left without an actor. (GitHub's real
    `ghost` user, if returned by name, gets kind `ghost` too.)
#}
{% macro actor_login(login) -%}
    coalesce({{ login }}, 'ghost')
{%- endmacro %}

{% macro actor_kind(login, kind) -%}
    case
        when {{ login }} is null or {{ login }} = 'ghost' then 'ghost'
        else coalesce({{ kind }}, 'User')
    end
{%- endmacro %}

{#
    is_bot(login, kind): a bot is an actor whose GraphQL type is Bot or whose login ends in
    `[bot]` (how REST and imports name GitHub Apps). A deleted account (null login and
    kind) is not a bot: the result is false, never null.
#}
{% macro is_bot(login, kind) -%}
    coalesce({{ kind }} = 'Bot' or {{ login }} like '%[bot]', false)
{%- endmacro %}
