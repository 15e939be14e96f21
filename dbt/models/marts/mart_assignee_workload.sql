-- Grain: one row per assignee login (across all repositories) that is assigned to at
-- least one pull request. Ages and windows are measured against the `as_of` var.

with

assignees as (

    select * from {{ ref('bridge_pull_request_assignees') }}

),

pull_requests as (

    select * from {{ ref('fct_pull_requests') }}

),

as_of as (

    select {{ as_of() }} as as_of

),

assigned as (

    select
        assignees.assignee_login,
        assignees.pull_request_id,
        assignees.repo,
        pull_requests.state,
        pull_requests.is_draft,
        pull_requests.created_at,
        pull_requests.merged_at,
        as_of.as_of
    from assignees
    inner join pull_requests
        on assignees.pull_request_id = pull_requests.pull_request_id
    cross join as_of

),

per_assignee as (

    select
        assignee_login,
        count(*)                                                   as assigned_prs,
        count(distinct repo)                                       as repo_count,
        count(*) filter (where state = 'OPEN')                     as open_prs,
        count(*) filter (where state = 'OPEN' and is_draft)        as open_draft_prs,
        count(*) filter (where state = 'OPEN' and not is_draft)    as open_ready_prs,
        min(created_at) filter (where state = 'OPEN')              as oldest_open_created_at,
        count(*) filter (
            where merged_at >  as_of - interval 7 day
              and merged_at <= as_of
        )                                                          as merged_last_7_days,
        count(*) filter (
            where merged_at >  as_of - interval 30 day
              and merged_at <= as_of
        )                                                          as merged_last_30_days,
        max(as_of)                                                 as as_of
    from assigned
    group by assignee_login

),

final as (

    select
        assignee_login,
        assigned_prs,
        repo_count,
        open_prs,
        open_draft_prs,
        open_ready_prs,
        -- null when nothing is open; 0 for a PR created after as_of
        case when oldest_open_created_at is not null
             then greatest({{ hours_between('oldest_open_created_at', 'as_of') }}, 0)
        end                                                        as oldest_open_pr_hours,
        merged_last_7_days,
        merged_last_30_days,
        as_of
    from per_assignee

)

select * from final
