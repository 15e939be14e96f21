-- Grain: one row per label span (fct_pull_request_label_spans) that held an open pull
-- request for some time: how long the label held it. A span is held from its adding to
-- the first of its removal, the PR's close, and `as_of`; a label left on a closed or
-- merged PR holds nothing after the close. A span added after the PR closed (or after
-- as_of) held it for no time and has no row.
--
-- A table rebuilt each run, not incremental: an open PR's spans grow with as_of.

with

spans as (

    select span_id, pull_request_id, repo, pr_number, label_name, added_at, removed_at
    from {{ ref('fct_pull_request_label_spans') }}

),

pull_requests as (

    select pull_request_id, closed_at, author_login, author_kind
    from {{ ref('fct_pull_requests') }}

),

as_of as (

    select {{ as_of() }} as as_of

),

held as (

    select
        spans.*,
        least(coalesce(spans.removed_at, pull_requests.closed_at, as_of.as_of),
              coalesce(pull_requests.closed_at, as_of.as_of))     as held_until,
        {{ is_bot('pull_requests.author_login', 'pull_requests.author_kind') }}
                                                                   as is_bot_author,
        as_of.as_of
    from spans
    inner join pull_requests
        on spans.pull_request_id = pull_requests.pull_request_id
    cross join as_of

),

final as (

    select
        span_id,
        pull_request_id,
        repo,
        pr_number,
        label_name,
        added_at,
        held_until,
        {{ hours_between('added_at', 'held_until') }}             as hours_held,
        held_until = as_of                                         as is_holding,
        is_bot_author,
        as_of
    from held
    where held_until >= added_at

)

select * from final
