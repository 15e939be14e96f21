-- Grain: one row per assignee login (across all repositories) that is assigned to at
-- least one pull request. Ages and windows are measured against the `as_of` var.
-- `by_repo` holds the same measures per repository (a list, one entry per repository of
-- their assigned PRs); the totals are its sums, so a reader filtering on a repository
-- takes its entry rather than re-deriving the measures.

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

per_assignee_repo as (

    -- One assignee's share in one repository: the page's repository filter reads it from
    -- `by_repo` instead of re-deriving the definitions below.
    select
        assignee_login,
        repo,
        count(*)                                                   as assigned_prs,
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
    group by assignee_login, repo

),

per_assignee_repo_aged as (

    select
        *,
        -- null when nothing is open; 0 for a PR created after as_of
        case when oldest_open_created_at is not null
             then greatest({{ hours_between('oldest_open_created_at', 'as_of') }}, 0)
        end                                                        as oldest_open_pr_hours
    from per_assignee_repo

),

per_assignee as (

    -- The repositories' shares added up (the oldest open PR is the oldest of theirs), so
    -- the totals and `by_repo` cannot disagree.
    select
        assignee_login,
        sum(assigned_prs)::bigint                                  as assigned_prs,
        count(*)                                                   as repo_count,
        sum(open_prs)::bigint                                      as open_prs,
        sum(open_draft_prs)::bigint                                as open_draft_prs,
        sum(open_ready_prs)::bigint                                as open_ready_prs,
        max(oldest_open_pr_hours)                                  as oldest_open_pr_hours,
        sum(merged_last_7_days)::bigint                            as merged_last_7_days,
        sum(merged_last_30_days)::bigint                           as merged_last_30_days,
        list({
            'repo': repo,
            'assigned_prs': assigned_prs,
            'open_prs': open_prs,
            'open_draft_prs': open_draft_prs,
            'open_ready_prs': open_ready_prs,
            'oldest_open_pr_hours': oldest_open_pr_hours,
            'merged_last_7_days': merged_last_7_days,
            'merged_last_30_days': merged_last_30_days
        } order by repo)                                           as by_repo,
        max(as_of)                                                 as as_of
    from per_assignee_repo_aged
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
        oldest_open_pr_hours,
        merged_last_7_days,
        merged_last_30_days,
        by_repo,
        as_of
    from per_assignee

)

select * from final
