-- Grain: one row per span of time someone was assigned to a pull request. A span runs from
-- each AssignedEvent to the next UnassignedEvent of the same assignee on that PR, or stays
-- open (unassigned_at null). An assignee since before GitHub recorded these events has no
-- AssignedEvent: the span starts at the PR's opening (assigned_by null), and ends at the
-- first UnassignedEvent if there is one, else stays open while the PR has that assignee.
-- Events whose assignee's account was deleted (GitHub returns a null assignee) are left
-- out: nothing says whose they were. The rules are the history_spans macro's
-- (macros/spans.sql).
--
-- Incremental per PR (dbt_project.yml, macros/incremental.sql): only PRs loaded since
-- the last build; nothing here depends on `as_of`.
{%- set loaded_since = loaded_since_last_build() %}

with

pull_requests as (

    select pull_request_id, repo, pr_number, created_at as opened_at, loaded_at
    from {{ ref('stg_github__pull_requests') }}
    where {{ loaded_since }}

),

assignee_events as (

    select
        pull_request_id,
        event_id,
        event_type,
        created_at,
        timeline_position,
        assignee_login                                             as item,
        actor_login
    from {{ ref('stg_github__pull_request_timeline_events') }}
    where {{ loaded_since }}
      and event_type in ('AssignedEvent', 'UnassignedEvent')
      and assignee_login is not null

),

-- the PR's assignees now
assignees_carried as (

    select pull_request_id, assignee_login as item
    from {{ ref('stg_github__pull_request_assignees') }}
    where {{ loaded_since }}

),

spans as (

    {{ history_spans('pull_requests', 'assignee_events', 'assignees_carried',
                     'AssignedEvent', 'UnassignedEvent') }}

),

final as (

    select
        span_id,
        pull_request_id,
        repo,
        pr_number,
        item                                                       as assignee_login,
        added_at                                                   as assigned_at,
        removed_at                                                 as unassigned_at,
        added_by                                                   as assigned_by,
        loaded_at
    from spans

)

select * from final
